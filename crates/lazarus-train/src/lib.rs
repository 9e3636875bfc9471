//! # lazarus-train
//!
//! Everything around the layers that a training run needs: data sets and loaders ([`data`]:
//! in-memory [`Dataset`](data::Dataset)s, a shuffling [`DataLoader`](data::DataLoader), the
//! MNIST IDX reader, synthetic digits), the [`Trainer`] fit loop with progress output and a
//! [`History`], [`metrics`], [`callbacks`] (early stopping, best-model checkpoints), the
//! dying-ReLU and exploding-gradient [`diagnostics`], [`checkpoint`]s in safetensors with
//! PyTorch's `state_dict` names, and [`plot`]s. Two small helpers keep the promises every
//! run makes: files are replaced atomically ([`atomic_file`]: a failed or killed save never
//! destroys the previous file), and printing never panics ([`console`]).
#![warn(missing_docs)]

pub mod atomic_file;
pub mod callbacks;
pub mod checkpoint;
pub mod console;
pub mod data;
pub mod diagnostics;
mod error;
mod history;
pub mod metrics;
pub mod models;
mod non_finite;
pub mod plot;
mod progress;
mod resume;
mod trainer;

pub use error::{Error, Result, Stage};
pub use history::{EpochRecord, History};
pub use non_finite::first_non_finite_layer;
pub use progress::{Verbosity, summary_line};
pub use resume::ResumeOptions;
pub use trainer::{Evaluation, Trainer};
