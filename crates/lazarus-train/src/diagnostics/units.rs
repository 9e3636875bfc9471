//! Silent units: which units of each activation layer stayed in their silent region for every
//! sample of a pass (dead or inactive, by the gradient: see the module doc of
//! [`diagnostics`](super)): the vocabulary of the reports. `unit_tracker.rs` measures them
//! over a pass, `probe.rs` runs the pass that defines them.

use std::collections::BTreeMap;

use lazarus_core::ActivationStats;
use serde::{Deserialize, Serialize};

use crate::report::UnitKind;

/// What a silent unit of an activation layer is: dead, inactive, or the layer is never silent
/// (a smooth activation, reported for its output statistics only). Decided by the gradient, from
/// the layer's [`ActivationStats`] (the definition is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilentKind {
    /// Nothing reaches a silent unit: its input derivative is exactly zero there and no own
    /// parameter learns from it (ReLU, ReLU6, Hardtanh, `LeakyRelu::new(0.0)`, ...). A unit
    /// silent for every input cannot recover on its own.
    Dead,
    /// Gradient still reaches it: through a leak (LeakyReLU, ELU, SELU, RReLU, ...) or through
    /// an own parameter (PReLU's slope, even at exactly 0). It can come back.
    Inactive,
    /// The activation has no silent region (Tanh, GELU, SiLU, ...): only the output statistics
    /// mean anything, and `silent` is always 0.
    Never,
}

impl SilentKind {
    /// The kind of `stats`' units: `Dead` when every unit can die
    /// ([`ActivationStats::silent_unit_can_die`]), `Inactive` otherwise. (Every activation today
    /// gives its units one kind; a layer mixing both would report `Inactive`.)
    pub fn of(stats: &ActivationStats) -> Self {
        if stats.silent_counts.is_none() {
            SilentKind::Never
        } else if (0..stats.units).all(|u| stats.silent_unit_can_die(u)) {
            SilentKind::Dead
        } else {
            SilentKind::Inactive
        }
    }

    /// `"dead"`, `"inactive"` or `"-"`, as the tables print it.
    pub fn label(self) -> &'static str {
        match self {
            SilentKind::Dead => "dead",
            SilentKind::Inactive => "inactive",
            SilentKind::Never => "-",
        }
    }
}

/// One activation layer's units over one pass through a data set: the probe set (the
/// definition of dead), a validation set, or an epoch's training batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerUnits {
    /// The layer's path in the model (`"1"`, `"2.0"`): the prefix of its parameters' names.
    pub path: String,
    /// The layer's name (`relu`, `leaky_relu`).
    pub layer: String,
    /// Dead (no gradient reaches a silent unit), inactive (some does) or never silent (smooth).
    pub kind: SilentKind,
    /// Number of units (features of a `[batch, features]` input, channels of an image).
    pub units: usize,
    /// Whether a unit is a feature or a channel (whose inputs are every (sample, position)
    /// pair). Known for probe passes; `feature` elsewhere.
    #[serde(default)]
    pub unit_kind: UnitKind,
    /// Units that were silent for every sample of the pass.
    pub silent: usize,
    /// `silent / units`.
    #[serde(with = "crate::history::json_float")]
    pub fraction: f64,
    /// Their indices, when asked for ([`DiagnosticsConfig::list_dead_units`](super::DiagnosticsConfig::list_dead_units)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silent_units: Vec<usize>,
    /// Per unit, the fraction of the pass's inputs in its active region (outside the silent
    /// region; 1 for a smooth activation), as f32: kept for probe passes (the heatmaps'
    /// numbers), empty for the other passes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_fraction: Vec<f32>,
    /// Units silent in the previous epoch and alive in this one: revived.
    pub revived: usize,
    /// Units alive in the previous epoch and silent in this one: newly died.
    pub newly_silent: usize,
    /// Largest |output| seen (the unbounded growth the article warns about).
    #[serde(with = "crate::history::json_float")]
    pub output_max_abs: f32,
    /// Mean output over the pass.
    #[serde(with = "crate::history::json_float")]
    pub output_mean: f32,
    /// Standard deviation of the outputs, pooled over the batches of the pass.
    #[serde(with = "crate::history::json_float")]
    pub output_std: f32,
}

/// Compare a layer's per-unit silent flags `now` with those of the last pass of its kind in
/// `previous` (if the layer had as many units): `(revived, newly silent)`; then remember `now`.
pub(super) fn revivals(
    previous: &mut BTreeMap<String, Vec<bool>>,
    path: &str,
    now: &[bool],
) -> (usize, usize) {
    let (mut revived, mut newly_silent) = (0, 0);
    if let Some(before) = previous.get(path).filter(|b| b.len() == now.len()) {
        for (&was, &is) in before.iter().zip(now) {
            revived += usize::from(was && !is);
            newly_silent += usize::from(!was && is);
        }
    }
    previous.insert(path.to_string(), now.to_vec());
    (revived, newly_silent)
}
