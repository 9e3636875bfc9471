//! The diagnostics' warnings: when each is raised, what it says, and how it is printed (once
//! per layer or parameter, gradient spikes once per epoch; to stderr if asked) and recorded
//! (always, in the epoch's report, as a [`Warning`]: kind, epoch, layer or parameter, value,
//! message).
//!
//! The rules:
//!
//! * **Gradient spike**: once 10 steps are recorded, a step *spikes* when its total
//!   gradient norm (all parameters together, before clipping: the norm clipping compares) is
//!   more than [`DiagnosticsConfig::spike_factor`] (10) times the median of the previous 20
//!   steps' total norms (across epoch boundaries). Each epoch with spiking steps gets one
//!   warning: how many of its steps spiked, the worst ratio, and the parameter whose own norm
//!   rose the most above its running median at that step. Why this form: a healthy network
//!   leaving its initialization grows its norm 10x or more over its first epoch, steadily, so
//!   a 20-step median follows it (at most 7x in the lab) where a 50-step one lagged behind and
//!   cried wolf; an explosion grows it 10x to 10¹²x within a few steps, so no warm-up is
//!   needed beyond the 10 steps the median needs (the lab's explosive runs warn from their
//!   15th step, six before one diverges; a run that explodes within its first 10 steps, or
//!   within 10 steps of a resume, is not judged: the trainer's non-finite stop still catches
//!   it).
//!   The total, not each parameter, is judged: a parameter with a tiny norm (a PReLU slope, a
//!   layer behind units that are almost all dead, whose median is near 0) would make every
//!   live batch a "spike".
//! * **Vanishing gradient**: a parameter whose gradient norm stayed below
//!   [`DiagnosticsConfig::vanishing_norm`] (1e-7) on every step of an epoch, except a bias a
//!   BatchNorm cancels (next point).
//! * **A bias before a BatchNorm**: a parameter of role
//!   [`Bias`](lazarus_core::ParamRole::Bias) of a layer followed directly, in the same
//!   `Sequential` (nested ones included), by a BatchNorm1d or BatchNorm2d (any affine setting;
//!   recognized by its [`Layer::name`](lazarus_core::Layer::name), `batch_norm1d` or `batch_norm2d`) does nothing: in
//!   training the BatchNorm subtracts each channel's batch mean, the bias with it, so its
//!   gradient is exactly zero (rounding noise in practice, in PyTorch too). That is no
//!   vanishing gradient: it gets its own warning instead, once per run, decided by the model's
//!   structure (seen at the first step), not by the gradient's value: build the layer without
//!   bias (PyTorch's `bias=False`), BatchNorm's shift β takes its place. A bias followed by
//!   anything else (ReLU, Dropout, nothing) keeps the vanishing-gradient rule.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Arc;

use super::bias_before_norm::BiasBeforeNorm;
use super::spikes::EpochSpikes;
use super::warning::{Warning, WarningKind};
use super::{DiagnosticsConfig, GradFlow, LayerUnits, SilentKind};
use crate::Error;

/// The warnings raised so far, and those of the current epoch.
#[derive(Debug, Clone, Default)]
pub(super) struct Warnings {
    /// Every key warned about in the run: each warning is raised once (a gradient spike
    /// once per epoch).
    warned: BTreeSet<String>,
    /// The current epoch's warnings.
    pending: Vec<Warning>,
    /// The epoch warnings are raised in now (0 before the first one).
    pub(super) epoch: usize,
    /// The first failed print of the epoch, for [`take`](Self::take) to report (shared, so
    /// that the diagnostics stay `Clone`).
    stderr_failure: Option<Arc<io::Error>>,
}

impl Warnings {
    /// The network's output was the same for every probe input at initialization.
    pub(super) fn born_dead(&mut self, config: &DiagnosticsConfig) {
        self.warn(
            config,
            WarningKind::BornDead,
            None,
            None,
            "the network is born dead: its output is the same for every probe input at initialization, so no gradient reaches the first layer (re-initialize: He init, another seed, a wider or shallower net, or a leaky activation)".into(),
        );
    }

    /// Steps of the epoch whose total gradient norm spiked (from `GradientTracker::end_epoch`),
    /// as one warning about the parameter where the worst one rose the most, valued at that
    /// step's total norm.
    pub(super) fn spikes(&mut self, config: &DiagnosticsConfig, spikes: Option<EpochSpikes>) {
        let Some(EpochSpikes {
            count,
            steps,
            worst,
        }) = spikes
        else {
            return;
        };
        // An explosion's ratio can reach 1e12: in full, it would be a dozen digits.
        let ratio = match worst.ratio() {
            r if r < 1e4 => format!("{r:.0}"),
            r => format!("{r:.1e}"),
        };
        let message = format!(
            "{}: the gradient norm spiked on {count} of {steps} batches of epoch {}: the total norm rose above {}x its running median, up to {ratio}x ({:.3e} against {:.3e} at batch {}), and this parameter's rose the most; exploding gradients? try clipping or a lower learning rate",
            worst.param, self.epoch, config.spike_factor, worst.norm, worst.median, worst.step,
        );
        let (param, norm) = (Some(worst.param), Some(worst.norm));
        self.warn(config, WarningKind::GradientSpike, param, norm, message);
    }

    /// More than [`DiagnosticsConfig::dead_fraction_warning`] of a layer's units are dead on
    /// the probe set (`units`: a probe pass).
    pub(super) fn dead_units(&mut self, config: &DiagnosticsConfig, units: &[LayerUnits]) {
        for u in units {
            if u.kind == SilentKind::Dead && u.fraction > config.dead_fraction_warning {
                let layer = format!("{}[{}]", u.layer, u.path);
                let message = format!(
                    "{layer}: {:.0}% of its {} units are dead (silent on every probe input); try LeakyReLU/PReLU/ELU, a lower learning rate or He initialization",
                    100.0 * u.fraction,
                    u.units
                );
                self.warn(
                    config,
                    WarningKind::DeadUnits,
                    Some(layer),
                    Some(u.fraction),
                    message,
                );
            }
        }
    }

    /// A parameter's gradient norm stayed below [`DiagnosticsConfig::vanishing_norm`] all epoch,
    /// unless a BatchNorm cancels it (`cancelled`: [`bias_before_norm`](Self::bias_before_norm)
    /// warns about those instead).
    pub(super) fn vanishing(
        &mut self,
        config: &DiagnosticsConfig,
        gradients: &[GradFlow],
        cancelled: &[BiasBeforeNorm],
    ) {
        for g in gradients {
            let is_cancelled = cancelled.iter().any(|c| c.param == g.param);
            if g.max_norm < config.vanishing_norm && !is_cancelled {
                let message = format!(
                    "{}: gradient norm stayed below {:e} all epoch (max {:.1e}): vanishing gradient, or a layer behind dead units",
                    g.param, config.vanishing_norm, g.max_norm
                );
                let (param, max) = (Some(g.param.clone()), Some(g.max_norm));
                self.warn(config, WarningKind::VanishingGradient, param, max, message);
            }
        }
    }

    /// Biases whose layer feeds a BatchNorm directly (found by `biases_before_norm`), once per
    /// run whatever their gradient, valued at the epoch's largest gradient norm (if measured).
    pub(super) fn bias_before_norm(
        &mut self,
        config: &DiagnosticsConfig,
        gradients: &[GradFlow],
        cancelled: &[BiasBeforeNorm],
    ) {
        for c in cancelled {
            let max = (gradients.iter().find(|g| g.param == c.param)).map(|g| g.max_norm);
            // Without affine, the BatchNorm has no β: nothing is lost with the bias.
            let instead = if c.norm_has_shift {
                format!("{}'s shift β takes its place", c.norm)
            } else {
                format!("{} has no shift (affine=False), so nothing is lost", c.norm)
            };
            let how = match c.without_bias {
                Some(how) => format!("`{how}`, PyTorch's bias=False"),
                None => "PyTorch's bias=False".into(),
            };
            let message = format!(
                "{}: this bias does nothing: {} feeds {} directly, which subtracts each channel's batch mean and so cancels the bias: it gets no gradient (only rounding noise), which is no vanishing gradient; build {} without bias ({how}): {instead}",
                c.param, c.layer, c.norm, c.layer
            );
            let param = Some(c.param.clone());
            self.warn(config, WarningKind::BiasBeforeNorm, param, max, message);
        }
    }

    fn warn(
        &mut self,
        config: &DiagnosticsConfig,
        kind: WarningKind,
        subject: Option<String>,
        value: Option<f64>,
        message: String,
    ) {
        let warning = Warning {
            kind,
            epoch: self.epoch,
            subject,
            value,
            message,
        };
        self.warn_to(&mut io::stderr().lock(), config.warnings, warning);
    }

    /// Record `warning` once per kind and subject (gradient spikes: once per epoch and
    /// subject, each epoch's being a summary of its own steps) and, if `print`, print it to
    /// `out` (stderr). A failed print is kept for [`take`](Self::take): the hooks that raise
    /// warnings do not return errors, and a warning is not worth stopping a step for.
    pub(super) fn warn_to(&mut self, out: &mut dyn Write, print: bool, warning: Warning) {
        let epoch = match warning.kind {
            WarningKind::GradientSpike => warning.epoch.to_string(),
            _ => String::new(),
        };
        let key = format!(
            "{}:{}:{epoch}",
            warning.kind.name(),
            warning.subject.as_deref().unwrap_or("")
        );
        if self.warned.insert(key) {
            if print && self.stderr_failure.is_none() {
                let line = format_args!("warning: {}", warning.message);
                if let Err(Error::Output { source, .. }) =
                    crate::console::write_line(out, "stderr", &line)
                {
                    self.stderr_failure = Some(Arc::new(source));
                }
            }
            self.pending.push(warning);
        }
    }

    /// The epoch's warnings, and the first failed print of the epoch if there was one; the
    /// next epoch starts afresh (a warning already raised stays raised).
    pub(super) fn take(&mut self) -> (Vec<Warning>, Option<io::Error>) {
        let failure = self.stderr_failure.take().map(|failure| {
            Arc::try_unwrap(failure)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()))
        });
        (std::mem::take(&mut self.pending), failure)
    }
}
