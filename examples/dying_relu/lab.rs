//! The dying-ReLU lab's logic, callable from `main.rs` and from `tests/lab.rs`.
//!
//! Three experiments, each returning its numbers as JSON (the `--json` output), with a function
//! that turns them into the table `main.rs` prints (after writing the JSON, so that a failing
//! stdout cannot lose the results):
//!
//! * [`run_lab`]: the same MLP, from the same seed, trained with ReLU, LeakyReLU, PReLU and ELU
//!   (and any other activation by name) under a gentle setting, a harsh one that kills ReLU
//!   units, the harsh one with BatchNorm before each activation, and optionally an explosive
//!   one with and without gradient clipping. Dead units are measured as everywhere in lazarus:
//!   silent on every sample of a fixed probe set (2,048 training samples) with fixed weights, at
//!   initialization and after each epoch (the trainer's probe pass). With a report path, the
//!   runs go side by side on one HTML page.
//! * [`born_dead`]: how likely a freshly initialized deep, narrow ReLU network is to be dead
//!   before training (Lu, Shin, Su & Karniadakis 2019), by Monte Carlo.
//! * [`init_probe`]: how the signal's scale changes layer by layer under Xavier and He
//!   initialization (He, Zhang, Ren & Sun 2015).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use lazarus::activations::functional::{elu, leaky_relu, relu, selu};
use lazarus::activations::{PRelu, activation_by_name};
use lazarus::core::init::{self, FanMode, Nonlinearity};
use lazarus::core::loss::CrossEntropyLoss;
use lazarus::core::{BatchNorm1d, Layer, Linear, ParamRole, Sequential, Tensor};
use lazarus::optim::{Adam, Optimizer, Sgd};
use lazarus::train::data::{Dataset, SyntheticDigits};
use lazarus::train::diagnostics::{DiagnosticsConfig, EpochDiagnostics, LayerUnits, SilentKind};
use lazarus::train::plot::{Chart, Series, write_svg};
use lazarus::train::report::{Comparison, ReportData, RunGroup, Setting as ReportSetting};
use lazarus::train::{History, Stage, Trainer, Verbosity};
use ndarray::{Array2, Ix2};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

/// Errors of the lab: any library error, or a file that cannot be written.
pub type LabResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The four activations of the article, always in the comparison.
pub const ARTICLE_ACTIVATIONS: [&str; 4] = ["relu", "leaky_relu", "prelu", "elu"];

/// One training regime: an optimizer at a learning rate, an initial bias, clipping or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// `gentle` or `harsh` (with `+clip` when clipped).
    pub name: String,
    /// `sgd` (with momentum) or `adam`.
    pub optimizer: &'static str,
    /// Learning rate.
    pub lr: f32,
    /// SGD momentum (unused by Adam).
    pub momentum: f64,
    /// Total gradient norm clipping threshold, if any.
    pub clip_norm: Option<f32>,
    /// Initial value of every hidden layer's bias (None: PyTorch's default init).
    pub bias_init: Option<f32>,
    /// BatchNorm before each activation.
    pub batch_norm: bool,
}

impl Setting {
    /// What the setting is, in words: `Adam lr 0.02, BatchNorm before each activation`.
    pub fn describe(&self) -> String {
        let mut text = match self.optimizer {
            "adam" => format!("Adam lr {}", self.lr),
            _ => format!("SGD lr {} momentum {}", self.lr, self.momentum),
        };
        if self.batch_norm {
            text += ", BatchNorm before each activation (hidden layers without bias)";
        } else if let Some(b) = self.bias_init {
            text += &format!(", hidden biases start at {b}");
        }
        if let Some(c) = self.clip_norm {
            text += &format!(", total gradient norm clipped at {c}");
        }
        text
    }
}

/// What the comparison trains.
#[derive(Debug, Clone, PartialEq)]
pub struct LabConfig {
    /// Seed of the weights, the shuffling and the data.
    pub seed: u64,
    /// Epochs per run.
    pub epochs: usize,
    /// Synthetic training digits.
    pub train_samples: usize,
    /// Synthetic test digits.
    pub test_samples: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Samples per batch.
    pub batch_size: usize,
    /// Activations by name (the article's four first).
    pub activations: Vec<String>,
    /// The gentle setting's learning rate (SGD with momentum).
    pub gentle_lr: f32,
    /// The harsh setting's learning rate (Adam).
    pub harsh_lr: f32,
    /// With clipping: the learning rate of the explosive SGD setting.
    pub explosive_lr: f32,
    /// The harsh setting's initial hidden bias.
    pub harsh_bias: Option<f32>,
    /// SGD momentum of the gentle setting.
    pub momentum: f64,
    /// Also train an explosive SGD setting, unclipped and clipped at this total gradient norm.
    pub clip_norm: Option<f32>,
    /// Folder for the SVG plots (none: no plots).
    pub out: Option<PathBuf>,
    /// Write every run side by side on one HTML page here (none: no page).
    pub report: Option<PathBuf>,
}

/// The percentage of silent units of each hidden layer, in model order.
fn percentages(units: &[LayerUnits]) -> Vec<f64> {
    units.iter().map(|u| 100.0 * u.fraction).collect()
}

/// An MLP `784 → hidden… → 10` with `activation` after each hidden Linear layer (and, with
/// the setting's `batch_norm`, a BatchNorm1d between them, the hidden Linear layers then
/// without bias, as in PyTorch practice: BatchNorm subtracts the batch mean, so a bias before it
/// changes nothing and gets no gradient; BatchNorm's own shift β takes its place). PReLU gets one slope per unit
/// (`PRelu::new(width, 0.25)`), so that its learned slopes have a distribution. The same `seed`
/// gives the same Linear weights whatever the activation.
fn build_model(config: &LabConfig, activation: &str, setting: &Setting) -> LabResult<Sequential> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut sizes = vec![784];
    sizes.extend(&config.hidden);
    sizes.push(10);
    let mut model = Sequential::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        let hidden = i + 2 < sizes.len();
        let mut linear = Linear::new(pair[0], pair[1], &mut rng)?;
        if hidden && setting.batch_norm {
            linear = linear.without_bias();
        }
        if let Some(b) = setting.bias_init.filter(|_| hidden) {
            linear.visit_params_mut(&mut |name, p| {
                if name == "bias" {
                    p.value.fill(b);
                }
            });
        }
        model.push(Box::new(linear));
        if hidden && setting.batch_norm {
            model.push(Box::new(BatchNorm1d::new(pair[1])?));
        }
        if hidden {
            model.push(if activation == "prelu" {
                Box::new(PRelu::new(pair[1], 0.25)?)
            } else {
                activation_by_name(activation, config.seed)?
            });
        }
    }
    Ok(model)
}

/// PReLU slopes per layer, read through the parameter walk: every parameter with role `Slope`,
/// keyed by its layer's path (`1.weight` → `1`).
fn slopes(model: &Sequential) -> BTreeMap<String, Vec<f32>> {
    let mut out = BTreeMap::new();
    model.visit_params(&mut |path, p| {
        if p.role() == ParamRole::Slope {
            let layer = path.rsplit_once('.').map_or("", |(layer, _)| layer);
            out.insert(layer.to_string(), p.value.iter().copied().collect());
        }
    });
    out
}

/// Train one activation under one setting and measure everything the table shows; also the
/// run as report data, for the side-by-side page.
fn run_one(
    config: &LabConfig,
    data: &(Dataset, Dataset),
    activation: &str,
    setting: &Setting,
) -> LabResult<(Value, ReportData)> {
    let (train, test) = data;
    let model = build_model(config, activation, setting)?;
    let optimizer: Box<dyn Optimizer> = match setting.optimizer {
        "adam" => Box::new(Adam::new(setting.lr)?),
        _ => Box::new(Sgd::new(setting.lr)?.momentum(setting.momentum)?),
    };
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), optimizer)
        .epochs(config.epochs)
        .batch_size(config.batch_size)?
        .seed(config.seed)
        .verbosity(Verbosity::Silent)
        .diagnostics(DiagnosticsConfig {
            warnings: false,
            ..DiagnosticsConfig::default()
        })?
        .report_title(
            activation,
            vec![ReportSetting::new("setting", setting.describe())],
        );
    if let Some(max_norm) = setting.clip_norm {
        trainer = trainer.clip_grad_norm(max_norm)?;
    }
    let (diverged, stopped) = match trainer.fit(train, None) {
        Ok(_) => (None, None),
        Err(err @ lazarus::train::Error::NonFinite { stage, .. }) => {
            let at = match stage {
                Stage::Training { epoch, batch } => (epoch, Some(batch)),
                Stage::Validation { epoch } => (epoch, None),
                Stage::Evaluation => (trainer.epochs_done() + 1, None),
            };
            (Some(at), Some(err.to_string()))
        }
        Err(e) => return Err(e.into()),
    };
    let report = trainer.report_data(stopped)?;
    let history: History = trainer.history().clone();
    // The probe passes: at initialization (in the first epoch's record, or in the stopped
    // epoch's if the run diverged in its first epoch), then after each finished epoch.
    let diagnostics: Vec<&EpochDiagnostics> = history
        .epochs
        .iter()
        .filter_map(|r| r.diagnostics.as_ref())
        .collect();
    let first = diagnostics.first().copied().or(trainer.unfinished_epoch());
    let at_init: Vec<LayerUnits> = first
        .and_then(|d| d.born_dead.as_ref())
        .map_or_else(Vec::new, |b| b.units.clone());
    let at_end = diagnostics.last().map_or(&[][..], |d| &d.units[..]);
    // A diverged run has non-finite weights, which `evaluate` reports as an error: record it
    // as diverged, with no accuracy, and go on with the lab.
    let mut evaluate = |data: &Dataset| match trainer.evaluate(data) {
        Ok(e) => Ok(e.accuracy),
        Err(lazarus::train::Error::NonFinite { .. }) if diverged.is_some() => Ok(None),
        Err(e) => Err(e),
    };
    let train_accuracy = evaluate(train)?;
    let test_accuracy = evaluate(test)?;
    let at_end = if diverged.is_some() { &[][..] } else { at_end };
    let sum = |f: fn(&LayerUnits) -> usize| -> usize {
        diagnostics.iter().flat_map(|d| &d.units).map(f).sum()
    };
    let (died, revived) = (sum(|u| u.newly_silent), sum(|u| u.revived));
    let max_grad = diagnostics
        .iter()
        .map(|d| d.max_total_grad_norm)
        .fold(0.0, f64::max);
    let clipped: Option<usize> = setting
        .clip_norm
        .map(|_| diagnostics.iter().filter_map(|d| d.clipped_steps).sum());
    let kind = at_init.first().map_or(SilentKind::Never, |u| u.kind);
    let prelu: Vec<Value> = slopes(trainer.model())
        .into_iter()
        .map(|(layer, a)| {
            let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len().max(1) as f64;
            let min = a.iter().copied().fold(f32::INFINITY, f32::min);
            let max = a.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            json!({"layer": layer, "mean": mean, "min": min, "max": max, "values": a})
        })
        .collect();
    let epochs: Vec<Value> = history
        .epochs
        .iter()
        .map(|r| {
            let units = r.diagnostics.as_ref().map(|d| percentages(&d.units)).unwrap_or_default();
            json!({"epoch": r.epoch, "train_loss": r.train_loss, "train_accuracy": r.train_accuracy, "silent_pct": units})
        })
        .collect();
    let finite = |v: f64| v.is_finite().then_some(v);
    let row = json!({
        "activation": activation,
        "setting": setting.name,
        "optimizer": setting.optimizer,
        "lr": setting.lr,
        "momentum": setting.momentum,
        "clip_norm": setting.clip_norm,
        "bias_init": setting.bias_init,
        "batch_norm": setting.batch_norm,
        "kind": kind.label(),
        "train_accuracy": train_accuracy.and_then(finite),
        "test_accuracy": test_accuracy.and_then(finite),
        "final_train_loss": history.last().map(|r| r.train_loss).and_then(finite),
        "diverged": diverged.map(|(epoch, batch)| json!({"epoch": epoch, "batch": batch})),
        "silent_at_init_pct": percentages(&at_init),
        "silent_at_end_pct": percentages(at_end),
        "died": died,
        "revived": revived,
        "prelu_slopes": prelu,
        "max_grad_norm": max_grad,
        "clipped_steps": clipped,
        "epochs": epochs,
    });
    Ok((row, report))
}

/// The settings a config asks for: gentle, harsh, harsh with BatchNorm, and with clipping
/// explosive and explosive+clip.
pub fn settings(config: &LabConfig) -> Vec<Setting> {
    let harsh = Setting {
        name: "harsh".into(),
        optimizer: "adam",
        lr: config.harsh_lr,
        momentum: config.momentum,
        clip_norm: None,
        bias_init: config.harsh_bias,
        batch_norm: false,
    };
    let mut out = vec![
        Setting {
            name: "gentle".into(),
            optimizer: "sgd",
            lr: config.gentle_lr,
            bias_init: None,
            ..harsh.clone()
        },
        harsh.clone(),
        // Issue 16: BatchNorm before each activation re-centres the pre-activations on every
        // batch, so the harsh steps cannot push a unit below zero for every input.
        Setting {
            name: "harsh+bn".into(),
            batch_norm: true,
            bias_init: None, // the hidden layers have no bias before BatchNorm
            ..harsh
        },
    ];
    if let Some(c) = config.clip_norm {
        // Exploding gradients: plain SGD with momentum at a learning rate where the leaky
        // variants blow up (NaN), once unclipped and once clipped.
        let explosive = Setting {
            name: "explosive".into(),
            optimizer: "sgd",
            lr: config.explosive_lr,
            momentum: config.momentum,
            clip_norm: None,
            bias_init: None,
            batch_norm: false,
        };
        out.push(Setting {
            name: "explosive+clip".into(),
            clip_norm: Some(c),
            ..explosive.clone()
        });
        out.insert(out.len() - 1, explosive);
    }
    out
}

/// Train every activation under every setting, write the plots and the side-by-side report.
/// Returns `{"config": …, "rows": [one per activation × setting], "seconds": …}`;
/// [`comparison_table`] of the rows is what to print.
///
/// # Errors
/// A library error other than a diverging run (which is recorded in its row), or a plot or
/// report file that cannot be written.
pub fn run_lab(config: &LabConfig) -> LabResult<Value> {
    let start = Instant::now();
    let data = (
        SyntheticDigits::new(config.seed).generate(config.train_samples)?,
        SyntheticDigits::new(config.seed.wrapping_add(1_000_003)).generate(config.test_samples)?,
    );
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    for setting in settings(config) {
        let mut group = RunGroup {
            name: setting.name.clone(),
            description: setting.describe(),
            runs: Vec::new(),
        };
        for activation in &config.activations {
            let (row, report) = run_one(config, &data, activation, &setting)?;
            rows.push(row);
            group.runs.push(report);
        }
        groups.push(group);
    }
    if let Some(path) = &config.report {
        lazarus::train::report::write_comparison(&comparison(config, groups), path)?;
    }
    if let Some(dir) = &config.out {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_lab_plots(dir, &rows)?;
    }
    Ok(json!({
        "config": {
            "seed": config.seed, "epochs": config.epochs, "train_samples": config.train_samples,
            "test_samples": config.test_samples, "hidden": config.hidden, "batch_size": config.batch_size,
            "gentle_lr": config.gentle_lr, "harsh_lr": config.harsh_lr, "harsh_bias": config.harsh_bias,
            "momentum": config.momentum,
            "clip_norm": config.clip_norm,
            "probe_samples": DiagnosticsConfig::default().probe_samples.min(config.train_samples),
        },
        "rows": rows,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

/// The lab's runs on one page: one group per setting, the activations side by side; the
/// harsh settings first, where the article's claim shows.
fn comparison(config: &LabConfig, mut groups: Vec<RunGroup>) -> Comparison {
    groups.sort_by_key(|g| !g.name.starts_with("harsh"));
    let hidden: Vec<String> = config.hidden.iter().map(|h| h.to_string()).collect();
    let probe = DiagnosticsConfig::default()
        .probe_samples
        .min(config.train_samples);
    Comparison {
        title: format!(
            "dying_relu lab: 784-{}-10 MLP, seed {}",
            hidden.join("-"),
            config.seed
        ),
        intro: "The same MLP, from the same seed and data, with ReLU and its variants side by \
                side under each setting. Under the harsh setting ReLU units die (black: silent \
                on every probe input, and no gradient can bring them back), while Leaky ReLU, \
                PReLU and ELU units are at worst inactive (orange: silent, but still learning) \
                and the network keeps its capacity; BatchNorm before each activation keeps \
                ReLU's units alive too."
            .into(),
        settings: vec![
            ReportSetting::new(
                "data",
                format!(
                    "{} synthetic training digits, {} test digits",
                    config.train_samples, config.test_samples
                ),
            ),
            ReportSetting::new("epochs", config.epochs),
            ReportSetting::new("batch size", config.batch_size),
            ReportSetting::new(
                "probe set",
                format!(
                    "{probe} training samples drawn with the seed, probed with fixed weights at initialization and after each epoch"
                ),
            ),
        ],
        groups,
    }
}

fn pct_list(v: &Value) -> String {
    let items: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| format!("{:.0}", x.as_f64().unwrap_or(f64::NAN)))
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        "-".into()
    } else {
        items.join("/")
    }
}

fn acc(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |a| format!("{:.1}", 100.0 * a))
}

/// The side-by-side table of every row.
pub fn comparison_table(rows: &[Value]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<11} {:<8} {:>6} {:>6}  {:<14} {:<14} {:>5} {:>7} {:>10}  note",
        "setting",
        "activation",
        "silent",
        "train%",
        "test%",
        "silent@init %",
        "silent@end %",
        "died",
        "revived",
        "max|grad|",
    );
    for r in rows {
        let note = match &r["diverged"] {
            Value::Null => r["clipped_steps"]
                .as_u64()
                .map_or(String::new(), |c| format!("{c} steps clipped")),
            d => format!("diverged (NaN) in epoch {}", d["epoch"]),
        };
        let _ = writeln!(
            out,
            "{:<14} {:<11} {:<8} {:>6} {:>6}  {:<14} {:<14} {:>5} {:>7} {:>10.3e}  {}",
            r["setting"].as_str().unwrap_or(""),
            r["activation"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            acc(&r["train_accuracy"]),
            acc(&r["test_accuracy"]),
            pct_list(&r["silent_at_init_pct"]),
            pct_list(&r["silent_at_end_pct"]),
            r["died"].as_u64().unwrap_or(0),
            r["revived"].as_u64().unwrap_or(0),
            if r["diverged"].is_null() {
                r["max_grad_norm"].as_f64().unwrap_or(f64::NAN)
            } else {
                f64::NAN
            },
            note
        );
    }
    let prelu: Vec<&Value> = rows
        .iter()
        .filter(|r| {
            r["diverged"].is_null() && !r["prelu_slopes"].as_array().is_none_or(Vec::is_empty)
        })
        .collect();
    if !prelu.is_empty() {
        let _ = writeln!(out, "\nPReLU's learned slopes (init 0.25, one per unit):");
        for r in prelu {
            for s in r["prelu_slopes"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "  {:<14} layer {:<3} mean {:>7.3}  min {:>7.3}  max {:>7.3}",
                    r["setting"].as_str().unwrap_or(""),
                    s["layer"].as_str().unwrap_or(""),
                    s["mean"].as_f64().unwrap_or(f64::NAN),
                    s["min"].as_f64().unwrap_or(f64::NAN),
                    s["max"].as_f64().unwrap_or(f64::NAN)
                );
            }
        }
    }
    out
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// silent_units.svg (mean % silent on the probe set over hidden layers, epoch 0 = at
/// initialization, then after each epoch: one measurement throughout), loss.svg,
/// prelu_slopes.svg (histogram of the learned slopes per setting).
fn write_lab_plots(dir: &Path, rows: &[Value]) -> LabResult<()> {
    let mut setting_names: Vec<String> = Vec::new();
    for r in rows {
        let s = r["setting"].as_str().unwrap_or("").to_string();
        if !setting_names.contains(&s) {
            setting_names.push(s);
        }
    }
    let label = |r: &Value| {
        let diverged = if r["diverged"].is_null() {
            ""
        } else {
            ", diverged"
        };
        format!(
            "{} ({}{diverged})",
            r["activation"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or("")
        )
    };
    let mut silent = Vec::new();
    let mut loss = Vec::new();
    for s in &setting_names {
        let in_setting: Vec<&Value> = rows.iter().filter(|r| r["setting"] == s.as_str()).collect();
        let lr = in_setting
            .first()
            .map_or(0.0, |r| r["lr"].as_f64().unwrap_or(0.0) as f32);
        let opt = in_setting
            .first()
            .and_then(|r| r["optimizer"].as_str())
            .unwrap_or("");
        silent.push(Chart {
            title: format!("{s} ({opt} lr {lr}): % units silent on every probe input"),
            x_label: "epoch (0 = at initialization)".into(),
            y_label: "% dead (ReLU) or inactive (others)".into(),
            series: in_setting
                .iter()
                .map(|r| {
                    let mut points = vec![(0.0, mean(&floats(&r["silent_at_init_pct"])))];
                    for e in r["epochs"].as_array().into_iter().flatten() {
                        points.push((
                            e["epoch"].as_f64().unwrap_or(0.0),
                            mean(&floats(&e["silent_pct"])),
                        ));
                    }
                    Series::new(label(r), points)
                })
                .collect(),
        });
        loss.push(Chart {
            title: format!("{s} ({opt} lr {lr}): training loss"),
            x_label: "epoch".into(),
            y_label: "cross-entropy".into(),
            series: in_setting
                .iter()
                .map(|r| {
                    let points = r["epochs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| {
                            (
                                e["epoch"].as_f64().unwrap_or(0.0),
                                e["train_loss"].as_f64().unwrap_or(f64::NAN),
                            )
                        })
                        .collect();
                    Series::new(label(r), points)
                })
                .collect(),
        });
    }
    let columns = setting_names.len().min(2);
    write_svg(dir.join("silent_units.svg"), &silent, columns)?;
    write_svg(dir.join("loss.svg"), &loss, columns)?;
    // Histogram of PReLU slopes, one step curve per setting, on shared bins.
    let per_setting: Vec<(String, Vec<f64>)> = setting_names
        .iter()
        .map(|s| {
            let values = rows
                .iter()
                .filter(|r| {
                    r["setting"] == s.as_str()
                        && r["activation"] == "prelu"
                        && r["diverged"].is_null()
                })
                .flat_map(|r| r["prelu_slopes"].as_array().cloned().unwrap_or_default())
                .flat_map(|l| floats(&l["values"]))
                .collect();
            (s.clone(), values)
        })
        .filter(|(_, v): &(String, Vec<f64>)| !v.is_empty())
        .collect();
    if !per_setting.is_empty() {
        let all = per_setting.iter().flat_map(|(_, v)| v.iter().copied());
        let (lo, hi) = all.fold((0.25f64, 0.25f64), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = (lo - 0.02, hi + 0.02);
        let bins = 30;
        let width = (hi - lo) / bins as f64;
        let series = per_setting
            .iter()
            .map(|(name, values)| {
                let mut counts = vec![0usize; bins];
                for v in values {
                    counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
                }
                // A step curve: flat across each bin, vertical between bins.
                let mut points = vec![(lo, 0.0)];
                for (b, &c) in counts.iter().enumerate() {
                    let x0 = lo + b as f64 * width;
                    points.push((x0, c as f64));
                    points.push((x0 + width, c as f64));
                }
                points.push((hi, 0.0));
                Series::new(format!("{name} ({} slopes)", values.len()), points)
            })
            .collect();
        let chart = Chart {
            title: "PReLU's learned negative slopes (all started at 0.25)".into(),
            x_label: "slope alpha".into(),
            y_label: "number of units".into(),
            series,
        };
        write_svg(dir.join("prelu_slopes.svg"), &[chart], 1)?;
    }
    Ok(())
}

/// What [`born_dead`] measures.
#[derive(Debug, Clone, PartialEq)]
pub struct BornDeadConfig {
    /// Hidden widths (columns).
    pub widths: Vec<usize>,
    /// Largest depth (number of hidden layers); every depth 1..=max_depth is measured.
    pub max_depth: usize,
    /// Networks per (width, activation).
    pub networks: usize,
    /// Grid points in [-1, 1] for the constant-output test.
    pub grid: usize,
    /// Seed of the first network; network k uses `seed + k`.
    pub seed: u64,
    /// Depths shown in the printed tables (all are in the JSON).
    pub shown_depths: Vec<usize>,
}

/// Activations the born-dead experiment compares, with their functional forms.
/// A scalar activation, as the functional forms are.
type Scalar = fn(f32) -> f32;

const BORN_DEAD_ACTIVATIONS: [(&str, Scalar); 3] = [
    ("relu", relu),
    ("leaky_relu", |x| leaky_relu(x, 0.01)),
    ("elu", |x| elu(x, 1.0)),
];

/// For one network of width `width` and depth `max_depth` (1 input, `width` units per hidden
/// layer, He-normal weights, zero biases): the first hidden layer (1-based) that is entirely
/// zero at the fixed input `x0`, and the first after which the representation is the same for
/// every grid input (then the output is constant). `None`: it never happens up to `max_depth`.
///
/// The depth-d network is this network's first d hidden layers and a fresh output layer, so
/// one deep network answers for every depth: (a) and (b) are monotone in depth (a zero or a
/// constant layer stays so through the layers after it).
fn first_dead_layers(
    width: usize,
    max_depth: usize,
    grid: &[f32],
    f: Scalar,
    rng: &mut StdRng,
) -> LabResult<(Option<usize>, Option<usize>)> {
    // Row 0 is the fixed input, rows 1.. the grid.
    let rows = grid.len() + 1;
    let mut h = Array2::<f32>::zeros((rows, 1));
    h[[0, 0]] = 0.5;
    for (r, &x) in grid.iter().enumerate() {
        h[[r + 1, 0]] = x;
    }
    let (mut zero_at, mut constant_at) = (None, None);
    for depth in 1..=max_depth {
        let fan_in = h.ncols();
        let mut w = Tensor::zeros(vec![width, fan_in]);
        init::kaiming_normal(&mut w, FanMode::FanIn, Nonlinearity::Relu, rng)?;
        let w = w.into_dimensionality::<Ix2>()?;
        // Plain loops: the matrices are tiny.
        let mut next = Array2::<f32>::zeros((rows, width));
        for r in 0..rows {
            for u in 0..width {
                let mut s = 0.0f32;
                for k in 0..fan_in {
                    s += w[[u, k]] * h[[r, k]];
                }
                next[[r, u]] = f(s);
            }
        }
        h = next;
        if zero_at.is_none() && h.row(0).iter().all(|&v| v == 0.0) {
            zero_at = Some(depth);
        }
        if constant_at.is_none() {
            let first = h.row(1).to_owned();
            if h.outer_iter().skip(2).all(|row| row == first) {
                constant_at = Some(depth);
            }
        }
        if zero_at.is_some() && constant_at.is_some() {
            break; // both are monotone: nothing left to learn from deeper layers
        }
    }
    Ok((zero_at, constant_at))
}

/// `Ok` when `1 <= value <= max`, else an error naming the command-line option.
fn check_size(option: &str, value: usize, max: usize) -> LabResult<()> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(format!("{option} must be between 1 and {max}, found {value}").into())
    }
}

/// Monte Carlo estimate of the probability of being born dead, per activation, width and
/// depth, in the two senses of [`first_dead_layers`]. Returns the JSON; [`born_dead_tables`]
/// of it is what to print.
///
/// # Errors
/// A grid, depth or width of 0 or too large for memory; initializer errors.
pub fn born_dead(config: &BornDeadConfig) -> LabResult<Value> {
    // The grid, the depth histograms and each width² weight matrix are held in memory.
    check_size("--grid", config.grid, 100_000)?;
    check_size("--max-depth", config.max_depth, 100_000)?;
    for &width in &config.widths {
        check_size("--widths", width, 10_000)?;
    }
    let start = Instant::now();
    let grid: Vec<f32> = (0..config.grid)
        .map(|i| -1.0 + 2.0 * i as f32 / (config.grid.max(2) - 1) as f32)
        .collect();
    let mut results = serde_json::Map::new();
    for (name, f) in BORN_DEAD_ACTIVATIONS {
        let mut per_width = serde_json::Map::new();
        for &width in &config.widths {
            let (mut zero_hist, mut const_hist) = (
                vec![0usize; config.max_depth + 2],
                vec![0usize; config.max_depth + 2],
            );
            for k in 0..config.networks {
                let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(k as u64));
                let (z, c) = first_dead_layers(width, config.max_depth, &grid, f, &mut rng)?;
                zero_hist[z.unwrap_or(config.max_depth + 1)] += 1;
                const_hist[c.unwrap_or(config.max_depth + 1)] += 1;
            }
            // P(dead at depth d) = P(first dead layer ≤ d): a running sum.
            let cumulative = |hist: &[usize]| -> Vec<f64> {
                let mut acc = 0;
                (1..=config.max_depth)
                    .map(|d| {
                        acc += hist[d];
                        acc as f64 / config.networks.max(1) as f64
                    })
                    .collect()
            };
            per_width.insert(
                width.to_string(),
                json!({"hidden_layer_zero": cumulative(&zero_hist), "constant_output": cumulative(&const_hist)}),
            );
        }
        results.insert(name.to_string(), Value::Object(per_width));
    }
    let seconds = start.elapsed().as_secs_f64();
    let out = json!({
        "config": {"widths": config.widths, "depths": (1..=config.max_depth).collect::<Vec<_>>(),
                   "networks_per_cell": config.networks, "grid_points": config.grid, "fixed_input": 0.5,
                   "seed": config.seed, "init": "He normal (fan_in, gain sqrt 2), zero biases"},
        "probabilities": results,
        "seconds": seconds,
    });
    Ok(out)
}

/// The printed tables of [`born_dead`]: rows depth, columns width, per activation and sense;
/// then what they show and how long it took.
pub fn born_dead_tables(out: &Value, shown_depths: &[usize]) -> String {
    let mut s = String::new();
    let widths: Vec<String> = out["config"]["widths"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| w.to_string())
        .collect();
    let max_depth = out["config"]["depths"].as_array().map_or(0, Vec::len);
    for (key, title) in [
        (
            "hidden_layer_zero",
            "(a) some hidden layer is all zero at the fixed input x = 0.5",
        ),
        (
            "constant_output",
            "(b) the output is constant over the grid in [-1, 1]",
        ),
    ] {
        for (name, _) in BORN_DEAD_ACTIVATIONS {
            let _ = writeln!(s, "\nP(born dead) {title}: {name}");
            let _ = write!(s, "  {:>5}", "depth");
            for w in &widths {
                let _ = write!(s, " {:>7}", format!("w={w}"));
            }
            s.push('\n');
            for &d in shown_depths
                .iter()
                .filter(|&&d| (1..=max_depth).contains(&d))
            {
                let _ = write!(s, "  {d:>5}");
                for w in &widths {
                    let p = out["probabilities"][name][w][key][d - 1]
                        .as_f64()
                        .unwrap_or(f64::NAN);
                    let _ = write!(s, " {p:>7.3}");
                }
                s.push('\n');
            }
        }
    }
    let _ = writeln!(
        s,
        "\nLu, Shin, Su & Karniadakis (2019), \"Dying ReLU and Initialization\": for a fixed width the\n\
         probability that a ReLU network is born dead goes to 1 as depth grows, and wider networks\n\
         die later. LeakyReLU and ELU never output an exact zero layer in exact arithmetic, so they\n\
         cannot be born dead this way; a rare non-zero entry for a deep width-2 LeakyReLU net is f32\n\
         underflow (every negative unit multiplies the signal by 0.01 until it rounds to 0)."
    );
    let _ = write!(
        s,
        "{} networks per cell, {} activations x {} widths, in {:.2}s",
        out["config"]["networks_per_cell"],
        out["probabilities"].as_object().map_or(0, |p| p.len()),
        widths.len(),
        out["seconds"].as_f64().unwrap_or(f64::NAN)
    );
    s
}

/// What [`init_probe`] pushes through the network.
#[derive(Debug, Clone, PartialEq)]
pub struct InitProbeConfig {
    /// Number of Linear + activation layers.
    pub depth: usize,
    /// Width of every layer (and of the input).
    pub width: usize,
    /// Standard-normal samples in the batch.
    pub batch: usize,
    /// Seed of the inputs and weights.
    pub seed: u64,
}

/// The (activation, initialization) pairs the probe compares.
fn probe_cases() -> Vec<(&'static str, Scalar, &'static str)> {
    vec![
        ("relu", relu, "xavier"),
        ("relu", relu, "he"),
        ("leaky_relu", |x| leaky_relu(x, 0.01), "xavier"),
        ("leaky_relu", |x| leaky_relu(x, 0.01), "he"),
        ("elu", |x| elu(x, 1.0), "xavier"),
        ("elu", |x| elu(x, 1.0), "he"),
        ("selu", selu, "xavier"),
        ("selu", selu, "lecun"),
    ]
}

/// Standard deviation of each layer's output for a standard-normal batch through a deep plain
/// network (zero biases), per activation and initialization. Returns the JSON;
/// [`init_probe_table`] of it is what to print.
///
/// # Errors
/// A depth, width or batch of 0 or too large for memory; initializer or shape errors.
pub fn init_probe(config: &InitProbeConfig) -> LabResult<Value> {
    check_size("--depth", config.depth, 100_000)?;
    check_size("--width", config.width, 10_000)?;
    check_size("--batch", config.batch, 10_000)?;
    let start = Instant::now();
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut x = Tensor::zeros(vec![config.batch, config.width]);
    init::normal(&mut x, 0.0, 1.0, &mut rng)?;
    let x = x.into_dimensionality::<Ix2>()?;
    let mut columns = Vec::new();
    for (name, f, scheme) in probe_cases() {
        // The same weights' random stream for every case, so only the scale differs.
        let mut rng = StdRng::seed_from_u64(config.seed.wrapping_add(1));
        let mut h = x.clone();
        let mut stds = Vec::with_capacity(config.depth);
        for _ in 0..config.depth {
            let mut w = Tensor::zeros(vec![config.width, config.width]);
            match (scheme, name) {
                ("xavier", _) => init::xavier_normal(&mut w, 1.0, &mut rng)?,
                ("lecun", _) => init::lecun_normal(&mut w, &mut rng)?,
                (_, "leaky_relu") => init::kaiming_normal(
                    &mut w,
                    FanMode::FanIn,
                    Nonlinearity::LeakyRelu(None),
                    &mut rng,
                )?,
                _ => init::kaiming_normal(&mut w, FanMode::FanIn, Nonlinearity::Relu, &mut rng)?,
            }
            let w = w.into_dimensionality::<Ix2>()?;
            h = h.dot(&w.t()).mapv(f);
            let m = h.iter().map(|&v| f64::from(v)).sum::<f64>() / h.len() as f64;
            let var = h.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / h.len() as f64;
            stds.push(var.sqrt());
        }
        columns.push(json!({"activation": name, "init": scheme, "std": stds}));
    }
    let seconds = start.elapsed().as_secs_f64();
    let out = json!({
        "config": {"depth": config.depth, "width": config.width, "batch": config.batch, "seed": config.seed, "input_std": 1.0},
        "columns": columns,
        "seconds": seconds,
    });
    Ok(out)
}

/// The printed table of [`init_probe`]: rows layer, columns activation/init.
pub fn init_probe_table(out: &Value) -> String {
    let mut s =
        String::from("Std of each layer's output (input: standard normal, std 1; zero biases)\n");
    let columns: Vec<&Value> = out["columns"].as_array().into_iter().flatten().collect();
    let _ = write!(s, "{:>5}", "layer");
    for c in &columns {
        let head = format!(
            "{}/{}",
            c["activation"].as_str().unwrap_or(""),
            c["init"].as_str().unwrap_or("")
        );
        let _ = write!(s, " {head:>17}");
    }
    s.push('\n');
    let depth = out["config"]["depth"].as_u64().unwrap_or(0) as usize;
    for layer in 0..depth {
        let _ = write!(s, "{:>5}", layer + 1);
        for c in &columns {
            let _ = write!(
                s,
                " {:>17.3e}",
                c["std"][layer].as_f64().unwrap_or(f64::NAN)
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "\nWith ReLU, Xavier (variance 1/fan_in for a square layer) halves the variance at every layer,\n\
         so the std shrinks by about sqrt(2) per layer; He (variance 2/fan_in) makes up for the zeroed\n\
         half and keeps it steady. SELU with LeCun init stays at std 1 (self-normalizing; for a square\n\
         layer Xavier's variance 2/(fan_in + fan_out) equals LeCun's 1/fan_in, hence equal columns).\n\
         ELU with He's ReLU gain grows slowly: its negative side is not zero, so sqrt(2) is too much."
    );
    let _ = write!(
        s,
        "({depth} layers x {} cases of a [{}, {}] batch in {:.2}s)",
        columns.len(),
        out["config"]["batch"],
        out["config"]["width"],
        out["seconds"].as_f64().unwrap_or(f64::NAN)
    );
    s
}
