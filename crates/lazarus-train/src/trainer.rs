//! `Trainer::fit`: the training loop, one textbook step per batch.
//!
//! ```text
//! for each epoch:
//!     for each shuffled batch (x, y):
//!         ŷ  = model(x)                      forward, in training mode
//!         ℓ  = loss(ŷ, y)                    loss
//!         ∇θ = 0                             zero_grad
//!         ∇θ += ∂ℓ/∂θ                        backward: from ∂ℓ/∂ŷ back through every layer
//!         ∇θ ← ∇θ · min(1, c / ‖∇θ‖₂)        clip (if asked): total norm at most c
//!         θ  ← θ − lr · update(∇θ)           step: the optimizer's rule
//!         lr ← schedule(lr)                  schedule (per-batch schedules)
//!     validate; lr ← schedule(lr)            (per-epoch schedules)
//! ```
//!
//! Nothing else runs inside the step: the progress bar, the dying-ReLU diagnostics and your
//! callbacks watch from the outside, as the observers of `observer.rs` (one place, with a table
//! of what each does at which point). The settings (the schedule and the batches too) are in `settings.rs`,
//! evaluation in `evaluate.rs`, prediction in `predict.rs`, saving and resuming in `resume.rs`,
//! the HTML report of a run in `run_report.rs`.

use lazarus_core::Layer;
use lazarus_core::Mode;
use lazarus_core::loss::Loss;
use lazarus_optim::{LrScheduler, Optimizer, StepInterval, clip_grad_norm_with_total};

use crate::callbacks::{BatchEnd, Control, EpochEnd};
use crate::data::{Batch, DataLoader, Dataset};
use crate::evaluate::evaluate;
use crate::grad_norms::GradNorms;
use crate::metrics::EpochMeter;
use crate::non_finite::{non_finite_error, param_owner};
use crate::observer::{FitStart, Observers, TrainingObserver};
use crate::progress::Verbosity;
use crate::run_report::RunReport;
use crate::settings::apply_schedule;
use crate::{EpochRecord, Error, History, Result, Stage};

/// The training loop, like Keras' `model.fit`: for each epoch, for each shuffled batch,
/// forward → loss → zero_grad → backward → (clip) → optimizer step → (schedule); then
/// validation. Progress, [diagnostics](crate::diagnostics) and [callbacks](crate::callbacks)
/// watch each step without taking part in it.
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
///     .batch_size(2)?
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
    /// The clipping threshold `c` on the total L2 norm of the gradients, if any.
    pub(crate) clip_norm: Option<f32>,
    /// The progress display, the diagnostics and the callbacks.
    pub(crate) observers: Observers,
    /// This step's gradient norms (a buffer reused from step to step).
    pub(crate) grad_norms: GradNorms,
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) seed: u64,
    pub(crate) shuffle: bool,
    pub(crate) drop_last: bool,
    pub(crate) history: History,
    pub(crate) epochs_done: usize,
    /// Where and how to write the run's report, if asked (`run_report.rs`).
    pub(crate) report: Option<RunReport>,
    /// What the diagnostics measured of an epoch stopped by an error, for the report.
    pub(crate) unfinished: Option<(usize, crate::diagnostics::EpochDiagnostics)>,
    /// The shape of one training sample, for the report's model summary.
    pub(crate) input_shape: Vec<usize>,
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
            observers: Observers::new(Verbosity::Auto),
            grad_norms: GradNorms::default(),
            epochs: 10,
            batch_size: 32,
            seed: 0,
            shuffle: true,
            drop_last: false,
            history: History::default(),
            epochs_done: 0,
            report: None,
            unfinished: None,
            input_shape: Vec::new(),
        }
    }

    /// Train on `train` until [`epochs`](Trainer::epochs) epochs are done, evaluating on
    /// `validation` after each one. Returns the whole history.
    ///
    /// # Errors
    /// [`Error::NonFinite`] when a loss, a gradient, the weights after a step or the validation
    /// loss become NaN or infinite (naming the epoch, the batch and the first layer, parameter
    /// or input sample where it appeared); the weights are checked after every optimizer step,
    /// so no epoch ends, and no callback saves, with non-finite weights. Any layer, loss,
    /// optimizer or callback error; [`Error::InvalidConfig`] for a training set that gives no
    /// batch (empty, or smaller than the batch size with `drop_last`); [`Error::Output`] when
    /// printing fails (stdout for the epoch lines, stderr for diagnostics warnings). With a
    /// [report](Trainer::report), the errors of writing it; a run stopped by a non-finite value
    /// still writes its report (up to the failure) and returns the [`Error::NonFinite`].
    pub fn fit(&mut self, train: &Dataset, validation: Option<&Dataset>) -> Result<History> {
        let result = self.train_epochs(train, validation);
        // The report, if asked (`run_report.rs`): also for a run stopped by a non-finite value.
        self.after_fit(result)
    }

    /// The epochs of [`fit`](Trainer::fit).
    fn train_epochs(&mut self, train: &Dataset, validation: Option<&Dataset>) -> Result<History> {
        let mut loader = self.loader(train)?;
        self.input_shape = train.input_shape().to_vec();
        self.observers.fit_start(&mut FitStart {
            model: &mut self.model,
            train,
            batch_size: self.batch_size,
            seed: self.seed,
            clip_norm: self.clip_norm,
            first_epoch: self.epochs_done.saturating_add(1),
        })?;
        // Saturating: a checkpoint may claim any epoch count; past `epochs` nothing is left to do.
        for epoch in self.epochs_done.saturating_add(1)..=self.epochs {
            let (record, batch_control) = self.train_epoch(&mut loader, epoch, validation)?;
            self.history.push(record);
            self.epochs_done = epoch;
            let mut end = EpochEnd {
                record: self.history.epochs.last().expect("just pushed"),
                model: &mut self.model,
                optimizer: self.optimizer.as_ref(),
                scheduler: self.scheduler.as_deref(),
            };
            let epoch_control = self.observers.epoch_end(&mut end)?;
            if batch_control == Control::Stop || epoch_control == Control::Stop {
                break;
            }
        }
        self.observers.fit_end(&mut self.model)?;
        Ok(self.history.clone())
    }

    /// One epoch: the step on every batch, then validation and the per-epoch schedule step.
    /// Also says whether an observer asked to stop after a batch.
    fn train_epoch(
        &mut self,
        loader: &mut DataLoader<'_>,
        epoch: usize,
        validation: Option<&Dataset>,
    ) -> Result<(EpochRecord, Control)> {
        let lr = self.optimizer.lr();
        self.observers
            .epoch_start(epoch, self.epochs, loader.num_batches());
        let mut meter = EpochMeter::start();
        let mut control = Control::Continue;
        let mut batches = loader.epoch(epoch - 1);
        while let Some(batch) = batches.next_batch() {
            let stage = Stage::Training {
                epoch,
                batch: batch.index,
            };
            let target = batch.target();
            // forward: ŷ = model(x), each layer keeping what its backward needs
            let outputs = self.model.forward(batch.inputs.view(), Mode::Train)?;
            meter.count_correct(outputs.view(), &target);
            // loss: ℓ = loss(ŷ, y)
            let loss = self.loss.forward(outputs, target)?;
            if !loss.is_finite() {
                return Err(non_finite_error(&mut self.model, stage, &batch, "loss"));
            }
            self.observers.after_forward(&self.model);
            // zero_grad, backward: ∇θ = ∂ℓ/∂θ, from ∂ℓ/∂ŷ back through every layer
            self.model.zero_grad();
            self.model.backward_params(self.loss.input_grad()?)?;
            // ‖∇‖₂, measured once (if clipping or an observer needs it) and shared by both
            let needed = self.clip_norm.is_some() || self.observers.wants_grad_norms();
            let grad_norm = self.grad_norms.measure(&self.model, needed);
            self.observers.after_backward(&self.model, &self.grad_norms);
            // clip: ∇θ ← ∇θ · min(1, c / ‖∇‖₂)
            let clipped = self.clip(grad_norm, stage, &batch)?;
            // step: θ ← the optimizer's update from ∇θ
            self.step(stage)?;
            self.observers.after_step(&self.model);
            // schedule: the next learning rate (and momentum), for per-batch schedules
            self.step_schedule(StepInterval::Batch, None)?;

            meter.add(loss, batch.len(), clipped);
            let end = BatchEnd {
                epoch,
                batch: batch.index,
                loss,
                size: batch.len(),
            };
            control = self.observers.batch_end(&end, &meter)?;
            if control == Control::Stop {
                break;
            }
        }
        let seconds = meter.seconds();
        let evaluation = match validation {
            Some(data) => Some(evaluate(
                &mut self.model,
                self.loss.as_mut(),
                self.batch_size,
                data,
                self.observers.validation_units(),
                Stage::Validation { epoch },
            )?),
            None => None,
        };
        let mut record = meter.record(epoch, lr, seconds, evaluation);
        self.observers.epoch_record(&mut self.model, &mut record)?;
        // ReduceLROnPlateau watches the validation loss, or the training loss without one.
        let metric = evaluation.map_or(record.train_loss, |e| e.loss);
        self.step_schedule(StepInterval::Epoch, Some(metric))?;
        Ok((record, control))
    }

    /// Clip: with a threshold `c`, scale every gradient by `min(1, c / ‖∇‖₂)`, where `‖∇‖₂`
    /// (`grad_norm`) is the total norm measured once for this step. Returns that pre-clip norm
    /// for the epoch's record, `None` without clipping.
    fn clip(
        &mut self,
        grad_norm: Option<f32>,
        stage: Stage,
        batch: &Batch<'_>,
    ) -> Result<Option<f32>> {
        let (Some(max_norm), Some(total)) = (self.clip_norm, grad_norm) else {
            return Ok(None);
        };
        if !total.is_finite() {
            return Err(non_finite_error(&mut self.model, stage, batch, "gradient"));
        }
        clip_grad_norm_with_total(&mut self.model, max_norm, total)?;
        Ok(Some(total))
    }

    /// Step: the optimizer updates every parameter from its gradient.
    ///
    /// A step can turn finite gradients into infinite weights (a huge lr). The optimizer says
    /// so at that step (it sees every value it writes), not the next batch's loss, which the
    /// last batch of a run does not have and a ReLU can hide (NaN > 0 is false, so a NaN
    /// pre-activation comes out as 0).
    fn step(&mut self, stage: Stage) -> Result<()> {
        match self.optimizer.step(&mut self.model) {
            Err(lazarus_optim::Error::NonFiniteUpdate { path, .. }) => Err(Error::NonFinite {
                stage,
                layer: param_owner(&self.model, &path),
                sample: None,
                what: "weights after the optimizer step".into(),
            }),
            other => Ok(other?),
        }
    }

    /// Schedule: if the schedule steps at this `interval` (per batch or per epoch), step it and
    /// give the optimizer its new learning rate (and momentum, for a schedule that cycles it).
    /// `metric` is what ReduceLROnPlateau watches.
    fn step_schedule(&mut self, interval: StepInterval, metric: Option<f64>) -> Result<()> {
        if let Some(s) = self.scheduler.as_mut().filter(|s| s.interval() == interval) {
            let lr = s.step(metric);
            apply_schedule(self.optimizer.as_mut(), lr, s.momentum())?;
        }
        Ok(())
    }
}
