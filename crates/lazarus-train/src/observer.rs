//! What watches the training loop, attached in one place: the progress display, the
//! diagnostics and your [`Callback`]s.
//!
//! [`Trainer::fit`](crate::Trainer::fit) runs the textbook step on every batch (forward → loss
//! → zero_grad → backward → clip → step → schedule) and nothing else; at fixed points it tells
//! its observers, which only look (and may ask to stop). Each implements the hooks it needs:
//!
//! | hook               | when                               | who does what                                    |
//! |--------------------|------------------------------------|--------------------------------------------------|
//! | `fit_start`        | `fit` begins                       | diagnostics: note the clipping threshold         |
//! | `epoch_start`      | before an epoch's first batch      | progress: a new bar                              |
//! | `observe_outputs`  | forward done, with its output ŷ    | diagnostics: same ŷ for every input? (batch 1)   |
//! | `after_forward`    | the loss is known finite           | diagnostics: silent units, born-dead units       |
//! | `after_backward`   | gradients ready, before clipping   | diagnostics: gradient norms, w before the step   |
//! | `after_step`       | after the optimizer step           | diagnostics: update ratio ‖Δw‖/‖w‖               |
//! | `batch_end`        | the batch is done                  | progress: the bar; callbacks: `on_batch_end`     |
//! | `validation_units` | the validation pass                | diagnostics: silent units on the validation set  |
//! | `epoch_record`     | the epoch's record is being filled | diagnostics: `EpochDiagnostics`, warnings        |
//! | `epoch_end`        | the record is in the history       | progress: summary; diagnostics: table; callbacks: `on_epoch_end` |
//! | `fit_end`          | training ends                      | callbacks: `on_train_end`                        |
//!
//! They are called in this order: the progress display, the diagnostics, then the callbacks
//! in the order they were added; every one is called even when an earlier one asked to stop.
//!
//! The gradient norms are measured once per step, only when clipping or an observer needs them,
//! and the same numbers serve both ([`GradNorms`]).

use lazarus_core::{Layer, TensorView, sum_squares};

use crate::callbacks::{BatchEnd, Callback, Control, EpochEnd};
use crate::diagnostics::{Diagnostics, UnitTracker};
use crate::metrics::EpochMeter;
use crate::progress::{EpochProgress, Verbosity};
use crate::{EpochRecord, Result};

/// Code that watches [`Trainer::fit`](crate::Trainer::fit) at the points of the table above.
/// Every hook has a default that does nothing.
pub(crate) trait TrainingObserver {
    /// `fit` begins; `clip_norm` is the clipping threshold, if any.
    fn fit_start(&mut self, _clip_norm: Option<f32>) {}

    /// Epoch `epoch` of `epochs` begins, with `batches` batches.
    fn epoch_start(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}

    /// The training forward pass's output, before the loss is computed from it.
    fn observe_outputs(&mut self, _outputs: TensorView<'_>) {}

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

    /// Add to the epoch's record before it goes into the history.
    fn epoch_record(&mut self, _record: &mut EpochRecord) -> Result<()> {
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
}

/// ‖∇θ‖² of every parameter (in the model's visit order, each summed in f64), and the total
/// ‖∇‖₂ = √(Σ ‖∇θ‖²): the same sums, in the same order, as `clip_grad_norm`'s L2 norm, so the
/// clipped gradients are bit for bit those `clip_grad_norm` would give.
#[derive(Debug, Default)]
pub(crate) struct GradNorms {
    squares: Vec<f64>,
}

impl GradNorms {
    /// When `needed`, measure `model`'s gradients (reusing the buffer) and return the total
    /// ‖∇‖₂ in f32, as `grad_norm(model, NormType::L2)` returns it; else forget the last step's.
    pub(crate) fn measure(&mut self, model: &dyn Layer, needed: bool) -> Option<f32> {
        self.squares.clear();
        if !needed {
            return None;
        }
        model.visit_params(&mut |_, p| self.squares.push(sum_squares(&p.grad.view())));
        Some(
            self.squares
                .iter()
                .fold(0.0f64, |total, s| total + s)
                .sqrt() as f32,
        )
    }

    /// ‖∇θ‖² per parameter; empty when not measured this step.
    pub(crate) fn squares(&self) -> &[f64] {
        &self.squares
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
    fn fit_start(&mut self, clip_norm: Option<f32>) {
        self.each().for_each(|o| o.fit_start(clip_norm));
    }
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.each()
            .for_each(|o| o.epoch_start(epoch, epochs, batches));
    }
    fn observe_outputs(&mut self, outputs: TensorView<'_>) {
        self.each().for_each(|o| o.observe_outputs(outputs.view()));
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
    fn epoch_record(&mut self, record: &mut EpochRecord) -> Result<()> {
        self.each().try_for_each(|o| o.epoch_record(record))
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        self.each_until_stop(|o| o.epoch_end(end))
    }
    fn fit_end(&mut self, model: &mut dyn Layer) -> Result<()> {
        self.each().try_for_each(|o| o.fit_end(model))
    }
}

/// The progress display (see [`Verbosity`]): a bar during each epoch, then its summary line.
pub(crate) struct Progress {
    verbosity: Verbosity,
    epochs: usize,
    epoch: Option<EpochProgress>,
}

impl Progress {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        Self {
            verbosity,
            epochs: 0,
            epoch: None,
        }
    }
}

impl TrainingObserver for Progress {
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.epochs = epochs;
        self.epoch = Some(EpochProgress::start(self.verbosity, epoch, epochs, batches));
    }
    fn batch_end(&mut self, end: &BatchEnd, meter: &EpochMeter) -> Result<Control> {
        if let Some(progress) = &self.epoch {
            progress.batch_done(end.batch, meter);
        }
        Ok(Control::Continue)
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        if let Some(progress) = self.epoch.take() {
            progress.finish(end.record, self.epochs)?;
        }
        Ok(Control::Continue)
    }
}

/// The [`Diagnostics`] as the trainer drives them (the order its docs give for your own loop),
/// with the tracker of the current epoch's validation pass.
pub(crate) struct DiagnosticsObserver {
    diagnostics: Diagnostics,
    validation: UnitTracker,
}

impl DiagnosticsObserver {
    pub(crate) fn new(diagnostics: Diagnostics) -> Self {
        Self {
            diagnostics,
            validation: UnitTracker::default(),
        }
    }
}

impl TrainingObserver for DiagnosticsObserver {
    fn fit_start(&mut self, clip_norm: Option<f32>) {
        self.diagnostics.set_clip_norm(clip_norm);
    }
    fn observe_outputs(&mut self, outputs: TensorView<'_>) {
        self.diagnostics.observe_outputs(outputs);
    }
    fn after_forward(&mut self, model: &dyn Layer) {
        self.diagnostics.after_forward(model);
    }
    fn wants_grad_norms(&self) -> bool {
        true
    }
    fn after_backward(&mut self, model: &dyn Layer, norms: &GradNorms) {
        self.diagnostics
            .before_step_with_norms(model, norms.squares());
    }
    fn after_step(&mut self, model: &dyn Layer) {
        self.diagnostics.after_step(model);
    }
    fn validation_units(&mut self) -> Option<&mut UnitTracker> {
        Some(&mut self.validation)
    }
    fn epoch_record(&mut self, record: &mut EpochRecord) -> Result<()> {
        let list = self.diagnostics.config().list_dead_units;
        let validation = std::mem::take(&mut self.validation).units(list);
        record.diagnostics = Some(self.diagnostics.end_epoch(validation)?);
        Ok(())
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        if let (true, Some(d)) = (
            self.diagnostics.config().print_table,
            &end.record.diagnostics,
        ) {
            crate::console::print_line(d.table())?;
        }
        Ok(Control::Continue)
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
