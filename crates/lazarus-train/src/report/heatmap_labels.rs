//! The words around a heatmap: the brackets that group its rows by the epoch their units went
//! silent, and the one-line summary above it.

use serde::Serialize;

use super::binning::Grid;
use super::{LayerActivity, UnitState};

/// Rows whose units went silent at the same epoch (or never did).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RowGroup {
    /// Top and bottom of the group, in pixels of the whole SVG.
    pub top: f64,
    /// Bottom of the group.
    pub bottom: f64,
    /// "went silent at epoch 2 (5 units)", or empty when the group is too short for text.
    pub label: String,
}

/// Brackets at the right of the cells: rows grouped by the epoch their units went silent.
/// Groups too short for a label are merged with their short neighbours ("went silent at
/// epochs 0-49 (312)"); a bracket still too short gets no label.
pub(crate) fn groups(layer: &LayerActivity, grid: &Grid, top: f64, cell_h: f64) -> Vec<RowGroup> {
    const ROOM: f64 = 11.0;
    // (first row, end row, silent at) per distinct epoch of going silent.
    let mut spans: Vec<(usize, usize, Option<usize>)> = Vec::new();
    for (r, &at) in grid.row_silent_at.iter().enumerate() {
        match spans.last_mut() {
            Some(last) if last.2 == at => last.1 = r + 1,
            _ => spans.push((r, r + 1, at)),
        }
    }
    let tall = |s: &(usize, usize, Option<usize>)| (s.1 - s.0) as f64 * cell_h >= ROOM;
    let mut merged: Vec<(usize, usize, Option<usize>, Option<usize>)> = Vec::new();
    for s in &spans {
        match merged.last_mut() {
            // Short silent groups join a previous short silent run.
            Some(m) if !tall(s) && s.2.is_some() && m.3.is_some() && !tall(&(m.0, m.1, None)) => {
                (m.1, m.3) = (s.1, s.2);
            }
            _ => merged.push((s.0, s.1, s.2, s.2)),
        }
    }
    let epoch = |p: usize| layer.probes[p].epoch;
    merged
        .into_iter()
        .map(|(start, end, first, last)| {
            let units: usize = grid.rows[start..end].iter().map(Vec::len).sum();
            let (y0, y1) = (top + start as f64 * cell_h, top + end as f64 * cell_h);
            let label = match (first, last) {
                (Some(a), Some(b)) if a != b => {
                    format!("went silent at epochs {}-{} ({units})", epoch(a), epoch(b))
                }
                (Some(a), _) => format!("went silent at epoch {} ({units})", epoch(a)),
                _ => format!("never silent ({units})"),
            };
            let room = y1 - y0 >= ROOM;
            RowGroup {
                top: y0,
                bottom: y1,
                label: if room { label } else { String::new() },
            }
        })
        .collect()
}

/// "Of 6 features: at initialization, 1 dead and 0 inactive; after epoch 3, 2 dead and 0
/// inactive. Revived after going silent: 1."
pub(crate) fn summary(layer: &LayerActivity) -> String {
    let Some(last) = layer.probes.len().checked_sub(1) else {
        return "No probe pass recorded.".into();
    };
    let at = |p: usize| {
        let count = |s: UnitState| layer.probes[p].state.iter().filter(|&&x| x == s).count();
        let when = match layer.probes[p].epoch {
            0 => "at initialization".to_string(),
            e => format!("after epoch {e}"),
        };
        let (dead, inactive) = (count(UnitState::Dead), count(UnitState::Inactive));
        format!("{when}, {dead} dead and {inactive} inactive")
    };
    let revived = (0..layer.units)
        .filter(|&u| {
            let silent = layer.probes.iter().map(|p| p.state[u].is_silent());
            silent.skip_while(|s| !s).any(|s| !s)
        })
        .count();
    let (units, kind) = (layer.units, layer.unit_kind.word());
    format!(
        "Of {units} {kind}s: {}; {}. Revived after going silent: {revived}.",
        at(0),
        at(last)
    )
}
