//! One-hot encoding of class labels.

use lazarus_core::{Tensor, try_zeros};

use crate::{Error, Result};

/// Class labels as one-hot rows: `[labels.len(), num_classes]`, with row `i` all zeros except a
/// one at column `labels[i]`.
///
/// Cross-entropy in lazarus takes class indices directly; one-hot rows are for losses that
/// compare tensors (`MseLoss`, `BceWithLogitsLoss`) and for soft targets.
///
/// # Errors
/// [`Error::LabelOutOfRange`] for a label not below `num_classes`; an invalid-configuration
/// error when `labels.len() × num_classes` values do not fit in memory.
///
/// ```
/// use lazarus_train::data::one_hot;
/// let y = one_hot(&[1, 0], 2)?;
/// assert_eq!(y.shape(), &[2, 2]);
/// assert_eq!(y.as_slice().unwrap(), &[0., 1., 1., 0.]);
/// assert!(one_hot(&[2], 2).is_err());
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn one_hot(labels: &[usize], num_classes: usize) -> Result<Tensor> {
    let mut out: Tensor = try_zeros("one_hot", "num_classes", &[labels.len(), num_classes])?;
    for (index, (&label, mut row)) in labels.iter().zip(out.outer_iter_mut()).enumerate() {
        if label >= num_classes {
            return Err(Error::LabelOutOfRange {
                index,
                label,
                num_classes,
            });
        }
        row[label] = 1.0;
    }
    Ok(out)
}
