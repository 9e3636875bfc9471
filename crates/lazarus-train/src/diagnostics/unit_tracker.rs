//! The unit tracker: folds the silent units of every activation layer over the batches of a
//! pass (an epoch, or a validation run) into one [`LayerUnits`] per layer.

use lazarus_core::{
    ActivationStats, Layer, Mode, Tensor, TensorView, try_fold_leaves, walk_layers,
};

use super::{LayerUnits, SilentKind};
use crate::Result;

/// Per-unit "silent for every sample so far" flags and pooled output moments of one layer.
#[derive(Debug, Clone)]
struct UnitPass {
    path: String,
    layer: String,
    kind: SilentKind,
    always_silent: Vec<bool>,
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
            always_silent: vec![o.kind != SilentKind::Never; o.stats.units],
            max_abs: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            count: 0.0,
        }
    }

    /// Fold in one batch: a unit stays "always silent" only if every one of its inputs in this
    /// batch was in the region too.
    fn observe(&mut self, o: &Observed) {
        let stats = &o.stats;
        if stats.units != self.always_silent.len() {
            // The layer's width changed (a different input shape): start over.
            self.always_silent = vec![o.kind != SilentKind::Never; stats.units];
        }
        if let Some(counts) = o.counts() {
            for (flag, &c) in self.always_silent.iter_mut().zip(counts) {
                *flag &= c == stats.samples_per_unit;
            }
        }
        // Pooled moments: Σy = n·mean and Σy² = n·(std² + mean²) add up across batches.
        let n = (stats.units * stats.samples_per_unit) as f64;
        let (mean, std) = (f64::from(stats.output_mean), f64::from(stats.output_std));
        self.sum += mean * n;
        self.sum_sq += (std * std + mean * mean) * n;
        self.count += n;
        self.max_abs = self.max_abs.max(stats.output_max_abs);
    }

    fn silent_units(&self) -> Vec<usize> {
        (0..self.always_silent.len())
            .filter(|&i| self.always_silent[i])
            .collect()
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
    /// Read `layer`'s statistics of its last training-mode pass, if it is an activation layer.
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

    /// Per-unit counts of inputs in the silent region.
    fn counts(&self) -> Option<&[usize]> {
        self.stats.silent_counts.as_deref()
    }
}

/// Accumulates silent units over the batches of one pass (an epoch, or a validation run), for
/// every activation layer of a model, in the model's order.
///
/// A unit is counted silent for the pass only if it was silent for *every* sample of *every*
/// batch: one input that makes it fire is enough to keep it alive, as in the article's
/// definition of a dead ReLU.
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
///     model.forward(batch.into_dyn().view(), Mode::Train)?;
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
    /// Record the statistics of the model's last *training-mode* forward pass (call after each
    /// batch's forward).
    ///
    /// Activation layers keep statistics of training passes only: after an evaluation-mode
    /// forward they still report the last training batch. For a validation set use
    /// [`forward_eval`](UnitTracker::forward_eval) instead.
    pub fn observe(&mut self, model: &dyn Layer) {
        walk_layers(model, &mut |path, layer| {
            if let Some(o) = Observed::of(path, layer) {
                self.record(&o);
            }
        });
    }

    fn record(&mut self, o: &Observed) {
        match self.layers.iter_mut().find(|p| p.path == o.path) {
            Some(pass) => pass.observe(o),
            None => {
                let mut pass = UnitPass::new(o);
                pass.observe(o);
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
    /// [`Layer::activation_stats`], i.e. one that has run a training pass before) also runs
    /// once in [`Mode::Train`] on the same input, so that its statistics describe this batch
    /// and not the last training batch. Side effects: those activation layers' kept tensors are
    /// overwritten (harmless between epochs), and RReLU draws its random slopes.
    ///
    /// # Errors
    /// Any layer error, with the failing child's index in its name.
    pub fn forward_eval(
        &mut self,
        model: &mut dyn Layer,
        inputs: TensorView<'_>,
    ) -> Result<Tensor> {
        let output = try_fold_leaves(model, inputs.to_owned(), &mut |path, layer, x: Tensor| {
            self.eval_leaf(path, layer, x).map_err(|e| e.at_path(path))
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
    ) -> lazarus_core::Result<Tensor> {
        if layer.activation_stats().is_some() {
            layer.forward(x.view(), Mode::Train)?;
            if let Some(o) = Observed::of(path, layer) {
                self.record(&o);
            }
        }
        Ok(layer.forward(x.view(), Mode::Eval)?.to_owned())
    }

    /// The per-layer report of the pass, without revival counts.
    pub fn units(&self, list_units: bool) -> Vec<LayerUnits> {
        self.report(None, list_units)
    }

    /// The per-layer report of the pass. `previous` holds each layer's silent flags from the
    /// last epoch (for the revived / newly silent counts) and is updated to this pass's.
    pub(super) fn report(
        &self,
        mut previous: Option<&mut std::collections::BTreeMap<String, Vec<bool>>>,
        list_units: bool,
    ) -> Vec<LayerUnits> {
        self.layers
            .iter()
            .map(|pass| {
                let silent_units = pass.silent_units();
                let (mut revived, mut newly_silent) = (0, 0);
                if let Some(prev_map) = previous.as_deref_mut() {
                    if let Some(prev) = prev_map
                        .get(&pass.path)
                        .filter(|p| p.len() == pass.always_silent.len())
                    {
                        for (&was, &is) in prev.iter().zip(&pass.always_silent) {
                            revived += usize::from(was && !is);
                            newly_silent += usize::from(!was && is);
                        }
                    }
                    prev_map.insert(pass.path.clone(), pass.always_silent.clone());
                }
                let units = pass.always_silent.len();
                let mean = pass.sum / pass.count.max(1.0);
                let var = (pass.sum_sq / pass.count.max(1.0) - mean * mean).max(0.0);
                LayerUnits {
                    path: pass.path.clone(),
                    layer: pass.layer.clone(),
                    kind: pass.kind,
                    units,
                    silent: silent_units.len(),
                    fraction: silent_units.len() as f64 / units.max(1) as f64,
                    silent_units: if list_units { silent_units } else { Vec::new() },
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
