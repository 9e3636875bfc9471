//! [`ReportData`]: everything one report page shows, as plain data.
//!
//! Training fills it (or a program reading a finished run's files does), and
//! [`render_report`](super::render_report) draws it. The per-unit part is in
//! [`units`](super::units), the per-parameter part in [`params`](super::params).

use serde::{Deserialize, Serialize};

use super::{GradientNorms, LayerActivity, SlopeHistory, UpdateRatios};
use crate::{EpochRecord, History};

/// What one report page shows: a finished (or stopped) training run.
///
/// Every list may be empty: the page then says what is missing (no PReLU layer, no gradient
/// norms recorded) instead of leaving a hole. Nothing here refers to a file, so the page
/// stands alone.
///
/// ```
/// use lazarus_train::report::{render_report, ReportData};
/// use lazarus_train::{EpochRecord, History};
/// let mut history = History::default();
/// history.push(EpochRecord { epoch: 1, train_loss: 0.5, train_accuracy: Some(0.8),
///     val_loss: None, val_accuracy: None, lr: 0.1, seconds: 1.0, samples_per_second: 1e3,
///     max_grad_norm: None, diagnostics: None });
/// let mut data = ReportData::new("xor");
/// data.epochs = ReportData::curves_from_history(&history);
/// let html = render_report(&data)?;
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportData {
    /// The page's title and heading, e.g. `"mnist: 784-256-256-10 ReLU MLP"`.
    pub title: String,
    /// The model, as text shown as it is (monospace): one line per layer with its shape and
    /// parameter count, as the model summary prints it.
    pub model_summary: String,
    /// The run's settings in the order given: `("optimizer", "SGD lr=0.1 momentum=0.9")`,
    /// `("batch size", "64")`, `("probe set", "2,048 training samples")`, ...
    pub settings: Vec<Setting>,
    /// One entry per finished epoch (from 1), in order: the loss/accuracy curves.
    pub epochs: Vec<EpochCurves>,
    /// One entry per activation layer, in model order: the dead-unit heatmaps.
    pub layers: Vec<LayerActivity>,
    /// One entry per PReLU slope parameter, in model order: the slope distributions.
    pub slopes: Vec<SlopeHistory>,
    /// Gradient norms of every optimizer step, if they were recorded.
    pub gradient_norms: Option<GradientNorms>,
    /// One entry per parameter, in model order: how far each epoch's updates moved it.
    pub update_ratios: Vec<UpdateRatios>,
    /// Every warning of the run, in the order raised.
    pub warnings: Vec<ReportWarning>,
    /// Set when training stopped before its last epoch because a value became non-finite:
    /// what happened, e.g. `"non-finite loss (NaN) at epoch 4, step 37; first non-finite
    /// output at linear[2]"`. The page shows it first, and the other sections cover the epochs
    /// up to the failure.
    pub stopped_early: Option<String>,
}

/// One setting of the run, shown as a row of the summary table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// What is set: `"optimizer"`, `"epochs"`, `"seed"`.
    pub key: String,
    /// Its value, as text.
    pub value: String,
}

impl Setting {
    /// A setting from its name and value.
    pub fn new(key: impl Into<String>, value: impl ToString) -> Self {
        Self {
            key: key.into(),
            value: value.to_string(),
        }
    }
}

/// The curves' points of one epoch: losses, accuracies and learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochCurves {
    /// Epoch number, counting from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch (NaN or infinite for a diverged epoch: not drawn).
    #[serde(with = "crate::history::json_float")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, for class targets.
    #[serde(default, with = "crate::history::json_float::option")]
    pub train_accuracy: Option<f64>,
    /// Validation loss after the epoch, if there is a validation set.
    #[serde(default, with = "crate::history::json_float::option")]
    pub val_loss: Option<f64>,
    /// Validation accuracy after the epoch, for class targets.
    #[serde(default, with = "crate::history::json_float::option")]
    pub val_accuracy: Option<f64>,
    /// Learning rate of the epoch (at its start, for per-batch schedules).
    #[serde(with = "crate::history::json_float")]
    pub lr: f64,
}

impl From<&EpochRecord> for EpochCurves {
    fn from(r: &EpochRecord) -> Self {
        Self {
            epoch: r.epoch,
            train_loss: r.train_loss,
            train_accuracy: r.train_accuracy,
            val_loss: r.val_loss,
            val_accuracy: r.val_accuracy,
            lr: r.lr,
        }
    }
}

/// A warning raised during the run, as one row of the warnings table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportWarning {
    /// What kind of warning, one snake_case word: `dead_units`, `born_dead`,
    /// `gradient_spike`, `vanishing_gradient`, `bias_before_norm`, `non_finite`, ...
    pub kind: String,
    /// The epoch it was raised in (from 1; 0 for the check at initialization).
    pub epoch: usize,
    /// The layer (`relu[1]`) or parameter (`0.weight`) it is about, if any.
    pub subject: Option<String>,
    /// The measured value that raised it (a dead fraction, a norm), if any.
    #[serde(default, with = "crate::history::json_float::option")]
    pub value: Option<f64>,
    /// The full message, as printed during training.
    pub message: String,
}

impl ReportWarning {
    /// A warning of `kind` raised in `epoch`, about no layer or parameter in particular and
    /// with no value: add them with [`about`](Self::about).
    pub fn new(kind: impl Into<String>, epoch: usize, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            epoch,
            subject: None,
            value: None,
            message: message.into(),
        }
    }

    /// The same warning, about `subject` (a layer `relu[1]` or a parameter `0.weight`) with
    /// the measured `value` that raised it.
    pub fn about(self, subject: impl Into<String>, value: Option<f64>) -> Self {
        Self {
            subject: Some(subject.into()),
            value,
            ..self
        }
    }
}

impl ReportData {
    /// An empty report titled `title`; fill in the fields that the run measured.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// The loss/accuracy curves of a run's history, one entry per epoch record.
    pub fn curves_from_history(history: &History) -> Vec<EpochCurves> {
        history.epochs.iter().map(EpochCurves::from).collect()
    }
}
