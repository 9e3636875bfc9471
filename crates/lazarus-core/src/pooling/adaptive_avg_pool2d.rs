//! `AdaptiveAvgPool2d`: average pooling to a fixed output size, whatever the input size.
//!
//! [`AdaptiveAvgPool2d::forward_reference`] and [`AdaptiveAvgPool2d::backward_reference`] are
//! the formulas in plain ndarray; the [`Layer`] methods run the same with `kernels/pooling.rs`
//! (the average-pooling loops, given adaptive windows), which `tests/pooling.rs` checks
//! against them bit for bit.

use ndarray::{Array4, Ix4};

use super::window::adaptive_span;
use super::{PoolState, Size2d, Windows, values, values_mut};
use crate::{Error, Layer, Mode, Result, Tensor, TensorView, kernels};

/// Adaptive 2-D average pooling of `[batch, channels, h, w]` to `[batch, channels, oh, ow]`, as
/// PyTorch's `nn.AdaptiveAvgPool2d(output_size)`.
///
/// The windows are chosen from the sizes, per axis (PyTorch's `start_index`/`end_index`):
///
/// ```text
/// rows of output row i:  ⌊i·h/oh⌋ .. ⌈(i+1)·h/oh⌉          (likewise for columns, with w, ow)
/// y[i, j]   = mean of x over rows(i) × cols(j)             (sum / (kh·kw), kh, kw the window's sides)
/// dL/dx[u]  = Σ dL/dy[i, j] / (kh·kw) over the windows containing u
/// ```
///
/// When `oh` divides `h` this is `AvgPool2d(h / oh)`; otherwise neighbouring windows overlap by
/// one row or column and differ in size by at most one.
///
/// When to use: at the end of a CNN, `AdaptiveAvgPool2d::new(1)` is *global average pooling*:
/// one number per channel (the mean of its feature map), so the classifier after it sees
/// `[batch, channels]` whatever the image size, with far fewer weights than a Linear layer on
/// the whole flattened map.
///
/// ```
/// use lazarus_core::{AdaptiveAvgPool2d, Layer, Mode, Tensor};
/// let mut gap = AdaptiveAvgPool2d::new(1)?;
/// let x = Tensor::from_shape_vec(vec![1, 2, 1, 3], vec![1., 2., 3., 0., 0., 6.]).unwrap();
/// let y = gap.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.shape(), &[1, 2, 1, 1]);
/// assert_eq!(y.as_slice().unwrap(), &[2., 2.]);
/// assert_eq!(gap.describe(), "AdaptiveAvgPool2d(output_size=1)");
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveAvgPool2d {
    output_size: Size2d,
    state: PoolState,
}

impl AdaptiveAvgPool2d {
    /// Adaptive average pooling to `output_size` (`1`, or `(5, 7)`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if an output size is 0.
    pub fn new(output_size: impl Into<Size2d>) -> Result<Self> {
        let output_size = output_size.into();
        if output_size.h == 0 || output_size.w == 0 {
            return Err(Error::InvalidConfig {
                layer: "adaptive_avg_pool2d".into(),
                parameter: "output_size".into(),
                reason: format!("must be positive, found {output_size}"),
            });
        }
        Ok(Self {
            output_size,
            state: PoolState::default(),
        })
    }

    /// The forward pass in plain ndarray, by the definition: each window's sum (in f32,
    /// row-major) divided by its size kh·kw.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        let out = self.output_shape(x.shape())?;
        let x = x.into_dimensionality::<Ix4>().expect("checked 4-D");
        let shape = (out[0], out[1], out[2], out[3]);
        let y = Array4::from_shape_fn(shape, |(n, c, i, j)| {
            let (rows, cols) = self.window(i, j, x.shape());
            let mut sum = 0.0f32;
            for ih in rows.clone() {
                for iw in cols.clone() {
                    sum += x[[n, c, ih, iw]];
                }
            }
            sum / (rows.len() * cols.len()) as f32
        });
        Ok(y.into_dyn())
    }

    /// The backward pass in plain ndarray for input `x` and upstream gradient `g`: each
    /// `g[n, c, i, j] / (kh·kw)` added to every input of window (i, j).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` does not fit or `g` is not the output's shape.
    pub fn backward_reference(&self, x: TensorView<'_>, g: TensorView<'_>) -> Result<Tensor> {
        let out = self.output_shape(x.shape())?;
        crate::expect_shape("adaptive_avg_pool2d", &out, g.shape())?;
        let mut dx = Tensor::zeros(x.raw_dim());
        for ((n, c, i, j), &g) in g.into_dimensionality::<Ix4>().expect("4-D").indexed_iter() {
            let (rows, cols) = self.window(i, j, x.shape());
            let share = g / (rows.len() * cols.len()) as f32;
            for ih in rows {
                for iw in cols.clone() {
                    dx[[n, c, ih, iw]] += share;
                }
            }
        }
        Ok(dx)
    }

    /// The input rows and columns of window (i, j) for an input of shape `[n, c, h, w]`.
    fn window(&self, i: usize, j: usize, shape: &[usize]) -> (Range, Range) {
        let rows = adaptive_span(i, self.output_size.h, shape[2]);
        let cols = adaptive_span(j, self.output_size.w, shape[3]);
        (rows.first..rows.end, cols.first..cols.end)
    }

    fn windows(&self) -> Windows {
        Windows::Adaptive(self.output_size)
    }
}

type Range = std::ops::Range<usize>;

impl Layer for AdaptiveAvgPool2d {
    fn name(&self) -> &str {
        "adaptive_avg_pool2d"
    }

    fn describe(&self) -> String {
        format!("AdaptiveAvgPool2d(output_size={})", self.output_size)
    }

    /// `y` = the mean of each adaptive window.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let x = self
            .state
            .start_forward("adaptive_avg_pool2d", &self.windows(), x, mode)?;
        let y = values_mut(&mut self.state.output);
        kernels::avg_pool_forward(&self.state.planes, values(&x), y);
        Ok(self.state.output.view())
    }

    /// `dL/dx[u] = Σ dL/dy[i, j] / (kh·kw)` over the windows containing u.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = self
            .state
            .start_backward("adaptive_avg_pool2d", grad_output)?;
        let dx = values_mut(&mut self.state.grad_input);
        kernels::avg_pool_backward(&self.state.planes, values(&g), dx);
        Ok(self.state.grad_input.view())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        PoolState::output_shape("adaptive_avg_pool2d", &self.windows(), input)
    }
}
