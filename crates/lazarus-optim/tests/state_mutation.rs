//! Mutation tests of imported states: every optimizer's and every schedule's exported state,
//! damaged at random (keys removed, renamed or added, shapes changed, NaN, ±inf, negative,
//! huge, 1e39, 1e300, -0.0 and fractional values put in tensors and numbers, the kind changed),
//! must either load, and then train on with what was loaded, or be refused with a typed error
//! that leaves the optimizer or schedule exactly as it was. Never a panic.
//!
//! Seeded, so a failure names a case that replays; a few thousand cases, well under a second
//! in release mode.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Values, bits, set_quadratic_grad, three_params, train};
use lazarus_core::{ParamBag, ParamRole, Tensor};
use lazarus_optim::{
    Adadelta, Adagrad, Adam, AdamW, CosineAnnealingLr, Error, ExponentialLr, LinearLr, LrScheduler,
    OneCycleLr, Optimizer, OptimizerState, ReduceLrOnPlateau, RmsProp, Sgd, StepLr,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Cases per optimizer and per schedule.
const CASES: usize = 2000;

type Make = fn() -> Box<dyn Optimizer>;

/// Every optimizer, each with parameter groups that give some parameters other settings (and
/// so other buffers: no momentum for PReLU's alpha, amsgrad for biases, ...).
fn optimizers() -> Vec<(&'static str, Make)> {
    vec![
        ("SGD", || {
            let mut opt = Sgd::new(0.05).unwrap().momentum(0.9).unwrap();
            opt.group(ParamRole::Bias).lr(0.1).unwrap();
            opt.group(ParamRole::Slope)
                .set(|c| c.momentum = 0.0)
                .unwrap();
            Box::new(opt)
        }),
        ("Adam", || {
            let mut opt = Adam::new(0.05).unwrap().weight_decay(0.01).unwrap();
            opt.group(ParamRole::Bias)
                .set(|c| c.amsgrad = true)
                .unwrap();
            Box::new(opt)
        }),
        ("AdamW", || {
            let mut opt = AdamW::new(0.05).unwrap().amsgrad(true);
            opt.group("1.").lr(0.01).unwrap();
            Box::new(opt)
        }),
        ("RMSprop", || {
            let mut opt = RmsProp::new(0.01).unwrap().momentum(0.5).unwrap();
            opt.group(ParamRole::Weight)
                .set(|c| c.centered = true)
                .unwrap();
            Box::new(opt)
        }),
        ("Adagrad", || {
            let mut opt = Adagrad::new(0.1).unwrap().lr_decay(0.01).unwrap();
            opt.group(ParamRole::Bias)
                .set(|c| c.initial_accumulator_value = 0.1)
                .unwrap();
            Box::new(opt)
        }),
        ("Adadelta", || {
            let mut opt = Adadelta::new(1.0).unwrap();
            opt.group(ParamRole::Slope).weight_decay(0.1).unwrap();
            Box::new(opt)
        }),
    ]
}

type MakeSchedule = fn() -> Box<dyn LrScheduler>;

fn schedules() -> Vec<(&'static str, MakeSchedule)> {
    vec![
        ("StepLR", || Box::new(StepLr::new(0.1, 2, 0.5).unwrap())),
        ("ExponentialLR", || {
            Box::new(ExponentialLr::new(0.1, 0.9).unwrap())
        }),
        ("CosineAnnealingLR", || {
            Box::new(
                CosineAnnealingLr::new(0.1, 4)
                    .unwrap()
                    .eta_min(1e-3)
                    .unwrap(),
            )
        }),
        ("LinearLR", || Box::new(LinearLr::new(0.1).unwrap())),
        ("OneCycleLR", || Box::new(OneCycleLr::new(0.1, 12).unwrap())),
        ("ReduceLROnPlateau", || {
            Box::new(ReduceLrOnPlateau::new(0.1).unwrap().patience(1).cooldown(2))
        }),
    ]
}

const KINDS: [&str; 12] = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
];

/// Names a damaged state may use: every buffer and counter of every optimizer and schedule.
const NAMES: [&str; 14] = [
    "momentum_buffer",
    "exp_avg",
    "exp_avg_sq",
    "max_exp_avg_sq",
    "square_avg",
    "grad_avg",
    "sum",
    "acc_delta",
    "step",
    "lr",
    "last_epoch",
    "best",
    "num_bad_epochs",
    "cooldown_counter",
];

const PATHS: [&str; 5] = ["0.weight.", "0.bias.", "1.weight.", "2.weight.", ""];

const TENSOR_VALUES: [f32; 13] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    -1.0,
    -0.0,
    0.0,
    0.5,
    -3.0,
    1e-45,
    1e7,
    1e30,
    f32::MAX,
    -f32::MAX,
];

const SCALAR_VALUES: [f64; 23] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1.0,
    -0.0,
    0.0,
    0.5,
    1.0,
    2.5,
    3.0,
    7.0,
    1e-3,
    1e-300,
    1e7,
    1e30,
    f32::MAX as f64,
    3.4028235677973366e38, // f32::MAX + half an ulp: rounds to inf as f32
    1e39,
    1e300,
    f64::MAX,
    9007199254740991.0, // 2^53 - 1
    9007199254740992.0, // 2^53
    -1e300,
];

/// A damaged state, what was done to it, and whether the damage may make the next update
/// overflow although the state is valid (so the weights are not required to stay finite).
struct Damaged {
    state: OptimizerState,
    log: Vec<String>,
    may_overflow: bool,
}

impl Damaged {
    /// Huge values are valid (a huge lr, a huge moment) and can overflow the next update; so
    /// can any `grad_avg`: centered RMSprop takes √(v − ḡ²), NaN when a damaged ḡ² exceeds v
    /// (PyTorch's formula; a trainer's check of the weights after each step catches it).
    fn note(&mut self, key: &str, magnitude: f64) {
        if magnitude.abs() > 1e6 || key.ends_with("grad_avg") {
            self.may_overflow = true;
        }
    }
}

/// One to three random mutations of `state`.
fn damage(rng: &mut StdRng, state: &OptimizerState) -> Damaged {
    let mut d = Damaged {
        state: state.clone(),
        log: Vec::new(),
        may_overflow: false,
    };
    for _ in 0..rng.random_range(1..=3) {
        let tensor_keys: Vec<String> = d.state.tensors.keys().cloned().collect();
        let scalar_keys: Vec<String> = d.state.scalars.keys().cloned().collect();
        match rng.random_range(0..8) {
            0 => {
                // Remove a key.
                if let Some(k) = tensor_keys.choose(rng) {
                    d.state.tensors.remove(k);
                    d.log.push(format!("remove tensor {k}"));
                } else if let Some(k) = scalar_keys.choose(rng) {
                    d.state.scalars.remove(k);
                    d.log.push(format!("remove {k}"));
                }
            }
            1 => {
                // Rename a key.
                let new = random_key(rng);
                if rng.random_bool(0.5)
                    && let Some(k) = tensor_keys.choose(rng)
                {
                    let t = d.state.tensors.remove(k).unwrap();
                    let m = t.iter().fold(0f64, |m, v| m.max(f64::from(v.abs())));
                    d.note(&new, m);
                    d.state.tensors.insert(new.clone(), t);
                    d.log.push(format!("rename tensor {k} to {new}"));
                } else if let Some(k) = scalar_keys.choose(rng) {
                    let v = d.state.scalars.remove(k).unwrap();
                    d.state.scalars.insert(new.clone(), v);
                    d.note(&new, v);
                    d.log.push(format!("rename {k} to {new}"));
                }
            }
            2 => {
                // Add a number.
                let (k, v) = (random_key(rng), *SCALAR_VALUES.choose(rng).unwrap());
                d.state.scalars.insert(k.clone(), v);
                d.note(&k, v);
                d.log.push(format!("set {k} = {v:e}"));
            }
            3 => {
                // Add a tensor, of a random shape.
                let (k, shape) = (random_key(rng), random_shape(rng));
                d.state
                    .tensors
                    .insert(k.clone(), Tensor::from_elem(shape.clone(), 0.25));
                d.note(&k, 0.25);
                d.log.push(format!("add tensor {k} {shape:?}"));
            }
            4 => {
                // Reshape a tensor.
                if let Some(k) = tensor_keys.choose(rng) {
                    let shape = random_shape(rng);
                    d.state
                        .tensors
                        .insert(k.clone(), Tensor::from_elem(shape.clone(), 0.25));
                    d.note(k, 0.25);
                    d.log.push(format!("reshape {k} to {shape:?}"));
                }
            }
            5 => {
                // Put a special value in a tensor.
                if let Some(k) = tensor_keys.choose(rng) {
                    let t = d.state.tensors.get_mut(k).unwrap();
                    if !t.is_empty() {
                        let i = rng.random_range(0..t.len());
                        let v = *TENSOR_VALUES.choose(rng).unwrap();
                        if let Some(x) = t.iter_mut().nth(i) {
                            *x = v;
                        }
                        d.note(k, f64::from(v));
                        d.log.push(format!("{k}[{i}] = {v:e}"));
                    }
                }
            }
            6 => {
                // Put a special value in a number.
                if let Some(k) = scalar_keys.choose(rng) {
                    let v = *SCALAR_VALUES.choose(rng).unwrap();
                    d.state.scalars.insert(k.clone(), v);
                    d.note(k, v);
                    d.log.push(format!("{k} = {v:e}"));
                }
            }
            _ => {
                // Change the kind.
                let kind = match rng.random_range(0..4) {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some("adam\n\u{0}".to_string()),
                    _ => Some(KINDS.choose(rng).unwrap().to_string()),
                };
                d.log.push(format!("kind = {kind:?}"));
                d.state.kind = kind;
            }
        }
    }
    d
}

/// A key a damaged state may hold: a real one, a near miss, or garbage.
fn random_key(rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => "x".repeat(rng.random_range(0..3)),
        1 => format!(
            "{}{}.",
            PATHS.choose(rng).unwrap(),
            NAMES.choose(rng).unwrap()
        ),
        _ => format!(
            "{}{}",
            PATHS.choose(rng).unwrap(),
            NAMES.choose(rng).unwrap()
        ),
    }
}

fn random_shape(rng: &mut StdRng) -> Vec<usize> {
    (0..rng.random_range(0..3))
        .map(|_| rng.random_range(0..4))
        .collect()
}

/// `f()`, or a test failure naming the case if it panics.
fn no_panic<T>(case: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("panicked: {case}"))
}

/// A refusal must be a state error whose message reads as one line with readable numbers.
fn assert_typed(err: &Error, case: &str) {
    assert!(
        matches!(
            err,
            Error::StateMismatch { .. } | Error::StateKindMismatch { .. }
        ),
        "{case}: {err:?}"
    );
    let text = err.to_string();
    let longest_number = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        longest_number <= 20 && !text.contains('\n'),
        "{case}: {text}"
    );
}

/// An optimizer that has taken three steps on its own model.
fn stepped(make: Make) -> (Box<dyn Optimizer>, ParamBag) {
    let (mut opt, mut m) = (make(), three_params());
    train(opt.as_mut(), &mut m, 3);
    (opt, m)
}

/// What `state()` must give after `damaged` loaded: the optimizer's kind, and the lr as the
/// `f32` it became.
fn as_exported(damaged: &OptimizerState, name: &str, lr: f32) -> OptimizerState {
    let mut want = damaged.clone();
    want.kind = Some(name.into());
    want.scalars.insert("lr".into(), f64::from(lr));
    want
}

#[test]
fn damaged_optimizer_states_load_correctly_or_change_nothing() {
    let mut rng = StdRng::seed_from_u64(14);
    let (mut accepted, mut refused) = (0, 0);
    for (name, make) in optimizers() {
        let good = stepped(make).0.state();
        for i in 0..CASES {
            let d = damage(&mut rng, &good);
            let case = format!("{name} case {i}: {:?}", d.log);

            // An optimizer that has seen the model: check_state and load_state agree.
            let (mut opt, mut m) = stepped(make);
            let before = opt.state();
            let checked = no_panic(&case, || opt.check_state(&d.state, &m));
            let loaded = no_panic(&case, || opt.load_state(&d.state));
            assert_eq!(checked, loaded, "{case}");
            match loaded {
                Ok(()) => {
                    accepted += 1;
                    assert_eq!(opt.state(), as_exported(&d.state, name, opt.lr()), "{case}");
                    set_quadratic_grad(&mut m);
                    match no_panic(&case, || opt.step(&mut m)) {
                        Ok(()) => {}
                        // A huge but finite lr may overflow the weights; the step says so.
                        Err(Error::NonFiniteUpdate { .. }) if d.may_overflow => {}
                        Err(e) => panic!("{case}: step after an accepted load: {e}"),
                    }
                    if !d.may_overflow {
                        let values = m.values();
                        assert!(values.iter().flatten().all(|w| w.is_finite()), "{case}");
                    }
                }
                Err(err) => {
                    refused += 1;
                    assert_typed(&err, &case);
                    assert_eq!(opt.state(), before, "{case}: changed by a refused load");
                    // And it trains on exactly as an untouched twin.
                    let (mut twin, mut twin_m) = stepped(make);
                    train(opt.as_mut(), &mut m, 1);
                    train(twin.as_mut(), &mut twin_m, 1);
                    assert_eq!(bits(&m), bits(&twin_m), "{case}");
                    assert_eq!(opt.state(), twin.state(), "{case}");
                }
            }

            // One that has not seen a model yet: check_state against the model says what the
            // load and the first step will do.
            let mut fresh = make();
            let mut m = three_params();
            let checked = no_panic(&case, || fresh.check_state(&d.state, &m));
            let loaded = no_panic(&case, || fresh.load_state(&d.state));
            set_quadratic_grad(&mut m);
            let before = bits(&m);
            match checked {
                Ok(()) => {
                    loaded.unwrap_or_else(|e| panic!("{case}: checked, then refused: {e}"));
                    assert_eq!(
                        fresh.state(),
                        as_exported(&d.state, name, fresh.lr()),
                        "{case}"
                    );
                    match no_panic(&case, || fresh.step(&mut m)) {
                        Ok(()) => {}
                        Err(Error::NonFiniteUpdate { .. }) if d.may_overflow => {}
                        Err(e) => panic!("{case}: checked, then the step failed: {e}"),
                    }
                }
                Err(err) => {
                    assert_typed(&err, &case);
                    // Refused at load (kind, lr), or kept and refused by the first step,
                    // with the same error and no parameter moved.
                    let at_step = match loaded {
                        Err(e) => e,
                        Ok(()) => no_panic(&case, || fresh.step(&mut m)).unwrap_err(),
                    };
                    assert_eq!(at_step, err, "{case}");
                    assert_eq!(bits(&m), before, "{case}");
                }
            }
        }
    }
    // The damage both passes and fails often enough for the test to mean something.
    assert!(
        accepted > CASES / 4 && refused > 3 * CASES,
        "{accepted} {refused}"
    );
}

/// A schedule from `make` after five steps.
fn stepped_schedule(make: MakeSchedule) -> Box<dyn LrScheduler> {
    let mut s = make();
    for metric in [3.0, 2.0, 2.5, 2.5, 2.5] {
        s.step(Some(metric));
    }
    s
}

#[test]
fn damaged_schedule_states_load_correctly_or_change_nothing() {
    let mut rng = StdRng::seed_from_u64(8);
    let (mut accepted, mut refused) = (0, 0);
    for (name, make) in schedules() {
        let good = stepped_schedule(make).state();
        for i in 0..CASES {
            let d = damage(&mut rng, &good);
            let case = format!("{name} case {i}: {:?}", d.log);
            let mut s = stepped_schedule(make);
            let before = s.state();
            let checked = no_panic(&case, || s.check_state(&d.state));
            let loaded = no_panic(&case, || s.load_state(&d.state));
            assert_eq!(checked, loaded, "{case}");
            match loaded {
                Ok(()) => {
                    accepted += 1;
                    let mut want = d.state.clone();
                    want.kind = Some(name.into());
                    assert_eq!(s.state(), want, "{case}");
                    assert!(s.lr().is_finite(), "{case}");
                    let lr = no_panic(&case, || s.step(Some(2.0)));
                    // Finite, though not always >= 0: CosineAnnealingLR's recursion (PyTorch's)
                    // from an lr below eta_min can go below 0, which the optimizer's next step
                    // then refuses (InvalidHyperParameter).
                    if !d.may_overflow {
                        assert!(lr.is_finite(), "{case}: {lr}");
                    }
                }
                Err(err) => {
                    refused += 1;
                    assert_typed(&err, &case);
                    assert_eq!(s.state(), before, "{case}: changed by a refused load");
                    let mut twin = stepped_schedule(make);
                    assert_eq!(s.step(Some(2.0)).to_bits(), twin.step(Some(2.0)).to_bits());
                    assert_eq!(s.state(), twin.state(), "{case}");
                }
            }
        }
    }
    assert!(
        accepted > CASES && refused > 3 * CASES,
        "{accepted} {refused}"
    );
}
