//! Tanh: a zero-centred sigmoid.

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};

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
    kernel: Elementwise,
}

impl Tanh {
    /// A Tanh layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("tanh"),
        }
    }
}

impl Default for Tanh {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Tanh {
    fn name(&self) -> &str {
        "tanh"
    }

    fn describe(&self) -> String {
        "Tanh()".into()
    }

    /// `y = tanh(x)`. Training keeps y (as PyTorch does): tanh' = 1 − y² needs nothing else.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Output, tanh)
    }

    /// `dL/dx = tanh'(x) · dL/dy`, with tanh' written with the kept y: `1 − y²`.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, tanh_grad_from_output)
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        self.kernel.stats(tanh, NOT_SILENT)
    }
}

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

/// Reference forward, in plain ndarray: `y = tanh(x)` element by element.
pub fn tanh_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(tanh)
}

/// Reference backward, in plain ndarray: `dL/dx = (1 − tanh²(x)) · dL/dy` element by element.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn tanh_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("tanh", x, grad_output, tanh_grad)
}
