//! The diagnostics as the trainer drives them: a [`TrainingObserver`] that calls the
//! [`Diagnostics`] hooks at the points of a training step (the table in `observer.rs`).

use lazarus_core::{Layer, TensorView};

use super::{Diagnostics, UnitTracker};
use crate::callbacks::{Control, EpochEnd};
use crate::grad_norms::GradNorms;
use crate::observer::TrainingObserver;
use crate::{EpochRecord, Result};

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
