//! `Size2d`: PyTorch's int-or-pair arguments (kernel size, stride, padding, dilation).

use std::fmt;

/// One size per spatial axis, `(height, width)`, like PyTorch's int-or-pair arguments:
/// `2.into()` is `2 × 2`, `(3, 2).into()` is 3 rows by 2 columns.
///
/// ```
/// use lazarus_core::Size2d;
/// assert_eq!(Size2d::from(2), Size2d { h: 2, w: 2 });
/// assert_eq!(Size2d::from((3, 2)).to_string(), "(3, 2)");
/// assert_eq!(Size2d::from(2).to_string(), "2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size2d {
    /// Along the height (rows).
    pub h: usize,
    /// Along the width (columns).
    pub w: usize,
}

impl From<usize> for Size2d {
    fn from(n: usize) -> Self {
        Self { h: n, w: n }
    }
}

impl From<(usize, usize)> for Size2d {
    fn from((h, w): (usize, usize)) -> Self {
        Self { h, w }
    }
}

impl From<[usize; 2]> for Size2d {
    fn from([h, w]: [usize; 2]) -> Self {
        Self { h, w }
    }
}

/// As PyTorch prints it: `2` when both are equal, else `(3, 2)`.
impl fmt::Display for Size2d {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.h == self.w {
            write!(f, "{}", self.h)
        } else {
            write!(f, "({}, {})", self.h, self.w)
        }
    }
}
