//! The diagnostics' settings: thresholds for the warnings, what to print and what to keep.

use crate::{Error, Result};

/// Thresholds for warnings, whether to print them, and what to print or keep.
///
/// Turn one warning off with `dead_fraction_warning: 1.0`, `spike_factor: f64::INFINITY` or
/// `vanishing_norm: 0.0`; `warnings: false` silences all of them (they are still recorded in
/// [`EpochDiagnostics::warnings`](super::EpochDiagnostics::warnings)). The warning about a bias
/// before a BatchNorm has no threshold: it is decided by the model's structure (a bias of a
/// layer followed directly, in the same `Sequential`, by a BatchNorm1d/2d, which cancels it;
/// once per run). The rules of every warning, with the reasons and the lab's numbers, are
/// written out in `diagnostics/warnings.rs`, where the warnings are raised.
/// [`Diagnostics::new`](super::Diagnostics::new) (and so
/// [`Trainer::diagnostics`](crate::Trainer::diagnostics)) checks the settings: a
/// `dead_fraction_warning` in [0, 1], a `spike_factor` of at least 1 (infinity allowed), a
/// finite `vanishing_norm` ≥ 0, an `update_ratio_every` and a `probe_samples` of at least 1;
/// NaN is never accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticsConfig {
    /// Warn when more than this fraction of a layer's units are dead on the probe set (0.5).
    pub dead_fraction_warning: f64,
    /// Gradient spike (10): once 10 steps are recorded, a step spikes when its total gradient
    /// norm (all parameters together, before clipping) exceeds this multiple of the median of
    /// the previous 20 steps' total norms. Each epoch with spiking steps gets one warning with
    /// their count, the largest ratio, and the parameter whose norm rose the most. A healthy
    /// start, whose norm grows steadily as the network leaves its initialization, stays below
    /// it; an explosion, 10x and more within a few steps, does not (`diagnostics/warnings.rs`
    /// gives the reasons and the lab's numbers). A non-finite norm is not judged here: the
    /// trainer stops at the first non-finite loss or weight.
    pub spike_factor: f64,
    /// Warn when a parameter's gradient norm stays below this for a whole epoch (1e-7); not
    /// for a bias whose layer feeds a BatchNorm directly, which always gets no gradient (the
    /// `bias_before_norm` warning says so instead).
    pub vanishing_norm: f64,
    /// Print warnings to stderr (each kind once per layer or parameter, gradient spikes once
    /// per epoch, at its end). When stderr fails,
    /// later warnings are only recorded and
    /// [`Diagnostics::end_epoch`](super::Diagnostics::end_epoch) reports the failure.
    pub warnings: bool,
    /// Print the per-layer table ([`EpochDiagnostics::table`](super::EpochDiagnostics::table))
    /// after each epoch.
    pub print_table: bool,
    /// Keep the indices of silent units in the reports
    /// ([`LayerUnits::silent_units`](super::LayerUnits::silent_units)).
    pub list_dead_units: bool,
    /// Measure the update-to-weight ratio on every n-th step of an epoch (the first, the
    /// (n+1)-th, ...) and average over those (10). Measuring needs a copy of every parameter
    /// before the step and two more passes after it, which at batch 32 would cost as much as
    /// a third of the training step; a sample of the steps gives the same picture. 1 measures
    /// every step. Gradient norms are always taken at every step.
    pub update_ratio_every: usize,
    /// Size of the probe set (2,048): the training samples, drawn once at the start of `fit`
    /// with the trainer's seed, on which every probe pass judges the units (at initialization
    /// and after each epoch; see [`ProbeSet`](super::ProbeSet)). The whole training set if it
    /// is smaller.
    pub probe_samples: usize,
    /// Keep every step's gradient norms in the history ([`StepNorms`](super::StepNorms), f32):
    /// the report's gradient curves (true).
    pub keep_step_norms: bool,
}

/// The default probe set size.
pub const DEFAULT_PROBE_SAMPLES: usize = 2048;

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
            probe_samples: DEFAULT_PROBE_SAMPLES,
            keep_step_norms: true,
        }
    }
}

impl DiagnosticsConfig {
    /// Every setting in its range (see the type's docs).
    pub(super) fn check(&self) -> Result<()> {
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
        check(every >= 1, "update_ratio_every", "at least 1", every as f64)?;
        let probe = self.probe_samples;
        check(probe >= 1, "probe_samples", "at least 1", probe as f64)
    }
}
