//! Tanh: a zero-centred sigmoid.

use crate::elementwise::{Elementwise, Pointwise, Saved, elementwise_layer};

/// Hyperbolic tangent, element-wise, as PyTorch's `nn.Tanh`.
///
/// ```text
/// f(x)  = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)
/// f'(x) = 1 − f(x)²                  (1 at 0; no kink)
/// ```
///
/// Output range `(−1, 1)`: bounded and zero-centred. Gradients vanish for large |x| (saturation)
/// but never become exactly zero for moderate inputs; diagnostics report no dead region.
///
/// When to use: recurrent cells, small networks and outputs in (−1, 1). A user once cured NaNs
/// from exploding ReLU activations by switching to tanh: boundedness helps, at the price of
/// vanishing gradients in deep stacks.
///
/// Backward keeps the output (as PyTorch does): f' = 1 − y².
///
/// ```
/// use lazarus_activations::Tanh;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Tanh::new();
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.9950548f32, -0.9640276, -0.7615942, 0.0, 0.7615942, 0.9640276, 0.9950548];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.009865982f32, 0.07065082, 0.4199743, 1.0, 0.4199743, 0.07065082, 0.009865982];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tanh {
    inner: Elementwise<TanhFn>,
}

impl Tanh {
    /// A tanh layer.
    pub fn new() -> Self {
        Self {
            inner: Elementwise::new(TanhFn),
        }
    }
}

impl Default for Tanh {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy)]
struct TanhFn;

impl Pointwise for TanhFn {
    fn name(&self) -> &'static str {
        "tanh"
    }
    fn describe(&self) -> String {
        "Tanh()".into()
    }
    fn saved(&self) -> Saved {
        Saved::Output
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        tanh(x)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        tanh_grad(x)
    }
    #[inline(always)]
    fn derivative_from_output(&self, y: f32) -> f32 {
        tanh_grad_from_output(y)
    }
}

elementwise_layer!(Tanh);

/// tanh(x).
///
/// ```
/// use lazarus_activations::functional::tanh;
/// assert_eq!(tanh(0.0), 0.0);
/// assert_eq!(tanh(100.0), 1.0);
/// ```
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    x.tanh()
}

/// d tanh/dx = 1 − tanh²(x).
///
/// ```
/// use lazarus_activations::functional::tanh_grad;
/// assert_eq!(tanh_grad(0.0), 1.0);
/// ```
#[inline(always)]
pub fn tanh_grad(x: f32) -> f32 {
    tanh_grad_from_output(tanh(x))
}

/// d tanh/dx written with the output y = tanh(x): `1 − y²` (what [`Tanh`] uses in backward).
///
/// ```
/// use lazarus_activations::functional::tanh_grad_from_output;
/// assert_eq!(tanh_grad_from_output(0.5), 0.75);
/// ```
#[inline(always)]
pub fn tanh_grad_from_output(y: f32) -> f32 {
    1.0 - y * y
}
