//! What watches the training loop, attached in one place: the progress display, the
//! diagnostics and your [`Callback`]s.
//!
//! [`Trainer::fit`](crate::Trainer::fit) runs the textbook step on every batch (forward → loss
//! → zero_grad → backward → clip → step → schedule) and nothing else; at fixed points it tells
//! its observers, which only look (and may ask to stop). Each implements the hooks it needs:
//!
//! | hook               | when                               | who does what                                    |
//! |--------------------|------------------------------------|--------------------------------------------------|
//! | `fit_start`        | `fit` begins                       | diagnostics: draw the probe set, probe epoch 0   |
//! | `epoch_start`      | before an epoch's first batch      | progress: a new bar                              |
//! | `after_forward`    | the loss is known finite           | diagnostics: units silent on the batch           |
//! | `after_backward`   | gradients ready, before clipping   | diagnostics: gradient norms, w before the step   |
//! | `after_step`       | after the optimizer step           | diagnostics: update ratio ‖Δw‖/‖w‖               |
//! | `batch_end`        | the batch is done                  | progress: the bar; callbacks: `on_batch_end`     |
//! | `validation_units` | the validation pass                | diagnostics: silent units on the validation set  |
//! | `epoch_record`     | the epoch's record is being filled | diagnostics: probe pass, `EpochDiagnostics`      |
//! | `epoch_end`        | the record is in the history       | progress: summary; diagnostics: table; callbacks: `on_epoch_end` |
//! | `fit_end`          | training ends                      | callbacks: `on_train_end`                        |
//! | `stopped_epoch`    | an error stopped an epoch          | diagnostics: what it measured, for the report    |
//!
//! They are called in this order: the progress display, the diagnostics, then the callbacks
//! in the order they were added; every one is called even when an earlier one asked to stop.
//!
//! The gradient norms are measured once per step, only when clipping or an observer needs them,
//! and the same numbers serve both ([`GradNorms`], `grad_norms.rs`).
//!
//! This file is the hooks ([`TrainingObserver`]) and the list that calls them ([`Observers`]).
//! The observers themselves sit with what they drive: `Progress` in `progress.rs`,
//! `DiagnosticsObserver` in `diagnostics/observer.rs`, and a user's [`Callback`] at the end of
//! this file.

use lazarus_core::Layer;

use crate::callbacks::{BatchEnd, Callback, Control, EpochEnd};
use crate::data::Dataset;
use crate::diagnostics::{DiagnosticsObserver, EpochDiagnostics, UnitTracker};
use crate::grad_norms::GradNorms;
use crate::metrics::EpochMeter;
use crate::progress::{Progress, Verbosity};
use crate::{EpochRecord, Result};

/// What an observer is told when `fit` begins.
pub(crate) struct FitStart<'a> {
    /// The model, before this `fit`'s first step (at initialization for a fresh run).
    pub model: &'a mut dyn Layer,
    /// The training set.
    pub train: &'a Dataset,
    pub batch_size: usize,
    /// The trainer's seed.
    pub seed: u64,
    /// The clipping threshold, if any.
    pub clip_norm: Option<f32>,
    /// The first epoch this `fit` trains (1 for a fresh run, later when resumed).
    pub first_epoch: usize,
}

/// Code that watches [`Trainer::fit`](crate::Trainer::fit) at the points of the table above.
/// Every hook has a default that does nothing.
pub(crate) trait TrainingObserver {
    /// `fit` begins.
    fn fit_start(&mut self, _start: &mut FitStart<'_>) -> Result<()> {
        Ok(())
    }

    /// Epoch `epoch` of `epochs` begins, with `batches` batches.
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}

    /// After the training forward pass and the loss (known finite): the model holds the
    /// batch's activation statistics.
    fn after_forward(&mut self, _model: &dyn Layer) {}

    /// Whether [`after_backward`](Self::after_backward) needs the gradient norms measured.
    fn wants_grad_norms(&self) -> bool {
        false
    }

    /// After backward, before clipping. `norms` is measured when clipping is on or an observer
    /// [wants](Self::wants_grad_norms) it, else empty.
    fn after_backward(&mut self, _model: &dyn Layer, _norms: &GradNorms) {}

    /// After the optimizer step.
    fn after_step(&mut self, _model: &dyn Layer) {}

    /// After a training batch, with the epoch's running loss and accuracy.
    fn batch_end(&mut self, _end: &BatchEnd, _meter: &EpochMeter) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// A tracker to record silent units in during the validation pass, if this observer
    /// wants one.
    fn validation_units(&mut self) -> Option<&mut UnitTracker> {
        None
    }

    /// Add to the epoch's record before it goes into the history (the model has the epoch's
    /// final weights).
    fn epoch_record(&mut self, _model: &mut dyn Layer, _record: &mut EpochRecord) -> Result<()> {
        Ok(())
    }

    /// After the epoch, its record in the history.
    fn epoch_end(&mut self, _end: &mut EpochEnd<'_>) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// When training ends (normally or stopped).
    fn fit_end(&mut self, _model: &mut dyn Layer) -> Result<()> {
        Ok(())
    }

    /// An error stopped the current epoch: what was measured of it, if anything.
    fn stopped_epoch(&mut self) -> Option<EpochDiagnostics> {
        None
    }
}

/// Every observer of a trainer, in the order they are called.
pub(crate) struct Observers {
    pub(crate) progress: Progress,
    pub(crate) diagnostics: Option<DiagnosticsObserver>,
    pub(crate) callbacks: Vec<Box<dyn Callback>>,
}

impl Observers {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        Self {
            progress: Progress::new(verbosity),
            diagnostics: None,
            callbacks: Vec::new(),
        }
    }

    /// The list: the progress display, the diagnostics if on, the callbacks in order.
    fn each(&mut self) -> impl Iterator<Item = &mut dyn TrainingObserver> {
        let progress: &mut dyn TrainingObserver = &mut self.progress;
        let diagnostics = self.diagnostics.iter_mut();
        let callbacks = self.callbacks.iter_mut();
        std::iter::once(progress)
            .chain(diagnostics.map(|d| d as &mut dyn TrainingObserver))
            .chain(callbacks.map(|c| c as &mut dyn TrainingObserver))
    }

    /// Call `hook` on each observer; `Stop` if any said so.
    fn each_until_stop(
        &mut self,
        mut hook: impl FnMut(&mut dyn TrainingObserver) -> Result<Control>,
    ) -> Result<Control> {
        let mut control = Control::Continue;
        for observer in self.each() {
            if hook(observer)? == Control::Stop {
                control = Control::Stop;
            }
        }
        Ok(control)
    }
}

/// The list is itself an observer: each hook goes to every member.
impl TrainingObserver for Observers {
    fn fit_start(&mut self, start: &mut FitStart<'_>) -> Result<()> {
        self.each().try_for_each(|o| o.fit_start(start))
    }
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.each()
            .for_each(|o| o.epoch_start(epoch, epochs, batches));
    }
    fn after_forward(&mut self, model: &dyn Layer) {
        self.each().for_each(|o| o.after_forward(model));
    }
    fn wants_grad_norms(&self) -> bool {
        self.progress.wants_grad_norms()
            || self
                .diagnostics
                .as_ref()
                .is_some_and(|d| d.wants_grad_norms())
            || self.callbacks.iter().any(|c| c.wants_grad_norms())
    }
    fn after_backward(&mut self, model: &dyn Layer, norms: &GradNorms) {
        self.each().for_each(|o| o.after_backward(model, norms));
    }
    fn after_step(&mut self, model: &dyn Layer) {
        self.each().for_each(|o| o.after_step(model));
    }
    fn batch_end(&mut self, end: &BatchEnd, meter: &EpochMeter) -> Result<Control> {
        self.each_until_stop(|o| o.batch_end(end, meter))
    }
    fn validation_units(&mut self) -> Option<&mut UnitTracker> {
        self.each().find_map(|o| o.validation_units())
    }
    fn epoch_record(&mut self, model: &mut dyn Layer, record: &mut EpochRecord) -> Result<()> {
        self.each().try_for_each(|o| o.epoch_record(model, record))
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        self.each_until_stop(|o| o.epoch_end(end))
    }
    fn fit_end(&mut self, model: &mut dyn Layer) -> Result<()> {
        self.each().try_for_each(|o| o.fit_end(model))
    }
    fn stopped_epoch(&mut self) -> Option<EpochDiagnostics> {
        self.each().find_map(|o| o.stopped_epoch())
    }
}

/// A user's [`Callback`] is an observer of three hooks.
impl TrainingObserver for Box<dyn Callback> {
    fn batch_end(&mut self, end: &BatchEnd, _meter: &EpochMeter) -> Result<Control> {
        self.on_batch_end(end)
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        self.on_epoch_end(end)
    }
    fn fit_end(&mut self, model: &mut dyn Layer) -> Result<()> {
        self.on_train_end(model)
    }
}
