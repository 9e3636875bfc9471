//! Silent units: which units of each activation layer stayed in their silent region for every
//! sample of a pass (dead or inactive, by the gradient: see the module doc of
//! [`diagnostics`](super)), and whether a freshly built network is born dead.

use lazarus_core::{
    ActivationStats, Layer, Mode, Tensor, TensorView, try_fold_leaves, walk_layers,
};
use serde::{Deserialize, Serialize};

use crate::Result;

/// What a silent unit of an activation layer is: dead, inactive, or the layer is never silent
/// (a smooth activation, reported for its output statistics only). Decided by the gradient, from
/// the layer's [`ActivationStats`] (the definition is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SilentKind {
    /// Nothing reaches a silent unit: its input derivative is exactly zero there and no own
    /// parameter learns from it (ReLU, ReLU6, Hardtanh, `LeakyRelu::new(0.0)`, ...). A unit
    /// silent for every input cannot recover on its own.
    Dead,
    /// Gradient still reaches it: through a leak (LeakyReLU, ELU, SELU, RReLU, ...) or through
    /// an own parameter (PReLU's slope, even at exactly 0). It can come back.
    Inactive,
    /// The activation has no silent region (Tanh, GELU, SiLU, ...): only the output statistics
    /// mean anything, and `silent` is always 0.
    Never,
}

impl SilentKind {
    /// The kind of `stats`' units: `Dead` when every unit can die
    /// ([`ActivationStats::silent_unit_can_die`]), `Inactive` otherwise. (Every activation today
    /// gives its units one kind; a layer mixing both would report `Inactive`.)
    pub fn of(stats: &ActivationStats) -> Self {
        if stats.silent_counts.is_none() {
            SilentKind::Never
        } else if (0..stats.units).all(|u| stats.silent_unit_can_die(u)) {
            SilentKind::Dead
        } else {
            SilentKind::Inactive
        }
    }

    /// `"dead"`, `"inactive"` or `"-"`, as the tables print it.
    pub fn label(self) -> &'static str {
        match self {
            SilentKind::Dead => "dead",
            SilentKind::Inactive => "inactive",
            SilentKind::Never => "-",
        }
    }
}

/// One activation layer's units over one pass through a data set (an epoch, or one batch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerUnits {
    /// The layer's path in the model (`"1"`, `"2.0"`): the prefix of its parameters' names.
    pub path: String,
    /// The layer's name (`relu`, `leaky_relu`).
    pub layer: String,
    /// Dead (no gradient reaches a silent unit), inactive (some does) or never silent (smooth).
    pub kind: SilentKind,
    /// Number of units (features of a `[batch, features]` input, channels of an image).
    pub units: usize,
    /// Units that were silent for every sample of the pass.
    pub silent: usize,
    /// `silent / units`.
    #[serde(with = "crate::history::json_float")]
    pub fraction: f64,
    /// Their indices, when asked for ([`DiagnosticsConfig::list_dead_units`](super::DiagnosticsConfig::list_dead_units)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub silent_units: Vec<usize>,
    /// Units silent in the previous epoch and alive in this one: revived.
    pub revived: usize,
    /// Units alive in the previous epoch and silent in this one: newly died.
    pub newly_silent: usize,
    /// Largest |output| seen (the unbounded growth the article warns about).
    #[serde(with = "crate::history::json_float")]
    pub output_max_abs: f32,
    /// Mean output over the pass.
    #[serde(with = "crate::history::json_float")]
    pub output_mean: f32,
    /// Standard deviation of the outputs, pooled over the batches of the pass.
    #[serde(with = "crate::history::json_float")]
    pub output_std: f32,
}

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

/// Silent units of `model` on one batch `inputs`, before any training: which units are dead at
/// initialization, and whether the network is **born dead**: its output does not depend on the
/// input (every row of the output equal), so no gradient reaches the first layer (Lu, Shin, Su
/// & Karniadakis 2019, "Dying ReLU and Initialization").
///
/// Runs one forward pass in training mode (so that activation layers count; a dropout layer
/// samples a mask); parameters and gradients are unchanged. The [`Trainer`](crate::Trainer)
/// with diagnostics on does the same check on its first training batch, without an extra pass,
/// and stores it in the first epoch's [`EpochDiagnostics::born_dead`](super::EpochDiagnostics::born_dead).
///
/// # Errors
/// Any layer error (a shape mismatch).
///
/// ```
/// use lazarus_activations::Relu;
/// use lazarus_core::{Layer, Linear, Sequential, Tensor};
/// use lazarus_train::diagnostics::born_dead_check;
/// use ndarray::array;
/// // Both hidden units have a bias of -5: for inputs in [0, 1] the ReLU layer is all zeros.
/// let hidden = Linear::from_params(array![[1.0f32], [-1.0]].into_dyn(), Some(array![-5.0f32, -5.0].into_dyn()))?;
/// let out = Linear::from_params(array![[1.0f32, 1.0]].into_dyn(), Some(array![0.3f32].into_dyn()))?;
/// let mut model = Sequential::new().add(hidden).add(Relu::new()).add(out);
/// let x = Tensor::from_shape_vec(vec![3, 1], vec![0.0, 0.5, 1.0]).unwrap();
/// let report = born_dead_check(&mut model, x.view())?;
/// assert!(report.constant_output);
/// assert_eq!(report.units[0].fraction, 1.0);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn born_dead_check(model: &mut dyn Layer, inputs: TensorView<'_>) -> Result<BornDead> {
    let constant_output = output_is_constant(model.forward(inputs, Mode::Train)?);
    Ok(BornDead::observe(model, constant_output))
}

/// Whether every sample's output row equals the first row (to 1e-6 relative), the symptom of a
/// network whose every path from input to output goes through a dead unit. A batch of one
/// sample (or a 0-d output) is trivially constant.
pub fn output_is_constant(outputs: TensorView<'_>) -> bool {
    // A 0-d output is one value: constant. (`outer_iter` needs at least one axis.)
    if outputs.ndim() == 0 {
        return true;
    }
    let Some(first) = outputs.outer_iter().next() else {
        return true;
    };
    outputs.outer_iter().all(|row| {
        row.iter()
            .zip(first.iter())
            .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-30))
    })
}

/// The result of [`born_dead_check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BornDead {
    /// Silent units per activation layer, on that one batch, with their indices.
    pub units: Vec<LayerUnits>,
    /// Whether the output is the same for every input of the batch: the network is born dead.
    pub constant_output: bool,
}

impl BornDead {
    /// The report for `model`'s last training-mode pass, whose output was (or was not) constant.
    pub(super) fn observe(model: &dyn Layer, constant_output: bool) -> Self {
        let mut tracker = UnitTracker::default();
        tracker.observe(model);
        Self {
            units: tracker.units(true),
            constant_output,
        }
    }
}
