//! ReLU, the article's starting point: cheap, sparse, and able to die.

use crate::elementwise::{Elementwise, Pointwise, Region, Saved, elementwise_layer};

/// Rectified linear unit, element-wise, as PyTorch's `nn.ReLU`.
///
/// ```text
/// f(x)  = max(0, x)
/// f'(x) = 1 if x > 0, else 0          (at x = 0: 0, as in PyTorch)
/// ```
///
/// Output range `[0, ∞)`: unbounded above, so nothing caps a growing activation (the
/// "exploding" half of the article; use a sane init, gradient clipping, or a bounded variant
/// such as [`Relu6`](crate::Relu6)).
///
/// Negative inputs get a gradient of exactly 0. A unit whose pre-activation is ≤ 0 for every
/// input of the data set passes no gradient to its weights and can never recover: a *dead* unit
/// (the "dying ReLU" problem, often started by a large learning rate or a large negative bias).
/// [`Layer::activation_stats`](lazarus_core::Layer::activation_stats) counts, per unit, the
/// inputs that fell in this zero-gradient region (x ≤ 0).
///
/// When to use: the default for MLPs and CNNs: fast, sparse, and it trains well with He init.
/// Switch to [`LeakyRelu`](crate::LeakyRelu), [`PRelu`](crate::PRelu) or [`Elu`](crate::Elu)
/// when the dead-unit count climbs.
///
/// Backward keeps the output, not the input: y > 0 exactly when x > 0, so f'(y) = f'(x) and
/// no copy of the input is needed.
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut relu = Relu::new();
/// let y = relu.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
/// let dx = relu.backward(Tensor::ones(vec![7]).view())?;
/// // The gradient at x = 0 is 0, PyTorch's convention.
/// assert_eq!(dx.as_slice().unwrap(), &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "ReLU")]
#[derive(Debug, Clone)]
pub struct Relu {
    inner: Elementwise<ReluFn>,
}

impl Relu {
    /// A ReLU layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(ReluFn),
        }
    }
}

impl Default for Relu {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct ReluFn;

impl Pointwise for ReluFn {
    fn name(&self) -> &'static str {
        "relu"
    }
    fn describe(&self) -> String {
        "ReLU()".into()
    }
    fn saved(&self) -> Saved {
        // y > 0 ⇔ x > 0, so relu_grad(y) = relu_grad(x): the output suffices (as in PyTorch).
        Saved::Output
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        relu(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        relu_grad(x)
    }
    fn region(&self) -> Region {
        Region::ZeroGrad
    }
    fn in_region(&self, y: f32) -> bool {
        y <= 0.0
    }
}

elementwise_layer!(Relu);

/// ReLU: `max(0, x)`. NaN stays NaN (like PyTorch).
///
/// ```
/// use lazarus_activations::functional::relu;
/// assert_eq!([-1.0f32, 0.0, 2.0].map(relu), [0.0, 0.0, 2.0]);
/// ```
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    // `x <= 0` rather than `max`: a select that keeps NaN, as PyTorch's clamp does.
    if x <= 0.0 { 0.0 } else { x }
}

/// dReLU/dx: 1 for x > 0, else 0, including at x = 0 (PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::relu_grad;
/// assert_eq!([-1.0f32, 0.0, 2.0].map(relu_grad), [0.0, 0.0, 1.0]);
/// ```
#[inline(always)]
pub fn relu_grad(x: f32) -> f32 {
    // `x > 0`, not `x >= 0`: the derivative at the kink is 0, as in PyTorch.
    if x <= 0.0 { 0.0 } else { 1.0 }
}
