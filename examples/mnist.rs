//! Train a digit classifier, the way a lazarus user first meets the framework.
//!
//! ```sh
//! cargo run --release --example mnist                      # synthetic digits, nothing to download
//! cargo run --release --example mnist -- --data ~/mnist    # real MNIST / Fashion-MNIST IDX files
//! cargo run --release --example mnist -- --model cnn       # the two-convolution CNN (cnn-bn: with BatchNorm)
//! cargo run --release --example mnist -- --model cnn-bn --optimizer sgd   # SGD's lr: 0.01 for cnn-bn, 0.05 otherwise
//! cargo run --release --example mnist -- --help            # every flag
//! ```
//!
//! What you will see: the model summary, a progress bar per epoch (one line per epoch when
//! stdout is not a terminal), the dead-unit summary per activation layer, a 10×10 confusion
//! matrix, and one summary line: test accuracy, test loss, epochs, wall time, samples/s.
//! `--report run.html` also writes the run as one HTML page (dead-unit heatmaps and more).
//!
//! If standard output fails (`> /dev/full`, a closed pipe), the run still trains and writes the
//! files it was asked for, then exits with code 1 and one line on stderr.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use lazarus::activations::ACTIVATION_NAMES;
use lazarus::core::Sequential;
use lazarus::core::loss::CrossEntropyLoss;
use lazarus::optim::{Adam, AdamW, CosineAnnealingLr, OneCycleLr, Optimizer, RmsProp, Sgd, StepLr};
use lazarus::train::atomic_file::write_atomically;
use lazarus::train::data::{Dataset, ImageLayout, Mnist, MnistOptions, SyntheticDigits};
use lazarus::train::diagnostics::DiagnosticsConfig;
use lazarus::train::metrics::ConfusionMatrix;
use lazarus::train::models::{cnn, mlp};
use lazarus::train::report::Setting;
use lazarus::train::{Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};
use serde_json::json;

use common::Output;
pub use common::exit_code;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
    Rmsprop,
}

/// The report's optimizer row: `SGD, lr 0.05, momentum 0.9, weight decay 0.0001`.
fn optimizer_setting(args: &Args, lr: f32) -> String {
    let mut text = format!("{}, lr {lr}", args.optimizer.pytorch_name());
    if matches!(args.optimizer, OptimizerKind::Sgd | OptimizerKind::Rmsprop) {
        text += &format!(", momentum {}", args.momentum);
    }
    if args.weight_decay != 0.0 {
        text += &format!(", weight decay {}", args.weight_decay);
    }
    text
}

impl OptimizerKind {
    /// The optimizer's class name in PyTorch, as the report shows it.
    fn pytorch_name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "SGD",
            OptimizerKind::Adam => "Adam",
            OptimizerKind::Adamw => "AdamW",
            OptimizerKind::Rmsprop => "RMSprop",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelKind {
    /// Linear layers on the flattened 784 pixels (`--hidden`, `--dropout`).
    Mlp,
    /// Conv2d(1,16,3,p=1) → act → MaxPool2d(2) → Conv2d(16,32,3,p=1) → act → MaxPool2d(2) →
    /// Flatten → Linear(1568,10), on [1, 28, 28] images.
    Cnn,
    /// `cnn` with a BatchNorm2d after each convolution.
    CnnBn,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Schedule {
    None,
    Step,
    Cosine,
    Onecycle,
}

/// Train a digit classifier (an MLP or a small CNN) on synthetic digits (default) or real MNIST
/// IDX files.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// Folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
    /// t10k-labels-idx1-ubyte (raw or .gz). Without it, synthetic digits are generated.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Number of epochs.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Samples per batch.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Learning rate (default: 1e-3 for adam/adamw/rmsprop; for sgd 0.05, but 0.01 with
    /// --model cnn-bn, where 0.05 kills most channels of the second ReLU in the first steps).
    #[arg(long)]
    lr: Option<f32>,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    optimizer: OptimizerKind,
    /// Momentum (sgd, rmsprop).
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Weight decay (applied to weights only, not biases or PReLU slopes).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// The network.
    #[arg(long, value_enum, default_value_t = ModelKind::Mlp)]
    model: ModelKind,
    /// Activation after each hidden Linear layer (mlp) or convolution (cnn, cnn-bn), by name.
    #[arg(long, default_value = "relu", value_parser = clap::builder::PossibleValuesParser::new(ACTIVATION_NAMES))]
    activation: String,
    /// Hidden layer sizes, comma separated (mlp only) [default: 256,128].
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Dropout probability after each hidden activation, 0 = none (mlp only) [default: 0].
    #[arg(long)]
    dropout: Option<f32>,
    /// Clip the total gradient norm to this value before each step.
    #[arg(long)]
    clip_norm: Option<f32>,
    /// Learning-rate schedule.
    #[arg(long, value_enum, default_value_t = Schedule::None)]
    schedule: Schedule,
    /// Seed of weights, shuffling and synthetic data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Synthetic training samples (ignored with --data).
    #[arg(long, default_value_t = 60_000)]
    train_samples: usize,
    /// Synthetic test samples (ignored with --data).
    #[arg(long, default_value_t = 10_000)]
    test_samples: usize,
    /// Print only the final summary line.
    #[arg(long)]
    quiet: bool,
    /// Write the whole history (per-epoch metrics, diagnostics, final results) as JSON.
    #[arg(long)]
    metrics_out: Option<PathBuf>,
    /// Save a checkpoint (model, optimizer, epoch) to this safetensors file after training.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Resume from a checkpoint written by --save (same model flags).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Write loss/accuracy and dead-unit SVG plots into this folder.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Write the run's report, one self-contained HTML page (dead-unit heatmaps, curves,
    /// gradient norms, warnings), to this file; also if training stops on a NaN.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// A failure is one line on stderr (the typed error's message) and exit code 1: no panic, no
/// backtrace.
fn main() -> ExitCode {
    common::main_with_args(run)
}

/// The data, `[n, 784]` for the MLP or `[n, 1, 28, 28]` for the CNNs, pixels in [0, 1] either
/// way (the same scaling, so the models are compared on the same input).
fn load_data(args: &Args) -> Result<(Dataset, Dataset, &'static str), lazarus::train::Error> {
    let layout = match args.model {
        ModelKind::Mlp => ImageLayout::Flat,
        ModelKind::Cnn | ModelKind::CnnBn => ImageLayout::Nchw,
    };
    Ok(match &args.data {
        Some(dir) => {
            let options = MnistOptions {
                layout,
                ..MnistOptions::default()
            };
            let mnist = Mnist::load_with(dir, options)?;
            (mnist.train, mnist.test, "MNIST (IDX files)")
        }
        None => (
            SyntheticDigits::new(args.seed)
                .layout(layout)
                .generate(args.train_samples)?,
            SyntheticDigits::new(args.seed.wrapping_add(1_000_003))
                .layout(layout)
                .generate(args.test_samples)?,
            "synthetic digits",
        ),
    })
}

/// `--hidden` and `--dropout` shape the MLP only: with a CNN they are an error rather than
/// silently ignored (checked before the data is loaded).
fn check_model_flags(args: &Args) -> Result<(), String> {
    let name = match args.model {
        ModelKind::Mlp => return Ok(()),
        ModelKind::Cnn => "cnn",
        ModelKind::CnnBn => "cnn-bn",
    };
    let given = [
        ("--hidden", args.hidden.is_some()),
        ("--dropout", args.dropout.is_some()),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(format!(
            "{flag} is an MLP setting; --model {name} has fixed layers (use --model mlp)"
        )),
        None => Ok(()),
    }
}

/// The network `--model` names, weights drawn from `rng`.
fn build_model(
    args: &Args,
    train: &Dataset,
    rng: &mut StdRng,
) -> Result<Sequential, Box<dyn std::error::Error>> {
    let classes = train.num_classes().unwrap_or(10);
    if args.model == ModelKind::Mlp {
        let mut sizes = vec![train.input_shape().iter().product()];
        sizes.extend(args.hidden.as_deref().unwrap_or(&[256, 128]));
        sizes.push(classes);
        return Ok(mlp(
            &sizes,
            &args.activation,
            args.dropout.unwrap_or(0.0),
            rng,
        )?);
    }
    if train.input_shape() != [1, 28, 28] || classes != 10 {
        return Err(format!(
            "the CNNs need [1, 28, 28] images and 10 classes, found {:?} and {classes}",
            train.input_shape()
        )
        .into());
    }
    Ok(cnn(&args.activation, args.model == ModelKind::CnnBn, rng)?)
}

/// SGD's learning rate when `--lr` is not given: 0.05, but 0.01 for cnn-bn, where 0.05
/// overshoots in the first steps and kills most (on synthetic digits often all) of the second
/// ReLU's channels; why is in the doc of [`cnn`].
fn sgd_default_lr(model: ModelKind) -> f32 {
    match model {
        ModelKind::CnnBn => 0.01,
        ModelKind::Mlp | ModelKind::Cnn => 0.05,
    }
}

fn optimizer(args: &Args) -> Result<(Box<dyn Optimizer>, f32), Box<dyn std::error::Error>> {
    let wd = args.weight_decay;
    Ok(match args.optimizer {
        OptimizerKind::Sgd => {
            let lr = args.lr.unwrap_or(sgd_default_lr(args.model));
            (
                Box::new(Sgd::new(lr)?.momentum(args.momentum)?.weight_decay(wd)?),
                lr,
            )
        }
        OptimizerKind::Adam => {
            let lr = args.lr.unwrap_or(1e-3);
            (Box::new(Adam::new(lr)?.weight_decay(wd)?), lr)
        }
        OptimizerKind::Adamw => {
            let lr = args.lr.unwrap_or(1e-3);
            (Box::new(AdamW::new(lr)?.weight_decay(wd)?), lr)
        }
        OptimizerKind::Rmsprop => {
            let lr = args.lr.unwrap_or(1e-3);
            (
                Box::new(
                    RmsProp::new(lr)?
                        .momentum(args.momentum)?
                        .weight_decay(wd)?,
                ),
                lr,
            )
        }
    })
}

/// Train and evaluate as `args` say.
pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let wall = Instant::now();
    check_model_flags(&args)?;
    let (train, test, source) = load_data(&args)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let model = build_model(&args, &train, &mut rng)?;
    let classes = train.num_classes().unwrap_or(10);
    let mut out = Output::default();
    if !args.quiet {
        out.line(format_args!(
            "Training on {source}: {} train / {} test samples",
            train.len(),
            test.len()
        ));
        let input: Vec<usize> = std::iter::once(args.batch_size)
            .chain(train.input_shape().iter().copied())
            .collect();
        out.line(model.summary(&input)?);
    }

    let (opt, lr) = optimizer(&args)?;
    let steps_per_epoch = train.len().div_ceil(args.batch_size.max(1));
    // Once stdout has failed, the trainer's lines would fail too (and stop the training).
    let verbosity = if args.quiet || out.failed() {
        Verbosity::Silent
    } else {
        Verbosity::Auto
    };
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), opt)
        .epochs(args.epochs)
        .batch_size(args.batch_size)?
        .seed(args.seed)
        .verbosity(verbosity)
        .diagnostics(DiagnosticsConfig {
            warnings: !args.quiet,
            ..DiagnosticsConfig::default()
        })?;
    trainer = match args.schedule {
        Schedule::None => trainer,
        Schedule::Step => trainer.scheduler(StepLr::new(lr, (args.epochs / 3).max(1), 0.1)?)?,
        Schedule::Cosine => trainer.scheduler(CosineAnnealingLr::new(lr, args.epochs.max(1))?)?,
        Schedule::Onecycle => {
            trainer.scheduler(OneCycleLr::new(lr, args.epochs.max(1) * steps_per_epoch)?)?
        }
    };
    if let Some(max_norm) = args.clip_norm {
        trainer = trainer.clip_grad_norm(max_norm)?;
    }
    if let Some(path) = &args.report {
        let (title, model) = match args.model {
            ModelKind::Mlp => {
                let hidden = args.hidden.as_deref().unwrap_or(&[256, 128]);
                let sizes: Vec<String> = hidden.iter().map(|s| s.to_string()).collect();
                (
                    format!("mnist: MLP 784-{}-10 on {source}", sizes.join("-")),
                    format!("MLP, {} between the Linear layers", args.activation),
                )
            }
            ModelKind::Cnn | ModelKind::CnnBn => {
                let bn = if args.model == ModelKind::CnnBn {
                    " with BatchNorm2d"
                } else {
                    ""
                };
                (
                    format!("mnist: CNN{bn} on {source}"),
                    format!("two Conv2d{bn}, {} after each convolution", args.activation),
                )
            }
        };
        let settings = vec![
            Setting::new("model", model),
            Setting::new("optimizer", optimizer_setting(&args, lr)),
            Setting::new(
                "data",
                format!("{} train / {} test", train.len(), test.len()),
            ),
        ];
        trainer = trainer.report_title(title, settings).report(path)?;
    }
    if let Some(path) = &args.resume {
        let epoch = trainer.resume_from(path)?;
        if !args.quiet {
            out.line(format_args!(
                "Resumed from {} after epoch {epoch}",
                path.display()
            ));
        }
    }

    let train_start = Instant::now();
    let history = trainer.fit(&train, Some(&test))?;
    let train_seconds = train_start.elapsed().as_secs_f64();
    let evaluation = trainer.evaluate(&test)?;
    let labels = test.labels().unwrap_or_default();
    let predictions = trainer.predict(test.inputs().view())?;
    let confusion = ConfusionMatrix::from_predictions(labels, &predictions, classes)?;

    if let Some(path) = &args.save {
        trainer.save_checkpoint(path)?;
    }
    if !args.quiet {
        if let Some(diagnostics) = history.last().and_then(|r| r.diagnostics.as_ref()) {
            out.line("\nDead / inactive units after the last epoch:");
            out.line(diagnostics.table());
        }
        out.line(format_args!(
            "\nConfusion matrix (rows: true class, columns: predicted):\n{confusion}\n"
        ));
    }
    if let Some(dir) = &args.plot {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        history.plot_svg(dir.join("training.svg"))?;
        lazarus::train::diagnostics::plot_silent_fractions(&history, dir.join("dead_units.svg"))?;
    }
    let trained_samples: f64 = history
        .epochs
        .iter()
        .map(|r| r.samples_per_second * r.seconds)
        .sum();
    let samples_per_second = trained_samples
        / history
            .epochs
            .iter()
            .map(|r| r.seconds)
            .sum::<f64>()
            .max(1e-9);
    let epochs = trainer.epochs_done();
    let epochs_done = format!("{epochs} epoch{}", if epochs == 1 { "" } else { "s" });
    out.line(format_args!(
        "test accuracy {:.4} - test loss {:.4} - {epochs_done} - {:.1}s wall ({:.1}s training) - {:.0} samples/s",
        evaluation.accuracy.unwrap_or(0.0),
        evaluation.loss,
        wall.elapsed().as_secs_f64(),
        train_seconds,
        samples_per_second
    ));
    if let Some(path) = &args.metrics_out {
        let metrics = json!({
            "history": history,
            "final": {
                "test_accuracy": evaluation.accuracy,
                "test_loss": evaluation.loss,
                "epochs": epochs,
                "seconds": wall.elapsed().as_secs_f64(),
                "train_seconds": train_seconds,
                "samples_per_second": samples_per_second,
                "confusion_matrix": confusion.counts.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
            },
        });
        write_atomically(path, serde_json::to_string_pretty(&metrics)?.as_bytes())?;
    }
    // Only now, with every file written: a failed stdout ends the run with exit code 1.
    Ok(out.finish()?)
}
