//! Born dead: whether a freshly built network's output ignores its input, so that no gradient
//! reaches its first layer, and which of its units are dead before any update.

use lazarus_core::{Layer, Mode, TensorView};
use serde::{Deserialize, Serialize};

use super::{LayerUnits, UnitTracker};
use crate::Result;

/// Silent units of `model` on one batch `inputs`, before any training: which units are dead at
/// initialization, and whether the network is **born dead**: its output does not depend on the
/// input (every row of the output equal), so no gradient reaches the first layer (Lu, Shin, Su
/// & Karniadakis 2019, "Dying ReLU and Initialization").
///
/// Runs one forward pass in training mode (so that activation layers count; a dropout layer
/// samples a mask); parameters and gradients are unchanged. The [`Trainer`](crate::Trainer)
/// with diagnostics on does the same check on its first training batch, without an extra pass,
/// and stores it in the first epoch's [`EpochDiagnostics::born_dead`](super::EpochDiagnostics::born_dead).
///
/// # Errors
/// Any layer error (a shape mismatch).
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
    let constant_output = output_is_constant(model.forward(inputs, Mode::Train)?);
    Ok(BornDead::observe(model, constant_output))
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
    outputs.outer_iter().all(|row| {
        row.iter()
            .zip(first.iter())
            .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-30))
    })
}

/// The result of [`born_dead_check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BornDead {
    /// Silent units per activation layer, on that one batch, with their indices.
    pub units: Vec<LayerUnits>,
    /// Whether the output is the same for every input of the batch: the network is born dead.
    pub constant_output: bool,
}

impl BornDead {
    /// The report for `model`'s last training-mode pass, whose output was (or was not) constant.
    pub(super) fn observe(model: &dyn Layer, constant_output: bool) -> Self {
        let mut tracker = UnitTracker::default();
        tracker.observe(model);
        Self {
            units: tracker.units(true),
            constant_output,
        }
    }
}
