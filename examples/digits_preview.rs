//! Look at the synthetic digits: writes a PNG grid, one row per class 0–9, and prints how
//! long generating 60,000 digits takes.
//!
//! ```sh
//! cargo run --release --example digits_preview -- --out digits.png
//! cargo run --release --example digits_preview -- --out mixed.png --seed 7 --cols 16 --shuffled
//! ```
//!
//! You will see ten rows of 28 × 28 digits (row r holds the digit r, unless `--shuffled`), each
//! in its own slant, size, stroke width and noise level.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use common::Output;
use lazarus_train::data::{SyntheticDigits, write_png_grid};

/// Write a PNG grid of synthetic digits.
#[derive(Parser)]
struct Args {
    /// Where to write the PNG.
    #[arg(long, default_value = "digits.png")]
    out: std::path::PathBuf,
    /// Generator seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples per row.
    #[arg(long, default_value_t = 12)]
    cols: usize,
    /// Show samples in generation order instead of one row per class.
    #[arg(long)]
    shuffled: bool,
}

fn main() -> ExitCode {
    common::main_with_args(run)
}

fn run(args: Args) -> Result<(), lazarus_train::Error> {
    let mut out = Output::default();
    let generator = SyntheticDigits::new(args.seed);

    let start = Instant::now();
    let n = 60_000;
    let digits = generator.generate(n)?;
    let seconds = start.elapsed().as_secs_f64();
    out.line(format_args!(
        "generated {n} digits in {seconds:.2} s ({:.0} digits/s)",
        n as f64 / seconds
    ));

    let shown = if args.shuffled {
        // At most the whole set: a huge --cols is then refused by write_png_grid.
        let count = digits.len().min(args.cols.saturating_mul(10));
        digits.subset(&(0..count).collect::<Vec<_>>())?
    } else {
        // Row r: the first `cols` samples whose label is r.
        let labels = digits.labels().expect("synthetic digits are labelled");
        let order: Vec<usize> = (0..10)
            .flat_map(|class| {
                (0..labels.len())
                    .filter(move |&i| labels[i] == class)
                    .take(args.cols)
            })
            .collect();
        digits.subset(&order)?
    };
    write_png_grid(&shown, 10, args.cols, &args.out)?;
    out.line(format_args!("wrote {}", args.out.display()));
    out.finish()
}
