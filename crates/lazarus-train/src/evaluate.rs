//! `Trainer::evaluate`: the mean loss and accuracy of a model on a data set, in evaluation mode;
//! also the validation pass after each epoch of `fit`.

use lazarus_core::loss::{Loss, Target};
use lazarus_core::{Layer, Mode};

use crate::data::{DataLoader, Dataset};
use crate::diagnostics::UnitTracker;
use crate::metrics::count_correct;
use crate::non_finite::non_finite_error;
use crate::{Error, Result, Stage, Trainer};

/// Loss and accuracy of a model on a data set, in evaluation mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the samples.
    pub loss: f64,
    /// Fraction of samples whose arg-max output is the label (class targets only).
    pub accuracy: Option<f64>,
    /// Samples evaluated.
    pub samples: usize,
}

impl<M: Layer> Trainer<M> {
    /// Mean loss and accuracy on `data`, in evaluation mode, in batches of the batch size.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty data set (its mean loss is undefined);
    /// [`Error::NonFinite`] (stage [`Stage::Evaluation`]) when a batch's loss is NaN or
    /// infinite, naming the input sample, layer or target to blame; any layer or loss error.
    pub fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation> {
        let loss = self.loss.as_mut();
        evaluate(
            &mut self.model,
            loss,
            self.batch_size,
            data,
            None,
            Stage::Evaluation,
        )
    }
}

/// [`Trainer::evaluate`] on the trainer's parts, optionally recording every batch's silent units
/// in `tracker` (the diagnostics' validation pass).
pub(crate) fn evaluate(
    model: &mut dyn Layer,
    loss_fn: &mut dyn Loss,
    batch_size: usize,
    data: &Dataset,
    mut tracker: Option<&mut UnitTracker>,
    stage: Stage,
) -> Result<Evaluation> {
    if data.is_empty() {
        return Err(Error::config(
            "evaluate",
            "data",
            "the data set is empty, so its mean loss is undefined",
        ));
    }
    let mut loader = DataLoader::new(data, batch_size)?;
    let (mut loss_sum, mut correct, mut seen, mut classes) = (0.0f64, 0usize, 0usize, false);
    let mut batches = loader.epoch(0);
    while let Some(batch) = batches.next_batch() {
        let target = batch.target();
        // With diagnostics, a leaf-by-leaf pass that also counts silent units (activation
        // layers keep statistics of training and probe passes, not of evaluation ones).
        let tracked;
        let outputs = match tracker.as_deref_mut() {
            Some(t) => {
                tracked = t.forward_eval(model, batch.inputs.view())?;
                tracked.view()
            }
            None => model.forward(batch.inputs.view(), Mode::Eval)?,
        };
        if let Target::Classes(labels) = &target {
            classes = true;
            correct += count_correct(outputs.view(), labels);
        }
        let loss = loss_fn.forward(outputs, target)?;
        if !loss.is_finite() {
            let what = match stage {
                Stage::Validation { .. } => "validation loss",
                _ => "loss",
            };
            return Err(non_finite_error(model, stage, &batch, what));
        }
        loss_sum += f64::from(loss) * batch.len() as f64;
        seen += batch.len();
    }
    Ok(Evaluation {
        loss: loss_sum / seen.max(1) as f64,
        accuracy: classes.then(|| correct as f64 / seen.max(1) as f64),
        samples: seen,
    })
}
