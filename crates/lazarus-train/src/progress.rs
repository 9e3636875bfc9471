//! What the trainer prints while it works: a progress bar on a terminal, one line per epoch
//! elsewhere (CI logs, pipes), or nothing.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::EpochRecord;

/// How much the trainer prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// A progress bar per epoch when stdout is a terminal, else one summary line per epoch.
    #[default]
    Auto,
    /// One summary line per epoch, even on a terminal.
    Lines,
    /// Nothing.
    Silent,
}

/// Batches between two updates of the bar's text: formatting a message for every batch would
/// cost more than the bar is worth on small models.
const MESSAGE_EVERY: usize = 16;

/// The progress display of one epoch.
pub(crate) struct EpochProgress {
    bar: Option<ProgressBar>,
    lines: bool,
}

impl EpochProgress {
    pub(crate) fn start(verbosity: Verbosity, epoch: usize, epochs: usize, batches: usize) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let bar = (verbosity == Verbosity::Auto && terminal).then(|| {
            let bar = ProgressBar::new(batches as u64);
            let style = ProgressStyle::with_template(
                "Epoch {prefix} {bar:30.cyan/blue} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}",
            )
            .expect("the template is valid")
            .progress_chars("━╸ ");
            bar.set_style(style);
            bar.set_prefix(format!("{epoch}/{epochs}"));
            bar
        });
        Self {
            bar,
            lines: verbosity == Verbosity::Lines || (verbosity == Verbosity::Auto && !terminal),
        }
    }

    /// After batch `batch` (0-based): running loss and accuracy, samples per second.
    pub(crate) fn batch_done(
        &self,
        batch: usize,
        loss: f64,
        accuracy: Option<f64>,
        samples_per_second: f64,
    ) {
        if let Some(bar) = &self.bar {
            bar.set_position(batch as u64 + 1);
            if batch.is_multiple_of(MESSAGE_EVERY) {
                bar.set_message(match accuracy {
                    Some(a) => {
                        format!("loss {loss:.4} - acc {a:.4} - {samples_per_second:.0} samples/s")
                    }
                    None => format!("loss {loss:.4} - {samples_per_second:.0} samples/s"),
                });
            }
        }
    }

    /// Close the bar and print the epoch's summary line.
    pub(crate) fn finish(self, record: &EpochRecord, epochs: usize) {
        let line = summary_line(record, epochs);
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
            println!("{line}");
        } else if self.lines {
            println!("{line}");
        }
    }
}

/// `Epoch 3/10 - 1.21s - 49587 samples/s - loss 0.1234 - acc 0.9630 - val_loss ... - lr 0.05`,
/// the shape of Keras' `fit` output.
pub fn summary_line(r: &EpochRecord, epochs: usize) -> String {
    let mut line = format!(
        "Epoch {}/{} - {:.2}s - {:.0} samples/s - loss {:.4}",
        r.epoch, epochs, r.seconds, r.samples_per_second, r.train_loss
    );
    let mut push = |name: &str, v: Option<f64>| {
        if let Some(v) = v {
            line.push_str(&format!(" - {name} {v:.4}"));
        }
    };
    push("acc", r.train_accuracy);
    push("val_loss", r.val_loss);
    push("val_acc", r.val_accuracy);
    push("max_grad_norm", r.max_grad_norm);
    line.push_str(&format!(" - lr {:.3e}", r.lr));
    line
}
