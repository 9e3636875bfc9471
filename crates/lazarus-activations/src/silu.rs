//! SiLU (swish): x · σ(x), a smooth ReLU with a small negative dip.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};
use crate::sigmoid::sigmoid;

/// Sigmoid linear unit (swish), element-wise, as PyTorch's `nn.SiLU`.
///
/// ```text
/// f(x)  = x · σ(x) = x / (1 + e⁻ˣ)
/// f'(x) = σ(x) · (1 + x · (1 − σ(x)))      (0.5 at 0; smooth)
/// ```
///
/// Output range `[≈ −0.278, ∞)`: unbounded above, a small dip below zero (minimum near
/// x = −1.28), tending to 0 for x → −∞.
///
/// Negative inputs get a small gradient that fades to 0 as x → −∞ (and is briefly negative),
/// but is never exactly zero for moderate inputs: diagnostics report no dead region.
///
/// When to use: modern CNNs and transformers (EfficientNet, LLaMA's SwiGLU): often a little
/// better than ReLU, at the cost of an exponential.
///
/// ```
/// use lazarus_activations::Silu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Silu::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.1422776f32, -0.2384058, -0.2689414, 0.0, 0.7310586, 1.761594, 2.857723];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [-0.08810411f32, -0.09078425, 0.07232948, 0.5, 0.9276705, 1.090784, 1.088104];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "SiLU", alias = "Swish")]
#[derive(Debug, Clone)]
pub struct Silu {
    kernel: Elementwise,
}

impl Silu {
    /// A Silu layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("silu"),
        }
    }
}

impl Default for Silu {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Silu {
    fn name(&self) -> &str {
        "silu"
    }

    fn describe(&self) -> String {
        "SiLU()".into()
    }

    /// `y = silu(x)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, silu)
    }

    /// `dL/dx = silu'(x) · dL/dy`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, silu_grad)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(silu, NOT_SILENT)
    }
}

/// SiLU: `x / (1 + e⁻ˣ)` (PyTorch's form; no overflow: e⁻ˣ = ∞ gives −0).
///
/// ```
/// use lazarus_activations::functional::silu;
/// assert_eq!(silu(0.0), 0.0);
/// assert_eq!(silu(-100.0), 0.0);
/// assert_eq!(silu(100.0), 100.0);
/// ```
#[inline(always)]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// dSiLU/dx: `σ(x) · (1 + x · (1 − σ(x)))`.
///
/// ```
/// use lazarus_activations::functional::silu_grad;
/// assert_eq!(silu_grad(0.0), 0.5);
/// ```
#[inline(always)]
pub fn silu_grad(x: f32) -> f32 {
    let s = sigmoid(x);
    s * (1.0 + x * (1.0 - s))
}

/// Reference forward, in plain ndarray: `y = silu(x)` element by element.
pub fn silu_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(silu)
}

/// Reference backward, in plain ndarray: `dL/dx = σ(x)(1 + x(1 − σ(x))) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn silu_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("silu", x, grad_output, silu_grad)
}
