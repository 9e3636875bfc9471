//! Settings are checked where they are given: every builder of lazarus-train that can receive
//! an invalid value refuses it on that line, with an `InvalidConfig` naming the setting and the
//! value, instead of failing (or silently misbehaving) later in `fit`.

use lazarus_core::Linear;
use lazarus_core::loss::MseLoss;
use lazarus_optim::Sgd;
use lazarus_train::callbacks::{EarlyStopping, Monitor};
use lazarus_train::diagnostics::{Diagnostics, DiagnosticsConfig};
use lazarus_train::{Error, Trainer};
use rand::{SeedableRng, rngs::StdRng};

fn trainer() -> Trainer<Linear> {
    let model = Linear::new(2, 1, &mut StdRng::seed_from_u64(0)).unwrap();
    Trainer::new(model, MseLoss::new(), Sgd::new(0.1).unwrap())
}

/// `err` is an `InvalidConfig` of `context` for `parameter`, and its message shows `value`.
fn assert_invalid(err: Option<Error>, context: &str, parameter: &str, value: &str) {
    let err = err.expect("the setting is refused");
    let message = err.to_string();
    match &err {
        Error::InvalidConfig {
            context: c,
            parameter: p,
            reason,
        } => {
            assert_eq!((c.as_str(), p.as_str()), (context, parameter), "{message}");
            assert!(reason.ends_with(&format!("found {value}")), "{message}");
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn a_zero_batch_size_is_refused_by_the_setter() {
    assert_invalid(trainer().batch_size(0).err(), "trainer", "batch_size", "0");
    assert!(trainer().batch_size(1).is_ok());
}

#[test]
fn clip_grad_norm_needs_a_finite_positive_norm() {
    for (max_norm, shown) in [
        (-1.0, "-1"),
        (0.0, "0"),
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let err = trainer().clip_grad_norm(max_norm).err();
        assert_invalid(err, "trainer", "clip_grad_norm", shown);
    }
    for max_norm in [1e-9, 1.0, 1e30] {
        assert!(trainer().clip_grad_norm(max_norm).is_ok(), "{max_norm}");
    }
}

#[test]
fn diagnostics_settings_out_of_range_are_refused_by_name() {
    let default = DiagnosticsConfig::default;
    let cases = [
        (
            DiagnosticsConfig {
                dead_fraction_warning: 1.5,
                ..default()
            },
            "dead_fraction_warning",
            "1.5",
        ),
        (
            DiagnosticsConfig {
                dead_fraction_warning: f64::NAN,
                ..default()
            },
            "dead_fraction_warning",
            "NaN",
        ),
        (
            DiagnosticsConfig {
                spike_factor: 0.5,
                ..default()
            },
            "spike_factor",
            "0.5",
        ),
        (
            DiagnosticsConfig {
                spike_factor: f64::NAN,
                ..default()
            },
            "spike_factor",
            "NaN",
        ),
        (
            DiagnosticsConfig {
                vanishing_norm: -1e-7,
                ..default()
            },
            "vanishing_norm",
            "-1e-7",
        ),
        (
            DiagnosticsConfig {
                vanishing_norm: f64::INFINITY,
                ..default()
            },
            "vanishing_norm",
            "inf",
        ),
        (
            DiagnosticsConfig {
                update_ratio_every: 0,
                ..default()
            },
            "update_ratio_every",
            "0",
        ),
    ];
    for (config, parameter, shown) in cases {
        let err = Diagnostics::new(config.clone()).err();
        assert_invalid(err, "diagnostics", parameter, shown);
        let err = trainer().diagnostics(config).err();
        assert_invalid(err, "diagnostics", parameter, shown);
    }
    // The documented ways of turning a warning off are accepted.
    for config in [
        DiagnosticsConfig {
            dead_fraction_warning: 1.0,
            spike_factor: f64::INFINITY,
            vanishing_norm: 0.0,
            update_ratio_every: 1,
            ..default()
        },
        default(),
    ] {
        assert!(trainer().diagnostics(config).is_ok());
    }
}

#[test]
fn early_stopping_refuses_a_negative_or_non_finite_min_delta() {
    for (min_delta, shown) in [
        (-1e-4, "-0.0001"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
    ] {
        let err = EarlyStopping::new(Monitor::ValLoss)
            .min_delta(min_delta)
            .err();
        assert_invalid(err, "early_stopping", "min_delta", shown);
    }
    for min_delta in [0.0, 1e-4] {
        assert!(
            EarlyStopping::new(Monitor::ValLoss)
                .min_delta(min_delta)
                .is_ok()
        );
    }
}
