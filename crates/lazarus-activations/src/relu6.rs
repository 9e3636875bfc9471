//! ReLU6: ReLU capped at 6, the bounded answer to ReLU's unbounded output.

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::hardtanh::{hardtanh, hardtanh_grad};
use crate::kernels::{Elementwise, Keep};

/// ReLU capped at 6, element-wise, as PyTorch's `nn.ReLU6` (which is `hardtanh(x, 0, 6)`).
///
/// ```text
/// f(x)  = min(max(0, x), 6)
/// f'(x) = 1 if 0 < x < 6, else 0       (0 at both x = 0 and x = 6, as in PyTorch)
/// ```
///
/// Output range `[0, 6]`: bounded, so a unit's output cannot grow without limit (the
/// article's unbounded-output problem), which also suits low-precision arithmetic.
///
/// Gradients are exactly 0 for x ≤ 0 (like ReLU: units can die) *and* for x ≥ 6 (saturated
/// units stop learning too). Diagnostics count both as *silent*, with a zero derivative: a unit
/// silent on every input is dead (definition: [`ActivationStats`]).
///
/// When to use: mobile CNNs (MobileNet) and quantized models; when activations blow up.
///
/// ```
/// use lazarus_activations::Relu6;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Relu6::new();
/// let y = layer.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?;
/// assert_eq!(dx.as_slice().unwrap(), &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "ReLU6")]
#[derive(Debug, Clone)]
pub struct Relu6 {
    kernel: Elementwise,
}

impl Relu6 {
    /// A ReLU6 layer.
    pub fn new() -> Self {
        Self {
            kernel: Elementwise::new("relu6"),
        }
    }
}

impl Default for Relu6 {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer for Relu6 {
    fn name(&self) -> &str {
        "relu6"
    }

    fn describe(&self) -> String {
        "ReLU6()".into()
    }

    /// `y = relu6(x)`. Training keeps y: the clamp is exact, so 0 < y < 6 exactly when
    /// 0 < x < 6, and `relu6_grad(y) = relu6_grad(x)`.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.kernel.forward(x, mode, Keep::Output, relu6)
    }

    /// `dL/dx = relu6'(x) · dL/dy`, with the derivative evaluated on the kept y.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward(grad_output, relu6_grad)
    }

    /// Counts, per unit, the silent inputs, where the derivative is 0 (y ≤ 0 or y ≥ 6).
    fn activation_stats(&self) -> Option<ActivationStats> {
        let silent = SilentRegion::zero_derivative(|y: f32| y <= 0.0 || y >= 6.0);
        self.kernel.stats(|y| y, Some(silent))
    }
}

/// ReLU6: `min(max(0, x), 6)`.
///
/// ```
/// use lazarus_activations::functional::relu6;
/// assert_eq!([-1.0f32, 3.0, 7.0].map(relu6), [0.0, 3.0, 6.0]);
/// ```
#[inline(always)]
pub fn relu6(x: f32) -> f32 {
    hardtanh(x, 0.0, 6.0)
}

/// dReLU6/dx: 1 for 0 < x < 6, else 0 (0 at both kinks, PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::relu6_grad;
/// assert_eq!([0.0f32, 3.0, 6.0].map(relu6_grad), [0.0, 1.0, 0.0]);
/// ```
#[inline(always)]
pub fn relu6_grad(x: f32) -> f32 {
    hardtanh_grad(x, 0.0, 6.0)
}

/// Reference forward, in plain ndarray: `y = relu6(x)` element by element.
pub fn relu6_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(relu6)
}

/// Reference backward, in plain ndarray: `dL/dx = dL/dy` for 0 < x < 6, else 0.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn relu6_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("relu6", x, grad_output, relu6_grad)
}
