//! Shrinking a large run to what a screen shows, without hiding what matters.
//!
//! * Heatmaps: units are sorted (by the epoch they went silent), then cut into at most
//!   [`MAX_ROWS`] rows of consecutive sorted units; probe passes into at most [`MAX_COLUMNS`]
//!   columns. A cell of a binned heatmap is a block of units × epochs: its colour is their mean
//!   active fraction, and it is drawn dead (or inactive) only when every unit of the block is
//!   dead (or silent) at every epoch of it.
//! * Step curves: at most [`MAX_POINTS`] points, by keeping each bin's smallest and largest
//!   value (so the largest norm of the run is always drawn), and at most one clipped-step marker
//!   per bin, the largest.

use std::cmp::Reverse;

use super::{LayerActivity, UnitState};

/// Heatmap rows: about what a screen shows at one pixel or more per row.
pub(crate) const MAX_ROWS: usize = 256;
/// Heatmap columns (probe passes, i.e. epochs + 1).
pub(crate) const MAX_COLUMNS: usize = 120;
/// Points of one step curve.
pub(crate) const MAX_POINTS: usize = 1000;

/// One cell of a heatmap: a block of units × probe passes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    /// Mean active fraction over the block.
    pub fraction: f32,
    /// What the block is drawn as: `Dead` or `Inactive` only if every (unit, pass) of it is
    /// silent (dead wins a tie between the two), `Active` otherwise.
    pub state: UnitState,
}

/// A layer's heatmap after sorting and binning: `rows × columns` cells, row-major.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    /// Per row, the units it holds (their indices in the layer), in sorted order.
    pub rows: Vec<Vec<usize>>,
    /// Per row, the probe index at which its first unit first went silent (`None`: never).
    pub row_silent_at: Vec<Option<usize>>,
    /// Per column, the range of probe indices it holds.
    pub columns: Vec<std::ops::Range<usize>>,
    /// The cells, row after row.
    pub cells: Vec<Cell>,
}

impl Grid {
    /// Sort `layer`'s units and bin them into at most `max_rows` × `max_columns` cells.
    pub(crate) fn new(layer: &LayerActivity, max_rows: usize, max_columns: usize) -> Self {
        let order = sorted_units(layer);
        let silent_at = |u: usize| first_silent(layer, u);
        let rows: Vec<Vec<usize>> = order
            .chunks(order.len().div_ceil(max_rows).max(1))
            .map(<[usize]>::to_vec)
            .collect();
        let row_silent_at = rows.iter().map(|r| silent_at(r[0])).collect();
        let probes = layer.probes.len();
        let width = probes.div_ceil(max_columns).max(1);
        let columns: Vec<_> = (0..probes)
            .step_by(width)
            .map(|start| start..(start + width).min(probes))
            .collect();
        let mut cells = Vec::with_capacity(rows.len() * columns.len());
        for row in &rows {
            for column in &columns {
                cells.push(block(layer, row, column.clone()));
            }
        }
        Self {
            rows,
            row_silent_at,
            columns,
            cells,
        }
    }

    /// The cell at `row`, `column`.
    pub(crate) fn cell(&self, row: usize, column: usize) -> Cell {
        self.cells[row * self.columns.len() + column]
    }
}

/// The probe index at which unit `u` first went silent, if it ever did.
pub(crate) fn first_silent(layer: &LayerActivity, u: usize) -> Option<usize> {
    (layer.probes.iter()).position(|p| p.state[u].is_silent())
}

/// The layer's units, sorted: first those that went silent earliest (at initialization
/// first), among them those silent longest; then the units never silent, least active first.
fn sorted_units(layer: &LayerActivity) -> Vec<usize> {
    let key = |u: usize| {
        let silent = layer.probes.iter().filter(|p| p.state[u].is_silent());
        let mean: f32 = layer
            .probes
            .iter()
            .map(|p| p.active_fraction[u])
            .sum::<f32>()
            / layer.probes.len().max(1) as f32;
        let silent_at = first_silent(layer, u).unwrap_or(usize::MAX);
        (silent_at, Reverse(silent.count()), mean, u)
    };
    let mut keyed: Vec<_> = (0..layer.units).map(key).collect();
    keyed.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then(a.2.total_cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    keyed.into_iter().map(|k| k.3).collect()
}

/// The cell of `units` × probe indices `passes`.
fn block(layer: &LayerActivity, units: &[usize], passes: std::ops::Range<usize>) -> Cell {
    let (mut sum, mut dead, mut inactive, mut n) = (0.0f64, 0usize, 0usize, 0usize);
    for probe in &layer.probes[passes] {
        for &u in units {
            sum += f64::from(probe.active_fraction[u]);
            n += 1;
            match probe.state[u] {
                UnitState::Dead => dead += 1,
                UnitState::Inactive => inactive += 1,
                UnitState::Active => {}
            }
        }
    }
    let state = if dead + inactive < n {
        UnitState::Active
    } else if dead >= inactive {
        UnitState::Dead
    } else {
        UnitState::Inactive
    };
    Cell {
        fraction: (sum / n.max(1) as f64) as f32,
        state,
    }
}

/// At most `max_points` `(step, value)` points of `values` that keep its shape: all finite
/// points if they fit, else each of `max_points / 2` bins' smallest and largest finite value,
/// in step order. Non-finite values are skipped.
pub(crate) fn decimate(values: &[f64], max_points: usize) -> Vec<(usize, f64)> {
    let finite = |(i, v): (usize, &f64)| v.is_finite().then_some((i, *v));
    if values.len() <= max_points {
        return values.iter().enumerate().filter_map(finite).collect();
    }
    let width = values.len().div_ceil((max_points / 2).max(1));
    let mut points = Vec::with_capacity(max_points);
    for (b, bin) in values.chunks(width).enumerate() {
        let in_bin = bin.iter().enumerate().filter_map(finite);
        let Some((lo, hi)) = in_bin.fold(None, |acc: Option<((usize, f64), (usize, f64))>, p| {
            Some(match acc {
                None => (p, p),
                Some((lo, hi)) => (
                    if p.1 < lo.1 { p } else { lo },
                    if p.1 > hi.1 { p } else { hi },
                ),
            })
        }) else {
            continue;
        };
        let (first, second) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        points.push((b * width + first.0, first.1));
        if second.0 != first.0 {
            points.push((b * width + second.0, second.1));
        }
    }
    points
}

/// The clipped steps to mark, `(step, total norm)`: all of them if at most `max_markers`,
/// else the one with the largest norm of each of `max_markers` bins of steps.
pub(crate) fn clipped_markers(
    clipped: &[usize],
    total: &[f64],
    max_markers: usize,
) -> Vec<(usize, f64)> {
    let at = |s: usize| (s, total.get(s).copied().unwrap_or(f64::NAN));
    if clipped.len() <= max_markers {
        return clipped.iter().map(|&s| at(s)).collect();
    }
    let width = total.len().div_ceil(max_markers.max(1)).max(1);
    let mut markers: Vec<(usize, f64)> = Vec::new();
    for &step in clipped {
        let marker = at(step);
        match markers.last_mut() {
            Some(last) if last.0 / width == step / width => {
                if marker.1 > last.1 {
                    *last = marker;
                }
            }
            _ => markers.push(marker),
        }
    }
    markers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_every_spike_and_skips_non_finite_values() {
        let mut values: Vec<f64> = (0..94_000).map(|s| 1.0 + (s % 7) as f64 * 0.01).collect();
        values[12_345] = 50.0;
        values[80_000] = 0.001;
        values[3] = f64::NAN;
        values[4] = f64::INFINITY;
        let points = decimate(&values, MAX_POINTS);
        assert!(points.len() <= MAX_POINTS, "{}", points.len());
        assert!(points.contains(&(12_345, 50.0)) && points.contains(&(80_000, 0.001)));
        assert!(points.iter().all(|p| p.1.is_finite()));
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "in step order");
        let short = [1.0, f64::NAN, 3.0];
        assert_eq!(decimate(&short, MAX_POINTS), [(0, 1.0), (2, 3.0)]);
    }

    #[test]
    fn many_clipped_steps_give_one_marker_per_bin_the_largest() {
        let total: Vec<f64> = (0..1000).map(|s| s as f64 % 10.0).collect();
        assert_eq!(clipped_markers(&[3, 9], &total, 10), [(3, 3.0), (9, 9.0)]);
        let clipped: Vec<usize> = (0..1000).collect();
        let markers = clipped_markers(&clipped, &total, 10);
        assert_eq!(markers.len(), 10);
        assert!(markers.iter().all(|m| m.1 == 9.0), "{markers:?}");
    }
}
