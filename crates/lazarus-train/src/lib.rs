//! # lazarus-train
//!
//! Everything around the layers that a training run needs: data sets and loaders ([`data`]:
//! in-memory [`Dataset`](data::Dataset)s, a shuffling [`DataLoader`](data::DataLoader), the
//! MNIST IDX reader, synthetic digits), the [`Trainer`] fit loop with progress output and a
//! [`History`], [`metrics`], [`callbacks`] (early stopping, best-model checkpoints), the
//! dying-ReLU and exploding-gradient [`diagnostics`], [`checkpoint`]s in safetensors with
//! PyTorch's `state_dict` names, [`plot`]s, and the one-file HTML [`report`] of a run
//! (curves, dead-unit heatmaps, slopes, gradient norms, warnings). Two small helpers keep the
//! promises every run makes: files are replaced atomically ([`atomic_file`]: a failed or killed
//! save never destroys the previous file), and printing never panics ([`console`]).
//!
//! ## Reading the training loop
//!
//! `trainer.rs` holds [`Trainer::fit`]: per batch forward → loss → zero_grad → backward → clip →
//! step → schedule, and nothing else; the batches come from `data/loader.rs`, and the settings
//! (the schedule's too) from `settings.rs`. What watches it (the progress display, the
//! [`diagnostics`], your [`callbacks`]) is attached in one place, `observer.rs`, with a table
//! of what each observer does at each point of the step. The gradient norms clipping and the
//! diagnostics share are measured once per step in `grad_norms.rs`. The [`diagnostics`]
//! module's docs say what it measures and where each part lives (`diagnostics/`: silent units,
//! gradient flow, warnings, ...). This crate's one speed kernel, the parallel copy of a
//! shuffled batch, is `kernels.rs`, tested against a plain gather.
//!
//! ## Settings are checked where they are given
//!
//! A setter or constructor is fallible exactly when its argument can be invalid, and then it
//! returns `Result<Self>` with an [`Error::InvalidConfig`] naming the setting and the value
//! found: [`Trainer::batch_size`]`(0)`, [`Trainer::clip_grad_norm`] with a negative, zero,
//! NaN or infinite norm, [`Trainer::diagnostics`] (and [`Diagnostics::new`](diagnostics::Diagnostics::new))
//! with a [`DiagnosticsConfig`](diagnostics::DiagnosticsConfig) out of range,
//! [`EarlyStopping::min_delta`](callbacks::EarlyStopping::min_delta) below 0,
//! [`DataLoader::new`](data::DataLoader::new) with batch size 0. The mistake is reported on
//! the line that made it, not an epoch later inside `fit`. Setters whose every value means
//! something ([`Trainer::epochs`], [`Trainer::seed`], [`Trainer::verbosity`],
//! [`EarlyStopping::patience`](callbacks::EarlyStopping::patience)) return `Self`. (This is
//! the rule the activations follow too: `LeakyRelu::new(slope)` is fallible, `Relu::new()`
//! is not.) What depends on the data, such as a training set smaller than one batch with
//! `drop_last`, can only be found by `fit`.
//!
//! ```
//! use lazarus_core::{loss::MseLoss, Linear};
//! use lazarus_optim::Sgd;
//! use lazarus_train::{Error, Trainer};
//! use rand::{rngs::StdRng, SeedableRng};
//! let model = Linear::new(2, 1, &mut StdRng::seed_from_u64(0))?;
//! let trainer = Trainer::new(model, MseLoss::new(), Sgd::new(0.1)?);
//! let Err(err) = trainer.clip_grad_norm(-1.0) else { panic!("a negative norm is refused") };
//! assert!(matches!(err, Error::InvalidConfig { .. }));
//! assert_eq!(err.to_string(), "trainer: invalid clip_grad_norm: must be a finite max_norm > 0, found -1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod atomic_file;
pub mod callbacks;
pub mod checkpoint;
pub mod console;
pub mod data;
pub mod diagnostics;
mod error;
mod evaluate;
mod grad_norms;
mod history;
mod kernels;
pub mod metrics;
pub mod models;
mod non_finite;
mod observer;
pub mod plot;
mod predict;
mod progress;
pub mod report;
mod resume;
mod run_report;
mod settings;
mod trainer;

pub use error::{Error, Result, Stage};
pub use evaluate::Evaluation;
pub use history::{EpochRecord, History};
pub use non_finite::first_non_finite_layer;
pub use progress::{Verbosity, summary_line};
pub use resume::ResumeOptions;
pub use trainer::Trainer;
