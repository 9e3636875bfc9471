//! The training part of a checkpoint: the optimizer's and the schedule's state, and the epoch.
//!
//! Each state group (`optimizer`, `scheduler`) keeps its tensors under `<group>.<key>`
//! (`optimizer.0.weight.exp_avg`, F32) and its numbers in the header's `__metadata__` as exact
//! decimal text (`optimizer.0.weight.step = "5"`). The metadata also lists the groups
//! (`lazarus.groups = "optimizer,scheduler"`), the finished epochs (`lazarus.epoch`), and the
//! kind of optimizer or schedule that wrote each group (`lazarus.kind.optimizer = "Adam"`), so
//! that resuming into another kind fails at once (files written before kinds were recorded have
//! none, and still load). Every other tensor of the file is the model's (`model.rs`).

use std::collections::HashMap;
use std::path::Path;

use lazarus_core::Tensor;
use lazarus_optim::OptimizerState;
use safetensors::{Dtype, SafeTensors, tensor::TensorView as StView};

use super::TrainingState;
use super::decode::{decode, refuse_non_finite};
use crate::{Error, Result};

const GROUPS_KEY: &str = "lazarus.groups";
const EPOCH_KEY: &str = "lazarus.epoch";
/// Followed by a group name: the kind of optimizer or schedule whose state the group holds.
const KIND_PREFIX: &str = "lazarus.kind.";

/// How a training state is written: tensors named `<group>.<key>` (F32), and metadata.
type Written<'s> = (Vec<(String, &'s Tensor)>, HashMap<String, String>);

/// The tensors (`<group>.<key>`, F32) and metadata that store `state`, for a file whose model
/// tensors are named `model_keys`.
///
/// # Errors
/// [`Error::CheckpointCorrupt`] for a group name that loading would misread: empty, `lazarus`
/// or `lazarus.*` (reserved), containing `,`, or beginning a model key.
pub(super) fn entries<'s>(
    path: &Path,
    state: &'s TrainingState,
    model_keys: &[&str],
) -> Result<Written<'s>> {
    let mut tensors = Vec::new();
    let mut metadata = HashMap::new();
    // Loading splits names at the group: refuse what it would misread.
    for group in state.groups.keys() {
        let prefix = format!("{group}.");
        if group.is_empty()
            || group == "lazarus"
            || group.starts_with("lazarus.")
            || group.contains(',')
            || model_keys.iter().any(|key| key.starts_with(&prefix))
        {
            return Err(corrupt(
                path,
                format!(
                    "state group name {group:?} must be non-empty, not `lazarus` or `lazarus.*`, \
                     contain no ',' and not begin a model key"
                ),
            ));
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
    Ok((tensors, metadata))
}

/// Split `file` into its training state (decoded and checked: F32, finite) and the model's
/// entries, handed back unread for [`model::check`](super::model::check).
///
/// # Errors
/// [`Error::CheckpointCorrupt`] for metadata that does not parse, [`Error::CheckpointMismatch`]
/// for a state tensor that is not F32, [`Error::NonFiniteTensor`] for one holding a NaN or an
/// infinity.
pub(super) fn split<'a>(
    path: &Path,
    file: &SafeTensors<'a>,
    metadata: &HashMap<String, String>,
) -> Result<(TrainingState, HashMap<String, StView<'a>>)> {
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

    let mut state = TrainingState::default();
    for group in &groups {
        state
            .groups
            .insert(group.clone(), OptimizerState::default());
    }
    let mut model = HashMap::new();
    for (name, view) in file.iter() {
        let Some(group) = group_of(name) else {
            model.insert(name.to_string(), view);
            continue;
        };
        let tensor = decode(&view, Dtype::F32).map_err(|reason| Error::CheckpointMismatch {
            path: path.to_path_buf(),
            key: name.to_string(),
            layer: None,
            reason,
        })?;
        refuse_non_finite(path, name, &tensor, "load")?;
        let key = name[group.len() + 1..].to_string();
        state
            .groups
            .entry(group.clone())
            .or_default()
            .tensors
            .insert(key, tensor);
    }
    for (key, text) in metadata {
        if let Some(group) = key.strip_prefix(KIND_PREFIX) {
            let Some(s) = state.groups.get_mut(group) else {
                return Err(corrupt(
                    path,
                    format!(
                        "metadata `{key}` names a state group the file does not list in `{GROUPS_KEY}`"
                    ),
                ));
            };
            s.kind = Some(text.clone());
        } else if let Some(group) = group_of(key) {
            let value: f64 = text.parse().map_err(|_| {
                corrupt(path, format!("metadata `{key}` is not a number: {text:?}"))
            })?;
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
            corrupt(
                path,
                format!("metadata `{EPOCH_KEY}` is not an epoch count: {epoch:?}"),
            )
        })?;
    }
    Ok((state, model))
}

pub(super) fn corrupt(path: &Path, reason: String) -> Error {
    Error::CheckpointCorrupt {
        path: path.to_path_buf(),
        reason,
    }
}
