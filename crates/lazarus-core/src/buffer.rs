//! `Buffer`: state a layer keeps that is not trained, such as BatchNorm's running statistics.

use crate::Tensor;

/// What a buffer holds, which decides how a checkpoint stores it (PyTorch's dtype for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BufferKind {
    /// Real values, stored as float32 (`running_mean`, `running_var`).
    Float,
    /// A count, stored as int64 as PyTorch writes `num_batches_tracked`. In memory it is an f32
    /// holding a whole number, exact up to 2²⁴ (16.7 million batches).
    Count,
}

/// A named tensor that belongs to a layer's state but is not trained: the optimizer never sees
/// it, gradients never reach it, and checkpoints save and load it beside the parameters (as
/// PyTorch's `register_buffer`). BatchNorm's `running_mean`, `running_var` and
/// `num_batches_tracked` are buffers.
///
/// ```
/// use lazarus_core::{Buffer, BufferKind, Tensor};
/// let running_mean = Buffer::new(Tensor::zeros(vec![16]), BufferKind::Float);
/// assert_eq!(running_mean.len(), 16);
/// assert_eq!(running_mean.kind(), BufferKind::Float);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Buffer {
    /// The current value (a 0-d tensor for a count).
    pub value: Tensor,
    kind: BufferKind,
}

impl Buffer {
    /// A buffer holding `value`, of the given kind.
    pub fn new(value: Tensor, kind: BufferKind) -> Self {
        Self { value, kind }
    }

    /// What the buffer holds.
    pub fn kind(&self) -> BufferKind {
        self.kind
    }

    /// Number of scalar values.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the buffer holds no values.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}
