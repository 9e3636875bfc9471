//! The diagnostics as the trainer drives them: a [`TrainingObserver`] that calls the
//! [`Diagnostics`] hooks at the points of a training run (the table in `observer.rs`).

use lazarus_core::Layer;

use super::{Diagnostics, EpochDiagnostics, ProbeSet, UnitTracker};
use crate::callbacks::{Control, EpochEnd};
use crate::grad_norms::GradNorms;
use crate::observer::{FitStart, TrainingObserver};
use crate::{EpochRecord, Result};

/// The [`Diagnostics`] as the trainer drives them (the order its docs give for your own loop),
/// with the run's probe set and the tracker of the current epoch's validation pass.
pub(crate) struct DiagnosticsObserver {
    diagnostics: Diagnostics,
    validation: UnitTracker,
    /// Drawn at the start of `fit`; probes run in chunks of the training batch size.
    probe: Option<(ProbeSet, usize)>,
}

impl DiagnosticsObserver {
    pub(crate) fn new(diagnostics: Diagnostics) -> Self {
        Self {
            diagnostics,
            validation: UnitTracker::default(),
            probe: None,
        }
    }

    /// The diagnostics' settings.
    pub(crate) fn config(&self) -> &super::DiagnosticsConfig {
        self.diagnostics.config()
    }

    /// The probe pass after an epoch.
    fn probe(&mut self, model: &mut dyn Layer) -> Result<()> {
        match &self.probe {
            Some((set, chunk)) => self.diagnostics.probe(model, set, *chunk),
            None => Ok(()),
        }
    }
}

impl TrainingObserver for DiagnosticsObserver {
    /// Draw the probe set (from the trainer's seed, a stream of its own) and, for a run that starts
    /// from scratch, probe the network at initialization: epoch 0.
    fn fit_start(&mut self, start: &mut FitStart<'_>) -> Result<()> {
        self.diagnostics.set_clip_norm(start.clip_norm);
        self.diagnostics.set_next_epoch(start.first_epoch);
        let size = self.diagnostics.config().probe_samples;
        let set = ProbeSet::sample(start.train, size, start.seed)?;
        if start.first_epoch == 1 {
            self.diagnostics
                .probe_at_init(start.model, &set, start.batch_size)?;
        }
        self.probe = Some((set, start.batch_size));
        Ok(())
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
    /// The probe pass with the epoch's final weights, then the epoch's report.
    fn epoch_record(&mut self, model: &mut dyn Layer, record: &mut EpochRecord) -> Result<()> {
        self.probe(model)?;
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
    /// An epoch stopped by an error: what it measured so far (its steps' gradient norms, its
    /// warnings, the probe at initialization in a first epoch), without a probe (the weights
    /// may not be finite).
    fn stopped_epoch(&mut self) -> Option<EpochDiagnostics> {
        self.validation = UnitTracker::default();
        // A failed print of a warning is not worth hiding the stop itself: the record is kept.
        self.diagnostics.end_epoch(Vec::new()).ok()
    }
}
