//! `Trainer`: the fit loop, with metrics, progress, callbacks, clipping, schedules and resuming.

use std::time::Instant;

use lazarus_core::loss::{Loss, Target};
use lazarus_core::{Layer, Mode, Tensor, TensorView};
use lazarus_optim::{LrScheduler, NormType, Optimizer, StepInterval, clip_grad_norm};

use crate::callbacks::{BatchEnd, Callback, Control, EpochEnd};
use crate::data::{Batch, DataLoader, Dataset};
use crate::diagnostics::{Diagnostics, DiagnosticsConfig, UnitTracker};
use crate::metrics::{count_correct, softmax_rows};
use crate::non_finite::{locate, param_owner};
use crate::progress::{EpochProgress, Verbosity};
use crate::{EpochRecord, Error, History, Result, Stage};

/// Loss and accuracy of a model on a data set, in evaluation mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss over the samples.
    pub loss: f64,
    /// Fraction of samples whose arg-max output is the label (class targets only).
    pub accuracy: Option<f64>,
    /// Samples evaluated.
    pub samples: usize,
}

/// The training loop, like Keras' `model.fit`: for each epoch, for each shuffled batch,
/// forward → loss → backward → (clip) → optimizer step; then validation, schedule, callbacks.
///
/// ```
/// use lazarus_core::loss::CrossEntropyLoss;
/// use lazarus_core::{Linear, Sequential, Tensor};
/// use lazarus_optim::Sgd;
/// use lazarus_train::data::Dataset;
/// use lazarus_train::{Trainer, Verbosity};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Sequential::new().add(Linear::new(2, 2, &mut rng)?);
/// let x = Tensor::from_shape_vec(vec![4, 2], vec![1., 0., 0., 1., 1., 0.1, 0.1, 1.]).unwrap();
/// let data = Dataset::from_labels(x, vec![0, 1, 0, 1], 2)?;
/// let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Sgd::new(0.5)?)
///     .epochs(20)
///     .batch_size(2)
///     .verbosity(Verbosity::Silent);
/// let history = trainer.fit(&data, None)?;
/// assert_eq!(history.epochs.len(), 20);
/// assert_eq!(trainer.evaluate(&data)?.accuracy, Some(1.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Trainer<M: Layer> {
    pub(crate) model: M,
    pub(crate) loss: Box<dyn Loss>,
    pub(crate) optimizer: Box<dyn Optimizer>,
    pub(crate) scheduler: Option<Box<dyn LrScheduler>>,
    pub(crate) clip_norm: Option<(f32, NormType)>,
    pub(crate) callbacks: Vec<Box<dyn Callback>>,
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) seed: u64,
    pub(crate) shuffle: bool,
    pub(crate) drop_last: bool,
    pub(crate) verbosity: Verbosity,
    pub(crate) history: History,
    pub(crate) epochs_done: usize,
    pub(crate) diagnostics: Option<Diagnostics>,
}

impl<M: Layer> Trainer<M> {
    /// A trainer for `model` with a loss and an optimizer; 10 epochs of batch 32, shuffled with
    /// seed 0, progress shown (see [`Verbosity`]).
    pub fn new(model: M, loss: impl Loss + 'static, optimizer: impl Optimizer + 'static) -> Self {
        Self {
            model,
            loss: Box::new(loss),
            optimizer: Box::new(optimizer),
            scheduler: None,
            clip_norm: None,
            callbacks: Vec::new(),
            epochs: 10,
            batch_size: 32,
            seed: 0,
            shuffle: true,
            drop_last: false,
            verbosity: Verbosity::Auto,
            history: History::default(),
            epochs_done: 0,
            diagnostics: None,
        }
    }

    /// Total number of epochs `fit` trains to (counting epochs already done when resuming).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per batch.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
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

    /// Clip the total L2 norm of all gradients to `max_norm` before each step (PyTorch's
    /// `clip_grad_norm_`), and record the largest pre-clip norm of each epoch.
    pub fn clip_grad_norm(mut self, max_norm: f32) -> Self {
        self.clip_norm = Some((max_norm, NormType::L2));
        self
    }

    /// Add a callback (early stopping, checkpointing, a closure).
    pub fn callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// Collect dead-unit and gradient-flow diagnostics every epoch (stored in each
    /// [`EpochRecord::diagnostics`]), with warnings. Costs a pass over the activations and the
    /// parameters per batch, so it is off by default.
    pub fn diagnostics(mut self, config: DiagnosticsConfig) -> Self {
        self.diagnostics = Some(Diagnostics::new(config));
        self
    }

    /// Progress bar, summary lines or silence.
    pub fn verbosity(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
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

    /// Train on `train` until [`epochs`](Trainer::epochs) epochs are done, evaluating on
    /// `validation` after each one. Returns the whole history.
    ///
    /// # Errors
    /// [`Error::NonFinite`] when a loss, a gradient, the weights after a step or the validation
    /// loss become NaN or infinite (naming the epoch, the batch and the first layer, parameter
    /// or input sample where it appeared); the weights are checked after every optimizer step,
    /// so no epoch ends, and no callback saves, with non-finite weights. Any layer, loss,
    /// optimizer or callback
    /// error; [`Error::InvalidConfig`] for a zero batch size or a training set that gives no
    /// batch (empty, or smaller than the batch size with `drop_last`); [`Error::Output`] when
    /// printing fails (stdout for the epoch lines, stderr for diagnostics warnings).
    pub fn fit(&mut self, train: &Dataset, validation: Option<&Dataset>) -> Result<History> {
        let mut loader = DataLoader::new(train, self.batch_size)?.drop_last(self.drop_last);
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
        if self.shuffle {
            loader = loader.shuffle(self.seed);
        }
        if let Some(d) = &mut self.diagnostics {
            d.set_clip_norm(self.clip_norm.map(|(max_norm, _)| max_norm));
        }
        let mut stop = false;
        // Saturating: a checkpoint may claim any epoch count; past `epochs` nothing is left to do.
        for epoch in self.epochs_done().saturating_add(1)..=self.epochs {
            let record = self.train_epoch(&mut loader, epoch, validation, &mut stop)?;
            self.history.push(record);
            self.epochs_done = epoch;
            let record = self.history.epochs.last().expect("just pushed");
            for callback in &mut self.callbacks {
                let mut end = EpochEnd {
                    record,
                    model: &mut self.model,
                    optimizer: self.optimizer.as_ref(),
                    scheduler: self.scheduler.as_deref(),
                };
                stop |= callback.on_epoch_end(&mut end)? == Control::Stop;
            }
            if stop {
                break;
            }
        }
        for callback in &mut self.callbacks {
            callback.on_train_end(&mut self.model)?;
        }
        Ok(self.history.clone())
    }

    /// One epoch: the batch loop, then validation and the epoch-level schedule step.
    fn train_epoch(
        &mut self,
        loader: &mut DataLoader<'_>,
        epoch: usize,
        validation: Option<&Dataset>,
        stop: &mut bool,
    ) -> Result<EpochRecord> {
        let lr = f64::from(self.optimizer.lr());
        let progress =
            EpochProgress::start(self.verbosity, epoch, self.epochs, loader.num_batches());
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut max_grad_norm: Option<f64> = None;
        let mut classes = false;
        let start = Instant::now();
        let mut batches = loader.epoch(epoch - 1);
        while let Some(batch) = batches.next_batch() {
            let index = batch.index;
            let stage = Stage::Training {
                epoch,
                batch: index,
            };
            let target = batch.target();
            let outputs = self.model.forward(batch.inputs.view(), Mode::Train)?;
            if let Target::Classes(labels) = &target {
                classes = true;
                correct += count_correct(outputs.view(), labels);
            }
            if let Some(d) = &mut self.diagnostics {
                d.observe_outputs(outputs.view());
            }
            let loss = self.loss.forward(outputs, target)?;
            if !loss.is_finite() {
                return Err(self.non_finite(stage, &batch, "loss"));
            }
            if let Some(d) = &mut self.diagnostics {
                d.after_forward(&self.model);
            }
            self.model.zero_grad();
            self.model.backward_params(self.loss.input_grad()?)?;
            if let Some(d) = &mut self.diagnostics {
                d.before_step(&self.model);
            }
            if let Some((max_norm, norm_type)) = self.clip_norm {
                let norm = clip_grad_norm(&mut self.model, max_norm, norm_type, false)?;
                if !norm.is_finite() {
                    return Err(self.non_finite(stage, &batch, "gradient"));
                }
                max_grad_norm =
                    Some(max_grad_norm.map_or(f64::from(norm), |m| m.max(f64::from(norm))));
            }
            // A step can turn finite gradients into infinite weights (a huge lr). The optimizer
            // says so at that step (it sees every value it writes), not the next batch's loss,
            // which the last batch of a run does not have and a ReLU can hide (NaN > 0 is
            // false, so a NaN pre-activation comes out as 0).
            match self.optimizer.step(&mut self.model) {
                Err(lazarus_optim::Error::NonFiniteUpdate { path, .. }) => {
                    return Err(Error::NonFinite {
                        stage,
                        layer: param_owner(&self.model, &path),
                        sample: None,
                        what: "weights after the optimizer step".into(),
                    });
                }
                other => other?,
            }
            if let Some(d) = &mut self.diagnostics {
                d.after_step(&self.model);
            }
            if let Some(s) = self
                .scheduler
                .as_mut()
                .filter(|s| s.interval() == StepInterval::Batch)
            {
                let lr = s.step(None);
                apply_schedule(self.optimizer.as_mut(), lr, s.momentum())?;
            }

            let size = batch.len();
            seen += size;
            loss_sum += f64::from(loss) * size as f64;
            let rate = seen as f64 / start.elapsed().as_secs_f64().max(1e-9);
            progress.batch_done(
                index,
                loss_sum / seen as f64,
                classes.then(|| correct as f64 / seen as f64),
                rate,
            );
            let end = BatchEnd {
                epoch,
                batch: index,
                loss,
                size,
            };
            for callback in &mut self.callbacks {
                *stop |= callback.on_batch_end(&end)? == Control::Stop;
            }
            if *stop {
                break;
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let mut validation_units = UnitTracker::default();
        let evaluation = match validation {
            Some(v) => {
                let tracker = self.diagnostics.is_some().then_some(&mut validation_units);
                Some(self.evaluate_tracking(v, tracker, Stage::Validation { epoch })?)
            }
            None => None,
        };
        let diagnostics = self
            .diagnostics
            .as_mut()
            .map(|d| {
                let list = d.config().list_dead_units;
                d.end_epoch(validation_units.units(list))
            })
            .transpose()?;
        if let Some(s) = self
            .scheduler
            .as_mut()
            .filter(|s| s.interval() == StepInterval::Epoch)
        {
            // ReduceLROnPlateau watches the validation loss, or the training loss without one.
            let metric = evaluation.map_or(loss_sum / seen.max(1) as f64, |e| e.loss);
            let lr = s.step(Some(metric));
            apply_schedule(self.optimizer.as_mut(), lr, s.momentum())?;
        }
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: classes.then(|| correct as f64 / seen.max(1) as f64),
            val_loss: evaluation.map(|e| e.loss),
            val_accuracy: evaluation.and_then(|e| e.accuracy),
            lr,
            seconds,
            samples_per_second: seen as f64 / seconds.max(1e-9),
            max_grad_norm,
            diagnostics,
        };
        progress.finish(&record, self.epochs)?;
        let print_table = self.diagnostics.as_ref().map(|d| d.config().print_table);
        if let (Some(true), Some(d)) = (print_table, &record.diagnostics) {
            crate::console::print_line(d.table())?;
        }
        Ok(record)
    }

    /// The non-finite error for `batch` at `stage`: the first input sample, layer output or
    /// target to blame (see [`locate`]).
    fn non_finite(&mut self, stage: Stage, batch: &Batch<'_>, what: &str) -> Error {
        let target = batch.target();
        let culprit = locate(
            &mut self.model,
            batch.inputs.view(),
            &target,
            batch.indices(),
            what,
        );
        Error::NonFinite {
            stage,
            layer: culprit.layer,
            sample: culprit.sample,
            what: what.to_string(),
        }
    }

    /// Mean loss and accuracy on `data`, in evaluation mode, in batches of the batch size.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty data set (its mean loss is undefined);
    /// [`Error::NonFinite`] (stage [`Stage::Evaluation`]) when a batch's loss is NaN or
    /// infinite, naming the input sample, layer or target to blame; any layer or loss error.
    pub fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation> {
        self.evaluate_tracking(data, None, Stage::Evaluation)
    }

    /// [`evaluate`](Trainer::evaluate), optionally recording silent units of every batch.
    fn evaluate_tracking(
        &mut self,
        data: &Dataset,
        mut tracker: Option<&mut UnitTracker>,
        stage: Stage,
    ) -> Result<Evaluation> {
        if data.is_empty() {
            return Err(Error::config(
                "evaluate",
                "data",
                "the data set is empty, so its mean loss is undefined",
            ));
        }
        let mut loader = DataLoader::new(data, self.batch_size)?;
        let (mut loss_sum, mut correct, mut seen, mut classes) = (0.0f64, 0usize, 0usize, false);
        let mut batches = loader.epoch(0);
        while let Some(batch) = batches.next_batch() {
            let target = batch.target();
            // With diagnostics, a leaf-by-leaf pass that also counts silent units (activation
            // layers only keep statistics of training-mode passes).
            let tracked;
            let outputs = match tracker.as_deref_mut() {
                Some(t) => {
                    tracked = t.forward_eval(&mut self.model, batch.inputs.view())?;
                    tracked.view()
                }
                None => self.model.forward(batch.inputs.view(), Mode::Eval)?,
            };
            if let Target::Classes(labels) = &target {
                classes = true;
                correct += count_correct(outputs.view(), labels);
            }
            let loss = self.loss.forward(outputs, target)?;
            if !loss.is_finite() {
                let what = match stage {
                    Stage::Validation { .. } => "validation loss",
                    _ => "loss",
                };
                return Err(self.non_finite(stage, &batch, what));
            }
            loss_sum += f64::from(loss) * batch.len() as f64;
            seen += batch.len();
        }
        Ok(Evaluation {
            loss: loss_sum / seen.max(1) as f64,
            accuracy: classes.then(|| correct as f64 / seen.max(1) as f64),
            samples: seen,
        })
    }

    /// Class probabilities (softmax of the outputs) for each row of `inputs`, in evaluation
    /// mode, computed in batches of the batch size.
    ///
    /// # Errors
    /// Any layer error, e.g. a shape mismatch.
    pub fn predict_proba(&mut self, inputs: TensorView<'_>) -> Result<Tensor> {
        let mut rows = Vec::new();
        let mut shape = None;
        let n = inputs.shape().first().copied().unwrap_or(0);
        for start in (0..n).step_by(self.batch_size.max(1)) {
            let end = (start + self.batch_size.max(1)).min(n);
            let chunk = inputs.slice_axis(ndarray::Axis(0), (start..end).into());
            let outputs = self.model.forward(chunk, Mode::Eval)?;
            shape.get_or_insert_with(|| outputs.shape()[1..].to_vec());
            rows.extend(softmax_rows(outputs.view())?.iter().copied());
        }
        let mut full = vec![n];
        full.extend(shape.unwrap_or_default());
        Tensor::from_shape_vec(full, rows)
            .map_err(|e| Error::config("predict", "inputs", e.to_string()))
    }

    /// The arg-max class of each row of `inputs`.
    ///
    /// # Errors
    /// As [`predict_proba`](Trainer::predict_proba).
    pub fn predict(&mut self, inputs: TensorView<'_>) -> Result<Vec<usize>> {
        let probabilities = self.predict_proba(inputs)?;
        Ok(crate::metrics::argmax_rows(probabilities.view()))
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
