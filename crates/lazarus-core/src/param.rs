//! `Param`: a trainable tensor, its gradient, and its role.

use crate::{Error, Result, Tensor};

/// What a parameter is for. Optimizers choose defaults by role: weight decay, for instance,
/// applies to [`ParamRole::Weight`] only unless a parameter group says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamRole {
    /// A weight matrix or kernel (Linear's `weight`). Decayed by default.
    Weight,
    /// An additive bias (Linear's `bias`). Not decayed: decaying biases buys nothing.
    Bias,
    /// A learned activation slope: PReLU's α, visited under PyTorch's name for it, `weight`
    /// (`1.weight`), so code that looks for slopes asks for this role, not for a name. Not
    /// decayed: decay pulls the slope to 0, which turns PReLU back into ReLU (He et al. 2015;
    /// PyTorch's PReLU docs).
    Slope,
    /// A learned scale (a normalization layer's `weight`). Not decayed.
    Scale,
}

/// A trainable tensor with its gradient.
///
/// `grad` always has `value`'s shape. Backward passes *add* into `grad` (so two backward calls
/// double it, as in PyTorch); [`Param::zero_grad`] resets it.
///
/// ```
/// use lazarus_core::{Param, ParamRole, Tensor};
/// let mut w = Param::new(Tensor::ones(vec![2, 3]), ParamRole::Weight);
/// w.grad.fill(0.5);
/// w.zero_grad();
/// assert!(w.grad.iter().all(|&g| g == 0.0));
/// assert_eq!(w.len(), 6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The current value.
    pub value: Tensor,
    /// dLoss/dvalue, accumulated since the last `zero_grad`.
    pub grad: Tensor,
    role: ParamRole,
}

impl Param {
    /// A parameter with the given value and role, and a zero gradient.
    pub fn new(value: Tensor, role: ParamRole) -> Self {
        let grad = Tensor::zeros(value.raw_dim());
        Self { value, grad, role }
    }

    /// The parameter's role.
    pub fn role(&self) -> ParamRole {
        self.role
    }

    /// Set the gradient to zero, keeping its allocation. A large gradient is cleared in
    /// parallel pieces, the row blocks each thread also computes and updates.
    pub fn zero_grad(&mut self) {
        crate::kernels::fill_zero(&mut self.grad);
    }

    /// Number of scalar values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the parameter holds no values.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Check that `value` and `grad` both have shape `expected` in standard (row-major,
    /// contiguous) layout, as the layer `owner` needs them.
    ///
    /// Layers call this before using a parameter: `value` and `grad` are public fields, so a
    /// user may have replaced them with tensors of another shape.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming `owner`, the expected shape and the shape found.
    pub fn check(&self, owner: &str, expected: &[usize]) -> Result<()> {
        for (what, tensor) in [("value", &self.value), ("gradient", &self.grad)] {
            if tensor.shape() != expected || !tensor.is_standard_layout() {
                return Err(Error::ShapeMismatch {
                    layer: owner.to_string(),
                    expected: format!("a parameter {what} of shape {expected:?}, row-major"),
                    found: tensor.shape().to_vec(),
                });
            }
        }
        Ok(())
    }
}
