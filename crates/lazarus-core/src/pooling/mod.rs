//! Pooling: [`MaxPool2d`], [`AvgPool2d`], [`AdaptiveAvgPool2d`], and what they share.
//!
//! A pooling layer slides a window over each `h × w` plane of an `[batch, channels, h, w]`
//! input and reduces it to one number (its maximum, or its mean): every (sample, channel) plane
//! is pooled on its own, with no parameters. Each layer's file holds its formulas, derivative
//! and plain-ndarray reference; `window.rs` says where the windows lie (PyTorch's output-size
//! rule, `ceil_mode`, padding, dilation); this file checks settings and inputs, and keeps the
//! buffers every pooling layer reuses. The loops that run fast are in `kernels/pooling.rs`.

mod adaptive_avg_pool2d;
mod avg_pool2d;
mod max_pool2d;
mod window;

use ndarray::{CowArray, IxDyn};

pub use adaptive_avg_pool2d::AdaptiveAvgPool2d;
pub use avg_pool2d::AvgPool2d;
pub use max_pool2d::MaxPool2d;
pub(crate) use max_pool2d::replaces_max;
pub(crate) use window::Span;
use window::{AxisWindows, adaptive_span, fill_spans, output_size};

use crate::{Error, Mode, Result, Size2d, Tensor, TensorView, reuse_buffer};

/// The settings of `MaxPool2d` and `AvgPool2d` (the latter with dilation 1), checked as
/// PyTorch checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PoolSettings {
    kernel_size: Size2d,
    stride: Size2d,
    padding: Size2d,
    dilation: Size2d,
    ceil_mode: bool,
}

impl PoolSettings {
    /// A `kernel_size` window, stride = kernel_size, no padding, dilation 1, floor mode.
    fn new(layer: &str, kernel_size: Size2d) -> Result<Self> {
        Self {
            kernel_size,
            stride: kernel_size,
            padding: 0.into(),
            dilation: 1.into(),
            ceil_mode: false,
        }
        .checked(layer)
    }

    /// `self`, or [`Error::InvalidConfig`] for a zero kernel size, stride or dilation, or a
    /// padding above half the kernel size (PyTorch's rule: a window must hold more input than
    /// padding).
    fn checked(self, layer: &str) -> Result<Self> {
        let invalid = |parameter: &str, reason: String| Error::InvalidConfig {
            layer: layer.into(),
            parameter: parameter.into(),
            reason,
        };
        for (name, size) in [
            ("kernel_size", self.kernel_size),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ] {
            if size.h == 0 || size.w == 0 {
                return Err(invalid(name, format!("must be positive, found {size}")));
            }
        }
        let (k, p) = (self.kernel_size, self.padding);
        if p.h > k.h / 2 || p.w > k.w / 2 {
            let reason = format!("must be at most half of kernel_size {k}, found {p}");
            return Err(invalid("padding", reason));
        }
        Ok(self)
    }

    /// The windows along the height (`0`) and the width (`1`).
    fn axes(&self) -> [AxisWindows; 2] {
        let s = self;
        let axis = |k: usize, st: usize, p: usize, d: usize| AxisWindows {
            kernel: k,
            stride: st,
            padding: p,
            dilation: d,
            ceil_mode: s.ceil_mode,
        };
        [
            axis(s.kernel_size.h, s.stride.h, s.padding.h, s.dilation.h),
            axis(s.kernel_size.w, s.stride.w, s.padding.w, s.dilation.w),
        ]
    }
}

/// How a layer's windows are placed: the three pooling layers' rules, for [`PoolState`].
#[derive(Debug, Clone, Copy)]
enum Windows {
    /// Max pooling: dilated taps, padding skipped.
    Max(PoolSettings),
    /// Average pooling, with or without the padding in the divisor (`count_include_pad`).
    Avg(PoolSettings, bool),
    /// Adaptive average pooling to this output size.
    Adaptive(Size2d),
}

impl Windows {
    /// The output's `[oh, ow]` for an `h × w` plane.
    fn output_size(&self, layer: &str, shape: &[usize], [h, w]: [usize; 2]) -> Result<[usize; 2]> {
        match self {
            Windows::Max(s) | Windows::Avg(s, _) => output_size(layer, s.axes(), shape, [h, w]),
            Windows::Adaptive(size) => Ok([size.h, size.w]),
        }
    }

    /// Window `o` of `out` along `axis` (0 = height, 1 = width) over `input` positions.
    fn span(&self, axis: usize, o: usize, out: usize, input: usize) -> Span {
        match self {
            Windows::Max(s) => s.axes()[axis].max_span(o, input),
            Windows::Avg(s, include_pad) => s.axes()[axis].avg_span(o, input, *include_pad),
            Windows::Adaptive(_) => adaptive_span(o, out, input),
        }
    }

    /// The distance between the taps of a window along each axis (the dilation).
    fn step(&self) -> [usize; 2] {
        match self {
            Windows::Max(s) => [s.dilation.h, s.dilation.w],
            _ => [1, 1],
        }
    }
}

/// An input's planes and where its windows lie: what the kernels need to pool it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Planes {
    /// Number of planes, batch × channels.
    pub count: usize,
    /// Height and width of an input plane.
    pub h: usize,
    pub w: usize,
    /// The window of each output row and of each output column.
    pub rows: Vec<Span>,
    pub cols: Vec<Span>,
    /// Distance between taps along rows and columns (the dilation).
    pub step: [usize; 2],
}

impl Planes {
    /// Elements of an input plane and of an output plane.
    pub fn sizes(&self) -> (usize, usize) {
        (self.h * self.w, self.rows.len() * self.cols.len())
    }
}

/// What every pooling layer keeps between calls: the windows for the last input's shape
/// (recomputed only when it changes), the output and input-gradient buffers (reused), and
/// whether the last forward pass was a training one (which backward needs).
#[derive(Debug, Clone, Default)]
struct PoolState {
    planes: Planes,
    /// `[batch, channels, h, w]` the windows were computed for.
    shape: Vec<usize>,
    output: Tensor,
    grad_input: Tensor,
    trained: bool,
}

impl PoolState {
    /// The output shape of `windows` for an input of shape `input`.
    fn output_shape(layer: &str, windows: &Windows, input: &[usize]) -> Result<Vec<usize>> {
        let [n, c, h, w] = check_input(layer, input)?;
        let [oh, ow] = windows.output_size(layer, input, [h, w])?;
        Ok(vec![n, c, oh, ow])
    }

    /// Check `x`, place the windows for its shape, shape the output buffer, and return `x` in
    /// row-major order (a copy only if it was not).
    fn start_forward<'x>(
        &mut self,
        layer: &str,
        windows: &Windows,
        x: TensorView<'x>,
        mode: Mode,
    ) -> Result<CowArray<'x, f32, IxDyn>> {
        self.trained = false;
        let out = Self::output_shape(layer, windows, x.shape())?;
        if self.shape != x.shape() {
            let [n, c, h, w] = check_input(layer, x.shape())?;
            if h * w >= u32::MAX as usize {
                return Err(Error::ShapeMismatch {
                    layer: layer.into(),
                    expected: format!("planes h × w of fewer than {} elements", u32::MAX),
                    found: x.shape().to_vec(),
                });
            }
            let p = &mut self.planes;
            (p.count, p.h, p.w, p.step) = (n * c, h, w, windows.step());
            fill_spans(&mut p.rows, out[2], |o| windows.span(0, o, out[2], h));
            fill_spans(&mut p.cols, out[3], |o| windows.span(1, o, out[3], w));
            self.shape.clear();
            self.shape.extend_from_slice(x.shape());
        }
        reuse_buffer(&mut self.output, IxDyn(&out));
        self.trained = mode == Mode::Train;
        Ok(row_major(x))
    }

    /// Check that a training forward came first and `g` has its output's shape, shape the
    /// input-gradient buffer, and return `g` in row-major order.
    fn start_backward<'g>(
        &mut self,
        layer: &str,
        g: TensorView<'g>,
    ) -> Result<CowArray<'g, f32, IxDyn>> {
        if !self.trained {
            return Err(Error::BackwardBeforeForward {
                layer: layer.into(),
            });
        }
        crate::expect_shape(layer, self.output.shape(), g.shape())?;
        reuse_buffer(&mut self.grad_input, IxDyn(&self.shape));
        Ok(row_major(g))
    }
}

/// `[batch, channels, h, w]` from a 4-D shape with at least one channel, row and column.
fn check_input(layer: &str, shape: &[usize]) -> Result<[usize; 4]> {
    match *shape {
        [n, c, h, w] if c > 0 && h > 0 && w > 0 => Ok([n, c, h, w]),
        _ => Err(Error::ShapeMismatch {
            layer: layer.into(),
            expected: "a 4-D input [batch, channels, h, w] with channels, h, w ≥ 1".into(),
            found: shape.to_vec(),
        }),
    }
}

/// `x` itself when it is row-major and contiguous (always, in a model), else a row-major copy.
fn row_major(x: TensorView<'_>) -> CowArray<'_, f32, IxDyn> {
    if x.is_standard_layout() {
        x.into()
    } else {
        x.as_standard_layout().into_owned().into()
    }
}

/// Row-major contents of a tensor from [`row_major`].
fn values<'a>(t: &'a CowArray<'_, f32, IxDyn>) -> &'a [f32] {
    t.as_slice().expect("row_major gives a row-major array")
}

/// A buffer the layer owns, which `reuse_buffer` keeps row-major.
fn values_mut(t: &mut Tensor) -> &mut [f32] {
    t.as_slice_mut().expect("layer buffers are row-major")
}
