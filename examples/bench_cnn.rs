//! The CNN-epoch benchmark of `benches/README.md`: time whole training epochs of the mnist
//! example's CNN (`--model cnn`: two 3×3 convolutions with ReLU and 2×2 max pooling, then
//! Linear(1568, 10); `--model cnn-bn` adds a BatchNorm2d after each convolution), softmax
//! cross-entropy, SGD lr 0.05 momentum 0.9, batch 64, on 60,000 pre-loaded synthetic digits of
//! shape [1, 28, 28], shuffled, and print one JSON line.
//!
//! ```sh
//! cargo run --release --example bench_cnn -- --threads 1 --epochs 3
//! cargo run --release --example bench_cnn -- --threads 2 --model cnn-bn --mode trainer
//! ```
//!
//! What you will see: one line such as
//! `{"framework":"lazarus","workload":"cnn_epoch","model":"cnn","threads":1,...,"seconds_per_epoch":9.1,...}`,
//! the same keys as `bench_mlp` (and as `benches/compare/cnn_epoch.py` for PyTorch).
//! `seconds_per_epoch` is the median over the epochs after the first. Modes as in `bench_mlp`:
//! `bare` (the loop written out: loader → forward → loss → zero_grad → backward_params → step),
//! `trainer` (`Trainer::fit`), `diagnostics` (`Trainer::fit` watching for dead units).

#[path = "common/mod.rs"]
mod common;
#[path = "common/epoch_bench.rs"]
mod epoch_bench;

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use epoch_bench::CommonArgs;
use lazarus::train::data::{ImageLayout, SyntheticDigits};
use lazarus::train::models::cnn;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelKind {
    /// Conv → ReLU → MaxPool, twice, then Flatten → Linear(1568, 10).
    Cnn,
    /// `cnn` with a BatchNorm2d after each convolution.
    CnnBn,
}

/// Time CNN training epochs and print one JSON line.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// The network.
    #[arg(long, value_enum, default_value_t = ModelKind::Cnn)]
    model: ModelKind,
    /// Samples per batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Epochs to run; the first is a warm-up, the median is over the others.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    common::main_with_args(run)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    lazarus::core::set_num_threads(args.common.threads);
    let data = SyntheticDigits::new(args.common.seed)
        .layout(ImageLayout::Nchw)
        .generate(args.common.samples)?;
    let batch_norm = args.model == ModelKind::CnnBn;
    let model = cnn(
        "relu",
        batch_norm,
        &mut StdRng::seed_from_u64(args.common.seed),
    )?;
    let model_name = if batch_norm { "cnn-bn" } else { "cnn" };
    let run = args.common.run(args.batch_size, args.epochs);
    epoch_bench::time_and_print(
        "cnn_epoch",
        model,
        &data,
        run,
        json!({ "model": model_name }),
    )
}
