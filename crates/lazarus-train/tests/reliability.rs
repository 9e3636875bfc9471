//! Issue 14's trainer and checkpoint classes, one test each: no silent NaN (a blow-up on the
//! last batch, non-finite validation data), no file written or loaded with non-finite weights,
//! no half-loaded model on resume, no resuming into another optimizer or schedule, and messages
//! a user can read.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::{Tensors, rewrite};

use lazarus_core::loss::{CrossEntropyLoss, MseLoss};
use lazarus_core::{Layer, Linear, Sequential, Tensor};
use lazarus_optim::{Adam, ExponentialLr, OneCycleLr, Sgd, StepLr};
use lazarus_train::callbacks::{EpochFn, ModelCheckpoint};
use lazarus_train::checkpoint::{
    TrainingState, load_checkpoint, load_model, save_checkpoint, save_model,
};
use lazarus_train::data::{Dataset, SyntheticDigits, Targets};
use lazarus_train::{Error, ResumeOptions, Stage, Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};

fn digits(n: usize, seed: u64) -> Dataset {
    SyntheticDigits::new(seed).generate(n).unwrap()
}

fn model(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .add(Linear::new(784, 16, &mut rng).unwrap())
        .add(Linear::new(16, 10, &mut rng).unwrap())
}

fn weights(model: &dyn Layer) -> Vec<Tensor> {
    let mut out = Vec::new();
    model.visit_params(&mut |_, p| out.push(p.value.clone()));
    out
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-reliability-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn silent<M: Layer>(t: Trainer<M>) -> Trainer<M> {
    t.verbosity(Verbosity::Silent)
}

#[test]
fn a_step_that_overflows_the_weights_is_caught_at_that_step() {
    // One batch whose loss is finite; the step (lr 1e30 times a gradient of ~1e9) makes the
    // weight -inf. Before, `fit` returned Ok: nothing looked at the weights after the last step.
    let x = Tensor::from_elem(vec![4, 3], 1000.0);
    let y = Tensor::from_elem(vec![4, 1], 1e6);
    let data = Dataset::new(x, Targets::Values(y)).unwrap();
    let mut trainer = silent(Trainer::new(
        Linear::new(3, 1, &mut StdRng::seed_from_u64(0)).unwrap(),
        MseLoss::new(),
        Sgd::new(1e30).unwrap(),
    ))
    .epochs(1)
    .batch_size(4)
    .unwrap();
    let err = trainer.fit(&data, None).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NonFinite {
                stage: Stage::Training { epoch: 1, batch: 0 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "epoch 1, batch 0: non-finite weights after the optimizer step; first found in linear \
         (parameter weight)"
    );
}

#[test]
fn a_validation_loss_that_overflows_is_an_error_naming_the_layer() {
    // The step leaves the weights finite (about 2e29) but the validation inputs push the
    // output past f32::MAX. Before, `fit` returned Ok with `val_loss: inf`.
    let train = Dataset::new(
        Tensor::from_elem(vec![4, 3], 1000.0),
        Targets::Values(Tensor::from_elem(vec![4, 1], 1e6)),
    )
    .unwrap();
    let validation = Dataset::new(
        Tensor::from_elem(vec![2, 3], 1e10),
        Targets::Values(Tensor::zeros(vec![2, 1])),
    )
    .unwrap();
    let mut trainer = silent(Trainer::new(
        Linear::new(3, 1, &mut StdRng::seed_from_u64(0)).unwrap(),
        MseLoss::new(),
        Sgd::new(1e20).unwrap(),
    ))
    .epochs(1)
    .batch_size(4)
    .unwrap();
    let err = trainer.fit(&train, Some(&validation)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "epoch 1, validation: non-finite validation loss; first found in linear"
    );
}

#[test]
fn adam_at_lr_3e38_never_reaches_the_checkpoint_file() {
    let train = digits(64, 1);
    let path = temp("adam-3e38.safetensors");
    let _ = std::fs::remove_file(&path);
    let mut trainer = silent(Trainer::new(
        model(0),
        CrossEntropyLoss::new(),
        Adam::new(3e38).unwrap(),
    ))
    .epochs(2)
    .batch_size(64)
    .unwrap()
    .callback(ModelCheckpoint::new(&path));
    assert!(matches!(
        trainer.fit(&train, None),
        Err(Error::NonFinite { .. })
    ));
    assert!(
        !path.exists(),
        "a checkpoint with non-finite weights was written"
    );
}

#[test]
fn model_checkpoint_skips_non_finite_weights_and_keeps_the_previous_file() {
    let train = digits(64, 1);
    let path = temp("skip.safetensors");
    let _ = std::fs::remove_file(&path);
    // Epoch 1 saves; then a callback (registered before the checkpoint) poisons a weight at
    // the end of epoch 2, so the checkpoint of epoch 2 must be skipped.
    let mut trainer = silent(Trainer::new(
        model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.01).unwrap(),
    ))
    .epochs(2)
    .batch_size(64)
    .unwrap()
    .callback(EpochFn(|e: &mut lazarus_train::callbacks::EpochEnd<'_>| {
        if e.record.epoch == 2 {
            e.model.visit_params_mut(&mut |name, p| {
                if name == "1.bias" {
                    p.value[[3]] = f32::NAN;
                }
            });
        }
        Ok(lazarus_train::callbacks::Control::Continue)
    }))
    .callback(ModelCheckpoint::new(&path));
    trainer.fit(&train, None).unwrap();
    let mut loaded = model(9);
    let state = load_checkpoint(&path, &mut loaded).unwrap();
    assert_eq!(state.epoch, 1, "the file is still epoch 1's");
    assert!(weights(&loaded).iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn non_finite_validation_data_and_evaluate_name_the_sample() {
    let train = digits(64, 1);
    let (mut inputs, targets) = digits(40, 2).into_parts();
    inputs[[21, 5]] = f32::INFINITY;
    let poisoned = Dataset::new(inputs, targets).unwrap();
    let mut trainer = silent(Trainer::new(
        model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.01).unwrap(),
    ))
    .epochs(1)
    .batch_size(16)
    .unwrap();
    let err = trainer.fit(&train, Some(&poisoned)).unwrap_err();
    assert!(
        matches!(&err, Error::NonFinite { stage, layer, sample: Some(21), what }
            if *stage == Stage::Validation { epoch: 1 }
                && layer == "input data" && what == "validation loss"),
        "expected NonFinite in the validation loss of sample 21, got {err:?}"
    );
    let err = trainer.evaluate(&poisoned).unwrap_err();
    assert_eq!(
        err.to_string(),
        "evaluation: non-finite loss; first found in input data, sample 21"
    );
    // Non-finite weights (set by hand): a standalone evaluate names the first layer.
    trainer.model_mut().visit_params_mut(&mut |name, p| {
        if name == "1.weight" {
            p.value[[0, 0]] = f32::NAN;
        }
    });
    match trainer.evaluate(&train) {
        Err(Error::NonFinite {
            stage: Stage::Evaluation,
            layer,
            sample: None,
            ..
        }) => assert_eq!(layer, "linear[1]"),
        other => panic!("expected NonFinite in linear[1], got {other:?}"),
    }
}

#[test]
fn a_nan_regression_target_reads_as_a_sentence() {
    let mut rng = StdRng::seed_from_u64(0);
    let x = Tensor::from_shape_fn(vec![8, 3], |i| (i[0] + i[1]) as f32 * 0.1);
    let mut y = Tensor::zeros(vec![8, 1]);
    y[[5, 0]] = f32::NAN;
    let data = Dataset::new(x, Targets::Values(y)).unwrap();
    let mut trainer = silent(Trainer::new(
        Linear::new(3, 1, &mut rng).unwrap(),
        MseLoss::new(),
        Sgd::new(0.1).unwrap(),
    ))
    .epochs(1)
    .batch_size(8)
    .unwrap()
    .shuffle(false);
    let err = trainer.fit(&data, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "epoch 1, batch 0: non-finite loss; first found in targets, sample 5"
    );
}

#[test]
fn saving_non_finite_weights_is_refused_and_the_previous_file_kept() {
    let path = temp("refuse.safetensors");
    let good = model(0);
    save_model(&path, &good).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut bad = model(1);
    bad.visit_params_mut(&mut |name, p| {
        if name == "0.bias" {
            p.value[[7]] = f32::NEG_INFINITY;
        }
    });
    match save_model(&path, &bad) {
        Err(Error::NonFiniteTensor {
            tensor,
            index,
            action,
            ..
        }) => {
            assert_eq!((tensor.as_str(), index, action), ("0.bias", 7, "save"));
        }
        other => panic!("expected NonFiniteTensor, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn loading_non_finite_weights_is_refused_and_the_model_unchanged() {
    let path = temp("nan-in-file.safetensors");
    save_model(&path, &model(0)).unwrap();
    rewrite(&path, |tensors, _| {
        let (.., data) = tensors.iter_mut().find(|(n, ..)| n == "1.weight").unwrap();
        data[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    let mut target = model(1);
    let before = weights(&target);
    let err = load_model(&path, &mut target).unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteTensor { tensor, index: 2, action: "load", .. } if tensor == "1.weight"),
        "{err:?}"
    );
    assert_eq!(weights(&target), before);
}

fn adam_trainer(epochs: usize) -> Trainer<Sequential> {
    silent(Trainer::new(
        model(5),
        CrossEntropyLoss::new(),
        Adam::new(1e-3).unwrap(),
    ))
    .scheduler(StepLr::new(1e-3, 1, 0.5).unwrap())
    .unwrap()
    .epochs(epochs)
    .batch_size(64)
    .unwrap()
}

/// A checkpoint of an Adam + StepLR run after one epoch.
fn adam_checkpoint(name: &str) -> PathBuf {
    let path = temp(name);
    let mut t = adam_trainer(1);
    t.fit(&digits(256, 1), None).unwrap();
    t.save_checkpoint(&path).unwrap();
    path
}

/// Trainer state that a failed resume must leave alone.
fn snapshot(t: &Trainer<Sequential>) -> (Vec<Tensor>, lazarus_optim::OptimizerState, usize) {
    (weights(t.model()), t.optimizer().state(), t.epochs_done())
}

#[test]
fn a_failed_resume_changes_nothing() {
    type Edit = fn(&mut Tensors, &mut HashMap<String, String>);
    let edits: [(&str, Edit); 3] = [
        ("missing optimizer buffer", |tensors, _| {
            tensors.retain(|(n, ..)| n != "optimizer.0.bias.exp_avg");
        }),
        ("unknown scheduler entry", |_, metadata| {
            metadata.insert("scheduler.extra".into(), "1".into());
        }),
        ("NaN-free but infinite lr in f32", |_, metadata| {
            metadata.insert("optimizer.lr".into(), "1e39".into());
        }),
    ];
    for (what, edit) in edits {
        let path = adam_checkpoint(&format!("resume-{}.safetensors", what.replace(' ', "-")));
        rewrite(&path, edit);
        // A trainer that has trained a little, so its optimizer has state of its own.
        let mut trainer = adam_trainer(1);
        trainer.fit(&digits(128, 3), None).unwrap();
        let before = snapshot(&trainer);
        let err = trainer.resume_from(&path).unwrap_err();
        assert!(
            matches!(err, Error::CheckpointState { .. }),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        assert_eq!(snapshot(&trainer), before, "{what}: the trainer changed");
    }
}

#[test]
fn resuming_into_another_optimizer_or_schedule_names_both() {
    let path = adam_checkpoint("kinds.safetensors");
    let train = digits(64, 1);

    let mut sgd = silent(Trainer::new(
        model(5),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    ))
    .scheduler(StepLr::new(0.1, 1, 0.5).unwrap())
    .unwrap();
    let before = snapshot(&sgd);
    let err = sgd.resume_from(&path).unwrap_err().to_string();
    assert!(err.contains("Adam") && err.contains("SGD"), "{err}");
    assert_eq!(snapshot(&sgd), before);

    let mut one_cycle = silent(Trainer::new(
        model(5),
        CrossEntropyLoss::new(),
        Adam::new(1e-3).unwrap(),
    ))
    .scheduler(OneCycleLr::new(1e-2, 100).unwrap())
    .unwrap();
    let err = one_cycle.resume_from(&path).unwrap_err().to_string();
    assert!(
        err.contains("StepLR") && err.contains("OneCycleLR"),
        "{err}"
    );

    // The same kinds resume and train on.
    let mut same = adam_trainer(2);
    assert_eq!(same.resume_from(&path).unwrap(), 1);
    same.fit(&train, None).unwrap();
}

#[test]
fn checkpoints_without_kinds_still_load() {
    // A file as written before kinds were recorded: the same state, no `lazarus.kind.*`.
    let path = adam_checkpoint("no-kinds.safetensors");
    rewrite(&path, |_, metadata| {
        metadata.retain(|k, _| !k.starts_with("lazarus.kind."));
    });
    let mut trainer = adam_trainer(2);
    assert_eq!(trainer.resume_from(&path).unwrap(), 1);
    trainer.fit(&digits(64, 1), None).unwrap();
}

#[test]
fn schedule_state_without_a_schedule_is_an_error_unless_ignored() {
    let path = adam_checkpoint("sched-only.safetensors");
    let plain = || {
        silent(Trainer::new(
            model(5),
            CrossEntropyLoss::new(),
            Adam::new(1e-3).unwrap(),
        ))
    };
    let mut strict = plain();
    let before = snapshot(&strict);
    let err = strict.resume_from(&path).unwrap_err();
    assert!(
        matches!(&err, Error::CheckpointState { group, .. } if group == "scheduler"),
        "{err:?}"
    );
    assert!(err.to_string().contains("StepLR"), "{err}");
    assert_eq!(snapshot(&strict), before);
    let mut lenient = plain();
    let options = ResumeOptions {
        ignore_scheduler_state: true,
    };
    assert_eq!(lenient.resume_from_with(&path, options).unwrap(), 1);
    // Another schedule kind is still refused with the option on.
    let mut other = plain()
        .scheduler(ExponentialLr::new(1e-3, 0.9).unwrap())
        .unwrap();
    assert!(other.resume_from_with(&path, options).is_err());
}

#[test]
fn unknown_state_groups_are_refused_on_resume() {
    let path = temp("extra-group.safetensors");
    let mut state = TrainingState::default();
    state
        .groups
        .insert("ema".into(), lazarus_optim::OptimizerState::default());
    state
        .groups
        .get_mut("ema")
        .unwrap()
        .scalars
        .insert("decay".into(), 0.99);
    save_checkpoint(&path, &model(5), Some(&state)).unwrap();
    let mut trainer = adam_trainer(1);
    let before = snapshot(&trainer);
    let err = trainer.resume_from(&path).unwrap_err();
    assert!(err.to_string().contains("ema"), "{err}");
    assert_eq!(snapshot(&trainer), before);
}
