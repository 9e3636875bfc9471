//! Bad hyper-parameters are typed errors at construction, naming the optimizer and parameter.

use lazarus_optim::Error::{self, InvalidHyperParameter};
use lazarus_optim::{Adadelta, Adagrad, Adam, AdamW, RmsProp, Sgd};

fn parameter(result: Result<impl Sized, Error>) -> &'static str {
    match result {
        Err(InvalidHyperParameter { parameter, .. }) => parameter,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn negative_learning_rates() {
    assert_eq!(parameter(Sgd::new(-0.1)), "lr");
    assert_eq!(parameter(Adam::new(-1e-3)), "lr");
    assert_eq!(parameter(AdamW::new(f32::NAN)), "lr");
    assert_eq!(parameter(RmsProp::new(-1.0)), "lr");
    assert_eq!(parameter(Adagrad::new(-1.0)), "lr");
    assert_eq!(parameter(Adadelta::new(-1.0)), "lr");
}

#[test]
fn momentum_outside_0_1() {
    assert_eq!(parameter(Sgd::new(0.1).unwrap().momentum(-0.1)), "momentum");
    assert_eq!(parameter(Sgd::new(0.1).unwrap().momentum(1.0)), "momentum");
    assert_eq!(
        parameter(RmsProp::new(0.1).unwrap().momentum(1.5)),
        "momentum"
    );
    let err = Sgd::new(0.1).unwrap().momentum(1.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: invalid momentum = 1: expected 0 <= momentum < 1"
    );
}

#[test]
fn nesterov_without_momentum_or_with_dampening() {
    assert_eq!(parameter(Sgd::new(0.1).unwrap().nesterov(true)), "momentum");
    let with_dampening = Sgd::new(0.1)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .dampening(0.1)
        .unwrap()
        .nesterov(true);
    assert_eq!(parameter(with_dampening), "dampening");
}

#[test]
fn betas_outside_0_1_and_eps() {
    assert_eq!(
        parameter(Adam::new(1e-3).unwrap().betas((1.0, 0.999))),
        "betas[0]"
    );
    assert_eq!(
        parameter(Adam::new(1e-3).unwrap().betas((0.9, -0.1))),
        "betas[1]"
    );
    assert_eq!(
        parameter(AdamW::new(1e-3).unwrap().betas((0.9, 1.0))),
        "betas[1]"
    );
    assert_eq!(parameter(Adam::new(1e-3).unwrap().eps(0.0)), "eps");
    assert_eq!(parameter(RmsProp::new(1e-3).unwrap().eps(-1.0)), "eps");
    assert_eq!(parameter(Adagrad::new(1e-3).unwrap().eps(0.0)), "eps");
    assert_eq!(parameter(Adadelta::new(1.0).unwrap().eps(0.0)), "eps");
}

#[test]
fn other_ranges() {
    assert_eq!(
        parameter(Sgd::new(0.1).unwrap().weight_decay(-1e-4)),
        "weight_decay"
    );
    assert_eq!(
        parameter(AdamW::new(0.1).unwrap().weight_decay(-1.0)),
        "weight_decay"
    );
    assert_eq!(
        parameter(Sgd::new(0.1).unwrap().dampening(1.5)),
        "dampening"
    );
    assert_eq!(parameter(RmsProp::new(0.1).unwrap().alpha(1.5)), "alpha");
    assert_eq!(
        parameter(Adagrad::new(0.1).unwrap().lr_decay(-1.0)),
        "lr_decay"
    );
    assert_eq!(
        parameter(Adagrad::new(0.1).unwrap().initial_accumulator_value(-1.0)),
        "initial_accumulator_value"
    );
    assert_eq!(parameter(Adadelta::new(1.0).unwrap().rho(1.1)), "rho");
    let mut opt = Sgd::new(0.0).unwrap();
    assert_eq!(
        parameter(opt.group(lazarus_core::ParamRole::Bias).lr(0.1)),
        "lr",
        "no base lr to keep a ratio to"
    );
}

mod common;

use common::{Values, quadratic, set_quadratic_grad};
use lazarus_core::ParamRole;
use lazarus_optim::{LrScheduler, OneCycleLr, Optimizer, OptimizerState, ReduceLrOnPlateau};

/// One of each optimizer, boxed.
fn every_optimizer() -> Vec<Box<dyn Optimizer>> {
    vec![
        Box::new(Sgd::new(0.1).unwrap().momentum(0.9).unwrap()),
        Box::new(Adam::new(1e-3).unwrap()),
        Box::new(AdamW::new(1e-3).unwrap()),
        Box::new(RmsProp::new(1e-2).unwrap()),
        Box::new(Adagrad::new(1e-2).unwrap()),
        Box::new(Adadelta::new(1.0).unwrap()),
    ]
}

#[test]
fn infinite_learning_rates_and_weight_decays() {
    assert_eq!(parameter(Sgd::new(f32::INFINITY)), "lr");
    assert_eq!(parameter(Adam::new(f32::INFINITY)), "lr");
    assert_eq!(parameter(AdamW::new(f32::INFINITY)), "lr");
    assert_eq!(parameter(RmsProp::new(f32::INFINITY)), "lr");
    assert_eq!(parameter(Adagrad::new(f32::INFINITY)), "lr");
    assert_eq!(parameter(Adadelta::new(f32::INFINITY)), "lr");
    let err = Sgd::new(f32::INFINITY).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: invalid lr = inf: expected a finite lr >= 0"
    );
    for wd in [f64::INFINITY, f64::NAN, 1e39] {
        assert_eq!(
            parameter(Sgd::new(0.1).unwrap().weight_decay(wd)),
            "weight_decay",
            "{wd}"
        );
        assert_eq!(
            parameter(AdamW::new(0.1).unwrap().weight_decay(wd)),
            "weight_decay",
            "{wd}"
        );
        let mut opt = Adam::new(1e-3).unwrap();
        assert_eq!(
            parameter(opt.group(ParamRole::Bias).weight_decay(wd)),
            "weight_decay"
        );
    }
}

#[test]
fn group_lr_must_be_finite() {
    let mut opt = Sgd::new(0.1).unwrap();
    assert_eq!(
        parameter(opt.group(ParamRole::Bias).lr(f32::INFINITY)),
        "lr"
    );
    assert_eq!(parameter(opt.group(ParamRole::Bias).lr(f32::NAN)), "lr");
    // The ratio to a tiny base lr overflows f32.
    let mut opt = Sgd::new(1e-45).unwrap();
    assert_eq!(parameter(opt.group(ParamRole::Bias).lr(1.0)), "lr");
    let mut opt = Sgd::new(0.1).unwrap();
    assert!(opt.group(ParamRole::Bias).lr(0.01).is_ok());
}

#[test]
fn set_lr_is_validated_after_the_first_step_too() {
    for bad in [f32::NAN, -1.0, f32::INFINITY] {
        for mut opt in every_optimizer() {
            let mut model = quadratic();
            set_quadratic_grad(&mut model);
            opt.step(&mut model).unwrap();
            let before = model.values();
            opt.set_lr(bad);
            set_quadratic_grad(&mut model);
            assert_eq!(parameter(opt.step(&mut model)), "lr", "set_lr({bad})");
            assert_eq!(model.values(), before, "no parameter changes on error");
            // Still an error at the next step, until a valid lr is set.
            assert_eq!(parameter(opt.step(&mut model)), "lr", "set_lr({bad})");
            opt.set_lr(1e-3);
            opt.step(&mut model).unwrap();
            assert!(model.values()[0].iter().all(|w| w.is_finite()));
        }
    }
}

#[test]
fn set_lr_is_validated_before_the_first_step() {
    for mut opt in every_optimizer() {
        let mut model = quadratic();
        set_quadratic_grad(&mut model);
        opt.set_lr(f32::NAN);
        assert_eq!(parameter(opt.step(&mut model)), "lr");
        opt.set_lr(1e-3);
        opt.step(&mut model).unwrap();
    }
}

#[test]
fn set_lr_rejects_a_group_lr_that_overflows() {
    let mut opt = Sgd::new(1e-3).unwrap();
    opt.group("w").lr(1.0).unwrap(); // ratio 1000
    let mut model = quadratic();
    set_quadratic_grad(&mut model);
    opt.step(&mut model).unwrap();
    opt.set_lr(1e36); // finite base, but the group's lr is 1e39: inf in f32
    assert_eq!(parameter(opt.step(&mut model)), "lr");
}

#[test]
fn adagrad_lr_decay_eps_and_accumulator_must_be_finite() {
    for bad in [f64::INFINITY, f64::NAN] {
        assert_eq!(
            parameter(Adagrad::new(0.1).unwrap().lr_decay(bad)),
            "lr_decay"
        );
        assert_eq!(parameter(Adagrad::new(0.1).unwrap().eps(bad)), "eps");
        assert_eq!(
            parameter(Adagrad::new(0.1).unwrap().initial_accumulator_value(bad)),
            "initial_accumulator_value"
        );
    }
    assert_eq!(parameter(Adagrad::new(0.1).unwrap().eps(1e39)), "eps");
    let err = Adagrad::new(0.1)
        .unwrap()
        .lr_decay(f64::INFINITY)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adagrad: invalid lr_decay = inf: expected a finite lr_decay >= 0"
    );
}

#[test]
fn rmsprop_momentum_that_rounds_to_zero_is_no_momentum() {
    // μ = 1e-50 is > 0 as f64 but 0 as f32: the buffers and the update must agree (no momentum
    // buffer, plain RMSprop), not treat a momentum buffer as `grad_avg`.
    let run = |momentum: f64| {
        let mut opt = RmsProp::new(1e-2).unwrap().momentum(momentum).unwrap();
        let mut model = quadratic();
        let mut values = Vec::new();
        for _ in 0..5 {
            set_quadratic_grad(&mut model);
            opt.step(&mut model).unwrap();
            values.push(model.values());
        }
        (values, opt.state())
    };
    let (tiny, tiny_state) = run(1e-50);
    let (zero, zero_state) = run(0.0);
    assert_eq!(tiny, zero);
    assert_eq!(tiny_state, zero_state);
    assert!(!tiny_state.tensors.contains_key("w.momentum_buffer"));
}

/// The parameter an `InvalidHyperParameter` names, for a schedule.
fn schedule_parameter<T>(result: Result<T, Error>) -> &'static str {
    parameter(result)
}

#[test]
fn one_cycle_zero_length_phases_are_errors_as_in_pytorch() {
    // PyTorch raises ZeroDivisionError for each of these.
    let p = OneCycleLr::new(0.1, 10).unwrap().pct_start(0.1);
    assert_eq!(schedule_parameter(p), "pct_start");
    let p = OneCycleLr::new(0.1, 1).unwrap().pct_start(1.0);
    assert_eq!(schedule_parameter(p), "pct_start");
    let p = OneCycleLr::new(0.1, 10).unwrap().pct_start(1.0);
    assert_eq!(schedule_parameter(p), "pct_start");
    let p = OneCycleLr::new(0.1, 2).unwrap().pct_start(0.5);
    assert_eq!(schedule_parameter(p), "pct_start");
    let p = OneCycleLr::new(0.1, 2)
        .unwrap()
        .three_phase(true)
        .unwrap()
        .pct_start(0.5);
    assert_eq!(schedule_parameter(p), "pct_start");
    // Three phases: the last one empty when 2·pct_start·total_steps = total_steps + 1.
    let p = OneCycleLr::new(0.1, 10)
        .unwrap()
        .three_phase(true)
        .unwrap()
        .pct_start(0.55);
    assert_eq!(schedule_parameter(p), "pct_start");
    let p = OneCycleLr::new(0.1, 10)
        .unwrap()
        .pct_start(0.55)
        .unwrap()
        .three_phase(true);
    assert_eq!(schedule_parameter(p), "pct_start");
    // pct_start = 1 is fine with three phases (the last phase has steps).
    let s = OneCycleLr::new(0.1, 10)
        .unwrap()
        .three_phase(true)
        .unwrap()
        .pct_start(1.0);
    assert!(s.is_ok());
}

#[test]
fn one_cycle_short_phases_match_pytorch_and_never_give_nan() {
    let (max, min) = (0.1f64, 0.1f64 / 25.0 / 1e4);
    let cos = |start: f64, end: f64, pct: f64| {
        end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0)
    };
    // pct_start = 0: phase 1 ends at step -1, so step 0 is 1/10 into phase 2 (PyTorch).
    let s = OneCycleLr::new(0.1, 10).unwrap().pct_start(0.0).unwrap();
    assert!((f64::from(s.lr()) - cos(max, min, 0.1)).abs() < 1e-8);
    // One step in all: phase 2 runs from step -0.7 to 0, so step 0 is already min_lr.
    let mut s = OneCycleLr::new(0.1, 1).unwrap();
    assert!((f64::from(s.lr()) - min).abs() < 1e-10);
    assert!(s.step(None).is_finite());
    // Every valid setting: a finite lr and momentum at every step.
    for total in 1..12 {
        for k in 0..=20 {
            for three in [false, true] {
                let Ok(s) = OneCycleLr::new(0.1, total).unwrap().three_phase(three) else {
                    continue;
                };
                let Ok(mut s) = s.pct_start(f64::from(k) / 20.0) else {
                    continue;
                };
                for _ in 0..=total {
                    assert!(s.lr().is_finite() && s.momentum().unwrap().is_finite());
                    s.step(None);
                }
            }
        }
    }
}

#[test]
fn one_cycle_momentum_range_must_be_finite() {
    let s = || OneCycleLr::new(0.1, 10).unwrap();
    assert_eq!(
        schedule_parameter(s().momentum_range(f64::NAN, 0.95)),
        "base_momentum"
    );
    assert_eq!(
        schedule_parameter(s().momentum_range(0.85, f64::INFINITY)),
        "max_momentum"
    );
    assert_eq!(
        schedule_parameter(s().momentum_range(-f64::MAX, f64::MAX)),
        "max_momentum"
    );
    let s = s().momentum_range(0.8, 0.9).unwrap();
    assert!((s.momentum().unwrap() - 0.9).abs() < 1e-12);
}

/// A valid ReduceLROnPlateau state with one extra scalar changed.
fn plateau_state(key: &str, value: f64) -> OptimizerState {
    let mut s = ReduceLrOnPlateau::new(0.1).unwrap();
    s.step(Some(1.0));
    let mut state = s.state();
    assert!(state.scalars.contains_key(key));
    state.scalars.insert(key.into(), value);
    state
}

#[test]
fn plateau_load_state_validates_best_and_counters() {
    for key in ["num_bad_epochs", "cooldown_counter"] {
        for bad in [1e300, -1.0, 0.5, f64::NAN, f64::INFINITY, 2f64.powi(64)] {
            let mut s = ReduceLrOnPlateau::new(0.1).unwrap();
            let before = s.clone();
            match s.load_state(&plateau_state(key, bad)) {
                Err(Error::StateMismatch { key: k, .. }) => assert_eq!(k, key, "{bad}"),
                other => panic!("{key} = {bad}: {other:?}"),
            }
            assert_eq!(s.state(), before.state(), "nothing changed on error");
        }
        let mut s = ReduceLrOnPlateau::new(0.1).unwrap();
        s.load_state(&plateau_state(key, 3.0)).unwrap();
        s.step(Some(2.0));
    }
    let mut s = ReduceLrOnPlateau::new(0.1).unwrap();
    assert!(matches!(
        s.load_state(&plateau_state("best", f64::NAN)),
        Err(Error::StateMismatch { key, .. }) if key == "best"
    ));
    // ±inf is the initial `best` (before any metric): a fresh schedule's state loads.
    let fresh = ReduceLrOnPlateau::new(0.1).unwrap().state();
    assert_eq!(fresh.scalars["best"], f64::INFINITY);
    s.load_state(&fresh).unwrap();
}

#[test]
fn eps_must_stay_positive_as_f32() {
    // 1e-50 is > 0 as f64 but 0 as f32: with a zero gradient the update would be 0/0 = NaN.
    for eps in [1e-50, f64::INFINITY, 1e39] {
        assert_eq!(parameter(Adam::new(1e-3).unwrap().eps(eps)), "eps", "{eps}");
        assert_eq!(
            parameter(AdamW::new(1e-3).unwrap().eps(eps)),
            "eps",
            "{eps}"
        );
        assert_eq!(
            parameter(RmsProp::new(1e-2).unwrap().eps(eps)),
            "eps",
            "{eps}"
        );
        assert_eq!(
            parameter(Adagrad::new(1e-2).unwrap().eps(eps)),
            "eps",
            "{eps}"
        );
        assert_eq!(
            parameter(Adadelta::new(1.0).unwrap().eps(eps)),
            "eps",
            "{eps}"
        );
    }
    // The smallest ε that survives the rounding is fine, and gives finite steps from a zero
    // gradient.
    let mut model = quadratic();
    let mut opt = Adagrad::new(0.1).unwrap().eps(1e-44).unwrap();
    opt.step(&mut model).unwrap(); // gradients are 0
    assert!(model.values()[0].iter().all(|w| w.is_finite()));
}

#[test]
fn adamw_decay_factor_must_be_finite_as_f32() {
    // 1 − lr·λ = 1 − 1e20·1e20: finite in f64, −∞ as the f32 the update multiplies θ by.
    let err = AdamW::new(1e20).unwrap().weight_decay(1e20).unwrap_err();
    assert!(
        matches!(
            &err,
            InvalidHyperParameter {
                optimizer: "AdamW",
                parameter: "weight_decay",
                ..
            }
        ),
        "{err}"
    );
    // The same through set_lr: the next step says so and moves nothing.
    let mut opt = AdamW::new(1e-3).unwrap().weight_decay(1e20).unwrap();
    let mut model = quadratic();
    set_quadratic_grad(&mut model);
    opt.set_lr(1e20);
    let before = model.values();
    assert_eq!(parameter(opt.step(&mut model)), "weight_decay");
    assert_eq!(model.values(), before);
}

#[test]
fn schedule_rates_must_be_finite_as_f32() {
    use lazarus_optim::CosineAnnealingLr;
    assert_eq!(
        schedule_parameter(CosineAnnealingLr::new(0.1, 10).unwrap().eta_min(1e39)),
        "eta_min"
    );
    // initial_lr = max_lr / div_factor = 1e299: finite in f64, ∞ as the f32 lr.
    assert_eq!(
        schedule_parameter(OneCycleLr::new(1.0, 10).unwrap().div_factor(1e-300)),
        "div_factor"
    );
    assert_eq!(
        schedule_parameter(OneCycleLr::new(1.0, 10).unwrap().final_div_factor(1e-300)),
        "final_div_factor"
    );
    let s = OneCycleLr::new(1.0, 10).unwrap().div_factor(1e-30).unwrap();
    assert!(s.lr().is_finite());
}

#[test]
fn messages_print_huge_and_tiny_numbers_in_scientific_notation() {
    let err = Sgd::new(0.1).unwrap().weight_decay(1e300).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: invalid weight_decay = 1e300: expected a finite weight_decay >= 0"
    );
    let err = Adam::new(1e-3).unwrap().eps(1e-50).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: invalid eps = 1e-50: expected a finite eps > 0, also once rounded to f32"
    );
    // Ordinary numbers stay plain.
    let err = Sgd::new(0.1).unwrap().momentum(1.5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: invalid momentum = 1.5: expected 0 <= momentum < 1"
    );
}

mod non_finite_update {
    //! A step that leaves a weight NaN or infinite is reported by that step
    //! (`Error::NonFiniteUpdate`), by every optimizer, wherever the element is and however many
    //! threads cut the parameter into pieces; a finite step is Ok.

    use lazarus_core::ParamBag;
    use lazarus_core::{Param, ParamRole, Tensor};
    use lazarus_optim::{Adadelta, Adagrad, Adam, AdamW, Error, Optimizer, RmsProp, Sgd};

    /// Two parameters; the second has 100,000 elements (several pieces on several threads).
    fn bag(bad_at: Option<usize>, bad: f32) -> ParamBag {
        let small = Param::new(Tensor::from_elem(vec![3], 0.5), ParamRole::Bias);
        let mut big = Param::new(Tensor::from_elem(vec![100_000], 0.5), ParamRole::Weight);
        big.grad.fill(0.1);
        if let Some(i) = bad_at {
            big.grad[[i]] = bad;
        }
        ParamBag::new(vec![("b", small), ("w", big)])
    }

    fn optimizers() -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::new(0.1).unwrap()),
            Box::new(Sgd::new(0.1).unwrap().momentum(0.9).unwrap()),
            Box::new(
                Sgd::new(0.1)
                    .unwrap()
                    .momentum(0.9)
                    .unwrap()
                    .nesterov(true)
                    .unwrap(),
            ),
            Box::new(Adam::new(0.1).unwrap()),
            Box::new(Adam::new(0.1).unwrap().amsgrad(true)),
            Box::new(AdamW::new(0.1).unwrap()),
            Box::new(RmsProp::new(0.1).unwrap()),
            Box::new(
                RmsProp::new(0.1)
                    .unwrap()
                    .centered(true)
                    .momentum(0.5)
                    .unwrap(),
            ),
            Box::new(Adagrad::new(0.1).unwrap()),
            Box::new(Adadelta::new(0.1).unwrap()),
        ]
    }

    #[test]
    fn a_step_that_leaves_a_weight_non_finite_says_so() {
        let threads = lazarus_core::num_threads();
        for n in [1, 2, 3] {
            lazarus_core::set_num_threads(n);
            for at in [0, 49_999, 50_000, 99_999] {
                for bad in [f32::NAN, f32::INFINITY] {
                    for i in 0..optimizers().len() {
                        let mut finite = optimizers().swap_remove(i);
                        assert_eq!(finite.step(&mut bag(None, 0.0)), Ok(()));
                        let mut opt = optimizers().swap_remove(i);
                        match opt.step(&mut bag(Some(at), bad)) {
                            Err(Error::NonFiniteUpdate { path, .. }) => assert_eq!(path, "w"),
                            other => panic!("optimizer {i}: {bad} at {at}: {other:?}"),
                        }
                    }
                }
            }
        }
        lazarus_core::set_num_threads(threads);
    }

    #[test]
    fn a_finite_gradient_with_a_huge_lr_overflows_and_is_reported() {
        // The case that needs the check: every input finite, the product is not.
        let mut model = bag(None, 0.0);
        let mut sgd = Sgd::new(f32::MAX).unwrap();
        model.params[1].1.grad.fill(10.0);
        let err = sgd.step(&mut model).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD: the step left parameter w non-finite (NaN or infinite)"
        );
    }
}
