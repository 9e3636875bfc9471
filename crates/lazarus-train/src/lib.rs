//! lazarus-train (filled in by its issue).
#![warn(missing_docs)]

pub mod callbacks;
pub mod checkpoint;
pub mod data;
pub mod diagnostics;
mod error;
mod history;
pub mod metrics;
pub mod models;
pub mod plot;
mod progress;
mod trainer;

pub use error::{Error, Result};
pub use history::{EpochRecord, History};
pub use progress::{Verbosity, summary_line};
pub use trainer::{Evaluation, Trainer, first_non_finite_layer};
