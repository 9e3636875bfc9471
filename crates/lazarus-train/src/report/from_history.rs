//! From a run's [`History`] to [`ReportData`]: what the diagnostics recorded, epoch by epoch,
//! turned into the page's series (heatmap columns, slope boxes, step curves, warning rows).

use crate::History;
use crate::diagnostics::{EpochDiagnostics, LayerUnits, SilentKind};

use super::{
    EpochValue, GradientNorms, LayerActivity, ParamNorms, ReportData, ReportWarning, Setting,
    SlopeHistory, SlopeValues, UnitState, UpdateRatios,
};
use crate::Result;

impl ReportData {
    /// The report of a finished run, from its history (with diagnostics on: the probe passes,
    /// slopes, gradient norms and warnings live in each epoch's
    /// [`EpochDiagnostics`]), the model summary to show, and the run's settings.
    ///
    /// Everything the history holds is used: epoch 0 (the probe at initialization) and every
    /// epoch's probe become the heatmaps' columns; a layer without a silent region (Tanh,
    /// GELU, ...) gets no heatmap but a line in the settings. Without diagnostics the page has
    /// the curves only.
    ///
    /// ```
    /// use lazarus_train::report::ReportData;
    /// use lazarus_train::History;
    /// let data = ReportData::from_history("empty", &History::default(), "", Vec::new())?;
    /// assert!(data.layers.is_empty() && data.epochs.is_empty());
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when the history is inconsistent
    /// (a layer's probe columns not one value per unit).
    pub fn from_history(
        title: impl Into<String>,
        history: &History,
        model_summary: impl Into<String>,
        settings: Vec<Setting>,
    ) -> Result<Self> {
        Self::from_epochs(title, history, None, model_summary, settings)
    }

    /// [`from_history`](Self::from_history), plus what was measured of an epoch stopped by an
    /// error (`unfinished`: its number and diagnostics, without a probe).
    pub(crate) fn from_epochs(
        title: impl Into<String>,
        history: &History,
        unfinished: Option<(usize, &EpochDiagnostics)>,
        model_summary: impl Into<String>,
        mut settings: Vec<Setting>,
    ) -> Result<Self> {
        let finished = history.epochs.iter();
        let epochs: Vec<(usize, &EpochDiagnostics)> = finished
            .filter_map(|r| r.diagnostics.as_ref().map(|d| (r.epoch, d)))
            .chain(unfinished)
            .collect();
        let mut data = ReportData::new(title);
        data.model_summary = model_summary.into();
        data.epochs = ReportData::curves_from_history(history);
        let (layers, smooth) = layers(&epochs)?;
        data.layers = layers;
        if !smooth.is_empty() {
            let reason = "no silent region, so never dead: no heatmap";
            settings.push(Setting::new(
                "not drawn",
                format!("{} ({reason})", smooth.join(", ")),
            ));
        }
        data.settings = settings;
        data.slopes = slopes(&epochs);
        data.gradient_norms = gradient_norms(&epochs);
        data.update_ratios = update_ratios(history);
        data.warnings = (epochs.iter().flat_map(|(_, d)| &d.warnings))
            .map(|w| ReportWarning {
                kind: w.kind.name().into(),
                epoch: w.epoch,
                subject: w.subject.clone(),
                value: w.value,
                message: w.message.clone(),
            })
            .collect();
        Ok(data)
    }
}

/// The probe passes in order: `(epoch, units)`, epoch 0 (at initialization) first.
fn probes<'a>(
    epochs: &'a [(usize, &'a EpochDiagnostics)],
) -> impl Iterator<Item = (usize, &'a [LayerUnits])> {
    let at_init = (epochs.first()).and_then(|(_, d)| d.born_dead.as_ref());
    let at_init = at_init.map(|b| (0, &b.units[..]));
    let after = epochs.iter().map(|(e, d)| (*e, &d.units[..]));
    at_init
        .into_iter()
        .chain(after)
        .filter(|(_, u)| !u.is_empty())
}

/// One heatmap per activation layer with a silent region, and the labels of those without.
fn layers(epochs: &[(usize, &EpochDiagnostics)]) -> Result<(Vec<LayerActivity>, Vec<String>)> {
    let (mut layers, mut smooth): (Vec<LayerActivity>, Vec<String>) = (Vec::new(), Vec::new());
    for (epoch, units) in probes(epochs) {
        for u in units {
            let label = format!("{}[{}]", u.layer, u.path);
            if u.kind == SilentKind::Never {
                if !smooth.contains(&label) {
                    smooth.push(label);
                }
                continue;
            }
            if u.active_fraction.len() != u.units {
                continue; // an old file's units, without per-unit fractions
            }
            let at = match layers.iter().position(|l| l.path == u.path) {
                Some(at) => at,
                None => {
                    layers.push(LayerActivity::new(&u.path, &u.layer, u.unit_kind, u.units));
                    layers.len() - 1
                }
            };
            let silent = match u.kind {
                SilentKind::Dead => UnitState::Dead,
                _ => UnitState::Inactive,
            };
            let states = (u.active_fraction.iter())
                .map(|&f| if f == 0.0 { silent } else { UnitState::Active })
                .collect();
            layers[at].push_probe(epoch, u.active_fraction.clone(), states)?;
        }
    }
    Ok((layers, smooth))
}

/// Each slope parameter's values at initialization and after each epoch.
fn slopes(epochs: &[(usize, &EpochDiagnostics)]) -> Vec<SlopeHistory> {
    let at_init = (epochs.first()).and_then(|(_, d)| d.born_dead.as_ref());
    let at_init = at_init.map(|b| (0, &b.slopes[..]));
    let after = epochs.iter().map(|(e, d)| (*e, &d.slopes[..]));
    let mut out: Vec<SlopeHistory> = Vec::new();
    for (epoch, params) in at_init.into_iter().chain(after) {
        for p in params {
            let history = match out.iter_mut().position(|s| s.param == p.param) {
                Some(at) => &mut out[at],
                None => {
                    out.push(SlopeHistory {
                        param: p.param.clone(),
                        layer: owner(epochs, &p.param),
                        epochs: Vec::new(),
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            let values = p.values.clone();
            history.epochs.push(SlopeValues { epoch, values });
        }
    }
    out
}

/// The activation layer a parameter belongs to, as `prelu[1]` (`1.weight` → path `1`).
fn owner(epochs: &[(usize, &EpochDiagnostics)], param: &str) -> String {
    let path = param.rsplit_once('.').map_or("", |(layer, _)| layer);
    let named = probes(epochs)
        .flat_map(|(_, units)| units)
        .find(|u| u.path == path);
    named.map_or_else(
        || format!("layer {path}"),
        |u| format!("{}[{}]", u.layer, u.path),
    )
}

/// Every step's norms, epochs end to end, when every epoch kept them for the same parameters.
fn gradient_norms(epochs: &[(usize, &EpochDiagnostics)]) -> Option<GradientNorms> {
    let (_, first) = epochs.first()?;
    let names: Vec<&str> = first.gradients.iter().map(|g| g.param.as_str()).collect();
    let mut norms = GradientNorms {
        params: (names.iter())
            .map(|p| ParamNorms {
                param: p.to_string(),
                norms: Vec::new(),
            })
            .collect(),
        ..GradientNorms::default()
    };
    let mut lengths = Vec::new();
    for (_, d) in epochs {
        let steps = d.step_norms.as_ref()?;
        let same = d
            .gradients
            .iter()
            .map(|g| g.param.as_str())
            .eq(names.iter().copied());
        if !same || steps.params.len() != names.len() {
            return None;
        }
        let offset = norms.total.len();
        norms
            .total
            .extend(steps.total.iter().map(|&v| f64::from(v)));
        for (p, values) in norms.params.iter_mut().zip(&steps.params) {
            p.norms.extend(values.iter().map(|&v| f64::from(v)));
        }
        norms
            .clipped
            .extend(steps.clipped.iter().map(|s| s + offset));
        norms.max_norm = norms.max_norm.or(steps.max_norm);
        lengths.push(steps.total.len());
    }
    // The epoch guides need equal epochs; a stopped last epoch may be shorter.
    let full = &lengths[..lengths.len().saturating_sub(1)];
    let per = lengths.first().copied().filter(|&n| n > 0);
    norms.steps_per_epoch = per.filter(|&n| full.iter().all(|&m| m == n));
    Some(norms)
}

/// Each parameter's mean update ratio per finished epoch.
fn update_ratios(history: &History) -> Vec<UpdateRatios> {
    let mut out: Vec<UpdateRatios> = Vec::new();
    for record in &history.epochs {
        for g in record.diagnostics.iter().flat_map(|d| &d.gradients) {
            let value = EpochValue {
                epoch: record.epoch,
                value: g.update_ratio,
            };
            match out.iter_mut().find(|r| r.param == g.param) {
                Some(r) => r.epochs.push(value),
                None => out.push(UpdateRatios {
                    param: g.param.clone(),
                    epochs: vec![value],
                }),
            }
        }
    }
    out
}
