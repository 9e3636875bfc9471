//! The warnings' printing, through the diagnostics' hooks (the rest is tested from outside,
//! in `tests/diagnostics.rs`).

use super::*;
use crate::console::FullDisk;

#[test]
fn a_failing_stderr_is_reported_by_end_epoch_not_a_panic() {
    let mut d = Diagnostics::new(DiagnosticsConfig::default()).unwrap();
    d.warnings
        .warn_to(&mut FullDisk, d.config.warnings, "a".into(), "first".into());
    d.warnings.warn_to(
        &mut FullDisk,
        d.config.warnings,
        "b".into(),
        "second".into(),
    );
    let err = d.end_epoch(Vec::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Output {
                stream: "stderr",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("writing to stderr failed: "),
        "{err}"
    );
    // Reported once; the next epoch starts afresh.
    assert!(d.end_epoch(Vec::new()).is_ok());
}

#[test]
fn warnings_are_printed_once_and_recorded_even_when_printing_is_off() {
    let mut d = Diagnostics::new(DiagnosticsConfig::default()).unwrap();
    let mut out = Vec::new();
    d.warnings
        .warn_to(&mut out, d.config.warnings, "a".into(), "first".into());
    d.warnings.warn_to(
        &mut out,
        d.config.warnings,
        "a".into(),
        "first again".into(),
    );
    assert_eq!(String::from_utf8(out).unwrap(), "warning: first\n");
    let mut quiet = Diagnostics::new(DiagnosticsConfig {
        warnings: false,
        ..DiagnosticsConfig::default()
    })
    .unwrap();
    quiet.warnings.warn_to(
        &mut FullDisk,
        quiet.config.warnings,
        "a".into(),
        "recorded".into(),
    );
    let report = quiet.end_epoch(Vec::new()).unwrap();
    assert_eq!(report.warnings, ["recorded"]);
}
