//! Softsign: a sigmoid-shaped curve with polynomial, not exponential, tails.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};

/// Softsign, element-wise, as PyTorch's `nn.Softsign`.
///
/// ```text
/// f(x)  = x / (1 + |x|)
/// f'(x) = 1 / (1 + |x|)²             (1 at 0; smooth)
/// ```
///
/// Output range `(−1, 1)`: bounded, like tanh, but it approaches ±1 only polynomially, so its
/// gradients vanish more slowly than tanh's. No region has a zero derivative; diagnostics report
/// none.
///
/// When to use: a cheap tanh alternative when saturation hurts.
///
/// ```
/// use lazarus_activations::Softsign;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Softsign::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.75f32, -0.6666667, -0.5, 0.0, 0.5, 0.6666667, 0.75];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.0625f32, 0.1111111, 0.25, 1.0, 0.25, 0.1111111, 0.0625];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Softsign {
    kernel: Elementwise,
}

impl Softsign {
    /// A Softsign layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("softsign"),
        }
    }
}

impl Default for Softsign {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Softsign {
    fn name(&self) -> &str {
        "softsign"
    }

    fn describe(&self) -> String {
        "Softsign()".into()
    }

    /// `y = softsign(x)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, softsign)
    }

    /// `dL/dx = dL/dy / (1 + |x|)²`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, softsign_grad)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(softsign, NOT_SILENT)
    }
}

/// Softsign: `x / (1 + |x|)`.
///
/// ```
/// use lazarus_activations::functional::softsign;
/// assert_eq!(softsign(1.0), 0.5);
/// ```
#[inline(always)]
pub fn softsign(x: f32) -> f32 {
    x / (1.0 + x.abs())
}

/// dSoftsign/dx: `1 / (1 + |x|)²`.
///
/// ```
/// use lazarus_activations::functional::softsign_grad;
/// assert_eq!(softsign_grad(1.0), 0.25);
/// ```
#[inline(always)]
pub fn softsign_grad(x: f32) -> f32 {
    let d = 1.0 + x.abs();
    1.0 / (d * d)
}

/// Reference forward, in plain ndarray: `y = softsign(x)` element by element.
pub fn softsign_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(softsign)
}

/// Reference backward, in plain ndarray: `dL/dx = dL/dy / (1 + |x|)²` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn softsign_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("softsign", x, grad_output, softsign_grad)
}
