//! Numbers in messages: an error that prints `1e300` as a 301-digit number is not readable.

use std::fmt;

/// A number for an error message: plain (`0.1`, `300`) in the usual range, scientific
/// (`1e300`, `1e-50`) outside it, so a message never holds a 301-digit number. Works for `f32`
/// and `f64`, each printed in its own shortest form (an `f32` is not widened first, which
/// would print `0.1f32` as `0.10000000149011612`).
///
/// ```
/// use lazarus_core::Num;
/// assert_eq!(Num(0.1f32).to_string(), "0.1");
/// assert_eq!(Num(1e300).to_string(), "1e300");
/// assert_eq!(Num(f32::MAX).to_string(), "3.4028235e38");
/// assert_eq!(Num(-2.5e-9).to_string(), "-2.5e-9");
/// assert_eq!(Num(f64::NAN).to_string(), "NaN");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num<T>(pub T);

impl<T> fmt::Display for Num<T>
where
    T: Copy + Into<f64> + fmt::Display + fmt::LowerExp,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x: f64 = self.0.into();
        if x != 0.0 && x.is_finite() && !(1e-5..1e16).contains(&x.abs()) {
            write!(f, "{:e}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}
