//! `Conv2d`'s formulas as plain nested loops: [`Conv2d::forward_reference`] and
//! [`Conv2d::backward_reference`], the definition the fast [`Layer`](crate::Layer) methods
//! (im2col and `gemm`, in `kernels/conv.rs`) are tested against in `tests/conv2d.rs`. Each
//! loop body is a line of the formulas in `Conv2d`'s docs (`conv2d.rs`).

use ndarray::{Array4, Ix4};

use super::Conv2d;
use crate::kernels::ConvGeometry;
use crate::{Result, Tensor, TensorView};

impl Conv2d {
    /// The forward pass as the formula's nested loops: the definition the fast
    /// [`forward`](crate::Layer::forward) is tested against (they agree up to rounding).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) as [`forward`](crate::Layer::forward).
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
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `x` does not fit the layer or
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
