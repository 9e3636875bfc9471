//! `History`'s unit tests: JSON and CSV round trips, non-finite values, damaged files.

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
    BornDead, EpochDiagnostics, GradFlow, LayerUnits, ParamValues, SilentKind, StepNorms, Warning,
    WarningKind,
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

/// Files written before the probe pass and structured warnings still load: `train_units`
/// (the training batches' count, another measurement) is left out, a plain-string warning
/// becomes a legacy warning with the epoch of its record.
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
    assert!(d.units.is_empty());
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
                let reread = History::from_json(&again)
                    .unwrap_or_else(|e| panic!("case {case}: own output refused: {e}\n{again}"));
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
                let reread = History::from_csv(&again)
                    .unwrap_or_else(|e| panic!("case {case}: own output refused: {e}\n{again}"));
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
