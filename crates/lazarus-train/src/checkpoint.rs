//! Checkpoints in safetensors: a model's parameters under PyTorch `state_dict` names, and
//! optionally the optimizer's and schedule's state and the epoch, to resume training exactly.
//!
//! Layout of a file (the safetensors format: an 8-byte header length, a JSON header, raw
//! little-endian data):
//!
//! * one `F32` tensor per parameter, named by its path (`0.weight`, `0.bias`, `1.alpha`): the
//!   keys PyTorch's `nn.Sequential.state_dict()` uses, and Linear weights are `[out, in]` in
//!   both, so `safetensors.torch.load_file` gives a dict `load_state_dict` accepts;
//! * for a training checkpoint, each state group's tensors under `<group>.<key>`
//!   (`optimizer.0.weight.exp_avg`), and its numbers in the header's `__metadata__` as exact
//!   decimal text (`optimizer.0.weight.step = "5"`), with `lazarus.groups` listing the groups and
//!   `lazarus.epoch` the number of finished epochs, and `lazarus.kind.<group>` the kind of
//!   optimizer or schedule that wrote the group (`SGD`, `StepLR`), so that resuming into another
//!   kind fails at once (files written before kinds were recorded have none, and still load).
//!
//! Saving writes a temporary file beside the target and renames it over the target: an
//! interrupted save leaves the previous checkpoint intact. A tensor holding a NaN or an
//! infinity is never saved and never loaded ([`Error::NonFiniteTensor`]). Loading is all or
//! nothing: every name, shape, dtype and value is checked before the model changes.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use lazarus_core::{Layer, Tensor};
use lazarus_optim::OptimizerState;
use safetensors::{Dtype, SafeTensors, tensor::TensorView as StView};

use crate::atomic_file::write_atomically;
use crate::{Error, Result};

const GROUPS_KEY: &str = "lazarus.groups";
const EPOCH_KEY: &str = "lazarus.epoch";
/// Followed by a group name: the kind of optimizer or schedule whose state the group holds.
const KIND_PREFIX: &str = "lazarus.kind.";

/// What a training checkpoint holds besides the model's parameters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingState {
    /// Finished epochs.
    pub epoch: usize,
    /// Named state groups: `"optimizer"` and `"scheduler"` by convention.
    pub groups: BTreeMap<String, OptimizerState>,
}

/// Save `model`'s parameters to `path` (safetensors, PyTorch `state_dict` names).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written; the previous file at `path`, if any, is kept.
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

/// Load parameters saved by [`save_model`] (or [`save_checkpoint`]) into `model`.
///
/// # Errors
/// [`Error::CheckpointCorrupt`] for a file that is not valid safetensors,
/// [`Error::CheckpointMismatch`] for a missing, unexpected or mis-shaped tensor or a dtype other
/// than F32, [`Error::NonFiniteTensor`] for a tensor holding a NaN or an infinity,
/// [`Error::Io`] when it cannot be read. The model is unchanged on error.
pub fn load_model(path: impl AsRef<Path>, model: &mut dyn Layer) -> Result<()> {
    load_checkpoint(path, model).map(|_| ())
}

/// Save `model`'s parameters and, if given, the training state (optimizer, schedule, epoch).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written; the previous file at `path` is kept.
/// [`Error::NonFiniteTensor`] when a parameter or a state tensor holds a NaN or an infinity
/// (nothing is written). [`Error::CheckpointCorrupt`] when the state could not be read back: a group name that is
/// empty, `lazarus` or begins with `lazarus.` (reserved), contains `,`, or begins a parameter path, or two tensors with
/// the same name.
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
    params: HashMap<String, Tensor>,
    pub(crate) state: TrainingState,
}

impl CheckedCheckpoint {
    /// Replace the parameters of `model` (the model it was checked against) with the
    /// checkpoint's, and hand back the training state.
    pub(crate) fn apply_to(mut self, model: &mut dyn Layer) -> TrainingState {
        model.visit_params_mut(&mut |name, p| {
            if let Some(t) = self.params.remove(name) {
                p.value = t;
            }
        });
        self.state
    }
}

/// Read the checkpoint at `path` and check it against `model` (every parameter present, with
/// its shape, finite; no tensor the model does not have), changing nothing.
pub(crate) fn read_checkpoint(path: &Path, model: &dyn Layer) -> Result<CheckedCheckpoint> {
    let bytes = fs::read(path).map_err(Error::io(path))?;
    let corrupt = |reason: String| Error::CheckpointCorrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mismatch = |reason: String| Error::CheckpointMismatch {
        path: path.to_path_buf(),
        reason,
    };
    let file = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let metadata = header.metadata().clone().unwrap_or_default();

    let groups: Vec<String> = metadata
        .get(GROUPS_KEY)
        .map(|g| {
            g.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let group_of = |name: &str| {
        groups.iter().find(|g| {
            name.strip_prefix(g.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    };

    let mut params: HashMap<String, Tensor> = HashMap::new();
    let mut state = TrainingState::default();
    for group in &groups {
        state
            .groups
            .insert(group.clone(), OptimizerState::default());
    }
    for (name, view) in file.iter() {
        let tensor =
            decode(&view).map_err(|reason| mismatch(format!("tensor `{name}`: {reason}")))?;
        refuse_non_finite(path, name, &tensor, "load")?;
        match group_of(name) {
            Some(group) => {
                let key = name[group.len() + 1..].to_string();
                state
                    .groups
                    .entry(group.clone())
                    .or_default()
                    .tensors
                    .insert(key, tensor);
            }
            None => {
                params.insert(name.to_string(), tensor);
            }
        }
    }
    for (key, text) in &metadata {
        if let Some(group) = key.strip_prefix(KIND_PREFIX) {
            let Some(s) = state.groups.get_mut(group) else {
                return Err(corrupt(format!(
                    "metadata `{key}` names a state group the file does not list in `{GROUPS_KEY}`"
                )));
            };
            s.kind = Some(text.clone());
        } else if let Some(group) = group_of(key) {
            let value: f64 = text
                .parse()
                .map_err(|_| corrupt(format!("metadata `{key}` is not a number: {text:?}")))?;
            let name = key[group.len() + 1..].to_string();
            state
                .groups
                .entry(group.clone())
                .or_default()
                .scalars
                .insert(name, value);
        }
    }
    if let Some(epoch) = metadata.get(EPOCH_KEY) {
        state.epoch = epoch.parse().map_err(|_| {
            corrupt(format!(
                "metadata `{EPOCH_KEY}` is not an epoch count: {epoch:?}"
            ))
        })?;
    }

    let mut problem = None;
    let mut expected = 0;
    model.visit_params(&mut |name, p| {
        expected += 1;
        if problem.is_some() {
            return;
        }
        problem = match params.get(name) {
            None => Some(format!(
                "missing tensor `{name}` (shape {:?})",
                p.value.shape()
            )),
            Some(t) if t.shape() != p.value.shape() => Some(format!(
                "tensor `{name}`: expected shape {:?}, found {:?}",
                p.value.shape(),
                t.shape()
            )),
            Some(_) => None,
        };
    });
    if let Some(reason) = problem {
        return Err(mismatch(reason));
    }
    if params.len() != expected {
        let mut known = std::collections::HashSet::new();
        model.visit_params(&mut |name, _| {
            known.insert(name.to_string());
        });
        let mut extra: Vec<_> = params
            .keys()
            .filter(|k| !known.contains(*k))
            .cloned()
            .collect();
        extra.sort();
        return Err(mismatch(format!(
            "unexpected tensors {extra:?} that the model does not have"
        )));
    }
    Ok(CheckedCheckpoint { params, state })
}

/// Serialize parameters and state into safetensors bytes, for the file at `path`.
fn encode(path: &Path, model: &dyn Layer, state: Option<&TrainingState>) -> Result<Vec<u8>> {
    let corrupt = |reason: String| Error::CheckpointCorrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mut tensors: Vec<(String, &Tensor)> = Vec::new();
    let mut params: Vec<(String, Tensor)> = Vec::new();
    model.visit_params(&mut |name, p| params.push((name.to_string(), p.value.clone())));
    tensors.extend(params.iter().map(|(name, t)| (name.clone(), t)));
    let mut metadata = HashMap::new();
    if let Some(state) = state {
        // Loading splits names at the group: refuse what it would misread.
        for group in state.groups.keys() {
            let prefix = format!("{group}.");
            if group.is_empty()
                || group == "lazarus"
                || group.starts_with("lazarus.")
                || group.contains(',')
                || tensors.iter().any(|(name, ..)| name.starts_with(&prefix))
            {
                return Err(corrupt(format!(
                    "state group name {group:?} must be non-empty, not `lazarus` or `lazarus.*`, contain \
                     no ',' and not begin a parameter path"
                )));
            }
        }
        metadata.insert(EPOCH_KEY.to_string(), state.epoch.to_string());
        let names: Vec<&str> = state.groups.keys().map(String::as_str).collect();
        metadata.insert(GROUPS_KEY.to_string(), names.join(","));
        for (group, s) in &state.groups {
            if let Some(kind) = &s.kind {
                metadata.insert(format!("{KIND_PREFIX}{group}"), kind.clone());
            }
            for (key, t) in &s.tensors {
                tensors.push((format!("{group}.{key}"), t));
            }
            for (key, v) in &s.scalars {
                // Rust prints the shortest decimal that parses back to the same f64: exact.
                metadata.insert(format!("{group}.{key}"), v.to_string());
            }
        }
    }
    let mut names = std::collections::HashSet::new();
    if let Some((name, ..)) = tensors.iter().find(|(name, ..)| !names.insert(name)) {
        return Err(corrupt(format!("two tensors are named `{name}`")));
    }
    // A non-finite tensor would only spread a failed run: refuse before writing anything.
    for (name, t) in &tensors {
        refuse_non_finite(path, name, t, "save")?;
    }
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|(_, t)| to_bytes(t)).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, t), data)| {
            StView::new(Dtype::F32, t.shape().to_vec(), data).map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| corrupt(e.to_string()))?;
    let metadata = (!metadata.is_empty()).then_some(metadata);
    safetensors::serialize(views, metadata).map_err(|e| corrupt(e.to_string()))
}

/// [`Error::NonFiniteTensor`] for the first NaN or infinity in `tensor` (named `name` in the
/// file at `path`), refusing to `action` it.
fn refuse_non_finite(path: &Path, name: &str, tensor: &Tensor, action: &'static str) -> Result<()> {
    match tensor.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(Error::NonFiniteTensor {
            path: path.to_path_buf(),
            tensor: name.to_string(),
            index,
            value,
            action,
        }),
        None => Ok(()),
    }
}

fn to_bytes(t: &Tensor) -> Vec<u8> {
    t.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn decode(view: &StView<'_>) -> std::result::Result<Tensor, String> {
    if view.dtype() != Dtype::F32 {
        return Err(format!("expected dtype F32, found {:?}", view.dtype()));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Tensor::from_shape_vec(view.shape().to_vec(), values).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file::{temporaries_of, write_atomically_with_hook};
    use lazarus_core::Linear;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn an_interrupted_save_keeps_the_previous_file() {
        let dir = std::env::temp_dir().join(format!("lazarus-ckpt-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("model.safetensors");
        let old = Linear::new(3, 2, &mut StdRng::seed_from_u64(0)).unwrap();
        save_model(&path, &old).unwrap();
        let good = fs::read(&path).unwrap();

        let new = Linear::new(3, 2, &mut StdRng::seed_from_u64(1)).unwrap();
        let bytes = encode(&path, &new, None).unwrap();
        // The temporary file is fully written, then the "crash" happens before the rename.
        let crash = write_atomically_with_hook(&path, &bytes, || {
            assert_eq!(temporaries_of(&path).len(), 1);
            Err(Error::config(
                "test",
                "crash",
                "simulated crash before rename",
            ))
        });
        assert!(crash.is_err());
        assert_eq!(
            fs::read(&path).unwrap(),
            good,
            "the previous checkpoint is intact"
        );
        assert!(
            temporaries_of(&path).is_empty(),
            "the temporary file is cleaned up"
        );

        let mut loaded = Linear::new(3, 2, &mut StdRng::seed_from_u64(2)).unwrap();
        load_model(&path, &mut loaded).unwrap();
        assert_eq!(loaded.weight().value, old.weight().value);
    }

    #[test]
    fn training_state_round_trips_exactly() {
        let dir = std::env::temp_dir().join(format!("lazarus-ckpt-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.safetensors");
        let model = Linear::new(2, 2, &mut StdRng::seed_from_u64(0)).unwrap();
        let mut state = TrainingState {
            epoch: 7,
            ..TrainingState::default()
        };
        let mut opt = OptimizerState::default();
        opt.scalars.insert("lr".into(), 0.1 + 0.2);
        opt.scalars.insert("0.weight.step".into(), 5.0);
        opt.tensors.insert(
            "weight.exp_avg".into(),
            Tensor::from_elem(vec![2, 2], 1.0 / 3.0),
        );
        state.groups.insert("optimizer".into(), opt);
        save_checkpoint(&path, &model, Some(&state)).unwrap();
        let mut other = Linear::new(2, 2, &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(load_checkpoint(&path, &mut other).unwrap(), state);
    }
}
