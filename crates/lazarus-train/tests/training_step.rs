//! `Trainer::fit` is the textbook step and nothing more: the same run written out by hand
//! (forward → loss → zero_grad → backward → clip → step, with the diagnostics called in the
//! order their docs give) ends with the same weights and the same diagnostics, bit for bit;
//! and the observers (diagnostics, callbacks) see what they saw before, in the order promised.

use std::sync::{Arc, Mutex};

use lazarus_activations::Relu;
use lazarus_core::loss::{CrossEntropyLoss, Loss};
use lazarus_core::{Layer, Linear, Mode, Sequential};
use lazarus_optim::{NormType, Optimizer, Sgd, clip_grad_norm};
use lazarus_train::callbacks::{BatchEnd, BatchFn, Control, EpochEnd, EpochFn};
use lazarus_train::data::{DataLoader, Dataset};
use lazarus_train::diagnostics::{
    Diagnostics, DiagnosticsConfig, EpochDiagnostics, ProbeSet, UnitTracker,
};
use lazarus_train::{Trainer, Verbosity};
use ndarray::Array2;
use rand::{Rng, SeedableRng, rngs::StdRng};

fn data(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, 5), |_| rng.random_range(-1.0f32..1.0)).into_dyn();
    let labels = (0..n).map(|_| rng.random_range(0..3)).collect();
    Dataset::from_labels(x, labels, 3).unwrap()
}

fn model() -> Sequential {
    let mut rng = StdRng::seed_from_u64(7);
    Sequential::new()
        .add(Linear::new(5, 8, &mut rng).unwrap())
        .add(Relu::new())
        .add(Linear::new(8, 3, &mut rng).unwrap())
}

fn sgd() -> Sgd {
    Sgd::new(0.5).unwrap().momentum(0.9).unwrap()
}

fn config() -> DiagnosticsConfig {
    DiagnosticsConfig {
        list_dead_units: true,
        warnings: false,
        update_ratio_every: 2,
        ..DiagnosticsConfig::default()
    }
}

fn bits(model: &dyn Layer) -> Vec<u32> {
    let mut out = Vec::new();
    model.visit_params(&mut |_, p| out.extend(p.value.iter().map(|v| v.to_bits())));
    out
}

const EPOCHS: usize = 3;
const BATCH: usize = 8;
/// Small enough that most steps are clipped.
const MAX_NORM: f32 = 0.5;

/// The run of `by_hand_is_the_same_run`, written out: returns the final model, each epoch's
/// diagnostics and each epoch's largest pre-clip norm (as `clip_grad_norm` returned it).
fn by_hand(train: &Dataset, validation: &Dataset) -> (Sequential, Vec<(EpochDiagnostics, f64)>) {
    let (mut model, mut loss_fn, mut optimizer) = (model(), CrossEntropyLoss::new(), sgd());
    let mut diagnostics = Diagnostics::new(config()).unwrap();
    diagnostics.set_clip_norm(Some(MAX_NORM));
    // The probe set, drawn with the trainer's seed (0), probed at initialization.
    let probe = ProbeSet::sample(train, config().probe_samples, 0).unwrap();
    diagnostics
        .probe_at_init(&mut model, &probe, BATCH)
        .unwrap();
    let mut loader = DataLoader::new(train, BATCH).unwrap();
    let mut epochs = Vec::new();
    for epoch in 0..EPOCHS {
        let mut max_norm = f64::NEG_INFINITY;
        let mut batches = loader.epoch(epoch);
        while let Some(batch) = batches.next_batch() {
            let outputs = model.forward(batch.inputs.view(), Mode::Train).unwrap();
            loss_fn.forward(outputs, batch.target()).unwrap();
            diagnostics.after_forward(&model);
            model.zero_grad();
            model
                .backward_params(loss_fn.input_grad().unwrap())
                .unwrap();
            diagnostics.before_step(&model);
            let norm = clip_grad_norm(&mut model, MAX_NORM, NormType::L2, false).unwrap();
            max_norm = max_norm.max(f64::from(norm));
            optimizer.step(&mut model).unwrap();
            diagnostics.after_step(&model);
        }
        let mut tracker = UnitTracker::default();
        let mut val_loader = DataLoader::new(validation, BATCH).unwrap();
        let mut val_batches = val_loader.epoch(0);
        while let Some(batch) = val_batches.next_batch() {
            tracker
                .forward_eval(&mut model, batch.inputs.view())
                .unwrap();
        }
        diagnostics.probe(&mut model, &probe, BATCH).unwrap();
        let report = diagnostics.end_epoch(tracker.units(true)).unwrap();
        epochs.push((report, max_norm));
    }
    (model, epochs)
}

#[test]
fn fit_is_the_hand_written_step_bit_for_bit_with_clipping_and_diagnostics() {
    let (train, validation) = (data(44, 1), data(20, 2));
    let mut trainer = Trainer::new(model(), CrossEntropyLoss::new(), sgd())
        .epochs(EPOCHS)
        .batch_size(BATCH)
        .unwrap()
        .shuffle(false)
        .clip_grad_norm(MAX_NORM)
        .unwrap()
        .diagnostics(config())
        .unwrap()
        .verbosity(Verbosity::Silent);
    let history = trainer.fit(&train, Some(&validation)).unwrap();
    let (model, epochs) = by_hand(&train, &validation);

    // Clipping with the norm measured once gives clip_grad_norm's gradients exactly.
    assert_eq!(bits(trainer.model()), bits(&model));
    for (record, (report, max_norm)) in history.epochs.iter().zip(&epochs) {
        let d = record.diagnostics.as_ref().unwrap();
        // The diagnostics, fed by the trainer's observers, are those of the documented order.
        assert_eq!(d, report, "epoch {}", record.epoch);
        assert!(d.clipped_steps.unwrap() > 0);
        // The record's pre-clip norm is clip_grad_norm's return value...
        assert_eq!(record.max_grad_norm, Some(*max_norm));
        // ...and the diagnostics' total is the same measurement (kept in f64 there).
        assert_eq!(d.max_total_grad_norm as f32, *max_norm as f32);
    }
}

#[test]
fn without_clipping_or_diagnostics_fit_is_the_bare_loop() {
    let train = data(30, 3);
    let mut trainer = Trainer::new(model(), CrossEntropyLoss::new(), sgd())
        .epochs(2)
        .batch_size(BATCH)
        .unwrap()
        .shuffle(false)
        .verbosity(Verbosity::Silent);
    let history = trainer.fit(&train, None).unwrap();
    assert!(history.epochs.iter().all(|r| r.max_grad_norm.is_none()));

    let (mut model, mut loss_fn, mut optimizer) = (model(), CrossEntropyLoss::new(), sgd());
    let mut loader = DataLoader::new(&train, BATCH).unwrap();
    for epoch in 0..2 {
        let mut batches = loader.epoch(epoch);
        while let Some(batch) = batches.next_batch() {
            let outputs = model.forward(batch.inputs.view(), Mode::Train).unwrap();
            loss_fn.forward(outputs, batch.target()).unwrap();
            model.zero_grad();
            model
                .backward_params(loss_fn.input_grad().unwrap())
                .unwrap();
            optimizer.step(&mut model).unwrap();
        }
    }
    assert_eq!(bits(trainer.model()), bits(&model));
}

#[test]
fn callbacks_run_in_the_order_added_all_see_a_stop_and_see_the_diagnostics() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (first, second, third) = (log.clone(), log.clone(), log.clone());
    let mut trainer = Trainer::new(model(), CrossEntropyLoss::new(), sgd())
        .epochs(5)
        .batch_size(BATCH)
        .unwrap()
        .diagnostics(config())
        .unwrap()
        .verbosity(Verbosity::Silent)
        .callback(BatchFn(move |b: &BatchEnd| {
            first.lock().unwrap().push(format!("a{}", b.batch));
            // Asks to stop after the second batch of the first epoch.
            Ok(if b.batch == 1 {
                Control::Stop
            } else {
                Control::Continue
            })
        }))
        .callback(BatchFn(move |b: &BatchEnd| {
            second.lock().unwrap().push(format!("b{}", b.batch));
            Ok(Control::Continue)
        }))
        .callback(EpochFn(move |e: &mut EpochEnd<'_>| {
            // The diagnostics have filled the record before any callback sees it.
            let steps = e.record.diagnostics.as_ref().map(|d| d.steps);
            third
                .lock()
                .unwrap()
                .push(format!("epoch{} steps {steps:?}", e.record.epoch));
            Ok(Control::Continue)
        }));
    let history = trainer.fit(&data(40, 4), None).unwrap();
    // The stop ends the epoch after that batch (every callback still sees it), the epoch's
    // callbacks still run, and training ends.
    assert_eq!(history.epochs.len(), 1);
    assert_eq!(
        *log.lock().unwrap(),
        ["a0", "b0", "a1", "b1", "epoch1 steps Some(2)"]
    );
}
