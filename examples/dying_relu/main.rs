//! The dying-ReLU lab: watch ReLU units die, gradients explode, and the cures work.
//!
//! ```sh
//! cargo run --release --example dying_relu                    # the comparison (a few seconds)
//! cargo run --release --example dying_relu -- --report lab.html  # ... and one HTML page of it
//! cargo run --release --example dying_relu -- --clip-norm 1   # ... plus the clipped harsh run
//! cargo run --release --example dying_relu -- born-dead       # Lu et al. 2019, by Monte Carlo
//! cargo run --release --example dying_relu -- init-probe      # Xavier vs He, layer by layer
//! cargo run --release --example dying_relu -- --help          # every flag
//! ```
//!
//! What you will see: the same MLP, from the same seed, trained on synthetic digits with ReLU,
//! LeakyReLU, PReLU and ELU, under a gentle learning rate, a harsh one, and the harsh one with
//! BatchNorm before each activation. Under the harsh one many ReLU units die (no probe input
//! makes them fire, so no gradient can bring them back), while the variants' units are at worst
//! *inactive*: their negative side still passes gradient. A table shows accuracy, % silent units
//! per layer at initialization and at the end, how many died and revived, PReLU's learned slopes
//! and the largest gradient norm; SVG plots in `lab_out/` show the same story as curves, and
//! `--report FILE` puts every run's dead-unit heatmaps side by side on one HTML page.
//!
//! Silent means one thing everywhere: silent on every sample of a fixed probe set (2,048
//! training samples, or all of them if fewer), with the weights of that moment, measured at
//! initialization (epoch 0) and after each epoch.
//!
//! If standard output fails (`> /dev/full`, a closed pipe), the `--json` file and the plots are
//! still written, then the run exits with code 1 and one line on stderr.

#[path = "../common/mod.rs"]
mod common;
mod lab;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::Output;
use lazarus::activations::ACTIVATION_NAMES;
use lazarus::train::atomic_file::write_atomically;

/// The dying-ReLU lab: the same network with ReLU and its variants, side by side.
///
/// Without a subcommand, trains the comparison. Two subcommands measure what happens before
/// any training.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seed of the weights, the shuffling and the synthetic digits (same seed, same numbers).
    #[arg(long, default_value_t = 0, global = true)]
    seed: u64,
    /// Write the results as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Epochs per training run.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Synthetic training digits (a subset of MNIST's size keeps the lab fast).
    #[arg(long, default_value_t = 4000)]
    train_samples: usize,
    /// Synthetic test digits.
    #[arg(long, default_value_t = 1000)]
    test_samples: usize,
    /// Hidden layer widths, comma separated (every run uses the same architecture).
    #[arg(long, default_value = "64,64,64", value_delimiter = ',')]
    hidden: Vec<usize>,
    /// Samples per batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// More activations to compare, by name, comma separated (relu, leaky_relu, prelu and elu
    /// always run).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(ACTIVATION_NAMES))]
    activations: Vec<String>,
    /// Learning rate of the gentle baseline (SGD with momentum).
    #[arg(long, default_value_t = 0.05)]
    gentle_lr: f32,
    /// Learning rate of the harsh setting (Adam): 20 times Adam's usual 1e-3, so that early
    /// steps push many ReLU pre-activations below zero for every input.
    #[arg(long, default_value_t = 0.02)]
    harsh_lr: f32,
    /// Initial bias of every hidden layer in the harsh setting (a negative bias starts units
    /// below zero for most inputs).
    #[arg(long, allow_hyphen_values = true)]
    harsh_bias: Option<f32>,
    /// SGD momentum of the gentle setting.
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Also train an "explosive" setting (SGD, --explosive-lr, momentum) where gradients blow up,
    /// once unclipped and once with the total gradient norm clipped to this value: the
    /// exploding-gradient cure next to the unclipped run.
    #[arg(long)]
    clip_norm: Option<f32>,
    /// Learning rate of the explosive setting (SGD with momentum), used with --clip-norm.
    #[arg(long, default_value_t = 0.5)]
    explosive_lr: f32,
    /// Folder for the SVG plots: silent_units.svg, loss.svg, prelu_slopes.svg.
    #[arg(long, default_value = "lab_out")]
    out: PathBuf,
    /// Do not write plots.
    #[arg(long)]
    no_plots: bool,
    /// Write every run side by side on one self-contained HTML page (dead-unit heatmaps,
    /// curves, PReLU slopes, gradient norms, warnings) to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Probability that a freshly initialized ReLU network is "born dead" (Lu, Shin, Su &
    /// Karniadakis 2019), by Monte Carlo: 1 input, `depth` hidden layers of `width` units with
    /// He-normal weights and zero biases, 1 output. (a) at the fixed input x = 0.5 some hidden
    /// layer is all zero; (b) over a grid of inputs in [-1, 1] the output is constant. Also for
    /// LeakyReLU and ELU, which cannot be born dead this way.
    BornDead {
        /// Hidden widths (table columns), comma separated.
        #[arg(long, default_value = "2,3,4,5,10", value_delimiter = ',')]
        widths: Vec<usize>,
        /// Depths 1..=max-depth are measured (all in the JSON).
        #[arg(long, default_value_t = 50)]
        max_depth: usize,
        /// Networks per (activation, width); each deep network answers for every depth.
        #[arg(long, default_value_t = 2000)]
        networks: usize,
        /// Points of the input grid in [-1, 1] for test (b).
        #[arg(long, default_value_t = 21)]
        grid: usize,
        /// Depths shown in the printed tables, comma separated.
        #[arg(
            long,
            default_value = "1,2,3,5,10,15,20,30,40,50",
            value_delimiter = ','
        )]
        show_depths: Vec<usize>,
    },
    /// No training: push a batch of standard-normal inputs through a deep plain network and
    /// print each layer's output std for Xavier vs He (Kaiming) init, with ReLU, LeakyReLU, ELU,
    /// and SELU (Xavier vs LeCun). The article's "poor weight initialization" made visible.
    InitProbe {
        /// Number of Linear + activation layers.
        #[arg(long, default_value_t = 30)]
        depth: usize,
        /// Width of every layer.
        #[arg(long, default_value_t = 256)]
        width: usize,
        /// Samples in the batch.
        #[arg(long, default_value_t = 512)]
        batch: usize,
    },
}

fn main() -> ExitCode {
    common::main_with_args(run)
}

/// Run what `args` ask for: compute, write the JSON, then print the tables.
pub fn run(args: Args) -> lab::LabResult<()> {
    let mut out = Output::default();
    let (results, report) = match &args.command {
        Some(Command::BornDead {
            widths,
            max_depth,
            networks,
            grid,
            show_depths,
        }) => {
            let results = lab::born_dead(&lab::BornDeadConfig {
                widths: widths.clone(),
                max_depth: *max_depth,
                networks: *networks,
                grid: *grid,
                seed: args.seed,
                shown_depths: show_depths.clone(),
            })?;
            let report = lab::born_dead_tables(&results, show_depths);
            (results, report)
        }
        Some(Command::InitProbe {
            depth,
            width,
            batch,
        }) => {
            let results = lab::init_probe(&lab::InitProbeConfig {
                depth: *depth,
                width: *width,
                batch: *batch,
                seed: args.seed,
            })?;
            let report = lab::init_probe_table(&results);
            (results, report)
        }
        None => {
            let mut activations: Vec<String> = lab::ARTICLE_ACTIVATIONS
                .iter()
                .map(|s| s.to_string())
                .collect();
            for a in &args.activations {
                if !activations.contains(a) {
                    activations.push(a.clone());
                }
            }
            out.line(format_args!(
                "Same MLP (784-{}-10), same seed {}, {} synthetic digits, {} epochs.\n\
                 gentle: SGD lr {} momentum {}, PyTorch's default init.\n\
                 harsh:  Adam lr {}{}: a learning rate 20x Adam's usual, so that early steps throw\n\
                 \x20       many pre-activations below zero for every input. A ReLU unit there gets no\n\
                 \x20       gradient and stays dead; the variants' units are only inactive and keep learning.\n\
                 harsh+bn: the same, with BatchNorm before each activation (hidden Linear layers\n\
                 \x20       without bias: BatchNorm cancels it).\n\
                 silent = % of units silent on every one of {} probe samples (training samples, fixed\n\
                 weights; dead for ReLU, inactive for the others), per hidden layer, at initialization\n\
                 and after the last epoch; died/revived are summed over epochs and layers.\n",
                args.hidden
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                args.seed,
                args.train_samples,
                args.epochs,
                args.gentle_lr,
                args.momentum,
                args.harsh_lr,
                args.harsh_bias
                    .map_or(String::new(), |b| format!(", hidden biases start at {b}")),
                lazarus::train::diagnostics::DEFAULT_PROBE_SAMPLES.min(args.train_samples),
            ));
            let plots = (!args.no_plots).then(|| args.out.clone());
            let results = lab::run_lab(&lab::LabConfig {
                seed: args.seed,
                epochs: args.epochs,
                train_samples: args.train_samples,
                test_samples: args.test_samples,
                hidden: args.hidden.clone(),
                batch_size: args.batch_size,
                activations,
                gentle_lr: args.gentle_lr,
                harsh_lr: args.harsh_lr,
                harsh_bias: args.harsh_bias,
                explosive_lr: args.explosive_lr,
                momentum: args.momentum,
                clip_norm: args.clip_norm,
                out: plots.clone(),
                report: args.report.clone(),
            })?;
            let rows = results["rows"].as_array().map_or(&[][..], Vec::as_slice);
            let mut report = lab::comparison_table(rows);
            if let Some(dir) = plots {
                report += &format!(
                    "\nPlots: {}/{{silent_units,loss,prelu_slopes}}.svg",
                    dir.display()
                );
            }
            if let Some(path) = &args.report {
                report += &format!("\nReport: {}", path.display());
            }
            (results, report)
        }
    };
    if let Some(path) = &args.json {
        write_atomically(path, serde_json::to_string_pretty(&results)?.as_bytes())?;
    }
    out.line(report);
    // Only now, with every file written: a failed stdout ends the run with exit code 1.
    Ok(out.finish()?)
}
