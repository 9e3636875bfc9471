//! Every activation as a layer: gradients (finite differences), kinks, errors, statistics,
//! buffer reuse, and shapes under proptest.

use lazarus_activations::functional as F;
use lazarus_activations::{
    ACTIVATION_NAMES, Elu, Hardtanh, LeakyRelu, PRelu, RRelu, Relu, Relu6, activation_by_name,
};
use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{Error, Layer, Linear, Mode, ParamRole, Sequential, Tensor};
use ndarray::{Axis, array};
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

/// Every registry activation, plus non-default settings that take other code paths (a negative
/// slope keeps the input instead of the output, per-channel PReLU, a fixed-slope RReLU whose
/// training pass is deterministic and can be differentiated numerically).
fn all_layers(channels: usize) -> Vec<(String, Box<dyn Layer>)> {
    let mut layers: Vec<(String, Box<dyn Layer>)> = ACTIVATION_NAMES
        .iter()
        .filter(|&&n| n != "rrelu")
        .map(|&n| (n.to_string(), activation_by_name(n, 0).unwrap()))
        .collect();
    layers.push((
        "leaky_relu(-0.3)".into(),
        Box::new(LeakyRelu::new(-0.3).unwrap()),
    ));
    layers.push(("elu(-0.5)".into(), Box::new(Elu::new(-0.5).unwrap())));
    layers.push((
        "prelu(channels)".into(),
        Box::new(PRelu::new(channels, 0.1).unwrap()),
    ));
    layers.push((
        "rrelu(0.2, 0.2)".into(),
        Box::new(RRelu::new(0.2, 0.2, 0).unwrap()),
    ));
    layers
}

#[test]
fn every_activation_passes_the_gradient_check_in_2d_and_4d() {
    let mut rng = StdRng::seed_from_u64(11);
    for shape in [&[5, 3][..], &[2, 3, 2, 2][..]] {
        for (name, mut layer) in all_layers(3) {
            let x = random_input(shape, &mut rng);
            let report = GradCheck::default()
                .check_layer(layer.as_mut(), &x, &mut rng)
                .unwrap();
            assert!(report.passed(), "{name} {shape:?}: {report}");
        }
    }
}

#[test]
fn prelu_alpha_is_checked_shared_and_per_channel() {
    let mut rng = StdRng::seed_from_u64(12);
    for (num_parameters, shape) in [
        (1, &[6, 4][..]),
        (4, &[6, 4]),
        (1, &[2, 4, 3, 3]),
        (4, &[2, 4, 3, 3]),
    ] {
        let mut prelu = PRelu::new(num_parameters, 0.25).unwrap();
        // Different slopes per channel, one negative, so a mixed-up channel index shows.
        let alphas = [0.3f32, -0.1, 0.05, 0.6];
        for (a, v) in prelu.alpha_mut().value.iter_mut().zip(alphas) {
            *a = v;
        }
        let x = random_input(shape, &mut rng);
        let report = GradCheck::default()
            .check_layer(&mut prelu, &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{num_parameters} x {shape:?}: {report}");
        assert_eq!(report.params.len(), 1);
        assert!(report.params[0].max_abs_error < 1e-2);
    }
}

#[test]
fn prelu_alpha_is_a_slope_param_named_alpha_and_one_sgd_step_moves_it() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut model = Sequential::new()
        .add(Linear::new(3, 4, &mut rng).unwrap())
        .add(PRelu::new(4, 0.25).unwrap())
        .add(Linear::new(4, 1, &mut rng).unwrap());
    let mut names = Vec::new();
    model.visit_params(&mut |name, p| {
        names.push((name.to_string(), p.role(), p.value.shape().to_vec()))
    });
    assert!(
        names.contains(&("1.weight".to_string(), ParamRole::Slope, vec![4])),
        "{names:?}"
    );

    // Inputs that make every hidden unit negative somewhere, so every slope gets a gradient.
    let x = random_input(&[16, 3], &mut rng);
    model.zero_grad();
    model.forward(x.view(), Mode::Train).unwrap();
    model.backward(Tensor::ones(vec![16, 1]).view()).unwrap();
    let mut before = Tensor::zeros(vec![0]);
    let mut grad = Tensor::zeros(vec![0]);
    model.visit_params(&mut |_, p| {
        if p.role() == ParamRole::Slope {
            before = p.value.clone();
            grad = p.grad.clone();
        }
    });
    assert!(
        grad.iter().any(|&g| g != 0.0),
        "alpha got no gradient: {grad}"
    );
    // Plain SGD: θ ← θ − lr · ∂L/∂θ, for every parameter alike.
    let lr = 0.1;
    model.visit_params_mut(&mut |_, p| p.value.scaled_add(-lr, &p.grad));
    model.visit_params(&mut |_, p| {
        if p.role() == ParamRole::Slope {
            approx::assert_abs_diff_eq!(p.value, &before - &(&grad * lr), epsilon = 1e-7);
            assert_ne!(p.value, before);
        }
    });
}

#[test]
fn two_backward_passes_double_the_alpha_gradient() {
    let mut rng = StdRng::seed_from_u64(14);
    let mut prelu = PRelu::new(3, 0.25).unwrap();
    let x = random_input(&[4, 3, 5], &mut rng);
    let g = random_input(&[4, 3, 5], &mut rng);
    prelu.forward(x.view(), Mode::Train).unwrap();
    prelu.backward(g.view()).unwrap();
    let once = prelu.alpha().grad.clone();
    prelu.backward(g.view()).unwrap();
    approx::assert_abs_diff_eq!(prelu.alpha().grad, once * 2.0, epsilon = 1e-5);
    prelu.zero_grad();
    assert!(prelu.alpha().grad.iter().all(|&v| v == 0.0));
}

#[test]
fn prelu_alpha_gradient_is_accurate_on_a_large_batch() {
    // 4M-ish elements would be slow in a test; 200k with one shared slope still sums 100k
    // negative terms, where a naive f32 running sum drifts visibly.
    let n = 200_000;
    let x = Tensor::from_shape_fn(vec![n, 1], |i| if i[0] % 2 == 0 { -0.1 } else { 0.7 });
    let g = Tensor::from_elem(vec![n, 1], 0.3f32);
    let mut prelu = PRelu::default();
    prelu.forward(x.view(), Mode::Train).unwrap();
    prelu.backward(g.view()).unwrap();
    let exact = -0.1f64 * 0.3 * (n / 2) as f64;
    let got = f64::from(prelu.alpha().grad[0]);
    assert!(
        (got - exact).abs() <= 1e-6 * exact.abs(),
        "{got} vs {exact}"
    );
}

#[test]
fn kinks_use_pytorchs_derivatives() {
    assert_eq!(F::relu_grad(0.0), 0.0);
    assert_eq!(F::leaky_relu_grad(0.0, 0.01), 0.01);
    assert_eq!(F::prelu_grad(0.0, 0.25), 0.25);
    assert_eq!(F::prelu_grad_alpha(0.0), 0.0);
    assert_eq!(F::elu_grad(0.0, 1.0), 1.0);
    assert_eq!(F::elu_grad(0.0, 0.5), 0.5);
    assert!((F::selu_grad(0.0) - 1.758_099_3).abs() < 1e-6);
    assert_eq!(F::celu_grad(0.0, 2.0), 1.0);
    assert_eq!([F::relu6_grad(0.0), F::relu6_grad(6.0)], [0.0, 0.0]);
    assert_eq!(
        [
            F::hardtanh_grad(-1.0, -1.0, 1.0),
            F::hardtanh_grad(1.0, -1.0, 1.0)
        ],
        [0.0, 0.0]
    );
    assert_eq!(
        [F::hardsigmoid_grad(-3.0), F::hardsigmoid_grad(3.0)],
        [0.0, 0.0]
    );
    assert_eq!(
        [F::hardswish_grad(-3.0), F::hardswish_grad(3.0)],
        [0.0, 1.0]
    );
    assert_eq!(F::softplus_grad(20.0, 1.0, 20.0), F::sigmoid(20.0));
    assert_eq!(F::softplus_grad(20.5, 1.0, 20.0), 1.0);
    // The layers use the same conventions: backward at exactly 0.
    let zero = Tensor::zeros(vec![1, 1]);
    let g = Tensor::from_elem(vec![1, 1], 3.0f32);
    for (name, expected) in [
        ("relu", 0.0),
        ("leaky_relu", 0.03),
        ("prelu", 0.75),
        ("elu", 3.0),
        ("celu", 3.0),
    ] {
        let mut layer = activation_by_name(name, 0).unwrap();
        layer.forward(zero.view(), Mode::Train).unwrap();
        let dx = layer.backward(g.view()).unwrap();
        assert!(
            (dx[[0, 0]] - expected).abs() < 1e-7,
            "{name}: {}",
            dx[[0, 0]]
        );
    }
}

/// A scalar function of the functional module.
type Scalar = fn(f32) -> f32;

#[test]
fn layers_and_functional_forms_agree() {
    let xs: Vec<f32> = (-60..=60).map(|i| i as f32 * 0.125).collect();
    let x = Tensor::from_shape_vec(vec![xs.len()], xs.clone()).unwrap();
    let g = Tensor::ones(vec![xs.len()]);
    let pairs: [(&str, Scalar, Scalar); 6] = [
        ("relu", F::relu, F::relu_grad),
        ("elu", |x| F::elu(x, 1.0), |x| F::elu_grad(x, 1.0)),
        ("selu", F::selu, F::selu_grad),
        ("gelu", F::gelu, F::gelu_grad),
        ("sigmoid", F::sigmoid, F::sigmoid_grad),
        ("hardswish", F::hardswish, F::hardswish_grad),
    ];
    for (name, f, df) in pairs {
        let mut layer = activation_by_name(name, 0).unwrap();
        let y = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        let dx = layer.backward(g.view()).unwrap().to_owned();
        for ((&x, &y), &d) in xs.iter().zip(&y).zip(&dx) {
            assert_eq!(y, f(x), "{name}({x})");
            assert!(
                (d - df(x)).abs() <= 2e-7 * (1.0 + df(x).abs()),
                "{name}'({x}): {d} vs {}",
                df(x)
            );
        }
    }
}

#[test]
fn backward_needs_a_training_forward_and_the_right_shape() {
    for (name, mut layer) in all_layers(3) {
        let x = Tensor::ones(vec![2, 3]);
        assert!(
            matches!(
                layer.backward(x.view()),
                Err(Error::BackwardBeforeForward { .. })
            ),
            "{name}: backward before any forward"
        );
        layer.forward(x.view(), Mode::Train).unwrap();
        layer.forward(x.view(), Mode::Eval).unwrap();
        assert!(
            matches!(
                layer.backward(x.view()),
                Err(Error::BackwardBeforeForward { .. })
            ),
            "{name}: backward after an evaluation forward"
        );
        layer.forward(x.view(), Mode::Train).unwrap();
        match layer.backward(Tensor::ones(vec![3, 2]).view()) {
            Err(Error::ShapeMismatch {
                layer: l, found, ..
            }) => {
                assert_eq!(l, layer.name());
                assert_eq!(found, [3, 2]);
            }
            other => panic!(
                "{name}: expected ShapeMismatch, got {:?}",
                other.map(|v| v.to_owned())
            ),
        }
    }
}

#[test]
fn bad_settings_are_config_errors() {
    use lazarus_activations::{Celu, Softplus};
    let invalid = |r: Result<(), Error>| matches!(r, Err(Error::InvalidConfig { .. }));
    assert!(invalid(LeakyRelu::new(f32::NAN).map(drop)));
    assert!(invalid(PRelu::new(0, 0.25).map(drop)));
    assert!(invalid(PRelu::new(2, f32::INFINITY).map(drop)));
    assert!(invalid(Elu::new(f32::NAN).map(drop)));
    assert!(invalid(Celu::new(0.0).map(drop)));
    assert!(invalid(Softplus::new(-1.0, 20.0).map(drop)));
    assert!(invalid(Softplus::new(0.0, 20.0).map(drop)));
    assert!(invalid(Hardtanh::new(1.0, -1.0).map(drop)));
    assert!(invalid(Hardtanh::new(1.0, 1.0).map(drop)));
    assert!(invalid(RRelu::new(0.5, 0.1, 0).map(drop)));
    assert!(invalid(RRelu::new(-0.1, 0.1, 0).map(drop)));
    let err = Softplus::new(-1.0, 20.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "softplus: invalid beta: must be positive, found -1"
    );
}

#[test]
fn prelu_with_the_wrong_channel_count_is_a_shape_error() {
    let mut prelu = PRelu::new(8, 0.25).unwrap();
    for shape in [&[2, 4][..], &[2, 4, 3, 3], &[8], &[]] {
        let err = prelu
            .forward(Tensor::zeros(shape.to_vec()).view(), Mode::Train)
            .unwrap_err();
        assert!(
            matches!(err, Error::ShapeMismatch { ref layer, ref found, .. } if layer == "prelu" && found == shape),
            "{err}"
        );
    }
    assert!(prelu.output_shape(&[2, 4]).is_err());
    assert_eq!(prelu.output_shape(&[2, 8, 5]).unwrap(), [2, 8, 5]);
    // A shared slope takes anything, even a scalar or an empty batch.
    let mut shared = PRelu::default();
    for shape in [&[][..], &[3], &[0, 4], &[2, 0, 3], &[2, 3, 4, 5]] {
        let x = Tensor::from_elem(shape.to_vec(), -1.0f32);
        let y = shared.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert!(y.iter().all(|&v| v == -0.25));
        assert_eq!(shared.backward(x.view()).unwrap().shape(), shape);
    }
}

#[test]
fn statistics_count_dead_and_negative_regions_per_unit() {
    let x = array![[-1.0f32, 0.0, 7.0], [-2.0, 6.0, 0.5], [-0.5, 3.0, -1.0]].into_dyn();
    let stats = |layer: &mut dyn Layer| {
        assert_eq!(
            layer.activation_stats(),
            None,
            "{}: before any pass",
            layer.name()
        );
        layer.forward(x.view(), Mode::Train).unwrap();
        layer.activation_stats().unwrap()
    };
    let s = stats(&mut Relu::new());
    assert_eq!((s.units, s.samples_per_unit), (3, 3));
    assert_eq!(s.silent_counts, Some(vec![3, 1, 1])); // x = 0 counts: ReLU'(0) = 0
    assert!((0..3).all(|u| s.silent_unit_can_die(u)));
    assert_eq!(s.output_max_abs, 7.0);
    let s = stats(&mut Relu6::new());
    assert_eq!(s.silent_counts, Some(vec![3, 2, 2])); // x ≤ 0 or x ≥ 6
    assert!(s.silent_unit_can_die(0));
    let s = stats(&mut Hardtanh::default());
    assert_eq!(s.silent_counts, Some(vec![2, 2, 2])); // x ≤ -1 or x ≥ 1
    assert!(s.silent_unit_can_die(0));
    let s = stats(activation_by_name("hardswish", 0).unwrap().as_mut());
    assert_eq!(s.silent_counts, Some(vec![0, 0, 0]));
    assert!(s.silent_unit_can_die(0));
    for name in ["leaky_relu", "prelu", "elu", "celu", "selu", "rrelu"] {
        let s = stats(activation_by_name(name, 0).unwrap().as_mut());
        assert_eq!(s.silent_counts, Some(vec![3, 1, 1]), "{name}");
        assert!((0..3).all(|u| !s.silent_unit_can_die(u)), "{name}");
    }
    for name in [
        "gelu",
        "silu",
        "mish",
        "softplus",
        "sigmoid",
        "tanh",
        "log_sigmoid",
        "softsign",
    ] {
        let s = stats(activation_by_name(name, 0).unwrap().as_mut());
        assert_eq!(s.silent_counts, None, "{name}");
        assert!(!s.silent_unit_can_die(0), "{name}");
    }
    // Leaky ReLU keeping its input (negative slope) counts the same way.
    let s = stats(&mut LeakyRelu::new(-0.5).unwrap());
    assert_eq!(s.silent_counts, Some(vec![3, 1, 1]));
    assert!(!s.silent_unit_can_die(0));
}

/// Dead vs inactive is decided by the gradient, not by the type: what reaches a unit silent on
/// every input, through its input derivative or through an own parameter.
#[test]
fn dead_or_inactive_follows_the_gradient_not_the_type() {
    // Unit 0 is silent (x ≤ 0) on every input, unit 1 never.
    let x = array![[-1.0f32, 2.0], [-3.0, 0.5], [0.0, 1.0]].into_dyn();
    let ones = Tensor::ones(vec![3, 2]);
    // (layer, unit 0 dead?, its input derivative on silent inputs)
    let cases: Vec<(Box<dyn Layer>, bool, f32)> = vec![
        (Box::new(Relu::new()), true, 0.0),
        // A LeakyReLU with slope 0 is a ReLU: nothing reaches unit 0.
        (Box::new(LeakyRelu::new(0.0).unwrap()), true, 0.0),
        (Box::new(LeakyRelu::new(0.01).unwrap()), false, 0.01),
        (Box::new(Elu::default()), false, f32::NAN),
        // A PReLU whose slope is exactly 0: dx = 0 on silent inputs, yet dL/dα = Σ x·g ≠ 0
        // reaches the slope, which can move away from 0. Inactive, not dead.
        (Box::new(PRelu::new(2, 0.0).unwrap()), false, 0.0),
    ];
    for (mut layer, dead, derivative) in cases {
        let name = layer.describe();
        layer.forward(x.view(), Mode::Train).unwrap();
        let s = layer.activation_stats().unwrap();
        assert_eq!(s.silent_counts, Some(vec![3, 0]), "{name}");
        assert_eq!(s.silent_unit_can_die(0), dead, "{name}");
        let dx = layer.backward(ones.view()).unwrap().to_owned();
        if !derivative.is_nan() {
            assert!(
                dx.index_axis(Axis(1), 0).iter().all(|&d| d == derivative),
                "{name}: {dx}"
            );
        }
        assert_eq!(s.silent_derivative_zero[0], derivative == 0.0, "{name}");
    }
    // The PReLU case in numbers: its slope gets Σ x over x ≤ 0 for unit 0 (−1 − 3 + 0).
    let mut prelu = PRelu::new(2, 0.0).unwrap();
    prelu.forward(x.view(), Mode::Train).unwrap();
    prelu.backward(ones.view()).unwrap();
    let mut grad = Vec::new();
    prelu.visit_params(&mut |_, p| grad.extend(p.grad.iter().copied()));
    assert_eq!(grad, [-4.0, 0.0]);
    let s = prelu.activation_stats().unwrap();
    assert!(s.silent_params_learn && s.silent_derivative_zero == [true, true]);
}

#[test]
fn statistics_describe_the_last_training_pass_even_after_an_evaluation_pass() {
    for (name, mut layer) in all_layers(2) {
        let train = array![[-1.0f32, 2.0], [-3.0, 4.0]].into_dyn();
        layer.forward(train.view(), Mode::Train).unwrap();
        let expected = layer.activation_stats().unwrap();
        let y = layer.forward(train.view(), Mode::Train).unwrap().to_owned();
        let mean = y.mean().unwrap();
        assert!((expected.output_mean - mean).abs() < 1e-6, "{name}");
        layer
            .forward(Tensor::from_elem(vec![5, 2], 9.0f32).view(), Mode::Eval)
            .unwrap();
        let after = layer.activation_stats().unwrap();
        if name != "rrelu(0.2, 0.2)" {
            assert_eq!(after, expected, "{name}");
        }
        assert_eq!(after.samples_per_unit, 2, "{name}");
    }
}

/// A probe pass (the diagnostics' look at the network as training sees it) gives the
/// statistics a training pass on its input would give, the evaluation output, refuses backward
/// (it keeps nothing for it), and leaves the next training pass as it would have been (RReLU
/// draws nothing).
#[test]
fn a_probe_pass_has_its_own_statistics_and_changes_nothing() {
    let with_rrelu = || {
        let mut layers = all_layers(2);
        layers.push(("rrelu".into(), activation_by_name("rrelu", 3).unwrap()));
        layers
    };
    let train = array![[-1.0f32, 2.0], [-3.0, 4.0]].into_dyn();
    let probe = array![[-1.0f32, -2.0], [-3.0, 0.5], [-0.5, 1.5]].into_dyn();
    for ((name, mut layer), (_, mut fresh)) in with_rrelu().into_iter().zip(with_rrelu()) {
        layer.forward(train.view(), Mode::Train).unwrap();
        let y = layer.forward(probe.view(), Mode::Probe).unwrap().to_owned();
        let stats = layer.activation_stats().unwrap();
        fresh.forward(probe.view(), Mode::Train).unwrap();
        let trained = fresh.activation_stats().unwrap();
        assert_eq!(stats.silent_counts, trained.silent_counts, "{name}");
        if name != "rrelu" {
            assert_eq!(
                stats, trained,
                "{name}: as a training pass on the probe input"
            );
        }
        let eval = layer.forward(probe.view(), Mode::Eval).unwrap().to_owned();
        assert_eq!(y, eval, "{name}: a probe computes the evaluation output");
        assert_eq!(
            layer.activation_stats().unwrap(),
            stats,
            "{name}: eval keeps them"
        );
        layer.forward(probe.view(), Mode::Probe).unwrap();
        let err = layer.backward(probe.view()).unwrap_err();
        assert!(
            matches!(err, Error::BackwardBeforeForward { .. }),
            "{name}: {err:?}"
        );
    }
    // RReLU's training draws are what they would have been without the probe in between.
    let mut probed = activation_by_name("rrelu", 3).unwrap();
    let mut plain = activation_by_name("rrelu", 3).unwrap();
    probed.forward(train.view(), Mode::Train).unwrap();
    plain.forward(train.view(), Mode::Train).unwrap();
    probed.forward(probe.view(), Mode::Probe).unwrap();
    let expected = plain.forward(train.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(probed.forward(train.view(), Mode::Train).unwrap(), expected);
}

#[test]
fn per_channel_statistics_on_images() {
    // [batch 2, channels 2, 2x2]: channel 0 all negative, channel 1 half.
    let x = Tensor::from_shape_fn(vec![2, 2, 2, 2], |i| {
        if i[1] == 0 || i[3] == 0 { -1.0 } else { 1.0 }
    });
    let mut relu = Relu::new();
    relu.forward(x.view(), Mode::Train).unwrap();
    let s = relu.activation_stats().unwrap();
    assert_eq!((s.units, s.samples_per_unit), (2, 8));
    assert_eq!(s.silent_counts, Some(vec![8, 4]));
}

#[test]
fn non_contiguous_inputs_give_the_same_results() {
    let mut rng = StdRng::seed_from_u64(15);
    let base = random_input(&[6, 4], &mut rng);
    let transposed = base.t().as_standard_layout().into_owned(); // [4, 6], row-major
    let g = random_input(&[6, 4], &mut rng);
    for (name, mut layer) in all_layers(6) {
        if name.starts_with("prelu") {
            continue; // per-channel PReLU needs 6 channels on axis 1: checked below
        }
        let view = transposed.t(); // [6, 4] again, but in column-major order
        assert!(view.as_slice().is_none());
        let y1 = layer.forward(view.view(), Mode::Train).unwrap().to_owned();
        let g_t = g.t().as_standard_layout().into_owned();
        let d1 = layer.backward(g_t.t()).unwrap().to_owned();
        let y2 = layer.forward(base.view(), Mode::Train).unwrap().to_owned();
        let d2 = layer.backward(g.view()).unwrap().to_owned();
        assert_eq!(y1, y2, "{name}");
        assert_eq!(d1, d2, "{name}");
    }
    let mut prelu = PRelu::new(4, 0.2).unwrap();
    let y1 = prelu
        .forward(transposed.t(), Mode::Train)
        .unwrap()
        .to_owned();
    let y2 = prelu.forward(base.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(y1, y2);
    let column_major_g = g.t().as_standard_layout().into_owned();
    let d1 = prelu.backward(column_major_g.t()).unwrap().to_owned();
    let d2 = prelu.backward(g.view()).unwrap().to_owned();
    assert_eq!(d1, d2);
}

#[test]
fn buffers_are_reused_from_batch_to_batch() {
    let mut rng = StdRng::seed_from_u64(16);
    for (name, mut layer) in all_layers(8) {
        let x = random_input(&[32, 8], &mut rng);
        let p1 = layer.forward(x.view(), Mode::Train).unwrap().as_ptr();
        let g1 = layer.backward(x.view()).unwrap().as_ptr();
        let x = random_input(&[32, 8], &mut rng);
        let p2 = layer.forward(x.view(), Mode::Train).unwrap().as_ptr();
        let g2 = layer.backward(x.view()).unwrap().as_ptr();
        assert_eq!((p1, g1), (p2, g2), "{name} allocated a new buffer");
        // A smaller last batch and the next full one reuse the same allocation too.
        layer
            .forward(random_input(&[5, 8], &mut rng).view(), Mode::Train)
            .unwrap();
        let p3 = layer.forward(x.view(), Mode::Train).unwrap().as_ptr();
        assert_eq!(p1, p3, "{name}");
    }
}

#[test]
fn rrelu_draws_slopes_in_range_reproducibly_and_backward_uses_them() {
    let x = Tensor::from_elem(vec![50, 20], -1.0f32);
    let g = Tensor::from_elem(vec![50, 20], 2.0f32);
    let mut a = RRelu::with_seed(7);
    let mut b = RRelu::with_seed(7);
    let ya = a.forward(x.view(), Mode::Train).unwrap().to_owned();
    let yb = b.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(ya, yb);
    assert!(ya.iter().all(|&y| (-1.0 / 3.0..=-1.0 / 8.0).contains(&y)));
    let mean = -ya.mean().unwrap();
    assert!((mean - 11.0 / 48.0).abs() < 0.01, "{mean}");
    let dx = a.backward(g.view()).unwrap();
    // dL/dx = slope · g = (y / x) · g
    approx::assert_abs_diff_eq!(dx.to_owned(), &ya * -2.0, epsilon = 1e-6);
    let again = a.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_ne!(again, ya, "a new pass draws new slopes");
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let Err(err) = activation_by_name("ReLU", 0) else {
        panic!("names are snake_case")
    };
    assert_eq!(err.name, "ReLU");
    assert_eq!(err.valid, ACTIVATION_NAMES);
    let message = err.to_string();
    for name in ACTIVATION_NAMES {
        assert!(message.contains(name), "{message}");
    }
    let core: Error = err.into();
    assert!(matches!(core, Error::InvalidConfig { .. }));
    assert_eq!(ACTIVATION_NAMES.len(), 20);
}

#[test]
fn values_stay_finite_far_out() {
    let x = array![-1e30f32, -100.0, -88.8, -30.0, 30.0, 88.8, 100.0, 1e30].into_dyn();
    for (name, mut layer) in all_layers(8) {
        if name == "prelu(channels)" {
            continue;
        }
        let y = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        let dx = layer
            .backward(Tensor::ones(vec![8]).view())
            .unwrap()
            .to_owned();
        assert!(
            y.iter().chain(dx.iter()).all(|v| v.is_finite()),
            "{name}: {y} {dx}"
        );
    }
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(48)
    })]

    #[test]
    fn shapes_are_preserved_and_wrong_gradients_are_errors(
        batch in 0usize..6,
        features in 1usize..9,
        spatial in prop::option::of((1usize..4, 1usize..4)),
        extra in 1usize..3,
        which in 0usize..24,
    ) {
        let shape: Vec<usize> = match spatial {
            Some((h, w)) => vec![batch, features, h, w],
            None => vec![batch, features],
        };
        let mut layers = all_layers(features);
        let count = layers.len();
        let (name, layer) = &mut layers[which % count];
        let mut rng = StdRng::seed_from_u64(which as u64);
        let x = random_input(&shape, &mut rng);
        let y = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
        prop_assert_eq!(y.shape(), &shape[..], "{}", name);
        let dx = layer.backward(x.view()).unwrap().to_owned();
        prop_assert_eq!(dx.shape(), &shape[..], "{}", name);
        // A gradient of another shape is an error naming the layer, never a panic.
        let mut wrong = shape.clone();
        wrong[0] += extra;
        let err = layer.backward(Tensor::zeros(wrong).view()).unwrap_err();
        prop_assert!(matches!(err, Error::ShapeMismatch { ref layer, .. } if layer.as_str() == layer_name(name)), "{}: {:?}", name, err);
        let mut wrong = shape.clone();
        wrong.push(extra);
        let err = layer.backward(Tensor::zeros(wrong).view()).unwrap_err();
        prop_assert!(matches!(err, Error::ShapeMismatch { .. }), "{}: {:?}", name, err);
    }

    #[test]
    fn per_channel_prelu_rejects_other_channel_counts(
        batch in 1usize..5, channels in 2usize..9, other in 1usize..9, image in any::<bool>(),
    ) {
        prop_assume!(other != channels);
        let mut prelu = PRelu::new(channels, 0.25).unwrap();
        let shape = if image { vec![batch, other, 2, 3] } else { vec![batch, other] };
        let err = prelu.forward(Tensor::zeros(shape).view(), Mode::Train).unwrap_err();
        prop_assert!(matches!(err, Error::ShapeMismatch { .. }), "{:?}", err);
    }
}

/// The `Layer::name` a test label stands for.
fn layer_name(label: &str) -> &str {
    label.split('(').next().unwrap()
}

#[test]
fn a_batch_axis_reduction_is_what_diagnostics_see() {
    // Sanity link with ActivationStats: counts along axis 1 for [batch, features].
    let x = Tensor::from_shape_fn(vec![10, 3], |i| if i[1] == 2 { -1.0 } else { 1.0 });
    let mut relu = Relu::new();
    relu.forward(x.view(), Mode::Train).unwrap();
    let s = relu.activation_stats().unwrap();
    let dead: Vec<usize> = x
        .axis_iter(Axis(1))
        .map(|c| c.iter().filter(|&&v| v <= 0.0).count())
        .collect();
    assert_eq!(s.silent_counts, Some(dead));
}
