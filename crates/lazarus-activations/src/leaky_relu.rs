//! Leaky ReLU: the first cure for dying units, a small fixed slope on the negative side.

use lazarus_core::Result;

use crate::elementwise::{Elementwise, Pointwise, Region, Saved, elementwise_layer, finite};

/// Leaky rectified linear unit, element-wise, as PyTorch's `nn.LeakyReLU`.
///
/// ```text
/// f(x)  = x if x > 0, else negative_slope · x        (negative_slope defaults to 0.01)
/// f'(x) = 1 if x > 0, else negative_slope            (at x = 0: negative_slope, as in PyTorch)
/// ```
///
/// Output range `(-∞, ∞)` (for a slope ≥ 0: `[negative_slope · x, ∞)`); unbounded above like ReLU.
///
/// Negative inputs *leak*: their gradient is `negative_slope · dL/dy`, small but never zero, so
/// a unit pushed into the negative region keeps receiving gradient and can come back.
/// Diagnostics count such inputs as "negative" (inactive but still learning), not as dead.
///
/// When to use: your ReLU network's dead-unit count climbs during training ("dying ReLU"). The
/// small slope keeps a gradient flowing through negative inputs so a unit can recover. It does not
/// bound the positive side: exploding activations still need sane init or clipping. To learn the
/// slope instead of fixing it, use [`PRelu`](crate::PRelu).
///
/// Backward keeps the output when `negative_slope ≥ 0` (then y > 0 ⇔ x > 0 and the derivative,
/// constant on each side, is the same function of y as of x; PyTorch does the same for its
/// in-place variant), and the input for a negative slope.
///
/// ```
/// use lazarus_activations::LeakyRelu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = LeakyRelu::default(); // negative_slope = 0.01
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = ndarray::arr1(&[-0.03f32, -0.02, -0.01, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// approx::assert_abs_diff_eq!(y, expected, epsilon = 1e-7);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?;
/// // At x = 0 the gradient is the slope, PyTorch's convention.
/// assert_eq!(dx.as_slice().unwrap(), &[0.01, 0.01, 0.01, 0.01, 1.0, 1.0, 1.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "LeakyReLU")]
#[derive(Debug, Clone)]
pub struct LeakyRelu {
    inner: Elementwise<LeakyReluFn>,
}

impl LeakyRelu {
    /// A Leaky ReLU with the given slope for negative inputs (PyTorch's default: 0.01).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) if `negative_slope` is not
    /// finite.
    pub fn new(negative_slope: f32) -> Result<Self> {
        let negative_slope = finite("leaky_relu", "negative_slope", negative_slope)?;
        Ok(Self {
            inner: Elementwise::new(LeakyReluFn { negative_slope }),
        })
    }

    /// The slope for negative inputs.
    pub fn negative_slope(&self) -> f32 {
        self.inner.f.negative_slope
    }
}

impl Default for LeakyRelu {
    /// `negative_slope = 0.01`, PyTorch's default.
    fn default() -> Self {
        Self {
            inner: Elementwise::new(LeakyReluFn {
                negative_slope: 0.01,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct LeakyReluFn {
    negative_slope: f32,
}

impl Pointwise for LeakyReluFn {
    fn name(&self) -> &'static str {
        "leaky_relu"
    }
    fn describe(&self) -> String {
        format!("LeakyReLU(negative_slope={:?})", self.negative_slope)
    }
    fn saved(&self) -> Saved {
        // For a slope ≥ 0, x ≤ 0 gives y = slope·x ≤ 0 and x > 0 gives y = x > 0: same piece.
        if self.negative_slope >= 0.0 {
            Saved::Output
        } else {
            Saved::Input
        }
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        leaky_relu(x, self.negative_slope)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        leaky_relu_grad(x, self.negative_slope)
    }
    fn region(&self) -> Region {
        Region::Negative
    }
    fn in_region(&self, saved: f32) -> bool {
        // x ≤ 0, or y ≤ 0 when the output is kept (equivalent, see `saved`).
        saved <= 0.0
    }
}

elementwise_layer!(LeakyRelu);

/// Leaky ReLU: `x` if x > 0, else `negative_slope · x`.
///
/// ```
/// use lazarus_activations::functional::leaky_relu;
/// assert_eq!(leaky_relu(-2.0, 0.01), -0.02);
/// assert_eq!(leaky_relu(3.0, 0.01), 3.0);
/// ```
#[inline(always)]
pub fn leaky_relu(x: f32, negative_slope: f32) -> f32 {
    if x > 0.0 { x } else { x * negative_slope }
}

/// dLeakyReLU/dx: 1 for x > 0, else `negative_slope`, including at x = 0 (PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::leaky_relu_grad;
/// assert_eq!(leaky_relu_grad(0.0, 0.01), 0.01);
/// assert_eq!(leaky_relu_grad(1e-6, 0.01), 1.0);
/// ```
#[inline(always)]
pub fn leaky_relu_grad(x: f32, negative_slope: f32) -> f32 {
    if x > 0.0 { 1.0 } else { negative_slope }
}
