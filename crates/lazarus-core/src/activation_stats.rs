//! Per-unit statistics of one activation pass: the raw material of dead-unit diagnostics.

use ndarray::Axis;

use crate::{TensorView, sum_f64};

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
        let (units, samples_per_unit) = unit_layout(&x);
        let moments = Moments::of(&y, |v| v);
        Self {
            units,
            samples_per_unit,
            zero_grad_counts: zero_grad_region.map(|r| count_per_unit(&x, units, r)),
            negative_counts: negative_region.map(|r| count_per_unit(&x, units, r)),
            output_mean: moments.mean,
            output_std: moments.std,
            output_max_abs: moments.max_abs,
        }
    }

    /// The same statistics from the one tensor an activation kept for backward, `saved` (its
    /// input or its output), with `output_of` giving the output from a saved value (`|y| y`
    /// when the output was kept) and `in_region` testing a saved value. Nothing is allocated
    /// but the count vectors, so diagnostics can call it every batch.
    ///
    /// ```
    /// use lazarus_core::ActivationStats;
    /// use ndarray::array;
    /// let x = array![[-1.0f32, 2.0], [-3.0, -4.0]].into_dyn();
    /// let leaky = |v: f32| if v > 0.0 { v } else { 0.01 * v };
    /// let s = ActivationStats::from_saved(x.view(), leaky, None, Some(|v: f32| v <= 0.0));
    /// assert_eq!(s.negative_counts, Some(vec![2, 1]));
    /// assert_eq!(s.output_max_abs, 2.0);
    /// ```
    pub fn from_saved<R: Fn(f32) -> bool>(
        saved: TensorView<'_>,
        output_of: impl Fn(f32) -> f32 + Sync,
        zero_grad_region: Option<R>,
        negative_region: Option<R>,
    ) -> Self {
        let (units, samples_per_unit) = unit_layout(&saved);
        let moments = Moments::of(&saved, output_of);
        Self {
            units,
            samples_per_unit,
            zero_grad_counts: zero_grad_region.map(|r| count_per_unit(&saved, units, &r)),
            negative_counts: negative_region.map(|r| count_per_unit(&saved, units, &r)),
            output_mean: moments.mean,
            output_std: moments.std,
            output_max_abs: moments.max_abs,
        }
    }
}

/// `(units, samples_per_unit)`: units along axis 1 (1 for a 1-D tensor).
fn unit_layout(x: &TensorView<'_>) -> (usize, usize) {
    let units = if x.ndim() >= 2 { x.len_of(Axis(1)) } else { 1 };
    (units, x.len().checked_div(units).unwrap_or(0))
}

/// Per unit (axis 1), how many values of `x` satisfy `region`.
fn count_per_unit<R: Fn(f32) -> bool + ?Sized>(
    x: &TensorView<'_>,
    units: usize,
    region: &R,
) -> Vec<usize> {
    let mut counts = vec![0usize; units];
    if x.is_empty() {
        return counts;
    }
    if x.ndim() < 2 {
        counts[0] = x.iter().filter(|&&v| region(v)).count();
        return counts;
    }
    // Positions per unit within one sample: 1 for [batch, features], h·w for images.
    let spatial = x.shape()[2..].iter().product::<usize>();
    match x.as_slice() {
        // [batch, features]: one row per sample, unit u at column u.
        Some(values) if spatial == 1 => {
            for row in values.chunks_exact(units) {
                for (count, &v) in counts.iter_mut().zip(row) {
                    *count += usize::from(region(v));
                }
            }
        }
        // [batch, channels, …]: each sample is `units` runs of `spatial` values.
        Some(values) => {
            for sample in values.chunks_exact(units * spatial) {
                for (count, plane) in counts.iter_mut().zip(sample.chunks_exact(spatial)) {
                    *count += plane.iter().filter(|&&v| region(v)).count();
                }
            }
        }
        None => {
            for sample in x.axis_iter(Axis(0)) {
                for (count, values) in counts.iter_mut().zip(sample.axis_iter(Axis(0))) {
                    *count += values.iter().filter(|&&v| region(v)).count();
                }
            }
        }
    }
    counts
}

/// Mean, population standard deviation and largest absolute value of `output_of(x)` over `x`.
struct Moments {
    mean: f32,
    std: f32,
    max_abs: f32,
}

impl Moments {
    fn of(x: &TensorView<'_>, output_of: impl Fn(f32) -> f32 + Sync) -> Self {
        let n = x.len().max(1) as f64;
        let mean = sum_f64(x, |v| f64::from(output_of(v))) / n;
        // Two passes (Σ(y − mean)² rather than Σy² − n·mean²): exact even when the spread is
        // tiny next to the mean.
        let var = sum_f64(x, |v| (f64::from(output_of(v)) - mean).powi(2)) / n;
        let max_abs = x.fold(0.0f32, |m, &v| m.max(output_of(v).abs()));
        Self {
            mean: mean as f32,
            std: var.sqrt() as f32,
            max_abs,
        }
    }
}
