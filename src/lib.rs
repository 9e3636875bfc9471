//! lazarus: a small neural-network framework on ndarray.
//!
//! This crate re-exports the four member crates ([`core`], [`activations`], [`optim`],
//! [`train`]) and offers [`prelude`]. Start with the README's quickstart, or with the
//! [`guide`]: [why ReLU units die](guide::why_relu_units_die) (the article this project grew
//! from, runnable), [how it works](guide::how_it_works) (seven questions, each answered from
//! two files of the tour below) and [lazarus for PyTorch users](guide::pytorch_users).
//!
//! # A reading tour for learners
//!
//! The README's tour, the same words (`tests/reading_tour.rs` checks that they stay the same):
//!
//! Read these files in this order to see training end to end. Each shows the math as the formulas
//! say, in plain ndarray code; the speed (SIMD, threads, GEMM) lives in `kernels/` modules beside
//! them, each fast path tested against the plain version, and you never need to open one to
//! follow the math.
//!
//! 1. `crates/lazarus-core/src/layer.rs`: the `Layer` trait. Forward keeps what backward needs;
//!    backward turns dL/dy into dL/dx and adds dL/dθ into each parameter.
//! 2. `crates/lazarus-core/src/linear.rs`: `y = x Wᵀ + b` and its three backward formulas
//!    (`backward_reference`): two matrix products, `dW = Gᵀx` and `dx = G W`, and a sum over the
//!    batch, `db = Σ G`.
//! 3. `crates/lazarus-activations/src/relu.rs`: ReLU and its derivative `relu_grad`, exactly 0 for
//!    x ≤ 0 (and at 0, as in PyTorch), so a unit whose inputs are all negative gets no gradient,
//!    ever. Then `leaky_relu.rs`, `prelu.rs` (a learned slope, a `Param` like any weight, with
//!    dL/dα in `prelu_backward`) and `elu.rs`.
//! 4. `crates/lazarus-core/src/loss/cross_entropy.rs`: where every backward pass starts:
//!    ∂ℓ/∂z = softmax(z) − onehot(y), handed on by `Loss::input_grad` (`loss/mod.rs`).
//! 5. `crates/lazarus-optim/src/sgd.rs`: the update rule θ ← θ − lr·g, with PyTorch's momentum;
//!    `grouped.rs` decides which parameters are decayed (weights only, by default).
//! 6. `crates/lazarus-train/src/trainer.rs`: `Trainer::fit`, the loop that ties them together,
//!    one line per textbook step: forward → loss → zero_grad → backward → clip → step →
//!    schedule, on the shuffled batches of `crates/lazarus-train/src/data/loader.rs`. What
//!    watches it (progress bar, diagnostics, your callbacks), and at which point, is in one place
//!    beside it: `crates/lazarus-train/src/observer.rs`. The gradient norm is measured once per
//!    step, in `crates/lazarus-train/src/grad_norms.rs`, for clipping and diagnostics alike;
//!    clipping itself is `crates/lazarus-optim/src/clip.rs`.
//! 7. `crates/lazarus-core/src/activation_stats.rs` and
//!    `crates/lazarus-train/src/diagnostics.rs`: what a silent unit is (silent on every sample of
//!    a fixed probe set, with fixed weights), when it is dead and when only inactive, and when
//!    the trainer measures them (the `Diagnostics` hooks, one per point of the run). Each
//!    measurement has its own file beside it: the probe set and the probe pass in
//!    `crates/lazarus-train/src/diagnostics/probe.rs`, the count over a pass in
//!    `crates/lazarus-train/src/diagnostics/unit_tracker.rs`, gradient norms in
//!    `crates/lazarus-train/src/diagnostics/gradients.rs`, and the rule of each warning (a spike,
//!    a vanishing gradient, a bias a BatchNorm cancels) in
//!    `crates/lazarus-train/src/diagnostics/warnings.rs`.
//! 8. `crates/lazarus-core/src/walk.rs` and `crates/lazarus-train/src/checkpoint/model.rs`:
//!    parameter and buffer paths (`0.weight`, `2.weight`, `3.running_mean`) built in one place,
//!    which are PyTorch's `state_dict` keys.
//!
//! Seven questions a learner asks (where ReLU's derivative at 0 is decided, how PReLU's alpha
//! reaches the optimizer, one training step, dead vs inactive, clipping, checkpoint keys, Linear's
//! backward) are answered from these files in the guide `lazarus::guide::how_it_works`, each with
//! the file and function that holds the answer.
//!
//! Three prose guides come with the API docs (`cargo doc --open`, module `lazarus::guide`):
//! `src/guide/how_it_works.rs` (the seven questions above), `src/guide/why_relu_units_die.rs`,
//! the article this project grew from with each claim shown by a few lines of code that run as
//! tests, and `src/guide/pytorch_users.rs`, the names and the few conventions that differ from
//! PyTorch.
//!
//! Then the article's story, runnable:
//!
//! ```sh
//! cargo run --release --example dying_relu              # ReLU vs LeakyReLU vs PReLU vs ELU, dead units side by side
//! cargo run --release --example dying_relu -- --report lab.html  # ... and every run on one HTML page
//! cargo run --release --example dying_relu -- born-dead # how often a fresh deep narrow ReLU net is born dead
//! cargo run --release --example dying_relu -- init-probe # Xavier vs He: the signal through 30 layers
//! cargo run --release --example activations             # every activation and its derivative, plotted
//! ```
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
