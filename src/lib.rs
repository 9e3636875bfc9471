//! lazarus: a small neural-network framework on ndarray.
//!
//! This crate re-exports the four member crates ([`core`], [`activations`], [`optim`],
//! [`train`]) and offers [`prelude`]. Start with the README's quickstart, or with the
//! [`guide`]: [why ReLU units die](guide::why_relu_units_die) (the article this project grew
//! from, runnable) and [lazarus for PyTorch users](guide::pytorch_users).
#![warn(missing_docs)]

pub mod guide;

pub use lazarus_activations as activations;
pub use lazarus_core as core;
pub use lazarus_optim as optim;
pub use lazarus_train as train;

/// The names most programs need.
pub mod prelude {
    pub use lazarus_activations::{
        ACTIVATION_NAMES, Celu, Elu, Gelu, GeluApproximate, Hardsigmoid, Hardswish, Hardtanh,
        LeakyRelu, LogSigmoid, Mish, PRelu, RRelu, Relu, Relu6, Selu, Sigmoid, Silu, Softplus,
        Softsign, Tanh, activation_by_name,
    };
    pub use lazarus_core::loss::{
        BceWithLogitsLoss, CrossEntropyLoss, HuberLoss, Loss, MseLoss, Target,
    };
    pub use lazarus_core::{
        Dropout, Flatten, Layer, Linear, Mode, Param, ParamRole, Sequential, Tensor,
    };
    pub use lazarus_optim::{
        Adam, AdamW, CosineAnnealingLr, LrScheduler, NormType, Optimizer, Sgd, StepLr,
        clip_grad_norm, clip_grad_value,
    };
    pub use lazarus_train::data::{DataLoader, Dataset, SyntheticDigits};
    pub use lazarus_train::{History, Trainer, Verbosity};
}

/// The README's code blocks, compiled and run as doc tests so the quickstart cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
