//! The fit loop end to end: learning, history, checkpoints and resuming, non-finite values.

use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{Layer, Linear, Sequential, Tensor};
use lazarus_optim::{Adam, Sgd, StepLr};
use lazarus_train::callbacks::{EarlyStopping, ModelCheckpoint, Monitor};
use lazarus_train::checkpoint::{load_model, save_checkpoint, save_model};
use lazarus_train::data::{Dataset, SyntheticDigits};
use lazarus_train::{Error, History, Stage, Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};

fn digits() -> (Dataset, Dataset) {
    (
        SyntheticDigits::new(1).generate(2000).unwrap(),
        SyntheticDigits::new(2).generate(500).unwrap(),
    )
}

fn linear_model(seed: u64) -> Sequential {
    Sequential::new().add(Linear::new(784, 10, &mut StdRng::seed_from_u64(seed)).unwrap())
}

fn weights(model: &dyn Layer) -> Vec<Tensor> {
    let mut out = Vec::new();
    model.visit_params(&mut |_, p| out.push(p.value.clone()));
    out
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-trainer-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn empty_data_sets_are_errors_not_zero_losses() {
    let empty = SyntheticDigits::new(0).generate(0).unwrap();
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .verbosity(Verbosity::Silent);
    assert!(matches!(
        trainer.evaluate(&empty),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        trainer.fit(&empty, None),
        Err(Error::InvalidConfig { .. })
    ));
    // Fewer samples than one batch, with drop_last, also leaves nothing to train on.
    let few = SyntheticDigits::new(0).generate(3).unwrap();
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .batch_size(8)
    .unwrap()
    .drop_last(true)
    .verbosity(Verbosity::Silent);
    assert!(matches!(
        trainer.fit(&few, None),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn learns_synthetic_digits_and_records_history() {
    let (train, validation) = digits();
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .epochs(3)
    .batch_size(32)
    .unwrap()
    .verbosity(Verbosity::Silent);
    let history = trainer.fit(&train, Some(&validation)).unwrap();
    assert_eq!(history.epochs.len(), 3);
    let last = history.last().unwrap();
    assert!(
        last.val_accuracy.unwrap() > 0.6,
        "validation accuracy {:?}",
        last.val_accuracy
    );
    assert!(history.epochs[2].train_loss < history.epochs[0].train_loss);
    assert_eq!(
        History::from_json(&history.to_json().unwrap()).unwrap(),
        history
    );
    assert_eq!(History::from_csv(&history.to_csv()).unwrap(), history);
    let predictions = trainer.predict(validation.inputs().view()).unwrap();
    assert_eq!(predictions.len(), 500);
    let probabilities = trainer.predict_proba(validation.inputs().view()).unwrap();
    assert_eq!(probabilities.shape(), &[500, 10]);
    assert!((probabilities.index_axis(ndarray::Axis(0), 0).sum() - 1.0).abs() < 1e-5);
}

#[test]
fn checkpoint_round_trip_gives_identical_predictions() {
    let (train, validation) = digits();
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .epochs(1)
    .verbosity(Verbosity::Silent);
    trainer.fit(&train, None).unwrap();
    let path = temp("roundtrip.safetensors");
    save_model(&path, trainer.model()).unwrap();
    let mut fresh = linear_model(99);
    load_model(&path, &mut fresh).unwrap();
    assert_eq!(weights(&fresh), weights(trainer.model()));
    let mut other = Trainer::new(fresh, CrossEntropyLoss::new(), Sgd::new(0.1).unwrap());
    assert_eq!(
        other.predict(validation.inputs().view()).unwrap(),
        trainer.predict(validation.inputs().view()).unwrap()
    );
}

fn resumable_trainer(epochs: usize) -> Trainer<Sequential> {
    let mut rng = StdRng::seed_from_u64(5);
    let model = Sequential::new()
        .add(Linear::new(784, 32, &mut rng).unwrap())
        .add(Linear::new(32, 10, &mut rng).unwrap());
    Trainer::new(model, CrossEntropyLoss::new(), Adam::new(1e-3).unwrap())
        .scheduler(StepLr::new(1e-3, 1, 0.5).unwrap())
        .unwrap()
        .epochs(epochs)
        .batch_size(64)
        .unwrap()
        .seed(11)
        .verbosity(Verbosity::Silent)
}

#[test]
fn resume_is_bit_identical_to_an_uninterrupted_run() {
    let (train, _) = digits();
    let mut straight = resumable_trainer(4);
    straight.fit(&train, None).unwrap();

    let path = temp("resume.safetensors");
    let mut first = resumable_trainer(2);
    first.fit(&train, None).unwrap();
    first.save_checkpoint(&path).unwrap();

    let mut second = resumable_trainer(4);
    assert_eq!(second.resume_from(&path).unwrap(), 2);
    let history = second.fit(&train, None).unwrap();
    assert_eq!(
        history.epochs.iter().map(|r| r.epoch).collect::<Vec<_>>(),
        [3, 4]
    );
    assert_eq!(weights(second.model()), weights(straight.model()));
    assert_eq!(second.optimizer().lr(), straight.optimizer().lr());
}

#[test]
fn corrupt_and_mismatched_checkpoints_are_typed_errors() {
    let model = linear_model(0);
    let path = temp("good.safetensors");
    save_model(&path, &model).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let truncated = temp("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let mut target = linear_model(1);
    let before = weights(&target);
    assert!(matches!(
        load_model(&truncated, &mut target),
        Err(Error::CheckpointCorrupt { .. })
    ));
    let garbage = temp("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    assert!(matches!(
        load_model(&garbage, &mut target),
        Err(Error::CheckpointCorrupt { .. })
    ));
    assert_eq!(
        weights(&target),
        before,
        "a failed load leaves the model unchanged"
    );

    let mut wider =
        Sequential::new().add(Linear::new(784, 12, &mut StdRng::seed_from_u64(0)).unwrap());
    let err = load_model(&path, &mut wider).unwrap_err();
    assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
    assert!(err.to_string().contains("0.weight"), "{err}");

    let mut deeper = Sequential::new()
        .add(Linear::new(784, 10, &mut StdRng::seed_from_u64(0)).unwrap())
        .add(Linear::new(10, 10, &mut StdRng::seed_from_u64(0)).unwrap());
    assert!(matches!(
        load_model(&path, &mut deeper),
        Err(Error::CheckpointMismatch { .. })
    ));
    let mut smaller = Linear::new(784, 10, &mut StdRng::seed_from_u64(0)).unwrap();
    let err = load_model(&path, &mut smaller).unwrap_err();
    assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
    assert!(matches!(
        load_model(temp("missing.safetensors"), &mut target),
        Err(Error::Io { .. })
    ));
}

#[test]
fn nan_in_the_data_names_epoch_batch_and_input() {
    let (train, _) = digits();
    let (mut inputs, targets) = train.into_parts();
    inputs[[37, 100]] = f32::NAN;
    let poisoned = Dataset::new(inputs, targets).unwrap();
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .batch_size(16)
    .unwrap()
    .shuffle(false)
    .verbosity(Verbosity::Silent);
    let err = trainer.fit(&poisoned, None).unwrap_err();
    assert!(
        matches!(&err, Error::NonFinite { stage, layer, sample: Some(37), what }
            if *stage == Stage::Training { epoch: 1, batch: 2 }
                && layer == "input data" && what == "loss"),
        "expected NonFinite in the loss of sample 37, got {err:?}"
    );
}

#[test]
fn exploding_weights_name_the_first_non_finite_layer() {
    let (train, _) = digits();
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new()
        .add(Linear::new(784, 16, &mut rng).unwrap())
        .add(Linear::new(16, 10, &mut rng).unwrap());
    model.visit_params_mut(&mut |name, p| {
        if name == "1.weight" {
            p.value.fill(f32::MAX);
        }
    });
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Sgd::new(0.1).unwrap())
        .verbosity(Verbosity::Silent);
    match trainer.fit(&train, None) {
        Err(Error::NonFinite {
            stage: Stage::Training { epoch: 1, batch: 0 },
            layer,
            ..
        }) => assert_eq!(layer, "linear[1]"),
        other => panic!("expected NonFinite in linear[1], got {other:?}"),
    }
}

#[test]
fn early_stopping_and_best_checkpoint() {
    let (train, validation) = digits();
    let best = temp("best.safetensors");
    // A learning rate this high makes the validation loss bounce, so early stopping fires.
    let mut trainer = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(5.0).unwrap(),
    )
    .epochs(30)
    .verbosity(Verbosity::Silent)
    .callback(
        EarlyStopping::new(Monitor::ValLoss)
            .patience(1)
            .restore_best_weights(true),
    )
    .callback(ModelCheckpoint::new(&best).save_best_only(Monitor::ValLoss));
    let history = trainer.fit(&train, Some(&validation)).unwrap();
    assert!(history.epochs.len() < 30, "early stopping never fired");
    let best_epoch = history
        .epochs
        .iter()
        .min_by(|a, b| a.val_loss.unwrap().total_cmp(&b.val_loss.unwrap()))
        .unwrap();
    // The restored weights are the best epoch's, and so is the saved checkpoint.
    let restored = trainer.evaluate(&validation).unwrap();
    assert!((restored.loss - best_epoch.val_loss.unwrap()).abs() < 1e-9);
    let mut from_file = linear_model(3);
    load_model(&best, &mut from_file).unwrap();
    assert_eq!(weights(&from_file), weights(trainer.model()));
    // Monitoring validation loss without a validation set is a typed error.
    let mut no_val = Trainer::new(
        linear_model(0),
        CrossEntropyLoss::new(),
        Sgd::new(0.1).unwrap(),
    )
    .epochs(1)
    .verbosity(Verbosity::Silent)
    .callback(EarlyStopping::new(Monitor::ValLoss));
    assert!(matches!(
        no_val.fit(&train, None),
        Err(Error::InvalidConfig { .. })
    ));
    let _ = save_checkpoint(temp("unused.safetensors"), &linear_model(0), None);
}
