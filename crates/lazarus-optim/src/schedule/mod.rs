//! Learning-rate schedules: the same learning-rate sequences as PyTorch's `lr_scheduler`.
//!
//! A schedule is independent of the optimizer: it holds its own learning rate (in f64, as
//! PyTorch's Python floats) and the training loop passes it on (and the momentum, for a
//! schedule that cycles it: see [`LrScheduler::momentum`]):
//!
//! ```
//! use lazarus_optim::{LrScheduler, Optimizer, Sgd, StepLr};
//! let mut opt = Sgd::new(0.1)?;
//! let mut sched = StepLr::new(0.1, 2, 0.5)?;
//! opt.set_lr(sched.lr()); // once: LinearLR and OneCycleLR start below the optimizer's lr
//! let mut seen = vec![opt.lr()];
//! for _epoch in 0..4 {
//!     // ... train one epoch with opt ...
//!     opt.set_lr(sched.step(None));
//!     seen.push(opt.lr());
//! }
//! assert_eq!(seen, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! # Ok::<(), lazarus_optim::Error>(())
//! ```

mod cosine;
mod exponential;
mod linear;
mod one_cycle;
mod plateau;
mod step;

pub use cosine::CosineAnnealingLr;
pub use exponential::ExponentialLr;
pub use linear::LinearLr;
pub use one_cycle::{AnnealStrategy, OneCycleLr};
pub use plateau::{PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use step::StepLr;

use crate::error::{check, finite_f32};
use crate::optimizer::check_kind;
use crate::{Error, OptimizerState, Result};
use lazarus_core::Num;

/// When the training loop calls [`LrScheduler::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepInterval {
    /// After every epoch (StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, ReduceLROnPlateau).
    Epoch,
    /// After every optimizer step, i.e. every batch (OneCycleLR).
    Batch,
}

/// A learning-rate schedule.
///
/// Right after construction, [`lr`](LrScheduler::lr) is the rate for the first epoch (PyTorch's
/// `get_last_lr()` after the constructor: the initial lr, except LinearLR's `start_factor · lr`
/// and OneCycleLR's `max_lr / div_factor`): give it to the optimizer once with `set_lr`. Then
/// call [`step`](LrScheduler::step) after each epoch (or batch, per
/// [`interval`](LrScheduler::interval)) and pass the result to `Optimizer::set_lr`. The
/// sequence `lr(), step(), step(), …` equals PyTorch's `get_last_lr()[0]` sequence, computed with
/// PyTorch's recursive ("chainable") formulas where it uses them.
pub trait LrScheduler: Send {
    /// Advance one step (an epoch, or a batch for OneCycleLR: see
    /// [`interval`](LrScheduler::interval)) and return the new lr. `metric` is the validation loss
    /// (or accuracy) for ReduceLROnPlateau; the others ignore it.
    fn step(&mut self, metric: Option<f64>) -> f32;

    /// The current learning rate.
    fn lr(&self) -> f32;

    /// Whether [`step`](LrScheduler::step) is meant per epoch or per batch.
    fn interval(&self) -> StepInterval;

    /// The momentum (SGD's and RMSprop's `momentum`, Adam's β₁) the schedule wants now, for a
    /// schedule that cycles it ([`OneCycleLr`] by default, as PyTorch's `cycle_momentum=True`);
    /// `None` (the default) for one that leaves momentum alone. Like the lr, give it to the
    /// optimizer once after construction and after every [`step`](LrScheduler::step), with
    /// [`Optimizer::set_momentum`](crate::Optimizer::set_momentum): PyTorch's OneCycleLR sets
    /// it itself, in every parameter group, at construction and at each step.
    ///
    /// ```
    /// use lazarus_optim::{LrScheduler, OneCycleLr, Optimizer, Sgd, StepLr};
    /// let mut opt = Sgd::new(0.1)?.momentum(0.9)?;
    /// let mut sched = OneCycleLr::new(0.1, 100)?;
    /// opt.set_lr(sched.lr());
    /// if let Some(m) = sched.momentum() {
    ///     opt.set_momentum(m)?; // 0.95 at the start of the cycle
    /// }
    /// assert_eq!(opt.cycled_momentum(), Some(0.95));
    /// assert_eq!(StepLr::new(0.1, 10, 0.5)?.momentum(), None);
    /// # Ok::<(), lazarus_optim::Error>(())
    /// ```
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// The schedule's progress, to save in a checkpoint: scalars `"last_epoch"` (steps taken),
    /// `"lr"` (exact, f64), and the schedule's own counters (ReduceLROnPlateau: `"best"`,
    /// `"num_bad_epochs"`, `"cooldown_counter"`), and [`kind`](OptimizerState::kind), the
    /// schedule's PyTorch class name (`"StepLR"`). Hyper-parameters are not included: rebuild
    /// the schedule with the same ones, then [`load_state`](LrScheduler::load_state).
    ///
    /// The default (for a schedule of your own) records only the current `"lr"`, with no kind.
    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::default();
        state.scalars.insert("lr".into(), self.lr().into());
        state
    }

    /// Check, changing nothing, that [`load_state`](LrScheduler::load_state) would accept
    /// `state`: its kind, every key (none missing, none unknown), every value (the `lr` finite
    /// as the `f32` it becomes, counters whole numbers).
    ///
    /// Contract: if `check_state(state)` is `Ok`, `load_state(state)` succeeds. A trainer checks
    /// the whole checkpoint this way before it changes the model, the optimizer or the schedule.
    ///
    /// The default refuses every state, as the default `load_state` does. A schedule of your
    /// own that implements `load_state` should implement this too (check, then apply, as the
    /// schedules of this crate do); the default only ever errs on the safe side.
    ///
    /// # Errors
    /// As [`load_state`](LrScheduler::load_state).
    fn check_state(&self, state: &OptimizerState) -> Result<()> {
        let _ = state;
        Err(cannot_resume())
    }

    /// Restore progress saved by [`state`](LrScheduler::state).
    ///
    /// # Errors
    /// [`Error::StateKindMismatch`] for a state saved by another kind of schedule (a state
    /// with no kind, saved before the kind was recorded, is accepted if its keys fit);
    /// [`Error::StateMismatch`] for a missing, unknown or invalid entry. Nothing is changed on
    /// error.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        let _ = state;
        Err(cannot_resume())
    }
}

/// The error of the default [`LrScheduler::check_state`] and [`LrScheduler::load_state`].
fn cannot_resume() -> Error {
    Error::StateMismatch {
        optimizer: "LrScheduler",
        key: String::new(),
        reason: "this schedule does not support resuming".into(),
    }
}

/// A boxed schedule is a schedule, so code that picks one at run time
/// (`Box<dyn LrScheduler>`) can hand it to anything that takes `impl LrScheduler`.
impl<S: LrScheduler + ?Sized> LrScheduler for Box<S> {
    fn step(&mut self, metric: Option<f64>) -> f32 {
        (**self).step(metric)
    }

    fn lr(&self) -> f32 {
        (**self).lr()
    }

    fn interval(&self) -> StepInterval {
        (**self).interval()
    }

    fn momentum(&self) -> Option<f64> {
        (**self).momentum()
    }

    fn state(&self) -> OptimizerState {
        (**self).state()
    }

    fn check_state(&self, state: &OptimizerState) -> Result<()> {
        (**self).check_state(state)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        (**self).load_state(state)
    }
}

/// [`LrScheduler`]'s `lr`, `interval`, `state`, `check_state` and `load_state` for a schedule
/// whose whole state is its `progress: Progress` field: written once for StepLR, ExponentialLR,
/// CosineAnnealingLR, LinearLR and OneCycleLR. `$name` is the PyTorch class name, the state's
/// kind.
macro_rules! progress_methods {
    ($name:literal, $interval:ident) => {
        fn lr(&self) -> f32 {
            self.progress.lr as f32
        }

        fn interval(&self) -> StepInterval {
            StepInterval::$interval
        }

        fn state(&self) -> OptimizerState {
            self.progress.export($name, &[])
        }

        fn check_state(&self, state: &OptimizerState) -> Result<()> {
            Progress::import($name, state, []).map(drop)
        }

        fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
            (self.progress, _) = Progress::import($name, state, [])?;
            Ok(())
        }
    };
}
pub(crate) use progress_methods;

/// Steps taken and the current lr: the state every schedule has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Progress {
    pub(crate) last_epoch: u64,
    pub(crate) lr: f64,
}

impl Progress {
    pub(crate) fn new(lr: f64) -> Self {
        Self { last_epoch: 0, lr }
    }

    /// `last_epoch` and `lr`, plus `extra` scalars, as the state of a `schedule` (its kind).
    pub(crate) fn export(&self, schedule: &'static str, extra: &[(&str, f64)]) -> OptimizerState {
        let mut state = OptimizerState {
            kind: Some(schedule.into()),
            ..OptimizerState::default()
        };
        state
            .scalars
            .insert("last_epoch".into(), self.last_epoch as f64);
        state.scalars.insert("lr".into(), self.lr);
        for (key, value) in extra {
            state.scalars.insert((*key).into(), *value);
        }
        state
    }

    /// Read `last_epoch`, `lr` and the `extra` keys (returned in order) from `state`, changing
    /// nothing: the check behind every schedule's `check_state` and `load_state`. A state of
    /// another kind, any other key, a missing one, or a bad value is an error naming
    /// `schedule`. The `lr` must be finite as the `f32` that [`LrScheduler::lr`] returns.
    pub(crate) fn import<const N: usize>(
        schedule: &'static str,
        state: &OptimizerState,
        extra: [&str; N],
    ) -> Result<(Self, [f64; N])> {
        let mismatch = |key: &str, reason: String| Error::StateMismatch {
            optimizer: schedule,
            key: key.into(),
            reason,
        };
        let get = |key: &str| {
            state
                .scalars
                .get(key)
                .copied()
                .ok_or_else(|| mismatch(key, "missing".into()))
        };
        check_kind(schedule, state)?;
        if let Some(key) = state.tensors.keys().next() {
            return Err(mismatch(key, "a schedule's state has no tensors".into()));
        }
        let known = |k: &String| k == "last_epoch" || k == "lr" || extra.contains(&k.as_str());
        if let Some(key) = state.scalars.keys().find(|k| !known(k)) {
            return Err(mismatch(key, format!("not part of {schedule}'s state")));
        }
        let last_epoch = imported_count(schedule, "last_epoch", get("last_epoch")?)?;
        let lr = get("lr")?;
        if !(lr >= 0.0 && finite_f32(lr)) {
            return Err(mismatch(
                "lr",
                format!(
                    "expected an lr >= 0 that is finite as f32, found {}",
                    Num(lr)
                ),
            ));
        }
        let mut values = [0.0; N];
        for (value, key) in values.iter_mut().zip(extra) {
            *value = get(key)?;
        }
        Ok((Self { last_epoch, lr }, values))
    }
}

/// The initial learning rate every schedule takes: finite and ≥ 0.
pub(crate) fn check_initial_lr(schedule: &'static str, lr: f32) -> Result<f64> {
    check(
        lr >= 0.0 && lr.is_finite(),
        schedule,
        "lr",
        lr.into(),
        "a finite lr >= 0",
    )?;
    Ok(lr.into())
}

/// A counter (`last_epoch`, ReduceLROnPlateau's `num_bad_epochs`) read back from a state,
/// where it is stored as an `f64`: it must be a whole number in `0..2^53`, the range in which
/// every integer is exact in an `f64`, so that saving it again gives the same value.
///
/// # Errors
/// [`Error::StateMismatch`] naming `schedule` and `key` for a negative, fractional, NaN,
/// infinite or too large value.
pub(crate) fn imported_count(schedule: &'static str, key: &str, value: f64) -> Result<u64> {
    if value >= 0.0 && value.fract() == 0.0 && value < 2f64.powi(53) {
        Ok(value as u64)
    } else {
        Err(Error::StateMismatch {
            optimizer: schedule,
            key: key.into(),
            reason: format!(
                "expected a whole number >= 0 below 2^53, found {}",
                Num(value)
            ),
        })
    }
}
