//! Mish: x · tanh(softplus(x)), a smooth self-gated activation.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};
use crate::sigmoid::sigmoid;

/// Mish, element-wise, as PyTorch's `nn.Mish`.
///
/// ```text
/// f(x)  = x · tanh(softplus(x)) = x · tanh(log(1 + eˣ))
/// f'(x) = t + x · σ(x) · (1 − t²),   t = tanh(softplus(x))      (0.6 at 0; smooth)
/// ```
///
/// Output range `[≈ −0.309, ∞)`: unbounded above, a small dip below zero, tending to 0 for
/// x → −∞.
///
/// Negative inputs keep a small gradient fading to 0 as x → −∞ (never exactly zero for moderate
/// inputs): diagnostics report no dead region.
///
/// When to use: like SiLU (YOLOv4 popularized it); slightly more expensive.
///
/// ```
/// use lazarus_activations::Mish;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Mish::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.1456475f32, -0.2525015, -0.3034014, 0.0, 0.8650984, 1.943959, 2.986535];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [-0.09339312f32, -0.1083551, 0.05921673, 0.6, 1.049036, 1.069318, 1.021107];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mish {
    kernel: Elementwise,
}

impl Mish {
    /// A Mish layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("mish"),
        }
    }
}

impl Default for Mish {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Mish {
    fn name(&self) -> &str {
        "mish"
    }

    fn describe(&self) -> String {
        "Mish()".into()
    }

    /// `y = mish(x)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Input, mish)
    }

    /// `dL/dx = mish'(x) · dL/dy`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, mish_grad)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(mish, NOT_SILENT)
    }
}

/// tanh(softplus(x)) as PyTorch computes it (no threshold: log1p(∞) = ∞ and tanh(∞) = 1).
#[inline(always)]
fn tanh_softplus(x: f32) -> f32 {
    x.exp().ln_1p().tanh()
}

/// Mish: `x · tanh(log(1 + eˣ))`.
///
/// ```
/// use lazarus_activations::functional::mish;
/// assert_eq!(mish(0.0), 0.0);
/// assert_eq!(mish(100.0), 100.0);
/// ```
#[inline(always)]
pub fn mish(x: f32) -> f32 {
    x * tanh_softplus(x)
}

/// dMish/dx: `t + x · σ(x) · (1 − t²)` with `t = tanh(softplus(x))`.
///
/// ```
/// use lazarus_activations::functional::mish_grad;
/// assert!((mish_grad(0.0) - 0.6).abs() < 1e-6);
/// ```
#[inline(always)]
pub fn mish_grad(x: f32) -> f32 {
    let t = tanh_softplus(x);
    t + x * sigmoid(x) * (1.0 - t * t)
}

/// Reference forward, in plain ndarray: `y = mish(x)` element by element.
pub fn mish_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(mish)
}

/// Reference backward, in plain ndarray: `dL/dx = mish'(x) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn mish_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("mish", x, grad_output, mish_grad)
}
