//! What `Linear` and `Conv2d` do alike with their parameters, a weight and an optional bias:
//! visit them under PyTorch's names and check their shapes.

use crate::{Param, Result};

/// `f("weight", weight)`, then `f("bias", bias)` if the layer has a bias: PyTorch's names and
/// order, the paths (`0.weight`, `0.bias`) that optimizers, checkpoints and `zero_grad` see.
pub(crate) fn visit(weight: &Param, bias: Option<&Param>, f: &mut dyn FnMut(&str, &Param)) {
    f("weight", weight);
    if let Some(b) = bias {
        f("bias", b);
    }
}

/// [`visit`], mutably.
pub(crate) fn visit_mut(
    weight: &mut Param,
    bias: Option<&mut Param>,
    f: &mut dyn FnMut(&str, &mut Param),
) {
    f("weight", weight);
    if let Some(b) = bias {
        f("bias", b);
    }
}

/// Check that the weight (values and gradients) still has `weight_shape`, `[out, ...]`, and the
/// bias `[out]`: both are public, so a user may have replaced them. `names` are what an error
/// calls them, e.g. `["linear weight", "linear bias"]`.
#[inline]
pub(crate) fn check(
    weight: &Param,
    bias: Option<&Param>,
    names: [&str; 2],
    weight_shape: &[usize],
) -> Result<()> {
    weight.check(names[0], weight_shape)?;
    match bias {
        Some(b) => b.check(names[1], &weight_shape[..1]),
        None => Ok(()),
    }
}
