//! The one error type of lazarus-optim.
//!
//! Every message names the optimizer (or schedule, or clipping function), the parameter path or
//! hyper-parameter, what was expected and what was found; the same facts are fields.

use lazarus_core::Num;

/// Errors from optimizers, learning-rate schedules and gradient clipping.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyper-parameter is outside its valid range (checked at construction, as PyTorch does).
    #[error("{optimizer}: invalid {parameter} = {}: expected {expected}", Num(*.value))]
    InvalidHyperParameter {
        /// Optimizer, schedule or function being configured (`SGD`, `StepLR`, `clip_grad_norm`).
        optimizer: &'static str,
        /// The hyper-parameter, by its PyTorch name (`lr`, `momentum`, `betas[0]`, ...).
        parameter: &'static str,
        /// The value that was given.
        value: f64,
        /// The accepted range or condition, e.g. `0 <= momentum < 1`.
        expected: &'static str,
    },

    /// The model has a different number of parameters than when the optimizer state was built.
    #[error("{optimizer}: expected {expected} parameters (as at the first step), found {found}")]
    ParamCountChanged {
        /// The optimizer.
        optimizer: &'static str,
        /// Parameter count when the state was created.
        expected: usize,
        /// Parameter count now.
        found: usize,
    },

    /// A parameter's path, shape or role differs from the one the optimizer state belongs to.
    #[error(
        "{optimizer}: parameter #{index}: expected {expected_path} {expected_shape:?}, found {found_path} {found_shape:?}"
    )]
    ParamChanged {
        /// The optimizer.
        optimizer: &'static str,
        /// Position in visiting order.
        index: usize,
        /// Path the state was built for (`0.weight`).
        expected_path: String,
        /// Shape the state was built for.
        expected_shape: Vec<usize>,
        /// Path found now.
        found_path: String,
        /// Shape found now.
        found_shape: Vec<usize>,
    },

    /// A parameter's value or gradient is not stored contiguously, or its gradient's layout differs
    /// from its value's: the fused update needs two matching flat slices.
    #[error(
        "{optimizer}: parameter {path}: value and gradient must be contiguous with the same layout"
    )]
    NonContiguous {
        /// The optimizer or function.
        optimizer: &'static str,
        /// The parameter's path.
        path: String,
    },

    /// An imported optimizer or schedule state does not fit (unknown key, wrong shape, missing
    /// buffer, invalid step count).
    #[error("{optimizer}: {}{reason}", EntryPrefix(.key))]
    StateMismatch {
        /// The optimizer or schedule.
        optimizer: &'static str,
        /// The state key (`0.weight.exp_avg`, `0.weight.step`, `last_epoch`); empty when the
        /// error is about the whole state.
        key: String,
        /// What was expected and what was found.
        reason: String,
    },

    /// An imported state was saved by another kind of optimizer or schedule (an SGD state loaded
    /// into Adam, a StepLR state into OneCycleLR): its [`kind`](crate::OptimizerState::kind)
    /// names another class. Nothing is changed.
    #[error("{expected}: cannot load {}", SavedBy(.found))]
    StateKindMismatch {
        /// The optimizer or schedule the state was loaded into (PyTorch's class name: `Adam`,
        /// `OneCycleLR`).
        expected: &'static str,
        /// The kind recorded in the state (`SGD`, `StepLR`).
        found: String,
    },

    /// The total gradient norm is NaN or infinite and `error_if_nonfinite` was set.
    #[error(
        "{function}: the total {norm_type} norm of the gradients is non-finite ({norm}); gradients left unchanged"
    )]
    NonFiniteNorm {
        /// `clip_grad_norm`.
        function: &'static str,
        /// The norm type, e.g. `L2`.
        norm_type: String,
        /// The norm found.
        norm: f32,
    },

    /// A step left a parameter holding a NaN or an infinity (a learning rate too large for
    /// the gradients, a gradient that overflowed). The step was applied to every parameter;
    /// `path` is the first one that is no longer finite. Training cannot go on from here.
    #[error("{optimizer}: the step left parameter {path} non-finite (NaN or infinite)")]
    NonFiniteUpdate {
        /// The optimizer.
        optimizer: &'static str,
        /// The first parameter that is no longer finite (`1.weight`).
        path: String,
    },

    /// A momentum schedule ([`OneCycleLr`](crate::OneCycleLr) with `cycle_momentum`) was
    /// given to an optimizer that has neither a `momentum` nor β₁ to cycle (Adagrad,
    /// Adadelta): PyTorch's OneCycleLR raises `ValueError` here, at construction.
    #[error(
        "{optimizer}: has no momentum or betas[0] for the schedule to cycle: use SGD, RMSprop, Adam or AdamW, or turn cycling off (OneCycleLr::cycle_momentum(false))"
    )]
    NoMomentum {
        /// The optimizer (`Adagrad`).
        optimizer: &'static str,
    },

    /// An error from lazarus-core.
    #[error(transparent)]
    Core(#[from] lazarus_core::Error),
}

/// `Result` with lazarus-optim's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Err(InvalidHyperParameter)` unless `ok`: the one-line check every constructor uses.
pub(crate) fn check(
    ok: bool,
    optimizer: &'static str,
    parameter: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            optimizer,
            parameter,
            value,
            expected,
        })
    }
}

/// `Err(InvalidHyperParameter)` unless `value` lies in `range` (`0.0..1.0` for a momentum,
/// `0.0..=1.0` for a smoothing constant); NaN lies in none.
pub(crate) fn check_in(
    range: impl std::ops::RangeBounds<f64>,
    optimizer: &'static str,
    parameter: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<()> {
    check(
        range.contains(&value),
        optimizer,
        parameter,
        value,
        expected,
    )
}

/// `Err(InvalidHyperParameter)` unless ε is finite and > 0 as the `f32` the element-wise pass
/// adds to a denominator (1e-50 rounds to 0, and a zero ε gives 0/0 for a zero gradient).
pub(crate) fn check_eps(optimizer: &'static str, eps: f64) -> Result<()> {
    let ok = positive_f32(eps);
    check(
        ok,
        optimizer,
        "eps",
        eps,
        "a finite eps > 0, also once rounded to f32",
    )
}

/// Checks shared by every optimizer: a finite `lr >= 0`, and a `weight_decay >= 0` that is
/// finite once rounded to `f32` (the element-wise pass uses it as `f32`). NaN and ±∞ fail.
pub(crate) fn check_lr_and_decay(
    optimizer: &'static str,
    lr: f32,
    weight_decay: f64,
) -> Result<()> {
    check(
        lr >= 0.0 && lr.is_finite(),
        optimizer,
        "lr",
        lr.into(),
        "a finite lr >= 0",
    )?;
    check(
        weight_decay >= 0.0 && finite_f32(weight_decay),
        optimizer,
        "weight_decay",
        weight_decay,
        "a finite weight_decay >= 0",
    )
}

/// `state entry <key>: ` before a [`Error::StateMismatch`] reason, nothing for an empty key.
struct EntryPrefix<'a>(&'a str);

impl std::fmt::Display for EntryPrefix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "state entry {}: ", self.0)
        }
    }
}

/// `a state saved by SGD` (the kind escaped, so that a damaged one stays on one line), or
/// `a state whose kind is empty`.
struct SavedBy<'a>(&'a str);

impl std::fmt::Display for SavedBy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("a state whose kind is empty")
        } else {
            write!(f, "a state saved by {}", self.0.escape_debug())
        }
    }
}

/// Whether `x` is finite, also once rounded to `f32` (1e39 is a finite `f64` but ∞ as `f32`).
pub(crate) fn finite_f32(x: f64) -> bool {
    (x as f32).is_finite()
}

/// Whether `x` is finite and > 0, also once rounded to `f32`.
fn positive_f32(x: f64) -> bool {
    let x = x as f32;
    x > 0.0 && x.is_finite()
}
