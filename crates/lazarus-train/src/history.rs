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

/// Serde (de)serializers for the f64 and f32 fields of a history, under the
/// [rule for non-finite values](crate::History): finite values as JSON numbers, NaN and infinities as the strings
/// `"NaN"`, `"inf"` and `"-inf"`. Use as `#[serde(with = "json_float")]`, and
/// `#[serde(default, with = "json_float::option")]` for an `Option`.
pub(crate) mod json_float {
    use std::fmt;
    use std::str::FromStr;

    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::Serializer;

    /// f64 or f32. Whether a value is finite, NaN or which infinity is read from it as an f64
    /// (`Into<f64>`, exact for both).
    pub(crate) trait Float: Copy + fmt::Debug + FromStr + Into<f64> + 'static {
        /// `"f64"` or `"f32"`, for messages.
        const NAME: &'static str;
        fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error>;
        /// The value of a JSON number, `None` when it does not fit this type.
        fn from_f64(v: f64) -> Option<Self>;
    }

    impl Float for f64 {
        const NAME: &'static str = "f64";
        fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_f64(self)
        }
        fn from_f64(v: f64) -> Option<Self> {
            Some(v)
        }
    }

    impl Float for f32 {
        const NAME: &'static str = "f32";
        fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_f32(self)
        }
        fn from_f64(v: f64) -> Option<Self> {
            // Rounded to the nearest f32; a finite number beyond f32's range is refused, not
            // turned into an infinity.
            let narrowed = v as f32;
            (narrowed.is_finite() || !v.is_finite()).then_some(narrowed)
        }
    }

    /// Whether `text` is one of Rust's spellings of an infinity (`inf`, `-Infinity`, ...).
    pub(crate) fn names_infinity(text: &str) -> bool {
        let word = text.trim_start_matches(['+', '-']);
        word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")
    }

    /// `text` in quotes for an error message, cut to 24 characters: a damaged file can hold a
    /// 400-digit "number", which is no use in a message.
    pub(crate) fn quote(text: &str) -> String {
        match text.char_indices().nth(24) {
            Some((end, _)) => format!("{:?}... ({} bytes)", &text[..end], text.len()),
            None => format!("{text:?}"),
        }
    }

    /// Serialize `v`: a number if finite, else `"NaN"`, `"inf"` or `"-inf"`.
    pub(crate) fn serialize<T: Float, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let x: f64 = (*v).into();
        if x.is_finite() {
            v.serialize_finite(s)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if x.is_sign_positive() {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    /// Deserialize a number, `"NaN"`, `"inf"`, `"-inf"` (or `null`, read as NaN: what older
    /// versions wrote for it).
    pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        d.deserialize_any(FloatVisitor(std::marker::PhantomData))
    }

    struct FloatVisitor<T>(std::marker::PhantomData<T>);

    impl<T: Float> FloatVisitor<T> {
        fn number<E: de::Error>(v: f64) -> Result<T, E> {
            T::from_f64(v).ok_or_else(|| {
                E::custom(format_args!(
                    "{v:e} is beyond the range of an {} (write \"inf\" for an infinite value)",
                    T::NAME
                ))
            })
        }
    }

    impl<'de, T: Float> Visitor<'de> for FloatVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            Self::number(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            Self::number(v as f64)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            Self::number(v as f64)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            // Only the names of NaN and infinity: a number belongs in a JSON number, and
            // "1e400" must not slip in as an infinity.
            let parsed = v.parse::<T>().ok().filter(|&p| {
                let p: f64 = p.into();
                p.is_nan() || (!p.is_finite() && names_infinity(v))
            });
            parsed.ok_or_else(|| {
                E::custom(format_args!(
                    "expected a number, or \"NaN\", \"inf\" or \"-inf\", found the string {}",
                    quote(v)
                ))
            })
        }

        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            Ok(T::from_f64(f64::NAN).expect("NaN is a value of every float type"))
        }
    }

    /// The same rule for a list of numbers: NaN and infinities as the strings `"NaN"`, `"inf"`,
    /// `"-inf"` (a diverged run's norms are kept, not turned into `null`).
    pub(crate) mod list {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        use super::Float;

        /// One number of a list, under the rule.
        #[derive(Serialize, Deserialize)]
        #[serde(transparent, bound = "T: Float")]
        pub(super) struct Number<T>(#[serde(with = "super")] pub(super) T);

        pub(crate) fn serialize<T: Float, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|&x| Number(x)))
        }

        pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<T>, D::Error> {
            let numbers = Vec::<Number<T>>::deserialize(d)?;
            Ok(numbers.into_iter().map(|n| n.0).collect())
        }
    }

    /// The same rule for a list of lists of numbers.
    pub(crate) mod lists {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::Float;
        use super::list::Number;

        pub(crate) fn serialize<T: Float, S: Serializer>(
            v: &[Vec<T>],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(
                v.iter()
                    .map(|row| row.iter().map(|&x| Number(x)).collect::<Vec<_>>()),
            )
        }

        pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<Vec<T>>, D::Error> {
            let rows = Vec::<Vec<Number<T>>>::deserialize(d)?;
            Ok(rows
                .into_iter()
                .map(|row| row.into_iter().map(|n| n.0).collect())
                .collect())
        }
    }

    /// The same rule for `Option<f64>`: `null` (or an absent field, with `#[serde(default)]`)
    /// is `None`.
    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<T: Float, S: Serializer>(
            v: &Option<T>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<T>, D::Error> {
            d.deserialize_option(OptionVisitor(std::marker::PhantomData))
        }

        struct OptionVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Float> Visitor<'de> for OptionVisitor<T> {
            type Value = Option<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, a number, or \"NaN\", \"inf\" or \"-inf\"")
            }

            fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
                super::deserialize(d).map(Some)
            }
        }
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

    use crate::diagnostics::{
        BornDead, EpochDiagnostics, GradFlow, LayerUnits, ParamValues, SilentKind, StepNorms,
        Warning, WarningKind,
    };
    use crate::report::UnitKind;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    /// Equal, NaN included (`PartialEq` says NaN != NaN): Debug prints every f64 exactly.
    fn same(a: &History, b: &History) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn units(fraction: f64, output_max_abs: f32) -> LayerUnits {
        LayerUnits {
            path: "1".into(),
            layer: "relu".into(),
            kind: SilentKind::Dead,
            units: 4,
            unit_kind: UnitKind::Channel,
            silent: 2,
            fraction,
            silent_units: vec![0, 3],
            active_fraction: vec![0.0, 0.25, 1.0, 0.0],
            revived: 1,
            newly_silent: 0,
            output_max_abs,
            output_mean: -0.0,
            output_std: 1.5e-39, // an f32 subnormal
        }
    }

    /// A diverging run: every kind of value, in every place a history holds one.
    fn diverged() -> History {
        let diagnostics = EpochDiagnostics {
            units: vec![units(f64::NAN, f32::INFINITY)],
            silent_all_epoch: vec![units(0.25, 2.0)],
            validation_units: vec![units(0.5, f32::MAX)],
            gradients: vec![GradFlow {
                param: "0.weight".into(),
                mean_norm: f64::INFINITY,
                max_norm: f64::NEG_INFINITY,
                update_ratio: f64::NAN,
            }],
            max_total_grad_norm: f64::MAX,
            mean_total_grad_norm: f64::NAN,
            steps: 3,
            clipped_steps: Some(1),
            step_norms: Some(StepNorms {
                total: vec![1.0, f32::INFINITY, f32::NAN],
                params: vec![vec![1.0, f32::INFINITY, f32::NAN]],
                clipped: vec![1],
                max_norm: Some(5.0),
            }),
            slopes: vec![ParamValues {
                param: "1.weight".into(),
                values: vec![0.25, f32::NEG_INFINITY],
            }],
            born_dead: Some(BornDead {
                units: vec![units(1.0, f32::NEG_INFINITY)],
                constant_output: true,
                slopes: vec![ParamValues {
                    param: "1.weight".into(),
                    values: vec![0.25, 0.25],
                }],
            }),
            warnings: vec![Warning {
                kind: WarningKind::GradientSpike,
                epoch: 1,
                subject: Some("0.weight".into()),
                value: Some(f64::INFINITY),
                message: "w".into(),
            }],
        };
        let mut h = History::default();
        h.push(EpochRecord {
            max_grad_norm: Some(1e300),
            diagnostics: Some(diagnostics),
            ..record(1, Some(0.7))
        });
        h.push(EpochRecord {
            train_loss: f64::NAN,
            train_accuracy: Some(f64::INFINITY),
            val_loss: Some(f64::NAN),
            val_accuracy: None,
            lr: 1e-300,
            seconds: 5e-324, // the smallest f64
            samples_per_second: f64::INFINITY,
            max_grad_norm: Some(f64::NEG_INFINITY),
            ..record(2, None)
        });
        h
    }

    #[test]
    fn non_finite_values_round_trip_through_json() {
        let h = diverged();
        let json = h.to_json().unwrap();
        for spelled in ["\"NaN\"", "\"inf\"", "\"-inf\""] {
            assert!(json.contains(spelled), "{spelled} in {json}");
        }
        let back = History::from_json(&json).unwrap();
        assert!(same(&back, &h), "{back:?}\n{h:?}");
        assert_eq!(back.to_json().unwrap(), json);
    }

    #[test]
    fn non_finite_values_round_trip_through_csv() {
        let mut h = diverged();
        for r in &mut h.epochs {
            r.diagnostics = None; // not part of the CSV
        }
        let csv = h.to_csv();
        assert!(
            csv.contains(",NaN,") && csv.contains(",inf,") && csv.ends_with(",-inf\n"),
            "{csv}"
        );
        assert!(
            csv.contains("1e300") && csv.contains("1e-300"),
            "exponents, not 300 digits: {csv}"
        );
        let back = History::from_csv(&csv).unwrap();
        assert!(same(&back, &h), "{back:?}\n{h:?}");
        assert_eq!(back.to_csv(), csv);
    }

    #[test]
    fn numbers_beyond_their_type_are_refused_not_read_as_infinity() {
        let csv = |cell: &str| format!("header\n1,{cell},,,,0.1,1,1,\n");
        for ok in ["inf", "-inf", "NaN", "+Infinity", "1.7e308"] {
            assert!(History::from_csv(&csv(ok)).is_ok(), "{ok}");
        }
        let err = History::from_csv(&csv("1e400")).unwrap_err();
        assert!(matches!(err, Error::Csv { line: 2, .. }), "{err:?}");
        assert!(
            err.to_string().contains("beyond the range of an f64"),
            "{err}"
        );
        // A 400-digit cell is cut short in the message.
        let err = History::from_csv(&csv(&"9".repeat(400)))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 200 && err.contains("400 bytes"), "{err}");

        let json = h_json_with("\"train_loss\": 0.5", "\"train_loss\": 1e400");
        let err = History::from_json(&json).unwrap_err();
        assert!(matches!(err, Error::Json { .. }), "{err:?}");
        let json = h_json_with("\"train_loss\": 0.5", "\"train_loss\": \"1e400\"");
        let err = History::from_json(&json).unwrap_err().to_string();
        assert!(err.contains("found the string \"1e400\""), "{err}");
        // f32 fields of the diagnostics: finite in f64, infinite in f32.
        let json = diverged().to_json().unwrap().replacen(
            "\"output_max_abs\": 3.4028235e+38",
            "\"output_max_abs\": 1e39",
            1,
        );
        let err = History::from_json(&json).unwrap_err().to_string();
        assert!(err.contains("1e39 is beyond the range of an f32"), "{err}");
    }

    /// Files written before the probe pass and structured warnings: `train_units` (the
    /// training batches' count) and plain-string warnings still load, in the fields that now
    /// hold them, a warning with the epoch of its record.
    #[test]
    fn files_with_string_warnings_and_train_units_still_load() {
        let old = r#"{"epochs": [{"epoch": 3, "train_loss": 0.5, "lr": 0.1, "seconds": 1.0,
            "samples_per_second": 10.0, "diagnostics": {"train_units": [{"path": "1",
            "layer": "relu", "kind": "dead", "units": 2, "silent": 1, "fraction": 0.5,
            "revived": 0, "newly_silent": 1, "output_max_abs": 1.0, "output_mean": 0.5,
            "output_std": 0.5}], "gradients": [], "max_total_grad_norm": 1.0,
            "warnings": ["relu[1]: 50% of its 2 units are dead"]}}]}"#;
        let history = History::from_json(old).unwrap();
        let d = history.epochs[0].diagnostics.as_ref().unwrap();
        assert_eq!(d.silent_all_epoch[0].silent, 1);
        assert!(d.units.is_empty());
        assert_eq!(d.silent_all_epoch[0].unit_kind, UnitKind::Feature);
        let w = &d.warnings[0];
        assert_eq!((w.kind, w.epoch), (WarningKind::Legacy, 3));
        assert_eq!(w.message, "relu[1]: 50% of its 2 units are dead");
    }

    /// The JSON of a one-epoch history with `from` replaced by `to`.
    fn h_json_with(from: &str, to: &str) -> String {
        let json = History {
            epochs: vec![EpochRecord {
                train_loss: 0.5,
                ..record(1, None)
            }],
        }
        .to_json()
        .unwrap();
        assert!(json.contains(from), "{json}");
        json.replace(from, to)
    }

    #[test]
    fn older_files_with_null_for_nan_still_load() {
        let json = h_json_with("\"train_loss\": 0.5", "\"train_loss\": null");
        let h = History::from_json(&json).unwrap();
        assert!(h.epochs[0].train_loss.is_nan());
        // An absent optional field is None, as before.
        let json = h_json_with("\"val_loss\": null,", "");
        assert_eq!(History::from_json(&json).unwrap().epochs[0].val_loss, None);
    }

    /// Pieces a damaged file may hold: the spellings of the rule, and numbers just past it.
    const TOKENS: [&str; 22] = [
        "NaN",
        "\"NaN\"",
        "inf",
        "\"-inf\"",
        "\"inf\"",
        "1e400",
        "-1e400",
        "\"1e400\"",
        "null",
        ",",
        "-",
        "99999999999999999999999",
        "1e39",
        "\"\"",
        "{",
        "}",
        "[",
        "]",
        ":",
        "0",
        "-0",
        "\u{fffd}",
    ];

    /// 1 to 3 random byte flips, deletions, insertions of [`TOKENS`] or duplications.
    fn damage(text: &str, rng: &mut StdRng) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..rng.random_range(1..=3) {
            let at = rng.random_range(0..=bytes.len());
            match rng.random_range(0..4) {
                0 if at < bytes.len() => bytes[at] = rng.random_range(b' '..=b'~'),
                1 => {
                    let end = (at + rng.random_range(1..8)).min(bytes.len());
                    bytes.drain(at..end);
                }
                2 => {
                    let token = TOKENS[rng.random_range(0..TOKENS.len())];
                    bytes.splice(at..at, token.bytes());
                }
                _ => {
                    let end = (at + rng.random_range(1..40)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(at..at, copy);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A message never quotes a long number.
    fn assert_short_numbers(message: &str) {
        let longest = message
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest <= 24, "{message}");
    }

    #[test]
    fn damaged_json_and_csv_give_the_same_history_back_or_a_typed_error() {
        let mut rng = StdRng::seed_from_u64(14);
        let h = diverged();
        let (json, csv) = (h.to_json().unwrap(), h.to_csv());
        let (mut json_ok, mut csv_ok) = (0, 0);
        for case in 0..3000 {
            let text = damage(&json, &mut rng);
            match History::from_json(&text) {
                Ok(read) => {
                    json_ok += 1;
                    let again = read.to_json().unwrap();
                    let reread = History::from_json(&again).unwrap_or_else(|e| {
                        panic!("case {case}: own output refused: {e}\n{again}")
                    });
                    assert!(same(&read, &reread), "case {case}: {text}");
                }
                Err(e @ Error::Json { .. }) => assert_short_numbers(&e.to_string()),
                Err(e) => panic!("case {case}: not a JSON error: {e:?}"),
            }
            let text = damage(&csv, &mut rng);
            match History::from_csv(&text) {
                Ok(read) => {
                    csv_ok += 1;
                    let again = read.to_csv();
                    let reread = History::from_csv(&again).unwrap_or_else(|e| {
                        panic!("case {case}: own output refused: {e}\n{again}")
                    });
                    assert!(same(&read, &reread), "case {case}: {text}");
                    assert_eq!(reread.to_csv(), again, "case {case}");
                }
                Err(e @ Error::Csv { .. }) => assert_short_numbers(&e.to_string()),
                Err(e) => panic!("case {case}: not a CSV error: {e:?}"),
            }
        }
        // The damage is neither always fatal nor always harmless.
        assert!((1..3000).contains(&json_ok), "{json_ok}");
        assert!((1..3000).contains(&csv_ok), "{csv_ok}");
    }
}
