//! The report's line charts, drawn with plotters into SVG strings (never into files): optional
//! log scale, marked points, a reference line, vertical guides.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

pub(crate) use crate::plot::PALETTE;
use crate::plot::axis_range;

/// Colour of clipped-step markers and the clipping threshold.
pub(crate) const CLIPPED: RGBColor = RGBColor(214, 39, 40);
/// Colour of a rule-of-thumb reference line.
pub(crate) const GUIDE: RGBColor = RGBColor(90, 90, 90);

/// One line of a chart.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// Legend label (empty: no legend entry).
    pub name: String,
    /// The points, in x order (non-finite ones are skipped).
    pub points: Vec<(f64, f64)>,
    /// Its colour.
    pub colour: RGBColor,
    /// Draw a dot at each point too (for curves of few points).
    pub dots: bool,
}

/// A line chart: lines, marked points, a dashed reference line, light vertical guides.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineChart {
    /// Title above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Size in pixels.
    pub size: (u32, u32),
    /// Logarithmic y axis (used only if every drawn value is > 0).
    pub log_y: bool,
    /// The lines.
    pub lines: Vec<Line>,
    /// Points marked with red dots, and their legend label (clipped steps).
    pub marked: Option<(String, Vec<(f64, f64)>)>,
    /// A dashed horizontal line: its legend label, `y` and colour (the clipping threshold,
    /// red like the clipped steps; a rule of thumb, grey).
    pub reference: Option<(String, f64, RGBColor)>,
    /// Light vertical lines at these x (where epochs start).
    pub guides: Vec<f64>,
    /// Values the y axis always shows (0 and 100 for a percentage that may stay at 0).
    pub include_y: Vec<f64>,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult<T> = Result<T, DrawingAreaErrorKind<std::io::Error>>;

/// Draw into a new SVG string of `size`, with `draw` on a white background.
pub(crate) fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> DrawResult<()>,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Limits `(lo, hi)` of the finite values of `values`, if any.
pub(crate) fn limits(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

impl LineChart {
    /// The chart as an SVG document (`<svg ...>...</svg>`).
    ///
    /// # Errors
    /// What plotters reported, when drawing fails.
    pub(crate) fn render(&self) -> Result<String, String> {
        let points = || {
            let lines = self.lines.iter().flat_map(|l| l.points.iter().copied());
            lines.chain(self.marked.iter().flat_map(|(_, p)| p.iter().copied()))
        };
        let (x0, x1) = limits(points().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let reference = self.reference.iter().map(|r| r.1);
        let included = self.include_y.iter().copied();
        let ys = points().map(|p| p.1).chain(reference).chain(included);
        let (y0, y1) = limits(ys).unwrap_or((0.0, 1.0));
        let x = axis_range(x0, x1, 0.0);
        svg(self.size, |root| {
            if self.log_y && y0 > 0.0 {
                // A decade of room around flat curves, a little around the rest.
                let (lo, hi) = if y1 / y0 < 10.0 {
                    (y0 / 3.0, y1 * 3.0)
                } else {
                    (y0 / 1.5, y1 * 1.5)
                };
                self.draw(root, x, (lo..hi).log_scale())
            } else {
                self.draw(root, x, axis_range(y0, y1, 0.05))
            }
        })
    }

    /// How many x labels: one per 90 pixels, but no more than there are whole numbers in the
    /// range when every x is one (two epochs get the ticks 1 and 2, not 1, 1.5 and 2).
    fn x_label_count(&self) -> usize {
        let room = self.size.0 as usize / 90;
        let xs = || self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
        let whole = xs().all(|x| x.fract() == 0.0);
        match limits(xs()) {
            Some((lo, hi)) if whole => room.min((hi - lo) as usize + 1),
            _ => room,
        }
    }

    /// Where the legend hides the least: below rising curves (accuracy), above falling ones.
    fn legend_position(&self) -> SeriesLabelPosition {
        let rising = self.lines.first().is_some_and(|l| {
            let ys = || l.points.iter().map(|p| p.1).filter(|y| y.is_finite());
            matches!((ys().next(), ys().next_back()), (Some(a), Some(b)) if b > a)
        });
        if rising {
            SeriesLabelPosition::LowerRight
        } else {
            SeriesLabelPosition::UpperRight
        }
    }

    fn draw<Y>(&self, root: &Area<'_>, x: Range<f64>, y: Y) -> DrawResult<()>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(62)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .light_line_style(WHITE.mix(0.0))
            .x_labels(self.x_label_count())
            .y_labels(self.size.1 as usize / 45)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .y_label_formatter(&|v: &f64| short(*v))
            .x_label_formatter(&|v: &f64| short(*v))
            .draw()?;
        let y_range = chart.y_range();
        for &g in &self.guides {
            let guide = [(g, y_range.start), (g, y_range.end)];
            chart.draw_series(LineSeries::new(guide, BLACK.mix(0.08)))?;
        }
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
        for line in &self.lines {
            let colour = line.colour;
            let points = line.points.iter().filter(finite).copied();
            let series = chart.draw_series(LineSeries::new(points, colour.stroke_width(2)))?;
            if !line.name.is_empty() {
                series.label(line.name.as_str()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            }
            if line.dots {
                let dots = line
                    .points
                    .iter()
                    .filter(finite)
                    .map(|&p| Circle::new(p, 3, colour.filled()));
                chart.draw_series(dots)?;
            }
        }
        if let Some((name, at, colour)) = &self.reference {
            let (x0, x1, colour) = (chart.x_range().start, chart.x_range().end, *colour);
            let dashed =
                DashedLineSeries::new([(x0, *at), (x1, *at)], 6, 4, colour.stroke_width(1));
            chart
                .draw_series(dashed)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(1))
                });
        }
        if let Some((name, points)) = &self.marked {
            let dots = points
                .iter()
                .filter(finite)
                .map(|&p| Circle::new(p, 3, CLIPPED.filled()));
            chart
                .draw_series(dots)?
                .label(name.as_str())
                .legend(|(x, y)| Circle::new((x + 9, y), 3, CLIPPED.filled()));
        }
        let named = self.lines.iter().filter(|l| !l.name.is_empty()).count();
        if named > 1 || self.reference.is_some() || self.marked.is_some() {
            chart
                .configure_series_labels()
                .position(self.legend_position())
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        Ok(())
    }
}

/// A tick label: few digits, an exponent for very large or small values.
pub(crate) fn short(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&v.abs()) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        // Two significant digits: "1e-4", "3.5e-9".
        format!("{v:.1e}").replace(".0e", "e")
    }
}
