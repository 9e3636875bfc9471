//! Training or evaluation: an argument to every forward pass, never hidden state.

/// Whether a forward pass is part of training.
///
/// * `Train`: the layer keeps what `backward` needs (Linear its input, ReLU its output) and
///   stochastic layers are stochastic (Dropout drops).
/// * `Eval`: nothing is kept, so `backward` afterwards is
///   [`Error::BackwardBeforeForward`](crate::Error::BackwardBeforeForward), and Dropout is the
///   identity. Like PyTorch's `model.train()` / `model.eval()`, but passed explicitly so a reader
///   of any call site can see which one it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Keep activations for backward; stochastic layers sample.
    Train,
    /// Inference: keep nothing; stochastic layers are deterministic.
    Eval,
}
