//! SELU: ELU with constants chosen so that activations normalize themselves.

use lazarus_core::{Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::elu::{ScaledElu, elu_family_layer, scaled_elu, scaled_elu_grad};
use crate::kernels::Elementwise;

/// SELU's alpha (Klambauer et al. 2017), as in PyTorch.
pub const SELU_ALPHA: f32 = 1.673_263_2;
/// SELU's scale (Klambauer et al. 2017), as in PyTorch.
pub const SELU_SCALE: f32 = 1.050_701;

/// Scaled exponential linear unit, element-wise, as PyTorch's `nn.SELU`.
///
/// ```text
/// f(x)  = scale · x if x > 0, else scale · alpha · (eˣ − 1)
/// f'(x) = scale if x > 0, else scale · alpha · eˣ    (at x = 0: scale · alpha ≈ 1.7581, as in PyTorch)
/// alpha ≈ 1.6733, scale ≈ 1.0507 (fixed)
/// ```
///
/// Output range `(−scale · alpha, ∞) ≈ (−1.7581, ∞)`; unbounded above.
///
/// Negative inputs keep a gradient that fades smoothly (like [`Elu`](crate::Elu)); the constants
/// make zero mean and unit variance a fixed point of a layer, so deep plain MLPs stay normalized
/// without batch normalization. Diagnostics count x ≤ 0 as "negative".
///
/// When to use: deep fully connected networks with LeCun-normal init and no normalization
/// layers. Less useful with dropout (use alpha-dropout) or convolutions.
///
/// Backward keeps the output, as [`Elu`](crate::Elu) does: the derivative for y ≤ 0 is
/// y + scale · alpha.
///
/// ```
/// use lazarus_activations::Selu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut selu = Selu::new();
/// let y = selu.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-1.670569f32, -1.520167, -1.111331, 0.0, 1.050701, 2.101402, 3.152103];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = selu.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.08753061f32, 0.2379329, 0.6467686, 1.758099, 1.050701, 1.050701, 1.050701];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "SELU")]
#[derive(Debug, Clone)]
pub struct Selu {
    f: ScaledElu,
    kernel: Elementwise,
}

impl Selu {
    /// A SELU layer (it has no settings).
    pub fn new() -> Self {
        Self {
            f: SELU,
            kernel: Elementwise::new("selu"),
        }
    }
}

impl Default for Selu {
    fn default() -> Self {
        Self::new()
    }
}

/// SELU as a member of the ELU family: negative branch scaled by scale · alpha.
const SELU: ScaledElu = ScaledElu {
    alpha: SELU_ALPHA * SELU_SCALE,
    scale: SELU_SCALE,
    input_scale: 1.0,
};

// forward: `y = selu(x)`; backward: `dL/dx = selu'(x) · dL/dy`, both the ELU family's
// (`ScaledElu::forward` and `ScaledElu::backward` in `elu.rs`) with SELU's constants.
elu_family_layer!(Selu, "selu", |_layer| "SELU()".to_string());

/// SELU: `scale · x` if x > 0, else `scale · alpha · (eˣ − 1)`.
///
/// ```
/// use lazarus_activations::functional::selu;
/// assert!((selu(1.0) - 1.050701).abs() < 1e-6);
/// assert!((selu(-100.0) - (-1.7580993)).abs() < 1e-6);
/// ```
#[inline(always)]
pub fn selu(x: f32) -> f32 {
    scaled_elu(x, SELU_ALPHA * SELU_SCALE, SELU_SCALE, 1.0)
}

/// dSELU/dx: `scale` for x > 0, else `scale · alpha · eˣ`; at x = 0 it is scale · alpha ≈ 1.7581
/// (PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::selu_grad;
/// assert!((selu_grad(0.0) - 1.7580993).abs() < 1e-6);
/// ```
#[inline(always)]
pub fn selu_grad(x: f32) -> f32 {
    scaled_elu_grad(x, SELU_ALPHA * SELU_SCALE, SELU_SCALE, 1.0)
}

/// Reference forward, in plain ndarray: `y = selu(x)` element by element.
pub fn selu_forward(x: TensorView<'_>) -> Tensor {
    x.mapv(selu)
}

/// Reference backward, in plain ndarray: `dL/dx = selu'(x) · dL/dy` element by element (the
/// layer evaluates selu' on its output, which agrees to 2e-7).
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn selu_backward(x: TensorView<'_>, grad_output: TensorView<'_>) -> Result<Tensor> {
    chain_rule("selu", x, grad_output, selu_grad)
}
