//! State export/import by parameter path: resume bit for bit; a changed model is a typed error.

mod common;

use common::{bits, set_quadratic_grad, sgd_nesterov_wd, three_params, train};
use lazarus_core::{Param, ParamRole, Tensor};
use lazarus_optim::{Adadelta, Adagrad, Adam, AdamW, Error, Optimizer, RmsProp, Sgd};

type Make = fn() -> Box<dyn Optimizer>;

fn makers() -> Vec<(&'static str, Make)> {
    vec![
        ("SGD", || Box::new(sgd_nesterov_wd(0.05))),
        ("Adam", || {
            Box::new(
                Adam::new(0.05)
                    .unwrap()
                    .amsgrad(true)
                    .weight_decay(0.01)
                    .unwrap(),
            )
        }),
        ("AdamW", || Box::new(AdamW::new(0.05).unwrap().decay_all())),
        ("RMSprop", || {
            Box::new(
                RmsProp::new(0.01)
                    .unwrap()
                    .momentum(0.5)
                    .unwrap()
                    .centered(true),
            )
        }),
        ("Adagrad", || {
            Box::new(Adagrad::new(0.1).unwrap().lr_decay(0.01).unwrap())
        }),
        ("Adadelta", || Box::new(Adadelta::new(1.0).unwrap())),
    ]
}

#[test]
fn five_steps_export_import_five_steps_equals_ten_bit_for_bit() {
    for (name, make) in makers() {
        let mut straight = three_params();
        train(make().as_mut(), &mut straight, 10);

        let mut resumed = three_params();
        let mut first = make();
        train(first.as_mut(), &mut resumed, 5);
        let state = first.state();
        let mut second = make();
        second.load_state(&state).unwrap();
        train(second.as_mut(), &mut resumed, 5);
        assert_eq!(bits(&resumed), bits(&straight), "{name}");
        // And the state itself round-trips.
        let mut third = make();
        third.load_state(&state).unwrap();
        assert_eq!(
            third.state(),
            state,
            "{name}: a loaded state exports unchanged before any step"
        );
    }
}

#[test]
fn state_keys_are_parameter_paths_with_pytorch_buffer_names() {
    let mut opt = Adam::new(0.01).unwrap().amsgrad(true);
    train(&mut opt, &mut three_params(), 3);
    let state = opt.state();
    let keys: Vec<&str> = state.tensors.keys().map(String::as_str).collect();
    assert!(
        keys.contains(&"0.weight.exp_avg") && keys.contains(&"1.weight.max_exp_avg_sq"),
        "{keys:?}"
    );
    assert_eq!(state.tensors["0.weight.exp_avg_sq"].shape(), &[2, 3]);
    assert_eq!(state.scalars["0.bias.step"], 3.0);
    assert_eq!(state.scalars["lr"], f64::from(0.01f32));

    let mut sgd = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    train(&mut sgd, &mut three_params(), 1);
    // PyTorch's momentum buffer starts as the first gradient (a ⊙ w + b, no dampening).
    let buf = &sgd.state().tensors["1.weight.momentum_buffer"];
    assert_eq!(buf[[0]], 1.0 * 0.25 - 1.0);
}

#[test]
fn load_state_restores_the_learning_rate() {
    let mut opt = Sgd::new(0.1).unwrap();
    opt.set_lr(0.025);
    let state = opt.state();
    let mut fresh = Sgd::new(0.1).unwrap();
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh.lr(), 0.025);
}

#[test]
fn mismatched_state_is_a_typed_error() {
    let mut opt = Adam::new(0.01).unwrap();
    let mut m = three_params();
    train(&mut opt, &mut m, 2);
    let good = opt.state();

    // Wrong shape, refused at load time (the optimizer has seen the model).
    let mut bad = good.clone();
    bad.tensors
        .insert("0.bias.exp_avg".into(), Tensor::zeros(vec![4]));
    let err = opt.load_state(&bad).unwrap_err();
    assert!(
        matches!(&err, Error::StateMismatch { key, .. } if key == "0.bias.exp_avg"),
        "{err}"
    );
    assert!(
        err.to_string().contains("[3]") && err.to_string().contains("[4]"),
        "{err}"
    );

    // Unknown parameter path.
    let mut bad = good.clone();
    bad.tensors
        .insert("7.weight.exp_avg".into(), Tensor::zeros(vec![1]));
    assert!(
        matches!(opt.load_state(&bad), Err(Error::StateMismatch { key, .. }) if key == "7.weight.exp_avg")
    );

    // A buffer missing although the step count says it exists.
    let mut bad = good.clone();
    bad.tensors.remove("1.weight.exp_avg_sq");
    assert!(
        matches!(opt.load_state(&bad), Err(Error::StateMismatch { key, .. }) if key == "1.weight.exp_avg_sq")
    );

    // A state from another optimizer.
    let mut sgd = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    train(&mut sgd, &mut three_params(), 1);
    assert!(opt.load_state(&sgd.state()).is_err());

    // Nothing changed by the failed loads.
    assert_eq!(opt.state(), good);

    // Before the first step the check happens at the first step, on the model.
    let mut fresh = Adam::new(0.01).unwrap();
    let mut bad = good.clone();
    bad.tensors
        .insert("0.weight.exp_avg".into(), Tensor::zeros(vec![6]));
    fresh.load_state(&bad).unwrap();
    let before = bits(&m);
    assert!(matches!(
        fresh.step(&mut m),
        Err(Error::StateMismatch { .. })
    ));
    assert_eq!(bits(&m), before, "no parameter moves on error");
}

#[test]
fn a_changed_model_is_a_typed_error_not_a_silent_reset() {
    let mut opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    let mut m = three_params();
    train(&mut opt, &mut m, 1);

    // A parameter more.
    let mut bigger = three_params();
    bigger.params.push((
        "2.weight".into(),
        Param::new(Tensor::zeros(vec![1]), ParamRole::Slope),
    ));
    let err = opt.step(&mut bigger).unwrap_err();
    assert_eq!(
        err,
        Error::ParamCountChanged {
            optimizer: "SGD",
            expected: 3,
            found: 4
        }
    );

    // Same count, another shape.
    let mut reshaped = three_params();
    reshaped.params[1].1 = Param::new(Tensor::zeros(vec![4]), ParamRole::Bias);
    let err = opt.step(&mut reshaped).unwrap_err();
    assert!(
        matches!(&err, Error::ParamChanged { index: 1, expected_shape, found_shape, .. } if expected_shape == &[3] && found_shape == &[4]),
        "{err}"
    );
    assert!(err.to_string().contains("0.bias"), "{err}");

    // Same shapes, another path.
    let mut renamed = three_params();
    renamed.params[2].0 = "2.weight".into();
    let before = bits(&renamed);
    let err = opt.step(&mut renamed).unwrap_err();
    assert!(
        err.to_string().contains("1.weight") && err.to_string().contains("2.weight"),
        "{err}"
    );
    assert_eq!(bits(&renamed), before, "no parameter moves on error");

    // The original model still trains.
    train(&mut opt, &mut m, 1);
}

#[test]
fn non_contiguous_parameters_are_refused() {
    let mut m = three_params();
    let t = m.params[0].1.value.clone().reversed_axes();
    m.params[0].1.value = t;
    m.params[0].1.grad = Tensor::zeros(vec![3, 2]);
    let err = Sgd::new(0.1).unwrap().step(&mut m).unwrap_err();
    assert!(matches!(err, Error::NonContiguous { .. }), "{err}");
}

/// Each optimizer (by the PyTorch class name its state must carry as kind), its maker, and its
/// state after two steps on [`model`].
fn trained_states() -> Vec<(&'static str, Make, lazarus_optim::OptimizerState)> {
    makers()
        .into_iter()
        .map(|(name, make)| {
            let mut opt = make();
            train(opt.as_mut(), &mut three_params(), 2);
            (name, make, opt.state())
        })
        .collect()
}

/// An optimizer from `make` that has taken two steps on [`model`] (it has seen the model, so
/// `load_state` checks everything at once).
fn stepped(make: Make) -> Box<dyn Optimizer> {
    let mut opt = make();
    train(opt.as_mut(), &mut three_params(), 2);
    opt
}

#[test]
fn every_state_names_its_optimizer() {
    for (name, _, state) in trained_states() {
        assert_eq!(state.kind.as_deref(), Some(name));
    }
    // Before any step too, and for a custom rule (its NAME).
    assert_eq!(Sgd::new(0.1).unwrap().state().kind.as_deref(), Some("SGD"));
}

#[test]
fn a_state_of_another_optimizer_is_refused_at_once_naming_both() {
    // An SGD state with no step yet holds only `lr`: without its kind it would load into Adam
    // silently. Now it is refused at load, before and after Adam's first step.
    let sgd_state = Sgd::new(0.1).unwrap().state();
    let mut adam = Adam::new(0.01).unwrap();
    let err = adam.load_state(&sgd_state).unwrap_err();
    assert_eq!(
        err,
        Error::StateKindMismatch {
            expected: "Adam",
            found: "SGD".into()
        }
    );
    assert_eq!(err.to_string(), "Adam: cannot load a state saved by SGD");
    assert_eq!(adam.lr(), 0.01, "nothing changed");
    assert!(adam.check_state(&sgd_state, &three_params()).is_err());
    let mut m = three_params();
    train(&mut adam, &mut m, 1);
    let before = adam.state();
    assert!(matches!(
        adam.load_state(&sgd_state),
        Err(Error::StateKindMismatch { .. })
    ));
    assert_eq!(adam.state(), before);

    // Every pair of different optimizers.
    for (name, _, state) in trained_states() {
        for (other, make, _) in trained_states() {
            let result = stepped(make).load_state(&state);
            if name == other {
                result.unwrap();
            } else {
                assert!(
                    matches!(&result, Err(Error::StateKindMismatch { expected, found }) if *expected == other && found == name),
                    "{name} into {other}: {result:?}"
                );
                assert!(
                    make().load_state(&state).is_err(),
                    "before the first step too"
                );
            }
        }
    }
}

#[test]
fn a_state_without_kind_still_loads() {
    // As saved before the kind was recorded.
    for (name, make, mut state) in trained_states() {
        state.kind = None;
        let mut opt = make();
        opt.check_state(&state, &three_params()).unwrap();
        opt.load_state(&state).unwrap();
        train(opt.as_mut(), &mut three_params(), 1);
        assert_eq!(opt.state().kind.as_deref(), Some(name));
        stepped(make).load_state(&state).unwrap();
    }
}

#[test]
fn an_lr_infinite_as_f32_is_refused() {
    for (name, make, state) in trained_states() {
        for lr in [1e39, 1e300, f64::MAX, f64::INFINITY, f64::NAN, -1e-3] {
            let mut bad = state.clone();
            bad.scalars.insert("lr".into(), lr);
            // Before the first step (where the lr is checked at load, it needs no model), and
            // after it.
            for mut opt in [make(), stepped(make)] {
                let before = opt.state();
                let err = opt.load_state(&bad).unwrap_err();
                assert!(
                    matches!(&err, Error::StateMismatch { key, .. } if key == "lr"),
                    "{name}, lr = {lr}: {err}"
                );
                assert_eq!(opt.check_state(&bad, &three_params()).unwrap_err(), err);
                assert_eq!(opt.state(), before, "{name}: nothing changed");
                assert!(err.to_string().len() < 120, "{err}");
            }
        }
    }
    let mut bad = Sgd::new(0.1).unwrap().state();
    bad.scalars.insert("lr".into(), 1e300);
    let err = Sgd::new(0.1).unwrap().load_state(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: state entry lr: expected an lr >= 0 that is finite as f32, found 1e300"
    );
}

#[test]
fn an_lr_that_overflows_a_group_lr_is_refused_at_load() {
    // Biases at 1000× the base lr: a base of 1e36 is finite, the biases' 1e39 is not.
    let make = || {
        let mut opt = Sgd::new(1e-3).unwrap();
        opt.group(ParamRole::Bias).lr(1.0).unwrap();
        opt
    };
    let mut state = make().state();
    state.scalars.insert("lr".into(), 1e36);
    let mut opt = make();
    let err = opt.check_state(&state, &three_params()).unwrap_err();
    assert!(
        matches!(&err, Error::StateMismatch { key, .. } if key == "lr"),
        "{err}"
    );
    assert!(err.to_string().contains("0.bias"), "{err}");
    let mut m = three_params();
    train(&mut opt, &mut m, 1);
    assert!(opt.load_state(&state).is_err());
    assert_eq!(opt.lr(), 1e-3);
    train(&mut opt, &mut m, 1);
}

#[test]
fn non_finite_and_negative_buffers_are_refused_naming_key_value_and_index() {
    let mut checked = 0;
    for (name, make, state) in trained_states() {
        for key in state.tensors.keys() {
            // A running sum or average of squares is never negative; momenta and first moments
            // can be.
            let squares = [
                "exp_avg_sq",
                "max_exp_avg_sq",
                "square_avg",
                "sum",
                "acc_delta",
            ]
            .iter()
            .any(|b| key.ends_with(&format!(".{b}")));
            for (value, refused) in [
                (f32::NAN, true),
                (f32::INFINITY, true),
                (f32::NEG_INFINITY, true),
                (-1.0, squares),
                (-0.0, false),
                (1e30, false),
            ] {
                let mut bad = state.clone();
                let t = bad.tensors.get_mut(key).unwrap();
                let last = t.len() - 1;
                t.as_slice_mut().unwrap()[last] = value;
                let index = format!("{:?}", t.shape().iter().map(|n| n - 1).collect::<Vec<_>>());
                let mut opt = stepped(make);
                let before = opt.state();
                let result = opt.load_state(&bad);
                // check_state says the same, before the first step too.
                assert_eq!(opt.check_state(&bad, &three_params()), result);
                assert_eq!(make().check_state(&bad, &three_params()), result);
                if refused {
                    let err = result.unwrap_err();
                    let Error::StateMismatch { key: k, reason, .. } = &err else {
                        panic!("{name} {key} = {value}: {err}");
                    };
                    assert_eq!(k, key);
                    assert!(
                        reason.contains(&format!("found {value} at index {index}")),
                        "{err}"
                    );
                    assert_eq!(opt.state(), before, "nothing changed");
                    checked += 1;
                } else {
                    result.unwrap_or_else(|e| panic!("{name} {key} = {value}: {e}"));
                }
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn refused_buffers_before_the_first_step_move_nothing() {
    let mut opt = Adam::new(0.01).unwrap();
    let mut m = three_params();
    train(&mut opt, &mut m, 2);
    let mut bad = opt.state();
    bad.tensors.get_mut("0.bias.exp_avg_sq").unwrap()[[1]] = -4.0;
    let mut fresh = Adam::new(0.01).unwrap();
    let err = fresh.check_state(&bad, &m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: state entry 0.bias.exp_avg_sq: expected finite values >= 0 (a running sum or average of squares), found -4 at index [1]"
    );
    // load_state has no model to check against yet: the first step does it, and moves nothing.
    fresh.load_state(&bad).unwrap();
    let before = bits(&m);
    set_quadratic_grad(&mut m);
    assert_eq!(fresh.step(&mut m).unwrap_err(), err);
    assert_eq!(bits(&m), before);
}

#[test]
fn step_counts_and_keys_must_be_what_state_writes() {
    let mut opt = Adam::new(0.01).unwrap();
    let mut m = three_params();
    train(&mut opt, &mut m, 2);
    let good = opt.state();
    let refused = |bad: &lazarus_optim::OptimizerState, key: &str| {
        let fresh = Adam::new(0.01).unwrap();
        let err = fresh.check_state(bad, &three_params()).unwrap_err();
        assert!(
            matches!(&err, Error::StateMismatch { key: k, .. } if k == key),
            "{key}: {err}"
        );
        let before = opt.state();
        let mut built = Adam::new(0.01).unwrap();
        train(&mut built, &mut three_params(), 2);
        assert_eq!(built.load_state(bad).unwrap_err(), err);
        assert_eq!(built.state(), before);
        assert!(err.to_string().len() < 250, "{err}");
    };
    for step in [
        0.0,
        -0.0,
        2.5,
        -1.0,
        f64::NAN,
        f64::INFINITY,
        1e300,
        2f64.powi(53),
    ] {
        let mut bad = good.clone();
        bad.scalars.insert("0.weight.step".into(), step);
        refused(&bad, "0.weight.step");
    }
    // Buffers without their step count.
    let mut bad = good.clone();
    bad.scalars.remove("0.bias.step");
    refused(&bad, "0.bias.exp_avg");
    // A number named like a buffer, a tensor named like a number.
    let mut bad = good.clone();
    bad.scalars.insert("0.bias.exp_avg".into(), 1.0);
    refused(&bad, "0.bias.exp_avg");
    let mut bad = good.clone();
    bad.tensors
        .insert("1.weight.step".into(), Tensor::zeros(vec![1]));
    refused(&bad, "1.weight.step");
}

#[test]
fn check_state_before_the_first_step_uses_the_groups_settings() {
    // amsgrad for biases only: their state has max_exp_avg_sq, the others' not.
    let make = || {
        let mut opt = Adam::new(0.01).unwrap();
        opt.group(ParamRole::Bias)
            .set(|c| c.amsgrad = true)
            .unwrap();
        opt
    };
    let mut opt = make();
    let mut m = three_params();
    train(&mut opt, &mut m, 2);
    let good = opt.state();
    assert!(good.tensors.contains_key("0.bias.max_exp_avg_sq"));
    assert!(!good.tensors.contains_key("0.weight.max_exp_avg_sq"));

    let fresh = make();
    fresh.check_state(&good, &three_params()).unwrap();
    let mut bad = good.clone();
    bad.tensors.remove("0.bias.max_exp_avg_sq");
    assert!(matches!(
        fresh.check_state(&bad, &three_params()),
        Err(Error::StateMismatch { key, .. }) if key == "0.bias.max_exp_avg_sq"
    ));
    // Into a plain Adam, the biases' extra buffer is unknown.
    assert!(matches!(
        Adam::new(0.01).unwrap().check_state(&good, &three_params()),
        Err(Error::StateMismatch { key, .. }) if key == "0.bias.max_exp_avg_sq"
    ));
    // Another model: wrong shapes (unbuilt), or not the model stepped so far (built).
    let mut other = three_params();
    other.params[1].1 = Param::new(Tensor::zeros(vec![4]), ParamRole::Bias);
    assert!(matches!(
        fresh.check_state(&good, &other),
        Err(Error::StateMismatch { key, .. }) if key == "0.bias.exp_avg"
    ));
    assert!(matches!(
        opt.check_state(&good, &other),
        Err(Error::ParamChanged { index: 1, .. })
    ));
}

#[test]
fn check_state_ok_means_load_and_step_succeed_and_resume_exactly() {
    for (name, make) in makers() {
        let mut straight = three_params();
        train(make().as_mut(), &mut straight, 6);

        let mut first = make();
        let mut resumed = three_params();
        train(first.as_mut(), &mut resumed, 3);
        let state = first.state();
        // Checked against the model, then loaded, into a fresh and into a stepped optimizer.
        let mut fresh = make();
        fresh.check_state(&state, &resumed).unwrap();
        fresh.load_state(&state).unwrap();
        assert_eq!(fresh.state(), state, "{name}");
        train(fresh.as_mut(), &mut resumed, 3);
        assert_eq!(bits(&resumed), bits(&straight), "{name}");
    }
}
