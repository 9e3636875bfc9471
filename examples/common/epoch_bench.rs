//! What `bench_mlp` and `bench_cnn` share: the timed epochs (a hand-written loop or
//! `Trainer::fit`) and the one JSON line they print.
//!
//! Included with `#[path = "common/epoch_bench.rs"] mod epoch_bench;`.

use std::time::Instant;

use clap::ValueEnum;
use lazarus::core::loss::{CrossEntropyLoss, Loss};
use lazarus::core::{Layer, Mode, Sequential};
use lazarus::optim::{Optimizer, Sgd};
use lazarus::train::data::{DataLoader, Dataset};
use lazarus::train::diagnostics::{DiagnosticsConfig, ProbeSet};
use lazarus::train::{Trainer, Verbosity};
use serde_json::{Value, json};

/// SGD's settings in both benches (and in their PyTorch counterparts).
pub const LR: f32 = 0.05;
/// SGD's momentum in both benches.
pub const MOMENTUM: f64 = 0.9;

/// How the epochs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunMode {
    /// A hand-written loop over lazarus layers.
    Bare,
    /// `Trainer::fit`, one epoch per call.
    Trainer,
    /// `Trainer::fit` with the dying-ReLU diagnostics on (warnings silenced).
    Diagnostics,
    /// The diagnostics' probe pass alone, as they run it after each epoch.
    Probe,
}

/// The flags both benches take (each adds `--batch-size` and `--epochs` with its own defaults).
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Threads for the matrix products, convolutions and element-wise work (`set_num_threads`).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Training samples.
    #[arg(long, default_value_t = 60_000)]
    pub samples: usize,
    /// Hand-written loop or `Trainer::fit`.
    #[arg(long, value_enum, default_value_t = RunMode::Bare)]
    pub mode: RunMode,
    /// Seed of the data, the weights and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl CommonArgs {
    /// The run these flags and `batch_size`, `epochs` describe.
    pub fn run(&self, batch_size: usize, epochs: usize) -> Run {
        Run {
            mode: self.mode,
            batch_size,
            epochs,
            seed: self.seed,
        }
    }
}

/// What to time: `epochs` epochs of `batch_size` batches, shuffled with `seed`.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// How the epochs run.
    pub mode: RunMode,
    /// Samples per batch.
    pub batch_size: usize,
    /// Epochs; the first is a warm-up.
    pub epochs: usize,
    /// Seed of the shuffling.
    pub seed: u64,
}

/// Train `model` on `data` with SGD (lr [`LR`], momentum [`MOMENTUM`]) as `run` says, and return
/// the seconds of each epoch and the last epoch's mean loss.
pub fn time_epochs(
    model: Sequential,
    data: &Dataset,
    run: Run,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    if run.epochs < 2 {
        return Err("--epochs must be at least 2 (the first is a warm-up)".into());
    }
    let optimizer = Sgd::new(LR)?.momentum(MOMENTUM)?;
    match run.mode {
        RunMode::Bare => bare(model, optimizer, data, run),
        RunMode::Trainer | RunMode::Diagnostics => trainer(model, optimizer, data, run),
        RunMode::Probe => probe(model, data, run),
    }
}

/// Time `run` over `data` ([`time_epochs`]) and print the JSON line ([`report`]).
pub fn time_and_print(
    workload: &str,
    model: Sequential,
    data: &Dataset,
    run: Run,
    extra: Value,
) -> Result<(), Box<dyn std::error::Error>> {
    let (times, loss) = time_epochs(model, data, run)?;
    let mut out = crate::common::Output::default();
    out.line(report(workload, run, data.len(), &times, loss, extra));
    Ok(out.finish()?)
}

/// The JSON line: `seconds_per_epoch` is the median over the epochs after the first (the first
/// pays for allocating buffers and warming caches), `min`/`max` the spread; `extra` adds keys
/// (e.g. the model).
pub fn report(
    workload: &str,
    run: Run,
    samples: usize,
    times: &[f64],
    loss: f64,
    extra: Value,
) -> Value {
    let mut timed = times[1..].to_vec();
    timed.sort_by(f64::total_cmp);
    let median = median(&timed);
    let mut line = json!({
        "framework": "lazarus",
        "workload": workload,
        "mode": run.mode.to_possible_value().map(|v| v.get_name().to_string()),
        "batch_size": run.batch_size,
        "threads": lazarus::core::num_threads(),
        "samples": samples,
        "epochs": run.epochs,
        "seconds_per_epoch": median,
        "min": timed[0],
        "max": timed[timed.len() - 1],
        "samples_per_second": samples as f64 / median,
        "first_epoch_seconds": times[0],
        "final_loss": loss,
    });
    if let (Some(line), Value::Object(extra)) = (line.as_object_mut(), extra) {
        line.extend(extra);
    }
    line
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The training loop written out: what `Trainer::fit` does minus its bookkeeping.
fn bare(
    mut model: Sequential,
    mut optimizer: Sgd,
    data: &Dataset,
    run: Run,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let mut loss_fn = CrossEntropyLoss::new();
    let mut loader = DataLoader::new(data, run.batch_size)?.shuffle(run.seed);
    let mut times = Vec::with_capacity(run.epochs);
    let mut last_loss = 0.0;
    for epoch in 0..run.epochs {
        let start = Instant::now();
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let mut batches = loader.epoch(epoch);
        while let Some(batch) = batches.next_batch() {
            let logits = model.forward(batch.inputs.view(), Mode::Train)?;
            let loss = loss_fn.forward(logits, batch.target())?;
            model.zero_grad();
            model.backward_params(loss_fn.input_grad()?)?;
            optimizer.step(&mut model)?;
            loss_sum += f64::from(loss) * batch.len() as f64;
            seen += batch.len();
        }
        times.push(start.elapsed().as_secs_f64());
        last_loss = loss_sum / seen.max(1) as f64;
    }
    Ok((times, last_loss))
}

/// The probe pass of the diagnostics, alone: the probe set drawn as `fit` draws it (2,048
/// samples), then `run.epochs` passes over it in chunks of the batch size (the model does not
/// change, so every pass is the same work).
fn probe(
    mut model: Sequential,
    data: &Dataset,
    run: Run,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let size = DiagnosticsConfig::default().probe_samples;
    let set = ProbeSet::sample(data, size, run.seed)?;
    let mut times = Vec::with_capacity(run.epochs);
    for _ in 0..run.epochs {
        let start = Instant::now();
        set.run(&mut model, run.batch_size)?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok((times, 0.0))
}

/// The same epochs through `Trainer::fit`, one epoch per call so each is timed alone.
fn trainer(
    model: Sequential,
    optimizer: Sgd,
    data: &Dataset,
    run: Run,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), optimizer)
        .batch_size(run.batch_size)?
        .seed(run.seed)
        .verbosity(Verbosity::Silent);
    if run.mode == RunMode::Diagnostics {
        trainer = trainer.diagnostics(DiagnosticsConfig {
            warnings: false,
            ..DiagnosticsConfig::default()
        })?;
    }
    let mut times = Vec::with_capacity(run.epochs);
    for epoch in 1..=run.epochs {
        trainer = trainer.epochs(epoch);
        let start = Instant::now();
        trainer.fit(data, None)?;
        times.push(start.elapsed().as_secs_f64());
    }
    let last_loss = trainer
        .history()
        .epochs
        .last()
        .map_or(0.0, |r| r.train_loss);
    Ok((times, last_loss))
}
