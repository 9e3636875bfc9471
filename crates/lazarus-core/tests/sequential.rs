//! `Sequential`: the finite-difference check through a chain, nested paths and errors, the
//! identity when empty, the summary table, and `backward_params`.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{Error, Flatten, Layer, Linear, Mode, Sequential, Tensor};
use rand::{SeedableRng, rngs::StdRng};

fn two_linear(rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(Linear::new(4, 3, rng).unwrap())
        .add(Linear::new(3, 2, rng).unwrap())
}

#[test]
fn gradcheck_linear_linear() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut model = two_linear(&mut rng);
    let x = random_input(&[5, 4], &mut rng);
    let report = GradCheck::default()
        .check_layer(&mut model, &x, &mut rng)
        .unwrap();
    assert!(report.passed(), "{report}");
    let names: Vec<_> = report.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
}

#[test]
fn nested_paths_and_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let inner = two_linear(&mut rng);
    let mut model = Sequential::new().add(Flatten::new()).add(inner);
    let mut names = Vec::new();
    model.visit_params(&mut |n, _| names.push(n.to_string()));
    assert_eq!(names, ["1.0.weight", "1.0.bias", "1.1.weight", "1.1.bias"]);
    let err = model
        .forward(Tensor::zeros(vec![2, 5]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "linear[1.0]: expected [batch, 4], found shape [2, 5]"
    );
    let mut fresh = two_linear(&mut rng);
    assert_eq!(
        fresh
            .backward(Tensor::zeros(vec![2, 2]).view())
            .unwrap_err(),
        Error::BackwardBeforeForward {
            layer: "linear[1]".into()
        }
    );
}

#[test]
fn empty_sequential_is_identity() {
    let mut model = Sequential::new();
    let x = random_input(&[2, 3], &mut StdRng::seed_from_u64(0));
    assert_eq!(model.forward(x.view(), Mode::Train).unwrap(), x.view());
    assert_eq!(model.backward(x.view()).unwrap(), x.view());
}

#[test]
fn summary_lists_shapes_and_counts() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(784, 10, &mut rng).unwrap());
    let text = model.summary(&[32, 1, 28, 28]).unwrap();
    assert!(text.contains("[32, 784]"), "{text}");
    assert!(text.contains("[32, 10]"), "{text}");
    assert!(text.contains("Total params: 7850"), "{text}");
    assert!(
        model
            .to_string()
            .contains("Linear(in_features=784, out_features=10, bias=true)")
    );
    assert!(matches!(
        model.summary(&[32, 10]),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn backward_params_accumulates_the_same_gradients() {
    let mut rng = StdRng::seed_from_u64(2);
    let mut a = two_linear(&mut StdRng::seed_from_u64(9));
    let mut b = two_linear(&mut StdRng::seed_from_u64(9));
    let x = random_input(&[3, 4], &mut rng);
    let g = random_input(&[3, 2], &mut rng);
    let grads = |m: &mut Sequential, params_only: bool| {
        m.forward(x.view(), Mode::Train).unwrap();
        if params_only {
            m.backward_params(g.view()).unwrap();
        } else {
            m.backward(g.view()).unwrap();
        }
        let mut out = Vec::new();
        m.visit_params(&mut |_, p| out.push(p.grad.clone()));
        out
    };
    assert_eq!(grads(&mut a, false), grads(&mut b, true));
}
