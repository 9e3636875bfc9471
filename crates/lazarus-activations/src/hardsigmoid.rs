//! Hardsigmoid: a piecewise-linear sigmoid, cheap and exactly flat outside [−3, 3].

use crate::elementwise::{Elementwise, Pointwise, Region, Saved, elementwise_layer};

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
/// diagnostics count as zero-gradient (a unit always there is dead).
///
/// When to use: a fast stand-in for sigmoid in gates of mobile networks (MobileNetV3).
///
/// Backward keeps the input: the output is not exact enough to tell the pieces apart (for
/// x = 3 − 1 ulp, x + 3 rounds to 6 and y = 1, yet PyTorch's derivative there is 1/6).
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
    inner: Elementwise<HardsigmoidFn>,
}

impl Hardsigmoid {
    /// A Hardsigmoid layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(HardsigmoidFn),
        }
    }
}

impl Default for Hardsigmoid {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct HardsigmoidFn;

impl Pointwise for HardsigmoidFn {
    fn name(&self) -> &'static str {
        "hardsigmoid"
    }
    fn describe(&self) -> String {
        "Hardsigmoid()".into()
    }
    fn saved(&self) -> Saved {
        Saved::Input
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        hardsigmoid(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        hardsigmoid_grad(x)
    }
    fn region(&self) -> Region {
        Region::ZeroGrad
    }
    fn in_region(&self, x: f32) -> bool {
        x <= -3.0 || x >= 3.0
    }
}

elementwise_layer!(Hardsigmoid);

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
