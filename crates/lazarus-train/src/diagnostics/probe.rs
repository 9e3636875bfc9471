//! The probe set and the probe pass: the one measurement behind "dead".
//!
//! A unit is silent when it is silent on **every sample of a fixed probe set, with fixed
//! weights**. The probe set is drawn once per run; the probe pass runs the network over it at
//! initialization (epoch 0) and after each epoch, in [`Mode::Probe`]: as training sees it
//! (BatchNorm on batch statistics, no dropout) without changing anything (no running-statistics
//! update, nothing kept for backward, no random draw). So epoch 0 and epoch k mean the same
//! thing, and a BatchNorm network's units are judged as they behave in training.

use lazarus_core::{Layer, Mode, ParamRole, Tensor};
use ndarray::Axis;
use rand::{SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

use super::born_dead::same_row;
use super::unit_tracker::ReportOptions;
use super::{LayerUnits, UnitTracker};
use crate::data::Dataset;
use crate::{Error, Result};

/// The probe set's random stream: mixed into the seed, so that the same seed draws the
/// shuffling and the probe set from different streams.
const PROBE_STREAM: u64 = 0x7072_6f62_6500_0000; // "probe"

/// The samples every probe pass of a run looks at: chosen once, at the start of the run.
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Linear, Sequential, Tensor};
/// use lazarus_train::data::Dataset;
/// use lazarus_train::diagnostics::ProbeSet;
/// use ndarray::array;
/// // Unit 1's bias is so negative that no input in [0, 1] can make it fire: dead.
/// let linear = Linear::from_params(array![[1.0f32], [1.0]].into_dyn(), Some(array![0.0f32, -10.0].into_dyn()))?;
/// let mut model = Sequential::new().add(linear).add(Relu::new());
/// let x = Tensor::from_shape_vec(vec![4, 1], vec![0.1, 0.4, 0.7, 1.0]).unwrap();
/// let data = Dataset::from_labels(x, vec![0, 1, 0, 1], 2)?;
/// let probe = ProbeSet::sample(&data, 3, 7)?; // 3 of the 4 samples, chosen by seed 7
/// let pass = probe.run(&mut model, 2)?;       // two chunks: 2 samples, then 1
/// assert_eq!(pass.units[0].silent, 1);
/// assert_eq!(pass.units[0].active_fraction, [1.0, 0.0]);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProbeSet {
    /// Their indices in the training set, in increasing order.
    indices: Vec<usize>,
    /// Their inputs, copied once (`[samples, ...]`).
    inputs: Tensor,
}

/// What one probe pass saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbePass {
    /// Per activation layer, in model order: silent units, kind, active fraction per unit.
    pub units: Vec<LayerUnits>,
    /// Whether the network's output was the same for every probe sample (born dead, at
    /// initialization).
    pub constant_output: bool,
}

impl ProbeSet {
    /// `size` samples of `data` (all of them if it holds fewer), drawn without replacement by
    /// an RNG seeded from `seed` (the trainer passes its own seed) in a stream of its own, so
    /// that no other random number of the run moves; kept in data-set order. Their inputs are
    /// copied once: 2,048 MNIST images are 6.4 MB.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `size` is 0 or `data` is empty.
    pub fn sample(data: &Dataset, size: usize, seed: u64) -> Result<Self> {
        if size == 0 || data.is_empty() {
            return Err(Error::config(
                "diagnostics",
                "probe_samples",
                format!(
                    "a probe set needs samples: asked for {size} of a data set of {}",
                    data.len()
                ),
            ));
        }
        let n = data.len();
        let mut indices = if size >= n {
            (0..n).collect()
        } else {
            let mut rng = StdRng::seed_from_u64(seed ^ PROBE_STREAM);
            rand::seq::index::sample(&mut rng, n, size).into_vec()
        };
        indices.sort_unstable();
        let inputs = data.inputs().select(Axis(0), &indices);
        Ok(Self { indices, inputs })
    }

    /// A probe set of the given inputs (`[samples, ...]`), for your own loop.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a 0-d tensor or one with no sample.
    pub fn from_inputs(inputs: Tensor) -> Result<Self> {
        let samples = inputs.shape().first().copied().unwrap_or(0);
        if samples == 0 {
            return Err(Error::config(
                "diagnostics",
                "probe inputs",
                format!(
                    "expected [samples, ...] with samples >= 1, found shape {:?}",
                    inputs.shape()
                ),
            ));
        }
        Ok(Self {
            indices: (0..samples).collect(),
            inputs,
        })
    }

    /// Number of probe samples.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the set is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The samples' indices in the data set they were drawn from, in increasing order.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The samples' inputs.
    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    /// One probe pass of `model` over the set, `chunk` samples at a time (the training batch
    /// size, so that the layers reuse their buffers), in [`Mode::Probe`]: after each chunk the
    /// activation layers' statistics are added up per unit. Nothing of the model changes.
    ///
    /// # Errors
    /// Any layer error (a shape mismatch).
    pub fn run(&self, model: &mut dyn Layer, chunk: usize) -> Result<ProbePass> {
        let mut tracker = UnitTracker::default();
        let mut first_row: Option<Tensor> = None;
        let mut constant_output = true;
        let n = self.len();
        for start in (0..n).step_by(chunk.max(1)) {
            let rows = (start + chunk.max(1)).min(n) - start;
            let x = self
                .inputs
                .slice_axis(Axis(0), (start..start + rows).into());
            let y = model.forward(x, Mode::Probe)?;
            // Born dead: every output row equal to the first probe sample's.
            if constant_output && y.ndim() > 0 {
                let first = first_row.get_or_insert_with(|| y.index_axis(Axis(0), 0).to_owned());
                constant_output = y.outer_iter().all(|row| same_row(first.view(), row));
            }
            tracker.observe_rows(model, Some(rows));
        }
        let options = ReportOptions {
            list_units: true,
            active_fraction: true,
        };
        Ok(ProbePass {
            units: tracker.report(None, options),
            constant_output,
        })
    }
}

/// The values of one parameter at one moment (PReLU's slopes after an epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamValues {
    /// The parameter's path (`"1.weight"`).
    pub param: String,
    /// Its values, flattened, as f32 (NaN and infinities as the history writes them).
    #[serde(with = "crate::history::json_float::list")]
    pub values: Vec<f32>,
}

/// Every slope parameter of `model` (role [`ParamRole::Slope`]: PReLU's), by the parameter
/// walk: no layer type is named.
pub fn slope_values(model: &dyn Layer) -> Vec<ParamValues> {
    let mut slopes = Vec::new();
    model.visit_params(&mut |path, p| {
        if p.role() == ParamRole::Slope {
            slopes.push(ParamValues {
                param: path.to_string(),
                values: p.value.iter().copied().collect(),
            });
        }
    });
    slopes
}
