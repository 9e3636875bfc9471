//! lazarus-activations (filled in by its issue).
