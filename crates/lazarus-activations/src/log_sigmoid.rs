//! LogSigmoid: log σ(x), computed without overflow.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};

/// Log of the sigmoid, element-wise, as PyTorch's `nn.LogSigmoid`.
///
/// ```text
/// f(x)  = log(1 / (1 + e⁻ˣ)) = min(x, 0) − log(1 + e^(−|x|))     (the stable form)
/// f'(x) = 1 − σ(x) = σ(−x)
/// ```
///
/// Output range `(−∞, 0)`: unbounded below (≈ x for very negative x), 0 from below as x → ∞.
///
/// The gradient is close to 1 for negative inputs and fades to 0 for large positive ones; it
/// is never exactly zero for moderate inputs, so diagnostics report no dead region.
///
/// When to use: log-probabilities of binary events (inside a loss); rarely a hidden activation.
///
/// ```
/// use lazarus_activations::LogSigmoid;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = LogSigmoid::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-3.048587f32, -2.126928, -1.313262, -0.6931472, -0.3132617, -0.126928, -0.04858735];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.9525741f32, 0.8807971, 0.7310586, 0.5, 0.2689414, 0.1192029, 0.04742587];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogSigmoid {
    kernel: Elementwise,
}

impl LogSigmoid {
    /// A LogSigmoid layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("log_sigmoid"),
        }
    }
}

impl Default for LogSigmoid {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for LogSigmoid {
    fn name(&self) -> &str {
        "log_sigmoid"
    }

    fn describe(&self) -> String {
        "LogSigmoid()".into()
    }

    /// `y = log_sigmoid(x)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, log_sigmoid)
    }

    /// `dL/dx = (1 − σ(x)) · dL/dy`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, log_sigmoid_grad)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(log_sigmoid, NOT_SILENT)
    }
}

/// LogSigmoid: `min(x, 0) − log(1 + e^(−|x|))`, finite for every finite x.
///
/// ```
/// use lazarus_activations::functional::log_sigmoid;
/// assert_eq!(log_sigmoid(-100.0), -100.0);
/// assert!(log_sigmoid(100.0) > -1e-40); // −e⁻¹⁰⁰, a subnormal: no overflow anywhere
/// ```
#[inline(always)]
pub fn log_sigmoid(x: f32) -> f32 {
    let non_positive = if x < 0.0 { x } else { 0.0 };
    non_positive - (-x.abs()).exp().ln_1p()
}

/// dLogSigmoid/dx = 1 − σ(x), written as PyTorch does with z = e^(−|x|): `1 − z/(1 + z)` for
/// x < 0, `z/(1 + z)` otherwise.
///
/// ```
/// use lazarus_activations::functional::log_sigmoid_grad;
/// assert_eq!(log_sigmoid_grad(0.0), 0.5);
/// assert_eq!(log_sigmoid_grad(-100.0), 1.0);
/// ```
#[inline(always)]
pub fn log_sigmoid_grad(x: f32) -> f32 {
    let z = (-x.abs()).exp();
    let ratio = z / (1.0 + z);
    if x < 0.0 { 1.0 - ratio } else { ratio }
}

/// Reference forward, in plain ndarray: `y = log_sigmoid(x)` element by element.
pub fn log_sigmoid_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(log_sigmoid)
}

/// Reference backward, in plain ndarray: `dL/dx = (1 − σ(x)) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn log_sigmoid_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("log_sigmoid", x, grad_output, log_sigmoid_grad)
}
