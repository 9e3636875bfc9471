//! The error function erf, for the exact GELU (Rust's standard library has none).
//!
//! Computed in f64 and used by f32 code, so an f64 accuracy of about 1e-15 is far more than
//! needed; the point is that exact GELU rounds the same way as PyTorch's float32 `erf`.
//!
//! ```text
//! |x| < 3:  erf(x)  = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1))     (all terms positive:
//!                                                                             no cancellation)
//! |x| ≥ 3:  erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))   (continued
//!                                                                             fraction), erf = 1 − erfc
//! ```

/// erf(x) in f64 (absolute error below 1e-15 over the whole line; NaN for NaN).
pub(crate) fn erf(x: f64) -> f64 {
    let a = x.abs();
    let magnitude = if a < 3.0 {
        series(a)
    } else {
        1.0 - erfc_continued_fraction(a)
    };
    magnitude.copysign(x)
}

fn series(a: f64) -> f64 {
    let mut term = a;
    let mut sum = a;
    let mut n = 0.0;
    // Terms grow while 2a² > 2n + 3, then shrink geometrically; stop when they no longer count.
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * a * a / (2.0 * n + 1.0);
        sum += term;
    }
    std::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp() * sum
}

fn erfc_continued_fraction(a: f64) -> f64 {
    if a.is_infinite() {
        return 0.0;
    }
    // Evaluate x + (k/2)/(x + ((k+1)/2)/(x + …)) from the inside out, 60 levels (converged
    // to f64 precision for x ≥ 3).
    let mut tail = a;
    for k in (1..=60).rev() {
        tail = a + (f64::from(k) / 2.0) / tail;
    }
    (-a * a).exp() / (std::f64::consts::PI.sqrt() * tail)
}

#[cfg(test)]
mod tests {
    use super::erf;

    #[test]
    fn matches_reference_values() {
        // Reference values from Python's math.erf (correctly rounded libm).
        let cases = [
            (0.0, 0.0),
            (1e-8, 1.1283791670955126e-08),
            (0.5, 0.5204998778130465),
            (1.0, 0.8427007929497149),
            (2.0, 0.9953222650189527),
            (2.9, 0.9999589021219005),
            (3.0, 0.9999779095030014),
            (3.5, 0.9999992569016276),
            (5.0, 0.9999999999984626),
            (30.0, 1.0),
        ];
        for (x, expected) in cases {
            assert!(
                (erf(x) - expected).abs() < 1e-14,
                "erf({x}) = {}, expected {expected}",
                erf(x)
            );
            assert!((erf(-x) + expected).abs() < 1e-14);
        }
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }
}
