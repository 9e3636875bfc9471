//! The trainer's report: [`Trainer::report`] asks for one HTML page of the run
//! ([`report`](crate::report)), written at the end of `fit`, and also when `fit` stops on a
//! non-finite value (covering the epochs up to the failure, with what the stopped epoch
//! measured).

use std::path::{Path, PathBuf};

use lazarus_core::{Layer, model_summary};

use crate::diagnostics::DiagnosticsConfig;
use crate::observer::TrainingObserver;
use crate::report::{ReportData, Setting, write_report};
use crate::{Error, History, Result, Trainer};

/// The report's heading when [`Trainer::report_title`] gave none.
const DEFAULT_TITLE: &str = "lazarus training run";

/// Where to write a trainer's report, and what to call the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunReport {
    /// Empty until [`Trainer::report`] gives one: a title alone writes nothing.
    path: PathBuf,
    title: String,
    settings: Vec<Setting>,
}

impl<M: Layer> Trainer<M> {
    /// Write the run's report, a self-contained HTML page ([`report`](crate::report): curves,
    /// dead-unit heatmaps, PReLU slopes, gradient norms, update ratios, warnings), to `path` at
    /// the end of [`fit`](Trainer::fit), and also when `fit` stops on a non-finite value (the
    /// page then says so first and covers the epochs up to the failure). Turns the
    /// [diagnostics](Trainer::diagnostics) on with their defaults if they are off: the page
    /// draws what they record.
    ///
    /// ```
    /// use lazarus_core::{loss::MseLoss, Linear};
    /// use lazarus_optim::Sgd;
    /// use lazarus_train::Trainer;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let model = Linear::new(2, 1, &mut StdRng::seed_from_u64(0))?;
    /// let dir = std::env::temp_dir();
    /// let trainer = Trainer::new(model, MseLoss::new(), Sgd::new(0.1)?).report(dir.join("run.html"))?;
    /// assert!(Trainer::new(Linear::new(2, 1, &mut StdRng::seed_from_u64(0))?, MseLoss::new(), Sgd::new(0.1)?)
    ///     .report(&dir).is_err(), "a folder is not a file");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty path, an existing folder, or a path whose folder
    /// does not exist: checked here, not after the training.
    pub fn report(mut self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        let problem = if path.as_os_str().is_empty() {
            Some("an empty path".to_string())
        } else if path.is_dir() {
            Some(format!("{} is a folder, not a file", path.display()))
        } else if folder.is_some_and(|f| !f.is_dir()) {
            Some(format!("the folder of {} does not exist", path.display()))
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(Error::config("trainer", "report", reason));
        }
        if self.observers.diagnostics.is_none() {
            self = self.diagnostics(DiagnosticsConfig::default())?;
        }
        let mut report = self.report.take().unwrap_or_default();
        report.path = path.to_path_buf();
        self.report = Some(report);
        Ok(self)
    }

    /// The report's title (its heading), and settings to list under the model summary (the
    /// optimizer, the data, ...) before the ones the trainer knows (epochs, batch size, seed,
    /// clipping, probe set). Without a [`report`](Trainer::report) they are kept for
    /// [`report_data`](Trainer::report_data).
    pub fn report_title(mut self, title: impl Into<String>, settings: Vec<Setting>) -> Self {
        let report = self.report.get_or_insert_with(RunReport::default);
        report.title = title.into();
        report.settings = settings;
        self
    }

    /// The run so far as report data: the history, what an epoch stopped by an error measured,
    /// the model summary (for the training set's sample shape) and the settings; `stopped`
    /// says why the run stopped early, if it did. Write it with
    /// [`write_report`](crate::report::write_report), or compare runs side by side.
    ///
    /// # Errors
    /// As [`ReportData::from_history`].
    pub fn report_data(&self, stopped: Option<String>) -> Result<ReportData> {
        let (title, mut settings) = match &self.report {
            Some(r) if !r.title.is_empty() => (r.title.clone(), r.settings.clone()),
            Some(r) => (DEFAULT_TITLE.into(), r.settings.clone()),
            None => (DEFAULT_TITLE.into(), Vec::new()),
        };
        settings.extend(self.known_settings());
        let mut input = vec![self.batch_size];
        input.extend(&self.input_shape);
        let summary = model_summary(&self.model, &input).unwrap_or_else(|e| e.to_string());
        let unfinished = self.unfinished.as_ref().map(|(e, d)| (*e, d));
        let history: &History = &self.history;
        let mut data = ReportData::from_epochs(title, history, unfinished, summary, settings)?;
        data.stopped_early = stopped;
        Ok(data)
    }

    /// What the diagnostics measured of the epoch an error stopped, after `fit` returned that
    /// error: its steps' gradient norms, its warnings, and in a first epoch the probe at
    /// initialization ([`EpochDiagnostics::born_dead`](crate::diagnostics::EpochDiagnostics::born_dead)).
    /// `None` after a `fit` that finished, or without diagnostics.
    pub fn unfinished_epoch(&self) -> Option<&crate::diagnostics::EpochDiagnostics> {
        self.unfinished.as_ref().map(|(_, d)| d)
    }

    /// What the trainer knows of the run's settings.
    fn known_settings(&self) -> Vec<Setting> {
        let mut settings = vec![
            Setting::new("epochs", self.epochs),
            Setting::new("batch size", self.batch_size),
            Setting::new(
                "learning rate",
                self.history
                    .epochs
                    .first()
                    // As the optimizer holds it: 0.001, not 0.0010000000474974513.
                    .map_or(self.optimizer.lr(), |r| r.lr as f32),
            ),
            Setting::new("seed", self.seed),
            Setting::new(
                "gradient clipping",
                self.clip_norm
                    .map_or("off".into(), |c| format!("total norm at most {c}")),
            ),
        ];
        if let Some(d) = &self.observers.diagnostics {
            let n = d.config().probe_samples;
            let text = format!(
                "{n} training samples (or all, if fewer), drawn with the seed; a unit is dead when \
                 it is silent on every one of them with fixed weights"
            );
            settings.push(Setting::new("probe set", text));
        }
        settings
    }

    /// After `fit`'s epochs: remember what an epoch stopped by an error measured, and write
    /// the report if asked, for a finished run or one stopped by a non-finite value. The
    /// training's own error comes first: a report that cannot be written then is only
    /// mentioned on stderr.
    pub(crate) fn after_fit(&mut self, result: Result<History>) -> Result<History> {
        self.unfinished = None;
        let stopped = match &result {
            Ok(_) => None,
            Err(err) => {
                let epoch = self.epochs_done + 1;
                self.unfinished = self.observers.stopped_epoch().map(|d| (epoch, d));
                if !matches!(err, Error::NonFinite { .. }) {
                    return result;
                }
                Some(err.to_string())
            }
        };
        let Some(path) = self.report.as_ref().map(|r| r.path.clone()) else {
            return result;
        };
        if path.as_os_str().is_empty() {
            return result; // a title without a report
        }
        let written = self
            .report_data(stopped)
            .and_then(|data| write_report(&data, &path));
        match (result, written) {
            (Ok(history), Ok(())) => Ok(history),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(report)) => {
                let line = format_args!("warning: the report was not written: {report}");
                let _ = crate::console::write_line(&mut std::io::stderr().lock(), "stderr", &line);
                Err(e)
            }
        }
    }
}
