//! One parameter's slot in a [`GroupedOptimizer`](super::GroupedOptimizer): its settings (the
//! defaults, role rule and groups applied) and its state, and what happens to the buffers when
//! the settings change.

use lazarus_core::ParamRole;

use crate::UpdateRule;

/// One parameter's settings and state.
#[derive(Debug, Clone)]
pub(super) struct Slot<R> {
    pub(super) path: String,
    pub(super) role: ParamRole,
    pub(super) shape: Vec<usize>,
    /// The hyper-parameters for this parameter: defaults, role rule and groups applied.
    pub(super) config: R,
    pub(super) lr_scale: f32,
    pub(super) step: u64,
    pub(super) buffers: Vec<Vec<f32>>,
    /// Buffers the settings stopped using (by name), kept in case they return to them.
    pub(super) parked: Vec<(&'static str, Vec<f32>)>,
}

impl<R: UpdateRule> Slot<R> {
    /// Give the parameter new settings. The buffers both the old and new settings use are
    /// kept; ones the new settings do not use are set aside, and taken up again if later
    /// settings use them, as PyTorch keeps every state entry (SGD whose momentum a schedule
    /// sets to 0 for one step resumes its old buffer after it); new ones start at their
    /// initial value.
    pub(super) fn set_config(&mut self, config: R) {
        if config.buffers() != self.config.buffers() {
            let names = self.config.buffers().iter().map(|b| b.name);
            let mut old: Vec<_> = names.zip(self.buffers.drain(..)).collect();
            old.append(&mut self.parked);
            let len = self.shape.iter().product();
            for (i, buffer) in config.buffers().iter().enumerate() {
                self.buffers
                    .push(match old.iter().position(|(n, _)| *n == buffer.name) {
                        Some(k) => old.swap_remove(k).1,
                        None => vec![config.initial_value(i); len],
                    });
            }
            self.parked = old;
        }
        self.config = config;
    }
}
