//! `Conv2d`: a 2-D convolution (PyTorch's cross-correlation), and its three backward formulas.
//!
//! [`Conv2d::forward_reference`] and [`Conv2d::backward_reference`], below, are the formulas as
//! plain nested loops. The [`Layer`] methods compute the same as matrix
//! products (`kernels/conv.rs`: im2col, then one `gemm` per sample and group), into buffers the
//! layer reuses; `tests/conv2d.rs` compares the two. The settings are in `conv2d/settings.rs`,
//! the output-size formula in `conv2d/geometry.rs`.

mod geometry;
mod settings;

use ndarray::{Array4, Ix4, IxDyn};
use rand::Rng;

pub use settings::{Conv2dSettings, Padding};

use crate::kernels::{self, ConvGeometry, ConvScratch};
use crate::weight_and_bias;
use crate::{Error, Layer, Mode, Param, Result, Size2d, Tensor, TensorView, reuse_buffer};

/// 2-D convolution over `[batch, in_channels, h, w]` input, as PyTorch's `nn.Conv2d`.
///
/// Weight `[out, in/groups, kh, kw]`, bias `[out]` (optional), output `[batch, out, oh, ow]`
/// with `oh = ⌊(h + 2p − d·(kh − 1) − 1)/s⌋ + 1` (the same for the width). With `C` input
/// and `O` output channels in `G` groups, output channel `o` belongs to group `g = o / (O/G)`
/// and sees only that group's `C/G` input channels:
///
/// ```text
/// y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] · xpad[n, g·C/G + c, i·s + u·d, j·s + v·d]
/// ```
///
/// (c over `0..C/G`, u over `0..kh`, v over `0..kw`; `xpad` is x with `p` zeros around it.)
/// No kernel flip: this is a cross-correlation, as in PyTorch. Backward, for G = dL/dy:
///
/// ```text
/// dL/db[o]       = Σ_{n,i,j} G[n,o,i,j]
/// dL/dW[o,c,u,v] = Σ_{n,i,j} G[n,o,i,j] · xpad[n, g·C/G + c, i·s + u·d, j·s + v·d]
/// dL/dxpad[n, g·C/G + c, i·s + u·d, j·s + v·d]  +=  G[n,o,i,j] · W[o,c,u,v]   for every n,o,i,j,c,u,v
/// ```
///
/// and dL/dx is dL/dxpad without its padding: each input receives the gradient of every
/// output whose window covered it, weighted by the tap that read it.
///
/// Default init, as PyTorch's: W from `kaiming_uniform_(a = √5)`, i.e. U(±1/√fan_in) with
/// `fan_in = C/G·kh·kw`, and b from U(±1/√fan_in). For deep ReLU networks, He init
/// ([`init::kaiming_normal`](crate::init::kaiming_normal) with `Nonlinearity::Relu`) through [`Conv2d::weight_mut`] keeps
/// the signal from shrinking layer after layer.
///
/// When to use: images and other grid data, where the same local pattern matters wherever it
/// appears. A 3×3 convolution with padding 1 keeps the size; stride 2 (or a pooling layer)
/// halves it; `groups = in_channels` is a depthwise convolution.
///
/// ```
/// use lazarus_core::{Conv2d, Layer, Mode, Tensor};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut conv = Conv2d::new(1, 16, 3, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(conv.describe(), "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))");
/// let y = conv.forward(Tensor::zeros(vec![8, 1, 28, 28]).view(), Mode::Eval)?;
/// assert_eq!(y.shape(), &[8, 16, 26, 26]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d {
    settings: Conv2dSettings,
    weight: Param,
    bias: Option<Param>,
    /// The last training-mode input (a row-major copy), needed for dL/dW.
    input: Tensor,
    has_input: bool,
    output: Tensor,
    grad_input: Tensor,
    /// A row-major copy of an upstream gradient that was not row-major.
    grad_output: Tensor,
    scratch: ConvScratch,
}

impl Conv2d {
    /// `in_channels → out_channels` with a `kernel_size` kernel (an int or a pair), stride 1,
    /// no padding, with bias, PyTorch's default initialization drawn from `rng`. Other settings:
    /// [`Conv2dSettings`].
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero size.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl Into<Size2d>,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        Conv2dSettings::new(in_channels, out_channels, kernel_size).build(rng)
    }

    /// The settings the layer was built with.
    pub fn settings(&self) -> &Conv2dSettings {
        &self.settings
    }

    /// The weight `[out_channels, in_channels / groups, kh, kw]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The weight, mutably (to initialize it differently, for instance).
    pub fn weight_mut(&mut self) -> &mut Param {
        &mut self.weight
    }

    /// The bias `[out_channels]`, if any.
    pub fn bias(&self) -> Option<&Param> {
        self.bias.as_ref()
    }

    /// The bias, mutably, if any.
    pub fn bias_mut(&mut self) -> Option<&mut Param> {
        self.bias.as_mut()
    }

    /// The forward pass as the formula's nested loops: the definition the fast
    /// [`forward`](Layer::forward) is tested against (they agree up to rounding).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        self.check_params()?;
        let geo = self.settings.geometry(x.shape())?;
        let x = x
            .into_dimensionality::<Ix4>()
            .expect("the geometry checked 4 axes");
        let w = self.weight.value.view().into_dimensionality::<Ix4>();
        let w = w.expect("the weight is 4-D (checked)");
        let [_, cg, kh, kw] = self.settings.weight_shape();
        let og = geo.out_channels / geo.groups;
        let ((sh, sw), (dh, dw)) = (geo.stride, geo.dilation);
        let shape = (geo.batch, geo.out_channels, geo.out_height, geo.out_width);
        let y = Array4::from_shape_fn(shape, |(n, o, i, j)| {
            let g = o / og;
            let mut sum = self.bias.as_ref().map_or(0.0, |b| b.value[o]);
            for c in 0..cg {
                for u in 0..kh {
                    for v in 0..kw {
                        let tap = padded(&geo, i * sh + u * dh, j * sw + v * dw);
                        if let Some((r, q)) = tap {
                            sum += w[[o, c, u, v]] * x[[n, g * cg + c, r, q]];
                        }
                    }
                }
            }
            sum
        });
        Ok(y.into_dyn())
    }

    /// The backward pass as the formulas' loops, for an input `x` and the upstream gradient
    /// `g` = dL/dy: `(dL/dW, dL/db, dL/dx)` (no dL/db without a bias), returned rather than
    /// added into the parameters' `grad` as [`backward`](crate::Layer::backward) does.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not fit the layer or
    /// `g` is not the output's shape.
    pub fn backward_reference(
        &self,
        x: TensorView<'_>,
        g: TensorView<'_>,
    ) -> Result<(Tensor, Option<Tensor>, Tensor)> {
        self.check_params()?;
        let geo = self.settings.geometry(x.shape())?;
        crate::expect_shape("conv2d gradient", &geo.output_shape(), g.shape())?;
        let x = x
            .into_dimensionality::<Ix4>()
            .expect("the geometry checked 4 axes");
        let g = g.into_dimensionality::<Ix4>().expect("checked above");
        let w = self.weight.value.view().into_dimensionality::<Ix4>();
        let w = w.expect("the weight is 4-D (checked)");
        let [_, cg, kh, kw] = self.settings.weight_shape();
        let og = geo.out_channels / geo.groups;
        let ((sh, sw), (dh, dw)) = (geo.stride, geo.dilation);
        let mut d_w = Array4::<f32>::zeros(w.raw_dim());
        let mut d_b = self
            .bias
            .as_ref()
            .map(|_| Tensor::zeros(vec![geo.out_channels]));
        let mut d_x = Array4::<f32>::zeros(x.raw_dim());
        for ((n, o, i, j), &gy) in g.indexed_iter() {
            if let Some(db) = &mut d_b {
                db[o] += gy; // dL/db[o] += G[n,o,i,j]
            }
            let ch = o / og * cg; // first input channel of o's group
            for c in 0..cg {
                for u in 0..kh {
                    for v in 0..kw {
                        let tap = padded(&geo, i * sh + u * dh, j * sw + v * dw);
                        // Taps in the padding read zeros: no gradient to x, none to W.
                        if let Some((r, q)) = tap {
                            d_w[[o, c, u, v]] += gy * x[[n, ch + c, r, q]];
                            d_x[[n, ch + c, r, q]] += gy * w[[o, c, u, v]];
                        }
                    }
                }
            }
        }
        Ok((d_w.into_dyn(), d_b, d_x.into_dyn()))
    }
}

/// Position `(r, q)` of the padded input as a position of x, or `None` in the padding.
fn padded(geo: &ConvGeometry, r: usize, q: usize) -> Option<(usize, usize)> {
    let (r, q) = (r.checked_sub(geo.pad.0)?, q.checked_sub(geo.pad.1)?);
    (r < geo.height && q < geo.width).then_some((r, q))
}

impl Layer for Conv2d {
    fn name(&self) -> &str {
        "conv2d"
    }

    fn describe(&self) -> String {
        self.settings.describe()
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.check_params()?;
        let geo = self.settings.geometry(x.shape())?;
        reuse_buffer(&mut self.output, IxDyn(&geo.output_shape()));
        // Backward needs x for dL/dW: in training the kernel copies it as it reads it.
        self.has_input = mode == Mode::Train;
        let row_major = x.as_slice().is_some();
        if self.has_input || !row_major {
            reuse_buffer(&mut self.input, IxDyn(&geo.input_shape()));
        }
        if !row_major {
            // The kernel reads row-major input: copy first (and keep the copy in training).
            self.input.assign(&x);
        }
        let (x, keep) = match x.as_slice() {
            Some(x) if self.has_input => (x, self.input.as_slice_mut()),
            Some(x) => (x, None),
            None => (
                self.input.as_slice().expect("own buffers are row-major"),
                None,
            ),
        };
        let w = self.weight.value.as_slice().expect("checked row-major");
        let b = self.bias.as_ref().and_then(|b| b.value.as_slice());
        let y = self
            .output
            .as_slice_mut()
            .expect("own buffers are row-major");
        kernels::conv2d_forward(&geo, x, w, b, y, keep, &mut self.scratch);
        Ok(self.output.view())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.run_backward(grad_output, true)?;
        Ok(self.grad_input.view())
    }

    /// dL/dW and dL/db only: the trainer's call for a first layer, whose dL/dx nobody needs.
    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        self.run_backward(grad_output, false)
    }

    /// `"weight"`, then `"bias"` if any.
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        weight_and_bias::visit(&self.weight, self.bias.as_ref(), f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        weight_and_bias::visit_mut(&mut self.weight, self.bias.as_mut(), f);
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(self.settings.geometry(input)?.output_shape().to_vec())
    }
}

impl Conv2d {
    /// Backward through the kernel: parameter gradients, and dL/dx into `grad_input` when
    /// `input_grad`.
    fn run_backward(&mut self, grad_output: TensorView<'_>, input_grad: bool) -> Result<()> {
        if !self.has_input {
            return Err(Error::BackwardBeforeForward {
                layer: "conv2d".into(),
            });
        }
        self.check_params()?;
        let geo = self.settings.geometry(self.input.shape())?;
        let out_shape = geo.output_shape();
        if grad_output.shape() != out_shape {
            return Err(Error::ShapeMismatch {
                layer: "conv2d".into(),
                expected: format!("a gradient of shape {out_shape:?}"),
                found: grad_output.shape().to_vec(),
            });
        }
        let g = match grad_output.as_slice() {
            Some(g) => g,
            None => {
                reuse_buffer(&mut self.grad_output, IxDyn(&out_shape));
                self.grad_output.assign(&grad_output);
                self.grad_output
                    .as_slice()
                    .expect("own buffers are row-major")
            }
        };
        let dx = if input_grad {
            reuse_buffer(&mut self.grad_input, IxDyn(&geo.input_shape()));
            Some(
                self.grad_input
                    .as_slice_mut()
                    .expect("own buffers are row-major"),
            )
        } else {
            None
        };
        let x = self.input.as_slice().expect("own buffers are row-major");
        let w = self.weight.value.as_slice().expect("checked row-major");
        let dw = self.weight.grad.as_slice_mut().expect("checked row-major");
        let db = self
            .bias
            .as_mut()
            .map(|b| b.grad.as_slice_mut().expect("checked row-major"));
        kernels::conv2d_backward(&geo, x, w, g, dw, db, dx, &mut self.scratch);
        Ok(())
    }

    /// Check that the weight and bias (values and gradients) still have this layer's shapes.
    fn check_params(&self) -> Result<()> {
        let shape = self.settings.weight_shape();
        let names = ["conv2d weight", "conv2d bias"];
        weight_and_bias::check(&self.weight, self.bias.as_ref(), names, &shape)
    }
}
