//! A bias that a BatchNorm cancels is no vanishing gradient: the diagnostics say so, once per
//! run, from the model's structure (Linear → BatchNorm1d, Conv2d → BatchNorm2d, nested
//! `Sequential`s included), while a bias whose gradient is zero for another reason (behind a
//! ReLU dead on every input) keeps the vanishing-gradient warning, and the report lists the
//! new kind like the others.

mod common;

use common::Page;
use lazarus_activations::Relu;
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{
    BatchNorm1d, BatchNorm2d, Conv2dSettings, Dropout, Flatten, Linear, Sequential, Tensor,
};
use lazarus_optim::Sgd;
use lazarus_train::data::Dataset;
use lazarus_train::diagnostics::{DiagnosticsConfig, Warning, WarningKind};
use lazarus_train::report::{ReportData, render_report};
use lazarus_train::{History, Trainer, Verbosity};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Uniform values in [0, 1) of `shape`.
fn inputs(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| rng.random_range(0.0f32..1.0))
}

/// The vanishing-gradient threshold of these runs. A cancelled bias's rounding noise reaches
/// 1e-7 to 1e-6 on these small batches (above the default 1e-7); real gradients here are above
/// 1e-3. Between the two, the vanishing-gradient rule alone would call the cancelled biases
/// vanishing: the tests below check that it no longer does.
const VANISHING: f64 = 1e-5;

/// `model` trained for 2 epochs of 5 steps (40 samples of `x`, 3 classes, batch 8, SGD), with
/// the diagnostics' warnings recorded but not printed.
fn train(model: Sequential, x: Tensor) -> History {
    let mut rng = StdRng::seed_from_u64(7);
    let labels: Vec<usize> = (0..x.shape()[0]).map(|_| rng.random_range(0..3)).collect();
    let train = Dataset::from_labels(x, labels, 3).unwrap();
    let quiet = DiagnosticsConfig {
        warnings: false,
        vanishing_norm: VANISHING,
        ..DiagnosticsConfig::default()
    };
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Sgd::new(0.1).unwrap())
        .epochs(2)
        .batch_size(8)
        .unwrap()
        .verbosity(Verbosity::Silent)
        .diagnostics(quiet)
        .unwrap();
    trainer.fit(&train, None).unwrap()
}

/// Every warning of the run, of `kind`.
fn warnings(history: &History, kind: WarningKind) -> Vec<Warning> {
    (history.epochs.iter())
        .flat_map(|r| &r.diagnostics.as_ref().unwrap().warnings)
        .filter(|w| w.kind == kind)
        .cloned()
        .collect()
}

/// No vanishing-gradient warning about `param` in the run.
fn assert_not_vanishing(history: &History, param: &str) {
    let vanishing = warnings(history, WarningKind::VanishingGradient);
    let about = |w: &Warning| w.subject.as_deref() == Some(param);
    assert!(!vanishing.iter().any(about), "{vanishing:?}");
}

/// The largest gradient norm of `param` over the run.
fn max_grad_norm(history: &History, param: &str) -> f64 {
    (history.epochs.iter())
        .flat_map(|r| &r.diagnostics.as_ref().unwrap().gradients)
        .filter(|g| g.param == param)
        .map(|g| g.max_norm)
        .fold(0.0, f64::max)
}

/// `Linear(4 → 6)`, then `norm`, then ReLU and `Linear(6 → 3)`.
fn linear_then(norm: BatchNorm1d) -> Sequential {
    let mut rng = StdRng::seed_from_u64(1);
    Sequential::new()
        .add(Linear::new(4, 6, &mut rng).unwrap())
        .add(norm)
        .add(Relu::new())
        .add(Linear::new(6, 3, &mut rng).unwrap())
}

#[test]
fn a_linear_bias_before_batch_norm1d_is_warned_about_once_and_never_as_vanishing() {
    let history = train(
        linear_then(BatchNorm1d::new(6).unwrap()),
        inputs(&[40, 4], 2),
    );
    // The premise: BatchNorm leaves the bias only rounding noise, the weight a real gradient.
    assert!(max_grad_norm(&history, "0.bias") < VANISHING);
    assert!(max_grad_norm(&history, "0.weight") > 1e-3);

    let found = warnings(&history, WarningKind::BiasBeforeNorm);
    assert_eq!(found.len(), 1, "once per run, not per epoch: {found:?}");
    let w = &found[0];
    assert_eq!((w.epoch, w.subject.as_deref()), (1, Some("0.bias")));
    assert!(
        w.message.starts_with(
            "0.bias: this bias does nothing: linear[0] feeds batch_norm1d[1] directly, which subtracts each channel's batch mean and so cancels the bias: it gets no gradient"
        ),
        "{}",
        w.message
    );
    for advice in [
        "build linear[0] without bias (`Linear::without_bias()`, PyTorch's bias=False)",
        "batch_norm1d[1]'s shift β takes its place",
    ] {
        assert!(w.message.contains(advice), "{advice:?} in {}", w.message);
    }
    assert_not_vanishing(&history, "0.bias");

    // Without affine, there is no β to take the bias's place: the advice says so.
    let history = train(
        linear_then(BatchNorm1d::new(6).unwrap().without_affine()),
        inputs(&[40, 4], 2),
    );
    let found = warnings(&history, WarningKind::BiasBeforeNorm);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        (found[0].message)
            .ends_with("batch_norm1d[1] has no shift (affine=False), so nothing is lost"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_conv2d_bias_before_batch_norm2d_in_a_nested_sequential_is_found_by_its_path() {
    let mut rng = StdRng::seed_from_u64(3);
    let conv = Conv2dSettings::new(1, 3, 3).build(&mut rng).unwrap();
    let block = Sequential::new()
        .add(conv)
        .add(BatchNorm2d::new(3).unwrap())
        .add(Relu::new());
    let model = Sequential::new()
        .add(block)
        .add(Flatten::new())
        .add(Linear::new(3 * 4 * 4, 3, &mut rng).unwrap());
    let history = train(model, inputs(&[40, 1, 6, 6], 4));
    assert!(max_grad_norm(&history, "0.0.bias") < VANISHING);

    let found = warnings(&history, WarningKind::BiasBeforeNorm);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].subject.as_deref(), Some("0.0.bias"));
    assert!(
        (found[0].message).starts_with(
            "0.0.bias: this bias does nothing: conv2d[0.0] feeds batch_norm2d[0.1] directly"
        ),
        "{}",
        found[0].message
    );
    assert!(
        (found[0].message)
            .contains("build conv2d[0.0] without bias (`Conv2dSettings::bias(false)`"),
        "{}",
        found[0].message
    );
    assert_not_vanishing(&history, "0.0.bias");
}

#[test]
fn a_bias_followed_by_anything_else_keeps_the_vanishing_gradient_rule() {
    // Every bias of the first layer at -100: inputs in [0, 1] and weights in [-1, 1] put every
    // pre-activation below -95, so the ReLU is dead on every input and passes no gradient back.
    // A BatchNorm after the ReLU cancels nothing of the Linear's bias.
    let mut rng = StdRng::seed_from_u64(5);
    let w = Array2::from_shape_fn((6, 4), |_| rng.random_range(-1.0f32..1.0)).into_dyn();
    let b = Array1::from_elem(6, -100.0f32).into_dyn();
    let model = Sequential::new()
        .add(Linear::from_params(w, Some(b)).unwrap())
        .add(Relu::new())
        .add(BatchNorm1d::new(6).unwrap())
        .add(Linear::new(6, 3, &mut rng).unwrap());
    let history = train(model, inputs(&[40, 4], 6));
    assert_eq!(max_grad_norm(&history, "0.bias"), 0.0);
    let vanishing = warnings(&history, WarningKind::VanishingGradient);
    assert!(
        vanishing
            .iter()
            .any(|w| w.subject.as_deref() == Some("0.bias") && w.epoch == 1),
        "{vanishing:?}"
    );
    assert_eq!(warnings(&history, WarningKind::BiasBeforeNorm), []);

    // Dropout between them: the structure rule does not apply either.
    let mut rng = StdRng::seed_from_u64(8);
    let model = Sequential::new()
        .add(Linear::new(4, 6, &mut rng).unwrap())
        .add(Dropout::new(0.5, 9).unwrap())
        .add(BatchNorm1d::new(6).unwrap())
        .add(Linear::new(6, 3, &mut rng).unwrap());
    let history = train(model, inputs(&[40, 4], 6));
    assert_eq!(warnings(&history, WarningKind::BiasBeforeNorm), []);
}

#[test]
fn the_new_kind_survives_the_json_and_is_listed_on_the_report_page() {
    let history = train(
        linear_then(BatchNorm1d::new(6).unwrap()),
        inputs(&[40, 4], 2),
    );
    let json = history.to_json().unwrap();
    assert!(json.contains("\"kind\": \"bias_before_norm\""), "{json}");
    assert_eq!(History::from_json(&json).unwrap(), history);

    let data = ReportData::from_history("bias before norm", &history, "", Vec::new()).unwrap();
    let page = Page::parse(&render_report(&data).unwrap());
    let rows = page.find("tr", "data-kind", "bias_before_norm");
    assert_eq!(rows.len(), 1);
    let cells: Vec<String> = (page.within(rows[0], "td").into_iter())
        .map(|c| page.text(c))
        .collect();
    assert_eq!(cells[..3], ["1", "bias_before_norm", "0.bias"]);
    assert!(cells[4].contains("batch_norm1d[1]"), "{}", cells[4]);
}
