//! `WeightAndBias`: the parameters of `Linear` and `Conv2d`, a weight and an optional bias.

use crate::{Param, Result};

/// A weight and an optional bias, visited under PyTorch's names: `"weight"`, then `"bias"`
/// (when there is one). The weight's first axis is the output (`[out, ...]`) and the bias has
/// one value per output, `[out]`, as in `nn.Linear` and `nn.Conv2d`.
#[derive(Debug, Clone)]
pub(crate) struct WeightAndBias {
    pub(crate) weight: Param,
    pub(crate) bias: Option<Param>,
}

impl WeightAndBias {
    /// `f("weight", W)`, then `f("bias", b)` if the layer has a bias.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("weight", &self.weight);
        if let Some(b) = &self.bias {
            f("bias", b);
        }
    }

    /// [`visit`](Self::visit), mutably.
    pub(crate) fn visit_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }

    /// Check that the weight (values and gradients) still has `weight_shape` and the bias
    /// `[weight_shape[0]]`: both are public, so a user may have replaced them. `names` are
    /// what an error calls them, e.g. `["linear weight", "linear bias"]`.
    #[inline]
    pub(crate) fn check(&self, names: [&str; 2], weight_shape: &[usize]) -> Result<()> {
        self.weight.check(names[0], weight_shape)?;
        match &self.bias {
            Some(b) => b.check(names[1], &weight_shape[..1]),
            None => Ok(()),
        }
    }
}
