//! Normalization layers: [`BatchNorm1d`]/[`BatchNorm2d`] (statistics of each channel over the
//! batch) and [`LayerNorm`] (statistics of each sample over its trailing axes).
//!
//! Each layer's file holds its formulas (forward, backward, running statistics) and a
//! plain-ndarray `forward_reference`/`backward_reference`; the passes that make them fast live
//! in `kernels/normalization.rs`. What they share is here: the affine transform `y = γ·x̂ + β`
//! and the checks of values a user can replace (parameters and buffers are public).

mod batch_norm;
mod layer_norm;
mod settings;

pub use batch_norm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use layer_norm::LayerNorm;

use crate::{Buffer, BufferKind, Error, Num, Param, ParamRole, Result, Tensor, try_zeros};

/// γ and β: `weight` ([`ParamRole::Scale`], init 1) and `bias` ([`ParamRole::Bias`], init 0),
/// one of each per normalized value (per channel for BatchNorm).
#[derive(Debug, Clone)]
struct Affine {
    weight: Param,
    bias: Param,
}

impl Affine {
    fn new(layer: &str, parameter: &str, shape: &[usize]) -> Result<Self> {
        let ones = try_zeros(layer, parameter, shape)?.mapv_into(|_: f32| 1.0);
        let zeros = try_zeros(layer, parameter, shape)?;
        Ok(Self {
            weight: Param::new(ones, ParamRole::Scale),
            bias: Param::new(zeros, ParamRole::Bias),
        })
    }

    /// γ and β as slices, once values and gradients are checked to still have `shape`.
    fn check(&self, layer: &str, shape: &[usize]) -> Result<(&[f32], &[f32])> {
        check_tensor(&self.weight.grad, layer, "a weight gradient", shape)?;
        check_tensor(&self.bias.grad, layer, "a bias gradient", shape)?;
        Ok((
            check_tensor(&self.weight.value, layer, "a weight", shape)?,
            check_tensor(&self.bias.value, layer, "a bias", shape)?,
        ))
    }

    /// `dL/dγ += Σ g·x̂` and `dL/dβ += Σ g` (gradients accumulate until `zero_grad`).
    fn add_grads(&mut self, sum_g_xhat: &[f64], sum_g: &[f64]) {
        for (grad, &s) in self.weight.grad.iter_mut().zip(sum_g_xhat) {
            *grad += s as f32;
        }
        for (grad, &s) in self.bias.grad.iter_mut().zip(sum_g) {
            *grad += s as f32;
        }
    }

    fn visit(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("weight", &self.weight);
        f("bias", &self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("weight", &mut self.weight);
        f("bias", &mut self.bias);
    }
}

/// What the plain-ndarray backward references return: dL/dx, and dL/dγ and dL/dβ when the
/// layer is affine.
type ReferenceGrads = (Tensor, Option<(Tensor, Tensor)>);

/// BatchNorm's buffers: the running estimates of each channel's mean and variance, and the
/// number of batches behind them (the update rule is in `batch_norm.rs`).
#[derive(Debug, Clone)]
struct RunningStats {
    mean: Buffer,
    var: Buffer,
    num_batches_tracked: Buffer,
}

impl RunningStats {
    /// Mean 0 and variance 1 for each of `channels`, no batch seen (PyTorch's initial values).
    fn new(layer: &str, channels: usize) -> Result<Self> {
        let filled = |value: f32| -> Result<Buffer> {
            let values = try_zeros(layer, "num_features", &[channels])?.mapv_into(|_| value);
            Ok(Buffer::new(values, BufferKind::Float))
        };
        Ok(Self {
            mean: filled(0.0)?,
            var: filled(1.0)?,
            num_batches_tracked: Buffer::new(Tensor::zeros(vec![]), BufferKind::Count),
        })
    }

    /// The mean and variance as slices, once all three buffers are checked to still have their
    /// shapes (`[channels]`, and 0-d for the count): a checkpoint or a user may replace them.
    fn check(&self, layer: &str, channels: usize) -> Result<(&[f32], &[f32])> {
        check_tensor(
            &self.num_batches_tracked.value,
            layer,
            "num_batches_tracked",
            &[],
        )?;
        Ok((
            check_tensor(&self.mean.value, layer, "running_mean", &[channels])?,
            check_tensor(&self.var.value, layer, "running_var", &[channels])?,
        ))
    }

    /// PyTorch's names, in its order.
    fn visit(&self, f: &mut dyn FnMut(&str, &Buffer)) {
        f("running_mean", &self.mean);
        f("running_var", &self.var);
        f("num_batches_tracked", &self.num_batches_tracked);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer)) {
        f("running_mean", &mut self.mean);
        f("running_var", &mut self.var);
        f("num_batches_tracked", &mut self.num_batches_tracked);
    }
}

/// γ and β as slices (`None` without affine), once checked to still have `shape` (they are
/// public).
fn affine_slices<'a>(
    affine: Option<&'a Affine>,
    layer: &str,
    shape: &[usize],
) -> Result<Option<(&'a [f32], &'a [f32])>> {
    affine.map(|a| a.check(layer, shape)).transpose()
}

/// `t` as a slice if it has `shape` in row-major layout, else a `ShapeMismatch` naming `what`.
fn check_tensor<'a>(t: &'a Tensor, layer: &str, what: &str, shape: &[usize]) -> Result<&'a [f32]> {
    match t.as_slice() {
        Some(values) if t.shape() == shape => Ok(values),
        _ => Err(shape_error(
            layer,
            format!("{what} of shape {shape:?}, row-major"),
            t.shape(),
        )),
    }
}

/// A [`Error::ShapeMismatch`] from `layer`: it expected `expected` and found `shape`.
fn shape_error(layer: &str, expected: String, shape: &[usize]) -> Error {
    let (layer, found) = (layer.to_string(), shape.to_vec());
    Error::ShapeMismatch {
        layer,
        expected,
        found,
    }
}

/// An [`Error::InvalidConfig`] for `layer`'s `parameter`.
fn invalid(layer: &str, parameter: &str, reason: &str) -> Error {
    let (layer, parameter, reason) = (layer.into(), parameter.into(), reason.into());
    Error::InvalidConfig {
        layer,
        parameter,
        reason,
    }
}

/// `eps`, if it is finite and positive (it keeps `√(σ² + ε)` away from 0).
fn check_eps(layer: &str, eps: f32) -> Result<f32> {
    if eps.is_finite() && eps > 0.0 {
        Ok(eps)
    } else {
        Err(invalid(
            layer,
            "eps",
            &format!("must be finite and > 0, found {}", Num(eps)),
        ))
    }
}

/// A float as Python prints it (`1e-05`, `0.1`, `1.0`), for PyTorch-style descriptions.
fn python_float(v: f32) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-4..1e16).contains(&a) {
        let sci = format!("{v:e}");
        let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` has an exponent");
        let exponent: i32 = exponent.parse().expect("`{:e}` prints an integer exponent");
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else if v.fract() == 0.0 && a.is_finite() {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_print_as_python_does() {
        let cases = [(1e-5, "1e-05"), (0.1, "0.1"), (1.0, "1.0"), (1e-3, "0.001")];
        for (v, text) in cases
            .into_iter()
            .chain([(2.5e-7, "2.5e-07"), (1e20, "1e+20")])
        {
            assert_eq!(python_float(v), text);
        }
    }
}
