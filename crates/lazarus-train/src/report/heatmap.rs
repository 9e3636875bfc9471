//! A layer's dead-unit heatmap as the template draws it: units × epochs cells, one SVG path
//! per colour, and per row the values behind it.
//!
//! Not drawn with plotters, unlike the other charts: plotters writes one `<rect>` of about 90
//! bytes per cell, and 4 layers × 256 rows × 51 epochs of them alone would be 4.7 MB. Here a
//! cell is a unit square of a nested SVG's coordinates, a row's neighbouring cells of one
//! colour are one rectangle, and all rectangles of a colour are one `<path>`: about 12 bytes a
//! cell at worst. Each row also carries its values as data attributes and a hover title,
//! which plotters cannot write.

use std::fmt::Write as _;

use serde::Serialize;

use super::LayerActivity;
use super::UnitState;
use super::binning::{Grid, MAX_COLUMNS, MAX_ROWS};
use super::heatmap_labels::{RowGroup, groups, summary};

/// Colour of a dead cell: black, which nothing else on the page uses.
pub(crate) const DEAD: &str = "#000000";
/// Colour of an inactive (silent but learning) cell.
pub(crate) const INACTIVE: &str = "#e6550d";
/// The active-fraction scale, from rarely active to always active (ColorBrewer YlGnBu, its
/// darkest shades left out so that none is mistaken for dead).
pub(crate) const SCALE: [&str; 7] = [
    "#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8",
];

/// How large a heatmap is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeatmapSize {
    /// Width of the cell area, in pixels, for a few epochs (cells are at most 40 px wide).
    grid_width: f64,
    /// Height of the cell area for many units (rows are between 1.5 and 16 px high).
    grid_height: f64,
    /// Margins around the cell area: left (the axis title), top, right (the group labels),
    /// bottom (the epoch labels).
    margin: (f64, f64, f64, f64),
    /// Bracket the rows by the epoch their units went silent, with labels.
    groups: bool,
}

/// One run's page: large, with the row groups labelled.
pub(crate) const FULL: HeatmapSize = HeatmapSize {
    grid_width: 640.0,
    grid_height: 420.0,
    margin: (34.0, 8.0, 230.0, 42.0),
    groups: true,
};

/// Runs side by side: small, the row groups left out (the sort order still shows them).
pub(crate) const COMPACT: HeatmapSize = HeatmapSize {
    grid_width: 230.0,
    grid_height: 150.0,
    margin: (34.0, 8.0, 8.0, 42.0),
    groups: false,
};

/// One heatmap, ready for the template.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct HeatmapView {
    /// `relu[1]`: the heading, and the `data-layer` attribute.
    pub label: String,
    /// An HTML id for the layer's figure (`layer-0`).
    pub id: String,
    /// "6 features", "16 channels".
    pub units_text: String,
    /// Dead and inactive units at initialization and at the end, revived units.
    pub summary: String,
    /// Set when rows or columns hold more than one unit or epoch: says so.
    pub binned: Option<String>,
    /// Size of the whole SVG, in pixels.
    pub width: f64,
    /// Height of the whole SVG.
    pub height: f64,
    /// Position and size of the cell area.
    pub grid: (f64, f64, f64, f64),
    /// Rows and columns of cells (the cell area's viewBox).
    pub rows: usize,
    /// Columns of cells.
    pub columns: usize,
    /// One path per colour used.
    pub paths: Vec<ColourPath>,
    /// Per row, its values.
    pub row_data: Vec<RowData>,
    /// Epoch labels under the cells: `(x in pixels, text)`.
    pub ticks: Vec<(f64, String)>,
    /// Groups of rows by the epoch their units went silent, at the right of the cells.
    pub groups: Vec<RowGroup>,
}

/// All cells of one colour, as one SVG path in cell coordinates.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ColourPath {
    /// The fill colour.
    pub fill: String,
    /// The path: `M{column} {row}h{length}v1h-{length}z` per run of cells.
    pub d: String,
}

/// The values behind one row of cells.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RowData {
    /// The units of the row, their indices in the layer, space-separated.
    pub units: String,
    /// Per column, the mean active fraction (3 decimals), space-separated.
    pub fractions: String,
    /// Per column, `A` (active), `D` (dead) or `I` (inactive), as drawn.
    pub states: String,
    /// The hover text: which units, when they went silent, the fraction per epoch.
    pub title: String,
}

/// The colour of a cell.
pub(crate) fn colour(state: UnitState, fraction: f32) -> &'static str {
    match state {
        UnitState::Dead => DEAD,
        UnitState::Inactive => INACTIVE,
        UnitState::Active => {
            let level = (fraction.clamp(0.0, 1.0) * SCALE.len() as f32).ceil() as usize;
            SCALE[level.clamp(1, SCALE.len()) - 1]
        }
    }
}

impl HeatmapView {
    /// The heatmap of `layer`, the `index`-th activation layer, full size.
    pub(crate) fn new(layer: &LayerActivity, index: usize) -> Self {
        Self::sized(layer, format!("layer-{index}"), FULL)
    }

    /// The heatmap of `layer` drawn at `size`, its figure's HTML id `id`.
    pub(crate) fn sized(layer: &LayerActivity, id: String, size: HeatmapSize) -> Self {
        let grid = Grid::new(layer, MAX_ROWS, MAX_COLUMNS);
        let (rows, columns) = (grid.rows.len(), grid.columns.len());
        let cell_w = (size.grid_width / columns.max(1) as f64).clamp(4.0, 40.0);
        let cell_h = (size.grid_height / rows.max(1) as f64).clamp(1.5, 16.0);
        let (w, h) = (cell_w * columns as f64, cell_h * rows as f64);
        let (left, top, right, bottom) = size.margin;
        let epoch = |p: usize| layer.probes[p].epoch;
        let column_text = |c: &std::ops::Range<usize>| match c.len() {
            1 => epoch(c.start).to_string(),
            _ => format!("{}-{}", epoch(c.start), epoch(c.end - 1)),
        };
        let every = columns.div_ceil(12).max(1);
        let ticks = (grid.columns.iter().enumerate())
            .filter(|(i, _)| i % every == 0 || *i + 1 == columns)
            .map(|(i, c)| (left + (i as f64 + 0.5) * cell_w, epoch(c.start).to_string()))
            .collect();
        let unit_size = grid.rows.first().map_or(1, Vec::len);
        let epoch_size = grid.columns.first().map_or(1, |c| c.len());
        let binned = (unit_size > 1 || epoch_size > 1).then(|| {
            let rows = format!("each row is {unit_size} neighbouring units of the sorted order");
            let columns = format!("each column {epoch_size} epochs");
            let what = match (unit_size > 1, epoch_size > 1) {
                (true, true) => format!("{rows}, {columns}"),
                (true, false) => rows,
                _ => columns,
            };
            format!(
                "Binned to fit the screen: {what}. A cell shows their mean active fraction, and is \
                 drawn dead (or inactive) only if all of them are."
            )
        });
        let row_data = (0..rows)
            .map(|r| row_data(layer, &grid, r, &column_text))
            .collect();
        let groups = if size.groups {
            groups(layer, &grid, top, cell_h)
        } else {
            Vec::new()
        };
        Self {
            label: layer.label(),
            id,
            units_text: format!("{} {}s", layer.units, layer.unit_kind.word()),
            summary: summary(layer),
            binned,
            width: left + w + right,
            height: top + h + bottom,
            grid: (left, top, w, h),
            rows,
            columns,
            paths: paths(&grid),
            row_data,
            ticks,
            groups,
        }
    }
}

/// One path per colour: runs of same-coloured neighbouring cells of a row as rectangles.
fn paths(grid: &Grid) -> Vec<ColourPath> {
    let mut by_colour: Vec<(&'static str, String)> = Vec::new();
    for r in 0..grid.rows.len() {
        let mut c = 0;
        while c < grid.columns.len() {
            let fill = colour(grid.cell(r, c).state, grid.cell(r, c).fraction);
            let run = (c..grid.columns.len())
                .take_while(|&k| colour(grid.cell(r, k).state, grid.cell(r, k).fraction) == fill)
                .count();
            let d = match by_colour.iter_mut().find(|(f, _)| *f == fill) {
                Some((_, d)) => d,
                None => {
                    by_colour.push((fill, String::new()));
                    &mut by_colour.last_mut().expect("just pushed").1
                }
            };
            let _ = write!(d, "M{c} {r}h{run}v1h-{run}z");
            c += run;
        }
    }
    by_colour
        .into_iter()
        .map(|(fill, d)| ColourPath {
            fill: fill.into(),
            d,
        })
        .collect()
}

/// The values of row `r` and its hover text.
fn row_data(
    layer: &LayerActivity,
    grid: &Grid,
    r: usize,
    column_text: &dyn Fn(&std::ops::Range<usize>) -> String,
) -> RowData {
    let units = &grid.rows[r];
    let cells = || (0..grid.columns.len()).map(|c| grid.cell(r, c));
    let fractions: Vec<String> = cells().map(|c| format!("{:.3}", c.fraction)).collect();
    let states: String = cells().map(|c| c.state.letter()).collect();
    let who = match units.as_slice() {
        [u] => format!("unit {u}"),
        _ => format!(
            "{} units ({})",
            units.len(),
            join(units.iter().take(8), ", ")
        ),
    };
    let when = match grid.row_silent_at[r] {
        Some(p) => format!("went silent at epoch {}", layer.probes[p].epoch),
        None => "never silent".to_string(),
    };
    let by_epoch = (grid.columns.iter().zip(cells())).map(|(col, cell)| {
        format!(
            "{}: {:.2}{}",
            column_text(col),
            cell.fraction,
            state_mark(cell.state)
        )
    });
    RowData {
        units: join(units.iter(), " "),
        fractions: fractions.join(" "),
        states,
        title: format!(
            "{who}, {when}. Active fraction by epoch: {}",
            join(by_epoch, ", ")
        ),
    }
}

/// `" dead"`, `" inactive"` or nothing.
fn state_mark(state: UnitState) -> &'static str {
    match state {
        UnitState::Dead => " dead",
        UnitState::Inactive => " inactive",
        UnitState::Active => "",
    }
}

fn join(items: impl Iterator<Item = impl ToString>, separator: &str) -> String {
    items
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(separator)
}
