//! Several runs on one page, side by side: the dying-ReLU lab's four activations under each
//! setting, so that "Leaky ReLU, PReLU and ELU keep their units alive where ReLU loses them" is
//! one page to look at.
//!
//! [`Comparison`] holds groups of runs (one group per training setting), each run a
//! [`ReportData`]. The page: a summary table (per run, accuracy and the share of units silent
//! at initialization and at the end, per layer), then per group and section the runs next to
//! each other: the share of silent units per epoch (one line per run), the heatmaps (one
//! column per run, drawn small), the loss and accuracy, the PReLU slopes, the total gradient
//! norm per step, and every warning. Self-contained like the page of one run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::binning::{MAX_POINTS, decimate};
use super::charts::{CLIPPED, Line, LineChart, PALETTE};
use super::figures::{Figure, SMALL, figure};
use super::heatmap::{COMPACT, DEAD, HeatmapView, INACTIVE, SCALE};
use super::{LayerActivity, ReportData, Setting, UnitState};
use crate::{Error, Result};

/// The comparison page's template.
const TEMPLATE: &str = include_str!("comparison.html");

/// Runs to show side by side, in groups (one group per training setting).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Comparison {
    /// The page's title and heading.
    pub title: String,
    /// A paragraph under the heading: what is compared, and what to look for.
    pub intro: String,
    /// Settings every run shares (data, architecture, probe set).
    pub settings: Vec<Setting>,
    /// The groups, in order; each is drawn as a row of its runs.
    pub groups: Vec<RunGroup>,
}

/// Runs trained under one setting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunGroup {
    /// Short name (`"harsh"`).
    pub name: String,
    /// What the setting is (`"Adam lr 0.02"`).
    pub description: String,
    /// The runs, each titled by what differs (`"relu"`, `"prelu"`).
    pub runs: Vec<ReportData>,
}

/// The comparison page, as HTML text.
///
/// ```
/// use lazarus_train::report::{render_comparison, Comparison, ReportData, RunGroup};
/// let group = RunGroup { name: "gentle".into(), description: "SGD".into(),
///     runs: vec![ReportData::new("relu"), ReportData::new("elu")] };
/// let page = Comparison { title: "lab".into(), groups: vec![group], ..Comparison::default() };
/// assert!(render_comparison(&page)?.contains("<h1>lab</h1>"));
/// # Ok::<(), lazarus_train::Error>(())
/// ```
///
/// # Errors
/// As [`render_report`](super::render_report), for any run.
pub fn render_comparison(comparison: &Comparison) -> Result<String> {
    let runs = comparison.groups.iter().flat_map(|g| &g.runs);
    for run in runs.clone() {
        run.layers.iter().try_for_each(LayerActivity::check)?;
        if let Some(norms) = &run.gradient_norms {
            norms.check()?;
        }
    }
    let plot_error = |reason| Error::Plot {
        path: "<comparison>".into(),
        reason,
    };
    let groups = (comparison.groups.iter().enumerate())
        .map(|(g, group)| GroupView::new(g, group))
        .collect::<Result<Vec<_>, String>>()
        .map_err(plot_error)?;
    let view = PageView {
        title: &comparison.title,
        intro: &comparison.intro,
        settings: &comparison.settings,
        dead_colour: DEAD,
        inactive_colour: INACTIVE,
        scale: &SCALE,
        summary: comparison.groups.iter().flat_map(summary_rows).collect(),
        layers: (1..=runs.clone().map(|r| r.layers.len()).max().unwrap_or(0)).collect(),
        warnings: (comparison.groups.iter())
            .flat_map(|g| g.runs.iter().map(move |r| (g, r)))
            .flat_map(|(g, r)| r.warnings.iter().map(move |w| (g, r, w)))
            .map(|(g, r, w)| WarningRow {
                group: &g.name,
                run: &r.title,
                epoch: w.epoch,
                kind: &w.kind,
                subject: w.subject.as_deref().unwrap_or("-"),
                message: &w.message,
            })
            .collect(),
        groups,
    };
    super::page::render_template("comparison.html", TEMPLATE, &view)
}

/// Write the comparison page to `path` (atomically).
///
/// # Errors
/// Those of [`render_comparison`] (a plotting failure names `path`), and
/// [`Error::Io`](crate::Error::Io) naming `path` when writing fails.
pub fn write_comparison(comparison: &Comparison, path: impl AsRef<Path>) -> Result<()> {
    super::page::write_page(render_comparison(comparison), path.as_ref())
}

/// Everything the template reads.
#[derive(Debug, Serialize)]
struct PageView<'a> {
    title: &'a str,
    intro: &'a str,
    settings: &'a [Setting],
    dead_colour: &'static str,
    inactive_colour: &'static str,
    scale: &'static [&'static str],
    summary: Vec<SummaryRow>,
    /// The most layers of a run: the summary's columns.
    layers: Vec<usize>,
    groups: Vec<GroupView>,
    warnings: Vec<WarningRow<'a>>,
}

/// One group's charts and its runs' heatmaps.
#[derive(Debug, Serialize)]
struct GroupView {
    id: String,
    name: String,
    description: String,
    silent: Figure,
    curves: Vec<Figure>,
    runs: Vec<RunView>,
    slopes: Vec<Figure>,
    gradients: Option<Figure>,
}

/// One run's column of heatmaps.
#[derive(Debug, Serialize)]
struct RunView {
    title: String,
    stopped: Option<String>,
    layers: Vec<HeatmapView>,
}

/// One row of the summary table.
#[derive(Debug, Serialize)]
struct SummaryRow {
    group: String,
    run: String,
    loss: String,
    accuracy: String,
    /// Per hidden layer: `2 → 47% dead` (at initialization → after the last epoch).
    silent: Vec<String>,
    stopped: bool,
}

/// One row of the warnings table.
#[derive(Debug, Serialize)]
struct WarningRow<'a> {
    group: &'a str,
    run: &'a str,
    epoch: usize,
    kind: &'a str,
    subject: &'a str,
    message: &'a str,
}

/// Units silent at probe `p` of `layer` (dead or inactive).
fn silent_at(layer: &LayerActivity, p: usize) -> usize {
    layer.probes[p]
        .state
        .iter()
        .filter(|s| s.is_silent())
        .count()
}

/// What the layer's silent units are: `dead`, `inactive`, or `silent` if none ever was.
fn silent_word(layer: &LayerActivity) -> &'static str {
    let states = || layer.probes.iter().flat_map(|p| &p.state);
    if states().any(|&s| s == UnitState::Dead) {
        "dead"
    } else if states().any(|&s| s == UnitState::Inactive) {
        "inactive"
    } else {
        "silent"
    }
}

/// Percent, to the nearest whole number.
fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn summary_rows(group: &RunGroup) -> Vec<SummaryRow> {
    let last = |r: &ReportData| r.epochs.last().cloned();
    (group.runs.iter())
        .map(|run| SummaryRow {
            group: group.name.clone(),
            run: run.title.clone(),
            loss: last(run).map_or("-".into(), |e| format!("{:.4}", e.train_loss)),
            accuracy: last(run)
                .and_then(|e| e.val_accuracy.or(e.train_accuracy))
                .map_or("-".into(), |a| format!("{:.1}%", 100.0 * a)),
            silent: (run.layers.iter())
                .filter(|l| !l.probes.is_empty())
                .map(|l| {
                    let first = percent(silent_at(l, 0), l.units);
                    let end = percent(silent_at(l, l.probes.len() - 1), l.units);
                    format!("{first:.0} → {end:.0}% {}", silent_word(l))
                })
                .collect(),
            stopped: run.stopped_early.is_some(),
        })
        .collect()
}

impl GroupView {
    fn new(g: usize, group: &RunGroup) -> Result<Self, String> {
        let colour = |i: usize| PALETTE[i % PALETTE.len()];
        let line = |i: usize, run: &ReportData, points: Vec<(f64, f64)>| Line {
            name: run.title.clone(),
            points,
            colour: colour(i),
            dots: true,
        };
        let chart = |title: String, x: &str, y: &str, lines: Vec<Line>| LineChart {
            title,
            x_label: x.into(),
            y_label: y.into(),
            size: SMALL,
            lines,
            ..LineChart::default()
        };
        let runs = || group.runs.iter().enumerate();
        // The share of hidden units silent on the probe set, epoch 0 (initialization) on.
        let silent_lines = runs()
            .filter(|(_, run)| !run.layers.is_empty())
            .map(|(i, run)| {
                let probes = run.layers[0].probes.len();
                let points = (0..probes).map(|p| {
                    let (silent, units) = (run.layers.iter())
                        .filter(|l| l.probes.len() > p)
                        .fold((0, 0), |(s, n), l| (s + silent_at(l, p), n + l.units));
                    (run.layers[0].probes[p].epoch as f64, percent(silent, units))
                });
                line(i, run, points.collect())
            })
            .collect();
        let title = format!("{}: % of hidden units silent", group.name);
        let silent = LineChart {
            include_y: vec![0.0, 10.0],
            ..chart(
                title,
                "epoch (0 = at initialization)",
                "% silent on the probe set",
                silent_lines,
            )
        };
        let curve = |f: &dyn Fn(&super::EpochCurves) -> Option<f64>| {
            (runs().map(|(i, run)| {
                let points = run
                    .epochs
                    .iter()
                    .filter_map(|e| Some((e.epoch as f64, f(e)?)));
                line(i, run, points.collect())
            }))
            .filter(|l| !l.points.is_empty())
            .collect::<Vec<_>>()
        };
        let loss = chart(
            format!("{}: training loss", group.name),
            "epoch",
            "loss",
            curve(&|e| Some(e.train_loss)),
        );
        let accuracy = curve(&|e| e.val_accuracy.or(e.train_accuracy));
        let mut curves = vec![figure(format!("loss:{}", group.name), loss.render())?];
        if !accuracy.is_empty() {
            let accuracy = chart(
                format!("{}: accuracy", group.name),
                "epoch",
                "accuracy",
                accuracy,
            );
            curves.push(figure(
                format!("accuracy:{}", group.name),
                accuracy.render(),
            )?);
        }
        let gradient_lines: Vec<Line> = runs()
            .filter_map(|(i, run)| {
                let norms = run.gradient_norms.as_ref().filter(|n| n.steps() > 0)?;
                let points = decimate(&norms.total, MAX_POINTS);
                let points = points.into_iter().map(|(s, v)| (s as f64, v)).collect();
                Some(Line {
                    dots: false,
                    ..line(i, run, points)
                })
            })
            .collect();
        let max_norm = runs().find_map(|(_, r)| r.gradient_norms.as_ref()?.max_norm);
        let gradients = (!gradient_lines.is_empty()).then(|| LineChart {
            title: format!(
                "{}: total gradient norm per step (before clipping)",
                group.name
            ),
            log_y: true,
            size: (920, 320),
            reference: max_norm.map(|m| (format!("max_norm = {m}"), m, CLIPPED)),
            ..chart(String::new(), "optimizer step", "‖∇‖₂", gradient_lines)
        });
        let gradients = match gradients {
            Some(chart) => Some(figure(format!("grad-norm:{}", group.name), chart.render())?),
            None => None,
        };
        let mut slopes = Vec::new();
        for (_, run) in runs() {
            slopes.extend(super::slopes::slopes(&run.slopes)?);
        }
        let run_views = runs()
            .map(|(r, run)| RunView {
                title: run.title.clone(),
                stopped: run.stopped_early.clone(),
                layers: (run.layers.iter().enumerate())
                    .map(|(l, layer)| HeatmapView::sized(layer, format!("g{g}-r{r}-l{l}"), COMPACT))
                    .collect(),
            })
            .collect();
        Ok(Self {
            id: format!("group-{g}"),
            name: group.name.clone(),
            description: group.description.clone(),
            silent: figure(format!("silent:{}", group.name), silent.render())?,
            curves,
            runs: run_views,
            slopes,
            gradients,
        })
    }
}
