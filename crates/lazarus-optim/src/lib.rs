//! # lazarus-optim
//!
//! Optimizers, learning-rate schedules and gradient clipping, with PyTorch's exact update rules
//! and defaults, and PyTorch's names (in Rust casing: `Sgd` for `SGD`).
//!
//! Exploding gradients are the article's second problem; the cures live here:
//! [`clip_grad_norm`] caps the step when one batch's gradient explodes (and returns the norm, so
//! you can watch it), adaptive optimizers ([`Adam`], [`RmsProp`]) normalise each element's step,
//! and schedules ([`LinearLr`] warm-up, [`CosineAnnealingLr`]) keep the learning rate sane at
//! the start and end.
//!
//! Reading order: [`Optimizer`] (the contract) → [`Sgd`] (the simplest rule, and PyTorch's
//! momentum convention) → [`Adam`] → [`GroupedOptimizer`] (groups, weight decay by role, state
//! keyed by parameter path) → [`UpdateRule`] (write your own; `builder.rs` gives every rule
//! `new` with [`PytorchDefaults`], and the shared `eps` and `momentum` setters with [`HasEps`]
//! and [`HasMomentum`]) → [`LrScheduler`] (and the momentum [`OneCycleLr`] cycles, applied
//! with [`Optimizer::set_momentum`]) → [`clip_grad_norm`].
//!
//! ```
//! use lazarus_core::{Layer, Linear, Mode, ParamRole, Tensor};
//! use lazarus_optim::{clip_grad_norm, CosineAnnealingLr, LrScheduler, NormType, Optimizer, Sgd};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut model = Linear::new(4, 2, &mut StdRng::seed_from_u64(1))?;
//! let mut opt = Sgd::new(0.1)?.momentum(0.9)?.weight_decay(5e-4)?; // decays `weight` only
//! opt.group(ParamRole::Bias).lr(0.2)?;                              // biases: twice the lr
//! let mut sched = CosineAnnealingLr::new(0.1, 10)?;
//! for _epoch in 0..3 {
//!     opt.zero_grad(&mut model);
//!     model.forward(Tensor::ones(vec![8, 4]).view(), Mode::Train)?;
//!     model.backward(Tensor::ones(vec![8, 2]).view())?;
//!     let norm = clip_grad_norm(&mut model, 1.0, NormType::L2, true)?;
//!     assert!(norm > 1.0);
//!     opt.step(&mut model)?;
//!     opt.set_lr(sched.step(None));
//! }
//! # Ok::<(), lazarus_optim::Error>(())
//! ```
#![warn(missing_docs)]

mod adadelta;
mod adagrad;
mod adam;
mod adamw;
mod builder;
mod clip;
mod error;
mod grouped;
mod kernels;
mod optimizer;
mod param_group;
mod rmsprop;
mod rule;
mod schedule;
mod sgd;

pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamw::AdamW;
pub use builder::{HasEps, HasMomentum, PytorchDefaults};
pub use clip::{NormType, clip_grad_norm, clip_grad_norm_with_total, clip_grad_value, grad_norm};
pub use error::{Error, Result};
pub use grouped::GroupedOptimizer;
pub use optimizer::{Optimizer, OptimizerState};
pub use param_group::{GroupBuilder, Selector};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rule::{Buffer, BufferKind, FiniteCheck, UpdateRule};
pub use schedule::{
    AnnealStrategy, CosineAnnealingLr, ExponentialLr, LinearLr, LrScheduler, OneCycleLr,
    PlateauMode, ReduceLrOnPlateau, StepInterval, StepLr, ThresholdMode,
};
pub use sgd::{Sgd, SgdConfig};
