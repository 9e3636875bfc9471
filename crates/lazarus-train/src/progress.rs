//! What the trainer prints while it works: a progress bar on a terminal, one line per epoch
//! elsewhere (CI logs, pipes), or nothing.
//!
//! The epoch lines go through [`console`](crate::console), so a failing stdout is an
//! [`Error::Output`](crate::Error::Output) from `fit`, not a panic. The bar cannot fail that
//! way: indicatif draws it on stderr and drops draw errors (`set_position`, `set_message` and
//! `finish_and_clear` ignore them; only `set_tab_width`, never called here, unwraps).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use crate::callbacks::{BatchEnd, Control, EpochEnd};
use crate::metrics::EpochMeter;
use crate::observer::TrainingObserver;
use crate::{EpochRecord, Result};

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
    pub(crate) fn batch_done(&self, batch: usize, meter: &EpochMeter) {
        if let Some(bar) = &self.bar {
            bar.set_position(batch as u64 + 1);
            if batch.is_multiple_of(MESSAGE_EVERY) {
                let (loss, samples_per_second) = (meter.loss(), meter.samples_per_second());
                bar.set_message(match meter.accuracy() {
                    Some(a) => {
                        format!("loss {loss:.4} - acc {a:.4} - {samples_per_second:.0} samples/s")
                    }
                    None => format!("loss {loss:.4} - {samples_per_second:.0} samples/s"),
                });
            }
        }
    }

    /// Close the bar and print the epoch's summary line on stdout.
    ///
    /// # Errors
    /// [`Error::Output`](crate::Error::Output) when stdout fails.
    pub(crate) fn finish(self, record: &EpochRecord, epochs: usize) -> Result<()> {
        self.finish_to(&mut std::io::stdout().lock(), record, epochs)
    }

    /// [`finish`](Self::finish), printing to `out`.
    fn finish_to(self, out: &mut dyn Write, record: &EpochRecord, epochs: usize) -> Result<()> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.bar.is_some() || self.lines {
            crate::console::write_line(out, "stdout", &summary_line(record, epochs))?;
        }
        Ok(())
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

/// The progress display (see [`Verbosity`]): a bar during each epoch, then its summary line.
pub(crate) struct Progress {
    verbosity: Verbosity,
    epochs: usize,
    epoch: Option<EpochProgress>,
}

impl Progress {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        Self {
            verbosity,
            epochs: 0,
            epoch: None,
        }
    }
}

impl TrainingObserver for Progress {
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.epochs = epochs;
        self.epoch = Some(EpochProgress::start(self.verbosity, epoch, epochs, batches));
    }
    fn batch_end(&mut self, end: &BatchEnd, meter: &EpochMeter) -> Result<Control> {
        if let Some(progress) = &self.epoch {
            progress.batch_done(end.batch, meter);
        }
        Ok(Control::Continue)
    }
    fn epoch_end(&mut self, end: &mut EpochEnd<'_>) -> Result<Control> {
        if let Some(progress) = self.epoch.take() {
            progress.finish(end.record, self.epochs)?;
        }
        Ok(Control::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::console::FullDisk;

    fn record() -> EpochRecord {
        EpochRecord {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: Some(0.75),
            val_loss: None,
            val_accuracy: None,
            lr: 0.1,
            seconds: 1.0,
            samples_per_second: 100.0,
            max_grad_norm: None,
            diagnostics: None,
        }
    }

    #[test]
    fn a_failing_stdout_is_a_typed_error_not_a_panic() {
        let progress = EpochProgress::start(Verbosity::Lines, 1, 2, 3);
        let err = progress.finish_to(&mut FullDisk, &record(), 2).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Output {
                    stream: "stdout",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn lines_print_the_summary_and_silent_prints_nothing() {
        let mut out = Vec::new();
        let progress = EpochProgress::start(Verbosity::Lines, 1, 2, 3);
        progress.finish_to(&mut out, &record(), 2).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\n", summary_line(&record(), 2))
        );

        let progress = EpochProgress::start(Verbosity::Silent, 1, 2, 3);
        progress.finish_to(&mut FullDisk, &record(), 2).unwrap();
    }
}
