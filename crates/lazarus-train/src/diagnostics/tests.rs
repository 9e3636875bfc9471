//! The warnings' printing, through the diagnostics' hooks (the rest is tested from outside,
//! in `tests/diagnostics.rs`).

use super::*;
use crate::console::FullDisk;

/// A warning about `subject` saying `message`, raised in epoch 1.
fn warning(subject: &str, message: &str) -> Warning {
    Warning {
        kind: WarningKind::GradientSpike,
        epoch: 1,
        subject: Some(subject.into()),
        value: None,
        message: message.into(),
    }
}

#[test]
fn a_failing_stderr_is_reported_by_end_epoch_not_a_panic() {
    let mut d = Diagnostics::new(DiagnosticsConfig::default()).unwrap();
    d.warnings
        .warn_to(&mut FullDisk, d.config.warnings, warning("a", "first"));
    d.warnings
        .warn_to(&mut FullDisk, d.config.warnings, warning("b", "second"));
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
        .warn_to(&mut out, d.config.warnings, warning("a", "first"));
    d.warnings
        .warn_to(&mut out, d.config.warnings, warning("a", "first again"));
    assert_eq!(String::from_utf8(out).unwrap(), "warning: first\n");
    let mut quiet = Diagnostics::new(DiagnosticsConfig {
        warnings: false,
        ..DiagnosticsConfig::default()
    })
    .unwrap();
    quiet.warnings.warn_to(
        &mut FullDisk,
        quiet.config.warnings,
        warning("a", "recorded"),
    );
    let report = quiet.end_epoch(Vec::new()).unwrap();
    assert_eq!(report.warnings, [warning("a", "recorded")]);
}
