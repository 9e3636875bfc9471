//! [`GroupedOptimizer`]'s state: checking that the model still has the parameters the state was
//! built for, exporting the state by parameter path, and the one check of an imported state
//! ([`plan`](GroupedOptimizer::plan)) behind `check_state`, `load_state` and the first step.

use std::collections::BTreeSet;

use lazarus_core::{Layer, Num, Param, ParamRole, Tensor};
use ndarray::Dimension;

use super::{GroupedOptimizer, Slot};
use crate::error::finite_f32;
use crate::optimizer::check_kind;
use crate::{BufferKind, Error, Optimizer, OptimizerState, Result, UpdateRule};

impl<R: UpdateRule> GroupedOptimizer<R> {
    /// First sight of the model: one slot per parameter, settings worked out, and buffers
    /// allocated, from a pending imported state if there is one (checked here, against the
    /// model, by the same [`plan`](Self::plan) as [`Optimizer::check_state`]).
    pub(super) fn build(&mut self, model: &dyn Layer) -> Result<()> {
        let empty = OptimizerState::default();
        let state = self.pending.as_ref().unwrap_or(&empty);
        let mut slots = self.plan(params_of(model), state)?;
        fill(&mut slots, state);
        self.pending = None;
        self.slots = slots;
        self.built = true;
        self.dirty = false;
        Ok(())
    }

    /// The (path, role, shape) of each slot: the parameters the state was built for.
    fn slot_params(&self) -> Vec<(String, ParamRole, Vec<usize>)> {
        let slots = self.slots.iter();
        slots
            .map(|s| (s.path.clone(), s.role, s.shape.clone()))
            .collect()
    }

    /// Check `state` against the parameters `params` (path, role and shape, in visiting order)
    /// and return the slots it would give them: their settings (with the state's `lr`, if it
    /// has one) and step counts, buffers not yet filled (see [`fill`]).
    ///
    /// This is the one check of an imported state, behind [`Optimizer::check_state`],
    /// [`Optimizer::load_state`] and the first step after a load: the kind, the lr as the
    /// `f32` every parameter gets, every key known and none missing, every shape, every step
    /// count, every buffer value. After it succeeds, [`fill`] cannot fail.
    fn plan(
        &self,
        params: Vec<(String, ParamRole, Vec<usize>)>,
        state: &OptimizerState,
    ) -> Result<Vec<Slot<R>>> {
        check_kind(R::NAME, state)?;
        let lr = imported_lr(R::NAME, state)?;
        let mismatch = |key: &str, reason: String| Error::StateMismatch {
            optimizer: R::NAME,
            key: key.to_string(),
            reason,
        };
        let mut tensor_keys = BTreeSet::new();
        let mut scalar_keys = BTreeSet::from(["lr".to_string()]);
        let mut slots = Vec::with_capacity(params.len());
        for (path, role, shape) in params {
            let base_lr = lr.unwrap_or(self.defaults.lr());
            let (config, lr_scale) = match self.settings_for(&path, role, base_lr) {
                // The state's lr, times this parameter's group ratio, is not a valid f32 lr.
                Err(Error::InvalidHyperParameter {
                    parameter: "lr",
                    value,
                    ..
                }) if lr.is_some() => {
                    return Err(mismatch(
                        "lr",
                        format!(
                            "expected an lr that gives every parameter group a finite lr as f32, found {} (with the group ratio of {path}: {})",
                            Num(f64::from(base_lr)),
                            Num(value)
                        ),
                    ));
                }
                settings => settings?,
            };
            let step_key = format!("{path}.step");
            let step = match state.scalars.get(&step_key) {
                None => 0,
                Some(&s) if s >= 1.0 && s.fract() == 0.0 && s < 2f64.powi(53) => s as u64,
                Some(&s) => {
                    return Err(mismatch(
                        &step_key,
                        format!(
                            "expected the number of updates done, a whole number 1 <= step < 2^53, found {}",
                            Num(s)
                        ),
                    ));
                }
            };
            for buffer in config.buffers() {
                let key = format!("{path}.{}", buffer.name);
                match state.tensors.get(&key) {
                    Some(_) if step == 0 => {
                        return Err(mismatch(
                            &key,
                            format!(
                                "found a buffer but no {step_key} (a buffer comes with the step count of its parameter)"
                            ),
                        ));
                    }
                    Some(t) if t.shape() != shape.as_slice() => {
                        return Err(mismatch(
                            &key,
                            format!("expected shape {shape:?}, found {:?}", t.shape()),
                        ));
                    }
                    Some(t) => {
                        check_buffer_values(t, buffer.kind).map_err(|e| mismatch(&key, e))?
                    }
                    None if step > 0 => {
                        return Err(mismatch(&key, format!("missing, but {step_key} = {step}")));
                    }
                    None => {}
                }
                tensor_keys.insert(key);
            }
            scalar_keys.insert(step_key);
            slots.push(Slot {
                path,
                role,
                shape,
                config,
                lr_scale,
                step,
                buffers: Vec::new(),
                parked: Vec::new(),
            });
        }
        let unknown_tensor = state.tensors.keys().find(|k| !tensor_keys.contains(*k));
        let unknown_scalar = state.scalars.keys().find(|k| !scalar_keys.contains(*k));
        if let Some(unknown) = unknown_tensor.or(unknown_scalar) {
            let what = if unknown_tensor.is_some() {
                "tensor"
            } else {
                "number"
            };
            return Err(mismatch(
                unknown,
                format!(
                    "no such {what} in the state of {} for this model and these settings",
                    R::NAME
                ),
            ));
        }
        Ok(slots)
    }

    /// Check, without allocating unless there is an error, that the model has the parameters
    /// the state was built for, each a contiguous array with a gradient of its shape.
    pub(super) fn check(&self, model: &dyn Layer) -> Result<()> {
        let mut count = 0;
        let mut error = None;
        model.visit_params(&mut |path, p| {
            let index = count;
            count += 1;
            if error.is_some() {
                return;
            }
            let Some(slot) = self.slots.get(index) else {
                return;
            };
            if slot.path != path || slot.shape != p.value.shape() || slot.role != p.role() {
                error = Some(Error::ParamChanged {
                    optimizer: R::NAME,
                    index,
                    expected_path: format!("{} ({:?})", slot.path, slot.role),
                    expected_shape: slot.shape.clone(),
                    found_path: format!("{path} ({:?})", p.role()),
                    found_shape: p.value.shape().to_vec(),
                });
            } else if !contiguous(p) {
                error = Some(Error::NonContiguous {
                    optimizer: R::NAME,
                    path: path.to_string(),
                });
            }
        });
        if count != self.slots.len() {
            return Err(Error::ParamCountChanged {
                optimizer: R::NAME,
                expected: self.slots.len(),
                found: count,
            });
        }
        error.map_or(Ok(()), Err)
    }

    /// [`Optimizer::state`]: every stepped parameter's buffers and step count, and the base lr
    /// (with a pending imported state, not yet built, kept as it is).
    pub(super) fn export(&self) -> OptimizerState {
        let mut state = self.pending.clone().unwrap_or_default();
        state.kind = Some(R::NAME.into());
        for slot in self.slots.iter().filter(|s| s.step > 0) {
            for (buffer, values) in slot.config.buffers().iter().zip(&slot.buffers) {
                let tensor = Tensor::from_shape_vec(slot.shape.clone(), values.clone())
                    .expect("a buffer has its parameter's length");
                state
                    .tensors
                    .insert(format!("{}.{}", slot.path, buffer.name), tensor);
            }
            state
                .scalars
                .insert(format!("{}.step", slot.path), slot.step as f64);
        }
        state.scalars.insert("lr".into(), self.lr().into());
        state
    }

    /// [`Optimizer::check_state`]: [`plan`](Self::plan) against the parameters the state was
    /// built for, or, before the first step, against `model`'s.
    pub(super) fn check_import(&self, state: &OptimizerState, model: &dyn Layer) -> Result<()> {
        let params = if self.built {
            self.check(model)?;
            self.slot_params()
        } else {
            params_of(model)
        };
        self.plan(params, state).map(drop)
    }

    /// [`Optimizer::load_state`]: the slots replaced at once when the model is known, else the
    /// state kept for the first step (which checks it, in [`build`](Self::build)).
    pub(super) fn import(&mut self, state: &OptimizerState) -> Result<()> {
        if self.built {
            let mut slots = self.plan(self.slot_params(), state)?;
            fill(&mut slots, state);
            self.slots = slots;
            self.dirty = false;
        } else {
            // No model yet: check what does not need one, keep the rest for the first step.
            check_kind(R::NAME, state)?;
            imported_lr(R::NAME, state)?;
            self.pending = Some(state.clone());
        }
        if let Some(lr) = imported_lr(R::NAME, state)? {
            self.set_lr(lr);
        }
        Ok(())
    }
}

/// The (path, role, shape) of each of `model`'s parameters, in visiting order.
fn params_of(model: &dyn Layer) -> Vec<(String, ParamRole, Vec<usize>)> {
    let mut found = Vec::new();
    model.visit_params(&mut |path, p| {
        found.push((path.to_string(), p.role(), p.value.shape().to_vec()))
    });
    found
}

/// Whether the fused update can run over `p` as two matching flat slices.
fn contiguous(p: &Param) -> bool {
    p.value.is_standard_layout() && p.grad.is_standard_layout() && p.grad.shape() == p.value.shape()
}

/// The buffers `config` needs for a parameter of `len` elements, at their initial values.
fn fresh_buffers<R: UpdateRule>(config: &R, len: usize) -> Vec<Vec<f32>> {
    (0..config.buffers().len())
        .map(|i| vec![config.initial_value(i); len])
        .collect()
}

/// Give each slot of a [`plan`](GroupedOptimizer::plan) its buffers: the state's copy where it
/// has one, the initial value elsewhere. `plan` has checked every key and shape.
fn fill<R: UpdateRule>(slots: &mut [Slot<R>], state: &OptimizerState) {
    for slot in slots {
        let mut buffers = fresh_buffers(&slot.config, slot.shape.iter().product());
        for (buffer, values) in slot.config.buffers().iter().zip(&mut buffers) {
            if let Some(t) = state.tensors.get(&format!("{}.{}", slot.path, buffer.name)) {
                values.clear();
                values.extend(t.iter());
            }
        }
        slot.buffers = buffers;
    }
}

/// `Err(reason)` naming the first value of an imported buffer the update rule could not have
/// left there: NaN or infinite, or negative in a sum or average of squares.
fn check_buffer_values(t: &Tensor, kind: BufferKind) -> std::result::Result<(), String> {
    let non_negative = kind == BufferKind::NonNegative;
    let bad = |v: f32| !v.is_finite() || (non_negative && v < 0.0);
    match t.indexed_iter().find(|(_, v)| bad(**v)) {
        None => Ok(()),
        Some((index, v)) => Err(format!(
            "expected finite values{}, found {} at index {:?}",
            if non_negative {
                " >= 0 (a running sum or average of squares)"
            } else {
                ""
            },
            Num(*v),
            index.slice()
        )),
    }
}

/// Read the base lr from an imported state, if it has one: `>= 0` and finite as the `f32` it
/// becomes (1e39 is a finite `f64` but ∞ as `f32`).
fn imported_lr(optimizer: &'static str, state: &OptimizerState) -> Result<Option<f32>> {
    match state.scalars.get("lr") {
        None => Ok(None),
        Some(&lr) if lr >= 0.0 && finite_f32(lr) => Ok(Some(lr as f32)),
        Some(&lr) => Err(Error::StateMismatch {
            optimizer,
            key: "lr".into(),
            reason: format!(
                "expected an lr >= 0 that is finite as f32, found {}",
                Num(lr)
            ),
        }),
    }
}
