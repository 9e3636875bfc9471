//! The diagnostics' warnings: when each is raised, what it says, and how it is printed (once
//! per layer or parameter, to stderr if asked) and recorded (always, in the epoch's report).

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Arc;

use super::{DiagnosticsConfig, GradFlow, LayerUnits, SilentKind};
use crate::Error;

/// The warnings raised so far, and those of the current epoch.
#[derive(Debug, Clone, Default)]
pub(super) struct Warnings {
    /// Every key warned about in the run: each warning is raised once.
    warned: BTreeSet<String>,
    /// The current epoch's messages.
    pending: Vec<String>,
    /// The first failed print of the epoch, for [`take`](Self::take) to report (shared, so
    /// that the diagnostics stay `Clone`).
    stderr_failure: Option<Arc<io::Error>>,
}

impl Warnings {
    /// The network's output was the same for every input of the first batch.
    pub(super) fn born_dead(&mut self, config: &DiagnosticsConfig) {
        self.warn(
            config,
            "born_dead".into(),
            "the network is born dead: its output is the same for every input of the first batch, so no gradient reaches the first layer (re-initialize: He init, another seed, a wider or shallower net, or a leaky activation)".into(),
        );
    }

    /// A parameter's latest gradient norm spiked above its running median (from
    /// `GradientTracker::spikes`: path, norm, median).
    pub(super) fn spikes(&mut self, config: &DiagnosticsConfig, spikes: Vec<(String, f64, f64)>) {
        for (path, last, median) in spikes {
            self.warn(
                config,
                format!("spike:{path}"),
                format!(
                    "{path}: gradient norm {last:.3e} is {:.0}x its running median {median:.3e} (exploding gradients? try clipping or a lower learning rate)",
                    last / median
                ),
            );
        }
    }

    /// More than [`DiagnosticsConfig::dead_fraction_warning`] of a layer's units are dead.
    pub(super) fn dead_units(&mut self, config: &DiagnosticsConfig, units: &[LayerUnits]) {
        for u in units {
            if u.kind == SilentKind::Dead && u.fraction > config.dead_fraction_warning {
                self.warn(
                    config,
                    format!("dead:{}", u.path),
                    format!(
                        "{}[{}]: {:.0}% of its {} units are dead (no input made them fire this epoch); try LeakyReLU/PReLU/ELU, a lower learning rate or He initialization",
                        u.layer,
                        u.path,
                        100.0 * u.fraction,
                        u.units
                    ),
                );
            }
        }
    }

    /// A parameter's gradient norm stayed below [`DiagnosticsConfig::vanishing_norm`] all epoch.
    pub(super) fn vanishing(&mut self, config: &DiagnosticsConfig, gradients: &[GradFlow]) {
        for g in gradients {
            if g.max_norm < config.vanishing_norm {
                self.warn(
                    config,
                    format!("vanishing:{}", g.param),
                    format!(
                        "{}: gradient norm stayed below {:e} all epoch (max {:.1e}): vanishing gradient, or a layer behind dead units",
                        g.param, config.vanishing_norm, g.max_norm
                    ),
                );
            }
        }
    }

    fn warn(&mut self, config: &DiagnosticsConfig, key: String, message: String) {
        self.warn_to(&mut io::stderr().lock(), config.warnings, key, message);
    }

    /// Record a warning once per `key` and, if `print`, print it to `out` (stderr). A failed
    /// print is kept for [`take`](Self::take): the hooks that raise warnings do not return
    /// errors, and a warning is not worth stopping a step for.
    pub(super) fn warn_to(
        &mut self,
        out: &mut dyn Write,
        print: bool,
        key: String,
        message: String,
    ) {
        if self.warned.insert(key) {
            if print && self.stderr_failure.is_none() {
                let line = format_args!("warning: {message}");
                if let Err(Error::Output { source, .. }) =
                    crate::console::write_line(out, "stderr", &line)
                {
                    self.stderr_failure = Some(Arc::new(source));
                }
            }
            self.pending.push(message);
        }
    }

    /// The epoch's warnings, and the first failed print of the epoch if there was one; the
    /// next epoch starts afresh (a warning already raised stays raised).
    pub(super) fn take(&mut self) -> (Vec<String>, Option<io::Error>) {
        let failure = self.stderr_failure.take().map(|failure| {
            Arc::try_unwrap(failure)
                .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()))
        });
        (std::mem::take(&mut self.pending), failure)
    }
}
