//! Saving a training run and resuming it exactly: the model, the optimizer's and the schedule's
//! state, and the epoch count, in one safetensors file (see [`checkpoint`](crate::checkpoint)).
//!
//! Resuming is all or nothing. The file is read and checked in full first: the parameters and
//! buffers against the model (names, dtypes, shapes, finite values), the optimizer's state against the optimizer
//! and the model ([`Optimizer::check_state`]: the same kind of optimizer, every buffer present,
//! finite, of the right shape), the schedule's against the schedule. Only then does anything
//! change, so a damaged or mismatched checkpoint leaves the trainer exactly as it was.

use std::path::Path;

use lazarus_core::Layer;

use crate::checkpoint::{TrainingState, read_checkpoint, save_checkpoint};
use crate::{Error, Result, Trainer};

/// Group names of a training checkpoint's state.
const OPTIMIZER: &str = "optimizer";
const SCHEDULER: &str = "scheduler";

/// How [`Trainer::resume_from_with`] treats state the trainer has no use for.
///
/// ```
/// use lazarus_train::ResumeOptions;
/// let lenient = ResumeOptions { ignore_scheduler_state: true };
/// assert!(!ResumeOptions::default().ignore_scheduler_state);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResumeOptions {
    /// Resume a checkpoint that holds a schedule's state into a trainer without a schedule,
    /// dropping that state (default: no, it is an [`Error::CheckpointState`], since the run
    /// would silently continue at a constant learning rate).
    pub ignore_scheduler_state: bool,
}

impl<M: Layer> Trainer<M> {
    /// Save the model, the optimizer's and schedule's state and the epoch count to `path`
    /// (safetensors; atomic: the previous file survives a failed or interrupted save).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::NonFiniteTensor`] when a weight or a state
    /// buffer holds a NaN or an infinity (nothing is written).
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut state = TrainingState {
            epoch: self.epochs_done,
            ..TrainingState::default()
        };
        state
            .groups
            .insert(OPTIMIZER.into(), self.optimizer.state());
        if let Some(s) = &self.scheduler {
            state.groups.insert(SCHEDULER.into(), s.state());
        }
        save_checkpoint(path, &self.model, Some(&state))
    }

    /// Load a checkpoint written by [`save_checkpoint`](Trainer::save_checkpoint): the model's
    /// parameters and buffers, the optimizer's and schedule's state, and the epoch count, so that `fit`
    /// continues exactly where the saved run stopped. Returns the checkpoint's epoch count.
    ///
    /// A model-only file (from [`save_model`](crate::checkpoint::save_model)) loads the weights
    /// and keeps the optimizer's and schedule's current state.
    ///
    /// # Errors
    /// Nothing changes on error. The errors of
    /// [`load_checkpoint`](crate::checkpoint::load_checkpoint);
    /// [`Error::CheckpointState`] when the optimizer's or the schedule's state does not fit
    /// (another kind of optimizer or schedule, a missing, unknown or out-of-range entry), or
    /// when the file holds a schedule's state and this trainer has no schedule (see
    /// [`resume_from_with`](Trainer::resume_from_with)).
    pub fn resume_from(&mut self, path: impl AsRef<Path>) -> Result<usize> {
        self.resume_from_with(path, ResumeOptions::default())
    }

    /// [`resume_from`](Trainer::resume_from), with [`ResumeOptions`].
    ///
    /// # Errors
    /// As [`resume_from`](Trainer::resume_from).
    pub fn resume_from_with(
        &mut self,
        path: impl AsRef<Path>,
        options: ResumeOptions,
    ) -> Result<usize> {
        let path = path.as_ref();
        let checkpoint = read_checkpoint(path, &self.model)?;
        let state_error = |group: &str, e: lazarus_optim::Error| Error::CheckpointState {
            path: path.to_path_buf(),
            group: group.into(),
            reason: e.to_string(),
        };
        let groups = &checkpoint.state.groups;
        if let Some(unknown) = groups.keys().find(|g| *g != OPTIMIZER && *g != SCHEDULER) {
            return Err(Error::CheckpointState {
                path: path.to_path_buf(),
                group: unknown.clone(),
                reason: format!("a trainer resumes only `{OPTIMIZER}` and `{SCHEDULER}` state"),
            });
        }
        let optimizer_state = groups.get(OPTIMIZER);
        if let Some(s) = optimizer_state {
            self.optimizer
                .check_state(s, &self.model)
                .map_err(|e| state_error(OPTIMIZER, e))?;
        }
        let scheduler_state = match (groups.get(SCHEDULER), &self.scheduler) {
            (Some(s), Some(scheduler)) => {
                scheduler
                    .check_state(s)
                    .map_err(|e| state_error(SCHEDULER, e))?;
                Some(s)
            }
            (Some(s), None) if !options.ignore_scheduler_state => {
                return Err(Error::CheckpointState {
                    path: path.to_path_buf(),
                    group: SCHEDULER.into(),
                    reason: format!(
                        "the file holds {} state but this trainer has no schedule: add the \
                         same schedule, or resume with ResumeOptions {{ ignore_scheduler_state: \
                         true }} to continue at a constant learning rate",
                        s.kind.as_deref().unwrap_or("a schedule's")
                    ),
                });
            }
            _ => None,
        };

        // Everything fits. Apply in an order that can still be undone should a custom
        // optimizer or schedule accept in `check_state` what its `load_state` refuses: the
        // optimizer (its `load_state` changes nothing on error), the schedule (on error the
        // optimizer gets its previous state back), and last the model, which cannot fail.
        let optimizer_state = optimizer_state.cloned();
        let scheduler_state = scheduler_state.cloned();
        let previous = self.optimizer.state();
        if let Some(s) = &optimizer_state {
            self.optimizer
                .load_state(s)
                .map_err(|e| state_error(OPTIMIZER, e))?;
        }
        if let (Some(s), Some(scheduler)) = (&scheduler_state, self.scheduler.as_mut()) {
            if let Err(e) = scheduler.load_state(s) {
                // Its own state a moment ago: the optimizer takes it back.
                let _ = self.optimizer.load_state(&previous);
                return Err(state_error(SCHEDULER, e));
            }
            // The optimizer's state holds no momentum (PyTorch's holds it in its param groups):
            // a schedule that cycles it gives it again, as of the loaded step. `scheduler`
            // checked that the optimizer has one, so this cannot fail.
            if let Some(momentum) = scheduler.momentum() {
                self.optimizer.set_momentum(momentum)?;
            }
        }
        let state = checkpoint.apply_to(&mut self.model);
        // The checkpoint holds no history: records after its epoch are dropped, earlier ones (if
        // this trainer ran them) kept, and `fit` starts at the epoch after the checkpoint's.
        self.history.epochs.retain(|r| r.epoch <= state.epoch);
        self.epochs_done = state.epoch;
        Ok(state.epoch)
    }
}
