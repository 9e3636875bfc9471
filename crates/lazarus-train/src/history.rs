//! `History`: one record per epoch, exported to JSON and CSV, plotted to SVG.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What one epoch of training measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, counting from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's samples (measured during training, in training mode).
    pub train_loss: f64,
    /// Training accuracy over the epoch, for class targets.
    pub train_accuracy: Option<f64>,
    /// Loss on the validation set after the epoch, in evaluation mode.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation set, for class targets.
    pub val_accuracy: Option<f64>,
    /// Learning rate used during the epoch (at its start, for per-batch schedules).
    pub lr: f64,
    /// Wall time of the epoch's training passes, in seconds (validation excluded).
    pub seconds: f64,
    /// Training samples per second.
    pub samples_per_second: f64,
    /// With gradient clipping: the largest total gradient norm seen before clipping.
    pub max_grad_norm: Option<f64>,
    /// Diagnostics collected during the epoch (dead units, gradient flow), when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<crate::diagnostics::EpochDiagnostics>,
}

/// All epochs of a training run, in order.
///
/// ```
/// use lazarus_train::{EpochRecord, History};
/// let mut h = History::default();
/// h.push(EpochRecord { epoch: 1, train_loss: 0.5, train_accuracy: Some(0.8), val_loss: None,
///     val_accuracy: None, lr: 0.1, seconds: 1.0, samples_per_second: 1000.0,
///     max_grad_norm: None, diagnostics: None });
/// let json = h.to_json().unwrap();
/// assert_eq!(History::from_json(&json).unwrap(), h);
/// assert!(h.to_csv().starts_with("epoch,train_loss"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct History {
    /// One record per finished epoch.
    pub epochs: Vec<EpochRecord>,
}

impl History {
    /// Append a record.
    pub fn push(&mut self, record: EpochRecord) {
        self.epochs.push(record);
    }

    /// The last record, if any.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// Pretty-printed JSON.
    ///
    /// # Errors
    /// [`Error::Json`] if serialization fails (it does not for finite numbers; NaN becomes null).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json {
            path: None,
            reason: e.to_string(),
        })
    }

    /// Parse JSON written by [`to_json`](History::to_json).
    ///
    /// # Errors
    /// [`Error::Json`] for malformed input.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::Json {
            path: None,
            reason: e.to_string(),
        })
    }

    /// CSV with a header row; missing values are empty cells.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second,max_grad_norm\n",
        );
        let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for r in &self.epochs {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                r.epoch,
                r.train_loss,
                cell(r.train_accuracy),
                cell(r.val_loss),
                cell(r.val_accuracy),
                r.lr,
                r.seconds,
                r.samples_per_second,
                cell(r.max_grad_norm)
            );
        }
        out
    }

    /// Parse CSV written by [`to_csv`](History::to_csv) (diagnostics are not part of the CSV).
    ///
    /// # Errors
    /// [`Error::Csv`] naming the line that does not parse.
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut history = History::default();
        for (i, line) in text
            .lines()
            .enumerate()
            .skip(1)
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |reason: String| Error::Csv {
                line: i + 1,
                reason,
            };
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != 9 {
                return Err(bad(format!("expected 9 cells, found {}", cells.len())));
            }
            let num = |k: usize| -> Result<f64> {
                cells[k]
                    .parse()
                    .map_err(|_| bad(format!("cell {} is not a number: {:?}", k + 1, cells[k])))
            };
            let opt = |k: usize| -> Result<Option<f64>> {
                if cells[k].is_empty() {
                    Ok(None)
                } else {
                    num(k).map(Some)
                }
            };
            history.push(EpochRecord {
                epoch: cells[0]
                    .parse()
                    .map_err(|_| bad(format!("bad epoch {:?}", cells[0])))?,
                train_loss: num(1)?,
                train_accuracy: opt(2)?,
                val_loss: opt(3)?,
                val_accuracy: opt(4)?,
                lr: num(5)?,
                seconds: num(6)?,
                samples_per_second: num(7)?,
                max_grad_norm: opt(8)?,
                diagnostics: None,
            });
        }
        Ok(history)
    }

    /// Write [`to_json`](History::to_json) to a file (atomically: temporary file, then rename).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write_json(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::atomic_file::write_atomically(path.as_ref(), self.to_json()?.as_bytes())
    }

    /// Write [`to_csv`](History::to_csv) to a file (atomically).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::atomic_file::write_atomically(path.as_ref(), self.to_csv().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, val: Option<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_accuracy: Some(0.5 + 0.1 * epoch as f64),
            val_loss: val,
            val_accuracy: val.map(|v| 1.0 - v),
            lr: 0.1,
            seconds: 0.25,
            samples_per_second: 4000.0,
            max_grad_norm: None,
            diagnostics: None,
        }
    }

    #[test]
    fn json_and_csv_round_trip() {
        let mut h = History::default();
        h.push(record(1, Some(0.7)));
        h.push(record(2, None));
        assert_eq!(History::from_json(&h.to_json().unwrap()).unwrap(), h);
        assert_eq!(History::from_csv(&h.to_csv()).unwrap(), h);
    }

    #[test]
    fn malformed_input_is_a_typed_error() {
        assert!(matches!(History::from_json("{"), Err(Error::Json { .. })));
        let err = History::from_csv("header\n1,2,3\n").unwrap_err();
        assert!(matches!(err, Error::Csv { line: 2, .. }), "{err:?}");
    }
}
