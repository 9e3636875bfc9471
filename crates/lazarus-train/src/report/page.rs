//! The page: the report's data turned into what the template shows, and the template run.
//!
//! The HTML is `page.html` (in the frame `base.html`), a minijinja template with HTML escaping
//! on (its name ends in `.html`): every text from the data (titles, layer names, warning
//! messages) is escaped, and only the SVG that plotters drew (which escapes its own text) is
//! inserted as it is, marked `|safe` where it happens.

use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

use super::binning::MAX_POINTS;
use super::figures::{Figure, Figures};
use super::heatmap::{DEAD, HeatmapView, INACTIVE, SCALE};
use super::{ReportData, Setting};
use crate::{Error, Result};

/// The templates, compiled into the library: the page never depends on a file at run time.
const TEMPLATE: &str = include_str!("page.html");
/// What the page of one run and the page of several share: style, heatmap, legend (macros).
const PARTS: &str = include_str!("parts.html");
/// The frame both pages extend: head, title, body.
const BASE: &str = include_str!("base.html");

/// Everything the template reads.
#[derive(Debug, Serialize)]
struct PageView<'a> {
    title: &'a str,
    model_summary: &'a str,
    settings: &'a [Setting],
    stopped_early: Option<&'a str>,
    epochs: usize,
    curves: Vec<Figure>,
    layers: Vec<HeatmapView>,
    dead_colour: &'static str,
    inactive_colour: &'static str,
    scale: &'static [&'static str],
    slopes: Vec<Figure>,
    gradients: Vec<Figure>,
    gradient_note: Option<String>,
    update_ratio: Option<Figure>,
    warnings: Vec<WarningRow<'a>>,
}

/// One row of the warnings table.
#[derive(Debug, Serialize)]
struct WarningRow<'a> {
    kind: &'a str,
    epoch: usize,
    subject: &'a str,
    value: String,
    message: &'a str,
}

/// Render the page of `data` (already checked).
pub(crate) fn render(data: &ReportData) -> Result<String> {
    let figures = Figures::of(data).map_err(|reason| Error::Plot {
        path: "<report>".into(),
        reason,
    })?;
    let gradient_note = data.gradient_norms.as_ref().and_then(|n| {
        (n.steps() > MAX_POINTS).then(|| {
            format!(
                "Downsampled: {} steps are drawn as at most {MAX_POINTS} points per curve, the \
                 smallest and largest value of each of {} bins, so every spike stays visible; a \
                 bin with clipped steps is marked once, at its largest clipped norm.",
                n.steps(),
                MAX_POINTS / 2
            )
        })
    });
    let view = PageView {
        title: &data.title,
        model_summary: &data.model_summary,
        settings: &data.settings,
        stopped_early: data.stopped_early.as_deref(),
        epochs: data.epochs.len(),
        curves: figures.curves,
        layers: (data.layers.iter().enumerate())
            .map(|(i, layer)| HeatmapView::new(layer, i))
            .collect(),
        dead_colour: DEAD,
        inactive_colour: INACTIVE,
        scale: &SCALE,
        slopes: figures.slopes,
        gradients: figures.gradients,
        gradient_note,
        update_ratio: figures.update_ratio,
        warnings: data
            .warnings
            .iter()
            .map(|w| WarningRow {
                kind: &w.kind,
                epoch: w.epoch,
                subject: w.subject.as_deref().unwrap_or("-"),
                value: w.value.map_or("-".into(), super::charts::short),
                message: &w.message,
            })
            .collect(),
    };
    render_template("page.html", TEMPLATE, &view)
}

/// Write a rendered page (`html`, or the error that stopped it) to `path`, atomically. A
/// plotting failure is made to name `path`.
pub(crate) fn write_page(html: Result<String>, path: &Path) -> Result<()> {
    let html = html.map_err(|e| match e {
        Error::Plot { reason, .. } => Error::Plot {
            path: path.to_path_buf(),
            reason,
        },
        e => e,
    })?;
    crate::atomic_file::write_atomically(path, html.as_bytes())
}

/// Run the template `source` (named `name`, with the shared parts and frame) on `view`.
pub(crate) fn render_template(name: &str, source: &str, view: &impl Serialize) -> Result<String> {
    let template_error =
        |e: minijinja::Error| Error::config("report", "template", format!("{e:#}"));
    let mut env = Environment::new();
    env.add_template("parts.html", PARTS)
        .map_err(template_error)?;
    env.add_template("base.html", BASE)
        .map_err(template_error)?;
    env.add_template(name, source).map_err(template_error)?;
    let template = env.get_template(name).map_err(template_error)?;
    template
        .render(minijinja::value::Serde(view))
        .map_err(template_error)
}
