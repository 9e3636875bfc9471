//! Born dead: whether a freshly built network's output ignores its input, so that no gradient
//! reaches its first layer, and which of its units are dead before any update: the epoch-0
//! probe.

use lazarus_core::{Layer, TensorView};
use serde::{Deserialize, Serialize};

use super::{LayerUnits, ParamValues, ProbePass, ProbeSet, slope_values};
use crate::Result;

/// Silent units of `model` on `inputs`, with its current weights: which units are dead at
/// initialization, and whether the network is **born dead**: its output does not depend on the
/// input (every row of the output equal), so no gradient reaches the first layer (Lu, Shin, Su
/// & Karniadakis 2019, "Dying ReLU and Initialization").
///
/// A probe pass ([`ProbeSet::run`]) over `inputs` in one chunk: nothing of the model changes
/// (no running statistics, no dropout mask, no gradient). The [`Trainer`](crate::Trainer) with
/// diagnostics on runs the same check at initialization over its probe set (the epoch-0
/// probe) and stores it in the first epoch's
/// [`EpochDiagnostics::born_dead`](super::EpochDiagnostics::born_dead).
///
/// # Errors
/// Any layer error (a shape mismatch); [`Error::InvalidConfig`](crate::Error::InvalidConfig)
/// for inputs with no sample.
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Linear, Sequential, Tensor};
/// use lazarus_train::diagnostics::born_dead_check;
/// use ndarray::array;
/// // Both hidden units have a bias of -5: for inputs in [0, 1] the ReLU layer is all zeros.
/// let hidden = Linear::from_params(array![[1.0f32], [-1.0]].into_dyn(), Some(array![-5.0f32, -5.0].into_dyn()))?;
/// let out = Linear::from_params(array![[1.0f32, 1.0]].into_dyn(), Some(array![0.3f32].into_dyn()))?;
/// let mut model = Sequential::new().add(hidden).add(Relu::new()).add(out);
/// let x = Tensor::from_shape_vec(vec![3, 1], vec![0.0, 0.5, 1.0]).unwrap();
/// let report = born_dead_check(&mut model, x.view())?;
/// assert!(report.constant_output);
/// assert_eq!(report.units[0].fraction, 1.0);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn born_dead_check(model: &mut dyn Layer, inputs: TensorView<'_>) -> Result<BornDead> {
    let probe = ProbeSet::from_inputs(inputs.to_owned())?;
    let pass = probe.run(model, probe.len())?;
    Ok(BornDead::new(pass, slope_values(model)))
}

/// Whether every sample's output row equals the first row (to 1e-6 relative), the symptom of a
/// network whose every path from input to output goes through a dead unit. A batch of one
/// sample (or a 0-d output) is trivially constant.
pub fn output_is_constant(outputs: TensorView<'_>) -> bool {
    // A 0-d output is one value: constant. (`outer_iter` needs at least one axis.)
    if outputs.ndim() == 0 {
        return true;
    }
    let Some(first) = outputs.outer_iter().next() else {
        return true;
    };
    outputs.outer_iter().all(|row| same_row(first.view(), row))
}

/// Whether two output rows are equal to 1e-6 relative.
pub(super) fn same_row(a: TensorView<'_>, b: TensorView<'_>) -> bool {
    a.iter()
        .zip(b.iter())
        .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-30))
}

/// The probe at initialization (epoch 0): the result of [`born_dead_check`], and what the
/// trainer records before the first update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BornDead {
    /// Silent units per activation layer on the probe set, with their indices and each unit's
    /// active fraction. (Files written before the probe pass hold the first training batch's.)
    pub units: Vec<LayerUnits>,
    /// Whether the output is the same for every probe input: the network is born dead.
    pub constant_output: bool,
    /// The PReLU slopes at initialization (every parameter of role `Slope`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slopes: Vec<ParamValues>,
}

impl BornDead {
    /// The record of an initial probe `pass`, with the `slopes` at initialization.
    pub(super) fn new(pass: ProbePass, slopes: Vec<ParamValues>) -> Self {
        Self {
            units: pass.units,
            constant_output: pass.constant_output,
            slopes,
        }
    }
}
