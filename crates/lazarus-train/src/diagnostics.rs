//! Watching units die and gradients explode: dead-unit tracking, born-dead checks, gradient
//! flow, and warnings.
//!
//! * A unit (a feature, or a channel) of an activation layer is **silent** in an epoch when
//!   every one of its inputs in that epoch fell in the activation's silent region (ReLU family:
//!   x ≤ 0). Dead or inactive is then decided by the gradient, not by the activation's type
//!   ([`SilentKind`]; written once, on [`ActivationStats`](lazarus_core::ActivationStats)):
//! * **dead** when no gradient reaches anything that could revive it: its derivative with respect
//!   to its input is exactly zero on every silent input, and the layer has no own parameter that
//!   still learns from them. ReLU, ReLU6, Hardtanh, and `LeakyRelu::new(0.0)` (a ReLU). Nothing
//!   reaches the weights that feed it, so nothing can move it back: the "dying ReLU" of the
//!   article.
//! * **inactive** otherwise: gradient still flows and the unit can recover. LeakyReLU with a
//!   slope ≠ 0, ELU, SELU, RReLU (the leak), and PReLU even for a channel whose slope is exactly
//!   0: its slope still receives dL/dα = Σ x·g and can move away from 0, which is PReLU's whole
//!   point. The contrast is the article's point.
//! * A unit silent in one epoch and alive in the next is **revived**; alive, then silent, it
//!   **newly died**.
//! * **Born dead**: on the first training batch, before any update, the units already dead and
//!   whether the network's output is the same for every input (no gradient reaches the first
//!   layer; Lu et al. 2019).
//! * **Gradient flow**: per parameter, the mean and largest L2 norm of its gradient over the
//!   epoch's steps and the update-to-weight ratio ‖Δw‖/‖w‖; the total norm over all parameters,
//!   measured *before* clipping. A spike (a norm far above its running median) is the
//!   exploding-gradient signal, a norm stuck near zero the vanishing one.
//! * **Warnings**, each printed once per layer or parameter: more than half of a layer's units
//!   dead, a gradient spike, a vanishing gradient, a born-dead network.
//!
//! Everything reads [`Layer::activation_stats`] and the parameter walk, so it works on any model
//! without knowing concrete layer types. With a [`Trainer`](crate::Trainer), turn it on with
//! [`Trainer::diagnostics`](crate::Trainer::diagnostics); every epoch's [`EpochDiagnostics`]
//! lands in [`EpochRecord::diagnostics`](crate::EpochRecord::diagnostics), so the history's JSON
//! carries it ([`diagnostics_csv`] flattens it to CSV). On your own loop, call the
//! [`Diagnostics`] methods in the order its docs give.

mod report;
mod units;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::sync::Arc;

use lazarus_core::{Layer, Tensor, TensorView, reuse_buffer, sum_squared_difference, sum_squares};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use report::{diagnostics_csv, plot_silent_fractions};
pub use units::{
    BornDead, LayerUnits, SilentKind, UnitTracker, born_dead_check, output_is_constant,
};

/// Thresholds for warnings, whether to print them, and what to print or keep.
///
/// Turn one warning off with `dead_fraction_warning: 1.0`, `spike_factor: f64::INFINITY` or
/// `vanishing_norm: 0.0`; `warnings: false` silences all of them (they are still recorded in
/// [`EpochDiagnostics::warnings`]). [`Diagnostics::new`] (and so
/// [`Trainer::diagnostics`](crate::Trainer::diagnostics)) checks the settings: a
/// `dead_fraction_warning` in [0, 1], a `spike_factor` of at least 1 (infinity allowed), a
/// finite `vanishing_norm` ≥ 0, an `update_ratio_every` of at least 1; NaN is never accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticsConfig {
    /// Warn when more than this fraction of a layer's units are dead for a whole epoch (0.5).
    pub dead_fraction_warning: f64,
    /// Warn when a parameter's gradient norm exceeds this multiple of its running median over
    /// the last 50 steps (10).
    pub spike_factor: f64,
    /// Warn when a parameter's gradient norm stays below this for a whole epoch (1e-7).
    pub vanishing_norm: f64,
    /// Print warnings to stderr (each kind once per layer or parameter). When stderr fails,
    /// later warnings are only recorded and [`Diagnostics::end_epoch`] reports the failure.
    pub warnings: bool,
    /// Print the per-layer table ([`EpochDiagnostics::table`]) after each epoch.
    pub print_table: bool,
    /// Keep the indices of silent units in the reports ([`LayerUnits::silent_units`]).
    pub list_dead_units: bool,
    /// Measure the update-to-weight ratio on every n-th step of an epoch (the first, the
    /// (n+1)-th, ...) and average over those (10). Measuring needs a copy of every parameter
    /// before the step and two more passes after it, which at batch 32 would cost as much as
    /// a third of the training step; a sample of the steps gives the same picture. 1 measures
    /// every step. Gradient norms are always taken at every step.
    pub update_ratio_every: usize,
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
            update_ratio_every: 10,
        }
    }
}

impl DiagnosticsConfig {
    /// Every setting in its range (see the type's docs).
    fn check(&self) -> Result<()> {
        let check = |ok, parameter, expected, value: f64| {
            Error::check_setting(ok, "diagnostics", parameter, expected, value)
        };
        let dead = self.dead_fraction_warning;
        check(
            (0.0..=1.0).contains(&dead),
            "dead_fraction_warning",
            "in [0, 1]",
            dead,
        )?;
        // A norm below its running median is no spike; NaN fails `>=`.
        let spike = self.spike_factor;
        check(spike >= 1.0, "spike_factor", "at least 1", spike)?;
        let vanishing = self.vanishing_norm;
        let ok = vanishing >= 0.0 && vanishing.is_finite();
        check(ok, "vanishing_norm", "finite and >= 0", vanishing)?;
        let every = self.update_ratio_every;
        check(every >= 1, "update_ratio_every", "at least 1", every as f64)
    }
}

/// The gradient of one parameter over one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradFlow {
    /// The parameter's path (`0.weight`, `1.weight`).
    pub param: String,
    /// Mean of ‖∇‖₂ over the epoch's steps (before clipping).
    #[serde(with = "crate::history::json_float")]
    pub mean_norm: f64,
    /// Largest ‖∇‖₂ over the epoch's steps (before clipping).
    #[serde(with = "crate::history::json_float")]
    pub max_norm: f64,
    /// Mean of ‖Δw‖₂/‖w‖₂ over the measured steps (every
    /// [`update_ratio_every`](DiagnosticsConfig::update_ratio_every)-th), Δw the optimizer's
    /// change and w the value after it:
    /// how fast the parameter moves (around 1e-3 is healthy for SGD; much larger is unstable,
    /// much smaller barely learns).
    #[serde(with = "crate::history::json_float")]
    pub update_ratio: f64,
}

/// Everything the diagnostics measured in one epoch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochDiagnostics {
    /// Per activation layer, in model order, over the epoch's training batches.
    pub train_units: Vec<LayerUnits>,
    /// Per activation layer, over the validation set (evaluation mode), if one was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_units: Vec<LayerUnits>,
    /// Per parameter, in model order.
    pub gradients: Vec<GradFlow>,
    /// The largest total gradient norm (all parameters together, before clipping) of the epoch.
    #[serde(with = "crate::history::json_float")]
    pub max_total_grad_norm: f64,
    /// The mean total gradient norm (before clipping) over the epoch's steps.
    #[serde(default, with = "crate::history::json_float")]
    pub mean_total_grad_norm: f64,
    /// Optimizer steps in the epoch.
    #[serde(default)]
    pub steps: usize,
    /// With gradient clipping on: the steps whose total norm exceeded `max_norm`, i.e. were
    /// clipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clipped_steps: Option<usize>,
    /// The born-dead check on the run's first training batch, before any update (first epoch
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born_dead: Option<BornDead>,
    /// Warnings raised during the epoch (also when printing them is off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Per-parameter gradient statistics over one epoch, and recent norms for the running median.
#[derive(Debug, Clone, Default)]
struct GradAccumulator {
    sum_norm: f64,
    max_norm: f64,
    sum_ratio: f64,
    /// Steps whose update ratio was measured.
    ratio_steps: usize,
    steps: usize,
    /// Norms of the recent steps (at most [`MEDIAN_WINDOW`] + this epoch's).
    history: Vec<f64>,
}

/// Running medians are taken over this many recent steps.
const MEDIAN_WINDOW: usize = 50;

/// Spikes are looked for only once a parameter has this many recorded norms.
const MIN_SPIKE_HISTORY: usize = 10;

/// The diagnostics of a training run.
///
/// [`Trainer`](crate::Trainer) drives it. To drive it from your own loop, per batch:
///
/// 1. forward in training mode; [`observe_outputs`](Diagnostics::observe_outputs) with the
///    output, then [`after_forward`](Diagnostics::after_forward) with the model;
/// 2. backward; [`before_step`](Diagnostics::before_step) (gradients ready, before clipping);
/// 3. clip, optimizer step; [`after_step`](Diagnostics::after_step);
///
/// and per epoch [`end_epoch`](Diagnostics::end_epoch), with the validation set's units from
/// [`UnitTracker::forward_eval`] if you have one.
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
/// use lazarus_train::diagnostics::{Diagnostics, DiagnosticsConfig};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new().add(Linear::new(3, 4, &mut rng)?).add(Relu::new());
/// let mut diagnostics = Diagnostics::new(DiagnosticsConfig::default())?;
/// let x = Tensor::ones(vec![2, 3]);
/// let y = model.forward(x.view(), Mode::Train)?;
/// diagnostics.observe_outputs(y);
/// diagnostics.after_forward(&model);
/// model.zero_grad();
/// model.backward(Tensor::ones(vec![2, 4]).view())?;
/// diagnostics.before_step(&model);
/// model.visit_params_mut(&mut |_, p| p.value.scaled_add(-0.1, &p.grad)); // plain SGD
/// diagnostics.after_step(&model);
/// let epoch = diagnostics.end_epoch(Vec::new())?;
/// assert_eq!(epoch.steps, 1);
/// assert_eq!(epoch.gradients[0].param, "0.weight");
/// assert_eq!(epoch.train_units[0].units, 4);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    config: DiagnosticsConfig,
    train: UnitTracker,
    previous_silent: BTreeMap<String, Vec<bool>>,
    grads: Vec<(String, GradAccumulator)>,
    /// Parameter values before the step, to measure ‖Δw‖; reused between steps.
    before: Vec<Tensor>,
    /// Whether this step's update ratio is measured (`before` holds its values).
    measure_update: bool,
    clip_norm: Option<f64>,
    max_total_norm: f64,
    sum_total_norm: f64,
    steps: usize,
    clipped_steps: usize,
    batches_seen: usize,
    first_output_constant: Option<bool>,
    born_dead: Option<BornDead>,
    warned: BTreeSet<String>,
    pending_warnings: Vec<String>,
    /// The first failed warning print of the epoch, for [`end_epoch`](Self::end_epoch) to
    /// report (shared, so that the diagnostics stay `Clone`).
    stderr_failure: Option<Arc<io::Error>>,
}

impl Diagnostics {
    /// Diagnostics with the given thresholds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field and its value when a setting of `config` is
    /// out of range (see [`DiagnosticsConfig`]).
    pub fn new(config: DiagnosticsConfig) -> Result<Self> {
        config.check()?;
        Ok(Self {
            config,
            ..Self::default()
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DiagnosticsConfig {
        &self.config
    }

    /// Tell the diagnostics the clipping threshold (`None`: no clipping), so that each epoch
    /// counts the steps that were clipped ([`EpochDiagnostics::clipped_steps`]).
    pub fn set_clip_norm(&mut self, max_norm: Option<f32>) {
        self.clip_norm = max_norm.map(f64::from);
    }

    /// After a training forward pass, with its output: on the run's first batch, notes whether
    /// the output is the same for every sample (the born-dead check). Cheap afterwards.
    pub fn observe_outputs(&mut self, outputs: TensorView<'_>) {
        if self.batches_seen == 0 {
            self.first_output_constant = Some(output_is_constant(outputs));
        }
    }

    /// After a training forward pass: record its activation statistics (and, on the run's first
    /// batch, the born-dead report).
    pub fn after_forward(&mut self, model: &dyn Layer) {
        self.train.observe(model);
        if self.batches_seen == 0 {
            let report = BornDead::observe(model, self.first_output_constant.unwrap_or(false));
            if report.constant_output {
                self.warn(
                    "born_dead".into(),
                    "the network is born dead: its output is the same for every input of the first batch, so no gradient reaches the first layer (re-initialize: He init, another seed, a wider or shallower net, or a leaky activation)".into(),
                );
            }
            self.born_dead = Some(report);
        }
        self.batches_seen += 1;
    }

    /// After backward, before clipping and the optimizer step: record each parameter's gradient
    /// norm ‖∇‖₂ = √(Σ g²) and the total √(Σ over all parameters), and keep the parameter values
    /// to measure the update.
    pub fn before_step(&mut self, model: &dyn Layer) {
        self.before_step_with_norms(model, &[]);
    }

    /// [`before_step`](Self::before_step), given the squared norms Σ g² of the parameters' gradients
    /// (in visit order) already measured for clipping; any not given is measured here.
    pub(crate) fn before_step_with_norms(&mut self, model: &dyn Layer, squares: &[f64]) {
        let mut index = 0;
        let mut total_sq = 0.0f64;
        self.measure_update = self.steps.is_multiple_of(self.config.update_ratio_every);
        let measure_update = self.measure_update;
        let (grads, before) = (&mut self.grads, &mut self.before);
        model.visit_params(&mut |path, p| {
            if grads.len() <= index {
                grads.push((path.to_string(), GradAccumulator::default()));
            }
            let norm_sq =
                (squares.get(index).copied()).unwrap_or_else(|| sum_squares(&p.grad.view()));
            total_sq += norm_sq;
            let acc = &mut grads[index].1;
            let norm = norm_sq.sqrt();
            acc.sum_norm += norm;
            acc.max_norm = acc.max_norm.max(norm);
            acc.steps += 1;
            acc.history.push(norm);
            if measure_update {
                if before.len() <= index {
                    before.push(p.value.clone());
                } else {
                    // Reshaped only if the model's parameter changed shape since the last step.
                    reuse_buffer(&mut before[index], p.value.raw_dim());
                    before[index].assign(&p.value);
                }
            }
            index += 1;
        });
        let total = total_sq.sqrt();
        self.max_total_norm = self.max_total_norm.max(total);
        self.sum_total_norm += total;
        self.steps += 1;
        if self.clip_norm.is_some_and(|max| total > max) {
            self.clipped_steps += 1;
        }
        self.check_spikes();
    }

    /// After the optimizer step: record ‖Δw‖₂/‖w‖₂ per parameter (on the steps measured, see
    /// [`DiagnosticsConfig::update_ratio_every`]).
    pub fn after_step(&mut self, model: &dyn Layer) {
        if !std::mem::take(&mut self.measure_update) {
            return;
        }
        let mut index = 0;
        let (grads, before) = (&mut self.grads, &self.before);
        model.visit_params(&mut |_, p| {
            if let (Some((_, acc)), Some(old)) = (grads.get_mut(index), before.get(index)) {
                let delta = sum_squared_difference(&p.value.view(), &old.view()).unwrap_or(0.0);
                let weight = sum_squares(&p.value.view());
                acc.sum_ratio += delta.sqrt() / weight.sqrt().max(1e-12);
                acc.ratio_steps += 1;
            }
            index += 1;
        });
    }

    fn warn(&mut self, key: String, message: String) {
        self.warn_to(&mut io::stderr().lock(), key, message);
    }

    /// Record a warning once per `key` and, if asked, print it to `out` (stderr). A failed
    /// print is kept for [`end_epoch`](Self::end_epoch): the hooks that raise warnings do not
    /// return errors, and a warning is not worth stopping a step for.
    fn warn_to(&mut self, out: &mut dyn Write, key: String, message: String) {
        if self.warned.insert(key) {
            if self.config.warnings && self.stderr_failure.is_none() {
                let line = format_args!("warning: {message}");
                if let Err(Error::Output { source, .. }) =
                    crate::console::write_line(out, "stderr", &line)
                {
                    self.stderr_failure = Some(Arc::new(source));
                }
            }
            self.pending_warnings.push(message);
        }
    }

    /// Compare each parameter's latest norm with the median of the ones before it.
    fn check_spikes(&mut self) {
        let factor = self.config.spike_factor;
        let mut spikes = Vec::new();
        for (path, acc) in &self.grads {
            let n = acc.history.len();
            if n < MIN_SPIKE_HISTORY {
                continue;
            }
            let mut window = acc.history[n.saturating_sub(MEDIAN_WINDOW + 1)..n - 1].to_vec();
            window.sort_by(f64::total_cmp);
            let median = window[window.len() / 2];
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
    /// warnings. `validation` holds the silent units measured on the validation set, if any
    /// (from [`UnitTracker::forward_eval`]).
    ///
    /// # Errors
    /// [`Error::Output`] when printing a warning of the epoch to stderr failed (the epoch is
    /// closed all the same; the next one starts afresh).
    pub fn end_epoch(&mut self, validation: Vec<LayerUnits>) -> Result<EpochDiagnostics> {
        let train_units = std::mem::take(&mut self.train)
            .report(Some(&mut self.previous_silent), self.config.list_dead_units);
        for u in &train_units {
            if u.kind == SilentKind::Dead && u.fraction > self.config.dead_fraction_warning {
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
            .filter(|(_, acc)| acc.steps > 0)
            .map(|(path, acc)| GradFlow {
                param: path.clone(),
                mean_norm: acc.sum_norm / acc.steps as f64,
                max_norm: acc.max_norm,
                update_ratio: acc.sum_ratio / acc.ratio_steps.max(1) as f64,
            })
            .collect();
        for g in &gradients {
            if g.max_norm < self.config.vanishing_norm {
                self.warn(
                    format!("vanishing:{}", g.param),
                    format!(
                        "{}: gradient norm stayed below {:e} all epoch (max {:.1e}): vanishing gradient, or a layer behind dead units",
                        g.param, self.config.vanishing_norm, g.max_norm
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
            mean_total_grad_norm: self.sum_total_norm / self.steps.max(1) as f64,
            steps: self.steps,
            clipped_steps: self.clip_norm.map(|_| self.clipped_steps),
            born_dead: self.born_dead.take(),
            warnings: std::mem::take(&mut self.pending_warnings),
        };
        self.max_total_norm = 0.0;
        self.sum_total_norm = 0.0;
        self.steps = 0;
        self.clipped_steps = 0;
        match self.stderr_failure.take() {
            None => Ok(report),
            Some(failure) => Err(Error::Output {
                stream: "stderr",
                source: Arc::try_unwrap(failure)
                    .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string())),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::FullDisk;

    #[test]
    fn a_failing_stderr_is_reported_by_end_epoch_not_a_panic() {
        let mut d = Diagnostics::new(DiagnosticsConfig::default()).unwrap();
        d.warn_to(&mut FullDisk, "a".into(), "first".into());
        d.warn_to(&mut FullDisk, "b".into(), "second".into());
        let err = d.end_epoch(Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Output {
                    stream: "stderr",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("writing to stderr failed: "),
            "{err}"
        );
        // Reported once; the next epoch starts afresh.
        assert!(d.end_epoch(Vec::new()).is_ok());
    }

    #[test]
    fn warnings_are_printed_once_and_recorded_even_when_printing_is_off() {
        let mut d = Diagnostics::new(DiagnosticsConfig::default()).unwrap();
        let mut out = Vec::new();
        d.warn_to(&mut out, "a".into(), "first".into());
        d.warn_to(&mut out, "a".into(), "first again".into());
        assert_eq!(String::from_utf8(out).unwrap(), "warning: first\n");
        let mut quiet = Diagnostics::new(DiagnosticsConfig {
            warnings: false,
            ..DiagnosticsConfig::default()
        })
        .unwrap();
        quiet.warn_to(&mut FullDisk, "a".into(), "recorded".into());
        let report = quiet.end_epoch(Vec::new()).unwrap();
        assert_eq!(report.warnings, ["recorded"]);
    }
}
