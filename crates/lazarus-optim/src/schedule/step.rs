//! StepLR: multiply the learning rate by γ every `step_size` epochs.

use super::{LrScheduler, Progress, StepInterval, check_initial_lr, progress_methods};
use crate::error::check;
use crate::{OptimizerState, Result};

/// Decay the learning rate by `gamma` every `step_size` epochs, as PyTorch's `StepLR`:
///
/// ```text
/// lr₀ = initial_lr
/// lrₑ = lrₑ₋₁ · γ   if e is a multiple of step_size, else lrₑ₋₁      (= initial_lr · γ^⌊e/step_size⌋)
/// ```
///
/// PyTorch's default γ is 0.1. When to use: the classic CNN recipe (e.g. γ = 0.1 every 30
/// epochs): train fast at a high rate, then refine.
///
/// ```
/// use lazarus_optim::{LrScheduler, StepLr};
/// let mut s = StepLr::new(1.0, 2, 0.1)?;
/// let lrs: Vec<f32> = std::iter::once(s.lr()).chain((0..4).map(|_| s.step(None))).collect();
/// assert_eq!(lrs, [1.0, 1.0, 0.1, 0.1, 0.01]);
/// assert!(StepLr::new(1.0, 0, 0.1).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "StepLR")]
#[derive(Debug, Clone)]
pub struct StepLr {
    step_size: u64,
    gamma: f64,
    progress: Progress,
}

impl StepLr {
    /// A schedule starting at `initial_lr` (the optimizer's lr).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `initial_lr` is
    /// negative, `step_size` is 0, or `gamma` is negative or not finite.
    pub fn new(initial_lr: f32, step_size: usize, gamma: f64) -> Result<Self> {
        let lr = check_initial_lr("StepLR", initial_lr)?;
        check(
            step_size > 0,
            "StepLR",
            "step_size",
            step_size as f64,
            "step_size > 0",
        )?;
        check(
            gamma >= 0.0 && gamma.is_finite(),
            "StepLR",
            "gamma",
            gamma,
            "a finite gamma >= 0",
        )?;
        Ok(Self {
            step_size: step_size as u64,
            gamma,
            progress: Progress::new(lr),
        })
    }
}

impl LrScheduler for StepLr {
    fn step(&mut self, _metric: Option<f64>) -> f32 {
        let p = &mut self.progress;
        p.last_epoch += 1;
        if p.last_epoch.is_multiple_of(self.step_size) {
            p.lr *= self.gamma;
        }
        p.lr as f32
    }

    progress_methods!("StepLR", Epoch);
}
