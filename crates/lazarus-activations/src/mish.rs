//! Mish: x · tanh(softplus(x)), a smooth self-gated activation.

use crate::elementwise::{Elementwise, Pointwise, Saved, elementwise_layer};
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
    inner: Elementwise<MishFn>,
}

impl Mish {
    /// A Mish layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(MishFn),
        }
    }
}

impl Default for Mish {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct MishFn;

impl Pointwise for MishFn {
    fn name(&self) -> &'static str {
        "mish"
    }
    fn describe(&self) -> String {
        "Mish()".into()
    }
    fn saved(&self) -> Saved {
        Saved::Input
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        mish(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        mish_grad(x)
    }
}

elementwise_layer!(Mish);

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
