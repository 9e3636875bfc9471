//! Per-unit statistics of one activation pass: the raw material of dead-unit diagnostics.

use ndarray::Axis;

use crate::TensorView;

/// What an activation layer saw in its last training-mode forward, per unit.
///
/// A *unit* is a feature of a `[batch, features]` input or a channel of a
/// `[batch, channels, h, w]` input (axis 1, as PyTorch's PReLU counts channels). Each unit saw
/// `samples_per_unit` inputs (batch × spatial positions).
///
/// * `zero_grad_counts[u]`: inputs of unit `u` that fell where the derivative is exactly zero
///   (ReLU: x ≤ 0). A unit with `zero_grad_counts[u] == samples_per_unit` for every batch of an
///   epoch is *dead*: no gradient reaches its weights. `None` when the activation has no such
///   region (Tanh, GELU, ...).
/// * `negative_counts[u]`: for activations whose negative side only leaks (LeakyReLU, PReLU,
///   ELU, ...), inputs with x ≤ 0. Such a unit can be *inactive*, yet it still learns. `None` for
///   the others.
/// * `output_mean`, `output_std`, `output_max_abs`: over the whole output, to watch unbounded
///   growth.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationStats {
    /// Number of units (size of axis 1, or 1 for a 1-D input).
    pub units: usize,
    /// Inputs each unit saw in the pass.
    pub samples_per_unit: usize,
    /// Per unit: inputs in the zero-gradient region, if the activation has one.
    pub zero_grad_counts: Option<Vec<usize>>,
    /// Per unit: inputs on the leaky negative side, if the activation has one.
    pub negative_counts: Option<Vec<usize>>,
    /// Mean of all outputs.
    pub output_mean: f32,
    /// Population standard deviation of all outputs.
    pub output_std: f32,
    /// Largest absolute output.
    pub output_max_abs: f32,
}

impl ActivationStats {
    /// Compute the statistics of one pass from its input `x` and output `y` (same shape).
    ///
    /// `zero_grad_region` and `negative_region` say, for an input value, whether it falls in the
    /// dead or the leaky region; pass `None` for an activation without that region.
    ///
    /// ```
    /// use lazarus_core::{ActivationStats, Tensor};
    /// use ndarray::array;
    /// let x = array![[-1.0f32, 2.0], [-3.0, -4.0]].into_dyn();
    /// let y = x.mapv(|v| v.max(0.0));
    /// let s = ActivationStats::from_pass(x.view(), y.view(), Some(&|v| v <= 0.0), None);
    /// assert_eq!(s.zero_grad_counts, Some(vec![2, 1])); // unit 0 is dead in this batch
    /// assert_eq!(s.output_max_abs, 2.0);
    /// ```
    pub fn from_pass(
        x: TensorView<'_>,
        y: TensorView<'_>,
        zero_grad_region: Option<&dyn Fn(f32) -> bool>,
        negative_region: Option<&dyn Fn(f32) -> bool>,
    ) -> Self {
        let units = if x.ndim() >= 2 { x.len_of(Axis(1)) } else { 1 };
        let samples_per_unit = x.len().checked_div(units).unwrap_or(0);
        let count = |region: &dyn Fn(f32) -> bool| {
            let mut counts = vec![0usize; units];
            if x.ndim() >= 2 {
                for sample in x.axis_iter(Axis(0)) {
                    for (unit, values) in sample.axis_iter(Axis(0)).enumerate() {
                        counts[unit] += values.iter().filter(|&&v| region(v)).count();
                    }
                }
            } else {
                counts[0] = x.iter().filter(|&&v| region(v)).count();
            }
            counts
        };
        let n = y.len().max(1) as f64;
        let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = y
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        Self {
            units,
            samples_per_unit,
            zero_grad_counts: zero_grad_region.map(count),
            negative_counts: negative_region.map(count),
            output_mean: mean as f32,
            output_std: var.sqrt() as f32,
            output_max_abs: y.iter().fold(0.0f32, |m, v| m.max(v.abs())),
        }
    }
}
