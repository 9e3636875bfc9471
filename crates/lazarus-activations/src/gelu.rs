//! GELU: x weighted by the probability that a standard normal is below x.

use std::f32::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, SQRT_2};

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::erf::erf;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};

/// Which form of GELU to compute (PyTorch's `approximate='none' | 'tanh'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeluApproximate {
    /// The exact form with the error function (`approximate='none'`, the default).
    #[default]
    None,
    /// The tanh approximation of GPT-2 and BERT (`approximate='tanh'`).
    Tanh,
}

/// Gaussian error linear unit, element-wise, as PyTorch's `nn.GELU(approximate='none')`.
///
/// ```text
/// exact: f(x)  = x · Φ(x) = x/2 · (1 + erf(x/√2))
///        f'(x) = Φ(x) + x · φ(x),  φ(x) = e^(−x²/2)/√(2π)          (0.5 at 0; smooth)
/// tanh:  f(x)  = x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))
///        f'(x) = the derivative of that expression (as PyTorch computes it)
/// ```
///
/// Output range `[≈ −0.17, ∞)`: unbounded above, a small dip below zero, tending to 0 for
/// x → −∞.
///
/// Negative inputs keep a small gradient (briefly negative) that fades to 0 for very negative x;
/// it is not exactly zero for moderate inputs, so diagnostics report no dead region.
///
/// When to use: transformers (BERT, GPT) and many modern MLPs. The tanh form was faster on old
/// hardware and is kept for checkpoints trained with it.
///
/// ```
/// use lazarus_activations::{Gelu, GeluApproximate};
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Gelu::new(GeluApproximate::None);
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.004049867f32, -0.0455001, -0.1586553, 0.0, 0.8413447, 1.9545, 2.99595];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [-0.01194561f32, -0.08523187, -0.08331543, 0.5, 1.083315, 1.085232, 1.011946];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
///
/// let mut layer = Gelu::new(GeluApproximate::Tanh);
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [-0.003637433f32, -0.04540229, -0.158808, 0.0, 0.841192, 1.954598, 2.996363];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [-0.0115843f32, -0.08609922, -0.08296409, 0.5, 1.082964, 1.086099, 1.011584];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "GELU")]
#[derive(Debug, Clone)]
pub struct Gelu {
    approximate: GeluApproximate,
    kernel: Elementwise,
}

impl Gelu {
    /// A GELU layer of the given form.
    pub fn new(approximate: GeluApproximate) -> Self {
        let name = match approximate {
            GeluApproximate::None => "gelu",
            GeluApproximate::Tanh => "gelu_tanh",
        };
        Self {
            approximate,
            kernel: Elementwise::new(name),
        }
    }

    /// Which form it computes.
    pub fn approximate(&self) -> GeluApproximate {
        self.approximate
    }
}

impl Default for Gelu {
    /// The exact form, PyTorch's default.
    fn default() -> Self {
        Self::new(GeluApproximate::None)
    }
}

impl Layer for Gelu {
    fn name(&self) -> &str {
        match self.approximate {
            GeluApproximate::None => "gelu",
            GeluApproximate::Tanh => "gelu_tanh",
        }
    }

    fn describe(&self) -> String {
        match self.approximate {
            GeluApproximate::None => "GELU(approximate='none')".into(),
            GeluApproximate::Tanh => "GELU(approximate='tanh')".into(),
        }
    }

    /// `y = gelu(x)` or `gelu_tanh(x)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        match self.approximate {
            GeluApproximate::None => self.kernel.forward(x, mode, Keep::Input, gelu),
            GeluApproximate::Tanh => self.kernel.forward(x, mode, Keep::Input, gelu_tanh),
        }
    }

    /// `dL/dx = gelu'(x) · dL/dy` (or the tanh form's derivative).
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        match self.approximate {
            GeluApproximate::None => self.kernel.backward(grad_output, gelu_grad),
            GeluApproximate::Tanh => self.kernel.backward(grad_output, gelu_tanh_grad),
        }
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        match self.approximate {
            GeluApproximate::None => self.kernel.stats(gelu, NOT_SILENT),
            GeluApproximate::Tanh => self.kernel.stats(gelu_tanh, NOT_SILENT),
        }
    }
}

/// Φ(x), the standard normal CDF, as PyTorch computes it in f32: `0.5 · (1 + erf(x/√2))`.
#[inline(always)]
fn normal_cdf(x: f32) -> f32 {
    let erf_value = erf(f64::from(x * FRAC_1_SQRT_2)) as f32;
    0.5 * (1.0 + erf_value)
}

/// Exact GELU: `x · Φ(x) = x/2 · (1 + erf(x/√2))`.
///
/// ```
/// use lazarus_activations::functional::gelu;
/// assert!((gelu(1.0) - 0.8413447).abs() < 1e-6);
/// assert_eq!(gelu(-100.0), 0.0);
/// ```
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    // PyTorch writes x · 0.5 · (1 + erf(x/√2)); halving is exact, so this is the same number.
    x * normal_cdf(x)
}

/// Derivative of the exact GELU: `Φ(x) + x · φ(x)`.
///
/// ```
/// use lazarus_activations::functional::gelu_grad;
/// assert_eq!(gelu_grad(0.0), 0.5);
/// ```
#[inline(always)]
pub fn gelu_grad(x: f32) -> f32 {
    // 1/√(2π), written as PyTorch does.
    let beta = FRAC_2_SQRT_PI * FRAC_1_SQRT_2 * 0.5;
    let pdf = beta * (x * x * -0.5).exp();
    normal_cdf(x) + x * pdf
}

/// √(2/π) and the cubic coefficient of the tanh approximation.
const TANH_BETA: f32 = SQRT_2 * FRAC_2_SQRT_PI * 0.5;
const TANH_KAPPA: f32 = 0.044715;

/// GELU, tanh approximation: `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`.
///
/// ```
/// use lazarus_activations::functional::gelu_tanh;
/// assert!((gelu_tanh(1.0) - 0.841192).abs() < 1e-6);
/// ```
#[inline(always)]
pub fn gelu_tanh(x: f32) -> f32 {
    let inner = TANH_BETA * (x + TANH_KAPPA * (x * x * x));
    0.5 * x * (1.0 + inner.tanh())
}

/// Derivative of the tanh-approximated GELU, term by term as PyTorch computes it:
/// `½(1 + t) + ½x · (1 − t²) · √(2/π)(1 + 3 · 0.044715 x²)`, `t = tanh(√(2/π)(x + 0.044715 x³))`.
///
/// ```
/// use lazarus_activations::functional::gelu_tanh_grad;
/// assert_eq!(gelu_tanh_grad(0.0), 0.5);
/// ```
#[inline(always)]
pub fn gelu_tanh_grad(x: f32) -> f32 {
    let x_sq = x * x;
    let inner = TANH_BETA * (x + TANH_KAPPA * (x_sq * x));
    let t = inner.tanh();
    let left_derivative = 0.5 * (1.0 + t);
    let sech_sq = 1.0 - t * t;
    let right_derivative = 0.5 * x * sech_sq * TANH_BETA * (1.0 + 3.0 * TANH_KAPPA * x_sq);
    // Where tanh has saturated, the second term is exactly 0; written as a select so that
    // |x| ≳ 1e13 (where x² overflows) gives 0, not 0 · ∞ = NaN as in PyTorch.
    left_derivative
        + if sech_sq == 0.0 {
            0.0
        } else {
            right_derivative
        }
}

/// Reference forward, in plain ndarray: `y = gelu(x)` (or `gelu_tanh(x)`) element by element.
pub fn gelu_forward(x: TensorView<'_>, approximate: GeluApproximate) -> Tensor {
    match approximate {
        GeluApproximate::None => x.mapv(gelu),
        GeluApproximate::Tanh => x.mapv(gelu_tanh),
    }
}

/// Reference backward, in plain ndarray: `dL/dx = gelu'(x) · dL/dy` element by element (or
/// the tanh form's derivative).
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn gelu_backward(
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    approximate: GeluApproximate,
) -> Result<Tensor> {
    match approximate {
        GeluApproximate::None => chain_rule("gelu", x, grad_output, gelu_grad),
        GeluApproximate::Tanh => chain_rule("gelu_tanh", x, grad_output, gelu_tanh_grad),
    }
}
