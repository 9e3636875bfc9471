//! Everything that works on `[batch, features]` keeps working on `[batch, channels, h, w]`:
//! every element-wise activation, PReLU with one slope per channel, Dropout, Flatten, and a
//! `Sequential` of CNN-shaped layers (pooling, activations, Flatten, Linear, LogSoftmax) whose
//! `summary` shows each output shape and whose backward passes the finite-difference check.
//! (Conv2d is not part of this file: it is tested with its own layer.)

use lazarus::activations::{ACTIVATION_NAMES, Elu, PRelu, Relu, activation_by_name};
use lazarus::core::gradcheck::{GradCheck, random_input};
use lazarus::core::loss::{Loss, NllLoss, Target};
use lazarus::core::{
    AdaptiveAvgPool2d, AvgPool2d, Dropout, Flatten, Layer, Linear, LogSoftmax, MaxPool2d, Mode,
    Sequential, Tensor,
};
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};

const SHAPE: [usize; 4] = [2, 3, 4, 5];

fn assert_gradcheck(layer: &mut dyn Layer, x: &Tensor, rng: &mut StdRng) {
    let report = GradCheck::default().check_layer(layer, x, rng).unwrap();
    assert!(report.passed(), "{}: {report}", layer.describe());
}

#[test]
fn every_elementwise_activation_is_the_same_on_4d_as_on_2d() {
    let mut rng = StdRng::seed_from_u64(0);
    let x = random_input(&SHAPE, &mut rng) * 3.0;
    let flat = x.to_shape(vec![SHAPE[0], 60]).unwrap().to_owned();
    for &name in ACTIVATION_NAMES {
        if name == "prelu" || name == "rrelu" {
            continue; // per-channel slopes and random slopes: below
        }
        let mut four_d = activation_by_name(name, 0).unwrap();
        let mut two_d = activation_by_name(name, 0).unwrap();
        let y = four_d.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(y.shape(), SHAPE, "{name}");
        let y_flat = two_d.forward(flat.view(), Mode::Train).unwrap().to_owned();
        assert_eq!(
            y.iter().collect::<Vec<_>>(),
            y_flat.iter().collect::<Vec<_>>(),
            "{name}"
        );
        let g = random_input(&SHAPE, &mut rng);
        let dx = four_d.backward(g.view()).unwrap().to_owned();
        let g_flat = g.to_shape(vec![SHAPE[0], 60]).unwrap().to_owned();
        let dx_flat = two_d.backward(g_flat.view()).unwrap().to_owned();
        assert_eq!(
            dx.iter().collect::<Vec<_>>(),
            dx_flat.iter().collect::<Vec<_>>(),
            "{name}"
        );
        // |x| in [0.025, 0.75]: away from the kinks at ±1, ±3 and 6 (and 0, as always).
        assert_gradcheck(four_d.as_mut(), &(&x / 6.0), &mut rng);
    }
    // RReLU is deterministic in evaluation (the mean slope), whatever the shape.
    let mut rrelu = activation_by_name("rrelu", 0).unwrap();
    assert_eq!(rrelu.forward(x.view(), Mode::Eval).unwrap().shape(), SHAPE);
}

#[test]
fn prelu_has_one_slope_per_channel_on_4d() {
    let mut rng = StdRng::seed_from_u64(1);
    let x = random_input(&SHAPE, &mut rng);
    let g = random_input(&SHAPE, &mut rng);
    let mut prelu = PRelu::new(3, 0.25).unwrap();
    prelu.alpha_mut().value = Tensor::from_shape_vec(vec![3], vec![0.1, -0.2, 0.3]).unwrap();
    let y = prelu.forward(x.view(), Mode::Train).unwrap().to_owned();
    let dx = prelu.backward(g.view()).unwrap().to_owned();
    // By the formula, channel c (axis 1) using slope α_c at every position of every sample.
    let alpha = [0.1f32, -0.2, 0.3];
    let mut dalpha = [0.0f64; 3];
    for ((index, &x), (&y, (&dx, &g))) in x.indexed_iter().zip(y.iter().zip(dx.iter().zip(&g))) {
        let a = alpha[index[1]];
        assert_eq!(y, if x > 0.0 { x } else { a * x });
        assert_eq!(dx, if x > 0.0 { g } else { a * g });
        if x <= 0.0 {
            dalpha[index[1]] += f64::from(x * g);
        }
    }
    for (c, &d) in dalpha.iter().enumerate() {
        assert!(
            (f64::from(prelu.alpha().grad[c]) - d).abs() < 1e-5,
            "channel {c}"
        );
    }
    // A wrong channel count is an error, and the slopes pass the finite-difference check.
    assert!(
        prelu
            .forward(Tensor::zeros(vec![2, 4, 4, 5]).view(), Mode::Train)
            .is_err()
    );
    assert_gradcheck(&mut prelu, &x, &mut rng);
}

#[test]
fn relu_statistics_count_channels_on_4d() {
    // Channel 1 is negative everywhere: silent on all 2 × 4 × 5 = 40 inputs it saw.
    let x = Tensor::from_shape_fn(SHAPE.to_vec(), |i| {
        if i[1] == 1 { -1.0 } else { i[3] as f32 - 2.0 }
    });
    let mut relu = Relu::new();
    relu.forward(x.view(), Mode::Train).unwrap();
    let stats = relu.activation_stats().unwrap();
    assert_eq!((stats.units, stats.samples_per_unit), (3, 40));
    assert_eq!(stats.silent_counts, Some(vec![24, 40, 24]));
    assert!(stats.silent_unit_can_die(1));
}

#[test]
fn dropout_and_flatten_on_4d() {
    let mut rng = StdRng::seed_from_u64(2);
    let x = random_input(&SHAPE, &mut rng);
    let mut dropout = Dropout::new(0.5, 3).unwrap();
    let y = dropout.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(y.shape(), SHAPE);
    assert!(y.iter().zip(&x).all(|(&y, &x)| y == 0.0 || y == 2.0 * x));
    assert_eq!(dropout.forward(x.view(), Mode::Eval).unwrap(), x.view());
    dropout.forward(x.view(), Mode::Train).unwrap();
    dropout.freeze_mask(true);
    assert_gradcheck(&mut dropout, &x, &mut rng);

    let mut flatten = Flatten::new();
    let y = flatten.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(y.shape(), [2, 60]);
    assert_eq!(y.as_slice().unwrap(), x.as_slice().unwrap());
    let dx = flatten.backward(y.view()).unwrap();
    assert_eq!(dx, x.view());
}

/// A CNN without convolutions: what the layers of this crate make of `[batch, 4, 12, 12]`.
fn cnn_like(rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(PRelu::new(4, 0.25).unwrap())
        .add(MaxPool2d::new(2).unwrap())
        .add(Dropout::new(0.25, 1).unwrap())
        .add(
            AvgPool2d::new(3)
                .unwrap()
                .stride(2)
                .unwrap()
                .padding(1)
                .unwrap(),
        )
        .add(Elu::default())
        .add(AdaptiveAvgPool2d::new((2, 2)).unwrap())
        .add(Flatten::new())
        .add(Linear::new(16, 10, rng).unwrap())
        .add(LogSoftmax::new())
}

#[test]
fn summary_shows_output_shapes_through_a_cnn_like_stack() {
    let mut rng = StdRng::seed_from_u64(3);
    let model = cnn_like(&mut rng);
    let summary = model.summary(&[64, 4, 12, 12]).unwrap();
    let shapes = [
        "[64, 4, 12, 12]",
        "[64, 4, 6, 6]",
        "[64, 4, 3, 3]",
        "[64, 4, 2, 2]",
        "[64, 16]",
        "[64, 10]",
    ];
    for shape in shapes {
        assert!(summary.contains(shape), "{shape} not in\n{summary}");
    }
    assert!(summary.contains("Total params: 174"), "{summary}"); // 4 slopes + 16·10 + 10
    // The first layer that does not fit names itself and its index.
    let err = model.summary(&[64, 3, 12, 12]).unwrap_err();
    assert!(err.to_string().starts_with("prelu[0]:"), "{err}");
}

#[test]
fn a_cnn_like_stack_trains_and_passes_the_gradient_check() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut model = cnn_like(&mut rng);
    // Dropout off (p = 0), so that the model is a function of its input and parameters.
    model.layers_mut()[2] = Box::new(Dropout::new(0.0, 0).unwrap());
    // Distinct values 0.01 apart (a shuffled grid over [-2.88, 2.88]), so that the
    // finite-difference step (5e-3) never changes which input holds a window's maximum.
    let mut grid: Vec<f32> = (0..576).map(|i| (i as f32 - 287.5) * 0.01).collect();
    grid.shuffle(&mut rng);
    let x = Tensor::from_shape_vec(vec![1, 4, 12, 12], grid).unwrap();
    assert_gradcheck(&mut model, &x, &mut rng);

    // One step of gradient descent on NLL lowers the loss.
    let x = random_input(&[3, 4, 12, 12], &mut rng);
    let targets = [3, 7, 1];
    let mut loss = NllLoss::new();
    let mut step = |model: &mut Sequential| {
        let log_p = model.forward(x.view(), Mode::Train).unwrap();
        let value = loss.forward(log_p, Target::Classes(&targets)).unwrap();
        model.zero_grad();
        model.backward(loss.input_grad().unwrap()).unwrap();
        model.visit_params_mut(&mut |_, p| p.value.scaled_add(-0.5, &p.grad));
        value
    };
    let first = step(&mut model);
    let second = step(&mut model);
    assert!(second < first, "{second} !< {first}");
}
