//! The gradient-spike warning (the rule is on `DiagnosticsConfig::spike_factor`): quiet while
//! a healthy network leaves its initialization, raised in the epoch where gradients explode,
//! about the parameter where they do, once per epoch with the number of steps that spiked.

use lazarus_activations::Relu;
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{Layer, Linear, Sequential};
use lazarus_optim::Sgd;
use lazarus_train::data::SyntheticDigits;
use lazarus_train::diagnostics::{Diagnostics, DiagnosticsConfig, EpochDiagnostics, WarningKind};
use lazarus_train::{Trainer, Verbosity};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn quiet() -> DiagnosticsConfig {
    DiagnosticsConfig {
        warnings: false,
        ..DiagnosticsConfig::default()
    }
}

/// The gradient-spike warnings of some epochs' reports.
fn spikes(epochs: &[&EpochDiagnostics]) -> Vec<(usize, String, String)> {
    (epochs.iter().flat_map(|d| &d.warnings))
        .filter(|w| w.kind == WarningKind::GradientSpike)
        .map(|w| (w.epoch, w.subject.clone().unwrap(), w.message.clone()))
        .collect()
}

/// The lab's MLP on synthetic digits, `784 → 64 → 64 → 64 → 10` with ReLU, trained with SGD
/// (momentum 0.9) at `lr` for 3 epochs of 32 steps: every epoch's diagnostics, those of an
/// epoch stopped by a non-finite value included.
fn digits_run(lr: f32) -> Vec<EpochDiagnostics> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new();
    for (i, (inputs, outputs)) in [(784, 64), (64, 64), (64, 64), (64, 10)]
        .into_iter()
        .enumerate()
    {
        model.push(Box::new(Linear::new(inputs, outputs, &mut rng).unwrap()));
        if i < 3 {
            model.push(Box::new(Relu::new()));
        }
    }
    let train = SyntheticDigits::new(0).generate(1024).unwrap();
    let sgd = Sgd::new(lr).unwrap().momentum(0.9).unwrap();
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), sgd)
        .epochs(3)
        .batch_size(32)
        .unwrap()
        .seed(0)
        .verbosity(Verbosity::Silent)
        .diagnostics(quiet())
        .unwrap();
    // A run that explodes may stop on a non-finite loss: its last epoch is kept all the same.
    let _ = trainer.fit(&train, None);
    let mut epochs: Vec<EpochDiagnostics> = (trainer.history().epochs.iter())
        .filter_map(|r| r.diagnostics.clone())
        .collect();
    epochs.extend(trainer.unfinished_epoch().cloned());
    epochs
}

/// Every step's total gradient norm over the run.
fn total_norms(epochs: &[EpochDiagnostics]) -> Vec<f32> {
    (epochs.iter())
        .flat_map(|d| d.step_norms.as_ref().unwrap().total.clone())
        .collect()
}

#[test]
fn a_healthy_run_gets_no_spike_warning_though_its_norm_grows_tenfold() {
    let epochs = digits_run(0.05);
    let norms = total_norms(&epochs);
    // The start the old rule (each parameter against its 50-step median) cried wolf on: the
    // norm grows steadily more than tenfold as the network leaves its initialization.
    let first = norms[..10].iter().copied().fold(f32::INFINITY, f32::min);
    let largest = norms.iter().copied().fold(0.0, f32::max);
    assert!(largest > 10.0 * first, "{norms:?}");
    let all: Vec<&EpochDiagnostics> = epochs.iter().collect();
    assert_eq!(spikes(&all), []);
}

#[test]
fn an_exploding_run_warns_in_its_first_epoch() {
    // Ten times the learning rate: the norm blows up within the first epoch.
    let epochs = digits_run(0.5);
    let all: Vec<&EpochDiagnostics> = epochs.iter().collect();
    let warnings = spikes(&all);
    assert!(
        warnings.first().is_some_and(|(epoch, ..)| *epoch == 1),
        "{warnings:?} {:?}",
        total_norms(&epochs)
    );
}

/// `Linear(4 → 3)`, `Linear(3 → 2)`: parameters `0.weight`, `0.bias`, `1.weight`, `1.bias`,
/// whose gradients we set by hand; `epochs` epochs of 30 steps, each gradient of norm about 1
/// (noise of ±20%) times, for `1.weight`, `blow_up(epoch, step)` (step from 0).
fn hand_made_run(epochs: usize, blow_up: impl Fn(usize, usize) -> f32) -> Vec<EpochDiagnostics> {
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(Linear::new(3, 2, &mut rng).unwrap());
    let mut d = Diagnostics::new(quiet()).unwrap();
    let mut reports = Vec::new();
    for epoch in 1..=epochs {
        for step in 0..30 {
            model.visit_params_mut(&mut |path, p| {
                let len = p.grad.len() as f32;
                let scale = if path == "1.weight" {
                    blow_up(epoch, step)
                } else {
                    1.0
                };
                // Norm √len · (1 ± 0.2) / √len.
                let noise: f32 = rng.random_range(0.8..1.2);
                p.grad.fill(scale * noise / len.sqrt());
            });
            d.before_step(&model);
            d.after_step(&model);
        }
        reports.push(d.end_epoch(Vec::new()).unwrap());
    }
    reports
}

#[test]
fn a_blown_up_weight_is_named_in_the_epoch_it_blows_up() {
    // 1.weight's gradient is 1,000 times larger on batch 12 of epoch 2, 100 times on batch 13.
    let reports = hand_made_run(3, |epoch, step| match (epoch, step) {
        (2, 12) => 1e3,
        (2, 13) => 1e2,
        _ => 1.0,
    });
    let all: Vec<&EpochDiagnostics> = reports.iter().collect();
    let warnings = spikes(&all);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let (epoch, subject, message) = &warnings[0];
    assert_eq!((*epoch, subject.as_str()), (2, "1.weight"));
    // Two steps, one warning, about the worst.
    assert!(
        message.starts_with("1.weight: the gradient norm spiked on 2 of 30 batches of epoch 2:"),
        "{message}"
    );
    assert!(message.contains("at batch 12)"), "{message}");
    // Its value is the spiking total norm: 1.weight's ~1,000 with three others' ~1.
    let value = reports[1].warnings[0].value.unwrap();
    assert!((800.0..1201.0).contains(&value), "{value}");
}

#[test]
fn spikes_warn_once_per_epoch_with_their_count() {
    // Spikes in epochs 1 (from step 10: the first judged) and 3, none in 2: one warning in
    // each of epochs 1 and 3, counting its steps; a spike again in a later epoch is reported
    // again (unlike the other warnings, raised once per run).
    let reports = hand_made_run(3, |epoch, step| {
        let spike = (epoch == 1 && [10, 20, 25].contains(&step)) || (epoch == 3 && step == 5);
        if spike { 1e3 } else { 1.0 }
    });
    let all: Vec<&EpochDiagnostics> = reports.iter().collect();
    let warnings = spikes(&all);
    let counts: Vec<(usize, &str)> = (warnings.iter())
        .map(|(epoch, _, message)| (*epoch, message.split(" batches of epoch").next().unwrap()))
        .collect();
    assert_eq!(
        counts,
        [
            (1, "1.weight: the gradient norm spiked on 3 of 30"),
            (3, "1.weight: the gradient norm spiked on 1 of 30")
        ]
    );
    // Fewer than 10 steps recorded: no median to judge against yet.
    let early = hand_made_run(1, |_, step| if step == 9 { 1e3 } else { 1.0 });
    assert_eq!(spikes(&[&early[0]]), []);
}

#[test]
fn a_parameter_with_a_tiny_gradient_does_not_spike_the_total() {
    // 0.bias's gradient is near zero (a layer behind almost-dead units) and then, on one
    // batch, 100 times larger: a spike of its own, but no step's total norm moves.
    let mut rng = StdRng::seed_from_u64(2);
    let mut model = Sequential::new().add(Linear::new(4, 3, &mut rng).unwrap());
    let mut d = Diagnostics::new(quiet()).unwrap();
    for step in 0..40 {
        model.visit_params_mut(&mut |path, p| {
            let noise: f32 = rng.random_range(0.8..1.2);
            let norm = match path {
                "0.bias" if step == 30 => 1e-2,
                "0.bias" => 1e-4,
                _ => 1.0,
            };
            let len = p.grad.len() as f32;
            p.grad.fill(noise * norm / len.sqrt());
        });
        d.before_step(&model);
        d.after_step(&model);
    }
    assert_eq!(spikes(&[&d.end_epoch(Vec::new()).unwrap()]), []);
}
