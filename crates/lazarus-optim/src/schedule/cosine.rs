//! CosineAnnealingLR: half a cosine wave from the initial lr down to `eta_min` over `T_max` epochs.

use std::f64::consts::PI;

use super::{LrScheduler, Progress, StepInterval, check_initial_lr, progress_methods};
use crate::error::{check, finite_f32};
use crate::{OptimizerState, Result};

/// Cosine annealing, as PyTorch's `CosineAnnealingLR` (without restarts).
///
/// The curve it follows (η_max = initial lr, e = epoch):
///
/// ```text
/// ηₑ = η_min + ½·(η_max − η_min)·(1 + cos(π·e / T_max))
/// ```
///
/// PyTorch computes it recursively, and so do we, to give the same numbers:
///
/// ```text
/// ηₑ = η_min + (ηₑ₋₁ − η_min) · (1 + cos(π·e/T_max)) / (1 + cos(π·(e−1)/T_max))
/// ηₑ = ηₑ₋₁ + (η_max − η_min)·(1 − cos(π/T_max))/2     when (e − 1 − T_max) mod 2·T_max = 0
/// ```
///
/// (The second line avoids the 0/0 at the bottom of the wave.) The two forms agree up to
/// rounding. After `T_max` epochs the rate rises again along the same cosine, as in PyTorch;
/// stop at `T_max`, or use it with a number of epochs that is a multiple of `2·T_max`.
///
/// When to use: a smooth, hyper-parameter-light decay that spends more time at low rates near
/// the end; a strong default for CNNs with SGD.
///
/// ```
/// use lazarus_optim::{CosineAnnealingLr, LrScheduler};
/// let mut s = CosineAnnealingLr::new(1.0, 2)?.eta_min(0.0)?;
/// assert_eq!(s.lr(), 1.0);
/// assert!((s.step(None) - 0.5).abs() < 1e-7);
/// assert!(s.step(None).abs() < 1e-7);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "CosineAnnealingLR")]
#[derive(Debug, Clone)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
    progress: Progress,
}

impl CosineAnnealingLr {
    /// Anneal from `initial_lr` (the optimizer's lr) to `eta_min` (default 0) over `t_max`
    /// epochs (PyTorch's `T_max`).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `initial_lr` is
    /// negative or `t_max` is 0.
    pub fn new(initial_lr: f32, t_max: usize) -> Result<Self> {
        let lr = check_initial_lr("CosineAnnealingLR", initial_lr)?;
        check(
            t_max > 0,
            "CosineAnnealingLR",
            "T_max",
            t_max as f64,
            "T_max > 0",
        )?;
        Ok(Self {
            base_lr: lr,
            t_max: t_max as u64,
            eta_min: 0.0,
            progress: Progress::new(lr),
        })
    }

    /// The lowest learning rate, η_min.
    ///
    /// # Errors
    /// If `eta_min` is negative or not finite, also once rounded to `f32` (the lr it becomes).
    pub fn eta_min(mut self, eta_min: f64) -> Result<Self> {
        check(
            eta_min >= 0.0 && finite_f32(eta_min),
            "CosineAnnealingLR",
            "eta_min",
            eta_min,
            "an eta_min >= 0, finite as f32",
        )?;
        self.eta_min = eta_min;
        Ok(self)
    }
}

impl LrScheduler for CosineAnnealingLr {
    fn step(&mut self, _metric: Option<f64>) -> f32 {
        let p = &mut self.progress;
        p.last_epoch += 1;
        let (e, t) = (p.last_epoch as f64, self.t_max as f64);
        let eta_min = self.eta_min;
        p.lr = if (p.last_epoch as i128 - 1 - self.t_max as i128).rem_euclid(2 * self.t_max as i128)
            == 0
        {
            p.lr + (self.base_lr - eta_min) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * e / t).cos()) / (1.0 + (PI * (e - 1.0) / t).cos()) * (p.lr - eta_min)
                + eta_min
        };
        p.lr as f32
    }

    progress_methods!("CosineAnnealingLR", Epoch);
}
