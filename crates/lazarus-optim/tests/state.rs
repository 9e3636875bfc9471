//! State export/import by parameter path: resume bit for bit; a changed model is a typed error.

mod common;

use common::{ParamBag, set_quadratic_grad};
use lazarus_core::{Param, ParamRole, Tensor};
use lazarus_optim::{Adadelta, Adagrad, Adam, AdamW, Error, Optimizer, RmsProp, Sgd};

/// Three parameters of different shapes and roles (weight [2, 3], bias [3], alpha [1]).
fn model() -> ParamBag {
    let w: Vec<f32> = (0..6).map(|i| 0.3 * i as f32 - 0.7).collect();
    ParamBag::new(vec![
        (
            "0.weight",
            Param::new(
                Tensor::from_shape_vec(vec![2, 3], w).unwrap(),
                ParamRole::Weight,
            ),
        ),
        (
            "0.bias",
            Param::new(
                Tensor::from_shape_vec(vec![3], vec![0.1, -0.2, 0.3]).unwrap(),
                ParamRole::Bias,
            ),
        ),
        (
            "1.alpha",
            Param::new(Tensor::from_elem(vec![1], 0.25), ParamRole::Slope),
        ),
    ])
}

fn bits(m: &ParamBag) -> Vec<Vec<u32>> {
    m.values()
        .iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

fn train(opt: &mut dyn Optimizer, m: &mut ParamBag, steps: usize) {
    for _ in 0..steps {
        set_quadratic_grad(m);
        opt.step(m).unwrap();
    }
}

type Make = fn() -> Box<dyn Optimizer>;

fn makers() -> Vec<(&'static str, Make)> {
    vec![
        ("SGD", || {
            Box::new(
                Sgd::new(0.05)
                    .unwrap()
                    .momentum(0.9)
                    .unwrap()
                    .nesterov(true)
                    .unwrap()
                    .weight_decay(0.01)
                    .unwrap(),
            )
        }),
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
        let mut straight = model();
        train(make().as_mut(), &mut straight, 10);

        let mut resumed = model();
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
    train(&mut opt, &mut model(), 3);
    let state = opt.state();
    let keys: Vec<&str> = state.tensors.keys().map(String::as_str).collect();
    assert!(
        keys.contains(&"0.weight.exp_avg") && keys.contains(&"1.alpha.max_exp_avg_sq"),
        "{keys:?}"
    );
    assert_eq!(state.tensors["0.weight.exp_avg_sq"].shape(), &[2, 3]);
    assert_eq!(state.scalars["0.bias.step"], 3.0);
    assert_eq!(state.scalars["lr"], f64::from(0.01f32));

    let mut sgd = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    train(&mut sgd, &mut model(), 1);
    // PyTorch's momentum buffer starts as the first gradient (a ⊙ w + b, no dampening).
    let buf = &sgd.state().tensors["1.alpha.momentum_buffer"];
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
    let mut m = model();
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
    bad.tensors.remove("1.alpha.exp_avg_sq");
    assert!(
        matches!(opt.load_state(&bad), Err(Error::StateMismatch { key, .. }) if key == "1.alpha.exp_avg_sq")
    );

    // A state from another optimizer.
    let mut sgd = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    train(&mut sgd, &mut model(), 1);
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
    let mut m = model();
    train(&mut opt, &mut m, 1);

    // A parameter more.
    let mut bigger = model();
    bigger.params.push((
        "2.alpha".into(),
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
    let mut reshaped = model();
    reshaped.params[1].1 = Param::new(Tensor::zeros(vec![4]), ParamRole::Bias);
    let err = opt.step(&mut reshaped).unwrap_err();
    assert!(
        matches!(&err, Error::ParamChanged { index: 1, expected_shape, found_shape, .. } if expected_shape == &[3] && found_shape == &[4]),
        "{err}"
    );
    assert!(err.to_string().contains("0.bias"), "{err}");

    // Same shapes, another path.
    let mut renamed = model();
    renamed.params[2].0 = "2.alpha".into();
    let before = bits(&renamed);
    let err = opt.step(&mut renamed).unwrap_err();
    assert!(
        err.to_string().contains("1.alpha") && err.to_string().contains("2.alpha"),
        "{err}"
    );
    assert_eq!(bits(&renamed), before, "no parameter moves on error");

    // The original model still trains.
    train(&mut opt, &mut m, 1);
}

#[test]
fn non_contiguous_parameters_are_refused() {
    let mut m = model();
    let t = m.params[0].1.value.clone().reversed_axes();
    m.params[0].1.value = t;
    m.params[0].1.grad = Tensor::zeros(vec![3, 2]);
    let err = Sgd::new(0.1).unwrap().step(&mut m).unwrap_err();
    assert!(matches!(err, Error::NonContiguous { .. }), "{err}");
}
