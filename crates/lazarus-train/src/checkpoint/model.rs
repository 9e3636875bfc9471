//! The model's part of a checkpoint: PyTorch's `state_dict`.
//!
//! The keys are the names of the one walk over the model, [`Layer::visit_params`] then
//! [`Layer::visit_buffers`], where a `Sequential` prefixes its child's index: `0.weight`,
//! `0.bias`, `1.weight` (a PReLU's slopes), `2.running_mean`, `2.num_batches_tracked`. Nothing
//! is renamed on the way to the file. Parameters and real-valued buffers are stored as F32,
//! counts as I64 of shape `[]`: exactly the keys, shapes and dtypes of the matching
//! `nn.Sequential.state_dict()`, so PyTorch loads the file with `strict=True`.
//!
//! Loading checks every tensor the model has (present, the right dtype and shape, finite, a
//! count whole and in range) and refuses tensors it does not have, before anything changes.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use lazarus_core::{Layer, ParamRole, Tensor, walk_layers};
use safetensors::{Dtype, tensor::TensorView as StView};

use super::decode::{decode, dtype_of, refuse_non_finite};
use crate::{Error, Result};

/// Every tensor of `model`'s state with its key and file dtype: parameters (F32), then buffers
/// (F32, or I64 for a count), each in walk order.
pub(super) fn entries(model: &dyn Layer) -> Vec<(String, Tensor, Dtype)> {
    let mut out = Vec::new();
    model.visit_params(&mut |key, p| out.push((key.to_string(), p.value.clone(), Dtype::F32)));
    model.visit_buffers(&mut |key, b| {
        out.push((key.to_string(), b.value.clone(), dtype_of(b.kind())));
    });
    out
}

/// What the model holds under one key.
struct Slot {
    key: String,
    shape: Vec<usize>,
    dtype: Dtype,
    /// A parameter (else a buffer).
    param: bool,
    /// A parameter with role [`ParamRole::Slope`] (PReLU's), which old files name `alpha`.
    slope: bool,
}

fn slots(model: &dyn Layer) -> Vec<Slot> {
    let mut out = Vec::new();
    model.visit_params(&mut |key, p| {
        out.push(Slot {
            key: key.to_string(),
            shape: p.value.shape().to_vec(),
            dtype: Dtype::F32,
            param: true,
            slope: p.role() == ParamRole::Slope,
        });
    });
    model.visit_buffers(&mut |key, b| {
        out.push(Slot {
            key: key.to_string(),
            shape: b.value.shape().to_vec(),
            dtype: dtype_of(b.kind()),
            param: false,
            slope: false,
        });
    });
    out
}

/// The model's tensors read from a file and checked against the model, not applied yet.
#[derive(Debug)]
pub(super) struct ModelState {
    params: HashMap<String, Tensor>,
    buffers: HashMap<String, Tensor>,
}

impl ModelState {
    /// Replace the parameters and buffers of `model` (the model they were checked against).
    pub(super) fn apply_to(mut self, model: &mut dyn Layer) {
        model.visit_params_mut(&mut |key, p| {
            if let Some(t) = self.params.remove(key) {
                p.value = t;
            }
        });
        model.visit_buffers_mut(&mut |key, b| {
            if let Some(t) = self.buffers.remove(key) {
                b.value = t;
            }
        });
    }
}

/// Check `file` (the model's entries of a checkpoint: every tensor that is not training
/// state) against `model`, changing nothing. Errors name the key and the layer that owns it.
pub(super) fn check(
    path: &Path,
    model: &dyn Layer,
    mut file: HashMap<String, StView<'_>>,
) -> Result<ModelState> {
    let layers = layer_names(model);
    let mismatch = |key: &str, reason: String| Error::CheckpointMismatch {
        path: path.to_path_buf(),
        key: key.to_string(),
        layer: owner(&layers, key),
        reason,
    };
    let mut state = ModelState {
        params: HashMap::new(),
        buffers: HashMap::new(),
    };
    for slot in slots(model) {
        let key = slot.key.as_str();
        let view = file
            .remove(key)
            .or_else(|| slot.slope.then(|| legacy_slope(&mut file, key)).flatten());
        let Some(view) = view else {
            let what = if slot.param { "parameter" } else { "buffer" };
            return Err(mismatch(
                key,
                format!("missing {what} of shape {:?}", slot.shape),
            ));
        };
        let tensor = decode(&view, slot.dtype).map_err(|reason| mismatch(key, reason))?;
        if tensor.shape() != slot.shape {
            return Err(mismatch(
                key,
                format!(
                    "expected shape {:?}, found {:?}",
                    slot.shape,
                    tensor.shape()
                ),
            ));
        }
        refuse_non_finite(path, key, &tensor, "load")?;
        let into = if slot.param {
            &mut state.params
        } else {
            &mut state.buffers
        };
        into.insert(slot.key, tensor);
    }
    let extra: BTreeSet<&String> = file.keys().collect();
    if let Some(&first) = extra.first() {
        return Err(mismatch(
            first,
            format!("unexpected tensors {extra:?} that the model does not have"),
        ));
    }
    Ok(state)
}

/// Files written before PReLU's slopes were named as PyTorch names them hold `<prefix>.alpha`
/// (or `alpha` for a lone PReLU) where the model now has `<prefix>.weight`: the one rename
/// the loader does, for the key of a [`ParamRole::Slope`] parameter only, and only when the
/// file lacks the new key (a file with both is refused: `alpha` is then unexpected).
fn legacy_slope<'a>(file: &mut HashMap<String, StView<'a>>, key: &str) -> Option<StView<'a>> {
    let prefix = key.strip_suffix("weight")?;
    if !(prefix.is_empty() || prefix.ends_with('.')) {
        return None;
    }
    file.remove(&format!("{prefix}alpha"))
}

/// Each layer's name as errors show it (`linear[0]`, `prelu[2.1]`, the bare name for the model
/// itself), by its path.
fn layer_names(model: &dyn Layer) -> HashMap<String, String> {
    let mut out = HashMap::new();
    walk_layers(model, &mut |path, layer| {
        let name = if path.is_empty() {
            layer.name().to_string()
        } else {
            format!("{}[{path}]", layer.name())
        };
        out.insert(path.to_string(), name);
    });
    out
}

/// The layer that owns `key` (the one at the key's path without its last part), if the model
/// has one there.
fn owner(layers: &HashMap<String, String>, key: &str) -> Option<String> {
    let path = key.rsplit_once('.').map_or("", |(path, _)| path);
    layers.get(path).cloned()
}
