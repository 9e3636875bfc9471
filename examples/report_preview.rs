//! What a training report looks like, from made-up numbers: writes one HTML page.
//!
//! ```sh
//! cargo run --release --example report_preview -- /tmp/report.html
//! ```
//!
//! Open the file in a browser (no network needed). You will see the page that
//! `lazarus_train::report` draws for a run of the dying-ReLU lab's shape: four activation
//! layers of 64 units (ReLU loses units early and never gets them back, Leaky ReLU and ELU
//! units go quiet but stay inactive, PReLU's slopes spread), a convolution's 16 channels,
//! 20 epochs of curves, 4,000 steps of gradient norms with clipping, and two warnings. The
//! numbers are invented (a seeded random walk); only the page is real.

use lazarus_activations::{Elu, LeakyRelu, PRelu, Relu};
use lazarus_core::{Linear, Sequential};
use lazarus_train::report::{
    EpochCurves, EpochValue, GradientNorms, LayerActivity, ParamNorms, ReportData, ReportWarning,
    Setting, SlopeHistory, SlopeValues, UnitKind, UnitState, UpdateRatios, write_report,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

const EPOCHS: usize = 20;
const STEPS_PER_EPOCH: usize = 200;

/// A layer whose units each go silent (for good) at a random epoch with probability
/// `dies`, as `silent` (dead for ReLU, inactive for the leaky ones).
fn layer(
    path: &str,
    name: &str,
    kind: UnitKind,
    units: usize,
    dies: f64,
    silent: UnitState,
    rng: &mut StdRng,
) -> LayerActivity {
    let mut layer = LayerActivity::new(path, name, kind, units);
    let fate: Vec<(usize, f32)> = (0..units)
        .map(|u| {
            let dies_at = if u == 0 {
                0
            } else if rng.random_bool(dies) {
                rng.random_range(1..=EPOCHS)
            } else {
                usize::MAX
            };
            (dies_at, rng.random_range(0.05..0.95))
        })
        .collect();
    for epoch in 0..=EPOCHS {
        let drift = |base: f32, rng: &mut StdRng| {
            (base + rng.random_range(-0.05..0.05) - 0.01 * epoch as f32).clamp(0.002, 1.0)
        };
        let (fractions, states) = fate
            .iter()
            .map(|&(dies_at, base)| {
                if epoch >= dies_at {
                    (0.0, silent)
                } else {
                    (drift(base, rng), UnitState::Active)
                }
            })
            .unzip();
        layer
            .push_probe(epoch, fractions, states)
            .expect("one value per unit");
    }
    layer
}

/// The real summary table of the lab's MLP (only its training is made up).
fn model_summary() -> lazarus_train::Result<String> {
    let rng = &mut StdRng::seed_from_u64(0);
    let model = Sequential::new()
        .add(Linear::new(784, 64, rng)?)
        .add(Relu::new())
        .add(Linear::new(64, 64, rng)?)
        .add(LeakyRelu::new(0.01)?)
        .add(Linear::new(64, 64, rng)?)
        .add(PRelu::new(64, 0.25)?)
        .add(Linear::new(64, 64, rng)?)
        .add(Elu::new(1.0)?)
        .add(Linear::new(64, 10, rng)?);
    Ok(model.summary(&[1, 784])?)
}

fn main() -> lazarus_train::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "report.html".into());
    let mut rng = StdRng::seed_from_u64(17);
    let mut data = ReportData::new(
        "dying_relu lab: 784-64-64-64-64-10, SGD lr 0.5 (preview, made-up numbers)",
    );
    data.model_summary = model_summary()?;
    data.settings = vec![
        Setting::new("optimizer", "SGD lr=0.5 momentum=0.9"),
        Setting::new("batch size", 64),
        Setting::new("epochs", EPOCHS),
        Setting::new("probe set", "2,048 training samples, seed 0"),
        Setting::new("gradient clipping", "max_norm = 5"),
    ];
    data.epochs = (1..=EPOCHS)
        .map(|e| {
            let t = e as f64;
            EpochCurves {
                epoch: e,
                train_loss: 2.3 / t.sqrt() + 0.05,
                train_accuracy: Some(1.0 - 0.9 / t.sqrt()),
                val_loss: Some(2.4 / t.sqrt() + 0.08),
                val_accuracy: Some(0.97 - 0.9 / t.sqrt()),
                lr: if e <= 10 { 0.5 } else { 0.05 },
            }
        })
        .collect();
    data.layers = vec![
        layer(
            "1",
            "relu",
            UnitKind::Feature,
            64,
            0.45,
            UnitState::Dead,
            &mut rng,
        ),
        layer(
            "3",
            "leaky_relu",
            UnitKind::Feature,
            64,
            0.2,
            UnitState::Inactive,
            &mut rng,
        ),
        layer(
            "5",
            "prelu",
            UnitKind::Feature,
            64,
            0.05,
            UnitState::Inactive,
            &mut rng,
        ),
        layer(
            "7",
            "elu",
            UnitKind::Feature,
            64,
            0.15,
            UnitState::Inactive,
            &mut rng,
        ),
        layer(
            "conv.1",
            "relu",
            UnitKind::Channel,
            16,
            0.2,
            UnitState::Dead,
            &mut rng,
        ),
    ];
    let mut slopes = vec![0.25f32; 64];
    data.slopes = vec![SlopeHistory {
        param: "5.weight".into(),
        layer: "prelu[5]".into(),
        epochs: (0..=EPOCHS)
            .map(|epoch| {
                if epoch > 0 {
                    slopes
                        .iter_mut()
                        .for_each(|s| *s += rng.random_range(-0.04..0.05));
                }
                SlopeValues {
                    epoch,
                    values: slopes.clone(),
                }
            })
            .collect(),
    }];
    let params = [
        "0.weight", "0.bias", "2.weight", "4.weight", "5.weight", "6.weight", "8.weight",
    ];
    let steps = EPOCHS * STEPS_PER_EPOCH;
    let norms: Vec<Vec<f64>> = params
        .iter()
        .map(|_| {
            (0..steps)
                .map(|s| {
                    (2.0 / (1.0 + s as f64 / 400.0))
                        * rng.random_range(0.5..1.5)
                        * if rng.random_bool(0.003) { 8.0 } else { 1.0 }
                })
                .collect()
        })
        .collect();
    let total: Vec<f64> = (0..steps)
        .map(|s| norms.iter().map(|n| n[s] * n[s]).sum::<f64>().sqrt())
        .collect();
    data.gradient_norms = Some(GradientNorms {
        params: params
            .iter()
            .zip(&norms)
            .map(|(p, n)| ParamNorms {
                param: p.to_string(),
                norms: n.clone(),
            })
            .collect(),
        clipped: (0..steps).filter(|&s| total[s] > 5.0).collect(),
        total,
        max_norm: Some(5.0),
        steps_per_epoch: Some(STEPS_PER_EPOCH),
    });
    // Update ratios shrink like 1/epoch, with noise.
    for param in params {
        let mut ratio = |epoch| 3e-3 / epoch as f64 * rng.random_range(0.7..1.3);
        let epochs = (1..=EPOCHS).map(|epoch| EpochValue {
            epoch,
            value: ratio(epoch),
        });
        let epochs = epochs.collect();
        data.update_ratios.push(UpdateRatios {
            param: param.into(),
            epochs,
        });
    }
    data.warnings = vec![
        ReportWarning::new(
            "born_dead",
            0,
            "relu[1]: 1 of 64 units (1.6 %) silent on every probe input at initialization",
        )
        .about("relu[1]", Some(1.0 / 64.0)),
        ReportWarning::new(
            "dead_units",
            9,
            "relu[1]: 52 % of units dead (threshold 50 %)",
        )
        .about("relu[1]", Some(0.52)),
    ];
    write_report(&data, &path)?;
    println!("wrote {path}");
    Ok(())
}
