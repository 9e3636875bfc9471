//! Bad input gives a typed error naming the layer, never a panic.

use lazarus::core::Error;
use lazarus::prelude::*;
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

fn mlp(rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(Flatten::new())
        .add(Linear::new(12, 5, rng).unwrap())
        .add(Linear::new(5, 3, rng).unwrap())
}

#[test]
fn wrong_input_width_names_the_layer_and_shapes() {
    let mut model = mlp(&mut StdRng::seed_from_u64(0));
    let err = model
        .forward(Tensor::zeros(vec![8, 2, 5]).view(), Mode::Train)
        .unwrap_err();
    match err {
        Error::ShapeMismatch {
            ref layer,
            ref found,
            ..
        } => {
            assert_eq!(layer, "linear[1]");
            assert_eq!(found, &[8, 10]);
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "linear[1]: expected [batch, 12], found shape [8, 10]"
    );
}

#[test]
fn wrong_target_length_is_a_shape_error() {
    let mut loss = CrossEntropyLoss::new();
    let logits = Tensor::zeros(vec![4, 3]);
    let err = loss
        .forward(logits.view(), Target::Classes(&[0, 1, 2]))
        .unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[3]),
        "{err:?}"
    );
    let mut mse = MseLoss::new();
    let err = mse
        .forward(logits.view(), Target::Values(Tensor::zeros(vec![4]).view()))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
}

#[test]
fn backward_before_forward_is_an_error() {
    let mut model = mlp(&mut StdRng::seed_from_u64(0));
    let err = model
        .backward(Tensor::zeros(vec![2, 3]).view())
        .unwrap_err();
    assert_eq!(
        err,
        Error::BackwardBeforeForward {
            layer: "linear[2]".into()
        }
    );
    // An eval-mode forward keeps nothing, so backward after it is the same error.
    model
        .forward(Tensor::zeros(vec![2, 12]).view(), Mode::Eval)
        .unwrap();
    assert!(matches!(
        model.backward(Tensor::zeros(vec![2, 3]).view()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    assert!(matches!(
        CrossEntropyLoss::new().input_grad(),
        Err(Error::BackwardBeforeForward { .. })
    ));
}

#[test]
fn replaced_parameters_of_the_wrong_shape_are_errors() {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::zeros(vec![2, 3]);
    let mut layer = Linear::new(3, 2, &mut rng).unwrap();
    layer.weight_mut().value = Tensor::zeros(vec![4, 3]);
    let err = layer.forward(x.view(), Mode::Train).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linear weight: expected a parameter value of shape [2, 3], row-major, found shape [4, 3]"
    );

    let mut layer = Linear::new(3, 2, &mut rng).unwrap();
    layer.bias_mut().unwrap().value = Tensor::zeros(vec![5]);
    assert!(matches!(
        layer.forward(x.view(), Mode::Train),
        Err(Error::ShapeMismatch { ref layer, .. }) if layer == "linear bias"
    ));

    // A gradient replaced between forward and backward.
    let mut layer = Linear::new(3, 2, &mut rng).unwrap();
    layer.forward(x.view(), Mode::Train).unwrap();
    layer.weight_mut().grad = Tensor::zeros(vec![7]);
    assert!(matches!(
        layer.backward(Tensor::zeros(vec![2, 2]).view()),
        Err(Error::ShapeMismatch { ref layer, .. }) if layer == "linear weight"
    ));

    let mut prelu = PRelu::new(3, 0.25).unwrap();
    prelu.alpha_mut().value = Tensor::zeros(vec![1, 3]);
    assert!(matches!(
        prelu.forward(x.view(), Mode::Train),
        Err(Error::ShapeMismatch { ref layer, .. }) if layer == "prelu alpha"
    ));
    let mut prelu = PRelu::new(3, 0.25).unwrap();
    prelu.forward(x.view(), Mode::Train).unwrap();
    prelu.alpha_mut().grad = Tensor::zeros(vec![5]);
    assert!(matches!(
        prelu.backward(x.view()),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn sizes_too_large_for_memory_are_errors() {
    let mut rng = StdRng::seed_from_u64(4);
    for (inputs, outputs) in [(1 << 40, 1 << 40), (1 << 22, 1 << 22)] {
        assert!(matches!(
            Linear::new(inputs, outputs, &mut rng),
            Err(Error::InvalidConfig { ref parameter, .. }) if parameter == "in_features/out_features"
        ));
    }
    for n in [usize::MAX, 1 << 40] {
        assert!(matches!(
            PRelu::new(n, 0.25),
            Err(Error::InvalidConfig { .. })
        ));
    }
    // A zero axis does not make an overflowing one acceptable (ndarray would panic).
    assert!(lazarus::train::data::one_hot(&[], usize::MAX).is_err());
    assert!(lazarus::train::data::one_hot(&[0], usize::MAX).is_err());
    for classes in [usize::MAX, 1 << 31] {
        assert!(
            lazarus::train::metrics::ConfusionMatrix::from_predictions(&[], &[], classes).is_err()
        );
    }
    let mut w = Tensor::zeros(vec![2, 2]);
    assert!(matches!(
        lazarus::core::init::uniform(&mut w, -f32::MAX, f32::MAX, &mut rng),
        Err(Error::InvalidConfig { .. })
    ));
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn linear_shapes_are_right_or_typed_errors(batch in 0usize..9, width in 1usize..9, expected in 1usize..9, out in 1usize..6) {
        let mut rng = StdRng::seed_from_u64(1);
        let mut layer = Linear::new(expected, out, &mut rng).unwrap();
        let x = Tensor::ones(vec![batch, width]);
        match layer.forward(x.view(), Mode::Train) {
            Ok(y) => {
                prop_assert_eq!(width, expected);
                prop_assert_eq!(y.shape(), &[batch, out]);
                let dx = layer.backward(Tensor::ones(vec![batch, out]).view()).unwrap();
                prop_assert_eq!(dx.shape(), &[batch, expected]);
                let wrong = layer.backward(Tensor::ones(vec![batch + 1, out]).view());
                prop_assert!(matches!(wrong, Err(Error::ShapeMismatch { .. })), "wrong backward shape must fail");
            }
            Err(e) => {
                prop_assert_ne!(width, expected);
                prop_assert!(matches!(e, Error::ShapeMismatch { .. }), "got {e:?}");
            }
        }
    }

    #[test]
    fn any_rank_input_never_panics(shape in proptest::collection::vec(0usize..5, 0..5)) {
        let mut rng = StdRng::seed_from_u64(2);
        let mut model = mlp(&mut rng);
        let x = Tensor::zeros(shape);
        let _ = model.forward(x.view(), Mode::Train);
        let _ = model.backward(Tensor::zeros(vec![1, 3]).view());
        let mut loss = CrossEntropyLoss::new();
        let _ = loss.forward(x.view(), Target::Classes(&[0, 7]));
    }
}

#[test]
fn gradcheck_accepts_any_memory_layout() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut layer = Linear::new(3, 2, &mut rng).unwrap();
    // A transposed view owns non-contiguous strides; the check probes it in logical order.
    let x = lazarus::core::gradcheck::random_input(&[3, 4], &mut rng).reversed_axes();
    let check = lazarus::core::gradcheck::GradCheck::default();
    let report = check.check_layer(&mut layer, &x, &mut rng).unwrap();
    assert!(report.passed(), "{report}");
    let target = lazarus::core::gradcheck::random_input(&[4, 3], &mut rng);
    let report = check
        .check_loss(&mut MseLoss::new(), &x, Target::Values(target.view()))
        .unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn synthetic_digits_too_many_for_memory_is_an_error() {
    for n in [usize::MAX, usize::MAX / 784 / 4, 1 << 40] {
        assert!(SyntheticDigits::new(0).generate(n).is_err(), "n = {n}");
    }
}

#[test]
fn diagnostics_survive_odd_models() {
    use lazarus::train::diagnostics::{Diagnostics, DiagnosticsConfig, output_is_constant};
    assert!(output_is_constant(Tensor::ones(vec![]).view()));
    // The parameters change shape between two measured steps.
    let config = DiagnosticsConfig {
        update_ratio_every: 1,
        ..DiagnosticsConfig::default()
    };
    let mut diagnostics = Diagnostics::new(config).unwrap();
    let mut rng = StdRng::seed_from_u64(6);
    let small = Sequential::new().add(Linear::new(3, 4, &mut rng).unwrap());
    let large = Sequential::new().add(Linear::new(5, 7, &mut rng).unwrap());
    diagnostics.before_step(&small);
    diagnostics.after_step(&small);
    diagnostics.before_step(&large);
    diagnostics.after_step(&large);
}

#[test]
fn prelu_statistics_with_replaced_slopes_are_absent_not_a_panic() {
    let mut prelu = PRelu::new(3, 0.1).unwrap();
    let x = Tensor::ones(vec![2, 3, 2]);
    prelu.forward(x.view(), Mode::Train).unwrap();
    prelu.forward(x.view(), Mode::Eval).unwrap();
    prelu.alpha_mut().value = Tensor::zeros(vec![1]);
    assert!(prelu.activation_stats().is_none());
}

#[test]
fn checkpoint_names_that_would_be_misread_are_refused() {
    use lazarus::optim::OptimizerState;
    use lazarus::train::checkpoint::{TrainingState, save_checkpoint};
    let dir = std::env::temp_dir().join(format!("lazarus-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let model = Sequential::new().add(Linear::new(2, 2, &mut StdRng::seed_from_u64(7)).unwrap());
    let mut group = OptimizerState::default();
    group
        .tensors
        .insert("weight".into(), Tensor::zeros(vec![2, 2]));
    for name in ["0", "", "a,b", "lazarus"] {
        let state = TrainingState {
            epoch: 1,
            groups: [(name.to_string(), group.clone())].into(),
        };
        assert!(
            matches!(
                save_checkpoint(&path, &model, Some(&state)),
                Err(lazarus::train::Error::CheckpointCorrupt { .. })
            ),
            "group {name:?}"
        );
    }
    // Two groups whose names join to the same tensor name.
    let mut nested = OptimizerState::default();
    nested.tensors.insert("c".into(), Tensor::zeros(vec![1]));
    let mut outer = OptimizerState::default();
    outer.tensors.insert("b.c".into(), Tensor::zeros(vec![1]));
    let state = TrainingState {
        epoch: 1,
        groups: [("a".to_string(), outer), ("a.b".to_string(), nested)].into(),
    };
    assert!(save_checkpoint(&path, &model, Some(&state)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mlp_rejects_a_dropout_it_would_silently_skip() {
    let mut rng = StdRng::seed_from_u64(8);
    for p in [f32::NAN, -0.5, 1.0] {
        assert!(lazarus::train::models::mlp(&[4, 3, 2], "relu", p, &mut rng).is_err());
    }
}

#[test]
fn a_checkpoint_claiming_every_epoch_done_leaves_nothing_to_train() {
    use lazarus::train::checkpoint::{TrainingState, save_checkpoint};
    let dir = std::env::temp_dir().join(format!("lazarus-epochs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("done.safetensors");
    let model =
        || Sequential::new().add(Linear::new(784, 10, &mut StdRng::seed_from_u64(9)).unwrap());
    let state = TrainingState {
        epoch: usize::MAX,
        groups: Default::default(),
    };
    save_checkpoint(&path, &model(), Some(&state)).unwrap();
    let mut trainer = Trainer::new(model(), CrossEntropyLoss::new(), Sgd::new(0.1).unwrap())
        .epochs(3)
        .verbosity(Verbosity::Silent);
    assert_eq!(trainer.resume_from(&path).unwrap(), usize::MAX);
    let data = SyntheticDigits::new(0).generate(8).unwrap();
    assert!(trainer.fit(&data, None).unwrap().epochs.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
