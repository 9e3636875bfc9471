//! `AvgPool2d`: the mean of each window, and the gradient shared out evenly over it.
//!
//! [`AvgPool2d::forward_reference`] and [`AvgPool2d::backward_reference`] are the formulas in
//! plain ndarray; the [`Layer`] methods run the same with `kernels/pooling.rs`, which
//! `tests/pooling.rs` checks against them bit for bit.

use ndarray::{Array4, Ix4};

use super::window::taps;
use super::{PoolSettings, PoolState, Size2d, Windows, values, values_mut};
use crate::{Layer, Mode, Result, Tensor, TensorView, kernels};

/// 2-D average pooling over `[batch, channels, h, w]`, as PyTorch's `nn.AvgPool2d(kernel_size,
/// stride=kernel_size, padding=0, ceil_mode=False, count_include_pad=True)`.
///
/// Each (sample, channel) plane is pooled on its own. Window (i, j) covers the taps
/// `(i·s − p + a, j·s − p + b)` for `a, b < k` (per axis: kernel k, stride s, zero padding p);
/// with D(i, j) its divisor:
///
/// ```text
/// y[i, j]  = (1 / D) · Σ x over the window's taps inside the input
/// dL/dx[u] = Σ dL/dy[i, j] / D(i, j) over the windows containing u
/// D        = the window's taps inside the padded input    (count_include_pad = true: padded
///            zeros count, PyTorch's default)
///          = the window's taps inside the input           (count_include_pad = false)
/// out      = ⌊(in + 2p − k) / s⌋ + 1 per axis (⌈…⌉ with ceil_mode, whose last window must start
///            inside the input or its left padding; taps past the right padding never count, so
///            such a window divides by its clipped size)
/// ```
///
/// When to use: to shrink feature maps while keeping every input's contribution (max pooling
/// keeps only the winner); its gradient reaches every input. Near the end of a CNN,
/// [`AdaptiveAvgPool2d`](crate::AdaptiveAvgPool2d) averages to a fixed output size whatever the
/// input size.
///
/// ```
/// use lazarus_core::{AvgPool2d, Layer, Mode, Tensor};
/// let mut pool = AvgPool2d::new(2)?;
/// let x = Tensor::from_shape_vec(vec![1, 1, 2, 4], vec![1., 5., 2., 2., 3., 4., 0., 2.]).unwrap();
/// let y = pool.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[3.25, 1.5]);
/// // Each input gets a quarter of its window's gradient.
/// let dx = pool.backward(Tensor::from_elem(vec![1, 1, 1, 2], 1.0).view())?;
/// assert!(dx.iter().all(|&g| g == 0.25));
/// assert_eq!(pool.describe(), "AvgPool2d(kernel_size=2, stride=2, padding=0)");
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AvgPool2d {
    settings: PoolSettings,
    count_include_pad: bool,
    state: PoolState,
}

impl AvgPool2d {
    /// Average pooling over `kernel_size` windows (`2` or `(3, 2)`), with stride = kernel_size,
    /// no padding, floor mode and `count_include_pad` (PyTorch's defaults).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if a kernel size is 0.
    pub fn new(kernel_size: impl Into<Size2d>) -> Result<Self> {
        let settings = PoolSettings::new("avg_pool2d", kernel_size.into())?;
        Self::with(settings, true)
    }

    /// The step between windows (PyTorch's default is the kernel size: windows do not overlap).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if a stride is 0.
    pub fn stride(self, stride: impl Into<Size2d>) -> Result<Self> {
        let stride = stride.into();
        Self::with(
            PoolSettings {
                stride,
                ..self.settings
            },
            self.count_include_pad,
        )
    }

    /// Implicit zero padding on each side (at most half the kernel size).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if the padding exceeds half the
    /// kernel size.
    pub fn padding(self, padding: impl Into<Size2d>) -> Result<Self> {
        let padding = padding.into();
        Self::with(
            PoolSettings {
                padding,
                ..self.settings
            },
            self.count_include_pad,
        )
    }

    /// Round the output size up instead of down (see the type's docs for the divisor).
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        let settings = PoolSettings {
            ceil_mode,
            ..self.settings
        };
        Self::with(settings, self.count_include_pad).expect("ceil_mode keeps settings valid")
    }

    /// Whether padded zeros count in the divisor (`true` by default, as in PyTorch).
    pub fn count_include_pad(self, count_include_pad: bool) -> Self {
        Self::with(self.settings, count_include_pad).expect("settings unchanged")
    }

    /// A layer with checked `settings` and fresh buffers.
    fn with(settings: PoolSettings, count_include_pad: bool) -> Result<Self> {
        Ok(Self {
            settings: settings.checked("avg_pool2d")?,
            count_include_pad,
            state: PoolState::default(),
        })
    }

    /// The forward pass in plain ndarray, by the definition: each window's sum (in f32,
    /// row-major, as PyTorch adds it) divided by its divisor D; 0 for an empty window.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        let out = PoolState::output_shape("avg_pool2d", &self.windows(), x.shape())?;
        let x = x.into_dimensionality::<Ix4>().expect("checked 4-D");
        let shape = (out[0], out[1], out[2], out[3]);
        let y = Array4::from_shape_fn(shape, |(n, c, i, j)| {
            let (inputs, divisor) = self.window(i, j, [x.shape()[2], x.shape()[3]]);
            let sum = inputs
                .iter()
                .fold(0.0f32, |sum, &[ih, iw]| sum + x[[n, c, ih, iw]]);
            if inputs.is_empty() {
                0.0
            } else {
                sum / divisor as f32
            }
        });
        Ok(y.into_dyn())
    }

    /// The backward pass in plain ndarray for input `x` and upstream gradient `g`: each
    /// `g[n, c, i, j] / D(i, j)` added to every input of window (i, j).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `x` does not fit or `g` is not
    /// the output's shape.
    pub fn backward_reference(&self, x: TensorView<'_>, g: TensorView<'_>) -> Result<Tensor> {
        let out = PoolState::output_shape("avg_pool2d", &self.windows(), x.shape())?;
        crate::expect_shape("avg_pool2d", &out, g.shape())?;
        let mut dx = Tensor::zeros(x.raw_dim());
        for ((n, c, i, j), &g) in g.into_dimensionality::<Ix4>().expect("4-D").indexed_iter() {
            let (inputs, divisor) = self.window(i, j, [x.shape()[2], x.shape()[3]]);
            for [ih, iw] in inputs {
                dx[[n, c, ih, iw]] += g / divisor as f32;
            }
        }
        Ok(dx)
    }

    /// Window (i, j) over an `h × w` plane: its inputs in row-major order, and its divisor D.
    fn window(&self, i: usize, j: usize, [h, w]: [usize; 2]) -> (Vec<[usize; 2]>, usize) {
        let [axis_h, axis_w] = self.settings.axes();
        let (ph, pw) = (
            self.settings.padding.h as i64,
            self.settings.padding.w as i64,
        );
        let within = |t: i64, lo: i64, hi: i64| (lo..hi).contains(&t);
        let rows: Vec<i64> = taps(i, axis_h).collect();
        let cols: Vec<i64> = taps(j, axis_w).collect();
        let inputs = rows
            .iter()
            .filter(|&&r| within(r, 0, h as i64))
            .flat_map(|&r| {
                let cols = cols.iter().filter(|&&c| within(c, 0, w as i64));
                cols.map(move |&c| [r as usize, c as usize])
            });
        let inputs: Vec<[usize; 2]> = inputs.collect();
        let divisor = if self.count_include_pad {
            let padded_rows = rows
                .iter()
                .filter(|&&r| within(r, -ph, h as i64 + ph))
                .count();
            let padded_cols = cols
                .iter()
                .filter(|&&c| within(c, -pw, w as i64 + pw))
                .count();
            padded_rows * padded_cols
        } else {
            inputs.len()
        };
        (inputs, divisor)
    }

    fn windows(&self) -> Windows {
        Windows::Avg(self.settings, self.count_include_pad)
    }
}

impl Layer for AvgPool2d {
    fn name(&self) -> &str {
        "avg_pool2d"
    }

    /// As PyTorch prints it (which leaves out `ceil_mode` and `count_include_pad`).
    fn describe(&self) -> String {
        let s = &self.settings;
        format!(
            "AvgPool2d(kernel_size={}, stride={}, padding={})",
            s.kernel_size, s.stride, s.padding
        )
    }

    /// `y` = each window's sum divided by its divisor D.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let x = self
            .state
            .start_forward("avg_pool2d", &self.windows(), x, mode)?;
        let y = values_mut(&mut self.state.output);
        kernels::avg_pool_forward(&self.state.planes, values(&x), y);
        Ok(self.state.output.view())
    }

    /// `dL/dx[u] = Σ dL/dy[i, j] / D(i, j)` over the windows containing u.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = self.state.start_backward("avg_pool2d", grad_output)?;
        let dx = values_mut(&mut self.state.grad_input);
        kernels::avg_pool_backward(&self.state.planes, values(&g), dx);
        Ok(self.state.grad_input.view())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        PoolState::output_shape("avg_pool2d", &self.windows(), input)
    }
}
