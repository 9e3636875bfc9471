//! `ActivationStats`' per-unit counts take fast paths over contiguous `[batch, features]` and
//! `[batch, channels, h, w]` tensors; they must count exactly what a plain walk over every
//! element counts, and give the same moments, whatever the memory layout.

use lazarus_core::{ActivationStats, SilentRegion, Tensor};
use ndarray::{Axis, IxDyn, ShapeBuilder};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Per unit (axis 1, or one unit for a 1-D tensor): how many values satisfy `region`.
fn plain_counts(x: &Tensor, region: impl Fn(f32) -> bool) -> Vec<usize> {
    let units = if x.ndim() >= 2 { x.len_of(Axis(1)) } else { 1 };
    let mut counts = vec![0; units];
    for (index, &v) in x.indexed_iter() {
        let unit = if x.ndim() >= 2 { index[1] } else { 0 };
        counts[unit] += usize::from(region(v));
    }
    counts
}

#[test]
fn counts_and_moments_match_a_plain_walk_in_every_layout() {
    let mut rng = StdRng::seed_from_u64(0);
    let shapes: [&[usize]; 7] = [
        &[7],
        &[1, 1],
        &[5, 3],
        &[33, 17],
        &[4, 3, 2, 5],
        &[2, 6, 1, 1],
        &[0, 4],
    ];
    for shape in shapes {
        // Zeros on purpose: x ≤ 0 counts them, x < 0 does not.
        let x = Tensor::from_shape_fn(IxDyn(shape), |_| match rng.random_range(0..4) {
            0 => 0.0,
            _ => rng.random_range(-2.0f32..2.0),
        });
        let y = x.mapv(|v| v.max(0.0));
        let dead: fn(f32) -> bool = |v| v <= 0.0;
        let negative: fn(f32) -> bool = |v| v < 0.0;
        // Both kinds of region: the counts do not depend on what gradient flows there.
        for (test, derivative_zero) in [(dead, true), (negative, false)] {
            let region = SilentRegion {
                contains: &test as &dyn Fn(f32) -> bool,
                derivative_zero,
            };
            let fast = ActivationStats::from_pass(x.view(), y.view(), Some(region));
            assert_eq!(
                fast.silent_counts,
                Some(plain_counts(&x, test)),
                "{shape:?}"
            );
            assert_eq!(
                fast.silent_derivative_zero,
                vec![derivative_zero; fast.units],
                "{shape:?}"
            );
            // The same values stored column-major take the element-by-element path; their sums
            // run in another order, so the moments agree to rounding only.
            let mut xf = Tensor::zeros(IxDyn(shape).f());
            xf.assign(&x);
            let yf = xf.mapv(|v| v.max(0.0));
            let slow = ActivationStats::from_pass(xf.view(), yf.view(), Some(region));
            assert_eq!(slow.silent_counts, fast.silent_counts, "{shape:?}");
            assert_eq!(slow.output_max_abs, fast.output_max_abs, "{shape:?}");
            assert!(
                (slow.output_mean - fast.output_mean).abs() <= 1e-6,
                "{shape:?}"
            );
            assert!(
                (slow.output_std - fast.output_std).abs() <= 1e-6,
                "{shape:?}"
            );
            // From the one tensor a layer keeps (here the input), the same statistics.
            let kept = SilentRegion {
                contains: test,
                derivative_zero,
            };
            let saved = ActivationStats::from_saved(x.view(), |v| v.max(0.0), Some(kept));
            assert_eq!(saved, fast, "{shape:?}");
        }
    }
}
