//! `exp` and `expm1` for f32 written so that a loop over a slice vectorizes.
//!
//! Why not `f32::exp_m1`: it is a call into the C math library, one element at a time, and a
//! loop that calls it cannot use SIMD. ELU, SELU and CELU need `expm1` for every negative input,
//! so with libm they run several times slower than ReLU; with these they stay memory-bound.
//!
//! The method (Cody–Waite range reduction and a Taylor polynomial):
//!
//! ```text
//! x = n·ln2 + r,   n = round(x / ln2),   |r| ≤ ln2/2 ≈ 0.347
//! eʳ − 1 ≈ r + r²/2! + r³/3! + … + r⁷/7!        (truncation < 1.5e-8 · |r| on |r| ≤ 0.347)
//! eˣ − 1 = 2ⁿ·(eʳ − 1) + (2ⁿ − 1)
//! eˣ     = 2ⁿ·(eʳ − 1) + 2ⁿ
//! ```
//!
//! Every step is plain arithmetic, comparisons and integer bit operations; nothing branches and
//! nothing calls libm, so LLVM turns a loop over these into SIMD code:
//!
//! * `round` is done with the "magic number" trick: adding 1.5·2²³ pushes the fraction bits out
//!   of an f32, so `(t + M) − M` is `t` rounded to the nearest integer, and the low bits of
//!   `t + M` hold that integer (`f32::round` would be a libm call unless SSE4.1 is enabled at
//!   compile time).
//! * 2ⁿ is built directly in the exponent bits. It is built as 2ⁿ⁻¹ and doubled at the end, so
//!   that n = 128 (x just below the overflow point 88.72) still has a representable scale.
//! * `mul_add` is not used: without FMA at compile time it is a libm call, and it would make the
//!   SIMD and the portable paths round differently.
//!
//! Accuracy, measured against f64 over every f32 in the ranges below (tests in this file):
//!
//! * `expm1`: relative error ≤ 2.5e-7 (about 2 ulp) for all finite x ≤ 88.72, including
//!   subnormal and tiny x, where `expm1(x) = x` keeps full relative accuracy (that is what
//!   `expm1` is for), and `expm1(0) = 0` exactly. Below x = −17.4 the result is exactly −1, as the
//!   correctly rounded value is. Above 88.72: +∞. NaN gives NaN.
//! * `exp`: relative error ≤ 2.5e-7 for −86.5 ≤ x ≤ 88.72; for x < −86.5 it returns 0 (the true
//!   value is below 2.7e-38, so the absolute error is below that). Above 88.72: +∞. NaN gives NaN.

/// 1.5 · 2²³: adding it rounds an f32 of magnitude < 2²² to an integer (round half to even).
const ROUND_MAGIC: f32 = 12_582_912.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two (Cody–Waite): `LN2_HI` has trailing zero bits, so `n · LN2_HI` is exact for
/// |n| ≤ 2¹¹ and the reduction `x − n·ln2` loses no accuracy.
const LN2_HI: f32 = f32::from_bits(0x3f31_7200); // 0.693145751953125 exactly
const LN2_LO: f32 = f32::from_bits(0x35bfbe8e); // ln 2 − LN2_HI ≈ 1.428606765330187e-06
/// Inputs are clamped to this range before reduction, so that n − 1 + 127 stays a valid biased
/// exponent (1..=254). Outside it the result is already −1 (expm1), 0 (exp) or +∞.
const X_MIN: f32 = -86.5;
const X_MAX: f32 = 88.8;

/// Range reduction: returns (n, 2ⁿ⁻¹, eʳ − 1) with x = n·ln2 + r.
#[inline(always)]
fn reduce(x: f32) -> (f32, f32, f32) {
    // Comparisons written so that NaN falls through unchanged (NaN < a is false).
    let x = if x < X_MIN { X_MIN } else { x };
    let x = if x > X_MAX { X_MAX } else { x };
    let t = x * LOG2_E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    // The low bits of t's representation hold n (two's complement, offset by the magic number's
    // own mantissa bits, which the shift pushes out); n − 1 + 127 = n + 126 is the biased exponent.
    let half_scale = f32::from_bits(t.to_bits().wrapping_add(126) << 23);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // eʳ − 1 by Horner's rule on the Taylor series up to r⁷/7!.
    let p = 1.0 / 5040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let em1_r = r + (r * r) * p;
    (n, half_scale, em1_r)
}

/// eˣ − 1 without cancellation near 0, vectorizable. See the module docs for the error bound.
#[inline(always)]
pub(crate) fn expm1(x: f32) -> f32 {
    let (n, half_scale, em1_r) = reduce(x);
    // 2ⁿ(eʳ − 1) + (2ⁿ − 1), computed as 2·(2ⁿ⁻¹(eʳ − 1) + (2ⁿ⁻¹ − ½)).
    let half = half_scale * em1_r + (half_scale - 0.5);
    let result = half + half;
    // For n = 0 (|x| < 0.347) the answer is the polynomial itself: no halving that would drop
    // the last bit of a subnormal x, full relative accuracy for tiny x. x = ±0 returns x (keeps
    // the sign of −0, as libm does).
    let result = if n == 0.0 { em1_r } else { result };
    if x == 0.0 { x } else { result }
}

/// eˣ, vectorizable. See the module docs for the error bound.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let (_, half_scale, em1_r) = reduce(x);
    let half = half_scale * em1_r + half_scale;
    let result = half + half;
    if x < X_MIN { 0.0 } else { result }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error of `approx` against the f64 reference, measured in units of the f32
    /// result's magnitude.
    fn rel_err(approx: f32, exact: f64) -> f64 {
        if exact == 0.0 {
            f64::from(approx).abs()
        } else {
            ((f64::from(approx) - exact) / exact).abs()
        }
    }

    /// Every `stride`-th f32 between `lo` and `hi` (by bit pattern, so all magnitudes are hit).
    fn sweep(lo: f32, hi: f32, stride: u32) -> impl Iterator<Item = f32> {
        // Walk negative and positive halves separately in bit space.
        let neg = (0..=lo.max(f32::MIN).to_bits().saturating_sub(0x8000_0000))
            .step_by(stride as usize)
            .map(|b| f32::from_bits(0x8000_0000 | b))
            .filter(move |v| *v >= lo && *v <= hi);
        let pos = (0..=hi.max(0.0).to_bits())
            .step_by(stride as usize)
            .map(f32::from_bits)
            .filter(move |v| *v >= lo && *v <= hi);
        neg.chain(pos)
    }

    /// The largest relative error of `f` against the f64 `reference` over a sweep of [lo, hi].
    fn worst(f: fn(f32) -> f32, reference: fn(f64) -> f64, lo: f32, hi: f32) -> (f64, f32) {
        sweep(lo, hi, 97)
            .map(|x| (rel_err(f(x), reference(f64::from(x))), x))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
    }

    #[test]
    fn expm1_is_within_2_5e_7_relative_of_f64_over_the_whole_range() {
        let (error, at) = worst(expm1, f64::exp_m1, -100.0, 88.72);
        assert!(
            error <= 2.5e-7,
            "worst relative error {error:e} at x = {at}"
        );
    }

    #[test]
    fn exp_is_within_2_5e_7_relative_of_f64_where_it_is_normal() {
        let (error, at) = worst(exp, f64::exp, -86.5, 88.72);
        assert!(
            error <= 2.5e-7,
            "worst relative error {error:e} at x = {at}"
        );
    }

    #[test]
    fn agrees_with_libm_at_landmarks() {
        for x in [
            -100.0f32, -88.0, -30.0, -17.5, -10.0, -1.0, -0.5, -0.3466, -1e-3, 1e-3, 0.3466, 0.5,
            1.0, 10.0, 30.0, 88.0,
        ] {
            let (m, l) = (expm1(x), x.exp_m1());
            assert!(
                (m - l).abs() <= 3e-7 * l.abs(),
                "expm1({x}) = {m}, libm {l}"
            );
            if x >= X_MIN {
                let (e, l) = (exp(x), x.exp());
                assert!((e - l).abs() <= 3e-7 * l, "exp({x}) = {e}, libm {l}");
            }
        }
    }

    #[test]
    fn exact_values_and_edges() {
        assert_eq!(expm1(0.0), 0.0);
        assert!(expm1(-0.0).is_sign_negative());
        assert_eq!(exp(0.0), 1.0);
        // Tiny inputs: expm1(x) = x to the last bit, relative accuracy is kept.
        for x in [
            1e-30f32,
            -1e-30,
            1e-10,
            -1e-10,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
        ] {
            assert_eq!(expm1(x), x, "expm1({x})");
        }
        assert_eq!(expm1(-100.0), -1.0);
        assert_eq!(expm1(-17.5), -1.0);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(expm1(100.0), f32::INFINITY);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert!(expm1(88.72).is_finite() && exp(88.72).is_finite());
        assert_eq!(expm1(89.0), f32::INFINITY);
        assert_eq!(expm1(f32::NEG_INFINITY), -1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(expm1(f32::NAN).is_nan() && exp(f32::NAN).is_nan());
    }
}
