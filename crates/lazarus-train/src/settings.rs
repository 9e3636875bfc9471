//! The trainer's settings, each checked where it is given, its parts, handed back, and the
//! batches they ask for.
//!
//! A setter returns `Result<Self>` exactly when its argument can be invalid (the crate's rule,
//! see the [crate docs](crate)): `batch_size(0)` fails on its own line, not an epoch later in
//! `fit`.

use lazarus_core::Layer;
use lazarus_optim::{LrScheduler, Optimizer};

use crate::callbacks::Callback;
use crate::data::{DataLoader, Dataset};
use crate::diagnostics::{Diagnostics, DiagnosticsConfig, DiagnosticsObserver};
use crate::progress::{Progress, Verbosity};
use crate::{Error, History, Result, Trainer};

impl<M: Layer> Trainer<M> {
    /// Total number of epochs `fit` trains to (counting epochs already done when resuming;
    /// with as many or fewer done, `fit` has nothing left to do).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per batch (the last batch of an epoch may be smaller).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `batch_size` is 0.
    pub fn batch_size(mut self, batch_size: usize) -> Result<Self> {
        Error::check_setting(
            batch_size >= 1,
            "trainer",
            "batch_size",
            "at least 1",
            batch_size as f64,
        )?;
        self.batch_size = batch_size;
        Ok(self)
    }

    /// Seed of the per-epoch shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Shuffle the training set every epoch (the default, as Keras' `fit(shuffle=True)`), or
    /// go through it in order.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Drop the last batch of an epoch when it is smaller than the batch size.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Clip the total L2 norm of all gradients to `max_norm` before each step (PyTorch's
    /// `clip_grad_norm_`), and record the largest pre-clip norm of each epoch
    /// ([`EpochRecord::max_grad_norm`](crate::EpochRecord::max_grad_norm)).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `max_norm` is finite and above 0 (0 would zero every
    /// gradient, so no step would move anything; for no clipping, do not call this).
    pub fn clip_grad_norm(mut self, max_norm: f32) -> Result<Self> {
        let ok = max_norm > 0.0 && max_norm.is_finite();
        Error::check_setting(
            ok,
            "trainer",
            "clip_grad_norm",
            "a finite max_norm > 0",
            max_norm,
        )?;
        self.clip_norm = Some(max_norm);
        Ok(self)
    }

    /// A learning-rate schedule, stepped after each epoch (or batch, for per-batch schedules).
    ///
    /// The optimizer's learning rate is set to the schedule's starting value at once, as
    /// PyTorch's schedulers do on construction (LinearLR and OneCycleLR start below the base).
    /// A schedule that cycles momentum ([`OneCycleLr`](lazarus_optim::OneCycleLr), by default)
    /// also sets the optimizer's momentum (SGD, RMSprop) or β₁ (Adam, AdamW), now and after
    /// every step, in every parameter group, as PyTorch's OneCycleLR does; SGD built without
    /// momentum gets it, as in PyTorch.
    ///
    /// # Errors
    /// [`Error::Optim`] wrapping [`NoMomentum`](lazarus_optim::Error::NoMomentum) when the
    /// schedule cycles momentum and the optimizer has neither a momentum nor β₁ (Adagrad,
    /// Adadelta), as PyTorch's OneCycleLR raises `ValueError`: turn cycling off
    /// (`OneCycleLr::cycle_momentum(false)`) or pick another optimizer.
    pub fn scheduler(mut self, scheduler: impl LrScheduler + 'static) -> Result<Self> {
        apply_schedule(
            self.optimizer.as_mut(),
            scheduler.lr(),
            scheduler.momentum(),
        )?;
        self.scheduler = Some(Box::new(scheduler));
        Ok(self)
    }

    /// Add a callback (early stopping, checkpointing, a closure). Callbacks run in the order
    /// they were added.
    pub fn callback(mut self, callback: impl Callback + 'static) -> Self {
        self.observers.callbacks.push(Box::new(callback));
        self
    }

    /// Collect dead-unit and gradient-flow diagnostics every epoch (stored in each
    /// [`EpochRecord::diagnostics`](crate::EpochRecord::diagnostics)), with warnings: a probe
    /// pass over a fixed probe set at initialization and after each epoch (the definition of
    /// dead: see [`diagnostics`](crate::diagnostics)), and per batch a pass over the
    /// activations and the parameters' gradients. Off by default; the cost is measured in
    /// `benches/README.md`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting of `config` that is out of range (see
    /// [`DiagnosticsConfig`]).
    pub fn diagnostics(mut self, config: DiagnosticsConfig) -> Result<Self> {
        self.observers.diagnostics = Some(DiagnosticsObserver::new(Diagnostics::new(config)?));
        Ok(self)
    }

    /// Progress bar, summary lines or silence.
    pub fn verbosity(mut self, verbosity: Verbosity) -> Self {
        self.observers.progress = Progress::new(verbosity);
        self
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Give the model back.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer {
        self.optimizer.as_ref()
    }

    /// Every epoch trained so far (including before a resume, if the history was kept).
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Epochs finished so far (including those before a checkpoint this trainer resumed from).
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The batches of `train`, shuffled if asked; an error if there are none.
    pub(crate) fn loader<'d>(&self, train: &'d Dataset) -> Result<DataLoader<'d>> {
        let loader = DataLoader::new(train, self.batch_size)?.drop_last(self.drop_last);
        if loader.num_batches() == 0 {
            return Err(Error::config(
                "fit",
                "train",
                format!(
                    "no batch to train on: {} samples, batch size {}, drop_last {}",
                    train.len(),
                    self.batch_size,
                    self.drop_last
                ),
            ));
        }
        Ok(if self.shuffle {
            loader.shuffle(self.seed)
        } else {
            loader
        })
    }
}

/// Give `optimizer` what a schedule wants now: its `lr`, and its `momentum` (or β₁) if it
/// cycles one ([`LrScheduler::momentum`]). PyTorch's OneCycleLR writes both into every
/// parameter group itself, at construction and at each step.
///
/// # Errors
/// [`NoMomentum`](lazarus_optim::Error::NoMomentum) when there is a momentum and the optimizer
/// has none to set; nothing is changed then.
pub(crate) fn apply_schedule(
    optimizer: &mut dyn Optimizer,
    lr: f32,
    momentum: Option<f64>,
) -> Result<()> {
    if let Some(momentum) = momentum {
        optimizer.set_momentum(momentum)?;
    }
    optimizer.set_lr(lr);
    Ok(())
}
