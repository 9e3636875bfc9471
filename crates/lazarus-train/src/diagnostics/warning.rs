//! What a warning of the diagnostics records ([`Warning`]: kind, epoch, layer or parameter,
//! value, message), and how older files' plain-string warnings load.

use serde::{Deserialize, Serialize};

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// More than [`DiagnosticsConfig::dead_fraction_warning`](super::DiagnosticsConfig::dead_fraction_warning) of a layer's units are dead on
    /// the probe set.
    DeadUnits,
    /// At initialization the output is the same for every probe input.
    BornDead,
    /// Steps of an epoch whose total gradient norm jumped above
    /// [`DiagnosticsConfig::spike_factor`](super::DiagnosticsConfig::spike_factor) times its running median: one warning per epoch,
    /// about the parameter whose norm rose the most.
    GradientSpike,
    /// A parameter's gradient norm stayed below [`DiagnosticsConfig::vanishing_norm`](super::DiagnosticsConfig::vanishing_norm) all epoch.
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
