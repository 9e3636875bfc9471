//! Tensors to and from the bytes of a safetensors file, and what a value must be to cross:
//! finite always, and a count a whole number in `0..=2²⁴`.
//!
//! Two dtypes, the ones PyTorch writes for the same state: `F32` for parameters, real-valued
//! buffers and optimizer state, `I64` for a count (BatchNorm's `num_batches_tracked`). A count
//! lives in memory as an f32 holding a whole number, exact up to 2²⁴; in the file it is an int64.

use std::path::Path;

use lazarus_core::{BufferKind, Tensor};
use safetensors::{Dtype, tensor::TensorView as StView};

use crate::{Error, Result};

/// The largest count an f32 holds exactly, 2²⁴ (16,777,216 batches).
const MAX_COUNT: i64 = 1 << 24;

/// The dtype a buffer of `kind` is stored as, PyTorch's: int64 for a count, float32 otherwise.
pub(super) fn dtype_of(kind: BufferKind) -> Dtype {
    match kind {
        BufferKind::Count => Dtype::I64,
        _ => Dtype::F32,
    }
}

/// The tensor stored in `view`, which must have dtype `expected`: F32 values as they are, an
/// I64 count as the f32 holding it (refused outside `0..=2²⁴`, where an f32 would round it).
/// The shape is the file's (the caller compares it with the model's).
pub(super) fn decode(view: &StView<'_>, expected: Dtype) -> std::result::Result<Tensor, String> {
    if view.dtype() != expected {
        let what = if expected == Dtype::I64 {
            " (a count, as PyTorch writes `num_batches_tracked`)"
        } else {
            ""
        };
        return Err(format!(
            "expected dtype {expected:?}{what}, found {:?}",
            view.dtype()
        ));
    }
    let values: Vec<f32> = if expected == Dtype::I64 {
        view.data()
            .chunks_exact(8)
            .map(|b| count_from_file(i64::from_le_bytes(b.try_into().expect("8 bytes"))))
            .collect::<std::result::Result<_, _>>()?
    } else {
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect()
    };
    Tensor::from_shape_vec(view.shape().to_vec(), values).map_err(|e| e.to_string())
}

/// A count read from the file as the f32 that holds it exactly.
fn count_from_file(n: i64) -> std::result::Result<f32, String> {
    if (0..=MAX_COUNT).contains(&n) {
        Ok(n as f32)
    } else {
        Err(count_range(n))
    }
}

/// A count (an f32 in memory) as the int64 the file stores: it must be a whole number in
/// `0..=2²⁴`, so that it reads back as the same f32.
fn count_to_file(v: f32) -> std::result::Result<i64, String> {
    let n = v as i64;
    if n as f32 == v && (0..=MAX_COUNT).contains(&n) {
        Ok(n)
    } else {
        Err(count_range(v))
    }
}

fn count_range(found: impl std::fmt::Display) -> String {
    format!("a count must be a whole number in 0..={MAX_COUNT} (exact in an f32), found {found}")
}

/// The little-endian bytes of `t` stored as `dtype` (a count checked by [`count_to_file`]).
pub(super) fn to_bytes(t: &Tensor, dtype: Dtype) -> std::result::Result<Vec<u8>, String> {
    if dtype == Dtype::I64 {
        let mut out = Vec::with_capacity(8 * t.len());
        for &v in t {
            out.extend(count_to_file(v)?.to_le_bytes());
        }
        Ok(out)
    } else {
        Ok(t.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

/// [`Error::NonFiniteTensor`] for the first NaN or infinity in `tensor` (named `name` in the
/// file at `path`), refusing to `action` it.
pub(super) fn refuse_non_finite(
    path: &Path,
    name: &str,
    tensor: &Tensor,
    action: &'static str,
) -> Result<()> {
    match tensor.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(Error::NonFiniteTensor {
            path: path.to_path_buf(),
            tensor: name.to_string(),
            index,
            value,
            action,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cross_exactly_or_not_at_all() {
        for v in [0.0, 1.0, 16_777_216.0] {
            assert_eq!(count_from_file(count_to_file(v).unwrap()).unwrap(), v);
        }
        for v in [-1.0, 0.5, 16_777_218.0, f32::NAN, f32::INFINITY] {
            assert!(count_to_file(v).is_err(), "{v}");
        }
        for n in [-1, MAX_COUNT + 1, i64::MAX, i64::MIN] {
            assert!(count_from_file(n).is_err(), "{n}");
        }
    }
}
