//! LogSigmoid: log σ(x), computed without overflow.

use crate::elementwise::{Elementwise, Pointwise, Saved, elementwise_layer};

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
    inner: Elementwise<LogSigmoidFn>,
}

impl LogSigmoid {
    /// A LogSigmoid layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(LogSigmoidFn),
        }
    }
}

impl Default for LogSigmoid {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct LogSigmoidFn;

impl Pointwise for LogSigmoidFn {
    fn name(&self) -> &'static str {
        "log_sigmoid"
    }
    fn describe(&self) -> String {
        "LogSigmoid()".into()
    }
    fn saved(&self) -> Saved {
        Saved::Input
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        log_sigmoid(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        log_sigmoid_grad(x)
    }
}

elementwise_layer!(LogSigmoid);

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
