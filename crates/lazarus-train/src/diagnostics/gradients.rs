//! Gradient flow: per parameter, the L2 norm of its gradient at every step (before clipping)
//! and how far the optimizer moved it; the total norm over all parameters; and spikes, steps
//! whose total norm is far above its running median (the exploding-gradient signal; the rule
//! is on [`DiagnosticsConfig::spike_factor`](super::DiagnosticsConfig::spike_factor)).

use lazarus_core::{Layer, Tensor, reuse_buffer, sum_squared_difference, sum_squares};
use serde::{Deserialize, Serialize};

use super::EpochDiagnostics;
use super::spikes::{EpochSpikes, MEDIAN_WINDOW, Spike, running_median};

/// Every step's gradient norms of one epoch (before clipping), as f32: the report's curves.
///
/// One f32 per parameter and step, plus the total: a 60,000-sample epoch at batch 128 with 6
/// parameters is 469 × 7 numbers, about 30 KB of JSON. Turn it off with
/// [`DiagnosticsConfig::keep_step_norms`](super::DiagnosticsConfig::keep_step_norms).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepNorms {
    /// ‖∇‖₂ of all parameters together, per step of the epoch: the norm clipping compares.
    #[serde(with = "crate::history::json_float::list")]
    pub total: Vec<f32>,
    /// Per parameter, in the order of [`EpochDiagnostics::gradients`]: ‖∇‖₂ per step.
    #[serde(with = "crate::history::json_float::lists")]
    pub params: Vec<Vec<f32>>,
    /// The steps of the epoch (from 0) whose total norm exceeded the clipping threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clipped: Vec<usize>,
    /// The clipping threshold, when clipping was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_norm: Option<f64>,
}

/// The gradient of one parameter over one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradFlow {
    /// The parameter's path (`0.weight`, `1.weight`).
    pub param: String,
    /// Mean of ‖∇‖₂ over the epoch's steps (before clipping).
    #[serde(with = "crate::history::json_float")]
    pub mean_norm: f64,
    /// Largest ‖∇‖₂ over the epoch's steps (before clipping).
    #[serde(with = "crate::history::json_float")]
    pub max_norm: f64,
    /// Mean of ‖Δw‖₂/‖w‖₂ over the measured steps (every
    /// [`update_ratio_every`](super::DiagnosticsConfig::update_ratio_every)-th), Δw the
    /// optimizer's change and w the value after it:
    /// how fast the parameter moves (around 1e-3 is healthy for SGD; much larger is unstable,
    /// much smaller barely learns).
    #[serde(with = "crate::history::json_float")]
    pub update_ratio: f64,
}

/// Per-parameter gradient statistics over one epoch, and recent norms for the running median.
#[derive(Debug, Clone, Default)]
struct GradAccumulator {
    sum_norm: f64,
    max_norm: f64,
    sum_ratio: f64,
    /// Steps whose update ratio was measured.
    ratio_steps: usize,
    steps: usize,
    /// Norms of the recent steps (at most [`MEDIAN_WINDOW`] + this epoch's), to say which
    /// parameter a spike is in.
    history: Vec<f64>,
    /// This epoch's norms, one per step, when kept.
    step_norms: Vec<f32>,
}

/// The gradient flow of the current epoch, per parameter in visit order, and the total norm.
#[derive(Debug, Clone, Default)]
pub(super) struct GradientTracker {
    grads: Vec<(String, GradAccumulator)>,
    /// Parameter values before the step, to measure ‖Δw‖; reused between steps.
    before: Vec<Tensor>,
    /// Whether this step's update ratio is measured (`before` holds its values).
    measure_update: bool,
    /// The clipping threshold, to count the steps it clipped.
    pub(super) clip_norm: Option<f64>,
    max_total_norm: f64,
    sum_total_norm: f64,
    /// Total norms of the recent steps (at most [`MEDIAN_WINDOW`] + this epoch's), for the
    /// running median.
    total_history: Vec<f64>,
    /// This epoch's spikes so far.
    spikes: Option<EpochSpikes>,
    steps: usize,
    clipped_steps: usize,
    /// Keep every step's norms ([`StepNorms`]).
    pub(super) keep_steps: bool,
    /// This epoch's total norm per step and its clipped steps, when kept.
    total_norms: Vec<f32>,
    clipped: Vec<usize>,
}

impl GradientTracker {
    /// After backward, before clipping: record each parameter's ‖∇‖₂ = √(Σ g²) (from `squares`,
    /// the Σ g² already measured in visit order, or measured here for any not given) and the
    /// total √(Σ over all parameters); on every `update_ratio_every`-th step of the epoch, keep
    /// the values to measure the update.
    pub(super) fn before_step(
        &mut self,
        model: &dyn Layer,
        squares: &[f64],
        update_ratio_every: usize,
    ) {
        let mut index = 0;
        let mut total_sq = 0.0f64;
        self.measure_update = self.steps.is_multiple_of(update_ratio_every);
        let (measure_update, keep_steps) = (self.measure_update, self.keep_steps);
        let (grads, before) = (&mut self.grads, &mut self.before);
        model.visit_params(&mut |path, p| {
            if grads.len() <= index {
                grads.push((path.to_string(), GradAccumulator::default()));
            }
            let norm_sq =
                (squares.get(index).copied()).unwrap_or_else(|| sum_squares(&p.grad.view()));
            total_sq += norm_sq;
            let acc = &mut grads[index].1;
            let norm = norm_sq.sqrt();
            acc.sum_norm += norm;
            acc.max_norm = acc.max_norm.max(norm);
            acc.steps += 1;
            acc.history.push(norm);
            if keep_steps {
                acc.step_norms.push(norm as f32);
            }
            if measure_update {
                if before.len() <= index {
                    before.push(p.value.clone());
                } else {
                    // Reshaped only if the model's parameter changed shape since the last step.
                    reuse_buffer(&mut before[index], p.value.raw_dim());
                    before[index].assign(&p.value);
                }
            }
            index += 1;
        });
        // The same sums, in the same order, as the trainer's `GradNorms` total (which clipping
        // used): the same norm, not measured again.
        let total = total_sq.sqrt();
        self.max_total_norm = self.max_total_norm.max(total);
        self.sum_total_norm += total;
        self.total_history.push(total);
        let clipped = self.clip_norm.is_some_and(|max| total > max);
        if clipped {
            self.clipped_steps += 1;
        }
        if self.keep_steps {
            self.total_norms.push(total as f32);
            if clipped {
                self.clipped.push(self.steps);
            }
        }
        self.steps += 1;
    }

    /// After the optimizer step, on a measured step: add ‖Δw‖₂/‖w‖₂ per parameter.
    pub(super) fn after_step(&mut self, model: &dyn Layer) {
        if !std::mem::take(&mut self.measure_update) {
            return;
        }
        let mut index = 0;
        let (grads, before) = (&mut self.grads, &self.before);
        model.visit_params(&mut |_, p| {
            if let (Some((_, acc)), Some(old)) = (grads.get_mut(index), before.get(index)) {
                let delta = sum_squared_difference(&p.value.view(), &old.view()).unwrap_or(0.0);
                let weight = sum_squares(&p.value.view());
                acc.sum_ratio += delta.sqrt() / weight.sqrt().max(1e-12);
                acc.ratio_steps += 1;
            }
            index += 1;
        });
    }

    /// Whether the latest step spiked: its total norm is more than `factor` times the
    /// running median of the total norms before it. If so, it is counted in the epoch's
    /// spikes, with the parameter whose norm rose the most above its own running median.
    pub(super) fn judge_spike(&mut self, factor: f64) {
        let Some(&total) = self.total_history.last() else {
            return;
        };
        let Some(median) = running_median(&self.total_history) else {
            return;
        };
        // A network with no gradient at all (every unit dead) has nothing to spike from.
        if !(median > 0.0 && total > factor * median) {
            return;
        }
        let rise = |acc: &GradAccumulator| {
            let last = acc.history.last().copied().unwrap_or(0.0);
            last - running_median(&acc.history).unwrap_or(0.0)
        };
        let param = (self.grads.iter())
            .max_by(|a, b| rise(&a.1).total_cmp(&rise(&b.1)))
            .map_or_else(String::new, |(path, _)| path.clone());
        let spike = Spike {
            step: self.steps - 1,
            norm: total,
            median,
            param,
        };
        let epoch = self.spikes.get_or_insert_with(|| EpochSpikes {
            count: 0,
            steps: 0,
            worst: spike.clone(),
        });
        epoch.count += 1;
        if spike.ratio() > epoch.worst.ratio() {
            epoch.worst = spike;
        }
    }

    /// Close the epoch: write its gradient flow and total norms into `report`, then start the
    /// next epoch afresh, keeping only the recent norms for the running medians. Returns the
    /// epoch's spikes, if any.
    pub(super) fn end_epoch(&mut self, report: &mut EpochDiagnostics) -> Option<EpochSpikes> {
        report.gradients = self
            .grads
            .iter()
            .filter(|(_, acc)| acc.steps > 0)
            .map(|(path, acc)| GradFlow {
                param: path.clone(),
                mean_norm: acc.sum_norm / acc.steps as f64,
                max_norm: acc.max_norm,
                update_ratio: acc.sum_ratio / acc.ratio_steps.max(1) as f64,
            })
            .collect();
        report.max_total_grad_norm = self.max_total_norm;
        report.mean_total_grad_norm = self.sum_total_norm / self.steps.max(1) as f64;
        report.steps = self.steps;
        report.clipped_steps = self.clip_norm.map(|_| self.clipped_steps);
        if self.keep_steps {
            report.step_norms = Some(StepNorms {
                total: std::mem::take(&mut self.total_norms),
                params: (self.grads.iter_mut())
                    .filter(|(_, acc)| acc.steps > 0)
                    .map(|(_, acc)| std::mem::take(&mut acc.step_norms))
                    .collect(),
                clipped: std::mem::take(&mut self.clipped),
                max_norm: self.clip_norm,
            });
        }
        let keep = self.total_history.len().saturating_sub(MEDIAN_WINDOW);
        self.total_history.drain(..keep);
        for (_, acc) in &mut self.grads {
            let keep = acc.history.len().saturating_sub(MEDIAN_WINDOW);
            acc.history.drain(..keep);
            *acc = GradAccumulator {
                history: std::mem::take(&mut acc.history),
                ..GradAccumulator::default()
            };
        }
        self.max_total_norm = 0.0;
        self.sum_total_norm = 0.0;
        let spikes = (self.spikes.take()).map(|s| EpochSpikes {
            steps: self.steps,
            ..s
        });
        self.steps = 0;
        self.clipped_steps = 0;
        spikes
    }
}
