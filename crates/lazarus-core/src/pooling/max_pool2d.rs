//! `MaxPool2d`: the largest value of each window, and the gradient routed back to it.
//!
//! [`MaxPool2d::forward_reference`] and [`MaxPool2d::backward_reference`] are the formulas in
//! plain ndarray; the [`Layer`] methods run the same with `kernels/pooling.rs`, which
//! `tests/pooling.rs` checks against them bit for bit.

use ndarray::{Array4, Ix4};

use super::window::taps;
use super::{PoolSettings, PoolState, Size2d, Windows, values, values_mut};
use crate::{Layer, Mode, Result, Tensor, TensorView, kernels};

/// 2-D max pooling over `[batch, channels, h, w]`, as PyTorch's `nn.MaxPool2d(kernel_size,
/// stride=kernel_size, padding=0, dilation=1, ceil_mode=False)`.
///
/// Each (sample, channel) plane is pooled on its own. Window (i, j) reads the taps
/// `(i·s − p + a·d, j·s − p + b·d)` for `a, b < k` (per axis: kernel k, stride s, padding p,
/// dilation d); padding is −∞, so it never wins:
///
/// ```text
/// y[i, j]  = max of x over the window's taps
/// dL/dx[u] = Σ dL/dy[i, j] over the windows whose maximum is at u    (0 if u never wins)
/// out      = ⌊(in + 2p − d·(k − 1) − 1) / s⌋ + 1   per axis (⌈…⌉ with ceil_mode, whose last
///            window must start inside the input or its left padding)
/// ```
///
/// *Which* input holds a window's maximum, as PyTorch decides it (`replaces_max`, below): the taps
/// are read in row-major order and a value takes over only if it is strictly greater than the
/// maximum so far, so on ties the **first** maximum gets the gradient; or if it is NaN: a NaN
/// in the window wins (the output is NaN and the last NaN gets the gradient), so a NaN is
/// never silently dropped.
///
/// Settings are checked as PyTorch checks them: kernel size, stride and dilation positive,
/// padding at most half the kernel size.
///
/// When to use: after a convolution and its activation, to halve the height and width
/// (`MaxPool2d::new(2)`): it keeps each feature's strongest response in every 2 × 2 region,
/// which makes small shifts of the input invisible and quarters the next layer's work. Its
/// gradient is sparse, one input per window, so only the inputs that won learn in that step.
///
/// ```
/// use lazarus_core::{Layer, MaxPool2d, Mode, Tensor};
/// let mut pool = MaxPool2d::new(2)?;
/// let x = Tensor::from_shape_vec(vec![1, 1, 2, 4], vec![1., 5., 2., 2., 3., 4., 0., 2.]).unwrap();
/// let y = pool.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[5., 2.]);
/// // The gradient goes to the 5, and to the first of the tied 2s.
/// let dx = pool.backward(Tensor::from_elem(vec![1, 1, 1, 2], 1.0).view())?;
/// assert_eq!(dx.as_slice().unwrap(), &[0., 1., 1., 0., 0., 0., 0., 0.]);
/// assert_eq!(pool.describe(), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)");
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MaxPool2d {
    settings: PoolSettings,
    state: PoolState,
    /// Per output, the flat index `h·w_in + w` in its input plane of the window's maximum
    /// (`kernels::NO_INDEX` for a window of padding only): what backward routes `g` to.
    argmax: Vec<u32>,
}

impl MaxPool2d {
    /// Max pooling over `kernel_size` windows (`2` or `(3, 2)`), with stride = kernel_size, no
    /// padding, dilation 1 and floor mode (PyTorch's defaults).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if a kernel size is 0.
    pub fn new(kernel_size: impl Into<Size2d>) -> Result<Self> {
        Self::with(PoolSettings::new("max_pool2d", kernel_size.into())?)
    }

    /// The step between windows (PyTorch's default is the kernel size: windows do not overlap).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if a stride is 0.
    pub fn stride(self, stride: impl Into<Size2d>) -> Result<Self> {
        let stride = stride.into();
        Self::with(PoolSettings {
            stride,
            ..self.settings
        })
    }

    /// Implicit −∞ padding on each side (at most half the kernel size).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if the padding exceeds half the kernel size.
    pub fn padding(self, padding: impl Into<Size2d>) -> Result<Self> {
        let padding = padding.into();
        Self::with(PoolSettings {
            padding,
            ..self.settings
        })
    }

    /// The distance between a window's taps (1: adjacent inputs).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if a dilation is 0.
    pub fn dilation(self, dilation: impl Into<Size2d>) -> Result<Self> {
        let dilation = dilation.into();
        Self::with(PoolSettings {
            dilation,
            ..self.settings
        })
    }

    /// Round the output size up instead of down: one more window at the end when the input
    /// leaves a partial one (if it starts inside the input or its left padding).
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        let settings = PoolSettings {
            ceil_mode,
            ..self.settings
        };
        Self::with(settings).expect("changing ceil_mode keeps valid settings valid")
    }

    /// A layer with checked `settings` and fresh buffers.
    fn with(settings: PoolSettings) -> Result<Self> {
        Ok(Self {
            settings: settings.checked("max_pool2d")?,
            state: PoolState::default(),
            argmax: Vec::new(),
        })
    }

    /// The forward pass in plain ndarray, by the definition: `y[n, c, i, j]` = the maximum of
    /// each window (−∞ for a window of padding only).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        let winners = self.winners(x.view())?;
        Ok(winners
            .mapv(|w| w.map_or(f32::NEG_INFINITY, |(v, _)| v))
            .into_dyn())
    }

    /// The backward pass in plain ndarray for input `x` and upstream gradient `g`: each
    /// `g[n, c, i, j]` added to the input that held window (i, j)'s maximum.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) if `x` does not fit or `g` is not the output's shape.
    pub fn backward_reference(&self, x: TensorView<'_>, g: TensorView<'_>) -> Result<Tensor> {
        let winners = self.winners(x.view())?;
        crate::expect_shape("max_pool2d", winners.shape(), g.shape())?;
        let mut dx = Tensor::zeros(x.raw_dim());
        for ((n, c, i, j), winner) in winners.indexed_iter() {
            if let Some((_, [ih, iw])) = winner {
                dx[[n, c, *ih, *iw]] += g[[n, c, i, j]];
            }
        }
        Ok(dx.into_dyn())
    }

    /// For each output, the value and position of its window's maximum (`None` for a window
    /// of padding only), reading the taps in row-major order.
    #[allow(clippy::type_complexity)]
    fn winners(&self, x: TensorView<'_>) -> Result<Array4<Option<(f32, [usize; 2])>>> {
        let out = PoolState::output_shape("max_pool2d", &self.windows(), x.shape())?;
        let x = x.into_dimensionality::<Ix4>().expect("checked 4-D");
        let [axis_h, axis_w] = self.settings.axes();
        let inside = |t: i64, len: usize| usize::try_from(t).ok().filter(|&t| t < len);
        let (h, w) = (x.shape()[2], x.shape()[3]);
        let shape = (out[0], out[1], out[2], out[3]);
        Ok(Array4::from_shape_fn(shape, |(n, c, i, j)| {
            let mut winner = None;
            for ih in taps(i, axis_h).filter_map(|t| inside(t, h)) {
                for iw in taps(j, axis_w).filter_map(|t| inside(t, w)) {
                    let v = x[[n, c, ih, iw]];
                    match winner {
                        Some((best, _)) if !replaces_max(v, best) => {}
                        _ => winner = Some((v, [ih, iw])),
                    }
                }
            }
            winner
        }))
    }

    fn windows(&self) -> Windows {
        Windows::Max(self.settings)
    }
}

/// Whether `candidate` takes over from `best`, the maximum of a window so far: if it is
/// strictly greater (so on ties the first maximum stays), or NaN (a NaN always wins). This is
/// PyTorch's rule, `(val > maxval) || isnan(val)`, and decides which input gets the gradient.
#[inline(always)]
pub(crate) fn replaces_max(candidate: f32, best: f32) -> bool {
    candidate > best || candidate.is_nan()
}

impl Layer for MaxPool2d {
    fn name(&self) -> &str {
        "max_pool2d"
    }

    fn describe(&self) -> String {
        let s = &self.settings;
        format!(
            "MaxPool2d(kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={})",
            s.kernel_size, s.stride, s.padding, s.dilation, s.ceil_mode
        )
    }

    /// `y` = each window's maximum; the position of each maximum is kept for backward.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let x = self
            .state
            .start_forward("max_pool2d", &self.windows(), x, mode)?;
        self.argmax.resize(self.state.output.len(), 0);
        let y = values_mut(&mut self.state.output);
        kernels::max_pool_forward(&self.state.planes, values(&x), y, &mut self.argmax);
        Ok(self.state.output.view())
    }

    /// `dL/dx[u] = Σ dL/dy[i, j]` over the windows whose maximum is at u.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = self.state.start_backward("max_pool2d", grad_output)?;
        let dx = values_mut(&mut self.state.grad_input);
        kernels::max_pool_backward(&self.state.planes, values(&g), &self.argmax, dx);
        Ok(self.state.grad_input.view())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        PoolState::output_shape("max_pool2d", &self.windows(), input)
    }
}
