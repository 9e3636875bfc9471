//! Hardtanh: tanh's piecewise-linear cousin, a clamp with a zero gradient outside.

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep};
use crate::settings::{finite, invalid};

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
/// unit stuck there is dead. Diagnostics count x ≤ min_val or x ≥ max_val as *silent*, with a
/// zero derivative (definition: [`ActivationStats`]).
///
/// When to use: a cheap bounded activation (quantized and low-precision networks).
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
    min_val: f32,
    max_val: f32,
    kernel: Elementwise,
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
            min_val,
            max_val,
            kernel: Elementwise::new("hardtanh"),
        })
    }

    /// The lower bound.
    pub fn min_val(&self) -> f32 {
        self.min_val
    }

    /// The upper bound.
    pub fn max_val(&self) -> f32 {
        self.max_val
    }
}

impl Default for Hardtanh {
    /// `[-1, 1]`, PyTorch's default.
    fn default() -> Self {
        Self::new(-1.0, 1.0).expect("-1 < 1")
    }
}

impl Layer for Hardtanh {
    fn name(&self) -> &str {
        "hardtanh"
    }

    fn describe(&self) -> String {
        format!(
            "Hardtanh(min_val={:?}, max_val={:?})",
            self.min_val, self.max_val
        )
    }

    /// `y = hardtanh(x)`. Training keeps y: the clamp is exact, so y is strictly inside
    /// (min_val, max_val) exactly when x is, and `hardtanh_grad(y) = hardtanh_grad(x)`.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let (min_val, max_val) = (self.min_val, self.max_val);
        self.kernel.forward(x, mode, Keep::Output, move |x| {
            hardtanh(x, min_val, max_val)
        })
    }

    /// `dL/dx = hardtanh'(x) · dL/dy`, with the derivative evaluated on the kept y.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let (min_val, max_val) = (self.min_val, self.max_val);
        self.kernel
            .backward(grad_output, move |y| hardtanh_grad(y, min_val, max_val))
    }

    /// Counts, per unit, the silent inputs, where the derivative is 0 (y at or beyond either bound).
    fn activation_stats(&self) -> Option<ActivationStats> {
        let (min_val, max_val) = (self.min_val, self.max_val);
        let silent = SilentRegion::zero_derivative(move |y: f32| y <= min_val || y >= max_val);
        self.kernel.stats(|y| y, Some(silent))
    }
}

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

/// Reference forward, in plain ndarray: `y = hardtanh(x, min_val, max_val)` element by element.
pub fn hardtanh_forward(x: TensorView<'_>, min_val: f32, max_val: f32) -> Tensor {
    x.mapv(|x| hardtanh(x, min_val, max_val))
}

/// Reference backward, in plain ndarray: `dL/dx = dL/dy` strictly inside `(min_val, max_val)`,
/// else 0.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn hardtanh_backward(
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    min_val: f32,
    max_val: f32,
) -> Result<Tensor> {
    chain_rule("hardtanh", x, grad_output, |x| {
        hardtanh_grad(x, min_val, max_val)
    })
}
