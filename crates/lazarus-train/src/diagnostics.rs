//! Watching units die and gradients explode: dead-unit tracking, born-dead checks, gradient
//! flow, and warnings.
//!
//! * A unit (a feature, or a channel) of an activation layer is **dead** in an epoch when every
//!   one of its inputs in that epoch fell where the activation's derivative is exactly zero
//!   (ReLU: x ≤ 0). No gradient reaches the weights that feed it, so nothing can move it back:
//!   the "dying ReLU" of the article.
//! * For activations whose negative side only leaks (LeakyReLU, PReLU, ELU, ...), the same
//!   condition, every input negative, makes a unit **inactive**, not dead: gradient still flows
//!   (scaled by the slope), and the unit can recover. The contrast is the article's point.
//! * A unit dead in one epoch and alive in a later one is **revived**.
//! * **Gradient flow**: per parameter, the mean and largest L2 norm of its gradient over the
//!   epoch's steps and the update-to-weight ratio ‖Δw‖/‖w‖; a spike (norm far above its running
//!   median) is the exploding-gradient signal, a norm stuck near zero the vanishing one.
//!
//! Everything reads [`Layer::activation_stats`] and the parameter walk, so it works on any model
//! without knowing concrete layer types.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lazarus_core::{ActivationStats, Layer, Mode, Tensor, TensorView, walk_layers};
use serde::{Deserialize, Serialize};

use crate::Result;

/// Thresholds for warnings, and whether to print them.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticsConfig {
    /// Warn when more than this fraction of a layer's units are dead (default 0.5).
    pub dead_fraction_warning: f64,
    /// Warn when a parameter's gradient norm exceeds this multiple of its running median (10).
    pub spike_factor: f64,
    /// Warn when a parameter's gradient norm stays below this for a whole epoch (1e-7).
    pub vanishing_norm: f64,
    /// Print warnings (each kind once per layer or parameter).
    pub warnings: bool,
    /// Print a per-layer table after each epoch.
    pub print_table: bool,
    /// Keep the indices of dead units in the reports.
    pub list_dead_units: bool,
}

impl Default for DiagnosticsConfig {
    fn default() -> Self {
        Self {
            dead_fraction_warning: 0.5,
            spike_factor: 10.0,
            vanishing_norm: 1e-7,
            warnings: true,
            print_table: false,
            list_dead_units: false,
        }
    }
}

/// Whether a layer's silent units are dead (zero gradient) or only inactive (leaky).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Silence {
    /// The derivative is exactly zero there (ReLU, ReLU6, Hardtanh, ...).
    Dead,
    /// The negative side leaks (LeakyReLU, PReLU, ELU, ...): silent but still learning.
    Inactive,
}

/// One activation layer's units over one pass through a data set (an epoch, or one batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerUnits {
    /// The layer's path in the model (`"1"`, `"2.0"`).
    pub path: String,
    /// The layer's name (`relu`, `leaky_relu`).
    pub layer: String,
    /// Dead (zero gradient) or inactive (leaky).
    pub kind: Silence,
    /// Number of units.
    pub units: usize,
    /// Units silent for every sample of the pass.
    pub silent: usize,
    /// `silent / units`.
    pub fraction: f64,
    /// Their indices, when asked for ([`DiagnosticsConfig::list_dead_units`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silent_units: Vec<usize>,
    /// Units silent in an earlier epoch and alive in this one.
    pub revived: usize,
    /// Units alive in an earlier epoch and silent in this one.
    pub newly_silent: usize,
    /// Largest |output| seen (the unbounded growth the article warns about).
    pub output_max_abs: f32,
    /// Mean output over the pass.
    pub output_mean: f32,
    /// Standard deviation of the outputs (pooled over the batches of the pass).
    pub output_std: f32,
}

/// The gradient of one parameter over one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradFlow {
    /// The parameter's path (`0.weight`).
    pub param: String,
    /// Mean of ‖∇‖₂ over the epoch's steps.
    pub mean_norm: f64,
    /// Largest ‖∇‖₂ over the epoch's steps.
    pub max_norm: f64,
    /// Mean of ‖Δw‖₂/‖w‖₂ over the steps: how fast the optimizer moves the parameter
    /// (around 1e-3 is healthy for SGD; much larger is unstable, much smaller barely learns).
    pub update_ratio: f64,
}

/// Everything the diagnostics measured in one epoch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochDiagnostics {
    /// Per activation layer, over the epoch's training batches.
    pub train_units: Vec<LayerUnits>,
    /// Per activation layer, over the validation set (evaluation mode), if one was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_units: Vec<LayerUnits>,
    /// Per parameter.
    pub gradients: Vec<GradFlow>,
    /// The largest total gradient norm (all parameters together) of the epoch.
    pub max_total_grad_norm: f64,
    /// Warnings raised during the epoch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl EpochDiagnostics {
    /// A table: layer, kind, silent %, output max; then per parameter, mean/max gradient norm
    /// and update ratio.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {:<14} {:<9} {:>8} {:>8} {:>11}",
            "layer", "silent", "train %", "val %", "output max"
        );
        for u in &self.train_units {
            let val = self
                .validation_units
                .iter()
                .find(|v| v.path == u.path)
                .map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v.fraction));
            let kind = match u.kind {
                Silence::Dead => "dead",
                Silence::Inactive => "inactive",
            };
            let _ = writeln!(
                out,
                "  {:<14} {:<9} {:>8.1} {:>8} {:>11.3e}",
                format!("{}[{}]", u.layer, u.path),
                kind,
                100.0 * u.fraction,
                val,
                u.output_max_abs
            );
        }
        let _ = writeln!(
            out,
            "  {:<14} {:>12} {:>12} {:>12}",
            "parameter", "mean |grad|", "max |grad|", "update ratio"
        );
        for g in &self.gradients {
            let _ = writeln!(
                out,
                "  {:<14} {:>12.3e} {:>12.3e} {:>12.3e}",
                g.param, g.mean_norm, g.max_norm, g.update_ratio
            );
        }
        out
    }
}

/// Per-unit "silent for every sample so far" flags of one activation layer over one pass.
#[derive(Debug, Clone)]
struct UnitPass {
    layer: String,
    kind: Silence,
    always_silent: Vec<bool>,
    max_abs: f32,
    sum: f64,
    sum_sq: f64,
    count: f64,
}

impl UnitPass {
    fn new(layer: &str, kind: Silence, units: usize) -> Self {
        Self {
            layer: layer.to_string(),
            kind,
            always_silent: vec![true; units],
            max_abs: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            count: 0.0,
        }
    }

    fn observe(&mut self, stats: &ActivationStats, counts: &[usize]) {
        if counts.len() != self.always_silent.len() {
            // The layer's width changed (a different input shape): start over.
            self.always_silent = vec![true; counts.len()];
        }
        for (flag, &c) in self.always_silent.iter_mut().zip(counts) {
            *flag &= c == stats.samples_per_unit;
        }
        let n = (stats.units * stats.samples_per_unit) as f64;
        let (mean, std) = (f64::from(stats.output_mean), f64::from(stats.output_std));
        self.sum += mean * n;
        self.sum_sq += (std * std + mean * mean) * n;
        self.count += n;
        self.max_abs = self.max_abs.max(stats.output_max_abs);
    }
}

/// The statistics of one activation layer of a model, with where it sits.
struct Observed {
    path: String,
    name: String,
    kind: Silence,
    stats: ActivationStats,
}

impl Observed {
    /// Per-unit counts of inputs in the silent region (dead or leaky, by `kind`).
    fn counts(&self) -> &[usize] {
        let counts = match self.kind {
            Silence::Dead => &self.stats.zero_grad_counts,
            Silence::Inactive => &self.stats.negative_counts,
        };
        counts.as_deref().unwrap_or_default()
    }
}

/// Every activation layer of `model` that reports statistics with a silent region.
fn activations(model: &dyn Layer) -> Vec<Observed> {
    let mut found = Vec::new();
    walk_layers(model, &mut |path, layer| {
        if let Some(stats) = layer.activation_stats() {
            let kind = if stats.zero_grad_counts.is_some() {
                Silence::Dead
            } else if stats.negative_counts.is_some() {
                Silence::Inactive
            } else {
                return;
            };
            found.push(Observed {
                path: path.to_string(),
                name: layer.name().to_string(),
                kind,
                stats,
            });
        }
    });
    found
}

/// Accumulates silent units over the batches of one pass (an epoch, or a validation run).
#[derive(Debug, Clone, Default)]
pub struct UnitTracker {
    layers: BTreeMap<String, UnitPass>,
}

impl UnitTracker {
    /// Record the activation statistics of the model's last forward pass (call after each
    /// batch's forward).
    pub fn observe(&mut self, model: &dyn Layer) {
        for o in activations(model) {
            let counts = o.counts();
            self.layers
                .entry(o.path.clone())
                .or_insert_with(|| UnitPass::new(&o.name, o.kind, counts.len()))
                .observe(&o.stats, counts);
        }
    }

    /// The per-layer report of the pass. `previous` holds each layer's silent flags from the
    /// last epoch (for revived/newly silent counts) and is updated.
    fn report(
        &self,
        previous: Option<&mut BTreeMap<String, Vec<bool>>>,
        list_units: bool,
    ) -> Vec<LayerUnits> {
        let mut previous = previous;
        self.layers
            .iter()
            .map(|(path, pass)| {
                let silent_units: Vec<usize> = pass
                    .always_silent
                    .iter()
                    .enumerate()
                    .filter(|&(_, &s)| s)
                    .map(|(i, _)| i)
                    .collect();
                let (mut revived, mut newly_silent) = (0, 0);
                if let Some(prev_map) = previous.as_deref_mut() {
                    if let Some(prev) = prev_map
                        .get(path)
                        .filter(|p| p.len() == pass.always_silent.len())
                    {
                        for (&was, &is) in prev.iter().zip(&pass.always_silent) {
                            revived += usize::from(was && !is);
                            newly_silent += usize::from(!was && is);
                        }
                    }
                    prev_map.insert(path.clone(), pass.always_silent.clone());
                }
                let units = pass.always_silent.len();
                let mean = pass.sum / pass.count.max(1.0);
                let var = (pass.sum_sq / pass.count.max(1.0) - mean * mean).max(0.0);
                LayerUnits {
                    path: path.clone(),
                    layer: pass.layer.clone(),
                    kind: pass.kind,
                    units,
                    silent: silent_units.len(),
                    fraction: silent_units.len() as f64 / units.max(1) as f64,
                    silent_units: if list_units { silent_units } else { Vec::new() },
                    revived,
                    newly_silent,
                    output_max_abs: pass.max_abs,
                    output_mean: mean as f32,
                    output_std: var.sqrt() as f32,
                }
            })
            .collect()
    }

    /// The per-layer report of this pass, without revival counts.
    pub fn units(&self, list_units: bool) -> Vec<LayerUnits> {
        self.report(None, list_units)
    }
}

/// Silent units of `model` on one batch `inputs`, before any training: which units are dead at
/// initialization, and whether the network is **born dead**: its output does not depend on the
/// input (every row of the output equal), so no gradient reaches the first layer (Lu et al.
/// 2019, "Dying ReLU and Initialization").
///
/// Runs one forward pass in training mode (so dropout, if any, samples a mask); parameters and
/// gradients are unchanged.
///
/// # Errors
/// Any layer error (a shape mismatch).
pub fn born_dead_check(model: &mut dyn Layer, inputs: TensorView<'_>) -> Result<BornDead> {
    let outputs = model.forward(inputs, Mode::Train)?.to_owned();
    let mut tracker = UnitTracker::default();
    tracker.observe(model);
    Ok(BornDead {
        units: tracker.units(true),
        constant_output: output_is_constant(outputs.view()),
    })
}

/// Whether every sample's output row equals the first row (to 1e-6 relative), the symptom of a
/// network whose every path from input to output goes through a dead unit.
pub fn output_is_constant(outputs: TensorView<'_>) -> bool {
    let Some(first) = outputs.outer_iter().next() else {
        return true;
    };
    outputs.outer_iter().all(|row| {
        row.iter()
            .zip(first.iter())
            .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-30))
    })
}

/// The result of [`born_dead_check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BornDead {
    /// Silent units per activation layer, on that one batch.
    pub units: Vec<LayerUnits>,
    /// Whether the output is the same for every input of the batch.
    pub constant_output: bool,
}

/// Per-parameter gradient statistics over one epoch.
#[derive(Debug, Clone, Default)]
struct GradAccumulator {
    sum_norm: f64,
    max_norm: f64,
    sum_ratio: f64,
    steps: usize,
    history: Vec<f64>,
}

/// The diagnostics of a training run: call [`before_step`](Diagnostics::before_step) after
/// backward (with gradients ready), [`after_step`](Diagnostics::after_step) after the optimizer
/// step, [`end_epoch`](Diagnostics::end_epoch) at the end of each epoch.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    config: DiagnosticsConfig,
    train: UnitTracker,
    previous_silent: BTreeMap<String, Vec<bool>>,
    grads: Vec<(String, GradAccumulator)>,
    /// Parameter values before the step, to measure ‖Δw‖; reused between steps.
    before: Vec<Tensor>,
    max_total_norm: f64,
    warned: std::collections::BTreeSet<String>,
    pending_warnings: Vec<String>,
}

/// Running medians are taken over this many recent steps.
const MEDIAN_WINDOW: usize = 50;

impl Diagnostics {
    /// Diagnostics with the given thresholds.
    pub fn new(config: DiagnosticsConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DiagnosticsConfig {
        &self.config
    }

    /// After a training forward pass: record its activation statistics.
    pub fn after_forward(&mut self, model: &dyn Layer) {
        self.train.observe(model);
    }

    /// After backward, before the optimizer step: record gradient norms, and keep the
    /// parameter values to measure the update.
    pub fn before_step(&mut self, model: &dyn Layer) {
        let mut index = 0;
        let mut total = 0.0f64;
        let (grads, before) = (&mut self.grads, &mut self.before);
        model.visit_params(&mut |path, p| {
            if grads.len() <= index {
                grads.push((path.to_string(), GradAccumulator::default()));
            }
            let norm_sq: f64 = p.grad.iter().map(|&g| f64::from(g) * f64::from(g)).sum();
            total += norm_sq;
            let acc = &mut grads[index].1;
            let norm = norm_sq.sqrt();
            acc.sum_norm += norm;
            acc.max_norm = acc.max_norm.max(norm);
            acc.steps += 1;
            acc.history.push(norm);
            if before.len() <= index {
                before.push(p.value.clone());
            } else {
                before[index].assign(&p.value);
            }
            index += 1;
        });
        self.max_total_norm = self.max_total_norm.max(total.sqrt());
        self.check_spikes();
    }

    /// After the optimizer step: record ‖Δw‖/‖w‖ per parameter.
    pub fn after_step(&mut self, model: &dyn Layer) {
        let mut index = 0;
        let (grads, before) = (&mut self.grads, &self.before);
        model.visit_params(&mut |_, p| {
            if let (Some((_, acc)), Some(old)) = (grads.get_mut(index), before.get(index)) {
                let (mut delta, mut weight) = (0.0f64, 0.0f64);
                for (&new, &old) in p.value.iter().zip(old.iter()) {
                    delta += f64::from(new - old).powi(2);
                    weight += f64::from(new).powi(2);
                }
                acc.sum_ratio += delta.sqrt() / weight.sqrt().max(1e-12);
            }
            index += 1;
        });
    }

    fn warn(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            if self.config.warnings {
                eprintln!("warning: {message}");
            }
            self.pending_warnings.push(message);
        }
    }

    fn check_spikes(&mut self) {
        let factor = self.config.spike_factor;
        let mut spikes = Vec::new();
        for (path, acc) in &self.grads {
            let n = acc.history.len();
            if n < 10 {
                continue;
            }
            let window = &acc.history[n.saturating_sub(MEDIAN_WINDOW + 1)..n - 1];
            let mut sorted = window.to_vec();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            let last = acc.history[n - 1];
            if median > 0.0 && last > factor * median {
                spikes.push((path.clone(), last, median));
            }
        }
        for (path, last, median) in spikes {
            self.warn(
                format!("spike:{path}"),
                format!(
                    "{path}: gradient norm {last:.3e} is {:.0}x its running median {median:.3e} (exploding gradients? try clipping or a lower learning rate)",
                    last / median
                ),
            );
        }
    }

    /// Close the epoch: per-layer silent units (and revivals), per-parameter gradient flow,
    /// warnings. `validation` holds the silent units measured on the validation set, if any.
    pub fn end_epoch(&mut self, validation: Vec<LayerUnits>) -> EpochDiagnostics {
        let train_units = self
            .train
            .report(Some(&mut self.previous_silent), self.config.list_dead_units);
        self.train = UnitTracker::default();
        for u in &train_units {
            if u.kind == Silence::Dead && u.fraction > self.config.dead_fraction_warning {
                self.warn(
                    format!("dead:{}", u.path),
                    format!(
                        "{}[{}]: {:.0}% of its {} units are dead (no input made them fire this epoch); try LeakyReLU/PReLU/ELU, a lower learning rate or He initialization",
                        u.layer,
                        u.path,
                        100.0 * u.fraction,
                        u.units
                    ),
                );
            }
        }
        let gradients: Vec<GradFlow> = self
            .grads
            .iter()
            .map(|(path, acc)| GradFlow {
                param: path.clone(),
                mean_norm: acc.sum_norm / acc.steps.max(1) as f64,
                max_norm: acc.max_norm,
                update_ratio: acc.sum_ratio / acc.steps.max(1) as f64,
            })
            .collect();
        for g in &gradients {
            if g.max_norm < self.config.vanishing_norm {
                self.warn(
                    format!("vanishing:{}", g.param),
                    format!(
                        "{}: gradient norm stayed below {:e} all epoch (vanishing gradient, or a layer behind dead units)",
                        g.param, self.config.vanishing_norm
                    ),
                );
            }
        }
        for (_, acc) in &mut self.grads {
            let keep = acc.history.len().saturating_sub(MEDIAN_WINDOW);
            acc.history.drain(..keep);
            *acc = GradAccumulator {
                history: std::mem::take(&mut acc.history),
                ..GradAccumulator::default()
            };
        }
        let report = EpochDiagnostics {
            train_units,
            validation_units: validation,
            gradients,
            max_total_grad_norm: self.max_total_norm,
            warnings: std::mem::take(&mut self.pending_warnings),
        };
        self.max_total_norm = 0.0;
        if self.config.print_table {
            println!("{}", report.table());
        }
        report
    }
}

/// Plot, for each activation layer, the fraction of its units that were dead (or inactive, for
/// leaky activations) in each epoch of `history`, into an SVG file.
///
/// # Errors
/// [`Error::Plot`](crate::Error::Plot) naming the file.
pub fn plot_silent_fractions(
    history: &crate::History,
    path: impl AsRef<std::path::Path>,
) -> Result<()> {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for record in &history.epochs {
        for u in record.diagnostics.iter().flat_map(|d| &d.train_units) {
            let kind = match u.kind {
                Silence::Dead => "dead",
                Silence::Inactive => "inactive",
            };
            series
                .entry(format!("{}[{}] {kind}", u.layer, u.path))
                .or_default()
                .push((record.epoch as f64, 100.0 * u.fraction));
        }
    }
    let chart = crate::plot::Chart {
        title: "Silent units per layer".into(),
        x_label: "epoch".into(),
        y_label: "% of units silent for every sample".into(),
        series: series
            .into_iter()
            .map(|(name, points)| crate::plot::Series::new(name, points))
            .collect(),
    };
    crate::plot::write_svg(path, &[chart], 1)
}
