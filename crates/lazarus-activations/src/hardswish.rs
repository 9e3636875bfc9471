//! Hardswish: a piecewise-quadratic SiLU, cheap on mobile hardware.

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep};
use crate::relu6::relu6;

/// Hard swish, element-wise, as PyTorch's `nn.Hardswish`.
///
/// ```text
/// f(x)  = x · min(max(x + 3, 0), 6) / 6      (0 for x ≤ −3, x for x ≥ 3)
/// f'(x) = 0 for x ≤ −3,  x/3 + 1/2 for −3 < x < 3,  1 for x ≥ 3
///         (PyTorch's values at the kinks: 0 at x = −3, 1 at x = 3)
/// ```
///
/// Output range `[−0.375, ∞)`: unbounded above, a small dip below zero (minimum at x = −1.5).
///
/// The derivative is exactly 0 for x ≤ −3, PyTorch's zero-derivative region, which diagnostics
/// count as *silent*, with a zero derivative: a unit always there is dead (definition:
/// [`ActivationStats`]). (It also crosses 0 at the single point x = −1.5, which is not a
/// region and is not counted.) Between −3 and −1.5 the gradient is negative.
///
/// When to use: MobileNetV3-style networks, as a cheaper [`Silu`](crate::Silu).
///
/// ```
/// use lazarus_activations::Hardswish;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Hardswish::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [0.0f32, -0.3333333, -0.3333333, 0.0, 0.6666667, 1.666667, 3.0];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.0f32, -0.1666667, 0.1666667, 0.5, 0.8333334, 1.166667, 1.0];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hardswish {
    kernel: Elementwise,
}

impl Hardswish {
    /// A Hardswish layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("hardswish"),
        }
    }
}

impl Default for Hardswish {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Hardswish {
    fn name(&self) -> &str {
        "hardswish"
    }

    fn describe(&self) -> String {
        "Hardswish()".into()
    }

    /// `y = hardswish(x)`. Training keeps x (as for [`Hardsigmoid`](crate::Hardsigmoid), the
    /// output cannot tell the pieces apart exactly).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, hardswish)
    }

    /// `dL/dx = hardswish'(x) · dL/dy`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, hardswish_grad)
    }

    /// Counts, per unit, the silent inputs, where the derivative is 0 (x ≤ −3).
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(
            hardswish,
            Some(SilentRegion::zero_derivative(|x: f32| x <= -3.0)),
        )
    }
}

/// Hardswish: `x · min(max(x + 3, 0), 6) / 6`.
///
/// ```
/// use lazarus_activations::functional::hardswish;
/// assert_eq!([-4.0f32, 0.0, 4.0].map(hardswish), [0.0, 0.0, 4.0]);
/// ```
#[inline(always)]
pub fn hardswish(x: f32) -> f32 {
    // PyTorch's order of operations: (x · relu6(x + 3)) / 6.
    x * relu6(x + 3.0) / 6.0
}

/// dHardswish/dx: 0 for x ≤ −3, `x/3 + 1/2` for −3 < x < 3, 1 for x ≥ 3 (PyTorch's values at
/// the kinks).
///
/// ```
/// use lazarus_activations::functional::hardswish_grad;
/// assert_eq!([-3.0f32, 0.0, 3.0].map(hardswish_grad), [0.0, 0.5, 1.0]);
/// ```
#[inline(always)]
pub fn hardswish_grad(x: f32) -> f32 {
    let middle = x / 3.0 + 0.5;
    let upper = if x < 3.0 { middle } else { 1.0 };
    if x <= -3.0 { 0.0 } else { upper }
}

/// Reference forward, in plain ndarray: `y = hardswish(x)` element by element.
pub fn hardswish_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(hardswish)
}

/// Reference backward, in plain ndarray: `dL/dx = hardswish'(x) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn hardswish_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("hardswish", x, grad_output, hardswish_grad)
}
