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
//! * `probe`: the diagnostics' probe pass alone (2,048 training samples in chunks of the batch
//!   size): `seconds_per_epoch` is then seconds per probe pass, to hold against an epoch.
//!
//! `--hidden 64,64,64 --samples 4000 --batch-size 64` is the dying-ReLU lab's shape.

#[path = "common/mod.rs"]
mod common;
#[path = "common/epoch_bench.rs"]
mod epoch_bench;

use std::process::ExitCode;

use clap::Parser;
use epoch_bench::CommonArgs;
use lazarus::train::data::SyntheticDigits;
use lazarus::train::models::mlp;
use rand::{SeedableRng, rngs::StdRng};
use serde_json::json;

/// Time MLP training epochs and print one JSON line.
#[derive(Debug, Parser)]
#[command(about, long_about = None)]
struct Args {
    /// Samples per batch.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Epochs to run; the first is a warm-up, the median is over the others.
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Hidden layer widths, comma separated.
    #[arg(long, default_value = "256,128", value_delimiter = ',')]
    hidden: Vec<usize>,
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    common::main_with_args(run)
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    lazarus::core::set_num_threads(args.common.threads);
    let data = SyntheticDigits::new(args.common.seed).generate(args.common.samples)?;
    let sizes = [&[784][..], &args.hidden, &[10]].concat();
    let model = mlp(
        &sizes,
        "relu",
        0.0,
        &mut StdRng::seed_from_u64(args.common.seed),
    )?;
    let run = args.common.run(args.batch_size, args.epochs);
    epoch_bench::time_and_print("mlp_epoch", model, &data, run, json!({}))
}
