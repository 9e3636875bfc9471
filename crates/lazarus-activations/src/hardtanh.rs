//! Hardtanh: tanh's piecewise-linear cousin, a clamp with a zero gradient outside.

use lazarus_core::Result;

use crate::elementwise::{
    Elementwise, Pointwise, Region, Saved, elementwise_layer, finite, invalid,
};

/// Hard tanh, element-wise, as PyTorch's `nn.Hardtanh(min_val=-1.0, max_val=1.0)`.
///
/// ```text
/// f(x)  = min_val if x < min_val, max_val if x > max_val, else x
/// f'(x) = 1 if min_val < x < max_val, else 0     (0 *at* both boundaries, as in PyTorch)
/// ```
///
/// Output range `[min_val, max_val]`: bounded.
///
/// Inputs outside the open interval get a gradient of exactly 0: like ReLU's negative side, a
/// unit stuck there is dead. Diagnostics count x ≤ min_val or x ≥ max_val as zero-gradient.
///
/// When to use: a cheap bounded activation (quantized and low-precision networks).
///
/// Backward keeps the output: the clamp is exact, so min_val < y < max_val exactly when
/// min_val < x < max_val.
///
/// ```
/// use lazarus_activations::Hardtanh;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Hardtanh::default(); // [-1, 1]
/// let y = layer.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0]);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?;
/// // 0 at the boundaries ±1 themselves, as in PyTorch.
/// assert_eq!(dx.as_slice().unwrap(), &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hardtanh {
    inner: Elementwise<HardtanhFn>,
}

impl Hardtanh {
    /// A Hardtanh clamping to `[min_val, max_val]` (PyTorch's defaults: −1 and 1).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) unless both are finite and
    /// `min_val < max_val`.
    pub fn new(min_val: f32, max_val: f32) -> Result<Self> {
        let min_val = finite("hardtanh", "min_val", min_val)?;
        let max_val = finite("hardtanh", "max_val", max_val)?;
        if min_val >= max_val {
            return Err(invalid(
                "hardtanh",
                "max_val",
                format!(
                    "must be greater than min_val, found min_val={}, max_val={}",
                    lazarus_core::Num(min_val),
                    lazarus_core::Num(max_val)
                ),
            ));
        }
        Ok(Self {
            inner: Elementwise::new(HardtanhFn {
                min_val,
                max_val,
                relu6: false,
            }),
        })
    }

    /// The lower bound.
    pub fn min_val(&self) -> f32 {
        self.inner.f.min_val
    }

    /// The upper bound.
    pub fn max_val(&self) -> f32 {
        self.inner.f.max_val
    }
}

impl Default for Hardtanh {
    /// `[-1, 1]`, PyTorch's default.
    fn default() -> Self {
        Self {
            inner: Elementwise::new(HardtanhFn {
                min_val: -1.0,
                max_val: 1.0,
                relu6: false,
            }),
        }
    }
}

/// `clamp(x, min_val, max_val)`; also ReLU6's kernel (as in PyTorch, where `ReLU6` is
/// `hardtanh(x, 0, 6)`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HardtanhFn {
    pub(crate) min_val: f32,
    pub(crate) max_val: f32,
    /// Named `relu6` rather than `hardtanh`.
    pub(crate) relu6: bool,
}

impl Pointwise for HardtanhFn {
    fn name(&self) -> &'static str {
        if self.relu6 { "relu6" } else { "hardtanh" }
    }
    fn describe(&self) -> String {
        if self.relu6 {
            "ReLU6()".into()
        } else {
            format!(
                "Hardtanh(min_val={:?}, max_val={:?})",
                self.min_val, self.max_val
            )
        }
    }
    fn saved(&self) -> Saved {
        // The clamp is exact: y is strictly inside (min, max) exactly when x is.
        Saved::Output
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        hardtanh(x, self.min_val, self.max_val)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        hardtanh_grad(x, self.min_val, self.max_val)
    }
    fn region(&self) -> Region {
        Region::ZeroGrad
    }
    fn in_region(&self, y: f32) -> bool {
        y <= self.min_val || y >= self.max_val
    }
}

elementwise_layer!(Hardtanh);

/// Hardtanh: `x` clamped to `[min_val, max_val]` (NaN stays NaN, as in PyTorch).
///
/// ```
/// use lazarus_activations::functional::hardtanh;
/// assert_eq!([-2.0f32, 0.5, 2.0].map(|x| hardtanh(x, -1.0, 1.0)), [-1.0, 0.5, 1.0]);
/// ```
#[inline(always)]
pub fn hardtanh(x: f32, min_val: f32, max_val: f32) -> f32 {
    let low_clamped = if x < min_val { min_val } else { x };
    if low_clamped > max_val {
        max_val
    } else {
        low_clamped
    }
}

/// dHardtanh/dx: 1 strictly inside `(min_val, max_val)`, else 0, including at both boundaries
/// (PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::hardtanh_grad;
/// assert_eq!([-1.0f32, 0.0, 1.0].map(|x| hardtanh_grad(x, -1.0, 1.0)), [0.0, 1.0, 0.0]);
/// ```
#[inline(always)]
pub fn hardtanh_grad(x: f32, min_val: f32, max_val: f32) -> f32 {
    if x <= min_val || x >= max_val {
        0.0
    } else {
        1.0
    }
}
