//! ELU, the smooth cure: an exponential negative side that saturates at −alpha.
//!
//! SELU and CELU are the same function with other constants (PyTorch implements all three with
//! one function, `elu(x, alpha, scale, input_scale)`); [`ScaledElu`] is that function here, with
//! the forward and backward that [`Elu`], [`Selu`](crate::Selu) and [`Celu`](crate::Celu) share.

use lazarus_core::{ActivationStats, Mode, Result, SilentRegion, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, fast_exp};
use crate::settings::finite;

/// Exponential linear unit, element-wise, as PyTorch's `nn.ELU`.
///
/// ```text
/// f(x)  = x if x > 0, else alpha · (eˣ − 1)          (alpha defaults to 1.0)
/// f'(x) = 1 if x > 0, else alpha · eˣ                (at x = 0: alpha, as in PyTorch)
/// ```
///
/// Output range `(−alpha, ∞)`: unbounded above, and for x → −∞ it saturates smoothly at −alpha.
///
/// Negative inputs keep a gradient `alpha · eˣ`: large near 0, fading for very negative x (a unit
/// deep in the negative region learns slowly, but the gradient is never exactly zero for finite
/// x). Negative outputs pull the mean activation towards zero, which reduces the "bias shift"
/// of the next layer and often speeds up convergence. Diagnostics count x ≤ 0 as "negative".
///
/// When to use: dead units or slow convergence with ReLU, when a smooth curve helps (ELU is
/// differentiable at 0 for alpha = 1). It costs an exponential per negative input; lazarus uses
/// a vectorized `expm1` (relative error ≤ 2.5e-7) so it stays close to ReLU's speed.
///
/// Backward keeps the output when alpha ≥ 0: then y ≤ 0 exactly when x ≤ 0, and for x ≤ 0,
/// alpha · eˣ = y + alpha, so the derivative is `y + alpha` there (PyTorch's formula for its
/// in-place ELU, [`elu_grad_from_output`]). Near x → −∞ this loses relative accuracy (y + alpha
/// cancels) but stays within 1e-7 · alpha in absolute terms. For alpha < 0 the input is kept.
///
/// ```
/// use lazarus_activations::Elu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut elu = Elu::default(); // alpha = 1.0
/// let y = elu.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.950213f32, -0.8646647, -0.6321205, 0.0, 1.0, 2.0, 3.0];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = elu.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.04978707f32, 0.1353353, 0.3678795, 1.0, 1.0, 1.0, 1.0];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "ELU")]
#[derive(Debug, Clone)]
pub struct Elu {
    f: ScaledElu,
    kernel: Elementwise,
}

impl Elu {
    /// An ELU with the given alpha (PyTorch's default: 1.0).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) if `alpha` is not finite.
    pub fn new(alpha: f32) -> Result<Self> {
        Ok(Self {
            f: ScaledElu::elu(finite("elu", "alpha", alpha)?),
            kernel: Elementwise::new("elu"),
        })
    }

    /// The saturation value for x → −∞ is −alpha.
    pub fn alpha(&self) -> f32 {
        self.f.alpha
    }
}

impl Default for Elu {
    /// `alpha = 1.0`, PyTorch's default.
    fn default() -> Self {
        Self::new(1.0).expect("1.0 is finite")
    }
}

// forward: `y = elu(x, alpha)`; backward: `dL/dx = elu'(x) · dL/dy`: the family's
// `ScaledElu::forward` and `ScaledElu::backward` below, with scale = input_scale = 1.
elu_family_layer!(Elu, "elu", |layer| format!(
    "ELU(alpha={:?})",
    layer.f.alpha
));

/// `Layer` for a member of the ELU family, a struct with fields `f: ScaledElu` and
/// `kernel: Elementwise`: its name and description, and the family's forward, backward and
/// statistics, written once below in `ScaledElu::forward`, `ScaledElu::backward` and
/// `ScaledElu::stats`.
macro_rules! elu_family_layer {
    ($layer:ident, $name:literal, |$it:ident| $describe:expr) => {
        impl lazarus_core::Layer for $layer {
            fn name(&self) -> &str {
                $name
            }

            fn describe(&self) -> String {
                let $it = self;
                $describe
            }

            fn forward(
                &mut self,
                x: lazarus_core::TensorView<'_>,
                mode: lazarus_core::Mode,
            ) -> lazarus_core::Result<lazarus_core::TensorView<'_>> {
                self.f.forward(&mut self.kernel, x, mode)
            }

            fn backward(
                &mut self,
                grad_output: lazarus_core::TensorView<'_>,
            ) -> lazarus_core::Result<lazarus_core::TensorView<'_>> {
                self.f.backward(&mut self.kernel, grad_output)
            }

            fn activation_stats(&self) -> Option<lazarus_core::ActivationStats> {
                self.f.stats(&self.kernel)
            }
        }
    };
}
pub(crate) use elu_family_layer;

/// `f(x) = scale · x` for x > 0, else `alpha · (e^(input_scale · x) − 1)`: ELU (scale = 1,
/// input_scale = 1), SELU (fixed constants), CELU (input_scale = 1/alpha). PyTorch's names for the
/// three constants are `poscoef`, `negcoef` and `negiptcoef`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaledElu {
    /// Multiplies the negative branch (for SELU this is alpha · scale).
    pub(crate) alpha: f32,
    /// Multiplies the positive branch.
    pub(crate) scale: f32,
    /// Multiplies x inside the exponential.
    pub(crate) input_scale: f32,
}

impl ScaledElu {
    pub(crate) fn elu(alpha: f32) -> Self {
        Self {
            alpha,
            scale: 1.0,
            input_scale: 1.0,
        }
    }

    /// What forward keeps. For x ≤ 0, y = alpha·expm1(input_scale·x) has the sign of
    /// −alpha·input_scale, so when alpha·input_scale ≥ 0, y ≤ 0 exactly when x ≤ 0 (and x > 0
    /// gives y = scale·x > 0): y tells the branch, and on the negative branch the derivative is
    /// input_scale·(y + alpha). Otherwise x is kept.
    fn keep(self) -> Keep {
        if self.alpha * self.input_scale >= 0.0 {
            Keep::Output
        } else {
            Keep::Input
        }
    }

    /// `y = scaled_elu(x)`, keeping y or x (see `keep`).
    pub(crate) fn forward<'a>(
        self,
        kernel: &'a mut Elementwise,
        x: TensorView<'_>,
        mode: Mode,
    ) -> Result<TensorView<'a>> {
        kernel.forward(x, mode, self.keep(), move |x| self.value(x))
    }

    /// `dL/dx = f'(x) · dL/dy`, f' written with the kept y or x.
    pub(crate) fn backward<'a>(
        self,
        kernel: &'a mut Elementwise,
        grad_output: TensorView<'_>,
    ) -> Result<TensorView<'a>> {
        match self.keep() {
            Keep::Output => kernel.backward(grad_output, move |y| self.grad_from_output(y)),
            Keep::Input => kernel.backward(grad_output, move |x| self.grad(x)),
        }
    }

    /// Counts, per unit, the inputs on the negative side (x ≤ 0, equivalently y ≤ 0 when y is
    /// kept).
    pub(crate) fn stats(self, kernel: &Elementwise) -> Option<ActivationStats> {
        // The derivative there is scale · alpha · input_scale · e^(input_scale · x): exactly 0
        // only when a constant is (ELU with alpha = 0 is a ReLU).
        let silent = SilentRegion {
            contains: |kept: f32| kept <= 0.0,
            derivative_zero: self.alpha * self.scale * self.input_scale == 0.0,
        };
        kernel.stats(move |x| self.value(x), Some(silent))
    }

    /// [`scaled_elu`] with these constants.
    #[inline(always)]
    fn value(self, x: f32) -> f32 {
        scaled_elu(x, self.alpha, self.scale, self.input_scale)
    }

    /// [`scaled_elu_grad`] with these constants: receives x.
    #[inline(always)]
    fn grad(self, x: f32) -> f32 {
        scaled_elu_grad(x, self.alpha, self.scale, self.input_scale)
    }

    /// [`scaled_elu_grad_from_output`] with these constants: receives y.
    #[inline(always)]
    fn grad_from_output(self, y: f32) -> f32 {
        scaled_elu_grad_from_output(y, self.alpha, self.scale, self.input_scale)
    }
}

/// The ELU family's function (see [`ScaledElu`]), PyTorch's `elu(x, alpha, scale, input_scale)`.
#[inline(always)]
pub(crate) fn scaled_elu(x: f32, alpha: f32, scale: f32, input_scale: f32) -> f32 {
    // Exponentiate min(x, 0) only: both branches are computed (a select, not a jump), and the
    // unused one must not overflow for large positive x.
    let non_positive = if x < 0.0 { x } else { 0.0 };
    let negative_branch = fast_exp::expm1(non_positive * input_scale) * alpha;
    if x <= 0.0 { negative_branch } else { x * scale }
}

/// The ELU family's derivative from the input: `scale` for x > 0, else
/// `alpha · input_scale · e^(input_scale · x)` (the x ≤ 0 branch at x = 0, as in PyTorch).
#[inline(always)]
pub(crate) fn scaled_elu_grad(x: f32, alpha: f32, scale: f32, input_scale: f32) -> f32 {
    let non_positive = if x < 0.0 { x } else { 0.0 };
    let negative_branch = input_scale * alpha * fast_exp::exp(non_positive * input_scale);
    if x <= 0.0 { negative_branch } else { scale }
}

/// The same derivative written with the output y (valid when alpha · input_scale ≥ 0):
/// `scale` for y > 0, else `input_scale · (y + alpha)`.
#[inline(always)]
pub(crate) fn scaled_elu_grad_from_output(y: f32, alpha: f32, scale: f32, input_scale: f32) -> f32 {
    if y <= 0.0 {
        input_scale * (y + alpha)
    } else {
        scale
    }
}

/// ELU: `x` if x > 0, else `alpha · (eˣ − 1)`.
///
/// ```
/// use lazarus_activations::functional::elu;
/// assert_eq!(elu(2.0, 1.0), 2.0);
/// assert!((elu(-1.0, 1.0) - (-0.6321205)).abs() < 1e-6);
/// assert_eq!(elu(-100.0, 1.0), -1.0); // saturates at −alpha, no overflow
/// ```
#[inline(always)]
pub fn elu(x: f32, alpha: f32) -> f32 {
    scaled_elu(x, alpha, 1.0, 1.0)
}

/// dELU/dx: 1 for x > 0, else `alpha · eˣ`; at x = 0 it is alpha (PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::elu_grad;
/// assert_eq!(elu_grad(0.0, 0.5), 0.5);
/// assert_eq!(elu_grad(3.0, 0.5), 1.0);
/// ```
#[inline(always)]
pub fn elu_grad(x: f32, alpha: f32) -> f32 {
    scaled_elu_grad(x, alpha, 1.0, 1.0)
}

/// dELU/dx written with the output `y = elu(x, alpha)`: 1 for y > 0, else `y + alpha`.
/// Valid for alpha ≥ 0 (then y > 0 exactly when x > 0); what [`Elu`] uses in backward.
///
/// ```
/// use lazarus_activations::functional::{elu, elu_grad, elu_grad_from_output};
/// let x = -0.7;
/// assert!((elu_grad_from_output(elu(x, 1.0), 1.0) - elu_grad(x, 1.0)).abs() < 1e-7);
/// ```
#[inline(always)]
pub fn elu_grad_from_output(y: f32, alpha: f32) -> f32 {
    scaled_elu_grad_from_output(y, alpha, 1.0, 1.0)
}

/// Reference forward, in plain ndarray: `y = elu(x, alpha)` element by element.
pub fn elu_forward(x: TensorView<'_>, alpha: f32) -> Tensor {
    x.mapv(|x| elu(x, alpha))
}

/// Reference backward, in plain ndarray: `dL/dx = elu'(x) · dL/dy` element by element, with
/// elu' evaluated on the input (the layer evaluates it on its output when alpha ≥ 0, which
/// agrees to 1e-7 · alpha).
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn elu_backward(x: TensorView<'_>, grad_output: TensorView<'_>, alpha: f32) -> Result<Tensor> {
    chain_rule("elu", x, grad_output, |x| elu_grad(x, alpha))
}
