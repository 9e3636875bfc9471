//! Hardswish: a piecewise-quadratic SiLU, cheap on mobile hardware.

use crate::elementwise::{Elementwise, Pointwise, Region, Saved, elementwise_layer};
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
/// count as zero-gradient. (It also crosses 0 at the single point x = −1.5, which is not a
/// region and is not counted.) Between −3 and −1.5 the gradient is negative.
///
/// When to use: MobileNetV3-style networks, as a cheaper [`Silu`](crate::Silu).
///
/// Backward keeps the input (like [`Hardsigmoid`](crate::Hardsigmoid), the output cannot tell
/// the pieces apart exactly).
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
    inner: Elementwise<HardswishFn>,
}

impl Hardswish {
    /// A Hardswish layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(HardswishFn),
        }
    }
}

impl Default for Hardswish {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct HardswishFn;

impl Pointwise for HardswishFn {
    fn name(&self) -> &'static str {
        "hardswish"
    }
    fn describe(&self) -> String {
        "Hardswish()".into()
    }
    fn saved(&self) -> Saved {
        Saved::Input
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        hardswish(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        hardswish_grad(x)
    }
    fn region(&self) -> Region {
        Region::ZeroGrad
    }
    fn in_region(&self, x: f32) -> bool {
        x <= -3.0
    }
}

elementwise_layer!(Hardswish);

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
