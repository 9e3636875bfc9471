//! Sigmoid: the classic squashing function, bounded, and saturating on both sides.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};

/// Logistic sigmoid, element-wise, as PyTorch's `nn.Sigmoid`.
///
/// ```text
/// f(x)  = 1 / (1 + e⁻ˣ)
/// f'(x) = f(x) · (1 − f(x))          (largest at 0: 0.25; no kink)
/// ```
///
/// Output range `(0, 1)`: bounded, so it cannot explode, but its derivative is at most 0.25 and
/// vanishes for large |x|: gradients shrink by ≥ 4× per layer, the *vanishing* gradient that
/// made ReLU popular. No region has an exactly zero derivative, so diagnostics report none.
///
/// When to use: output probabilities (better: `BceWithLogitsLoss` on raw logits) and gates. Not
/// for hidden layers of deep networks.
///
/// ```
/// use lazarus_activations::Sigmoid;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Sigmoid::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [0.04742587f32, 0.1192029, 0.2689414, 0.5, 0.7310586, 0.880797, 0.9525741];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.04517666f32, 0.1049936, 0.1966119, 0.25, 0.1966119, 0.1049936, 0.04517666];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sigmoid {
    kernel: Elementwise,
}

impl Sigmoid {
    /// A Sigmoid layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("sigmoid"),
        }
    }
}

impl Default for Sigmoid {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Sigmoid {
    fn name(&self) -> &str {
        "sigmoid"
    }

    fn describe(&self) -> String {
        "Sigmoid()".into()
    }

    /// `y = σ(x)`. Training keeps y (as PyTorch does): σ' = y(1 − y) needs nothing else.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Output, sigmoid)
    }

    /// `dL/dx = σ'(x) · dL/dy`, with σ' written with the kept y: `y(1 − y)`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, sigmoid_grad_from_output)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(sigmoid, NOT_SILENT)
    }
}

/// Sigmoid: `1 / (1 + e⁻ˣ)`. No overflow: e⁻ˣ = ∞ for x ≤ −89 gives exactly 0.
///
/// ```
/// use lazarus_activations::functional::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5);
/// assert_eq!(sigmoid(-100.0), 0.0);
/// assert_eq!(sigmoid(100.0), 1.0);
/// ```
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// dσ/dx = σ(x)(1 − σ(x)).
///
/// ```
/// use lazarus_activations::functional::sigmoid_grad;
/// assert_eq!(sigmoid_grad(0.0), 0.25);
/// ```
#[inline(always)]
pub fn sigmoid_grad(x: f32) -> f32 {
    sigmoid_grad_from_output(sigmoid(x))
}

/// dσ/dx written with the output y = σ(x): `y(1 − y)` (what [`Sigmoid`] uses in backward).
///
/// ```
/// use lazarus_activations::functional::sigmoid_grad_from_output;
/// assert_eq!(sigmoid_grad_from_output(0.5), 0.25);
/// ```
#[inline(always)]
pub fn sigmoid_grad_from_output(y: f32) -> f32 {
    (1.0 - y) * y
}

/// Reference forward, in plain ndarray: `y = sigmoid(x)` element by element.
pub fn sigmoid_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(sigmoid)
}

/// Reference backward, in plain ndarray: `dL/dx = σ(x)(1 − σ(x)) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn sigmoid_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("sigmoid", x, grad_output, sigmoid_grad)
}
