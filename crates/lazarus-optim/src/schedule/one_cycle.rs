//! OneCycleLR: warm up to `max_lr`, then anneal far below the start, once, batch by batch.

use std::f64::consts::PI;

use super::{LrScheduler, Progress, StepInterval, progress_methods};
use crate::error::{check, finite_f32};
use crate::{OptimizerState, Result};

/// How [`OneCycleLr`] moves between two rates within a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnealStrategy {
    /// `end + (start − end)/2 · (1 + cos(π·pct))` (PyTorch's default, `'cos'`).
    Cos,
    /// `start + (end − start)·pct` (`'linear'`).
    Linear,
}

impl AnnealStrategy {
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// The 1cycle policy (Smith & Topin 2018), as PyTorch's `OneCycleLR`. Stepped after every
/// **batch** ([`StepInterval::Batch`]).
///
/// With `initial_lr = max_lr / div_factor` and `min_lr = initial_lr / final_div_factor`, and
/// `s` the number of steps taken:
///
/// ```text
/// phase 1, s ≤ pct_start·total_steps − 1:   initial_lr → max_lr
/// phase 2, up to total_steps − 1:           max_lr → min_lr
/// (three_phase: max_lr → initial_lr by 2·pct_start·total_steps − 2, then initial_lr → min_lr)
/// lr = anneal(phase start, phase end, (s − phase start step) / (phase end step − phase start step))
/// ```
///
/// **Momentum** cycles the other way, between `max_momentum` (at `initial_lr` and `min_lr`)
/// and `base_momentum` (at `max_lr`), with the same phases and annealing: a high lr is paired
/// with less momentum. [`LrScheduler::momentum`] gives it; the training loop passes it to the
/// optimizer with [`Optimizer::set_momentum`](crate::Optimizer::set_momentum), at the start
/// and after each step (`lazarus_train::Trainer` does), which sets SGD's and RMSprop's
/// `momentum` and Adam's β₁ in every parameter group, as PyTorch does. Adagrad and Adadelta
/// have neither: the trainer refuses them with cycling on, as PyTorch raises `ValueError`.
/// Turn it off with [`cycle_momentum(false)`](OneCycleLr::cycle_momentum).
///
/// Defaults (PyTorch's): `pct_start = 0.3`, `anneal_strategy = Cos`, `div_factor = 25`,
/// `final_div_factor = 1e4`, `three_phase = false`, `cycle_momentum = true`,
/// `base_momentum = 0.85`, `max_momentum = 0.95`.
///
/// Difference from PyTorch: PyTorch raises an error when stepped more than `total_steps`
/// times; here the lr (and momentum) stay at their values for step `total_steps`.
///
/// When to use: fast training with a fixed budget of steps: the high middle rates act as a
/// regulariser, the long tail settles. Find `max_lr` with a short lr range test.
///
/// ```
/// use lazarus_optim::{LrScheduler, OneCycleLr, StepInterval};
/// let mut s = OneCycleLr::new(1.0, 10)?;
/// assert_eq!(s.interval(), StepInterval::Batch);
/// assert!((s.lr() - 0.04).abs() < 1e-7); // max_lr / 25
/// assert_eq!(s.momentum(), Some(0.95)); // max_momentum while the lr is low
/// s.step(None);
/// assert!((s.step(None) - 1.0).abs() < 1e-6); // the peak, at step pct_start·10 − 1 = 2
/// assert_eq!(s.momentum(), Some(0.85)); // base_momentum at the peak
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "OneCycleLR")]
#[derive(Debug, Clone)]
pub struct OneCycleLr {
    max_lr: f64,
    total_steps: u64,
    pct_start: f64,
    anneal_strategy: AnnealStrategy,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
    cycle_momentum: bool,
    momentum_range: (f64, f64),
    progress: Progress,
}

/// Which of the three rates (or momenta) a phase starts or ends at.
#[derive(Clone, Copy)]
enum Level {
    Initial,
    Max,
    Min,
}

impl OneCycleLr {
    /// A cycle peaking at `max_lr` over `total_steps` optimizer steps (epochs × batches per
    /// epoch), with PyTorch's defaults.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `max_lr` is
    /// negative or not finite, or `total_steps` is 0. (The default `pct_start = 0.3` never gives
    /// a phase of zero length; see [`pct_start`](OneCycleLr::pct_start).)
    pub fn new(max_lr: f32, total_steps: usize) -> Result<Self> {
        let max = f64::from(max_lr);
        check(
            max >= 0.0 && max.is_finite(),
            "OneCycleLR",
            "max_lr",
            max,
            "a finite max_lr >= 0",
        )?;
        check(
            total_steps > 0,
            "OneCycleLR",
            "total_steps",
            total_steps as f64,
            "total_steps > 0",
        )?;
        let mut s = Self {
            max_lr: max,
            total_steps: total_steps as u64,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
            cycle_momentum: true,
            momentum_range: (0.85, 0.95),
            progress: Progress::new(0.0),
        };
        s.check_phases()?;
        s.progress.lr = s.lr_at(0);
        Ok(s)
    }

    /// Share of the steps spent increasing the lr.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (parameter
    /// `pct_start`) if outside `[0, 1]`, or if a phase the schedule reaches would have zero
    /// length, where PyTorch divides by zero (`ZeroDivisionError`):
    /// `pct_start · total_steps = 1` (no warm-up steps: `new(0.1, 10)?.pct_start(0.1)`);
    /// without three phases, `pct_start = 1` (no annealing steps); with three phases,
    /// `2 · pct_start · total_steps = total_steps + 1` (no final phase). Set
    /// [`three_phase`](OneCycleLr::three_phase) first: the check uses the current setting.
    pub fn pct_start(mut self, pct_start: f64) -> Result<Self> {
        check(
            (0.0..=1.0).contains(&pct_start),
            "OneCycleLR",
            "pct_start",
            pct_start,
            "0 <= pct_start <= 1",
        )?;
        self.pct_start = pct_start;
        self.check_phases()?;
        Ok(self.restart())
    }

    /// Cosine (default) or linear annealing.
    pub fn anneal_strategy(mut self, anneal_strategy: AnnealStrategy) -> Self {
        self.anneal_strategy = anneal_strategy;
        self.restart()
    }

    /// `initial_lr = max_lr / div_factor`.
    ///
    /// # Errors
    /// If not positive and finite, or if `initial_lr` or `min_lr` is then not finite as the
    /// `f32` the lr becomes (a `div_factor` of 1e-300).
    pub fn div_factor(mut self, div_factor: f64) -> Result<Self> {
        check(
            div_factor > 0.0 && div_factor.is_finite(),
            "OneCycleLR",
            "div_factor",
            div_factor,
            "a finite div_factor > 0",
        )?;
        self.div_factor = div_factor;
        self.check_levels("div_factor", div_factor)?;
        Ok(self.restart())
    }

    /// `min_lr = initial_lr / final_div_factor`.
    ///
    /// # Errors
    /// If not positive and finite, or if `min_lr` is then not finite as the `f32` the lr
    /// becomes (a `final_div_factor` of 1e-300).
    pub fn final_div_factor(mut self, final_div_factor: f64) -> Result<Self> {
        let ok = final_div_factor > 0.0 && final_div_factor.is_finite();
        check(
            ok,
            "OneCycleLR",
            "final_div_factor",
            final_div_factor,
            "a finite final_div_factor > 0",
        )?;
        self.final_div_factor = final_div_factor;
        self.check_levels("final_div_factor", final_div_factor)?;
        Ok(self.restart())
    }

    /// Reject the factors that make `initial_lr` or `min_lr` overflow the `f32` lr (every lr of
    /// the cycle is annealed between two of the three levels).
    fn check_levels(&self, parameter: &'static str, value: f64) -> Result<()> {
        let initial = self.max_lr / self.div_factor;
        check(
            finite_f32(initial) && finite_f32(initial / self.final_div_factor),
            "OneCycleLR",
            parameter,
            value,
            "max_lr / div_factor and max_lr / div_factor / final_div_factor finite as f32",
        )
    }

    /// Fast.ai's three phases (down to `initial_lr` symmetrically, then to `min_lr`).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (parameter
    /// `pct_start`) if, with this setting, a phase the schedule reaches would have zero length
    /// (see [`pct_start`](OneCycleLr::pct_start)), e.g. `new(0.1, 2)?.pct_start(0.5)` (already
    /// an error) or three phases with `pct_start = 0.55` and 10 steps.
    pub fn three_phase(mut self, three_phase: bool) -> Result<Self> {
        self.three_phase = three_phase;
        self.check_phases()?;
        Ok(self.restart())
    }

    /// Cycle the optimizer's momentum (or β₁) inversely to the lr (PyTorch's `cycle_momentum`,
    /// default true); with `false`, [`LrScheduler::momentum`] is `None` and the optimizer's
    /// momentum is left as it was built.
    pub fn cycle_momentum(mut self, cycle_momentum: bool) -> Self {
        self.cycle_momentum = cycle_momentum;
        self
    }

    /// The momentum range `(base_momentum, max_momentum)` for [`LrScheduler::momentum`]
    /// (PyTorch's defaults 0.85, 0.95). As in PyTorch, any order is accepted. The optimizer
    /// checks each value it is given, as it checks an lr: one outside its range (SGD's momentum
    /// and Adam's β₁ must be in `[0, 1)`) is an error at its next step.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if either is NaN or
    /// infinite (`base_momentum`, `max_momentum`), or if their difference overflows
    /// (`max_momentum`).
    pub fn momentum_range(mut self, base_momentum: f64, max_momentum: f64) -> Result<Self> {
        check(
            base_momentum.is_finite(),
            "OneCycleLR",
            "base_momentum",
            base_momentum,
            "a finite base_momentum",
        )?;
        check(
            max_momentum.is_finite() && (max_momentum - base_momentum).is_finite(),
            "OneCycleLR",
            "max_momentum",
            max_momentum,
            "a finite max_momentum, with max_momentum - base_momentum finite",
        )?;
        self.momentum_range = (base_momentum, max_momentum);
        Ok(self)
    }

    fn restart(mut self) -> Self {
        self.progress = Progress::new(self.lr_at(0));
        self
    }

    /// PyTorch's `get_lr` at step `step`.
    fn lr_at(&self, step: u64) -> f64 {
        let initial = self.max_lr / self.div_factor;
        let level = |l: Level| match l {
            Level::Initial => initial,
            Level::Max => self.max_lr,
            Level::Min => initial / self.final_div_factor,
        };
        self.interpolate(step, level)
    }

    /// PyTorch's phase end steps: `float(pct_start·total_steps) − 1`, (three phases:
    /// `float(2·pct_start·total_steps) − 2`), `total_steps − 1`.
    fn phase_ends(&self) -> (f64, f64, f64) {
        let total = self.total_steps as f64;
        (
            self.pct_start * total - 1.0,
            2.0 * self.pct_start * total - 2.0,
            total - 1.0,
        )
    }

    /// Reject the settings where a phase the schedule reaches has zero length, so that
    /// [`interpolate`](Self::interpolate) would compute 0/0 or x/0 (PyTorch raises
    /// `ZeroDivisionError` there). Only these can: the first phase (reached at step 0) when
    /// its end step is 0, and the last phase (reached at step `total_steps`) when its end step
    /// equals the previous one; a zero-length middle phase implies a zero-length first one.
    fn check_phases(&self) -> Result<()> {
        let (up, down, last) = self.phase_ends();
        check(
            up != 0.0,
            "OneCycleLR",
            "pct_start",
            self.pct_start,
            "pct_start * total_steps != 1 (the warm-up phase would have no steps)",
        )?;
        if self.three_phase {
            check(
                last != down,
                "OneCycleLR",
                "pct_start",
                self.pct_start,
                "2 * pct_start * total_steps != total_steps + 1 with three_phase (the last phase would have no steps)",
            )
        } else {
            check(
                last != up,
                "OneCycleLR",
                "pct_start",
                self.pct_start,
                "pct_start < 1 (the annealing phase would have no steps)",
            )
        }
    }

    /// Find the phase containing `step` and anneal between its two levels.
    fn interpolate(&self, step: u64, value: impl Fn(Level) -> f64) -> f64 {
        let (up, down, last) = self.phase_ends();
        let phases: &[(f64, Level, Level)] = if self.three_phase {
            &[
                (up, Level::Initial, Level::Max),
                (down, Level::Max, Level::Initial),
                (last, Level::Initial, Level::Min),
            ]
        } else {
            &[
                (up, Level::Initial, Level::Max),
                (last, Level::Max, Level::Min),
            ]
        };
        let step = step as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, from, to)) in phases.iter().enumerate() {
            if step <= end_step || i == phases.len() - 1 {
                let pct = (step - start_step) / (end_step - start_step);
                return self.anneal_strategy.anneal(value(from), value(to), pct);
            }
            start_step = end_step;
        }
        unreachable!("the last phase always matches")
    }
}

impl LrScheduler for OneCycleLr {
    fn step(&mut self, _metric: Option<f64>) -> f32 {
        if self.progress.last_epoch < self.total_steps {
            self.progress.last_epoch += 1;
            self.progress.lr = self.lr_at(self.progress.last_epoch);
        }
        self.progress.lr as f32
    }

    /// The momentum PyTorch sets at the current step (SGD's `momentum` or Adam's β₁): high
    /// when the lr is low and low when it is high; `None` without
    /// [`cycle_momentum`](OneCycleLr::cycle_momentum).
    fn momentum(&self) -> Option<f64> {
        let (base, max) = self.momentum_range;
        let level = |l: Level| match l {
            Level::Initial | Level::Min => max,
            Level::Max => base,
        };
        self.cycle_momentum
            .then(|| self.interpolate(self.progress.last_epoch, level))
    }

    progress_methods!("OneCycleLR", Batch);
}
