//! Per-unit statistics of one activation pass: the raw material of dead-unit diagnostics.

use ndarray::Axis;

use crate::{TensorView, sum_f64};

/// An activation's *silent region* (the inputs where it does not fire) and what gradient still
/// flows there: what [`ActivationStats`] counts per unit.
///
/// ```
/// use lazarus_core::SilentRegion;
/// // ReLU: silent for x ≤ 0, where its derivative is exactly 0.
/// let relu = SilentRegion { contains: |x: f32| x <= 0.0, derivative_zero: true };
/// // LeakyReLU(0.01): silent for x ≤ 0 too, but the derivative there is 0.01.
/// let leaky = SilentRegion { contains: |x: f32| x <= 0.0, derivative_zero: false };
/// assert!((relu.contains)(-1.0) && (leaky.contains)(-1.0));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SilentRegion<R> {
    /// Whether a kept value (the input x, or the output y where the layer keeps y) is silent.
    pub contains: R,
    /// Whether the derivative dy/dx is exactly 0 on every silent input (ReLU, `LeakyRelu::new(0.0)`),
    /// not merely small (a leak). The same for every unit; [`ActivationStats::silent_derivative_zero`]
    /// can then be refined per unit (PReLU's per-channel slopes).
    pub derivative_zero: bool,
}

impl<R> SilentRegion<R> {
    /// A silent region where the derivative is exactly 0 (ReLU's x ≤ 0).
    pub fn zero_derivative(contains: R) -> Self {
        Self {
            contains,
            derivative_zero: true,
        }
    }
}

/// What an activation layer saw in its last training-mode or probe forward, per unit.
///
/// A *unit* is a feature of a `[batch, features]` input or a channel of a
/// `[batch, channels, h, w]` input (axis 1, as PyTorch's PReLU counts channels). Each unit saw
/// `samples_per_unit` inputs (batch × spatial positions).
///
/// # Silent, dead, inactive: the one definition
///
/// * An input is **silent** when it falls in the activation's silent region ([`SilentRegion`]):
///   x ≤ 0 for the ReLU family, x ≤ 0 or x ≥ 6 for ReLU6, outside `(min, max)` for Hardtanh,
///   x ≤ −3 for Hardswish, |x| ≥ 3 for Hardsigmoid. Smooth activations (Tanh, Sigmoid, GELU,
///   SiLU, Mish, Softplus, Softsign, LogSigmoid) have no silent region: `silent_counts` is `None`
///   and their units are never silent.
/// * A unit silent on every input of a pass is **dead** when no gradient reaches anything that
///   could revive it: the derivative with respect to its input is exactly zero there
///   (`silent_derivative_zero[u]`), *and* the layer has no own parameter that still learns from
///   silent inputs (`!silent_params_learn`). ReLU, ReLU6, Hardtanh, `LeakyRelu::new(0.0)` (a
///   ReLU), ELU with alpha = 0: dead.
/// * Otherwise it is **inactive**: silent, yet gradient still flows and it can come back.
///   LeakyReLU with a slope ≠ 0, ELU, SELU, RReLU: the leak carries gradient to the weights
///   before it. PReLU, even a channel whose slope is exactly 0: its slope still receives
///   dL/dα = Σ x·g over the silent inputs and can move away from 0, which is PReLU's whole point.
///
/// Decided by the gradient, not by the activation's type: [`ActivationStats::silent_unit_can_die`].
///
/// # Fields
///
/// * `output_mean`, `output_std`, `output_max_abs`: over the whole output, to watch unbounded
///   growth.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationStats {
    /// Number of units (size of axis 1, or 1 for a 1-D input).
    pub units: usize,
    /// Inputs each unit saw in the pass.
    pub samples_per_unit: usize,
    /// Per unit: inputs in the silent region; `None` when the activation has none (smooth).
    pub silent_counts: Option<Vec<usize>>,
    /// Per unit: whether the derivative with respect to the input is exactly zero on silent
    /// inputs. Empty when `silent_counts` is `None`.
    pub silent_derivative_zero: Vec<bool>,
    /// Whether the layer has own parameters that still receive gradient from silent inputs
    /// (PReLU's slope: dL/dα = Σ x·g over x ≤ 0), so that a silent unit can come back.
    pub silent_params_learn: bool,
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
    /// `silent` is the activation's silent region, tested on x; `None` for a smooth activation.
    /// No own parameter is assumed to learn from silent inputs (a layer with one sets
    /// [`silent_params_learn`](ActivationStats::silent_params_learn) afterwards).
    ///
    /// ```
    /// use lazarus_core::{ActivationStats, SilentRegion};
    /// use ndarray::array;
    /// let x = array![[-1.0f32, 2.0], [-3.0, -4.0]].into_dyn();
    /// let y = x.mapv(|v| v.max(0.0));
    /// let non_positive = |v: f32| v <= 0.0;
    /// let relu = SilentRegion { contains: &non_positive as &dyn Fn(f32) -> bool, derivative_zero: true };
    /// let s = ActivationStats::from_pass(x.view(), y.view(), Some(relu));
    /// assert_eq!(s.silent_counts, Some(vec![2, 1])); // unit 0 is silent on the whole batch...
    /// assert!(s.silent_unit_can_die(0)); // ...and, for a ReLU, dead
    /// assert_eq!(s.output_max_abs, 2.0);
    /// ```
    pub fn from_pass(
        x: TensorView<'_>,
        y: TensorView<'_>,
        silent: Option<SilentRegion<&dyn Fn(f32) -> bool>>,
    ) -> Self {
        let (units, samples_per_unit) = unit_layout(&x);
        let moments = Moments::of(&y, |v| v);
        Self::with_counts(units, samples_per_unit, moments, silent, |r| {
            count_per_unit(&x, units, r)
        })
    }

    /// The same statistics from the one tensor an activation kept for backward, `saved` (its
    /// input or its output), with `output_of` giving the output from a saved value (`|y| y`
    /// when the output was kept) and `silent` testing a saved value. Nothing is allocated
    /// but the per-unit vectors, so diagnostics can call it every batch.
    ///
    /// ```
    /// use lazarus_core::{ActivationStats, SilentRegion};
    /// use ndarray::array;
    /// let x = array![[-1.0f32, 2.0], [-3.0, -4.0]].into_dyn();
    /// let leaky = |v: f32| if v > 0.0 { v } else { 0.01 * v };
    /// let region = SilentRegion { contains: |v: f32| v <= 0.0, derivative_zero: false };
    /// let s = ActivationStats::from_saved(x.view(), leaky, Some(region));
    /// assert_eq!(s.silent_counts, Some(vec![2, 1]));
    /// assert!(!s.silent_unit_can_die(0)); // the leak still carries gradient: inactive
    /// assert_eq!(s.output_max_abs, 2.0);
    /// ```
    pub fn from_saved<R: Fn(f32) -> bool>(
        saved: TensorView<'_>,
        output_of: impl Fn(f32) -> f32 + Sync,
        silent: Option<SilentRegion<R>>,
    ) -> Self {
        let (units, samples_per_unit) = unit_layout(&saved);
        let moments = Moments::of(&saved, output_of);
        Self::with_counts(units, samples_per_unit, moments, silent, |r| {
            count_per_unit(&saved, units, r)
        })
    }

    fn with_counts<R>(
        units: usize,
        samples_per_unit: usize,
        moments: Moments,
        silent: Option<SilentRegion<R>>,
        count: impl FnOnce(&R) -> Vec<usize>,
    ) -> Self {
        let (silent_counts, silent_derivative_zero) = match silent {
            Some(region) => (
                Some(count(&region.contains)),
                vec![region.derivative_zero; units],
            ),
            None => (None, Vec::new()),
        };
        Self {
            units,
            samples_per_unit,
            silent_counts,
            silent_derivative_zero,
            silent_params_learn: false,
            output_mean: moments.mean,
            output_std: moments.std,
            output_max_abs: moments.max_abs,
        }
    }

    /// Whether unit `u`, if silent on every input, is *dead* rather than *inactive* (see the
    /// definition above): the activation has a silent region, the derivative is exactly zero
    /// there for this unit, and no own parameter learns from silent inputs. False for a unit
    /// out of range.
    pub fn silent_unit_can_die(&self, u: usize) -> bool {
        self.silent_counts.is_some()
            && self.silent_derivative_zero.get(u).copied().unwrap_or(false)
            && !self.silent_params_learn
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
