//! The `Optimizer` trait and its exportable state.

use std::collections::BTreeMap;

use lazarus_core::{Layer, Tensor};

use crate::{Error, Result};

/// Updates a model's parameters from their gradients: `θ ← θ − lr · direction(∇θ, state)`.
///
/// Every optimizer in this crate reaches parameters through
/// [`Layer::visit_params_mut`], so it works for any model, and knows each parameter by its
/// path (`0.weight`, `1.weight`). Its state (momentum buffers, moment estimates, step counts) is
/// built on the first [`step`](Optimizer::step) and is keyed by those paths in
/// [`state`](Optimizer::state), so a checkpoint can resume training exactly.
///
/// A typical loop:
///
/// ```
/// use lazarus_core::{Layer, Linear, Mode, Tensor};
/// use lazarus_optim::{Optimizer, Sgd};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut model = Linear::new(3, 1, &mut StdRng::seed_from_u64(0))?;
/// let mut opt = Sgd::new(0.1)?.momentum(0.9)?;
/// for _ in 0..3 {
///     opt.zero_grad(&mut model);
///     model.forward(Tensor::ones(vec![4, 3]).view(), Mode::Train)?;
///     model.backward(Tensor::ones(vec![4, 1]).view())?; // dL/dy = 1: minimise Σy
///     opt.step(&mut model)?;
/// }
/// assert_eq!(opt.state().tensors.len(), 2); // a momentum buffer for weight and bias
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub trait Optimizer: Send {
    /// One update of every parameter reachable from `model` (visited with
    /// [`Layer::visit_params_mut`]).
    ///
    /// The first call builds the state for the parameters it finds. Later calls check that the
    /// model still has the same parameters (count, paths, shapes, roles) before changing
    /// anything: a mismatch is an error and no parameter is updated.
    ///
    /// # Errors
    /// [`Error::ParamCountChanged`](crate::Error::ParamCountChanged) or
    /// [`Error::ParamChanged`](crate::Error::ParamChanged) when the model's parameters differ from
    /// the ones the state was built for; [`Error::NonContiguous`](crate::Error::NonContiguous)
    /// for a parameter whose value and gradient are not plain contiguous arrays;
    /// [`Error::StateMismatch`](crate::Error::StateMismatch) when a state imported before the
    /// first step does not fit the model;
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) (parameter `lr`)
    /// when the last [`set_lr`](Optimizer::set_lr) gave an invalid learning rate (nothing is
    /// updated); [`Error::NonFiniteUpdate`](crate::Error::NonFiniteUpdate) when the step (applied
    /// to every parameter) left one holding a NaN or an infinity, found as the update writes
    /// the values, at no extra cost.
    fn step(&mut self, model: &mut dyn Layer) -> Result<()>;

    /// The base learning rate (the one of the parameters no group gives an `lr` of its own).
    fn lr(&self) -> f32;

    /// Set the base learning rate. Schedules call this once per epoch (or batch).
    ///
    /// Parameter groups that set their own `lr` keep their *ratio* to the base rate: a group
    /// created with `lr = 0.1 · base` follows the schedule at a tenth of it. This is what
    /// PyTorch's multiplicative schedules (StepLR, ExponentialLR, ReduceLROnPlateau, LinearLR)
    /// do to every group; for CosineAnnealingLR with a non-zero `eta_min`, and OneCycleLR,
    /// PyTorch computes each group's own curve instead, which differs from the scaled one.
    ///
    /// The lr is checked every time, before and after the first step, with the rule of the
    /// constructors (a finite lr >= 0 for every optimizer of this crate). This method cannot
    /// return the error, so the next [`step`](Optimizer::step) does: it returns
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) for `lr` and
    /// leaves every parameter unchanged, until a valid lr is set.
    fn set_lr(&mut self, lr: f32);

    /// The hyper-parameter a momentum schedule cycles, now: SGD's and RMSprop's `momentum`,
    /// Adam's and AdamW's β₁; `None` for an optimizer with neither (Adagrad, Adadelta, and by
    /// default an optimizer of your own). A trainer asks this when it is given a schedule that
    /// cycles momentum, to refuse the pair at once, as PyTorch's OneCycleLR constructor raises
    /// `ValueError` ("optimizer must support momentum or beta1").
    ///
    /// ```
    /// use lazarus_optim::{Adagrad, Adam, Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1)?.cycled_momentum(), Some(0.0));
    /// assert_eq!(Adam::new(1e-3)?.cycled_momentum(), Some(0.9)); // β₁
    /// assert_eq!(Adagrad::new(1e-2)?.cycled_momentum(), None);
    /// # Ok::<(), lazarus_optim::Error>(())
    /// ```
    fn cycled_momentum(&self) -> Option<f64> {
        None
    }

    /// Set the momentum (β₁ for Adam and AdamW) of every parameter, groups included: what a
    /// momentum schedule ([`OneCycleLr`](crate::OneCycleLr)) does after each step, as
    /// PyTorch's OneCycleLR writes `momentum` (or `betas[0]`) into every parameter group.
    ///
    /// As in PyTorch, SGD built with momentum 0 is turned into SGD with momentum: its buffer
    /// starts as the gradient of the next step (PyTorch's `buf = grad.clone()`), and its
    /// `dampening` and `nesterov` stay as they were. A buffer the momentum stops using (SGD or
    /// RMSprop set to momentum 0) is kept aside and taken up again when the momentum returns,
    /// as PyTorch keeps it in its state. One difference remains: SGD with `dampening` τ > 0
    /// whose momentum is turned on *after* its first step starts that buffer at 0, so its
    /// first buffer is (1 − τ)·g where PyTorch's is g (identical with τ = 0, PyTorch's
    /// default, and whenever the momentum is set before the first step, as a trainer does).
    ///
    /// The value is checked as [`set_lr`](Optimizer::set_lr) checks the lr: one the optimizer's
    /// constructor would refuse (SGD's momentum outside `[0, 1)`, Adam's β₁ outside `[0, 1)`)
    /// is reported by the next [`step`](Optimizer::step), which updates nothing.
    ///
    /// ```
    /// use lazarus_optim::{Adadelta, Error, Optimizer, Sgd};
    /// let mut opt = Sgd::new(0.1)?; // momentum 0
    /// opt.set_momentum(0.95)?;
    /// assert_eq!(opt.config().momentum, 0.95);
    /// assert!(matches!(Adadelta::new(1.0)?.set_momentum(0.9), Err(Error::NoMomentum { .. })));
    /// # Ok::<(), lazarus_optim::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NoMomentum`](crate::Error::NoMomentum) when the optimizer has no momentum and no
    /// β₁ ([`cycled_momentum`](Optimizer::cycled_momentum) is `None`); nothing is changed.
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        let _ = momentum;
        Err(Error::NoMomentum {
            optimizer: "Optimizer",
        })
    }

    /// Export the state by parameter path: tensors `"<path>.<buffer>"` (PyTorch's buffer names:
    /// `momentum_buffer`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `square_avg`, `grad_avg`,
    /// `sum`, `acc_delta`), scalars `"<path>.step"` (updates done) and `"lr"` (the base rate),
    /// and [`kind`](OptimizerState::kind): the optimizer's PyTorch class name (`"SGD"`, `"Adam"`).
    fn state(&self) -> OptimizerState;

    /// Check, changing nothing, that `state` would load into this optimizer and fit `model`:
    /// everything [`load_state`](Optimizer::load_state) and the next [`step`](Optimizer::step)
    /// would reject because of the state. Its kind, its `lr` (as the `f32` it becomes, for every
    /// parameter group), its keys (none unknown, none missing), its tensors' shapes against
    /// `model`'s parameters, its step counts, and its buffers' values (finite; `>= 0` for
    /// running sums and averages of squares). An optimizer that has not seen a model yet checks
    /// against `model`'s parameters (paths, shapes, and the settings its groups give them);
    /// one that has checks that `model` still has the parameters its state was built for.
    ///
    /// Contract: if `check_state(state, model)` is `Ok`, then `load_state(state)` succeeds and
    /// the next `step(model)` does not fail because of the state (it can still fail for reasons
    /// of its own, such as an invalid lr given to [`set_lr`](Optimizer::set_lr) afterwards).
    /// This is what lets a trainer validate a whole checkpoint before it changes the model,
    /// the optimizer or the schedule.
    ///
    /// # Errors
    /// [`Error::StateKindMismatch`](crate::Error::StateKindMismatch) for a state of another
    /// optimizer; [`Error::StateMismatch`](crate::Error::StateMismatch) naming the first key
    /// that does not fit; [`Error::ParamChanged`](crate::Error::ParamChanged),
    /// [`Error::ParamCountChanged`](crate::Error::ParamCountChanged) or
    /// [`Error::NonContiguous`](crate::Error::NonContiguous) when `model` is not the model this
    /// optimizer has been stepping, or not one it can step (the step would say so too);
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) when the groups'
    /// settings for `model`'s parameters are invalid (the first step would say so too).
    fn check_state(&self, state: &OptimizerState, model: &dyn Layer) -> Result<()>;

    /// Import a state exported by [`state`](Optimizer::state) of the same kind of optimizer.
    /// Restores the base `lr` too. If the optimizer has not seen the model yet (no step so
    /// far), only the kind and the lr can be checked now; the rest is checked against the model
    /// on the next [`step`](Optimizer::step), which then fails without moving any parameter.
    /// Call [`check_state`](Optimizer::check_state) first to know before changing anything.
    ///
    /// A state with no kind (`kind: None`, as written before the kind was recorded) is accepted
    /// if its keys fit.
    ///
    /// # Errors
    /// [`Error::StateKindMismatch`](crate::Error::StateKindMismatch) for a state of another
    /// optimizer; [`Error::StateMismatch`](crate::Error::StateMismatch) naming the first key
    /// that does not fit (unknown parameter or buffer, wrong shape, missing buffer, bad step
    /// count, NaN, infinite or (for a second moment) negative buffer value, an lr that is not
    /// finite as `f32`). Nothing is changed on error.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;

    /// Set every parameter's gradient to zero (PyTorch's `optimizer.zero_grad()`).
    fn zero_grad(&self, model: &mut dyn Layer) {
        model.zero_grad();
    }
}

/// A boxed optimizer is an optimizer, so code that picks one at run time (`Box<dyn Optimizer>`)
/// can hand it to anything that takes `impl Optimizer`.
impl<O: Optimizer + ?Sized> Optimizer for Box<O> {
    fn step(&mut self, model: &mut dyn Layer) -> Result<()> {
        (**self).step(model)
    }

    fn lr(&self) -> f32 {
        (**self).lr()
    }

    fn set_lr(&mut self, lr: f32) {
        (**self).set_lr(lr);
    }

    fn cycled_momentum(&self) -> Option<f64> {
        (**self).cycled_momentum()
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        (**self).set_momentum(momentum)
    }

    fn state(&self) -> OptimizerState {
        (**self).state()
    }

    fn check_state(&self, state: &OptimizerState, model: &dyn Layer) -> Result<()> {
        (**self).check_state(state, model)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        (**self).load_state(state)
    }

    fn zero_grad(&self, model: &mut dyn Layer) {
        (**self).zero_grad(model);
    }
}

/// An optimizer's (or a schedule's) state: named tensors and named numbers.
///
/// Keys follow the parameter paths: `"0.weight.momentum_buffer"`, `"0.weight.exp_avg"`,
/// `"0.weight.step"`, and `"lr"` for the base learning rate. Schedules use scalars only
/// (`"last_epoch"`, `"lr"`, ...). Ordered maps, so a saved state is deterministic.
///
/// ```
/// use lazarus_optim::{Adam, Error, Optimizer, OptimizerState, Sgd};
/// let mut s = OptimizerState::default();
/// s.scalars.insert("lr".into(), 0.1);
/// assert_eq!(s.scalars["lr"], 0.1);
///
/// // The kind says which optimizer wrote a state: an SGD state does not load into Adam.
/// let sgd_state = Sgd::new(0.1)?.state();
/// assert_eq!(sgd_state.kind.as_deref(), Some("SGD"));
/// let err = Adam::new(1e-3)?.load_state(&sgd_state).unwrap_err();
/// assert_eq!(err.to_string(), "Adam: cannot load a state saved by SGD");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptimizerState {
    /// What wrote the state: the PyTorch class name of the optimizer or schedule (`"SGD"`,
    /// `"Adam"`, `"AdamW"`, `"RMSprop"`, `"Adagrad"`, `"Adadelta"`, `"StepLR"`,
    /// `"ExponentialLR"`, `"CosineAnnealingLR"`, `"LinearLR"`, `"OneCycleLR"`,
    /// `"ReduceLROnPlateau"`; a custom [`UpdateRule`](crate::UpdateRule)'s `NAME`).
    ///
    /// Every `state()` sets it, and `load_state` refuses a state of another kind with
    /// [`Error::StateKindMismatch`](crate::Error::StateKindMismatch) (resuming an SGD run with
    /// Adam is a mistake to report, not a state to reinterpret). `None` means unknown, as in
    /// states saved before the kind was recorded: those still load when their keys fit.
    pub kind: Option<String>,
    /// Per-parameter buffers, shaped like their parameter.
    pub tensors: BTreeMap<String, Tensor>,
    /// Step counts, learning rates, schedule counters.
    pub scalars: BTreeMap<String, f64>,
}

/// `Err(StateKindMismatch)` when `state` says it was saved by something other than `expected`
/// (a state with no kind, saved before the kind was recorded, passes).
pub(crate) fn check_kind(expected: &'static str, state: &OptimizerState) -> Result<()> {
    match &state.kind {
        Some(found) if found != expected => Err(Error::StateKindMismatch {
            expected,
            found: found.clone(),
        }),
        _ => Ok(()),
    }
}
