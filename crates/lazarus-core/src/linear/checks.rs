//! `Linear`'s shape checks: every tensor it is handed or holds is checked before a matrix
//! product sees it (ndarray's products panic on a mismatch; a layer returns a typed error).
//! Each is `#[inline]`, so that `linear.rs` can still inline these few comparisons from
//! another codegen unit.

use ndarray::{ArrayView2, Ix2};

use super::Linear;
use crate::{Error, Result, Tensor, TensorView, as_matrix, weight_and_bias};

impl Linear {
    /// G = `grad_output` as a matrix, checked against the last training-mode forward.
    #[inline]
    pub(super) fn start_backward<'g>(
        &self,
        grad_output: TensorView<'g>,
    ) -> Result<ArrayView2<'g, f32>> {
        if !self.has_input {
            return Err(Error::BackwardBeforeForward {
                layer: "linear".into(),
            });
        }
        self.grad_matrix(grad_output, self.input.nrows())
    }

    /// `g` as a `[batch, out_features]` matrix, once the parameters are checked too.
    #[inline]
    pub(super) fn grad_matrix<'g>(
        &self,
        g: TensorView<'g>,
        batch: usize,
    ) -> Result<ArrayView2<'g, f32>> {
        self.check_params()?;
        let expected = [batch, self.out_features];
        if g.shape() != expected {
            return Err(Error::ShapeMismatch {
                layer: "linear".into(),
                expected: format!("a gradient of shape {expected:?}"),
                found: g.shape().to_vec(),
            });
        }
        as_matrix(g, "linear", None)
    }

    /// Check that the weight and bias (values and gradients) still have this layer's shapes.
    #[inline]
    pub(super) fn check_params(&self) -> Result<()> {
        let shape = [self.out_features, self.in_features];
        let names = ["linear weight", "linear bias"];
        weight_and_bias::check(&self.weight, self.bias.as_ref(), names, &shape)
    }
}

/// A parameter known to be 2-D (checked by `check_params`) as a matrix.
#[inline]
pub(super) fn matrix(t: &Tensor) -> ArrayView2<'_, f32> {
    t.view()
        .into_dimensionality::<Ix2>()
        .expect("the weight is 2-D by construction")
}
