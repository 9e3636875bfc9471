//! ReduceLROnPlateau: cut the learning rate when the validation metric stops improving.

use super::{LrScheduler, Progress, StepInterval, check_initial_lr, imported_count};
use crate::error::check;
use crate::{Error, OptimizerState, Result};

/// Whether a lower or a higher metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss). PyTorch's default `'min'`.
    Min,
    /// Higher is better (an accuracy). `'max'`.
    Max,
}

/// How much better a metric must be to count as an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better than `best · (1 ∓ threshold)`. PyTorch's default `'rel'`.
    Rel,
    /// Better than `best ∓ threshold`. `'abs'`.
    Abs,
}

/// Multiply the learning rate by `factor` when the metric has not improved for more than
/// `patience` epochs, as PyTorch's `ReduceLROnPlateau`.
///
/// Each [`step`](LrScheduler::step)`(Some(metric))`, after an epoch's validation:
///
/// ```text
/// if metric is better than best (by threshold):  best = metric; bad = 0
/// else:                                          bad += 1
/// if cooling down:                               cooldown −= 1; bad = 0
/// if bad > patience:
///     new = max(lr · factor, min_lr)
///     if lr − new > eps: lr = new          (changes smaller than eps are ignored)
///     cooldown = cooldown_epochs; bad = 0
/// ```
///
/// Defaults (PyTorch's): `mode = Min`, `factor = 0.1`, `patience = 10`, `threshold = 1e-4`,
/// `threshold_mode = Rel`, `cooldown = 0`, `min_lr = 0`, `eps = 1e-8`. A `step(None)` (no
/// metric this epoch) changes nothing and does not count as an epoch; a NaN metric counts as
/// not better, as in PyTorch.
///
/// When to use: when you do not know in advance when training will stall; the loss curve
/// decides. Also a safety net when a too-high rate makes the loss oscillate.
///
/// ```
/// use lazarus_optim::{LrScheduler, ReduceLrOnPlateau};
/// let mut s = ReduceLrOnPlateau::new(1.0)?.patience(1).factor(0.5)?;
/// assert_eq!(s.step(Some(1.0)), 1.0); // best
/// assert_eq!(s.step(Some(1.0)), 1.0); // 1 bad epoch: within patience
/// assert_eq!(s.step(Some(1.0)), 0.5); // 2 bad epochs > patience: reduce
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "ReduceLROnPlateau")]
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    mode: PlateauMode,
    factor: f64,
    patience: u64,
    threshold: f64,
    threshold_mode: ThresholdMode,
    cooldown: u64,
    min_lr: f64,
    eps: f64,
    best: f64,
    num_bad_epochs: u64,
    cooldown_counter: u64,
    progress: Progress,
}

impl ReduceLrOnPlateau {
    /// A schedule starting at `initial_lr` (the optimizer's lr), with PyTorch's defaults.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `initial_lr` is
    /// negative or not finite.
    pub fn new(initial_lr: f32) -> Result<Self> {
        let lr = check_initial_lr("ReduceLROnPlateau", initial_lr)?;
        Ok(Self {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            progress: Progress::new(lr),
        })
    }

    /// Lower (`Min`) or higher (`Max`) is better. Resets the best value seen.
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.best = self.worst();
        self
    }

    /// The factor the lr is multiplied by.
    ///
    /// # Errors
    /// If not in `[0, 1)` (PyTorch rejects `factor >= 1`).
    pub fn factor(mut self, factor: f64) -> Result<Self> {
        check(
            (0.0..1.0).contains(&factor),
            "ReduceLROnPlateau",
            "factor",
            factor,
            "0 <= factor < 1",
        )?;
        self.factor = factor;
        Ok(self)
    }

    /// Epochs without improvement tolerated before reducing.
    pub fn patience(mut self, patience: u64) -> Self {
        self.patience = patience;
        self
    }

    /// The least improvement that counts.
    ///
    /// # Errors
    /// If negative or not finite.
    pub fn threshold(mut self, threshold: f64) -> Result<Self> {
        check(
            threshold >= 0.0 && threshold.is_finite(),
            "ReduceLROnPlateau",
            "threshold",
            threshold,
            "a finite threshold >= 0",
        )?;
        self.threshold = threshold;
        Ok(self)
    }

    /// Relative or absolute threshold.
    pub fn threshold_mode(mut self, threshold_mode: ThresholdMode) -> Self {
        self.threshold_mode = threshold_mode;
        self
    }

    /// Epochs to wait after a reduction before counting bad epochs again.
    pub fn cooldown(mut self, cooldown: u64) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The lr is never reduced below this.
    ///
    /// # Errors
    /// If negative or not finite.
    pub fn min_lr(mut self, min_lr: f64) -> Result<Self> {
        check(
            min_lr >= 0.0 && min_lr.is_finite(),
            "ReduceLROnPlateau",
            "min_lr",
            min_lr,
            "a finite min_lr >= 0",
        )?;
        self.min_lr = min_lr;
        Ok(self)
    }

    /// Reductions smaller than this are skipped.
    ///
    /// # Errors
    /// If negative or not finite.
    pub fn eps(mut self, eps: f64) -> Result<Self> {
        check(
            eps >= 0.0 && eps.is_finite(),
            "ReduceLROnPlateau",
            "eps",
            eps,
            "a finite eps >= 0",
        )?;
        self.eps = eps;
        Ok(self)
    }

    /// The best metric so far (±∞ before the first).
    pub fn best(&self) -> f64 {
        self.best
    }

    fn worst(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }

    fn is_better(&self, a: f64) -> bool {
        let (best, t) = (self.best, self.threshold);
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (t + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + t,
        }
    }
}

impl LrScheduler for ReduceLrOnPlateau {
    fn step(&mut self, metric: Option<f64>) -> f32 {
        let Some(current) = metric else {
            return self.lr();
        };
        self.progress.last_epoch += 1;
        if self.is_better(current) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // bad epochs in cooldown do not count
        }
        if self.num_bad_epochs > self.patience {
            let old = self.progress.lr;
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                self.progress.lr = new;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr()
    }

    fn lr(&self) -> f32 {
        self.progress.lr as f32
    }

    fn interval(&self) -> StepInterval {
        StepInterval::Epoch
    }

    fn state(&self) -> OptimizerState {
        self.progress.export(
            NAME,
            &[
                ("best", self.best),
                ("num_bad_epochs", self.num_bad_epochs as f64),
                ("cooldown_counter", self.cooldown_counter as f64),
            ],
        )
    }

    /// Check, changing nothing, what [`load_state`](LrScheduler::load_state) checks.
    ///
    /// # Errors
    /// As `load_state`.
    fn check_state(&self, state: &OptimizerState) -> Result<()> {
        Imported::read(state).map(drop)
    }

    /// Restore `last_epoch`, `lr`, `best`, `num_bad_epochs` and `cooldown_counter`.
    ///
    /// # Errors
    /// [`Error::StateKindMismatch`] for a state saved by another schedule;
    /// [`Error::StateMismatch`] for a missing or unknown key, a bad `last_epoch` or `lr` (the
    /// `lr` must be finite as `f32`), a NaN `best` (±∞ is allowed: it is the value before the
    /// first metric; `best` is compared with the `f64` metric, so it is checked as an `f64`),
    /// or a `num_bad_epochs` / `cooldown_counter` that is not a whole number in `0..2^53`
    /// (negative, fractional, NaN, infinite or too large). Nothing is changed on error.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let imported = Imported::read(state)?;
        (self.progress, self.best) = (imported.progress, imported.best);
        (self.num_bad_epochs, self.cooldown_counter) = (imported.bad, imported.cooldown);
        Ok(())
    }
}

/// PyTorch's class name: the kind of the state, and the name in errors.
const NAME: &str = "ReduceLROnPlateau";

/// A checked ReduceLROnPlateau state, ready to apply.
struct Imported {
    progress: Progress,
    best: f64,
    bad: u64,
    cooldown: u64,
}

impl Imported {
    /// Read and check every entry of `state` (the one check behind `check_state` and
    /// `load_state`).
    fn read(state: &OptimizerState) -> Result<Self> {
        let (progress, [best, bad, cooldown]) =
            Progress::import(NAME, state, ["best", "num_bad_epochs", "cooldown_counter"])?;
        if best.is_nan() {
            return Err(Error::StateMismatch {
                optimizer: NAME,
                key: "best".into(),
                reason: "expected a number or ±inf (the value before the first metric), found NaN"
                    .into(),
            });
        }
        Ok(Self {
            progress,
            best,
            bad: imported_count(NAME, "num_bad_epochs", bad)?,
            cooldown: imported_count(NAME, "cooldown_counter", cooldown)?,
        })
    }
}
