//! The PReLU slopes' chart: one box plot per epoch of a layer's slopes.

use plotters::prelude::*;

use super::SlopeHistory;
use super::charts::{PALETTE, limits, short, svg};
use super::figures::{Figure, SMALL, figure};
use crate::plot::axis_range;

/// The five numbers of a box plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BoxStats {
    /// Smallest value (lower whisker).
    pub min: f64,
    /// First quartile (bottom of the box).
    pub q1: f64,
    /// Median (line across the box).
    pub median: f64,
    /// Third quartile (top of the box).
    pub q3: f64,
    /// Largest value (upper whisker).
    pub max: f64,
}

impl BoxStats {
    /// The five numbers of the finite `values` (linear interpolation between ranks), `None`
    /// if there is none.
    pub(crate) fn of(values: impl Iterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.filter(|v| v.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let at = p * (v.len() - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
        };
        (!v.is_empty()).then(|| BoxStats {
            min: v[0],
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            max: v[v.len() - 1],
        })
    }
}

/// A box per epoch (`(epoch, stats)`), joined by a line through the medians: the chart of a
/// PReLU layer's slopes.
///
/// # Errors
/// What plotters reported, when drawing fails.
pub(crate) fn box_chart(
    title: &str,
    size: (u32, u32),
    boxes: &[(f64, BoxStats)],
) -> Result<String, String> {
    let (x0, x1) = limits(boxes.iter().map(|b| b.0)).unwrap_or((0.0, 1.0));
    // Slope 0 (ReLU) is always in view: how far the slopes are from it is the point.
    let ends = boxes.iter().flat_map(|(_, b)| [b.min, b.max]).chain([0.0]);
    let (y0, y1) = limits(ends).unwrap_or((0.0, 1.0));
    svg(size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(38)
            .y_label_area_size(62)
            .build_cartesian_2d(
                axis_range(x0 - 0.5, x1 + 0.5, 0.0),
                axis_range(y0, y1, 0.08),
            )?;
        chart
            .configure_mesh()
            .x_desc("epoch (0 = at initialization)")
            .y_desc("slope")
            .light_line_style(WHITE.mix(0.0))
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .x_label_formatter(&|v: &f64| short(*v))
            .draw()?;
        let (xa, xb) = (chart.x_range().start, chart.x_range().end);
        let zero =
            DashedLineSeries::new([(xa, 0.0), (xb, 0.0)], 4, 4, BLACK.mix(0.4).stroke_width(1));
        chart.draw_series(zero)?;
        let colour = PALETTE[0];
        let half = (0.3 * (x1 - x0).max(1.0) / boxes.len().max(1) as f64).min(0.3);
        for &(x, b) in boxes {
            let whisker = PathElement::new([(x, b.min), (x, b.max)], colour.stroke_width(1));
            let body = Rectangle::new(
                [(x - half, b.q1), (x + half, b.q3)],
                colour.mix(0.25).filled(),
            );
            let edge = Rectangle::new([(x - half, b.q1), (x + half, b.q3)], colour.stroke_width(1));
            let median = PathElement::new(
                [(x - half, b.median), (x + half, b.median)],
                BLACK.stroke_width(2),
            );
            chart.draw_series([whisker])?;
            chart.draw_series([body, edge])?;
            chart.draw_series([median])?;
        }
        let medians = boxes.iter().map(|&(x, b)| (x, b.median));
        chart.draw_series(LineSeries::new(medians, colour.mix(0.6).stroke_width(1)))?;
        Ok(())
    })
}

/// One box plot per PReLU slope parameter: its slopes' spread per epoch.
pub(crate) fn slopes(slopes: &[SlopeHistory]) -> Result<Vec<Figure>, String> {
    slopes
        .iter()
        .map(|s| {
            let boxes: Vec<_> = (s.epochs.iter())
                .filter_map(|e| {
                    let stats = BoxStats::of(e.values.iter().map(|&v| f64::from(v)))?;
                    Some((e.epoch as f64, stats))
                })
                .collect();
            let count = s.epochs.first().map_or(0, |e| e.values.len());
            let plural = if count == 1 { "" } else { "s" };
            let title = format!("{} ({}: {count} slope{plural})", s.layer, s.param);
            figure(
                format!("slopes:{}", s.param),
                box_chart(&title, SMALL, &boxes),
            )
        })
        .collect()
}
