//! `GroupedOptimizer`: the machinery every optimizer shares.
//!
//! Parameter groups, weight decay by role, per-parameter settings and state kept in visiting
//! order, and the step that runs the [`UpdateRule`] over every parameter. One parameter's
//! settings and buffers are a `Slot` (`grouped/slot.rs`); checking the model against the
//! state, and exporting and importing the state, are in `grouped/state.rs`.

mod slot;
mod state;

use lazarus_core::{Layer, ParamRole};

use crate::param_group::ParamGroup;
use crate::{Error, GroupBuilder, Optimizer, OptimizerState, Result, Selector, UpdateRule};
use slot::Slot;

/// An optimizer: an [`UpdateRule`] (SGD's, Adam's, ...) applied to every parameter of a model,
/// with parameter groups and a state keyed by parameter path.
///
/// [`Sgd`](crate::Sgd), [`Adam`](crate::Adam), [`AdamW`](crate::AdamW),
/// [`RmsProp`](crate::RmsProp), [`Adagrad`](crate::Adagrad) and [`Adadelta`](crate::Adadelta) are
/// this type with their rule; their builder methods (`Sgd::new(0.1)?.momentum(0.9)?`) set the
/// defaults, and [`group`](GroupedOptimizer::group) overrides them for some parameters.
///
/// **Weight decay, by role.** The defaults' `weight_decay` applies to
/// [`ParamRole::Weight`] parameters only. Biases gain nothing from it, and decaying PReLU's
/// alpha ([`ParamRole::Slope`]) pulls the slope towards 0, which turns PReLU back into a ReLU,
/// the unit the slope was there to keep alive (He et al. 2015 train PReLU without decay on
/// alpha; PyTorch's PReLU docs: "weight decay should not be used when learning a for good
/// performance"). PyTorch itself decays every parameter in a group;
/// [`decay_all`](GroupedOptimizer::decay_all) gives that behaviour, and a group gives one role
/// a decay of its own: `opt.group(ParamRole::Slope).weight_decay(1e-4)?`.
///
/// **Groups** apply in the order they were created; a later group overrides an earlier one
/// for the hyper-parameters both set. A group's `lr` is kept as a ratio to the base lr
/// (see [`Optimizer::set_lr`]). A momentum set by a schedule ([`Optimizer::set_momentum`])
/// applies to every group, over what the group says, as PyTorch's OneCycleLR writes it into
/// every param group.
///
/// **State** is built at the first [`step`](Optimizer::step), one entry per parameter in
/// visiting order, and never reallocated: each later step checks count, paths, shapes and roles
/// (comparisons, no allocation) and then runs one fused pass per parameter.
///
/// ```
/// use lazarus_core::ParamRole;
/// use lazarus_optim::{Adam, Optimizer};
/// // PyTorch's behaviour: decay everything, including biases and PReLU slopes.
/// let opt = Adam::new(1e-3)?.weight_decay(1e-4)?.decay_all();
/// assert_eq!(opt.lr(), 1e-3);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub struct GroupedOptimizer<R: UpdateRule> {
    defaults: R,
    decay_all: bool,
    groups: Vec<ParamGroup<R>>,
    /// Whether the state has been built (a model with no parameters has no slots, but is seen).
    built: bool,
    slots: Vec<Slot<R>>,
    /// A state imported before the first step, checked against the model when it is first seen.
    pending: Option<OptimizerState>,
    /// Defaults or groups changed since the slots' settings were worked out.
    dirty: bool,
    /// The momentum (or β₁) the last [`Optimizer::set_momentum`] gave every parameter, over
    /// what the defaults and groups say, as PyTorch's OneCycleLR writes it into every group.
    momentum: Option<f64>,
    /// The error of the last [`Optimizer::set_lr`] or [`Optimizer::set_momentum`], if the lr
    /// or momentum it set (or a group's lr derived from it) is invalid: returned by every
    /// `step` until a valid one is set.
    setting_error: Option<Error>,
}

impl<R: UpdateRule> std::fmt::Debug for GroupedOptimizer<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(R::NAME)
            .field("defaults", &self.defaults)
            .field("decay_all", &self.decay_all)
            .field("groups", &self.groups)
            .field("params", &self.slots.len())
            .finish()
    }
}

impl<R: UpdateRule> GroupedOptimizer<R> {
    /// An optimizer with these default hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] from [`UpdateRule::validate`].
    pub fn from_rule(defaults: R) -> Result<Self> {
        defaults.validate()?;
        Ok(Self {
            defaults,
            decay_all: false,
            groups: Vec::new(),
            built: false,
            slots: Vec::new(),
            pending: None,
            dirty: false,
            momentum: None,
            setting_error: None,
        })
    }

    /// The default hyper-parameters.
    pub fn config(&self) -> &R {
        &self.defaults
    }

    /// Change default hyper-parameters with a closure, builder style; every optimizer's named
    /// setters (`momentum`, `betas`, ...) are this.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] when the result is invalid (the optimizer is dropped:
    /// this is for construction).
    pub fn configure(mut self, edit: impl FnOnce(&mut R)) -> Result<Self> {
        let mut config = self.defaults;
        edit(&mut config);
        config.validate()?;
        self.defaults = config;
        self.dirty = true;
        Ok(self)
    }

    /// Decay every parameter, whatever its role: PyTorch's behaviour (by default only
    /// [`ParamRole::Weight`] parameters are decayed).
    pub fn decay_all(mut self) -> Self {
        self.decay_all = true;
        self.dirty = true;
        self
    }

    /// Start a parameter group: the parameters `selector` matches (a [`ParamRole`], a path
    /// prefix such as `"0."`, or a [`Selector::path`] predicate) get the hyper-parameters set on
    /// the returned builder.
    pub fn group(&mut self, selector: impl Into<Selector>) -> GroupBuilder<'_, R> {
        self.dirty = true;
        self.groups.push(ParamGroup::new(selector.into()));
        GroupBuilder {
            group: self.groups.last_mut().expect("a group was just pushed"),
            defaults: &self.defaults,
        }
    }

    /// The hyper-parameters for the parameter at `path` with role `role`, with `base_lr` as the
    /// base learning rate (so `lr` is `base_lr` or a group's ratio of it), and the ratio.
    fn settings_for(&self, path: &str, role: ParamRole, base_lr: f32) -> Result<(R, f32)> {
        let mut config = self.defaults;
        if !self.decay_all && role != ParamRole::Weight {
            *config.weight_decay_mut() = 0.0;
        }
        let mut lr_scale = 1.0;
        for group in self
            .groups
            .iter()
            .filter(|g| g.selector.matches(path, role))
        {
            group.apply(&mut config);
            lr_scale = group.lr_scale.unwrap_or(lr_scale);
        }
        if let Some(momentum) = self.momentum {
            config = with_momentum(config, momentum).unwrap_or(config);
        }
        *config.lr_mut() = base_lr * lr_scale;
        config.validate()?;
        Ok((config, lr_scale))
    }

    /// Work the settings out again after the defaults or groups changed; buffers a new setting
    /// needs (amsgrad switched on, say) start fresh, the others are kept.
    fn resolve(&mut self) -> Result<()> {
        let mut settings = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            settings.push(self.settings_for(&slot.path, slot.role, self.defaults.lr())?);
        }
        for (slot, (config, lr_scale)) in self.slots.iter_mut().zip(settings) {
            slot.set_config(config);
            slot.lr_scale = lr_scale;
        }
        self.dirty = false;
        Ok(())
    }

    /// The first error of the defaults' or a parameter's settings, as changed by
    /// [`Optimizer::set_lr`] and [`Optimizer::set_momentum`].
    fn check_settings(&self) -> Option<Error> {
        let slots = self.slots.iter();
        let first_slot_error = || slots.map(|s| s.config.validate()).find_map(Result::err);
        self.defaults.validate().err().or_else(first_slot_error)
    }
}

/// `config` with its momentum (or β₁) set to `momentum`; `None` if the rule has neither.
fn with_momentum<R: UpdateRule>(mut config: R, momentum: f64) -> Option<R> {
    *config.cycled_momentum_mut()? = momentum;
    Some(config)
}

impl<R: UpdateRule> Optimizer for GroupedOptimizer<R> {
    fn step(&mut self, model: &mut dyn Layer) -> Result<()> {
        if let Some(error) = &self.setting_error {
            return Err(error.clone());
        }
        if self.built {
            self.check(model)?;
            if self.dirty {
                self.resolve()?;
            }
        } else {
            self.build(model)?;
            // `build` read shapes and roles; now the same check as every later step.
            self.check(model)?;
        }
        let slots = &mut self.slots;
        let mut index = 0;
        let mut non_finite = None;
        model.visit_params_mut(&mut |path, p| {
            let slot = &mut slots[index];
            index += 1;
            slot.step += 1;
            let value = p.value.as_slice_mut().expect("`check` verified the layout");
            let grad = p.grad.as_slice().expect("`check` verified the layout");
            let finite = slot
                .config
                .update(slot.step, value, grad, &mut slot.buffers);
            if !finite && non_finite.is_none() {
                non_finite = Some(path.to_string());
            }
        });
        match non_finite {
            None => Ok(()),
            Some(path) => Err(Error::NonFiniteUpdate {
                optimizer: R::NAME,
                path,
            }),
        }
    }

    fn lr(&self) -> f32 {
        self.defaults.lr()
    }

    /// Sets the base lr and every parameter's lr (a group's ratio times the base), then checks
    /// them with the same rule as at construction ([`UpdateRule::validate`]: a finite lr >= 0),
    /// before and after the first step alike.
    ///
    /// `set_lr` cannot return an error (the [`Optimizer`] trait's signature), so an invalid lr
    /// (NaN, negative, infinite, or a group's lr overflowing) is kept and reported by the next
    /// [`step`](Optimizer::step): it returns [`Error::InvalidHyperParameter`] (parameter `lr`)
    /// and updates no parameter, and so does every later step until a valid lr is set.
    fn set_lr(&mut self, lr: f32) {
        *self.defaults.lr_mut() = lr;
        for slot in &mut self.slots {
            *slot.config.lr_mut() = lr * slot.lr_scale;
        }
        self.setting_error = self.check_settings();
    }

    fn cycled_momentum(&self) -> Option<f64> {
        let mut defaults = self.defaults;
        defaults.cycled_momentum_mut().map(|m| *m)
    }

    /// Sets the rule's [`cycled_momentum_mut`](UpdateRule::cycled_momentum_mut) (SGD's and
    /// RMSprop's `momentum`, Adam's β₁) in the defaults and for every parameter, groups
    /// included, and keeps it there over what groups say until the next call. Checked like
    /// [`set_lr`](Optimizer::set_lr): a value the rule's constructor would refuse is reported
    /// by the next [`step`](Optimizer::step).
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        let Some(defaults) = with_momentum(self.defaults, momentum) else {
            return Err(Error::NoMomentum { optimizer: R::NAME });
        };
        self.defaults = defaults;
        self.momentum = Some(momentum);
        for slot in &mut self.slots {
            if let Some(config) = with_momentum(slot.config, momentum) {
                slot.set_config(config);
            }
        }
        self.setting_error = self.check_settings();
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        self.export()
    }

    /// Checks `state` against the parameters of the model the optimizer has seen, or, before
    /// the first step, of `model` (paths, shapes, roles and the settings the groups give them).
    fn check_state(&self, state: &OptimizerState, model: &dyn Layer) -> Result<()> {
        self.check_import(state, model)
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.import(state)
    }
}
