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
