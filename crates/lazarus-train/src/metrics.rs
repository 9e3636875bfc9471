//! Classification metrics: arg-max, accuracy, softmax, confusion matrix.

use ndarray::{Array2, ArrayView1, Axis};

use std::time::Instant;

use lazarus_core::loss::Target;
use lazarus_core::{Error as CoreError, Tensor, TensorView, as_matrix};

use crate::{EpochRecord, Evaluation, Result};

/// Index of the largest value of each row of a `[batch, classes]` tensor (the first one on
/// ties, as `torch.argmax`). Rows of any other rank give an empty vector.
///
/// ```
/// use lazarus_train::metrics::argmax_rows;
/// use ndarray::array;
/// assert_eq!(argmax_rows(array![[0.1f32, 0.7, 0.2], [3.0, 1.0, 3.0]].into_dyn().view()), [1, 0]);
/// ```
pub fn argmax_rows(outputs: TensorView<'_>) -> Vec<usize> {
    let Ok(m) = as_matrix(outputs, "argmax", None) else {
        return Vec::new();
    };
    m.outer_iter().map(row_argmax).collect()
}

/// Index of the largest value (the first on ties; NaN never wins).
fn row_argmax(row: ArrayView1<'_, f32>) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// Number of rows of `outputs` whose arg-max equals the label. Allocation-free: it runs on every
/// training batch.
pub fn count_correct(outputs: TensorView<'_>, labels: &[usize]) -> usize {
    let Ok(m) = as_matrix(outputs, "accuracy", None) else {
        return 0;
    };
    m.outer_iter()
        .zip(labels)
        .filter(|&(row, &label)| row_argmax(row.view()) == label)
        .count()
}

/// Row-wise softmax of a `[batch, classes]` tensor: pᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z).
///
/// # Errors
/// A shape error for anything but a matrix.
pub fn softmax_rows(outputs: TensorView<'_>) -> Result<Tensor> {
    let m = as_matrix(outputs, "softmax", None)?;
    let mut p = m.to_owned();
    for mut row in p.axis_iter_mut(Axis(0)) {
        let max = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row /= sum;
    }
    Ok(p.into_dyn())
}

/// The running totals of a training epoch, batch by batch: what the epoch's
/// [`EpochRecord`] and the progress bar report.
#[derive(Debug)]
pub(crate) struct EpochMeter {
    start: Instant,
    loss_sum: f64,
    correct: usize,
    seen: usize,
    classes: bool,
    max_grad_norm: Option<f64>,
}

impl EpochMeter {
    /// An epoch starting now.
    pub(crate) fn start() -> Self {
        Self {
            start: Instant::now(),
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            classes: false,
            max_grad_norm: None,
        }
    }

    /// Count the batch's correct predictions (class targets only).
    pub(crate) fn count_correct(&mut self, outputs: TensorView<'_>, target: &Target<'_>) {
        if let Target::Classes(labels) = target {
            self.classes = true;
            self.correct += count_correct(outputs, labels);
        }
    }

    /// Add a batch of `size` samples with mean loss `loss` and, when clipping, its pre-clip
    /// gradient norm.
    pub(crate) fn add(&mut self, loss: f32, size: usize, grad_norm: Option<f32>) {
        self.seen += size;
        self.loss_sum += f64::from(loss) * size as f64;
        if let Some(norm) = grad_norm.map(f64::from) {
            self.max_grad_norm = Some(self.max_grad_norm.map_or(norm, |m| m.max(norm)));
        }
    }

    /// Mean loss over the samples so far.
    pub(crate) fn loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }

    /// Accuracy so far, for class targets.
    pub(crate) fn accuracy(&self) -> Option<f64> {
        self.classes
            .then(|| self.correct as f64 / self.seen.max(1) as f64)
    }

    /// Samples per second since the start.
    pub(crate) fn samples_per_second(&self) -> f64 {
        self.seen as f64 / self.seconds().max(1e-9)
    }

    /// Seconds since the start.
    pub(crate) fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// The epoch's record: training took `seconds`, at learning rate `lr`, then `validation`.
    pub(crate) fn record(
        &self,
        epoch: usize,
        lr: f32,
        seconds: f64,
        validation: Option<Evaluation>,
    ) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: self.loss(),
            train_accuracy: self.accuracy(),
            val_loss: validation.map(|e| e.loss),
            val_accuracy: validation.and_then(|e| e.accuracy),
            lr: f64::from(lr),
            seconds,
            samples_per_second: self.seen as f64 / seconds.max(1e-9),
            max_grad_norm: self.max_grad_norm,
            diagnostics: None,
        }
    }
}

/// A confusion matrix: `counts[[true, predicted]]`.
///
/// ```
/// use lazarus_train::metrics::ConfusionMatrix;
/// let cm = ConfusionMatrix::from_predictions(&[0, 1, 1], &[0, 1, 0], 2).unwrap();
/// assert_eq!(cm.counts[[1, 0]], 1);
/// assert!((cm.accuracy() - 2.0 / 3.0).abs() < 1e-12);
/// println!("{cm}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `counts[[t, p]]`: samples of class `t` predicted as `p`.
    pub counts: Array2<usize>,
}

impl ConfusionMatrix {
    /// Count (label, prediction) pairs over `classes` classes.
    ///
    /// # Errors
    /// A shape error when the lengths differ; an invalid-target error for a class out of range;
    /// an invalid-configuration error when a `classes × classes` table does not fit in memory.
    pub fn from_predictions(
        labels: &[usize],
        predictions: &[usize],
        classes: usize,
    ) -> Result<Self> {
        if labels.len() != predictions.len() {
            return Err(CoreError::ShapeMismatch {
                layer: "confusion_matrix".into(),
                expected: format!("{} predictions, one per label", labels.len()),
                found: vec![predictions.len()],
            }
            .into());
        }
        let mut counts =
            lazarus_core::try_zeros("confusion_matrix", "classes", &[classes, classes])?
                .into_dimensionality::<ndarray::Ix2>()
                .expect("two axes were asked for");
        for (&t, &p) in labels.iter().zip(predictions) {
            if t >= classes || p >= classes {
                return Err(CoreError::InvalidTarget {
                    loss: "confusion_matrix".into(),
                    reason: format!("class {} is not below {classes}", t.max(p)),
                }
                .into());
            }
            counts[[t, p]] += 1;
        }
        Ok(Self { counts })
    }

    /// Fraction on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let total = self.counts.sum();
        if total == 0 {
            0.0
        } else {
            self.counts.diag().sum() as f64 / total as f64
        }
    }
}

impl std::fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        write!(f, "true\\pred")?;
        for p in 0..self.counts.ncols() {
            write!(f, " {p:>width$}")?;
        }
        for (t, row) in self.counts.outer_iter().enumerate() {
            write!(f, "\n{t:>9}")?;
            for v in row {
                write!(f, " {v:>width$}")?;
            }
        }
        Ok(())
    }
}
