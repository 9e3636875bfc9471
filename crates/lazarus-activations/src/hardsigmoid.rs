//! Hardsigmoid: a piecewise-linear sigmoid, cheap and exactly flat outside [−3, 3].

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep};

/// Hard sigmoid, element-wise, as PyTorch's `nn.Hardsigmoid`.
///
/// ```text
/// f(x)  = min(max(x + 3, 0), 6) / 6     (0 for x ≤ −3, 1 for x ≥ 3, linear in between)
/// f'(x) = 1/6 if −3 < x < 3, else 0     (0 at both x = −3 and x = 3, as in PyTorch)
/// ```
///
/// Output range `[0, 1]`: bounded.
///
/// Gradients are exactly 0 for x ≤ −3 and x ≥ 3, PyTorch's zero-derivative region, which
/// diagnostics count as *silent*, with a zero derivative (a unit always there is dead;
/// definition: [`ActivationStats`]).
///
/// When to use: a fast stand-in for sigmoid in gates of mobile networks (MobileNetV3).
///
/// ```
/// use lazarus_activations::Hardsigmoid;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Hardsigmoid::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [0.0f32, 0.1666667, 0.3333333, 0.5, 0.6666667, 0.8333333, 1.0];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let s = 1.0 / 6.0;
/// assert_eq!(dx.as_slice().unwrap(), &[0.0, s, s, s, s, s, 0.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Hardsigmoid {
    kernel: Elementwise,
}

impl Hardsigmoid {
    /// A Hardsigmoid layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("hardsigmoid"),
        }
    }
}

impl Default for Hardsigmoid {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Hardsigmoid {
    fn name(&self) -> &str {
        "hardsigmoid"
    }

    fn describe(&self) -> String {
        "Hardsigmoid()".into()
    }

    /// `y = hardsigmoid(x)`. Training keeps x: the output is not exact enough to tell the
    /// pieces apart (for x = 3 − 1 ulp, x + 3 rounds to 6 and y = 1, yet PyTorch's derivative
    /// there is 1/6).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, hardsigmoid)
    }

    /// `dL/dx = hardsigmoid'(x) · dL/dy`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, hardsigmoid_grad)
    }

    /// Counts, per unit, the silent inputs, where the derivative is 0 (x ≤ −3 or x ≥ 3).
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(
            hardsigmoid,
            Some(SilentRegion::zero_derivative(|x: f32| {
                x <= -3.0 || x >= 3.0
            })),
        )
    }
}

/// Hardsigmoid: `min(max(x + 3, 0), 6) / 6`.
///
/// ```
/// use lazarus_activations::functional::hardsigmoid;
/// assert_eq!([-4.0f32, 0.0, 4.0].map(hardsigmoid), [0.0, 0.5, 1.0]);
/// ```
#[inline(always)]
pub fn hardsigmoid(x: f32) -> f32 {
    crate::relu6::relu6(x + 3.0) / 6.0
}

/// dHardsigmoid/dx: 1/6 for −3 < x < 3, else 0 (0 at ±3, PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::hardsigmoid_grad;
/// assert_eq!([-3.0f32, 0.0, 3.0].map(hardsigmoid_grad), [0.0, 1.0 / 6.0, 0.0]);
/// ```
#[inline(always)]
pub fn hardsigmoid_grad(x: f32) -> f32 {
    if x > -3.0 && x < 3.0 { 1.0 / 6.0 } else { 0.0 }
}

/// Reference forward, in plain ndarray: `y = hardsigmoid(x)` element by element.
pub fn hardsigmoid_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(hardsigmoid)
}

/// Reference backward, in plain ndarray: `dL/dx = dL/dy / 6` for −3 < x < 3, else 0.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn hardsigmoid_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("hardsigmoid", x, grad_output, hardsigmoid_grad)
}
