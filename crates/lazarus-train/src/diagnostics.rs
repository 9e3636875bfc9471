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
//!
//! This file is the definitions above and [`Diagnostics`], which calls the parts at each point
//! of a training step. The parts, one file each under `diagnostics/`: `config.rs` (the
//! settings), `units.rs` (the report of a layer's silent units), `unit_tracker.rs` (counting
//! them over an epoch), `born_dead.rs`, `gradients.rs` (gradient flow and spikes),
//! `warnings.rs` (when each warning is raised and what it says), `report.rs` (the epoch's
//! report as a table, CSV and plot), `observer.rs` (the hooks called by the trainer).

mod born_dead;
mod config;
mod gradients;
mod observer;
mod report;
#[cfg(test)]
mod tests;
mod unit_tracker;
mod units;
mod warnings;

use std::collections::BTreeMap;

use lazarus_core::{Layer, TensorView};

use crate::{Error, Result};
use gradients::GradientTracker;
use warnings::Warnings;

pub(crate) use observer::DiagnosticsObserver;

pub use born_dead::{BornDead, born_dead_check, output_is_constant};
pub use config::DiagnosticsConfig;
pub use gradients::GradFlow;
pub use report::{EpochDiagnostics, diagnostics_csv, plot_silent_fractions};
pub use unit_tracker::UnitTracker;
pub use units::{LayerUnits, SilentKind};

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
    /// Silent units over the epoch's training batches (`unit_tracker.rs`).
    train: UnitTracker,
    /// Each layer's silent flags of the last epoch, to count revivals.
    previous_silent: BTreeMap<String, Vec<bool>>,
    /// Gradient norms and update ratios (`gradients.rs`).
    gradients: GradientTracker,
    batches_seen: usize,
    first_output_constant: Option<bool>,
    born_dead: Option<BornDead>,
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
        self.gradients.clip_norm = max_norm.map(f64::from);
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
                self.warnings.born_dead(&self.config);
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
        let every = self.config.update_ratio_every;
        self.gradients.before_step(model, squares, every);
        let spikes = self.gradients.spikes(self.config.spike_factor);
        self.warnings.spikes(&self.config, spikes);
    }

    /// After the optimizer step: record ‖Δw‖₂/‖w‖₂ per parameter (on the steps measured, see
    /// [`DiagnosticsConfig::update_ratio_every`]).
    pub fn after_step(&mut self, model: &dyn Layer) {
        self.gradients.after_step(model);
    }

    /// Close the epoch: per-layer silent units (and revivals), per-parameter gradient flow,
    /// warnings. `validation` holds the silent units measured on the validation set, if any
    /// (from [`UnitTracker::forward_eval`]).
    ///
    /// # Errors
    /// [`Error::Output`] when printing a warning of the epoch to stderr failed (the epoch is
    /// closed all the same; the next one starts afresh).
    pub fn end_epoch(&mut self, validation: Vec<LayerUnits>) -> Result<EpochDiagnostics> {
        let mut report = EpochDiagnostics {
            train_units: std::mem::take(&mut self.train)
                .report(Some(&mut self.previous_silent), self.config.list_dead_units),
            validation_units: validation,
            born_dead: self.born_dead.take(),
            ..EpochDiagnostics::default()
        };
        self.warnings.dead_units(&self.config, &report.train_units);
        self.gradients.end_epoch(&mut report);
        self.warnings.vanishing(&self.config, &report.gradients);
        let (warnings, stderr_failure) = self.warnings.take();
        report.warnings = warnings;
        match stderr_failure {
            None => Ok(report),
            Some(source) => Err(Error::Output {
                stream: "stderr",
                source,
            }),
        }
    }
}
