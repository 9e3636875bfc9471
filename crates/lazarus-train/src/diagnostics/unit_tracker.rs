//! The unit tracker: folds the silent inputs of every activation layer over the batches of a
//! pass (a probe pass, a validation run, or an epoch's training batches) into one
//! [`LayerUnits`] per layer.

use std::collections::BTreeMap;

use lazarus_core::{
    ActivationStats, Layer, Mode, Tensor, TensorView, try_fold_leaves, walk_layers,
};

use super::{LayerUnits, SilentKind, revivals};
use crate::Result;
use crate::report::UnitKind;

/// Per-unit counts of silent inputs and pooled output moments of one layer over a pass.
#[derive(Debug, Clone)]
struct UnitPass {
    path: String,
    layer: String,
    kind: SilentKind,
    /// Per unit, the inputs that fell in the silent region.
    silent_inputs: Vec<u64>,
    /// Inputs each unit saw (samples × positions).
    inputs: u64,
    /// Positions per sample (1 for features, h·w for channels), when known.
    positions: Option<usize>,
    max_abs: f32,
    sum: f64,
    sum_sq: f64,
    count: f64,
}

impl UnitPass {
    fn new(o: &Observed) -> Self {
        Self {
            path: o.path.clone(),
            layer: o.name.clone(),
            kind: o.kind,
            silent_inputs: vec![0; o.stats.units],
            inputs: 0,
            positions: None,
            max_abs: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            count: 0.0,
        }
    }

    /// Fold in one batch of `rows` samples (if known): add each unit's silent inputs.
    fn observe(&mut self, o: &Observed, rows: Option<usize>) {
        let stats = &o.stats;
        if stats.units != self.silent_inputs.len() {
            // The layer's width changed (a different input shape): start over.
            *self = Self::new(o);
        }
        if let Some(counts) = &stats.silent_counts {
            for (total, &c) in self.silent_inputs.iter_mut().zip(counts) {
                *total += c as u64;
            }
        }
        self.inputs += stats.samples_per_unit as u64;
        if let Some(rows) = rows.filter(|&r| r > 0) {
            self.positions = Some(stats.samples_per_unit / rows);
        }
        // Pooled moments: Σy = n·mean and Σy² = n·(std² + mean²) add up across batches.
        let n = (stats.units * stats.samples_per_unit) as f64;
        let (mean, std) = (f64::from(stats.output_mean), f64::from(stats.output_std));
        self.sum += mean * n;
        self.sum_sq += (std * std + mean * mean) * n;
        self.count += n;
        self.max_abs = self.max_abs.max(stats.output_max_abs);
    }

    /// Per unit: silent on every input of the pass (a layer with no silent region never is).
    fn always_silent(&self) -> Vec<bool> {
        let silent =
            |&s: &u64| self.kind != SilentKind::Never && self.inputs > 0 && s == self.inputs;
        self.silent_inputs.iter().map(silent).collect()
    }

    /// Per unit, the fraction of its inputs outside the silent region.
    fn active_fraction(&self) -> Vec<f32> {
        let n = self.inputs.max(1) as f64;
        let fraction = |&s: &u64| (1.0 - s as f64 / n) as f32;
        self.silent_inputs.iter().map(fraction).collect()
    }
}

/// The statistics of one activation layer of a model, with where it sits.
struct Observed {
    path: String,
    name: String,
    kind: SilentKind,
    stats: ActivationStats,
}

impl Observed {
    /// Read `layer`'s statistics of its last training or probe pass, if it is an activation layer.
    fn of(path: &str, layer: &dyn Layer) -> Option<Self> {
        let stats = layer.activation_stats()?;
        let kind = SilentKind::of(&stats);
        Some(Self {
            path: path.to_string(),
            name: layer.name().to_string(),
            kind,
            stats,
        })
    }
}

/// What a report of a pass includes besides the counts.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ReportOptions {
    /// The indices of the silent units ([`LayerUnits::silent_units`]).
    pub list_units: bool,
    /// Each unit's active fraction ([`LayerUnits::active_fraction`]).
    pub active_fraction: bool,
}

impl ReportOptions {
    /// Counts, with the silent units' indices if `list_units`, without active fractions.
    pub(super) fn listing(list_units: bool) -> Self {
        Self {
            list_units,
            active_fraction: false,
        }
    }
}

/// Accumulates silent inputs over the batches of one pass (a probe pass, a validation run, or
/// an epoch's training batches), for every activation layer of a model, in the model's order.
///
/// A unit is counted silent for the pass only if it was silent for *every* sample of *every*
/// batch: one input that makes it fire is enough to keep it alive, as in the article's
/// definition of a dead ReLU. Over the probe set with fixed weights, that is the definition
/// of dead (see [`ProbeSet`](super::ProbeSet)).
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Linear, Mode, Sequential};
/// use lazarus_train::diagnostics::UnitTracker;
/// use ndarray::array;
/// // Unit 1's bias is so negative that no input in [0, 1] can make it fire.
/// let linear = Linear::from_params(
///     array![[1.0f32], [1.0]].into_dyn(),
///     Some(array![0.0f32, -10.0].into_dyn()),
/// )?;
/// let mut model = Sequential::new().add(linear).add(Relu::new());
/// let mut tracker = UnitTracker::default();
/// for batch in [array![[0.5f32], [1.0]], array![[0.0f32], [0.25]]] {
///     model.forward(batch.into_dyn().view(), Mode::Probe)?;
///     tracker.observe(&model);
/// }
/// let report = tracker.units(true);
/// assert_eq!(report[0].silent_units, vec![1]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct UnitTracker {
    layers: Vec<UnitPass>,
}

impl UnitTracker {
    /// Record the statistics of the model's last training-mode or probe forward pass (call
    /// after each batch's forward).
    ///
    /// Activation layers keep statistics of those passes only: after an evaluation-mode
    /// forward they still report the pass before. For a validation set use
    /// [`forward_eval`](UnitTracker::forward_eval) instead.
    pub fn observe(&mut self, model: &dyn Layer) {
        self.observe_rows(model, None);
    }

    /// [`observe`](Self::observe) a batch of `rows` samples, if known (to tell channels from
    /// features).
    pub(super) fn observe_rows(&mut self, model: &dyn Layer, rows: Option<usize>) {
        walk_layers(model, &mut |path, layer| {
            if let Some(o) = Observed::of(path, layer) {
                self.record(&o, rows);
            }
        });
    }

    fn record(&mut self, o: &Observed, rows: Option<usize>) {
        match self.layers.iter_mut().find(|p| p.path == o.path) {
            Some(pass) => pass.observe(o, rows),
            None => {
                let mut pass = UnitPass::new(o);
                pass.observe(o, rows);
                self.layers.push(pass);
            }
        }
    }

    /// An evaluation-mode forward of `model` on `inputs` that also records every activation
    /// layer's silent units: the way to measure dead units on a validation set.
    ///
    /// The model runs one leaf layer at a time (containers pass each child's output to the
    /// next, as [`Sequential`](lazarus_core::Sequential) does). Every leaf runs in
    /// [`Mode::Eval`], which gives the returned output; an activation layer (one that reports
    /// [`Layer::activation_stats`], i.e. one that has run a training or probe pass before) also
    /// runs once in [`Mode::Probe`] on the same input, so that its statistics describe this
    /// batch. Nothing that training reads changes: a probe keeps nothing for backward and draws
    /// no random numbers.
    ///
    /// # Errors
    /// Any layer error, with the failing child's index in its name.
    pub fn forward_eval(
        &mut self,
        model: &mut dyn Layer,
        inputs: TensorView<'_>,
    ) -> Result<Tensor> {
        let rows = inputs.shape().first().copied();
        let output = try_fold_leaves(model, inputs.to_owned(), &mut |path, layer, x: Tensor| {
            self.eval_leaf(path, layer, x, rows)
                .map_err(|e| e.at_path(path))
        })?;
        Ok(output)
    }

    /// One leaf of [`forward_eval`](UnitTracker::forward_eval): its evaluation-mode output,
    /// and its statistics for this input if it is an activation layer.
    fn eval_leaf(
        &mut self,
        path: &str,
        layer: &mut dyn Layer,
        x: Tensor,
        rows: Option<usize>,
    ) -> lazarus_core::Result<Tensor> {
        if layer.activation_stats().is_some() {
            layer.forward(x.view(), Mode::Probe)?;
            if let Some(o) = Observed::of(path, layer) {
                self.record(&o, rows);
            }
        }
        Ok(layer.forward(x.view(), Mode::Eval)?.to_owned())
    }

    /// The per-layer report of the pass, without revival counts.
    pub fn units(&self, list_units: bool) -> Vec<LayerUnits> {
        self.report(None, ReportOptions::listing(list_units))
    }

    /// The per-layer report of the pass. `previous` holds each layer's silent flags from the
    /// last pass of its kind (for the revived / newly silent counts) and is updated to this
    /// pass's.
    pub(super) fn report(
        &self,
        mut previous: Option<&mut BTreeMap<String, Vec<bool>>>,
        options: ReportOptions,
    ) -> Vec<LayerUnits> {
        self.layers
            .iter()
            .map(|pass| {
                let always_silent = pass.always_silent();
                let silent_units: Vec<usize> = (0..always_silent.len())
                    .filter(|&i| always_silent[i])
                    .collect();
                let (revived, newly_silent) = match previous.as_deref_mut() {
                    Some(previous) => revivals(previous, &pass.path, &always_silent),
                    None => (0, 0),
                };
                let units = always_silent.len();
                let mean = pass.sum / pass.count.max(1.0);
                let var = (pass.sum_sq / pass.count.max(1.0) - mean * mean).max(0.0);
                LayerUnits {
                    path: pass.path.clone(),
                    layer: pass.layer.clone(),
                    kind: pass.kind,
                    units,
                    unit_kind: match pass.positions {
                        Some(p) if p > 1 => UnitKind::Channel,
                        _ => UnitKind::Feature,
                    },
                    silent: silent_units.len(),
                    fraction: silent_units.len() as f64 / units.max(1) as f64,
                    silent_units: if options.list_units {
                        silent_units
                    } else {
                        Vec::new()
                    },
                    active_fraction: if options.active_fraction {
                        pass.active_fraction()
                    } else {
                        Vec::new()
                    },
                    revived,
                    newly_silent,
                    output_max_abs: pass.max_abs,
                    output_mean: mean as f32,
                    output_std: var.sqrt() as f32,
                }
            })
            .collect()
    }
}
