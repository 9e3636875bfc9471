//! SVG line charts (plotters) for a person to look at: loss and accuracy curves, dead-unit
//! fractions, activation curves.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::{Error, History, Result};

/// One named curve: `(x, y)` points in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A curve from its label and points.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
        }
    }
}

/// One chart of a figure: a title, axis labels and its curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The curves.
    pub series: Vec<Series>,
}

/// Colours of a chart's lines, in order (matplotlib's default cycle).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draw `charts` in a grid with `columns` columns into an SVG file at `path`.
///
/// Non-finite points are skipped (a diverged run still plots up to where it diverged).
///
/// # Errors
/// [`Error::Plot`] naming the file when drawing fails, [`Error::Io`] when writing fails (the
/// previous file, if any, is then left as it was).
///
/// ```
/// use lazarus_train::plot::{write_svg, Chart, Series};
/// let path = std::env::temp_dir().join(format!("lazarus-plot-doc-{}.svg", std::process::id()));
/// let chart = Chart { title: "y = x²".into(), x_label: "x".into(), y_label: "y".into(),
///     series: vec![Series::new("x²", (0..10).map(|i| (i as f64, (i * i) as f64)).collect())] };
/// write_svg(&path, &[chart], 1).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn write_svg(path: impl AsRef<Path>, charts: &[Chart], columns: usize) -> Result<()> {
    let path = path.as_ref();
    let columns = columns.clamp(1, charts.len().max(1));
    let rows = charts.len().div_ceil(columns).max(1);
    let size = (480 * columns as u32, 360 * rows as u32);
    let plot_error = |e: &dyn std::fmt::Display| Error::Plot {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    // Draw into memory, then replace the file in one step: a failed write keeps the old plot.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&e))?;
        for (chart, area) in charts.iter().zip(root.split_evenly((rows, columns))) {
            draw_chart(&area, chart).map_err(|e| plot_error(&e))?;
        }
        root.present().map_err(|e| plot_error(&e))?;
    }
    crate::atomic_file::write_atomically(path, svg.as_bytes())
}

fn draw_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let finite = || {
        chart
            .series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let (x0, x1, y0, y1) = finite().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    let mut ctx = ChartBuilder::on(area)
        .caption(&chart.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(axis_range(x0, x1, 0.0), axis_range(y0, y1, 0.05))?;
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, series) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points = series
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite());
        ctx.draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    if chart.series.len() > 1 || chart.series.first().is_some_and(|s| !s.name.is_empty()) {
        ctx.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()?;
    }
    Ok(())
}

/// Axis limits plotters can draw from the data limits `lo..hi`, widened by `pad_fraction` of
/// the span on each side.
///
/// The result is finite, not wider than ±1e300 (plotters loops forever placing ticks on an
/// infinite span) and not narrower than a millionth of its magnitude (a single point or a
/// flat curve still gets a visible axis).
pub(crate) fn axis_range(lo: f64, hi: f64, pad_fraction: f64) -> Range<f64> {
    const LIMIT: f64 = 1e300;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return 0.0..1.0;
    }
    let (lo, hi) = (lo.clamp(-LIMIT, LIMIT), hi.clamp(-LIMIT, LIMIT));
    let pad = (hi - lo) * pad_fraction;
    let (lo, hi) = (lo - pad, hi + pad);
    let min_span = (lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
    if hi - lo >= min_span {
        lo..hi
    } else {
        let middle = lo / 2.0 + hi / 2.0;
        (middle - min_span / 2.0)..(middle + min_span / 2.0)
    }
}

impl History {
    /// Loss curves (training and validation) and, for classification, accuracy curves, side by
    /// side in one SVG file.
    ///
    /// # Errors
    /// [`Error::Plot`] naming the file when drawing fails, [`Error::Io`] when writing fails.
    pub fn plot_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let curve = |name: &str, f: &dyn Fn(&crate::EpochRecord) -> Option<f64>| {
            let points: Vec<_> = self
                .epochs
                .iter()
                .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
                .collect();
            (!points.is_empty()).then(|| Series::new(name, points))
        };
        let loss = Chart {
            title: "Loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            series: [
                curve("train", &|r| Some(r.train_loss)),
                curve("validation", &|r| r.val_loss),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        let accuracy = Chart {
            title: "Accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            series: [
                curve("train", &|r| r.train_accuracy),
                curve("validation", &|r| r.val_accuracy),
            ]
            .into_iter()
            .flatten()
            .collect(),
        };
        let charts: Vec<Chart> = [loss, accuracy]
            .into_iter()
            .filter(|c| !c.series.is_empty())
            .collect();
        write_svg(path, &charts, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ranges_are_finite_and_never_empty() {
        let cases = [
            (-f64::MAX, f64::MAX),
            (1e300, 1e300),
            (0.0, 1e-300),
            (5.0, 5.0),
            (f64::NAN, 1.0),
            (2.0, 1.0),
        ];
        for (lo, hi) in cases {
            let r = axis_range(lo, hi, 0.05);
            assert!(
                r.start.is_finite() && r.end.is_finite(),
                "{lo}..{hi} gave {r:?}"
            );
            assert!(
                r.end - r.start > 0.0 && (r.end - r.start).is_finite(),
                "{lo}..{hi} gave {r:?}"
            );
        }
        assert_eq!(axis_range(0.0, 10.0, 0.0), 0.0..10.0);
        assert_eq!(axis_range(0.0, 10.0, 0.1), -1.0..11.0);
    }

    #[test]
    fn extreme_data_still_draws() {
        // plotters loops forever on an infinite axis span; these must finish and write a file.
        let dir = std::env::temp_dir().join(format!("lazarus-plot-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("extreme.svg");
        let series = |points| Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series::new("a", points)],
        };
        let charts = [
            series(vec![(-f64::MAX, -f64::MAX), (f64::MAX, f64::MAX)]),
            series(vec![(1e300, 1e300), (1e300, 1e300)]),
            series(vec![(f64::NAN, f64::INFINITY)]),
        ];
        write_svg(&path, &charts, 3).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
