//! Building an optimizer: `new(lr)` with PyTorch's defaults, then named setters, written once
//! for every optimizer that has the hyper-parameter.
//!
//! Each setter is [`GroupedOptimizer::configure`] with a one-line edit, and `configure`
//! validates the result with the rule's own [`UpdateRule::validate`]: so `Sgd::new(0.1)?
//! .momentum(1.5)` fails at once, with SGD's message, wherever the setter is written. A setter
//! several optimizers share (`eps`, `momentum`) exists for the rules that implement its small
//! accessor trait ([`HasEps`], [`HasMomentum`]); one only a single optimizer has (`betas`,
//! `nesterov`, `rho`) sits in that optimizer's file.

use crate::{GroupedOptimizer, Result, UpdateRule};

/// A rule with PyTorch's defaults for every hyper-parameter but the learning rate: what
/// `Sgd::new(lr)`, `Adam::new(lr)`, ... build.
pub trait PytorchDefaults: UpdateRule {
    /// The hyper-parameters PyTorch's constructor uses when given only `lr`.
    fn pytorch_defaults(lr: f32) -> Self;
}

/// A rule with an ε added to a denominator (Adam, AdamW, RMSprop, Adagrad, Adadelta): it has
/// the [`eps`](GroupedOptimizer::eps) setter.
pub trait HasEps: UpdateRule {
    /// ε, to be set.
    fn eps_mut(&mut self) -> &mut f64;
}

/// A rule with a momentum factor μ (SGD, RMSprop): it has the
/// [`momentum`](GroupedOptimizer::momentum) setter.
pub trait HasMomentum: UpdateRule {
    /// μ, to be set.
    fn momentum_mut(&mut self) -> &mut f64;
}

/// `impl HasEps` (field `eps`) and `impl HasMomentum` (field `momentum`) for a rule's config
/// struct: `shared_setters!(RmsPropConfig: eps, momentum);` gives RMSprop both setters.
macro_rules! shared_setters {
    ($config:ty: eps) => {
        impl $crate::HasEps for $config {
            fn eps_mut(&mut self) -> &mut f64 {
                &mut self.eps
            }
        }
    };
    ($config:ty: momentum) => {
        impl $crate::HasMomentum for $config {
            fn momentum_mut(&mut self) -> &mut f64 {
                &mut self.momentum
            }
        }
    };
    ($config:ty: $($field:ident),+) => {
        $($crate::builder::shared_setters!($config: $field);)+
    };
}
pub(crate) use shared_setters;

impl<R: PytorchDefaults> GroupedOptimizer<R> {
    /// The optimizer with learning rate `lr` and PyTorch's defaults for everything else (see
    /// the optimizer's docs: [`Sgd`](crate::Sgd), [`Adam`](crate::Adam),
    /// [`AdamW`](crate::AdamW) with `weight_decay = 1e-2`, ...).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `lr` is negative,
    /// NaN or infinite.
    pub fn new(lr: f32) -> Result<Self> {
        Self::from_rule(R::pytorch_defaults(lr))
    }
}

impl<R: UpdateRule> GroupedOptimizer<R> {
    /// The default weight decay λ: L2 (added to the gradient) for SGD, Adam, RMSprop, Adagrad
    /// and Adadelta, decoupled (θ ← (1 − γλ)·θ) for AdamW. Applies to
    /// [`ParamRole::Weight`](lazarus_core::ParamRole::Weight) parameters only unless
    /// [`decay_all`](GroupedOptimizer::decay_all) or a group says otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if λ is negative,
    /// NaN or infinite (also once rounded to `f32`).
    pub fn weight_decay(self, weight_decay: f64) -> Result<Self> {
        self.configure(|c| *c.weight_decay_mut() = weight_decay)
    }

    /// Maximise the objective instead of minimising it (PyTorch's `maximize`).
    pub fn maximize(self, maximize: bool) -> Self {
        self.configure(|c| *c.maximize_mut() = maximize)
            .expect("maximize never makes a valid configuration invalid")
    }
}

impl<R: HasEps> GroupedOptimizer<R> {
    /// ε, added to the denominator for numerical stability.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if `eps` is not
    /// finite and > 0, also once rounded to `f32`. PyTorch accepts 0 (and 1e-50, which rounds to
    /// 0): that divides 0 by 0 for a parameter whose gradient has always been 0.
    pub fn eps(self, eps: f64) -> Result<Self> {
        self.configure(|c| *c.eps_mut() = eps)
    }
}

impl<R: HasMomentum> GroupedOptimizer<R> {
    /// Momentum factor μ.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if μ is outside
    /// `[0, 1)`.
    pub fn momentum(self, momentum: f64) -> Result<Self> {
        self.configure(|c| *c.momentum_mut() = momentum)
    }
}
