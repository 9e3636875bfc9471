//! LinearLR: warm-up (or decay) by a linearly changing factor.

use super::{LrScheduler, Progress, StepInterval, check_initial_lr, progress_methods};
use crate::error::check;
use crate::{OptimizerState, Result};

/// Multiply the initial learning rate by a factor going linearly from `start_factor` to
/// `end_factor` over `total_iters` epochs, then constant: PyTorch's `LinearLR`, the usual
/// warm-up.
///
/// ```text
/// lrₑ = initial_lr · (start + (end − start) · min(e, total_iters) / total_iters)
/// ```
///
/// computed recursively as PyTorch does:
/// `lr₀ = initial_lr · start`, `lrₑ = lrₑ₋₁ · (1 + (end − start) / (total_iters·start + (e−1)·(end − start)))`
/// for `1 ≤ e ≤ total_iters`.
///
/// Defaults (PyTorch's): `start_factor = 1/3`, `end_factor = 1.0`, `total_iters = 5`.
/// Note that the first epoch already runs at `start_factor · lr`: give [`LrScheduler::lr`] to
/// the optimizer before training.
///
/// When to use: the first epochs of Adam or of large-batch SGD, when the initial gradients
/// are large and the moment estimates are poor; a gentle start keeps a fresh ReLU network
/// from knocking many units dead in its first steps.
///
/// ```
/// use lazarus_optim::{LinearLr, LrScheduler};
/// let mut s = LinearLr::new(0.3)?.start_factor(0.5)?.total_iters(2)?;
/// assert!((s.lr() - 0.15).abs() < 1e-7);
/// assert!((s.step(None) - 0.225).abs() < 1e-7);
/// assert!((s.step(None) - 0.3).abs() < 1e-7);
/// assert!((s.step(None) - 0.3).abs() < 1e-7);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "LinearLR")]
#[derive(Debug, Clone)]
pub struct LinearLr {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
    progress: Progress,
}

impl LinearLr {
    /// A warm-up from `initial_lr / 3` to `initial_lr` over 5 epochs (PyTorch's defaults).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `initial_lr` is
    /// negative or not finite.
    pub fn new(initial_lr: f32) -> Result<Self> {
        let base_lr = check_initial_lr("LinearLR", initial_lr)?;
        let start_factor = 1.0 / 3.0;
        Ok(Self {
            base_lr,
            start_factor,
            end_factor: 1.0,
            total_iters: 5,
            progress: Progress::new(base_lr * start_factor),
        })
    }

    /// The first factor. Set before the first step.
    ///
    /// # Errors
    /// If not in `(0, 1]` (PyTorch's range).
    pub fn start_factor(mut self, start_factor: f64) -> Result<Self> {
        let ok = start_factor > 0.0 && start_factor <= 1.0;
        check(
            ok,
            "LinearLR",
            "start_factor",
            start_factor,
            "0 < start_factor <= 1",
        )?;
        self.start_factor = start_factor;
        self.progress = Progress::new(self.base_lr * start_factor);
        Ok(self)
    }

    /// The final factor.
    ///
    /// # Errors
    /// If not in `[0, 1]` (PyTorch's range).
    pub fn end_factor(mut self, end_factor: f64) -> Result<Self> {
        check(
            (0.0..=1.0).contains(&end_factor),
            "LinearLR",
            "end_factor",
            end_factor,
            "0 <= end_factor <= 1",
        )?;
        self.end_factor = end_factor;
        Ok(self)
    }

    /// Epochs until `end_factor` is reached.
    ///
    /// # Errors
    /// If 0.
    pub fn total_iters(mut self, total_iters: usize) -> Result<Self> {
        check(
            total_iters > 0,
            "LinearLR",
            "total_iters",
            total_iters as f64,
            "total_iters > 0",
        )?;
        self.total_iters = total_iters as u64;
        Ok(self)
    }
}

impl LrScheduler for LinearLr {
    fn step(&mut self, _metric: Option<f64>) -> f32 {
        let p = &mut self.progress;
        p.last_epoch += 1;
        if p.last_epoch <= self.total_iters {
            let (start, span) = (self.start_factor, self.end_factor - self.start_factor);
            let previous = (p.last_epoch - 1) as f64;
            p.lr *= 1.0 + span / (self.total_iters as f64 * start + previous * span);
        }
        p.lr as f32
    }

    progress_methods!("LinearLR", Epoch);
}
