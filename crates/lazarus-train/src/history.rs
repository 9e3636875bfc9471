//! `History`: one record per epoch, exported to JSON and CSV, plotted to SVG.
//!
//! The rule for non-finite values is in [`History`]'s docs.

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
    #[serde(with = "json_float")]
    pub train_loss: f64,
    /// Training accuracy over the epoch, for class targets.
    #[serde(default, with = "json_float::option")]
    pub train_accuracy: Option<f64>,
    /// Loss on the validation set after the epoch, in evaluation mode.
    #[serde(default, with = "json_float::option")]
    pub val_loss: Option<f64>,
    /// Accuracy on the validation set, for class targets.
    #[serde(default, with = "json_float::option")]
    pub val_accuracy: Option<f64>,
    /// Learning rate used during the epoch (at its start, for per-batch schedules).
    #[serde(with = "json_float")]
    pub lr: f64,
    /// Wall time of the epoch's training passes, in seconds (validation excluded).
    #[serde(with = "json_float")]
    pub seconds: f64,
    /// Training samples per second.
    #[serde(with = "json_float")]
    pub samples_per_second: f64,
    /// With gradient clipping: the largest total gradient norm seen before clipping.
    #[serde(default, with = "json_float::option")]
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
///
/// # Non-finite values
///
/// A diverged run measures NaN or infinite losses and norms, and its history keeps them, so one
/// rule holds for every number of a history (and of the [`EpochDiagnostics`] it carries):
///
/// * A NaN or an infinity is written as `NaN`, `inf` or `-inf`: as a JSON string (JSON has no
///   such numbers; `null` would lose the value and is an absent value here), as a bare CSV cell.
/// * Reading accepts those spellings (and Rust's others: `nan`, `+inf`, `infinity`, any case).
/// * A finite decimal too large for its type (`1e400` for an f64; above 3.4e38 for an f32
///   field of the diagnostics) is an error, not silently infinity: no history writes it.
/// * JSON files written before this rule hold `null` for a NaN; in a field that cannot be
///   absent it is read back as NaN.
///
/// So whatever [`to_json`](History::to_json) or [`to_csv`](History::to_csv) writes,
/// [`from_json`](History::from_json) or [`from_csv`](History::from_csv) reads back unchanged.
///
/// [`EpochDiagnostics`]: crate::diagnostics::EpochDiagnostics
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

    /// Pretty-printed JSON; NaN and infinities as the strings `"NaN"`, `"inf"`, `"-inf"` (see
    /// [`History`]).
    ///
    /// # Errors
    /// [`Error::Json`] if serialization fails (it does not: every value has a spelling).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Json {
            path: None,
            reason: e.to_string(),
        })
    }

    /// Parse JSON written by [`to_json`](History::to_json).
    ///
    /// # Errors
    /// [`Error::Json`] for malformed input, a missing field, or a number out of its type's range.
    pub fn from_json(text: &str) -> Result<Self> {
        let mut history: Self = serde_json::from_str(text).map_err(|e| Error::Json {
            path: None,
            reason: e.to_string(),
        })?;
        // Files written before warnings were structured hold only their messages: such a
        // warning was raised in the epoch whose record holds it.
        for record in &mut history.epochs {
            let warnings = record.diagnostics.iter_mut().flat_map(|d| &mut d.warnings);
            for w in warnings.filter(|w| w.kind == crate::diagnostics::WarningKind::Legacy) {
                w.epoch = record.epoch;
            }
        }
        Ok(history)
    }

    /// CSV with a header row; missing values are empty cells, NaN and infinities `NaN`, `inf`,
    /// `-inf`, very large or small numbers in scientific notation (`1e-7`, not `0.0000001`).
    pub fn to_csv(&self) -> String {
        let mut out = CSV_COLUMNS.join(",") + "\n";
        // Debug, not Display: the shortest text that reads back to the same f64, with an
        // exponent for very large or small values, and Rust's spellings of NaN and infinity.
        let num = |v: f64| format!("{v:?}");
        let cell = |v: Option<f64>| v.map(num).unwrap_or_default();
        for r in &self.epochs {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                r.epoch,
                num(r.train_loss),
                cell(r.train_accuracy),
                cell(r.val_loss),
                cell(r.val_accuracy),
                num(r.lr),
                num(r.seconds),
                num(r.samples_per_second),
                cell(r.max_grad_norm)
            );
        }
        out
    }

    /// Parse CSV written by [`to_csv`](History::to_csv) (diagnostics are not part of the CSV).
    ///
    /// # Errors
    /// [`Error::Csv`] naming the line and cell that do not parse: not a number, or a finite
    /// decimal beyond f64's range (`1e400`; write `inf` for an infinite value).
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
            if cells.len() != CSV_COLUMNS.len() {
                return Err(bad(format!(
                    "expected {} cells, found {}",
                    CSV_COLUMNS.len(),
                    cells.len()
                )));
            }
            let num = |k: usize| -> Result<f64> {
                parse_f64(cells[k])
                    .map_err(|what| bad(format!("cell {} ({}) {what}", k + 1, CSV_COLUMNS[k])))
            };
            let opt = |k: usize| -> Result<Option<f64>> {
                if cells[k].is_empty() {
                    Ok(None)
                } else {
                    num(k).map(Some)
                }
            };
            history.push(EpochRecord {
                epoch: cells[0].parse().map_err(|_| {
                    bad(format!(
                        "cell 1 (epoch) is not an epoch number: {}",
                        json_float::quote(cells[0])
                    ))
                })?,
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

/// The columns of [`History::to_csv`], in order.
const CSV_COLUMNS: [&str; 9] = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
    "samples_per_second",
    "max_grad_norm",
];

/// Parse a CSV cell as an f64 under the [rule for non-finite values](crate::History): `Err` says what is wrong with it.
fn parse_f64(cell: &str) -> std::result::Result<f64, String> {
    let quoted = || json_float::quote(cell);
    let v: f64 = cell
        .parse()
        .map_err(|_| format!("is not a number: {}", quoted()))?;
    if v.is_infinite() && !json_float::names_infinity(cell) {
        return Err(format!(
            "is beyond the range of an f64 (about ±1.8e308): {}; write inf for an infinite value",
            quoted()
        ));
    }
    Ok(v)
}

/// Serde (de)serializers for the f64 and f32 fields of a history (NaN and infinities as
/// strings), also used by the report's data.
pub(crate) mod json_float;

#[cfg(test)]
mod tests;
