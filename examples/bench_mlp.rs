//! The MLP-epoch benchmark of `benches/README.md`: time whole training epochs of a
//! 784-256-128-10 ReLU MLP (softmax cross-entropy, SGD lr 0.05 momentum 0.9) on 60,000
//! pre-loaded synthetic MNIST-shaped digits, shuffled, and print one JSON line.
//!
//! ```sh
//! cargo run --release --example bench_mlp -- --batch-size 128 --threads 1 --epochs 6
//! cargo run --release --example bench_mlp -- --batch-size 32 --threads 2 --mode trainer
//! ```
//!
//! What you will see: one line such as
//! `{"framework":"lazarus","mode":"bare","batch_size":128,"threads":1,...,"seconds_per_epoch":0.41,...}`.
//! `seconds_per_epoch` is the median over the epochs after the first (the first pays for
//! allocating buffers and warming caches); `min`/`max` show the spread. The same JSON comes
//! from `benches/compare/mlp_epoch.py` for PyTorch.
//!
//! Three modes run the same work:
//! * `bare`: the loop written out by hand over lazarus layers:
//!   loader → forward → loss → zero_grad → backward_params → optimizer step.
//! * `trainer`: the same epochs through `Trainer::fit` (silent, no diagnostics), which also
//!   tracks loss and accuracy per batch. The gap between the two is the framework's overhead.
//! * `diagnostics`: `trainer` with the diagnostics on (dead units, gradient norms, update
//!   ratios every batch, the probe pass after each epoch): the price of watching.
//! * `probe`: the diagnostics' probe pass alone, as they run it after each epoch (2,048
//!   training samples in chunks of the batch size, `Mode::Probe`), timed `--epochs` times:
//!   `seconds_per_epoch` is then seconds per probe pass, to hold against an epoch.
//!
//! `--hidden 64,64,64 --samples 4000 --batch-size 64` is the dying-ReLU lab's shape.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use common::Output;
use lazarus::core::loss::{CrossEntropyLoss, Loss};
use lazarus::core::{Layer, Mode, Sequential};
use lazarus::optim::{Optimizer, Sgd};
use lazarus::train::data::{DataLoader, Dataset, SyntheticDigits};
use lazarus::train::diagnostics::{DiagnosticsConfig, ProbeSet};
use lazarus::train::models::mlp;
use lazarus::train::{Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunMode {
    /// A hand-written loop over lazarus layers.
    Bare,
    /// `Trainer::fit`, one epoch per call.
    Trainer,
    /// `Trainer::fit` with the dying-ReLU diagnostics on (warnings silenced).
    Diagnostics,
    /// The diagnostics' probe pass alone.
    Probe,
}

/// Time MLP training epochs and print one JSON line.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// Samples per batch.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Threads for the matrix products and parallel element-wise work (`set_num_threads`).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Epochs to run; the first is a warm-up, the median is over the others.
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Training samples.
    #[arg(long, default_value_t = 60_000)]
    samples: usize,
    /// Hand-written loop or `Trainer::fit`.
    #[arg(long, value_enum, default_value_t = RunMode::Bare)]
    mode: RunMode,
    /// Seed of the data, the weights and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Hidden layer widths, comma separated.
    #[arg(long, default_value = "256,128", value_delimiter = ',')]
    hidden: Vec<usize>,
}
const LR: f32 = 0.05;
const MOMENTUM: f64 = 0.9;

fn main() -> ExitCode {
    common::main_with_args(run)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.epochs < 2 {
        return Err("--epochs must be at least 2 (the first is a warm-up)".into());
    }
    lazarus::core::set_num_threads(args.threads);
    let data = SyntheticDigits::new(args.seed).generate(args.samples)?;
    let sizes = [&[784][..], &args.hidden, &[10]].concat();
    let model = mlp(&sizes, "relu", 0.0, &mut StdRng::seed_from_u64(args.seed))?;
    let optimizer = Sgd::new(LR)?.momentum(MOMENTUM)?;
    let (times, loss) = match args.mode {
        RunMode::Bare => bare(model, optimizer, &data, &args)?,
        RunMode::Trainer | RunMode::Diagnostics => trainer(model, optimizer, &data, &args)?,
        RunMode::Probe => probe(model, &data, &args)?,
    };
    let mut timed = times[1..].to_vec();
    timed.sort_by(f64::total_cmp);
    let median = median(&timed);
    let line = json!({
        "framework": "lazarus",
        "workload": "mlp_epoch",
        "mode": args.mode.to_possible_value().map(|v| v.get_name().to_string()),
        "batch_size": args.batch_size,
        "threads": lazarus::core::num_threads(),
        "samples": args.samples,
        "epochs": args.epochs,
        "seconds_per_epoch": median,
        "min": timed[0],
        "max": timed[timed.len() - 1],
        "samples_per_second": args.samples as f64 / median,
        "first_epoch_seconds": times[0],
        "final_loss": loss,
    });
    let mut out = Output::default();
    out.line(line);
    Ok(out.finish()?)
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
    args: &Args,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let mut loss_fn = CrossEntropyLoss::new();
    let mut loader = DataLoader::new(data, args.batch_size)?.shuffle(args.seed);
    let mut times = Vec::with_capacity(args.epochs);
    let mut last_loss = 0.0;
    for epoch in 0..args.epochs {
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

/// The probe pass of the diagnostics, alone: the probe set drawn as `fit` draws it, then
/// `--epochs` passes over it (the model does not change, so every pass is the same work).
fn probe(
    mut model: Sequential,
    data: &Dataset,
    args: &Args,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let size = DiagnosticsConfig::default().probe_samples;
    let set = ProbeSet::sample(data, size, args.seed)?;
    let mut times = Vec::with_capacity(args.epochs);
    for _ in 0..args.epochs {
        let start = Instant::now();
        set.run(&mut model, args.batch_size)?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok((times, 0.0))
}

/// The same epochs through `Trainer::fit`, one epoch per call so each is timed alone.
fn trainer(
    model: Sequential,
    optimizer: Sgd,
    data: &Dataset,
    args: &Args,
) -> Result<(Vec<f64>, f64), Box<dyn std::error::Error>> {
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), optimizer)
        .batch_size(args.batch_size)?
        .seed(args.seed)
        .verbosity(Verbosity::Silent);
    if args.mode == RunMode::Diagnostics {
        trainer = trainer.diagnostics(DiagnosticsConfig {
            warnings: false,
            ..DiagnosticsConfig::default()
        })?;
    }
    let mut times = Vec::with_capacity(args.epochs);
    for epoch in 1..=args.epochs {
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
