//! What the diagnostics report for an epoch ([`EpochDiagnostics`]), for a person and for
//! tools: a per-epoch table, a flat CSV, a plot.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{BornDead, GradFlow, LayerUnits, ParamValues, SilentKind, StepNorms, Warning};
use crate::{History, Result};

/// Everything the diagnostics measured in one epoch.
///
/// What is kept, per epoch: per activation layer one [`LayerUnits`] per pass (with one f32
/// active fraction per unit for the probe), per parameter one [`GradFlow`] and, unless turned
/// off, one f32 gradient norm per step ([`StepNorms`]), and the PReLU slopes (one f32 each).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochDiagnostics {
    /// **The** dead-unit measurement: the probe pass after the epoch. Per activation layer, in
    /// model order, the units silent on every probe input with the epoch's final weights (dead
    /// or inactive, see [`SilentKind`]), each unit's active fraction, and the units revived and
    /// newly silent since the previous probe (epoch 0's for the first epoch). Empty when no
    /// probe ran (your own loop without [`Diagnostics::probe`](super::Diagnostics::probe)).
    #[serde(default)]
    pub units: Vec<LayerUnits>,
    /// A cheaper, secondary count: per activation layer, the units silent on every *training
    /// batch* of the epoch, measured while the weights moved. For a unit whose silent kind is
    /// dead, that means no gradient reached its weights all epoch: it did not learn at all
    /// this epoch. It is not the definition of dead: a unit that died halfway through the
    /// epoch fired on the early batches and counts as alive here. (Files written before the
    /// probe pass call this list `train_units`.)
    #[serde(default, alias = "train_units", skip_serializing_if = "Vec::is_empty")]
    pub silent_all_epoch: Vec<LayerUnits>,
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
    /// Every step's gradient norms (before clipping) and which steps were clipped, when kept
    /// ([`DiagnosticsConfig::keep_step_norms`](super::DiagnosticsConfig::keep_step_norms)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_norms: Option<StepNorms>,
    /// The slope parameters (PReLU's, role `Slope`) after the epoch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slopes: Vec<ParamValues>,
    /// The probe at initialization (epoch 0), before any update: units, slopes, and whether
    /// the network is born dead (first epoch of a run only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born_dead: Option<BornDead>,
    /// Warnings raised during the epoch (and, in the first epoch, at initialization), also
    /// when printing them is off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// A number in 9 characters: fixed point in the readable range, scientific outside it.
fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        format!("{v:>9.4}")
    } else {
        format!("{v:>9.2e}")
    }
}

impl EpochDiagnostics {
    /// The per-epoch table: one row per activation layer (silent kind, % silent on the probe
    /// set and on the validation set, revived and newly silent units, % silent on every
    /// training batch, output max), one row per parameter (mean and max gradient norm, update
    /// ratio), and the total gradient norm before clipping.
    ///
    /// ```
    /// use lazarus_train::diagnostics::EpochDiagnostics;
    /// let table = EpochDiagnostics::default().table();
    /// assert!(table.contains("probe %") && table.contains("max |grad|"));
    /// ```
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {:<16} {:<8} {:>8} {:>8} {:>8} {:>8} {:>11} {:>10}",
            "layer", "silent", "probe %", "val %", "revived", "died", "all-epoch %", "output max"
        );
        let percent = |u: &LayerUnits| match u.kind {
            SilentKind::Never => "-".to_string(),
            _ => format!("{:.1}", 100.0 * u.fraction),
        };
        let in_list = |list: &[LayerUnits], path: &str| {
            list.iter()
                .find(|v| v.path == path)
                .map_or("-".to_string(), percent)
        };
        // The probe's layers; without a probe (a loop that does not run one), the training
        // batches' layers.
        let layers = if self.units.is_empty() {
            &self.silent_all_epoch
        } else {
            &self.units
        };
        for u in layers {
            let probed = !self.units.is_empty();
            let _ = writeln!(
                out,
                "  {:<16} {:<8} {:>8} {:>8} {:>8} {:>8} {:>11} {:>10}",
                format!("{}[{}]", u.layer, u.path),
                u.kind.label(),
                if probed { percent(u) } else { "-".into() },
                in_list(&self.validation_units, &u.path),
                if probed {
                    u.revived.to_string()
                } else {
                    "-".into()
                },
                if probed {
                    u.newly_silent.to_string()
                } else {
                    "-".into()
                },
                in_list(&self.silent_all_epoch, &u.path),
                num(f64::from(u.output_max_abs)).trim()
            );
        }
        let _ = writeln!(
            out,
            "  {:<16} {:>11} {:>10} {:>12}",
            "parameter", "mean |grad|", "max |grad|", "update ratio"
        );
        for g in &self.gradients {
            let _ = writeln!(
                out,
                "  {:<16} {:>11} {:>10} {:>12}",
                g.param,
                num(g.mean_norm),
                num(g.max_norm),
                num(g.update_ratio)
            );
        }
        let _ = write!(
            out,
            "  total |grad| over {} steps: mean {}, max {} (before clipping)",
            self.steps,
            num(self.mean_total_grad_norm).trim(),
            num(self.max_total_grad_norm).trim()
        );
        if let Some(clipped) = self.clipped_steps {
            let _ = write!(out, "; clipped in {clipped} steps");
        }
        out.push('\n');
        out
    }
}

/// The diagnostics of every epoch of `history` as CSV, one row per (epoch, set, layer) and per
/// (epoch, parameter): the columns are
/// `epoch,set,path,layer,kind,units,silent,fraction,revived,newly_silent,output_mean,output_std,output_max_abs,mean_norm,max_norm,update_ratio`,
/// with `set` one of `probe` (the dead-unit measurement, at epoch 0 for the probe at
/// initialization), `validation`, `all_epoch` (silent on every training batch of the epoch)
/// and `gradient`, and empty cells where a column does not apply. Numbers are written as
/// [`History::to_csv`] writes them: exponents for very large or small values, `NaN`, `inf` and
/// `-inf` for the others. (`History::to_csv` keeps one row per epoch; this is its long-format
/// companion, ready for a spreadsheet or pandas.)
///
/// ```
/// use lazarus_train::History;
/// use lazarus_train::diagnostics::diagnostics_csv;
/// assert!(diagnostics_csv(&History::default()).starts_with("epoch,set,path"));
/// ```
pub fn diagnostics_csv(history: &History) -> String {
    let mut out = String::from(
        "epoch,set,path,layer,kind,units,silent,fraction,revived,newly_silent,output_mean,output_std,output_max_abs,mean_norm,max_norm,update_ratio\n",
    );
    for record in &history.epochs {
        let Some(d) = &record.diagnostics else {
            continue;
        };
        let born: &[LayerUnits] = d.born_dead.as_ref().map_or(&[], |b| &b.units);
        for (epoch, set, units) in [
            (0, "probe", born),
            (record.epoch, "probe", &d.units[..]),
            (record.epoch, "validation", &d.validation_units[..]),
            (record.epoch, "all_epoch", &d.silent_all_epoch[..]),
        ] {
            for u in units {
                let _ = writeln!(
                    out,
                    "{epoch},{set},{},{},{},{},{},{:?},{},{},{:?},{:?},{:?},,,",
                    u.path,
                    u.layer,
                    u.kind.label(),
                    u.units,
                    u.silent,
                    u.fraction,
                    u.revived,
                    u.newly_silent,
                    u.output_mean,
                    u.output_std,
                    u.output_max_abs
                );
            }
        }
        for g in &d.gradients {
            let _ = writeln!(
                out,
                "{},gradient,{},,,,,,,,,,,{:?},{:?},{:?}",
                record.epoch, g.param, g.mean_norm, g.max_norm, g.update_ratio
            );
        }
    }
    out
}

/// Plot, for each activation layer with a silent region, the percentage of its units that were
/// silent on every probe input (dead or inactive, see [`SilentKind`]) at initialization (epoch
/// 0) and after each epoch of `history`, into an SVG file. Every point is the same measurement:
/// the fixed probe set, with the weights of that moment.
///
/// # Errors
/// [`Error::Plot`](crate::Error::Plot) naming the file.
pub fn plot_silent_fractions(history: &History, path: impl AsRef<std::path::Path>) -> Result<()> {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for record in &history.epochs {
        let Some(d) = &record.diagnostics else {
            continue;
        };
        let at_init = d
            .born_dead
            .iter()
            .flat_map(|b| b.units.iter().map(|u| (0, u)));
        let after = d.units.iter().map(|u| (record.epoch, u));
        for (epoch, u) in at_init.chain(after) {
            if u.kind == SilentKind::Never {
                continue;
            }
            series
                .entry(format!("{}[{}] {}", u.layer, u.path, u.kind.label()))
                .or_default()
                .push((epoch as f64, 100.0 * u.fraction));
        }
    }
    let chart = crate::plot::Chart {
        title: "Silent units per layer (probe set, fixed weights)".into(),
        x_label: "epoch (0 = at initialization)".into(),
        y_label: "% of units silent on every probe input".into(),
        series: series
            .into_iter()
            .map(|(name, points)| crate::plot::Series::new(name, points))
            .collect(),
    };
    crate::plot::write_svg(path, &[chart], 1)
}
