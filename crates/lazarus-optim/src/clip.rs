//! Gradient clipping: the practical cure for exploding gradients.

use lazarus_core::{Layer, sum_f64, sum_squares};

use crate::error::check;
use crate::{Error, Result};

/// Which vector norm [`clip_grad_norm`] and [`grad_norm`] measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormType {
    /// Σ|gᵢ| (PyTorch's `norm_type=1`).
    L1,
    /// √(Σgᵢ²), the usual choice (PyTorch's default `norm_type=2.0`).
    L2,
    /// maxᵢ |gᵢ| (PyTorch's `norm_type=float('inf')`).
    Inf,
    /// (Σ|gᵢ|ᵖ)^(1/p) for p > 0.
    P(f32),
}

impl std::fmt::Display for NormType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NormType::L1 => f.write_str("L1"),
            NormType::L2 => f.write_str("L2"),
            NormType::Inf => f.write_str("inf"),
            NormType::P(p) => write!(f, "L{p}"),
        }
    }
}

/// The norm of all of `model`'s parameter gradients taken together, as if concatenated into one
/// vector (not the norm of each tensor separately). Accumulated in f64.
///
/// Log it every step: a norm that grows by orders of magnitude is an exploding gradient
/// before the loss shows NaN.
///
/// # Errors
/// [`Error::InvalidHyperParameter`] for `NormType::P(p)` with `p <= 0` or non-finite.
///
/// ```
/// use lazarus_core::{Layer, Linear};
/// use lazarus_optim::{grad_norm, NormType};
/// use ndarray::array;
/// let mut layer = Linear::from_params(array![[0.0f32, 0.0]].into_dyn(), Some(array![0.0f32].into_dyn()))?;
/// layer.visit_params_mut(&mut |name, p| p.grad.fill(if name == "weight" { 3.0 } else { 4.0 }));
/// // √(3² + 3² + 4²) = √34
/// assert!((grad_norm(&layer, NormType::L2)? - 34f32.sqrt()).abs() < 1e-6);
/// assert_eq!(grad_norm(&layer, NormType::Inf)?, 4.0);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub fn grad_norm(model: &dyn Layer, norm_type: NormType) -> Result<f32> {
    if let NormType::P(p) = norm_type {
        check(
            p > 0.0 && p.is_finite(),
            "grad_norm",
            "norm_type",
            p.into(),
            "p > 0, finite",
        )?;
    }
    let mut acc = 0.0f64;
    model.visit_params(&mut |_, param| {
        let grads = param.grad.iter().map(|&g| f64::from(g).abs());
        let grad = param.grad.view();
        acc = match norm_type {
            NormType::L1 => acc + sum_f64(&grad, |g| f64::from(g).abs()),
            NormType::L2 => acc + sum_squares(&grad),
            // `max` ignores NaN: keep NaN visible, as PyTorch's norm does.
            NormType::Inf => grads.fold(acc, |m, g| {
                if g.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(g)
                }
            }),
            NormType::P(p) => acc + grads.map(|g| g.powf(p.into())).sum::<f64>(),
        };
    });
    let norm = match norm_type {
        NormType::L1 | NormType::Inf => acc,
        NormType::L2 => acc.sqrt(),
        NormType::P(p) => acc.powf(1.0 / f64::from(p)),
    };
    Ok(norm as f32)
}

/// Rescale all gradients together so that their total norm is at most `max_norm`, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_`; returns the total norm **before** clipping (log it).
///
/// ```text
/// n    = ‖(g₁, g₂, …)‖                      over every gradient of the model, as one vector
/// coef = min(max_norm / (n + 1e-6), 1)
/// gᵢ  ← coef · gᵢ                           every gradient, same factor: directions are kept
/// ```
///
/// Why: with ReLU networks (unbounded activations) and poor initialisation, one bad batch can
/// produce a gradient thousands of times the usual size, and one step along it wrecks the
/// weights (or kills many ReLUs at once). Clipping the norm keeps the direction and caps the
/// step length. Call it between `backward` and `optimizer.step`.
///
/// With `error_if_nonfinite`, a NaN or infinite total norm is an error and the gradients are
/// left unchanged; without it (PyTorch's default), the gradients are multiplied by the
/// resulting NaN or 0 factor, as PyTorch does.
///
/// # Errors
/// [`Error::NonFiniteNorm`] as above; [`Error::InvalidHyperParameter`] if `max_norm` is
/// negative or NaN, or `p <= 0`.
///
/// ```
/// use lazarus_core::{Layer, Param, ParamRole, Sequential, Tensor};
/// use lazarus_core::Linear;
/// use lazarus_optim::{clip_grad_norm, NormType};
/// use ndarray::array;
/// let mut layer = Linear::from_params(array![[0.0f32, 0.0]].into_dyn(), None)?;
/// layer.visit_params_mut(&mut |_, p| p.grad.assign(&array![[3.0f32, 4.0]].into_dyn()));
/// let before = clip_grad_norm(&mut layer, 1.0, NormType::L2, true)?;
/// assert_eq!(before, 5.0);
/// let mut g = Vec::new();
/// layer.visit_params(&mut |_, p| g.extend(p.grad.iter().copied()));
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub fn clip_grad_norm(
    model: &mut dyn Layer,
    max_norm: f32,
    norm_type: NormType,
    error_if_nonfinite: bool,
) -> Result<f32> {
    check_max_norm("clip_grad_norm", max_norm)?;
    let total = grad_norm(model, norm_type)?;
    if error_if_nonfinite && !total.is_finite() {
        return Err(Error::NonFiniteNorm {
            function: "clip_grad_norm",
            norm_type: norm_type.to_string(),
            norm: total,
        });
    }
    clip_grad_norm_with_total(model, max_norm, total)?;
    Ok(total)
}

/// [`clip_grad_norm`]'s rescaling, for a caller that has already measured the total norm
/// (e.g. a training loop that also logs each parameter's norm, and should not walk every
/// gradient twice). Returns the factor `coef` every gradient was multiplied by (1 when the
/// norm was within `max_norm`).
///
/// ```text
/// coef = min(max_norm / (total_norm + 1e-6), 1)      NaN when total_norm is NaN, as PyTorch
/// gᵢ  ← coef · gᵢ
/// ```
///
/// Given the total that [`grad_norm`] returns for the same `norm_type`, the gradients come out
/// bit for bit as [`clip_grad_norm`] leaves them. A NaN or infinite `total_norm` is applied as
/// PyTorch applies it (gradients times NaN, or times 0): check it first if you want an error.
///
/// # Errors
/// [`Error::InvalidHyperParameter`] if `max_norm` is negative or NaN, or `total_norm` is
/// negative (a norm never is).
///
/// ```
/// use lazarus_core::{Layer, Linear};
/// use lazarus_optim::{clip_grad_norm_with_total, grad_norm, NormType};
/// use ndarray::array;
/// let mut layer = Linear::from_params(array![[0.0f32, 0.0]].into_dyn(), None)?;
/// layer.visit_params_mut(&mut |_, p| p.grad.assign(&array![[3.0f32, 4.0]].into_dyn()));
/// let total = grad_norm(&layer, NormType::L2)?; // 5, measured once (and logged, say)
/// let coef = clip_grad_norm_with_total(&mut layer, 1.0, total)?;
/// assert!((coef - 0.2).abs() < 1e-6);
/// layer.visit_params(&mut |_, p| assert!((p.grad[[0, 1]] - 0.8).abs() < 1e-6));
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub fn clip_grad_norm_with_total(
    model: &mut dyn Layer,
    max_norm: f32,
    total_norm: f32,
) -> Result<f32> {
    check_max_norm("clip_grad_norm_with_total", max_norm)?;
    check(
        total_norm >= 0.0 || total_norm.is_nan(),
        "clip_grad_norm_with_total",
        "total_norm",
        total_norm.into(),
        "a norm: total_norm >= 0",
    )?;
    // In f32, as PyTorch computes it on the norm tensor; multiplied even when it is 1, as PyTorch.
    let coef = (max_norm / (total_norm + 1e-6)).min(1.0);
    let coef = if total_norm.is_nan() { f32::NAN } else { coef };
    model.visit_params_mut(&mut |_, p| p.grad.mapv_inplace(|g| g * coef));
    Ok(coef)
}

/// `max_norm >= 0` (NaN fails), for both clipping functions.
fn check_max_norm(function: &'static str, max_norm: f32) -> Result<()> {
    check(
        max_norm >= 0.0,
        function,
        "max_norm",
        max_norm.into(),
        "max_norm >= 0",
    )
}

/// Clamp every gradient element to `[−clip_value, clip_value]`, as PyTorch's
/// `torch.nn.utils.clip_grad_value_`.
///
/// Unlike [`clip_grad_norm`] this changes the gradient's direction (large components are cut,
/// small ones kept); prefer the norm unless you need a hard per-element bound.
///
/// # Errors
/// [`Error::InvalidHyperParameter`] if `clip_value` is negative or NaN.
///
/// ```
/// use lazarus_core::{Layer, Linear};
/// use lazarus_optim::clip_grad_value;
/// use ndarray::array;
/// let mut layer = Linear::from_params(array![[0.0f32, 0.0, 0.0]].into_dyn(), None)?;
/// layer.visit_params_mut(&mut |_, p| p.grad.assign(&array![[-5.0f32, 0.5, 2.0]].into_dyn()));
/// clip_grad_value(&mut layer, 1.0)?;
/// layer.visit_params(&mut |_, p| assert_eq!(p.grad, array![[-1.0f32, 0.5, 1.0]].into_dyn()));
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub fn clip_grad_value(model: &mut dyn Layer, clip_value: f32) -> Result<()> {
    check(
        clip_value >= 0.0,
        "clip_grad_value",
        "clip_value",
        clip_value.into(),
        "clip_value >= 0",
    )?;
    model.visit_params_mut(&mut |_, p| p.grad.mapv_inplace(|g| g.clamp(-clip_value, clip_value)));
    Ok(())
}
