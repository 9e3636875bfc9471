//! lazarus-optim (filled in by its issue).
