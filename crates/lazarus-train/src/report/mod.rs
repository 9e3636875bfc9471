//! A training run as one self-contained HTML page: watch units die.
//!
//! [`ReportData`] holds what a run measured, as plain data: the loss and accuracy per epoch,
//! per activation layer and per unit how often it fired on a fixed probe set after each epoch
//! (and whether it was dead, inactive or active), the PReLU slopes, the gradient norm of every
//! step, the update ratios and the warnings. [`ReportData::from_history`] builds it from a
//! finished run's [`History`](crate::History) (with [diagnostics](crate::diagnostics) on), and
//! [`Trainer::report`](crate::Trainer::report) writes it at the end of `fit`.
//! [`render_report`] turns it into one HTML page and [`write_report`] saves that page;
//! [`render_comparison`] puts several runs side by side on one page (the lab's).
//!
//! # The page
//!
//! Sections, in order: the model and the run's settings; the loss/accuracy curves; one heatmap
//! per activation layer (units × epochs, units sorted by the epoch they went silent; dead
//! units black, inactive units orange, active fraction on a yellow-to-blue scale; hover a row
//! for its values); the PReLU slopes' spread per epoch; gradient norms per step (clipped steps
//! in red); update ratios; every warning with its epoch and layer. A run stopped by a
//! non-finite value ([`ReportData::stopped_early`]) says so first.
//!
//! The page references nothing outside itself: charts are inline SVG (drawn with plotters,
//! except the heatmaps: see `heatmap.rs`), styles are inline, fonts are the browser's, and the
//! one small script (checkboxes to hide layers) is optional: without it every layer shows.
//! It opens from disk in any browser, with no network.
//!
//! # Large runs
//!
//! A heatmap shows at most 256 rows and 120 columns: beyond that, neighbouring units of the
//! sorted order (and epochs) share a cell, and the page says so. Step curves are thinned to
//! at most 1,000 points, keeping each bin's smallest and largest value and marking each bin's
//! largest clipped step. So 4 layers of 1,024 units over 50 epochs and 94,000 steps make a
//! page of about 2 MB (a test keeps it under 5 MB).
//!
//! # Dead, inactive, active
//!
//! A unit is silent when it is outside its active region (x ≤ 0 for the ReLU family) on every
//! probe input. A silent unit is *dead* when no gradient can reach it (ReLU: derivative 0 there,
//! no parameter of its own), *inactive* when some still does (a leak or PReLU's slope), so it
//! can come back. See [`UnitState`].

mod binning;
mod charts;
mod comparison;
mod data;
mod figures;
mod from_history;
mod heatmap;
mod heatmap_labels;
mod page;
mod params;
mod slopes;
mod units;

use std::path::Path;

pub use comparison::{Comparison, RunGroup, render_comparison, write_comparison};
pub use data::{EpochCurves, ReportData, ReportWarning, Setting};
pub use params::{EpochValue, GradientNorms, ParamNorms, SlopeHistory, SlopeValues, UpdateRatios};
pub use units::{LayerActivity, ProbeColumn, UnitKind, UnitState};

use crate::Result;

/// The report page of `data`, as HTML text.
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming the field when `data` is
/// inconsistent (a probe column without one value per unit, a fraction outside [0, 1], a
/// parameter's norms not one per step, ...); [`Error::Plot`](crate::Error::Plot) if plotters
/// fails to draw a chart.
pub fn render_report(data: &ReportData) -> Result<String> {
    data.layers.iter().try_for_each(LayerActivity::check)?;
    if let Some(norms) = &data.gradient_norms {
        norms.check()?;
    }
    page::render(data)
}

/// Write the report page of `data` to `path` (atomically: a failed write keeps the previous
/// file).
///
/// ```
/// use lazarus_train::report::{write_report, ReportData};
/// let path = std::env::temp_dir().join(format!("lazarus-report-doc-{}.html", std::process::id()));
/// write_report(&ReportData::new("empty run"), &path)?;
/// assert!(std::fs::read_to_string(&path).unwrap().contains("<h1>empty run</h1>"));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
///
/// # Errors
/// Those of [`render_report`] (a plotting failure names `path`), and
/// [`Error::Io`](crate::Error::Io) naming `path` when writing fails.
pub fn write_report(data: &ReportData, path: impl AsRef<Path>) -> Result<()> {
    page::write_page(render_report(data), path.as_ref())
}
