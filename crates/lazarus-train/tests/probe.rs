//! The probe pass, the one definition of dead, through the trainer: a unit dead by construction
//! is dead from epoch 0 in the history and on the report page; a hand-set weight revives a unit
//! and the next probe sees it; probing changes nothing training reads (weights, BatchNorm's
//! running statistics, the dropout and RReLU random streams); a convolution's units are its
//! channels; and the trainer writes its report for a finished run and for one stopped by a
//! non-finite value.

mod common;

use common::{Page, SECTIONS};
use lazarus_activations::{RRelu, Relu};
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{
    BatchNorm1d, Conv2d, Dropout, Flatten, Layer, Linear, MaxPool2d, Sequential, Tensor,
};
use lazarus_optim::Sgd;
use lazarus_train::callbacks::{Control, EpochFn};
use lazarus_train::data::Dataset;
use lazarus_train::diagnostics::{DiagnosticsConfig, ProbeSet, SilentKind};
use lazarus_train::report::{UnitKind, UnitState};
use lazarus_train::{Error, Trainer, Verbosity};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng, rngs::StdRng};

const IN: usize = 4;
const HIDDEN: usize = 6;
/// Hidden units killed by construction: a bias of -100, below anything inputs in [0, 1] and
/// weights in [-1, 1] can reach.
const KILLED: [usize; 2] = [1, 4];

/// `Linear(4 → 6)` (the `KILLED` biases at -100, the others +0.5), ReLU, `Linear(6 → 3)`.
fn network(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let w = Array2::from_shape_fn((HIDDEN, IN), |_| rng.random_range(-1.0f32..1.0)).into_dyn();
    let bias = |u: usize| if KILLED.contains(&u) { -100.0f32 } else { 0.5 };
    let b = Array1::from_shape_fn(HIDDEN, bias).into_dyn();
    Sequential::new()
        .add(Linear::from_params(w, Some(b)).unwrap())
        .add(Relu::new())
        .add(Linear::new(HIDDEN, 3, &mut rng).unwrap())
}

fn data(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, IN), |_| rng.random_range(0.0f32..1.0)).into_dyn();
    let labels = (0..n).map(|i| i % 3).collect();
    Dataset::from_labels(x, labels, 3).unwrap()
}

fn quiet() -> DiagnosticsConfig {
    DiagnosticsConfig {
        warnings: false,
        list_dead_units: true,
        ..DiagnosticsConfig::default()
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The `data-states` of the heatmap row of `layer` holding exactly `unit`.
fn row_states(page: &Page, layer: &str, unit: usize) -> String {
    let svg = page.find("svg", "data-layer", layer)[0];
    let row = (page.within(svg, "rect").into_iter())
        .find(|&r| page.attr(r, "class") == "row" && page.attr(r, "data-units") == unit.to_string())
        .unwrap_or_else(|| panic!("no row for unit {unit} of {layer}"));
    page.attr(row, "data-states").to_string()
}

#[test]
fn a_unit_dead_by_construction_is_dead_from_epoch_0_and_a_hand_set_weight_revives_another() {
    let path = scratch("dead-and-revived.html");
    // After epoch 1, lift unit 4's bias far above zero: it fires for every input again, from
    // epoch 2's probe on (the epoch's callbacks run after its probe).
    let revive = EpochFn(|end: &mut lazarus_train::callbacks::EpochEnd<'_>| {
        if end.record.epoch == 1 {
            end.model.visit_params_mut(&mut |name, p| {
                if name == "0.bias" {
                    p.value[[4]] = 100.0;
                }
            });
        }
        Ok(Control::Continue)
    });
    let mut trainer = Trainer::new(network(0), CrossEntropyLoss::new(), Sgd::new(0.01).unwrap())
        .epochs(3)
        .batch_size(8)
        .unwrap()
        .verbosity(Verbosity::Silent)
        .diagnostics(quiet())
        .unwrap()
        .callback(revive)
        .report(&path)
        .unwrap();
    let history = trainer.fit(&data(40, 1), None).unwrap();

    // The history: dead at initialization (epoch 0), at every probe while its bias stays.
    let first = history.epochs[0].diagnostics.as_ref().unwrap();
    let at_init = &first.born_dead.as_ref().unwrap().units[0];
    assert_eq!(at_init.silent_units, KILLED);
    assert_eq!(at_init.kind, SilentKind::Dead);
    for &u in &KILLED {
        assert_eq!(at_init.active_fraction[u], 0.0, "unit {u}");
    }
    assert_eq!(first.units[0].silent_units, KILLED);
    let units: Vec<_> = (history.epochs.iter())
        .map(|r| r.diagnostics.as_ref().unwrap().units[0].clone())
        .collect();
    assert_eq!(units[0].silent_units, KILLED);
    assert_eq!(
        units[1].silent_units,
        [1],
        "epoch 2's probe sees the revival"
    );
    assert_eq!((units[1].revived, units[1].newly_silent), (1, 0));
    assert_eq!(units[1].active_fraction[4], 1.0);
    assert_eq!(
        (units[2].silent_units.as_slice(), units[2].revived),
        (&[1][..], 0)
    );

    // The report's data and page: unit 1 dead at every probe, unit 4 dead then active.
    let data = trainer.report_data(None).unwrap();
    let relu = &data.layers[0];
    let states = |u: usize| relu.probes.iter().map(|p| p.state[u]).collect::<Vec<_>>();
    use UnitState::{Active as A, Dead as D};
    assert_eq!(states(1), [D, D, D, D]);
    assert_eq!(states(4), [D, D, A, A]);
    let html = std::fs::read_to_string(&path).unwrap();
    let page = Page::parse(&html);
    assert_eq!(row_states(&page, "relu[1]", 1), "DDDD");
    assert_eq!(row_states(&page, "relu[1]", 4), "DDAA");
}

/// Training draws from dropout's and RReLU's random streams and moves BatchNorm's running
/// statistics; the probe passes (and the validation pass's statistics) must do none of it.
#[test]
fn probing_changes_nothing_training_follows_the_same_trajectory() {
    let build = || {
        let mut rng = StdRng::seed_from_u64(5);
        Sequential::new()
            .add(Linear::new(IN, 8, &mut rng).unwrap())
            .add(BatchNorm1d::new(8).unwrap())
            .add(Relu::new())
            .add(Dropout::new(0.3, 11).unwrap())
            .add(Linear::new(8, 8, &mut rng).unwrap())
            .add(RRelu::new(0.1, 0.3, 12).unwrap())
            .add(Linear::new(8, 3, &mut rng).unwrap())
    };
    let (train, validation) = (data(50, 2), data(20, 3));
    let run = |diagnostics: bool| {
        let mut trainer = Trainer::new(build(), CrossEntropyLoss::new(), Sgd::new(0.1).unwrap())
            .epochs(3)
            .batch_size(8)
            .unwrap()
            .verbosity(Verbosity::Silent);
        if diagnostics {
            trainer = trainer.diagnostics(quiet()).unwrap();
        }
        let history = trainer.fit(&train, Some(&validation)).unwrap();
        let mut state = Vec::new();
        trainer
            .model()
            .visit_params(&mut |_, p| state.extend(p.value.iter().map(|v| v.to_bits())));
        trainer
            .model()
            .visit_buffers(&mut |_, b| state.extend(b.value.iter().map(|v| v.to_bits())));
        let losses: Vec<u64> = (history.epochs.iter())
            .flat_map(|r| [r.train_loss.to_bits(), r.val_loss.unwrap().to_bits()])
            .collect();
        (state, losses, history)
    };
    let (plain, plain_losses, _) = run(false);
    let (probed, probed_losses, history) = run(true);
    assert_eq!(probed, plain, "weights and running statistics, bit for bit");
    assert_eq!(probed_losses, plain_losses);
    let d = history.epochs[0].diagnostics.as_ref().unwrap();
    assert_eq!(d.units.len(), 2, "both activation layers were probed");
    assert_eq!(d.born_dead.as_ref().unwrap().units.len(), 2);
}

/// A `[batch, 2, 4, 4]` convolution output: channel 0 copies the input, which is positive on
/// a quarter of the positions; channel 1's bias puts it below zero everywhere.
#[test]
fn a_convolution_s_units_are_its_channels_counting_every_position() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut conv = Conv2d::new(1, 2, 1, &mut rng).unwrap();
    conv.visit_params_mut(&mut |name, p| {
        let values: &[f32] = if name == "weight" {
            &[1.0, 1.0]
        } else {
            &[0.0, -10.0]
        };
        p.value.iter_mut().zip(values).for_each(|(v, &x)| *v = x);
    });
    let mut model = Sequential::new()
        .add(conv)
        .add(Relu::new())
        .add(MaxPool2d::new(2).unwrap())
        .add(Flatten::new())
        .add(Linear::new(8, 3, &mut rng).unwrap());
    // Row 0 of each 4x4 image positive, rows 1-3 negative: 4 of 16 positions fire.
    let x = Tensor::from_shape_fn(vec![6, 1, 4, 4], |i| {
        if i[2] == 0 { 0.5 + i[0] as f32 } else { -1.0 }
    });
    let pass = ProbeSet::from_inputs(x.clone())
        .unwrap()
        .run(&mut model, 4)
        .unwrap();
    let relu = &pass.units[0];
    assert_eq!((relu.units, relu.unit_kind), (2, UnitKind::Channel));
    assert_eq!(relu.active_fraction, [0.25, 0.0]);
    assert_eq!(relu.silent_units, [1]);
    assert_eq!(relu.kind, SilentKind::Dead);

    // Through the trainer, into the report: a heatmap of 2 channels.
    let labels = (0..6).map(|i| i % 3).collect();
    let train = Dataset::from_labels(x, labels, 3).unwrap();
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Sgd::new(0.01).unwrap())
        .epochs(1)
        .batch_size(4)
        .unwrap()
        .verbosity(Verbosity::Silent)
        .diagnostics(quiet())
        .unwrap();
    trainer.fit(&train, None).unwrap();
    let data = trainer.report_data(None).unwrap();
    assert_eq!(data.layers[0].unit_kind, UnitKind::Channel);
    assert_eq!(data.layers[0].probes[0].active_fraction, [0.25, 0.0]);
}

#[test]
fn the_trainer_writes_its_report_for_a_finished_run() {
    let path = scratch("finished.html");
    let mut trainer = Trainer::new(network(1), CrossEntropyLoss::new(), Sgd::new(0.1).unwrap())
        .epochs(2)
        .batch_size(8)
        .unwrap()
        .verbosity(Verbosity::Silent)
        .clip_grad_norm(0.5)
        .unwrap()
        .diagnostics(DiagnosticsConfig {
            dead_fraction_warning: 0.2,
            ..quiet()
        })
        .unwrap()
        .report_title(
            "tiny <run>",
            vec![lazarus_train::report::Setting::new("optimizer", "SGD 0.1")],
        )
        .report(&path)
        .unwrap();
    trainer.fit(&data(40, 4), Some(&data(16, 5))).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    common::assert_self_contained(&html);
    let page = Page::parse(&html);
    for id in SECTIONS {
        assert_eq!(page.find("section", "id", id).len(), 1, "section #{id}");
    }
    assert_eq!(page.find("svg", "data-layer", "relu[1]").len(), 1);
    assert!(html.contains("tiny &lt;run&gt;"), "the title, escaped");
    // Every warning of the history has its row: 2 of 6 units dead is above 0.2, at epoch 0.
    let data = trainer.report_data(None).unwrap();
    let rows = page.find("tr", "class", "warning");
    assert_eq!(rows.len(), data.warnings.len());
    assert!(
        data.warnings
            .iter()
            .any(|w| w.kind == "dead_units" && w.epoch == 0)
    );
    // Every step's norm, and the clipped ones, for both epochs (5 steps each).
    let norms = data.gradient_norms.unwrap();
    assert_eq!((norms.steps(), norms.steps_per_epoch), (10, Some(5)));
    assert!(!norms.clipped.is_empty() && norms.max_norm == Some(0.5));
    assert_eq!(page.find("div", "data-chart", "grad-norm:total").len(), 1);
}

#[test]
fn a_run_stopped_by_a_non_finite_value_still_writes_its_report() {
    let path = scratch("stopped.html");
    // A learning rate that throws the weights to infinity within a few steps.
    let mut trainer = Trainer::new(network(2), CrossEntropyLoss::new(), Sgd::new(1e30).unwrap())
        .epochs(3)
        .batch_size(8)
        .unwrap()
        .verbosity(Verbosity::Silent)
        .report(&path)
        .unwrap();
    let err = trainer.fit(&data(40, 6), None).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err:?}");
    let html = std::fs::read_to_string(&path).unwrap();
    let page = Page::parse(&html);
    let banner = page.find("div", "id", "stopped-early");
    assert_eq!(banner.len(), 1);
    assert!(page.text(banner[0]).contains(&err.to_string()));
    // Epoch 0 is drawn, and the stopped epoch's steps are in the gradient curves.
    let data = trainer.report_data(Some(err.to_string())).unwrap();
    assert_eq!(data.layers[0].probes[0].epoch, 0);
    let steps = data.gradient_norms.map_or(0, |n| n.steps());
    assert!(steps >= 1, "the steps before the failure: {steps}");
    assert_eq!(page.find("svg", "data-layer", "relu[1]").len(), 1);
}

#[test]
fn a_report_path_is_checked_where_it_is_given() {
    let trainer = || Trainer::new(network(0), CrossEntropyLoss::new(), Sgd::new(0.1).unwrap());
    for bad in [
        std::path::PathBuf::new(),
        std::env::temp_dir(),
        std::env::temp_dir()
            .join("no-such-folder-lazarus")
            .join("r.html"),
    ] {
        let Err(err) = trainer().report(&bad) else {
            panic!("{} accepted", bad.display())
        };
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    }
}
