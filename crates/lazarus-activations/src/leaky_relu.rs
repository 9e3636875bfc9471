//! Leaky ReLU: the first cure for dying units, a small fixed slope on the negative side.

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep};
use crate::settings::finite;

/// Leaky rectified linear unit, element-wise, as PyTorch's `nn.LeakyReLU`.
///
/// ```text
/// f(x)  = x if x > 0, else negative_slope · x        (negative_slope defaults to 0.01)
/// f'(x) = 1 if x > 0, else negative_slope            (at x = 0: negative_slope, as in PyTorch)
/// ```
///
/// Output range `(-∞, ∞)` (for a slope ≥ 0: `[negative_slope · x, ∞)`); unbounded above like ReLU.
///
/// Negative inputs *leak*: their gradient is `negative_slope · dL/dy`, small but not zero, so
/// a unit pushed into the negative region keeps receiving gradient and can come back.
/// Diagnostics count x ≤ 0 as *silent*; a unit silent on every input is *inactive* (still
/// learning), not dead. With `negative_slope = 0` this is a ReLU, and such a unit is *dead*:
/// decided by the gradient, not the type (definition: [`ActivationStats`]).
///
/// When to use: your ReLU network's dead-unit count climbs during training ("dying ReLU"). The
/// small slope keeps a gradient flowing through negative inputs so a unit can recover. It does not
/// bound the positive side: exploding activations still need sane init or clipping. To learn the
/// slope instead of fixing it, use [`PRelu`](crate::PRelu).
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
    negative_slope: f32,
    kernel: Elementwise,
}

impl LeakyRelu {
    /// A Leaky ReLU with the given slope for negative inputs (PyTorch's default: 0.01).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) if `negative_slope` is not
    /// finite.
    pub fn new(negative_slope: f32) -> Result<Self> {
        Ok(Self {
            negative_slope: finite("leaky_relu", "negative_slope", negative_slope)?,
            kernel: Elementwise::new("leaky_relu"),
        })
    }

    /// The slope for negative inputs.
    pub fn negative_slope(&self) -> f32 {
        self.negative_slope
    }

    /// What forward keeps: the output when `negative_slope ≥ 0`, the input otherwise.
    ///
    /// For a slope ≥ 0, x ≤ 0 gives y = slope·x ≤ 0 and x > 0 gives y = x > 0: y lies on the
    /// same side of 0 as x, and the derivative, constant on each side, is the same function of y
    /// as of x (PyTorch does the same for its in-place variant). A negative slope flips the sign.
    fn keep(&self) -> Keep {
        if self.negative_slope >= 0.0 {
            Keep::Output
        } else {
            Keep::Input
        }
    }
}

impl Default for LeakyRelu {
    /// `negative_slope = 0.01`, PyTorch's default.
    fn default() -> Self {
        Self::new(0.01).expect("0.01 is finite")
    }
}

impl Layer for LeakyRelu {
    fn name(&self) -> &str {
        "leaky_relu"
    }

    fn describe(&self) -> String {
        format!("LeakyReLU(negative_slope={:?})", self.negative_slope)
    }

    /// `y = leaky_relu(x, negative_slope)`, keeping y or x (see `keep`).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let slope = self.negative_slope;
        let keep = self.keep();
        self.kernel
            .forward(x, mode, keep, move |x| leaky_relu(x, slope))
    }

    /// `dL/dx = leaky_relu'(x) · dL/dy`, with the derivative evaluated on the kept y or x (the
    /// same value either way, see `keep`).
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let slope = self.negative_slope;
        self.kernel
            .backward(grad_output, move |kept| leaky_relu_grad(kept, slope))
    }

    /// Counts, per unit, the silent inputs, on the leaky side (x ≤ 0, equivalently y ≤ 0 when y is kept).
    fn activation_stats(&self) -> Option<ActivationStats> {
        let slope = self.negative_slope;
        // With slope 0 this is a ReLU: the derivative is exactly 0 there, and a unit can die.
        let silent = SilentRegion {
            contains: |kept: f32| kept <= 0.0,
            derivative_zero: slope == 0.0,
        };
        self.kernel
            .stats(move |x| leaky_relu(x, slope), Some(silent))
    }
}

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

/// Reference forward, in plain ndarray: `y = leaky_relu(x, negative_slope)` element by element.
pub fn leaky_relu_forward(x: TensorView<'_>, negative_slope: f32) -> Tensor {
    x.mapv(|x| leaky_relu(x, negative_slope))
}

/// Reference backward, in plain ndarray: `dL/dx = dL/dy` where x > 0, else
/// `negative_slope · dL/dy`.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn leaky_relu_backward(
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    negative_slope: f32,
) -> Result<Tensor> {
    chain_rule("leaky_relu", x, grad_output, |x| {
        leaky_relu_grad(x, negative_slope)
    })
}
