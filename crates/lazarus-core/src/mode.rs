//! Training, evaluation or a probe: an argument to every forward pass, never hidden state.

/// Whether a forward pass is part of training.
///
/// * `Train`: the layer keeps what `backward` needs (Linear its input, ReLU its output) and
///   stochastic layers are stochastic (Dropout drops).
/// * `Eval`: nothing is kept, so `backward` afterwards is
///   [`Error::BackwardBeforeForward`](crate::Error::BackwardBeforeForward), and Dropout is the
///   identity. Like PyTorch's `model.train()` / `model.eval()`, but passed explicitly so a reader
///   of any call site can see which one it is.
/// * `Probe`: the network as training sees it, without changing it: normalization layers use
///   the batch's statistics (as in `Train`) but leave their running statistics alone, random
///   layers are deterministic (as in `Eval`), and nothing is kept for backward. Diagnostics use
///   it to look inside a network during training (which layer first went non-finite; which
///   units are silent) without disturbing what training will do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Keep activations for backward; stochastic layers sample.
    Train,
    /// Inference: keep nothing; stochastic layers are deterministic.
    Eval,
    /// Training's view without its side effects: batch statistics, no running-statistics
    /// update, no randomness, nothing kept for backward.
    Probe,
}
