//! The report's charts built from its data: which chart shows what, and how large runs are
//! thinned for them (see [`binning`](super::binning)).

use serde::Serialize;

use super::binning::{MAX_POINTS, clipped_markers, decimate};
use super::charts::{CLIPPED, GUIDE, Line, LineChart, PALETTE, short};
use super::{EpochCurves, GradientNorms, ReportData, UpdateRatios};

/// One chart of the page, as SVG text.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Figure {
    /// What it shows, for the `data-chart` attribute (`loss`, `grad-norm:0.weight`).
    pub name: String,
    /// The `<svg>` element plotters drew.
    pub svg: String,
}

/// Small charts side by side; wide ones alone on a line.
pub(crate) const SMALL: (u32, u32) = (440, 300);
const WIDE: (u32, u32) = (920, 340);

pub(crate) fn figure(
    name: impl Into<String>,
    chart: Result<String, String>,
) -> Result<Figure, String> {
    let name = name.into();
    let svg = chart.map_err(|e| format!("{name} chart: {e}"))?;
    Ok(Figure { name, svg })
}

fn line(name: &str, colour: usize, points: Vec<(f64, f64)>, dots: bool) -> Line {
    Line {
        name: name.into(),
        points,
        colour: PALETTE[colour % PALETTE.len()],
        dots,
    }
}

/// Loss and accuracy (training and validation) per epoch, and the learning rate when it
/// changes.
pub(crate) fn curves(epochs: &[EpochCurves]) -> Result<Vec<Figure>, String> {
    let few = epochs.len() <= 30;
    let curve = |name: &str, colour, f: &dyn Fn(&EpochCurves) -> Option<f64>| {
        let points: Vec<_> = epochs
            .iter()
            .filter_map(|e| f(e).map(|v| (e.epoch as f64, v)))
            .collect();
        (!points.is_empty()).then(|| line(name, colour, points, few))
    };
    let chart = |title: &str, y: &str, lines: Vec<Option<Line>>| LineChart {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y.into(),
        size: SMALL,
        lines: lines.into_iter().flatten().collect(),
        ..LineChart::default()
    };
    let loss = chart(
        "Loss",
        "loss",
        vec![
            curve("train", 0, &|e| Some(e.train_loss)),
            curve("validation", 1, &|e| e.val_loss),
        ],
    );
    let accuracy = chart(
        "Accuracy",
        "accuracy",
        vec![
            curve("train", 0, &|e| e.train_accuracy),
            curve("validation", 1, &|e| e.val_accuracy),
        ],
    );
    let mut figures = vec![figure("loss", loss.render())?];
    if !accuracy.lines.is_empty() {
        figures.push(figure("accuracy", accuracy.render())?);
    }
    if epochs.windows(2).any(|w| w[0].lr != w[1].lr) {
        let lr = chart("Learning rate", "lr", vec![curve("", 2, &|e| Some(e.lr))]);
        figures.push(figure("lr", lr.render())?);
    }
    Ok(figures)
}

/// The total gradient norm per step with its clipped steps and threshold (wide), then one
/// small chart per parameter; log scale.
pub(crate) fn gradient_norms(norms: &GradientNorms) -> Result<Vec<Figure>, String> {
    let steps = norms.steps();
    let thinned = steps > MAX_POINTS;
    let as_x = |points: Vec<(usize, f64)>| points.into_iter().map(|(s, v)| (s as f64, v)).collect();
    let guides: Vec<f64> = match norms.steps_per_epoch {
        Some(per) if steps / per <= 60 => (per..steps).step_by(per).map(|s| s as f64).collect(),
        _ => Vec::new(),
    };
    let markers = clipped_markers(&norms.clipped, &norms.total, MAX_POINTS / 2);
    let clipped_label = format!("clipped ({} steps)", norms.clipped.len());
    let total = LineChart {
        title: "Total gradient norm per step (before clipping)".into(),
        x_label: "optimizer step".into(),
        y_label: "‖∇‖₂".into(),
        size: WIDE,
        log_y: true,
        lines: vec![line(
            "all parameters",
            7,
            as_x(decimate(&norms.total, MAX_POINTS)),
            false,
        )],
        marked: (!norms.clipped.is_empty()).then(|| (clipped_label, as_x(markers))),
        reference: norms
            .max_norm
            .map(|m| (format!("max_norm = {}", short(m)), m, CLIPPED)),
        guides: guides.clone(),
        include_y: Vec::new(),
    };
    let mut figures = vec![figure("grad-norm:total", total.render())?];
    for (i, p) in norms.params.iter().enumerate() {
        let chart = LineChart {
            title: p.param.clone(),
            x_label: "optimizer step".into(),
            y_label: "‖∇‖₂".into(),
            size: (300, 210),
            log_y: true,
            lines: vec![line(
                "",
                i,
                as_x(decimate(&p.norms, MAX_POINTS)),
                !thinned && steps <= 30,
            )],
            guides: guides.clone(),
            ..LineChart::default()
        };
        figures.push(figure(format!("grad-norm:{}", p.param), chart.render())?);
    }
    Ok(figures)
}

/// Update ratios per epoch, one line per parameter, with the usual healthy value for SGD.
pub(crate) fn update_ratios(ratios: &[UpdateRatios]) -> Result<Option<Figure>, String> {
    if ratios.is_empty() {
        return Ok(None);
    }
    let lines = ratios.iter().enumerate().map(|(i, r)| {
        let points = r.epochs.iter().map(|e| (e.epoch as f64, e.value)).collect();
        line(&r.param, i, points, r.epochs.len() <= 30)
    });
    let chart = LineChart {
        title: "Update ratio ‖Δw‖ / ‖w‖ per epoch".into(),
        x_label: "epoch".into(),
        y_label: "update ratio".into(),
        size: WIDE,
        log_y: true,
        lines: lines.collect(),
        reference: Some(("1e-3: a common rule of thumb for SGD".into(), 1e-3, GUIDE)),
        ..LineChart::default()
    };
    figure("update-ratio", chart.render()).map(Some)
}

/// Every chart of `data`, by section.
pub(crate) struct Figures {
    pub curves: Vec<Figure>,
    pub gradients: Vec<Figure>,
    pub update_ratio: Option<Figure>,
    pub slopes: Vec<Figure>,
}

impl Figures {
    pub(crate) fn of(data: &ReportData) -> Result<Self, String> {
        Ok(Self {
            curves: curves(&data.epochs)?,
            gradients: match &data.gradient_norms {
                Some(n) if n.steps() > 0 => gradient_norms(n)?,
                _ => Vec::new(),
            },
            update_ratio: update_ratios(&data.update_ratios)?,
            slopes: super::slopes::slopes(&data.slopes)?,
        })
    }
}
