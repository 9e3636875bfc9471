//! ReLU, the article's starting point: cheap, sparse, and able to die.
//!
//! Read it top to bottom: the layer, whose `forward` and `backward` run the two scalar functions
//! `relu` and `relu_grad` through the fast element loops of [`crate::kernels`]; the scalar
//! functions, where the derivative at 0 is decided; and `relu_forward`/`relu_backward`, the same
//! computation over a whole tensor in plain ndarray, which the layer is tested against bit for
//! bit (`tests/kernels_vs_reference.rs`).

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep};

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
/// [`Layer::activation_stats`] counts, per unit, the inputs that fell in this *silent* region
/// (x ≤ 0), where the derivative is exactly 0: a unit silent on every input is dead
/// (definition: [`ActivationStats`]).
///
/// NaN, as in PyTorch: relu(NaN) = NaN, and its gradient is 0 (PyTorch's backward mask is
/// `y > 0`, false for NaN).
///
/// When to use: the default for MLPs and CNNs: fast, sparse, and it trains well with He init.
/// Switch to [`LeakyRelu`](crate::LeakyRelu), [`PRelu`](crate::PRelu) or [`Elu`](crate::Elu)
/// when the dead-unit count climbs.
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
    kernel: Elementwise,
}

impl Relu {
    /// A ReLU layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("relu"),
        }
    }
}

impl Default for Relu {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Relu {
    fn name(&self) -> &str {
        "relu"
    }

    fn describe(&self) -> String {
        "ReLU()".into()
    }

    /// `y = relu(x)`. Training keeps y, not x: y > 0 exactly where x > 0 (and y is NaN exactly
    /// where x is), so `relu_grad(y) = relu_grad(x)` and no copy of x is needed (as in PyTorch).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Output, relu)
    }

    /// `dL/dx = relu'(x) · dL/dy`, with relu' evaluated on the kept y.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, relu_grad)
    }

    /// Counts, per unit, the silent inputs, where the derivative is 0 (y ≤ 0, which is x ≤ 0).
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel
            .stats(relu, Some(SilentRegion::zero_derivative(|y: f32| y <= 0.0)))
    }
}

/// ReLU: `max(0, x)`. NaN stays NaN (like PyTorch).
///
/// ```
/// use lazarus_activations::functional::relu;
/// assert_eq!([-1.0f32, 0.0, 2.0].map(relu), [0.0, 0.0, 2.0]);
/// assert!(relu(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    // `x <= 0` rather than `f32::max`: a select that keeps NaN (NaN <= 0 is false), as PyTorch's
    // clamp does, where `max` would return 0.
    if x <= 0.0 { 0.0 } else { x }
}

/// dReLU/dx: 1 for x > 0, else 0, including at x = 0 (PyTorch's convention) and for NaN
/// (PyTorch's mask `x > 0` is false for NaN, so no gradient flows through it).
///
/// ```
/// use lazarus_activations::functional::relu_grad;
/// assert_eq!([-1.0f32, 0.0, 2.0, f32::NAN].map(relu_grad), [0.0, 0.0, 1.0, 0.0]);
/// ```
#[inline(always)]
pub fn relu_grad(x: f32) -> f32 {
    // `x > 0`, not `x >= 0`: the derivative at the kink is 0, as in PyTorch.
    if x > 0.0 { 1.0 } else { 0.0 }
}

/// Reference forward, in plain ndarray: `y = relu(x)` element by element.
pub fn relu_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(relu)
}

/// Reference backward, in plain ndarray: `dL/dx = relu'(x) · dL/dy` element by element, that
/// is dL/dy where x > 0 and 0 elsewhere.
///
/// ```
/// use lazarus_activations::reference::relu_backward;
/// let x = ndarray::arr1(&[-1.0f32, 0.0, 2.0]).into_dyn();
/// let g = ndarray::arr1(&[5.0f32, 5.0, 5.0]).into_dyn();
/// assert_eq!(relu_backward(x.view(), g.view())?.as_slice().unwrap(), &[0.0, 0.0, 5.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn relu_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("relu", x, grad_output, relu_grad)
}
