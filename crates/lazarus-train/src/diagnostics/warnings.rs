//! The diagnostics' warnings: when each is raised, what it says, and how it is printed (once
//! per layer or parameter, gradient spikes once per epoch; to stderr if asked) and recorded
//! (always, in the epoch's report, as a [`Warning`]: kind, epoch, layer or parameter, value,
//! message).

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::bias_before_norm::BiasBeforeNorm;
use super::gradients::EpochSpikes;
use super::{DiagnosticsConfig, GradFlow, LayerUnits, SilentKind};
use crate::Error;

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// More than [`DiagnosticsConfig::dead_fraction_warning`] of a layer's units are dead on
    /// the probe set.
    DeadUnits,
    /// At initialization the output is the same for every probe input.
    BornDead,
    /// Steps of an epoch whose total gradient norm jumped above
    /// [`DiagnosticsConfig::spike_factor`] times its running median: one warning per epoch,
    /// about the parameter whose norm rose the most.
    GradientSpike,
    /// A parameter's gradient norm stayed below [`DiagnosticsConfig::vanishing_norm`] all epoch.
    VanishingGradient,
    /// A bias whose layer feeds a BatchNorm directly: the BatchNorm subtracts the batch mean,
    /// bias included, so the bias does nothing and gets no gradient. Decided by the model's
    /// structure, once per run; such a bias is never a [`VanishingGradient`](Self::VanishingGradient).
    BiasBeforeNorm,
    /// Read from a file written before warnings were structured: only the message is known.
    Legacy,
}

impl WarningKind {
    /// `"dead_units"`, `"born_dead"`, ...: the name in JSON and in the report.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::DeadUnits => "dead_units",
            WarningKind::BornDead => "born_dead",
            WarningKind::GradientSpike => "gradient_spike",
            WarningKind::VanishingGradient => "vanishing_gradient",
            WarningKind::BiasBeforeNorm => "bias_before_norm",
            WarningKind::Legacy => "legacy",
        }
    }
}

/// A warning of the diagnostics, as recorded in [`EpochDiagnostics::warnings`](super::EpochDiagnostics::warnings).
///
/// Files written before warnings were structured hold plain strings: they load as
/// [`WarningKind::Legacy`] with the message only, and the epoch of the record that holds them
/// ([`History::from_json`](crate::History::from_json) sets it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "WarningFile")]
pub struct Warning {
    /// What it is about.
    pub kind: WarningKind,
    /// The epoch it was raised in: 0 for the probe at initialization, then 1, 2, ...
    pub epoch: usize,
    /// The layer (`relu[1]`) or parameter (`0.weight`) it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The measured value that raised it: a dead fraction, a gradient norm.
    #[serde(
        default,
        with = "crate::history::json_float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    /// The message, as printed.
    pub message: String,
}

/// A warning as a file holds it: structured, or (older files) its message only.
#[derive(Deserialize)]
#[serde(untagged)]
enum WarningFile {
    Text(String),
    Fields {
        kind: WarningKind,
        epoch: usize,
        #[serde(default)]
        subject: Option<String>,
        #[serde(default, with = "crate::history::json_float::option")]
        value: Option<f64>,
        message: String,
    },
}

impl From<WarningFile> for Warning {
    fn from(file: WarningFile) -> Self {
        match file {
            WarningFile::Text(message) => Warning {
                kind: WarningKind::Legacy,
                epoch: 0,
                subject: None,
                value: None,
                message,
            },
            WarningFile::Fields {
                kind,
                epoch,
                subject,
                value,
                message,
            } => Warning {
                kind,
                epoch,
                subject,
                value,
                message,
            },
        }
    }
}

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
