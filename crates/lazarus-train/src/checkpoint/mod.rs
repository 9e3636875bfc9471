//! Checkpoints in safetensors: a model's parameters and buffers under PyTorch's `state_dict`
//! keys, and optionally the optimizer's and schedule's state and the epoch, to resume training
//! exactly.
//!
//! A file (the safetensors format: an 8-byte header length, a JSON header, raw little-endian
//! data) holds two parts, one file each here:
//!
//! * `model.rs`, the model: one tensor per parameter and per buffer, named by its path
//!   (`0.weight`, `0.bias`, `1.weight`, `2.running_mean`, `2.num_batches_tracked`), F32, or I64
//!   of shape `[]` for a count: the keys, shapes and dtypes of PyTorch's
//!   `nn.Sequential.state_dict()`, so `model.load_state_dict(load_file(path), strict=True)`
//!   works on a file from [`save_model`];
//! * `training.rs`, for a training checkpoint: each state group's tensors under
//!   `<group>.<key>` (`optimizer.0.weight.exp_avg`) and its numbers, the epoch and the kind of
//!   optimizer or schedule in the header's `__metadata__`. PyTorch users drop the
//!   `optimizer.*` and `scheduler.*` entries before `load_state_dict` (see the README).
//!
//! `decode.rs` turns tensors into bytes and back, and checks what crosses: a tensor holding a
//! NaN or an infinity is never saved and never loaded ([`Error::NonFiniteTensor`]), and a count
//! must be a whole number in `0..=2²⁴` (exact in the f32 that holds it in memory).
//!
//! Saving writes a temporary file beside the target and renames it over the target: an
//! interrupted save leaves the previous checkpoint intact. Loading is all or nothing: every
//! name, shape, dtype and value is checked before the model changes.

mod decode;
mod model;
mod training;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;

use lazarus_core::{Layer, Tensor};
use lazarus_optim::OptimizerState;
use safetensors::{Dtype, SafeTensors, tensor::TensorView as StView};

use crate::atomic_file::write_atomically;
use crate::{Error, Result};
use decode::{refuse_non_finite, to_bytes};
use model::ModelState;
use training::corrupt;

/// What a training checkpoint holds besides the model's parameters and buffers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingState {
    /// Finished epochs.
    pub epoch: usize,
    /// Named state groups: `"optimizer"` and `"scheduler"` by convention.
    pub groups: BTreeMap<String, OptimizerState>,
}

/// Save `model`'s parameters and buffers to `path` (safetensors, PyTorch `state_dict` keys,
/// shapes and dtypes).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written; the previous file at `path`, if any, is kept.
/// [`Error::NonFiniteTensor`] when a parameter or a buffer holds a NaN or an infinity, and
/// [`Error::CheckpointCorrupt`] when a count buffer holds no whole number in `0..=2²⁴`
/// (nothing is written).
///
/// ```
/// use lazarus_core::{Layer, Linear};
/// use lazarus_train::checkpoint::{load_model, save_model};
/// use rand::{rngs::StdRng, SeedableRng};
/// let dir = std::env::temp_dir().join(format!("lazarus-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("model.safetensors");
/// let model = Linear::new(3, 2, &mut StdRng::seed_from_u64(0))?;
/// save_model(&path, &model)?;
/// let mut other = Linear::new(3, 2, &mut StdRng::seed_from_u64(1))?;
/// load_model(&path, &mut other)?;
/// assert_eq!(model.weight().value, other.weight().value);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn save_model(path: impl AsRef<Path>, model: &dyn Layer) -> Result<()> {
    save_checkpoint(path, model, None)
}

/// Load parameters and buffers saved by [`save_model`] (or [`save_checkpoint`]) into `model`.
///
/// Parameters and real-valued buffers must be F32, counts I64 (as PyTorch writes
/// `num_batches_tracked`). One rename is made: a file written before PReLU's slopes took
/// PyTorch's name `weight` holds them as `<prefix>.alpha`, which loads into the slope
/// parameter `<prefix>.weight`.
///
/// # Errors
/// [`Error::CheckpointCorrupt`] for a file that is not valid safetensors,
/// [`Error::CheckpointMismatch`] for a missing, unexpected or mis-shaped tensor, a wrong dtype
/// or a count out of range (naming the key and the layer that owns it),
/// [`Error::NonFiniteTensor`] for a tensor holding a NaN or an infinity,
/// [`Error::Io`] when it cannot be read. The model is unchanged on error.
pub fn load_model(path: impl AsRef<Path>, model: &mut dyn Layer) -> Result<()> {
    load_checkpoint(path, model).map(|_| ())
}

/// Save `model`'s parameters and buffers and, if given, the training state (optimizer,
/// schedule, epoch).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written; the previous file at `path` is kept.
/// [`Error::NonFiniteTensor`] when a parameter, a buffer or a state tensor holds a NaN or an
/// infinity (nothing is written). [`Error::CheckpointCorrupt`] when the file could not be read
/// back: a count buffer that holds no whole number in `0..=2²⁴`, a group name that is empty,
/// `lazarus` or begins with `lazarus.` (reserved), contains `,`, or begins a model key, or two
/// tensors with the same name.
pub fn save_checkpoint(
    path: impl AsRef<Path>,
    model: &dyn Layer,
    state: Option<&TrainingState>,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode(path, model, state)?;
    write_atomically(path, &bytes)
}

/// Load a checkpoint into `model` and return its training state (empty for a model-only file).
///
/// # Errors
/// As [`load_model`].
pub fn load_checkpoint(path: impl AsRef<Path>, model: &mut dyn Layer) -> Result<TrainingState> {
    Ok(read_checkpoint(path.as_ref(), model)?.apply_to(model))
}

/// A checkpoint read from a file and checked against a model, not applied yet: resuming
/// checks the optimizer's and the schedule's state too before anything changes.
#[derive(Debug)]
pub(crate) struct CheckedCheckpoint {
    model: ModelState,
    pub(crate) state: TrainingState,
}

impl CheckedCheckpoint {
    /// Replace the parameters and buffers of `model` (the model it was checked against) with
    /// the checkpoint's, and hand back the training state.
    pub(crate) fn apply_to(self, model: &mut dyn Layer) -> TrainingState {
        self.model.apply_to(model);
        self.state
    }
}

/// Read the checkpoint at `path` and check it against `model` (every parameter and buffer
/// present, with its dtype and shape, finite; no tensor the model does not have), changing
/// nothing.
pub(crate) fn read_checkpoint(path: &Path, model: &dyn Layer) -> Result<CheckedCheckpoint> {
    let bytes = fs::read(path).map_err(Error::io(path))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(path, e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let (state, model_entries) = training::split(path, &file, &metadata)?;
    let model = model::check(path, model, model_entries)?;
    Ok(CheckedCheckpoint { model, state })
}

/// Serialize the model's tensors and the training state into safetensors bytes, for the file
/// at `path`.
fn encode(path: &Path, model: &dyn Layer, state: Option<&TrainingState>) -> Result<Vec<u8>> {
    let model_entries = model::entries(model);
    let mut tensors: Vec<(String, &Tensor, Dtype)> = model_entries
        .iter()
        .map(|(key, t, dtype)| (key.clone(), t, *dtype))
        .collect();
    let mut metadata = None;
    if let Some(state) = state {
        let keys: Vec<&str> = model_entries.iter().map(|(key, ..)| key.as_str()).collect();
        let (state_tensors, state_metadata) = training::entries(path, state, &keys)?;
        tensors.extend(state_tensors.into_iter().map(|(k, t)| (k, t, Dtype::F32)));
        metadata = Some(state_metadata);
    }
    let mut names = HashSet::new();
    if let Some((name, ..)) = tensors.iter().find(|(name, ..)| !names.insert(name)) {
        return Err(corrupt(path, format!("two tensors are named `{name}`")));
    }
    // A non-finite tensor would only spread a failed run: refuse before writing anything.
    for (name, t, _) in &tensors {
        refuse_non_finite(path, name, t, "save")?;
    }
    let bytes = tensors
        .iter()
        .map(|(name, t, dtype)| {
            to_bytes(t, *dtype).map_err(|reason| corrupt(path, format!("`{name}`: {reason}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, t, dtype), data)| {
            StView::new(*dtype, t.shape().to_vec(), data).map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| corrupt(path, e.to_string()))?;
    safetensors::serialize(views, metadata).map_err(|e| corrupt(path, e.to_string()))
}

#[cfg(test)]
mod tests;
