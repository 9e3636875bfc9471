//! The first 30 learning rates of every schedule: against closed forms computed here
//! independently (PyTorch's documented formulas), and against literal sequences from PyTorch.

use std::f64::consts::PI;

use lazarus_optim::{
    AnnealStrategy, CosineAnnealingLr, ExponentialLr, LinearLr, LrScheduler, OneCycleLr,
    PlateauMode, ReduceLrOnPlateau, StepInterval, StepLr, ThresholdMode,
};

/// `lr()` then 30 × `step(metric)`.
fn first_31(s: &mut dyn LrScheduler, metrics: &[f64]) -> Vec<f32> {
    let mut out = vec![s.lr()];
    for i in 0..30 {
        out.push(s.step(metrics.get(i).copied()));
    }
    out
}

fn assert_lrs(got: &[f32], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len());
    for (e, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= rel * w.abs() + 1e-12,
            "{what}: epoch {e}: lr {g}, expected {w} (error {err:e})"
        );
    }
}

const REL: f64 = 1e-6; // the schedules run in f64; the f32 result is one rounding away

#[test]
fn step_lr_closed_form() {
    let want: Vec<f64> = (0..31).map(|e| 0.1 * 0.5f64.powi(e / 3)).collect();
    assert_lrs(
        &first_31(&mut StepLr::new(0.1, 3, 0.5).unwrap(), &[]),
        &want,
        REL,
        "StepLR",
    );
}

#[test]
fn exponential_lr_closed_form() {
    let want: Vec<f64> = (0..31).map(|e| 0.1 * 0.9f64.powi(e)).collect();
    assert_lrs(
        &first_31(&mut ExponentialLr::new(0.1, 0.9).unwrap(), &[]),
        &want,
        REL,
        "ExponentialLR",
    );
}

#[test]
fn cosine_annealing_closed_form_over_one_and_a_half_periods() {
    // η_min + ½(η_max − η_min)(1 + cos(π e / T_max)), also past T_max where it rises again.
    let (max, min, t) = (0.1, 0.001, 10.0);
    let want: Vec<f64> = (0..31)
        .map(|e| min + 0.5 * (max - min) * (1.0 + (PI * f64::from(e) / t).cos()))
        .collect();
    let mut s = CosineAnnealingLr::new(0.1, 10)
        .unwrap()
        .eta_min(0.001)
        .unwrap();
    assert_lrs(&first_31(&mut s, &[]), &want, REL, "CosineAnnealingLR");
}

#[test]
fn linear_lr_closed_form_with_pytorch_defaults() {
    // initial · (start + (end − start) · min(e, total) / total), start 1/3, end 1, total 5.
    let want: Vec<f64> = (0..31)
        .map(|e| 0.1 * (1.0 / 3.0 + (2.0 / 3.0) * f64::from(e.min(5)) / 5.0))
        .collect();
    assert_lrs(
        &first_31(&mut LinearLr::new(0.1).unwrap(), &[]),
        &want,
        REL,
        "LinearLR",
    );
    let want: Vec<f64> = (0..31)
        .map(|e| 1.0 * (1.0 + (0.1 - 1.0) * f64::from(e.min(10)) / 10.0))
        .collect();
    let mut s = LinearLr::new(1.0)
        .unwrap()
        .start_factor(1.0)
        .unwrap()
        .end_factor(0.1)
        .unwrap()
        .total_iters(10)
        .unwrap();
    assert_lrs(&first_31(&mut s, &[]), &want, REL, "LinearLR decay");
}

/// OneCycle written from the paper's description: cosine up from max/div over the first
/// pct·T − 1 steps, cosine down to max/div/final_div at step T − 1.
fn one_cycle_reference(max: f64, total: f64, pct: f64, linear: bool) -> Vec<f64> {
    let (initial, up_end) = (max / 25.0, pct * total - 1.0);
    let min = initial / 1e4;
    let anneal = |a: f64, b: f64, x: f64| {
        if linear {
            a + (b - a) * x
        } else {
            b + (a - b) * (1.0 + (PI * x).cos()) / 2.0
        }
    };
    (0..31)
        .map(|s| {
            let s = f64::from(s);
            if s <= up_end {
                anneal(initial, max, s / up_end)
            } else {
                anneal(max, min, (s - up_end) / (total - 1.0 - up_end))
            }
        })
        .collect()
}

#[test]
fn one_cycle_closed_form() {
    let mut s = OneCycleLr::new(0.1, 40).unwrap();
    assert_eq!(s.interval(), StepInterval::Batch);
    assert_lrs(
        &first_31(&mut s, &[]),
        &one_cycle_reference(0.1, 40.0, 0.3, false),
        1e-5,
        "OneCycleLR cos",
    );
    let mut s = OneCycleLr::new(0.1, 40)
        .unwrap()
        .anneal_strategy(AnnealStrategy::Linear)
        .pct_start(0.25)
        .unwrap();
    assert_lrs(
        &first_31(&mut s, &[]),
        &one_cycle_reference(0.1, 40.0, 0.25, true),
        1e-5,
        "OneCycleLR linear",
    );
}

#[test]
fn one_cycle_momentum_runs_opposite_to_the_lr() {
    let mut s = OneCycleLr::new(0.1, 10).unwrap();
    assert!((s.momentum().unwrap() - 0.95).abs() < 1e-12);
    s.step(None);
    s.step(None); // the peak
    assert!((s.momentum().unwrap() - 0.85).abs() < 1e-12);
}

#[test]
fn one_cycle_holds_after_total_steps() {
    let mut s = OneCycleLr::new(0.1, 5).unwrap();
    let last = (0..5).map(|_| s.step(None)).last().unwrap();
    assert_eq!(s.step(None), last);
}

/// ReduceLROnPlateau's rule, as a plain loop: reduce when more than `patience` epochs in a row
/// did not improve on the best by the relative threshold, then wait `cooldown` epochs.
fn plateau_reference(
    metrics: &[f64],
    lr0: f64,
    factor: f64,
    patience: u32,
    cooldown: u32,
) -> Vec<f64> {
    let (mut lr, mut best, mut bad, mut cool) = (lr0, f64::INFINITY, 0, 0);
    let mut out = vec![lr];
    for &m in metrics {
        if m < best * (1.0 - 1e-4) {
            best = m;
            bad = 0;
        } else {
            bad += 1;
        }
        if cool > 0 {
            cool -= 1;
            bad = 0;
        }
        if bad > patience {
            lr *= factor;
            cool = cooldown;
            bad = 0;
        }
        out.push(lr);
    }
    out
}

fn plateau_metrics() -> Vec<f64> {
    [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8].repeat(3)
}

/// ReduceLROnPlateau(lr 0.1, patience 2, factor 0.5, cooldown 1), for `plateau_metrics`.
fn plateau_schedule() -> ReduceLrOnPlateau {
    ReduceLrOnPlateau::new(0.1)
        .unwrap()
        .patience(2)
        .factor(0.5)
        .unwrap()
        .cooldown(1)
}

#[test]
fn reduce_on_plateau_against_the_rule() {
    let metrics = plateau_metrics();
    let mut s = plateau_schedule();
    assert_lrs(
        &first_31(&mut s, &metrics),
        &plateau_reference(&metrics, 0.1, 0.5, 2, 1),
        REL,
        "ReduceLROnPlateau",
    );
    // PyTorch's defaults: patience 10, factor 0.1, no cooldown.
    let mut s = ReduceLrOnPlateau::new(0.1).unwrap();
    assert_lrs(
        &first_31(&mut s, &metrics),
        &plateau_reference(&metrics, 0.1, 0.1, 10, 0),
        REL,
        "defaults",
    );
}

#[test]
fn reduce_on_plateau_modes_min_lr_and_missing_metric() {
    let mut s = ReduceLrOnPlateau::new(1.0)
        .unwrap()
        .mode(PlateauMode::Max)
        .patience(0)
        .min_lr(0.3)
        .unwrap();
    assert_eq!(s.step(Some(0.5)), 1.0); // first metric is the best
    assert_eq!(s.step(Some(0.6)), 1.0); // higher: better
    assert_eq!(s.step(Some(0.6)), 0.3); // not better → 0.1, clamped at min_lr
    assert_eq!(s.step(Some(0.0)), 0.3); // 0.3 → 0.3: below eps, unchanged
    assert_eq!(s.step(None), 0.3); // no metric: nothing happens
    let mut s = ReduceLrOnPlateau::new(1.0)
        .unwrap()
        .threshold_mode(ThresholdMode::Abs)
        .threshold(0.1)
        .unwrap()
        .patience(0);
    assert_eq!(s.step(Some(1.0)), 1.0);
    assert_eq!(s.step(Some(0.95)), 0.1); // improved by less than 0.1: bad epoch
    assert_eq!(s.step(Some(f64::NAN)), 0.01f32); // NaN is never better
}

// Literal sequences from PyTorch 2.15.0:
//
// import torch
// def seq(make, lr=0.1, n=30, metrics=None):
//     opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=0.9)
//     s = make(opt)
//     out = [opt.param_groups[0]["lr"]]
//     for i in range(n):
//         opt.step()
//         s.step(metrics[i]) if metrics else s.step()
//         out.append(opt.param_groups[0]["lr"])
//     return out
// metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8] * 3
// print(seq(<make>))       # <make> above each constant

// lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001)
const TORCH_COSINE: [f64; 31] = [
    0.1,
    0.09757729755661011,
    0.0905463412215599,
    0.07959536998847742,
    0.0657963412215599,
    0.0505,
    0.03520365877844011,
    0.02140463001152259,
    0.010453658778440109,
    0.0034227024433899004,
    0.001,
    0.0034227024433899004,
    0.01045365877844014,
    0.02140463001152267,
    0.035203658778440255,
    0.05050000000000022,
    0.06579634122156018,
    0.07959536998847777,
    0.09054634122156031,
    0.09757729755661054,
    0.10000000000000045,
    0.09757729755661054,
    0.09054634122156033,
    0.07959536998847778,
    0.0657963412215602,
    0.050500000000000225,
    0.03520365877844027,
    0.021404630011522683,
    0.010453658778440154,
    0.003422702443389916,
    0.001,
];

// lambda o: torch.optim.lr_scheduler.LinearLR(o)
const TORCH_LINEAR: [f64; 31] = [
    0.03333333333333333,
    0.04666666666666667,
    0.060000000000000005,
    0.07333333333333335,
    0.08666666666666668,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
    0.1,
];

// lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=30)
const TORCH_ONE_CYCLE: [f64; 31] = [
    0.0040000000000000036,
    0.0076537824394582454,
    0.018058874503045733,
    0.03363119524647569,
    0.052000000000000005,
    0.0703688047535243,
    0.08594112549695429,
    0.09634621756054176,
    0.1,
    0.09944154354509119,
    0.0977786491747459,
    0.09504846320134738,
    0.09131197346804489,
    0.08665264698111695,
    0.0811745653949763,
    0.0750001,
    0.06826717815011489,
    0.06112620219362893,
    0.0537366897333025,
    0.046263710266697504,
    0.03887419780637107,
    0.03173322184988512,
    0.025000300000000013,
    0.0188258346050237,
    0.01334775301888306,
    0.008688426531955128,
    0.004951936798652629,
    0.002221750825254118,
    0.0005588564549088189,
    4e-07,
    0.0005588564549088189,
];

// lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)
const TORCH_STEP: [f64; 31] = [
    0.1,
    0.1,
    0.1,
    0.05,
    0.05,
    0.05,
    0.025,
    0.025,
    0.025,
    0.0125,
    0.0125,
    0.0125,
    0.00625,
    0.00625,
    0.00625,
    0.003125,
    0.003125,
    0.003125,
    0.0015625,
    0.0015625,
    0.0015625,
    0.00078125,
    0.00078125,
    0.00078125,
    0.000390625,
    0.000390625,
    0.000390625,
    0.0001953125,
    0.0001953125,
    0.0001953125,
    9.765625e-05,
];

// lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1)   (with metrics)
const TORCH_PLATEAU: [f64; 31] = [
    0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.0125, 0.0125,
    0.0125, 0.0125, 0.00625, 0.00625, 0.00625, 0.00625, 0.003125, 0.003125, 0.003125, 0.003125,
    0.0015625, 0.0015625, 0.0015625, 0.0015625, 0.00078125, 0.00078125,
];

#[test]
fn pytorch_schedule_literals() {
    let mut s = CosineAnnealingLr::new(0.1, 10)
        .unwrap()
        .eta_min(0.001)
        .unwrap();
    assert_lrs(
        &first_31(&mut s, &[]),
        &TORCH_COSINE,
        REL,
        "PyTorch CosineAnnealingLR",
    );
    assert_lrs(
        &first_31(&mut LinearLr::new(0.1).unwrap(), &[]),
        &TORCH_LINEAR,
        REL,
        "PyTorch LinearLR",
    );
    assert_lrs(
        &first_31(&mut OneCycleLr::new(0.1, 30).unwrap(), &[]),
        &TORCH_ONE_CYCLE,
        REL,
        "PyTorch OneCycleLR",
    );
    assert_lrs(
        &first_31(&mut StepLr::new(0.1, 3, 0.5).unwrap(), &[]),
        &TORCH_STEP,
        REL,
        "PyTorch StepLR",
    );
    let mut s = plateau_schedule();
    assert_lrs(
        &first_31(&mut s, &plateau_metrics()),
        &TORCH_PLATEAU,
        REL,
        "PyTorch ReduceLROnPlateau",
    );
}

#[test]
fn schedules_resume_exactly_from_their_state() {
    type Make = fn() -> Box<dyn LrScheduler>;
    let makers: [Make; 6] = [
        || Box::new(StepLr::new(0.1, 3, 0.5).unwrap()),
        || Box::new(ExponentialLr::new(0.1, 0.9).unwrap()),
        || {
            Box::new(
                CosineAnnealingLr::new(0.1, 7)
                    .unwrap()
                    .eta_min(0.01)
                    .unwrap(),
            )
        },
        || Box::new(LinearLr::new(0.1).unwrap().total_iters(20).unwrap()),
        || Box::new(OneCycleLr::new(0.1, 30).unwrap()),
        || {
            Box::new(
                ReduceLrOnPlateau::new(0.1)
                    .unwrap()
                    .patience(2)
                    .factor(0.5)
                    .unwrap()
                    .cooldown(1),
            )
        },
    ];
    let metrics = plateau_metrics();
    for make in makers {
        let mut straight = make();
        let want: Vec<f32> = metrics.iter().map(|&m| straight.step(Some(m))).collect();
        let mut first = make();
        let mut got: Vec<f32> = metrics[..10].iter().map(|&m| first.step(Some(m))).collect();
        let mut resumed = make();
        resumed.load_state(&first.state()).unwrap();
        assert_eq!(resumed.lr().to_bits(), first.lr().to_bits());
        got.extend(metrics[10..].iter().map(|&m| resumed.step(Some(m))));
        assert_eq!(got, want);
    }
}

#[test]
fn schedule_state_errors_are_typed() {
    let mut s = StepLr::new(0.1, 3, 0.5).unwrap();
    let mut state = s.state();
    state.scalars.insert("best".into(), 1.0);
    let err = s.load_state(&state).unwrap_err();
    assert!(
        matches!(&err, lazarus_optim::Error::StateMismatch { key, .. } if key == "best"),
        "{err}"
    );
    let mut state = s.state();
    state.scalars.insert("last_epoch".into(), -1.0);
    assert!(s.load_state(&state).is_err());
    // A StepLR state in ReduceLROnPlateau: its kind says so at once.
    let mut plateau = ReduceLrOnPlateau::new(0.1).unwrap();
    let mut step_state = StepLr::new(0.1, 3, 0.5).unwrap().state();
    let err = plateau.load_state(&step_state).unwrap_err();
    assert!(
        matches!(&err, lazarus_optim::Error::StateKindMismatch { expected: "ReduceLROnPlateau", found } if found == "StepLR"),
        "{err}"
    );
    // Without a kind (saved before it was recorded), its keys do not fit.
    step_state.kind = None;
    let err = plateau.load_state(&step_state).unwrap_err();
    assert!(err.to_string().contains("best"), "{err}");
}

/// The name of the hyper-parameter a constructor rejected.
fn rejected<T>(result: Result<T, lazarus_optim::Error>) -> &'static str {
    match result {
        Err(lazarus_optim::Error::InvalidHyperParameter { parameter, .. }) => parameter,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn bad_schedule_hyper_parameters_are_typed_errors() {
    assert_eq!(rejected(StepLr::new(0.1, 0, 0.1)), "step_size");
    assert_eq!(rejected(StepLr::new(-0.1, 1, 0.1)), "lr");
    assert_eq!(rejected(ExponentialLr::new(0.1, f64::NAN)), "gamma");
    assert_eq!(rejected(CosineAnnealingLr::new(0.1, 0)), "T_max");
    assert_eq!(
        rejected(LinearLr::new(0.1).unwrap().start_factor(0.0)),
        "start_factor"
    );
    assert_eq!(rejected(OneCycleLr::new(0.1, 0)), "total_steps");
    assert_eq!(
        rejected(OneCycleLr::new(0.1, 10).unwrap().pct_start(1.5)),
        "pct_start"
    );
    assert_eq!(
        rejected(ReduceLrOnPlateau::new(0.1).unwrap().factor(1.0)),
        "factor"
    );
}

/// One of each schedule, stepped 3 times, with the PyTorch class name its state must carry.
fn stepped_schedules() -> Vec<(&'static str, Box<dyn LrScheduler>)> {
    let mut all: Vec<(&'static str, Box<dyn LrScheduler>)> = vec![
        ("StepLR", Box::new(StepLr::new(0.1, 2, 0.5).unwrap())),
        (
            "ExponentialLR",
            Box::new(ExponentialLr::new(0.1, 0.9).unwrap()),
        ),
        (
            "CosineAnnealingLR",
            Box::new(CosineAnnealingLr::new(0.1, 10).unwrap()),
        ),
        ("LinearLR", Box::new(LinearLr::new(0.1).unwrap())),
        ("OneCycleLR", Box::new(OneCycleLr::new(0.1, 20).unwrap())),
        (
            "ReduceLROnPlateau",
            Box::new(ReduceLrOnPlateau::new(0.1).unwrap().patience(0)),
        ),
    ];
    for (_, s) in &mut all {
        for metric in [1.0, 2.0, 3.0] {
            s.step(Some(metric));
        }
    }
    all
}

#[test]
fn every_schedule_state_names_its_schedule() {
    for (name, s) in stepped_schedules() {
        assert_eq!(s.state().kind.as_deref(), Some(name));
    }
}

#[test]
fn a_state_of_another_schedule_is_refused_naming_both() {
    for (name, from) in stepped_schedules() {
        let state = from.state();
        for (other, mut into) in stepped_schedules() {
            let before = into.state();
            let checked = into.check_state(&state);
            let loaded = into.load_state(&state);
            assert_eq!(checked, loaded, "{name} into {other}");
            if name == other {
                loaded.unwrap();
                assert_eq!(into.state(), state);
            } else {
                let err = loaded.unwrap_err();
                assert_eq!(
                    err,
                    lazarus_optim::Error::StateKindMismatch {
                        expected: other,
                        found: name.into()
                    }
                );
                assert_eq!(into.state(), before, "nothing changed");
            }
        }
    }
    let err = OneCycleLr::new(0.1, 20)
        .unwrap()
        .load_state(&StepLr::new(0.1, 2, 0.5).unwrap().state())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OneCycleLR: cannot load a state saved by StepLR"
    );
    // A damaged kind stays on one line.
    let mut state = StepLr::new(0.1, 2, 0.5).unwrap().state();
    for (kind, message) in [
        ("", "StepLR: cannot load a state whose kind is empty"),
        ("Step\nLR", "StepLR: cannot load a state saved by Step\\nLR"),
    ] {
        state.kind = Some(kind.into());
        let mut s = StepLr::new(0.1, 2, 0.5).unwrap();
        assert_eq!(s.load_state(&state).unwrap_err().to_string(), message);
    }
}

#[test]
fn a_schedule_state_without_kind_still_loads() {
    for (name, from) in stepped_schedules() {
        let mut state = from.state();
        state.kind = None;
        let (_, mut into) = stepped_schedules()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap();
        into.check_state(&state).unwrap();
        into.load_state(&state).unwrap();
        assert_eq!(into.lr(), from.lr(), "{name}");
    }
}

#[test]
fn a_schedule_lr_infinite_as_f32_is_refused() {
    for (name, from) in stepped_schedules() {
        for lr in [1e39, 1e300, f64::MAX, f64::INFINITY, f64::NAN, -0.5] {
            let mut state = from.state();
            state.scalars.insert("lr".into(), lr);
            let (_, mut into) = stepped_schedules()
                .into_iter()
                .find(|(n, _)| *n == name)
                .unwrap();
            let before = into.state();
            let err = into.load_state(&state).unwrap_err();
            assert!(
                matches!(&err, lazarus_optim::Error::StateMismatch { key, .. } if key == "lr"),
                "{name}, lr = {lr}: {err}"
            );
            assert_eq!(into.check_state(&state).unwrap_err(), err);
            assert_eq!(into.state(), before, "{name}: nothing changed");
            assert!(into.lr().is_finite());
            assert!(err.to_string().len() < 120, "{err}");
        }
    }
    let mut state = StepLr::new(0.1, 2, 0.5).unwrap().state();
    state.scalars.insert("lr".into(), 1e39);
    assert_eq!(
        StepLr::new(0.1, 2, 0.5)
            .unwrap()
            .load_state(&state)
            .unwrap_err()
            .to_string(),
        "StepLR: state entry lr: expected an lr >= 0 that is finite as f32, found 1e39"
    );
    // The largest f32 is fine.
    state.scalars.insert("lr".into(), f64::from(f32::MAX));
    let mut s = StepLr::new(0.1, 2, 0.5).unwrap();
    s.load_state(&state).unwrap();
    assert_eq!(s.lr(), f32::MAX);
}

#[test]
fn a_custom_schedule_cannot_check_a_state_by_default() {
    /// A schedule that implements only the required methods.
    struct Constant;
    impl LrScheduler for Constant {
        fn step(&mut self, _metric: Option<f64>) -> f32 {
            0.1
        }
        fn lr(&self) -> f32 {
            0.1
        }
        fn interval(&self) -> StepInterval {
            StepInterval::Epoch
        }
    }
    let state = Constant.state();
    assert_eq!(
        Constant.check_state(&state).unwrap_err().to_string(),
        "LrScheduler: this schedule does not support resuming"
    );
    assert!(Constant.load_state(&state).is_err());
    // A boxed schedule forwards every method, the state's kind included.
    let boxed: Box<dyn LrScheduler> = Box::new(StepLr::new(0.1, 2, 0.5).unwrap());
    let mut twice = Box::new(boxed);
    assert_eq!(twice.state().kind.as_deref(), Some("StepLR"));
    let state = twice.state();
    twice.check_state(&state).unwrap();
    twice.load_state(&state).unwrap();
}
