//! ExponentialLR: multiply the learning rate by γ every epoch.

use super::{LrScheduler, Progress, StepInterval, check_initial_lr, progress_methods};
use crate::error::check;
use crate::{OptimizerState, Result};

/// Decay the learning rate by `gamma` every epoch, as PyTorch's `ExponentialLR`:
///
/// ```text
/// lr₀ = initial_lr,   lrₑ = lrₑ₋₁ · γ      (= initial_lr · γᵉ, computed recursively as PyTorch)
/// ```
///
/// When to use: a smooth alternative to StepLR; γ = 0.95 halves the rate every ~14 epochs.
///
/// ```
/// use lazarus_optim::{ExponentialLr, LrScheduler};
/// let mut s = ExponentialLr::new(1.0, 0.5)?;
/// assert_eq!((s.lr(), s.step(None), s.step(None)), (1.0, 0.5, 0.25));
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "ExponentialLR")]
#[derive(Debug, Clone)]
pub struct ExponentialLr {
    gamma: f64,
    progress: Progress,
}

impl ExponentialLr {
    /// A schedule starting at `initial_lr` (the optimizer's lr).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `initial_lr` or
    /// `gamma` is negative or not finite.
    pub fn new(initial_lr: f32, gamma: f64) -> Result<Self> {
        let lr = check_initial_lr("ExponentialLR", initial_lr)?;
        check(
            gamma >= 0.0 && gamma.is_finite(),
            "ExponentialLR",
            "gamma",
            gamma,
            "a finite gamma >= 0",
        )?;
        Ok(Self {
            gamma,
            progress: Progress::new(lr),
        })
    }
}

impl LrScheduler for ExponentialLr {
    fn step(&mut self, _metric: Option<f64>) -> f32 {
        self.progress.last_epoch += 1;
        self.progress.lr *= self.gamma;
        self.progress.lr as f32
    }

    progress_methods!("ExponentialLR", Epoch);
}
