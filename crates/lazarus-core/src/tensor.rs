//! The tensor type at layer boundaries, and the buffer helpers layers use to avoid allocating.
//!
//! Why `ndarray::ArrayD<f32>`: one type carries 2-D `[batch, features]` data through an MLP and
//! 4-D `[batch, channels, height, width]` data through a small CNN, so the [`Layer`](crate::Layer)
//! trait needs no generic parameter and stays object-safe (`Box<dyn Layer>` in a `Sequential`).
//! Inside, a layer takes a fixed-rank view (`into_dimensionality::<Ix2>()`) and reports a failure
//! as [`Error::ShapeMismatch`]. `f32` because that is what PyTorch uses by default, so results
//! can be compared with it number for number.

use ndarray::{Array, ArrayD, ArrayView2, ArrayViewD, ArrayViewMutD, Dimension, Ix2};

use crate::{Error, Result};

/// An owned n-dimensional array of `f32`: inputs, outputs, parameters and gradients.
pub type Tensor = ArrayD<f32>;

/// A borrowed, read-only view of a [`Tensor`] (what layers take and return).
pub type TensorView<'a> = ArrayViewD<'a, f32>;

/// A borrowed, mutable view of a [`Tensor`].
pub type TensorViewMut<'a> = ArrayViewMutD<'a, f32>;

/// The number of elements of an array of `shape` whose elements take `element_size` bytes,
/// or `None` when ndarray could not build it.
///
/// ndarray requires the product of the *non-zero* axes, in bytes, to fit in `isize`, even when
/// another axis is 0 (then the count is 0): `[0, usize::MAX]` is refused. Check a size that
/// comes from a user or a file header with this before allocating.
///
/// ```
/// use lazarus_core::element_count;
/// assert_eq!(element_count(&[2, 3], 4), Some(6));
/// assert_eq!(element_count(&[0, 3], 4), Some(0));
/// assert_eq!(element_count(&[0, usize::MAX], 1), None);
/// ```
pub fn element_count(shape: &[usize], element_size: usize) -> Option<usize> {
    let nonzero = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d.max(1)))?;
    let bytes = nonzero.checked_mul(element_size.max(1))?;
    isize::try_from(bytes).ok()?;
    Some(if shape.contains(&0) { 0 } else { nonzero })
}

/// An array of `shape` filled with zeros (`A::default()`), or an error when it cannot exist.
///
/// Use it where a number the user chose (a class count, a layer width) sets a size: a
/// nonsense value then returns [`Error::InvalidConfig`] naming `owner` and `parameter`
/// instead of panicking on an overflowing shape or aborting the process on a refused
/// allocation.
///
/// # Errors
/// [`Error::InvalidConfig`] when the element count or byte count overflows, or the memory
/// cannot be reserved.
///
/// ```
/// use lazarus_core::try_zeros;
/// let ok = try_zeros::<f32>("one_hot", "num_classes", &[2, 3]).unwrap();
/// assert_eq!(ok.shape(), &[2, 3]);
/// assert!(try_zeros::<f32>("one_hot", "num_classes", &[0, usize::MAX]).is_err());
/// assert!(try_zeros::<f32>("one_hot", "num_classes", &[1 << 40, 1 << 40]).is_err());
/// ```
pub fn try_zeros<A: Clone + Default>(
    owner: &str,
    parameter: &str,
    shape: &[usize],
) -> Result<ArrayD<A>> {
    let too_large = |why: &str| Error::InvalidConfig {
        layer: owner.to_string(),
        parameter: parameter.to_string(),
        reason: format!("a {shape:?} array {why}"),
    };
    let count = element_count(shape, std::mem::size_of::<A>())
        .ok_or_else(|| too_large("has more elements than memory can address"))?;
    let mut values = Vec::new();
    values
        .try_reserve_exact(count)
        .map_err(|_| too_large("does not fit in memory"))?;
    values.resize(count, A::default());
    ArrayD::from_shape_vec(shape.to_vec(), values)
        .map_err(|e| too_large(&format!("cannot be built: {e}")))
}

/// View `x` as a matrix `[batch, features]` with exactly `features` columns (any count when
/// `features` is `None`).
///
/// # Errors
/// [`Error::ShapeMismatch`] naming `layer` when `x` is not 2-D or has the wrong width.
///
/// ```
/// use lazarus_core::{as_matrix, Tensor};
/// let x = Tensor::zeros(vec![32, 784]);
/// assert_eq!(as_matrix(x.view(), "linear", Some(784)).unwrap().dim(), (32, 784));
/// let err = as_matrix(x.view(), "linear", Some(10)).unwrap_err();
/// assert_eq!(err.to_string(), "linear: expected [batch, 10], found shape [32, 784]");
/// ```
pub fn as_matrix<'a>(
    x: TensorView<'a>,
    layer: &str,
    features: Option<usize>,
) -> Result<ArrayView2<'a, f32>> {
    let mismatch = |found: &[usize]| Error::ShapeMismatch {
        layer: layer.to_string(),
        expected: match features {
            Some(n) => format!("[batch, {n}]"),
            None => "a 2-D [batch, features] tensor".to_string(),
        },
        found: found.to_vec(),
    };
    let shape = x.shape().to_vec();
    let m = x
        .into_dimensionality::<Ix2>()
        .map_err(|_| mismatch(&shape))?;
    match features {
        Some(n) if m.ncols() != n => Err(mismatch(&shape)),
        _ => Ok(m),
    }
}

/// Give `buffer` the shape `shape`, reusing its allocation whenever it is large enough.
///
/// Layers own their output and gradient buffers and call this once per batch: a training run
/// then allocates only on the first batch (and never again when the last, smaller batch of an
/// epoch shrinks the shape and the next epoch grows it back). The contents after a reshape are
/// unspecified: callers overwrite every element.
///
/// ```
/// use lazarus_core::{reuse_buffer, Tensor};
/// use ndarray::IxDyn;
/// let mut buf = Tensor::zeros(vec![128, 10]);
/// reuse_buffer(&mut buf, IxDyn(&[32, 10]));
/// assert_eq!(buf.shape(), &[32, 10]);
/// ```
pub fn reuse_buffer<D: Dimension>(buffer: &mut Array<f32, D>, shape: D) {
    if buffer.raw_dim() == shape {
        return;
    }
    let len = shape.size();
    let old = std::mem::replace(buffer, Array::zeros(D::zeros(shape.ndim())));
    let (mut data, _) = old.into_raw_vec_and_offset();
    data.resize(len, 0.0);
    *buffer =
        Array::from_shape_vec(shape, data).expect("the vector was resized to the shape's size");
}

/// Fail with [`Error::NonFinite`] if any element of `x` is NaN or infinite.
///
/// # Errors
/// [`Error::NonFinite`] naming `layer` and `what`.
pub fn check_finite(x: TensorView<'_>, layer: &str, what: &str) -> Result<()> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite {
            layer: layer.to_string(),
            what: what.to_string(),
        })
    }
}

/// Fail with [`Error::ShapeMismatch`] unless `found` equals `expected`.
///
/// # Errors
/// [`Error::ShapeMismatch`] naming `layer`, with `expected` printed as a shape.
pub fn expect_shape(layer: &str, expected: &[usize], found: &[usize]) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            layer: layer.to_string(),
            expected: format!("shape {expected:?}"),
            found: found.to_vec(),
        })
    }
}
