//! What the heatmaps show: per activation layer, per unit, per probe pass, how often the unit
//! fired and whether it was dead, inactive or active.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The state of one unit after one probe pass (a pass over a fixed probe set with fixed
/// weights, at initialization and after each epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Active on at least one probe input.
    Active,
    /// Silent on every probe input, and no gradient can revive it: its activation's
    /// derivative is exactly 0 there and it has no parameter of its own that learns (ReLU).
    Dead,
    /// Silent on every probe input, but still learning: gradient passes through a leak (Leaky
    /// ReLU, ELU) or reaches a learned slope (PReLU), so it can come back.
    Inactive,
}

impl UnitState {
    /// `'A'`, `'D'` or `'I'`: the letter the page's data attributes use.
    pub fn letter(self) -> char {
        match self {
            UnitState::Active => 'A',
            UnitState::Dead => 'D',
            UnitState::Inactive => 'I',
        }
    }

    /// Dead or inactive: silent on every probe input.
    pub fn is_silent(self) -> bool {
        self != UnitState::Active
    }
}

/// What a unit of a layer is: one feature of a `[batch, features]` input, or one channel of an
/// image (whose active fraction counts every (sample, position) pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// A feature of a fully connected layer's output.
    #[default]
    Feature,
    /// A channel of a convolution's output.
    Channel,
}

impl UnitKind {
    /// `"feature"` or `"channel"`.
    pub fn word(self) -> &'static str {
        match self {
            UnitKind::Feature => "feature",
            UnitKind::Channel => "channel",
        }
    }
}

/// One probe pass of one layer: per unit, its active fraction and state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeColumn {
    /// The epoch after which the probe ran: 0 at initialization, then 1, 2, ...
    pub epoch: usize,
    /// Per unit, the fraction of probe inputs on which it is in its active region (x > 0 for
    /// the ReLU family), in [0, 1]. 0 means silent on every probe input.
    pub active_fraction: Vec<f32>,
    /// Per unit, its state ([`UnitState`]).
    pub state: Vec<UnitState>,
}

/// One activation layer's units over the run: the data of one heatmap (units × epochs).
///
/// ```
/// use lazarus_train::report::{LayerActivity, UnitKind, UnitState::*};
/// let mut relu = LayerActivity::new("1", "relu", UnitKind::Feature, 2);
/// relu.push_probe(0, vec![0.5, 0.0], vec![Active, Dead])?;
/// relu.push_probe(1, vec![0.4, 0.0], vec![Active, Dead])?;
/// assert_eq!(relu.label(), "relu[1]");
/// assert!(relu.push_probe(2, vec![0.5], vec![Active]).is_err(), "one value per unit");
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerActivity {
    /// The layer's path in the model (`"1"`, `"2.0"`): the prefix of its parameters' names.
    pub path: String,
    /// The layer's name (`"relu"`, `"prelu"`, `"leaky_relu"`).
    pub layer: String,
    /// Whether its units are features or channels.
    pub unit_kind: UnitKind,
    /// Number of units (features or channels).
    pub units: usize,
    /// One column per probe pass, in epoch order (epoch 0, at initialization, first).
    pub probes: Vec<ProbeColumn>,
}

impl LayerActivity {
    /// A layer with `units` units and no probe pass yet.
    pub fn new(
        path: impl Into<String>,
        layer: impl Into<String>,
        unit_kind: UnitKind,
        units: usize,
    ) -> Self {
        Self {
            path: path.into(),
            layer: layer.into(),
            unit_kind,
            units,
            probes: Vec::new(),
        }
    }

    /// The layer as error messages name it: `relu[1]`.
    pub fn label(&self) -> String {
        format!("{}[{}]", self.layer, self.path)
    }

    /// Append the probe pass after `epoch` (0 = at initialization).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `active_fraction` or `state` do not hold one value per
    /// unit, a fraction is outside [0, 1], or `epoch` does not follow the previous probe's.
    pub fn push_probe(
        &mut self,
        epoch: usize,
        active_fraction: Vec<f32>,
        state: Vec<UnitState>,
    ) -> Result<()> {
        let column = ProbeColumn {
            epoch,
            active_fraction,
            state,
        };
        self.check_column(self.probes.len(), &column)?;
        self.probes.push(column);
        Ok(())
    }

    /// Every probe column is consistent with the layer (see [`push_probe`](Self::push_probe)).
    pub(crate) fn check(&self) -> Result<()> {
        self.probes
            .iter()
            .enumerate()
            .try_for_each(|(i, column)| self.check_column(i, column))
    }

    /// Whether `column`, the `i`-th probe, fits: one value per unit, fractions in [0, 1],
    /// epochs increasing.
    fn check_column(&self, i: usize, column: &ProbeColumn) -> Result<()> {
        let parameter = format!("{}.probes[{i}]", self.label());
        let fail = |reason: String| Err(Error::config("report", &parameter, reason));
        let units = self.units;
        let (fractions, states) = (column.active_fraction.len(), column.state.len());
        if fractions != units || states != units {
            return fail(format!(
                "expected {units} active fractions and states (one per unit), \
                 found {fractions} and {states}"
            ));
        }
        if let Some(u) = (column.active_fraction.iter()).position(|f| !(0.0..=1.0).contains(f)) {
            let found = column.active_fraction[u];
            return fail(format!(
                "active fraction of unit {u} must be in [0, 1], found {found}"
            ));
        }
        match i.checked_sub(1).map(|p| self.probes[p].epoch) {
            Some(previous) if column.epoch <= previous => fail(format!(
                "epochs must increase: epoch {} follows epoch {previous}",
                column.epoch
            )),
            _ => Ok(()),
        }
    }
}
