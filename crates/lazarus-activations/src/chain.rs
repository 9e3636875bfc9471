//! The chain rule for an element-wise activation: dL/dx = f'(x) · dL/dy, element by element.

use lazarus_core::{Result, Tensor, TensorView, expect_shape};
use ndarray::Zip;

/// The chain rule for one element: local derivative × upstream gradient.
///
/// A local derivative of exactly 0 stops the gradient outright (gives 0, not 0 · ∞ = NaN when the
/// upstream gradient has overflowed), as PyTorch's masks do. A select, not a branch.
#[inline(always)]
pub(crate) fn chain(local: f32, upstream: f32) -> f32 {
    if local == 0.0 { 0.0 } else { local * upstream }
}

/// The reference backward of an element-wise activation in plain ndarray:
/// `dL/dx[i] = derivative(x[i]) · dL/dy[i]`.
///
/// # Errors
/// `ShapeMismatch` naming `layer` when `grad_output`'s shape is not `x`'s.
pub(crate) fn chain_rule(
    layer: &str,
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    derivative: impl Fn(f32) -> f32,
) -> Result<Tensor> {
    expect_shape(layer, x.shape(), grad_output.shape())?;
    Ok(Zip::from(&x)
        .and(&grad_output)
        .map_collect(|&x, &g| chain(derivative(x), g)))
}
