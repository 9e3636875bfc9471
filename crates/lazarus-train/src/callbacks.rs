//! Callbacks: code the trainer runs after each batch and each epoch: early stopping, saving the
//! best model, or any closure of yours.

use std::path::PathBuf;

use lazarus_core::{Layer, Tensor};
use lazarus_optim::{LrScheduler, Optimizer};

use crate::checkpoint::{TrainingState, save_checkpoint};
use crate::{EpochRecord, Error, Result};

/// Whether training goes on after a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this batch or epoch.
    Stop,
}

/// What a callback sees after a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchEnd {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Batch index within the epoch, from 0.
    pub batch: usize,
    /// The batch's loss.
    pub loss: f32,
    /// Samples in the batch.
    pub size: usize,
}

/// What a callback sees (and may change) after an epoch.
pub struct EpochEnd<'a> {
    /// The epoch's metrics.
    pub record: &'a EpochRecord,
    /// The model, to snapshot, save or modify.
    pub model: &'a mut dyn Layer,
    /// The optimizer (for its state).
    pub optimizer: &'a dyn Optimizer,
    /// The learning-rate schedule, if any (for its state).
    pub scheduler: Option<&'a dyn LrScheduler>,
}

impl EpochEnd<'_> {
    /// The state a checkpoint needs to resume after this epoch: the epoch count and the
    /// optimizer's and schedule's state.
    pub fn training_state(&self) -> TrainingState {
        let mut state = TrainingState {
            epoch: self.record.epoch,
            ..TrainingState::default()
        };
        state
            .groups
            .insert("optimizer".into(), self.optimizer.state());
        if let Some(s) = self.scheduler {
            state.groups.insert("scheduler".into(), s.state());
        }
        state
    }
}

/// Code run by [`Trainer::fit`](crate::Trainer::fit) at fixed points. Every method has a
/// default that does nothing.
pub trait Callback: Send {
    /// After every training batch.
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_batch_end(&mut self, _batch: &BatchEnd) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// After every epoch, once validation has run.
    ///
    /// # Errors
    /// Any error stops training and is returned by `fit`.
    fn on_epoch_end(&mut self, _epoch: &mut EpochEnd<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// When training ends (normally or stopped by a callback).
    ///
    /// # Errors
    /// Returned by `fit`.
    fn on_train_end(&mut self, _model: &mut dyn Layer) -> Result<()> {
        Ok(())
    }
}

/// The quantity a callback watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// Validation loss (lower is better). The Keras default.
    ValLoss,
    /// Validation accuracy (higher is better).
    ValAccuracy,
    /// Training loss (lower is better).
    TrainLoss,
    /// Training accuracy (higher is better).
    TrainAccuracy,
}

impl Monitor {
    fn name(self) -> &'static str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
            Monitor::TrainLoss => "train_loss",
            Monitor::TrainAccuracy => "train_accuracy",
        }
    }

    fn higher_is_better(self) -> bool {
        matches!(self, Monitor::ValAccuracy | Monitor::TrainAccuracy)
    }

    /// The watched value in `record`, or an error if the run does not measure it.
    fn value(self, record: &EpochRecord) -> Result<f64> {
        let v = match self {
            Monitor::ValLoss => record.val_loss,
            Monitor::ValAccuracy => record.val_accuracy,
            Monitor::TrainLoss => Some(record.train_loss),
            Monitor::TrainAccuracy => record.train_accuracy,
        };
        v.ok_or_else(|| {
            Error::config(
                "callback",
                "monitor",
                format!(
                    "monitors {} but the run does not measure it (no validation set, or targets that are not classes)",
                    self.name()
                ),
            )
        })
    }

    /// Whether `current` beats `best` by more than `min_delta`.
    fn improved(self, current: f64, best: Option<f64>, min_delta: f64) -> bool {
        match best {
            None => true,
            Some(best) if self.higher_is_better() => current > best + min_delta,
            Some(best) => current < best - min_delta,
        }
    }
}

/// Stop when the monitored value has not improved for `patience` epochs, as Keras'
/// `EarlyStopping(monitor='val_loss', min_delta=0, patience=0, restore_best_weights=False)`.
///
/// With `restore_best_weights`, the model gets the parameters of its best epoch back when
/// training ends.
///
/// ```
/// use lazarus_train::callbacks::{EarlyStopping, Monitor};
/// let stop = EarlyStopping::new(Monitor::ValLoss).patience(3).min_delta(1e-4)?.restore_best_weights(true);
/// # let _ = stop;
/// assert!(EarlyStopping::new(Monitor::ValLoss).min_delta(-1e-4).is_err());
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    min_delta: f64,
    restore_best_weights: bool,
    best: Option<f64>,
    best_epoch: Option<usize>,
    wait: usize,
    best_weights: Option<Vec<Tensor>>,
}

impl EarlyStopping {
    /// Watch `monitor`, patience 0, min_delta 0, no restoring (Keras' defaults).
    pub fn new(monitor: Monitor) -> Self {
        Self {
            monitor,
            patience: 0,
            min_delta: 0.0,
            restore_best_weights: false,
            best: None,
            best_epoch: None,
            wait: 0,
            best_weights: None,
        }
    }

    /// Epochs without improvement to tolerate before stopping.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Smallest change that counts as an improvement (absolute, in the monitored quantity's
    /// units).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `min_delta` is finite and >= 0. (Keras silently takes
    /// the absolute value of a negative one; here it is refused, as a sign mistake.)
    pub fn min_delta(mut self, min_delta: f64) -> Result<Self> {
        let ok = min_delta >= 0.0 && min_delta.is_finite();
        Error::check_setting(
            ok,
            "early_stopping",
            "min_delta",
            "finite and >= 0",
            min_delta,
        )?;
        self.min_delta = min_delta;
        Ok(self)
    }

    /// Put the best epoch's parameters back when training ends.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// The epoch (from 1) with the best monitored value so far.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, e: &mut EpochEnd<'_>) -> Result<Control> {
        let current = self.monitor.value(e.record)?;
        self.wait += 1;
        if self.monitor.improved(current, self.best, self.min_delta) {
            self.best = Some(current);
            self.best_epoch = Some(e.record.epoch);
            self.wait = 0;
            if self.restore_best_weights {
                let mut weights = Vec::new();
                e.model
                    .visit_params(&mut |_, p| weights.push(p.value.clone()));
                self.best_weights = Some(weights);
            }
            return Ok(Control::Continue);
        }
        Ok(if self.wait > self.patience {
            Control::Stop
        } else {
            Control::Continue
        })
    }

    fn on_train_end(&mut self, model: &mut dyn Layer) -> Result<()> {
        if let Some(weights) = self.best_weights.take() {
            let mut best = weights.into_iter();
            model.visit_params_mut(&mut |_, p| {
                if let Some(w) = best.next() {
                    p.value = w;
                }
            });
        }
        Ok(())
    }
}

/// Save a training checkpoint after each epoch, or only when the monitored value improves
/// (Keras' `ModelCheckpoint(save_best_only=True)`). Saves are atomic: a crash mid-save keeps
/// the previous good file.
///
/// Weights that hold a NaN or an infinity are never saved: the epoch's save is skipped, a
/// warning naming the epoch and the tensor goes to stderr, and the previous file stays. (The
/// trainer already stops at the step that makes a weight non-finite, so this guards against
/// other callbacks that change the model.)
#[derive(Debug, Clone)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: Monitor,
    save_best_only: bool,
    best: Option<f64>,
}

impl ModelCheckpoint {
    /// Save to `path` after every epoch.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            monitor: Monitor::ValLoss,
            save_best_only: false,
            best: None,
        }
    }

    /// Save only when `monitor` improves.
    pub fn save_best_only(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self.save_best_only = true;
        self
    }
}

impl Callback for ModelCheckpoint {
    fn on_epoch_end(&mut self, e: &mut EpochEnd<'_>) -> Result<Control> {
        let previous_best = self.best;
        if self.save_best_only {
            let current = self.monitor.value(e.record)?;
            if !self.monitor.improved(current, self.best, 0.0) {
                return Ok(Control::Continue);
            }
            self.best = Some(current);
        }
        let state = e.training_state();
        match save_checkpoint(&self.path, &*e.model, Some(&state)) {
            Err(Error::NonFiniteTensor { tensor, .. }) => {
                let message = format!(
                    "warning: epoch {}: not saving {}: tensor `{tensor}` is not finite",
                    e.record.epoch,
                    self.path.display()
                );
                crate::console::eprint_line(&message)?;
                // The file still holds the previous best, and the bar for the next save stays there.
                self.best = previous_best;
                Ok(Control::Continue)
            }
            other => other.map(|()| Control::Continue),
        }
    }
}

/// A closure run after every epoch: `EpochFn(|e| { println!("{}", e.record.train_loss); Ok(Control::Continue) })`.
pub struct EpochFn<F>(pub F);

impl<F> Callback for EpochFn<F>
where
    F: FnMut(&mut EpochEnd<'_>) -> Result<Control> + Send,
{
    fn on_epoch_end(&mut self, e: &mut EpochEnd<'_>) -> Result<Control> {
        (self.0)(e)
    }
}

/// A closure run after every batch.
pub struct BatchFn<F>(pub F);

impl<F> Callback for BatchFn<F>
where
    F: FnMut(&BatchEnd) -> Result<Control> + Send,
{
    fn on_batch_end(&mut self, b: &BatchEnd) -> Result<Control> {
        (self.0)(b)
    }
}
