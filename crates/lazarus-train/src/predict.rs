//! `Trainer::predict` and `predict_proba`: the trained model on new inputs.

use lazarus_core::{Layer, Mode, Tensor, TensorView};

use crate::metrics::{argmax_rows, softmax_rows};
use crate::{Error, Result, Trainer};

impl<M: Layer> Trainer<M> {
    /// Class probabilities (softmax of the outputs) for each row of `inputs`, in evaluation
    /// mode, computed in batches of the batch size.
    ///
    /// # Errors
    /// Any layer error, e.g. a shape mismatch.
    pub fn predict_proba(&mut self, inputs: TensorView<'_>) -> Result<Tensor> {
        let mut rows = Vec::new();
        let mut shape = None;
        let n = inputs.shape().first().copied().unwrap_or(0);
        for start in (0..n).step_by(self.batch_size.max(1)) {
            let end = (start + self.batch_size.max(1)).min(n);
            let chunk = inputs.slice_axis(ndarray::Axis(0), (start..end).into());
            let outputs = self.model.forward(chunk, Mode::Eval)?;
            shape.get_or_insert_with(|| outputs.shape()[1..].to_vec());
            rows.extend(softmax_rows(outputs.view())?.iter().copied());
        }
        let mut full = vec![n];
        full.extend(shape.unwrap_or_default());
        Tensor::from_shape_vec(full, rows)
            .map_err(|e| Error::config("predict", "inputs", e.to_string()))
    }

    /// The arg-max class of each row of `inputs`.
    ///
    /// # Errors
    /// As [`predict_proba`](Trainer::predict_proba).
    pub fn predict(&mut self, inputs: TensorView<'_>) -> Result<Vec<usize>> {
        let probabilities = self.predict_proba(inputs)?;
        Ok(argmax_rows(probabilities.view()))
    }
}
