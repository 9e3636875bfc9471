//! Watching units die and gradients explode: dead-unit tracking on a probe set, gradient flow,
//! and warnings.
//!
//! * **Dead, one definition, used everywhere**: a unit (a feature, or a channel: every (sample,
//!   position) pair of it counts) of an activation layer is **silent** when it is in the
//!   activation's silent region (ReLU family: x ≤ 0) on **every sample of a fixed probe set,
//!   with fixed weights**. The probe set is 2,048 training samples (or the whole set if
//!   smaller; [`DiagnosticsConfig::probe_samples`]) drawn once by the seed at the start of a run
//!   ([`ProbeSet`]). The probe pass runs the network over it in
//!   [`Mode::Probe`](lazarus_core::Mode::Probe) at initialization (epoch 0) and after each
//!   epoch: as training sees it (BatchNorm on batch statistics, no dropout), changing nothing
//!   (no running-statistics update, no gradient, no random draw). So epoch 0 and epoch k mean
//!   the same thing. Tables, warnings, plots, the JSON and the report all use it.
//! * Dead or inactive is decided by the gradient, not by the activation's type ([`SilentKind`];
//!   the definition is on [`ActivationStats`](lazarus_core::ActivationStats)): **dead** when no
//!   gradient can reach anything that could revive it (ReLU, ReLU6, Hardtanh,
//!   `LeakyRelu::new(0.0)`): the "dying ReLU" of the article; **inactive** when some still does
//!   (a leak: LeakyReLU, ELU, SELU, RReLU; a learned slope: PReLU, even at exactly 0), so it can
//!   recover. The contrast is the article's point. Per unit, the probe also records its
//!   **active fraction**, the share of probe inputs in its active region (the heatmaps).
//! * A unit silent at one probe and alive at the next is **revived**; alive, then silent, it
//!   **newly died**.
//! * **Born dead**: the probe at initialization, before any update: the units already dead and
//!   whether the network's output is the same for every probe input (no gradient reaches the
//!   first layer; Lu et al. 2019).
//! * No second count: counting the units silent on every *training batch* of an epoch, as
//!   earlier versions did, measured a moving target (a unit that died halfway through an
//!   epoch fired on its early batches) and, reading every activation of every batch, cost
//!   about 12 times the probe pass (`benches/README.md`).
//! * **Gradient flow**: per parameter, the mean and largest L2 norm of its gradient over the
//!   epoch's steps, every step's norm ([`StepNorms`]) and the update-to-weight ratio
//!   ‖Δw‖/‖w‖; the total norm over all parameters, measured *before* clipping, and which steps
//!   were clipped. A spike is the exploding-gradient signal, a norm stuck near zero the
//!   vanishing one. The PReLU slopes after each epoch.
//! * **Warnings** ([`Warning`]: kind, epoch, layer or parameter, value, message), each raised
//!   once per layer or parameter (gradient spikes once per epoch): more than half of a layer's
//!   units dead, a gradient spike, a vanishing gradient, a bias before a BatchNorm, a born-dead
//!   network. The exact rule of each is in `diagnostics/warnings.rs`, where they are raised.
//!
//! Everything reads [`Layer::activation_stats`] and the parameter walk, so it works on any model
//! without knowing concrete layer types. With a [`Trainer`](crate::Trainer), turn it on with
//! [`Trainer::diagnostics`](crate::Trainer::diagnostics); every epoch's [`EpochDiagnostics`]
//! lands in [`EpochRecord::diagnostics`](crate::EpochRecord::diagnostics), so the history's JSON
//! carries it ([`diagnostics_csv`] flattens it to CSV, [`report`](crate::report) draws it). On
//! your own loop, call the [`Diagnostics`] methods in the order its docs give.
//!
//! This file is the definitions above and [`Diagnostics`], which calls the parts at each point
//! of a training run. The parts, one file each under `diagnostics/`: `config.rs` (the
//! settings), `probe.rs` (the probe set and pass), `units.rs` (the report of a layer's silent
//! units), `unit_tracker.rs` (counting them over a pass), `born_dead.rs` (the probe at
//! initialization), `gradients.rs` (gradient flow and spikes), `bias_before_norm.rs` (the
//! biases a BatchNorm cancels), `spikes.rs` (what a spike records), `warning.rs` (what a
//! warning records), `warnings.rs` (when each warning is raised, the rules, and what it says), `report.rs` (the epoch's report as a table, CSV and
//! plot), `observer.rs` (the hooks called by the trainer).

mod bias_before_norm;
mod born_dead;
mod config;
mod gradients;
mod observer;
mod probe;
mod report;
mod spikes;
#[cfg(test)]
mod tests;
mod unit_tracker;
mod units;
mod warning;
mod warnings;

use std::collections::BTreeMap;

use lazarus_core::Layer;

use crate::{Error, Result};
use bias_before_norm::{BiasBeforeNorm, biases_before_norm};
use gradients::GradientTracker;
use units::revivals;
use warnings::Warnings;

pub(crate) use observer::DiagnosticsObserver;

pub use born_dead::{BornDead, born_dead_check, output_is_constant};
pub use config::{DEFAULT_PROBE_SAMPLES, DiagnosticsConfig};
pub use gradients::{GradFlow, StepNorms};
pub use probe::{ParamValues, ProbePass, ProbeSet, slope_values};
pub use report::{EpochDiagnostics, diagnostics_csv, plot_silent_fractions};
pub use unit_tracker::UnitTracker;
pub use units::{LayerUnits, SilentKind};
pub use warning::{Warning, WarningKind};

/// The diagnostics of a training run.
///
/// [`Trainer`](crate::Trainer) drives it. To drive it from your own loop: draw a
/// [`ProbeSet`] once and call [`probe_at_init`](Diagnostics::probe_at_init) before the first
/// step; then per batch:
///
/// 1. forward in training mode, backward; [`before_step`](Diagnostics::before_step)
///    (gradients ready, before clipping);
/// 2. clip, optimizer step; [`after_step`](Diagnostics::after_step);
///
/// and per epoch [`probe`](Diagnostics::probe) after its last step, then
/// [`end_epoch`](Diagnostics::end_epoch), with the validation set's units from
/// [`UnitTracker::forward_eval`] if you have one.
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
/// use lazarus_train::diagnostics::{Diagnostics, DiagnosticsConfig, ProbeSet};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new().add(Linear::new(3, 4, &mut rng)?).add(Relu::new());
/// let mut diagnostics = Diagnostics::new(DiagnosticsConfig::default())?;
/// let x = Tensor::ones(vec![2, 3]);
/// let probe = ProbeSet::from_inputs(x.clone())?;
/// diagnostics.probe_at_init(&mut model, &probe, 32)?; // epoch 0
/// model.forward(x.view(), Mode::Train)?;
/// model.zero_grad();
/// model.backward(Tensor::ones(vec![2, 4]).view())?;
/// diagnostics.before_step(&model);
/// model.visit_params_mut(&mut |_, p| p.value.scaled_add(-0.1, &p.grad)); // plain SGD
/// diagnostics.after_step(&model);
/// diagnostics.probe(&mut model, &probe, 32)?; // after epoch 1
/// let epoch = diagnostics.end_epoch(Vec::new())?;
/// assert_eq!(epoch.steps, 1);
/// assert_eq!(epoch.gradients[0].param, "0.weight");
/// assert_eq!(epoch.units[0].units, 4);
/// assert_eq!(epoch.born_dead.unwrap().units[0].active_fraction.len(), 4);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    config: DiagnosticsConfig,
    /// The epoch's probe pass, once run (`probe.rs`), with the slopes after the epoch.
    probe: Option<(ProbePass, Vec<ParamValues>)>,
    /// The probe at initialization, until the first epoch's report takes it.
    born_dead: Option<BornDead>,
    /// Each layer's silent flags at the last probe, to count revivals.
    previous_probe: BTreeMap<String, Vec<bool>>,
    /// Gradient norms, update ratios and spikes (`gradients.rs`).
    gradients: GradientTracker,
    /// The biases a BatchNorm cancels (`bias_before_norm.rs`), found at the first step.
    biases_before_norm: Option<Vec<BiasBeforeNorm>>,
    /// Raised once each, recorded per epoch (`warnings.rs`).
    warnings: Warnings,
}

impl Diagnostics {
    /// Diagnostics with the given thresholds.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field and its value when a setting of `config` is
    /// out of range (see [`DiagnosticsConfig`]).
    pub fn new(config: DiagnosticsConfig) -> Result<Self> {
        config.check()?;
        let mut diagnostics = Self {
            config,
            ..Self::default()
        };
        diagnostics.gradients.keep_steps = diagnostics.config.keep_step_norms;
        diagnostics.warnings.epoch = 1;
        Ok(diagnostics)
    }

    /// The configuration.
    pub fn config(&self) -> &DiagnosticsConfig {
        &self.config
    }

    /// Tell the diagnostics the clipping threshold (`None`: no clipping), so that each epoch
    /// counts the steps that were clipped ([`EpochDiagnostics::clipped_steps`]).
    pub fn set_clip_norm(&mut self, max_norm: Option<f32>) {
        self.gradients.clip_norm = max_norm.map(f64::from);
    }

    /// Number the next epoch `epoch` (a resumed run starts after its checkpoint's epochs).
    pub(crate) fn set_next_epoch(&mut self, epoch: usize) {
        self.warnings.epoch = epoch;
    }

    /// The probe at initialization (epoch 0), before the first step: [`ProbeSet::run`] of
    /// `model` over `probe` in chunks of `chunk`. Its units, slopes and whether the network is
    /// born dead (warned about, as is a layer more than
    /// [`dead_fraction_warning`](DiagnosticsConfig::dead_fraction_warning) dead) are reported
    /// with the first epoch ([`EpochDiagnostics::born_dead`]), whose revivals count from it.
    ///
    /// # Errors
    /// Any layer error (a probe set whose inputs do not fit the model).
    pub fn probe_at_init(
        &mut self,
        model: &mut dyn Layer,
        probe: &ProbeSet,
        chunk: usize,
    ) -> Result<()> {
        let mut pass = probe.run(model, chunk)?;
        self.previous_probe.clear();
        pass.units = self.probed_units(pass.units, self.config.list_dead_units);
        let next = std::mem::replace(&mut self.warnings.epoch, 0);
        if pass.constant_output {
            self.warnings.born_dead(&self.config);
        }
        self.warnings.dead_units(&self.config, &pass.units);
        self.warnings.epoch = next;
        self.born_dead = Some(BornDead::new(pass, slope_values(model)));
        Ok(())
    }

    /// The epoch's probe, after its last step and before [`end_epoch`](Diagnostics::end_epoch):
    /// [`ProbeSet::run`] with the epoch's final weights, kept with the slopes for the epoch's
    /// report ([`EpochDiagnostics::units`]).
    ///
    /// # Errors
    /// Any layer error (a probe set whose inputs do not fit the model).
    pub fn probe(&mut self, model: &mut dyn Layer, probe: &ProbeSet, chunk: usize) -> Result<()> {
        let pass = probe.run(model, chunk)?;
        self.probe = Some((pass, slope_values(model)));
        Ok(())
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
        if self.biases_before_norm.is_none() {
            self.biases_before_norm = Some(biases_before_norm(model));
        }
        (self.gradients).before_step(model, squares, self.config.update_ratio_every);
        self.gradients.judge_spike(self.config.spike_factor);
    }

    /// After the optimizer step: record ‖Δw‖₂/‖w‖₂ per parameter (on the steps measured, see
    /// [`DiagnosticsConfig::update_ratio_every`]).
    pub fn after_step(&mut self, model: &dyn Layer) {
        self.gradients.after_step(model);
    }

    /// Close the epoch: per-layer silent units on the probe set (and revivals), per-parameter
    /// gradient flow, slopes, warnings. `validation` holds the silent
    /// units measured on the validation set, if any (from [`UnitTracker::forward_eval`]).
    /// Without a [`probe`](Self::probe) since the last epoch, [`EpochDiagnostics::units`] is
    /// empty (as for an epoch stopped by a non-finite value).
    ///
    /// # Errors
    /// [`Error::Output`] when printing a warning of the epoch to stderr failed (the epoch is
    /// closed all the same; the next one starts afresh).
    pub fn end_epoch(&mut self, validation: Vec<LayerUnits>) -> Result<EpochDiagnostics> {
        let list = self.config.list_dead_units;
        let (units, slopes) = match self.probe.take() {
            Some((pass, slopes)) => (self.probed_units(pass.units, list), slopes),
            None => (Vec::new(), Vec::new()),
        };
        let mut report = EpochDiagnostics {
            units,
            validation_units: validation,
            slopes,
            born_dead: self.born_dead.take(),
            ..EpochDiagnostics::default()
        };
        self.warnings.dead_units(&self.config, &report.units);
        let spikes = self.gradients.end_epoch(&mut report);
        self.warnings.spikes(&self.config, spikes);
        let cancelled = self.biases_before_norm.as_deref().unwrap_or_default();
        self.warnings
            .vanishing(&self.config, &report.gradients, cancelled);
        (self.warnings).bias_before_norm(&self.config, &report.gradients, cancelled);
        let (warnings, stderr_failure) = self.warnings.take();
        report.warnings = warnings;
        self.warnings.epoch += 1;
        match stderr_failure {
            None => Ok(report),
            Some(source) => Err(Error::Output {
                stream: "stderr",
                source,
            }),
        }
    }

    /// A probe's units with the revived and newly silent counts since the last probe (none
    /// for the first), their silent indices kept only if `list_units`.
    fn probed_units(&mut self, mut units: Vec<LayerUnits>, list_units: bool) -> Vec<LayerUnits> {
        for u in &mut units {
            let now: Vec<bool> = (0..u.units).map(|i| u.silent_units.contains(&i)).collect();
            (u.revived, u.newly_silent) = revivals(&mut self.previous_probe, &u.path, &now);
            if !list_units {
                u.silent_units.clear();
            }
        }
        units
    }
}
