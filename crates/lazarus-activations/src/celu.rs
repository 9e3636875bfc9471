//! CELU: ELU reparametrized so that it is continuously differentiable for every alpha.

use lazarus_core::{Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::elu::{ScaledElu, elu_family_layer, scaled_elu, scaled_elu_grad};
use crate::kernels::Elementwise;
use crate::settings::{finite, invalid};

/// Continuously differentiable exponential linear unit, element-wise, as PyTorch's `nn.CELU`.
///
/// ```text
/// f(x)  = x if x > 0, else alpha · (e^(x/alpha) − 1)      (alpha defaults to 1.0)
/// f'(x) = 1 if x > 0, else e^(x/alpha)                    (at x = 0: 1, as in PyTorch)
/// ```
///
/// Output range `(−alpha, ∞)` for alpha > 0; unbounded above. Unlike ELU, the slope at 0 is 1
/// from both sides for every alpha, so there is no kink.
///
/// Negative inputs keep a smoothly fading gradient, as with [`Elu`](crate::Elu). Diagnostics
/// count x ≤ 0 as "negative". With alpha = 1 it is exactly ELU.
///
/// When to use: as ELU, when you want to tune alpha without creating a kink at 0.
///
/// Backward keeps the output: for x ≤ 0, y ≤ 0 for either sign of alpha, and the derivative
/// there is (y + alpha)/alpha.
///
/// ```
/// use lazarus_activations::Celu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut celu = Celu::default(); // alpha = 1.0: the same numbers as ELU
/// let y = celu.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.950213f32, -0.8646647, -0.6321205, 0.0, 1.0, 2.0, 3.0];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = celu.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.04978707f32, 0.1353353, 0.3678795, 1.0, 1.0, 1.0, 1.0];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "CELU")]
#[derive(Debug, Clone)]
pub struct Celu {
    f: ScaledElu,
    kernel: Elementwise,
}

impl Celu {
    /// A CELU with the given alpha (PyTorch's default: 1.0).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) if `alpha` is 0 (PyTorch
    /// divides by it) or not finite.
    pub fn new(alpha: f32) -> Result<Self> {
        let alpha = finite("celu", "alpha", alpha)?;
        if alpha == 0.0 {
            return Err(invalid("celu", "alpha", "must not be 0, found 0".into()));
        }
        // CELU as a member of the ELU family: the exponential's argument is divided by alpha.
        let f = ScaledElu {
            alpha,
            scale: 1.0,
            input_scale: 1.0 / alpha,
        };
        Ok(Self {
            f,
            kernel: Elementwise::new("celu"),
        })
    }

    /// The saturation value for x → −∞ is −alpha.
    pub fn alpha(&self) -> f32 {
        self.f.alpha
    }
}

impl Default for Celu {
    /// `alpha = 1.0`, PyTorch's default.
    fn default() -> Self {
        Self::new(1.0).expect("1.0 is finite and not 0")
    }
}

// forward: `y = celu(x, alpha)`; backward: `dL/dx = celu'(x) · dL/dy`, both the ELU family's
// (`ScaledElu::forward` and `ScaledElu::backward` in `elu.rs`), with input_scale = 1/alpha.
elu_family_layer!(Celu, "celu", |layer| format!(
    "CELU(alpha={:?})",
    layer.f.alpha
));

/// CELU: `x` if x > 0, else `alpha · (e^(x/alpha) − 1)`.
///
/// ```
/// use lazarus_activations::functional::celu;
/// assert!((celu(-1.0, 2.0) - (-0.7869387)).abs() < 1e-6);
/// ```
#[inline(always)]
pub fn celu(x: f32, alpha: f32) -> f32 {
    scaled_elu(x, alpha, 1.0, 1.0 / alpha)
}

/// dCELU/dx: 1 for x > 0, else `e^(x/alpha)`; at x = 0 it is 1 (PyTorch's convention, and the
/// limit from both sides).
///
/// ```
/// use lazarus_activations::functional::celu_grad;
/// assert_eq!(celu_grad(0.0, 2.0), 1.0);
/// ```
#[inline(always)]
pub fn celu_grad(x: f32, alpha: f32) -> f32 {
    scaled_elu_grad(x, alpha, 1.0, 1.0 / alpha)
}

/// Reference forward, in plain ndarray: `y = celu(x, alpha)` element by element.
pub fn celu_forward(x: TensorView<'_>, alpha: f32) -> Tensor {
    x.mapv(|x| celu(x, alpha))
}

/// Reference backward, in plain ndarray: `dL/dx = celu'(x) · dL/dy` element by element (the
/// layer evaluates celu' on its output, which agrees to 2e-7).
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn celu_backward(x: TensorView<'_>, grad_output: TensorView<'_>, alpha: f32) -> Result<Tensor> {
    chain_rule("celu", x, grad_output, |x| celu_grad(x, alpha))
}
