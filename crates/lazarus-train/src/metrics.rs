//! Classification metrics: arg-max, accuracy, softmax, confusion matrix.

use ndarray::{Array2, ArrayView1, Axis};

use lazarus_core::{Error as CoreError, Tensor, TensorView, as_matrix};

use crate::Result;

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
