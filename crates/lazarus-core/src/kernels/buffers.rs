//! Passes over whole buffers that layers hand to the kernels: copy, reshape-copy, zero, sum of
//! rows.
//!
//! Each is one line of ndarray in its plain form (`dst.assign(&src)`, `t.fill(0.0)`,
//! `acc += &g.sum_axis(Axis(0))`). Here a large contiguous buffer is cut into the pieces of
//! [`parallel_zip`] (the same row blocks the matrix products and the optimizer give each
//! thread, so a weight's rows stay in one core's cache), and the row sum adds contiguous rows
//! (which vectorizes) without allocating.

use ndarray::{Array2, ArrayView2};

use super::parallel_zip;
use crate::{Tensor, TensorView, reuse_buffer};

/// `dst ← src`, giving `dst` the shape of `src` (reusing its allocation).
pub(crate) fn copy_into(dst: &mut Array2<f32>, src: ArrayView2<'_, f32>) {
    reuse_buffer(dst, src.raw_dim());
    match (dst.as_slice_mut(), src.as_slice()) {
        (Some(dst), Some(src)) => parallel_zip([dst], [src], &|[d], [s]| d.copy_from_slice(s)),
        _ => dst.assign(&src),
    }
}

/// `dst ← src` element by element in logical (row-major) order, whatever the two shapes (of
/// equal size): a reshape that copies, as `Flatten` does. One parallel memcpy when `src` is
/// contiguous; ndarray's element iterator (slow over n dimensions) only for other layouts.
pub(crate) fn copy_in_order(dst: &mut Tensor, src: &TensorView<'_>) {
    debug_assert_eq!(dst.len(), src.len());
    match (dst.as_slice_mut(), src.as_slice()) {
        (Some(dst), Some(src)) => parallel_zip([dst], [src], &|[d], [s]| d.copy_from_slice(s)),
        _ => dst.iter_mut().zip(src.iter()).for_each(|(d, &s)| *d = s),
    }
}

/// Every element of `t` set to 0.
pub(crate) fn fill_zero(t: &mut Tensor) {
    match t.as_slice_mut() {
        Some(values) => parallel_zip([values], [], &|[v], []| v.fill(0.0)),
        None => t.fill(0.0),
    }
}

/// `acc += Σᵢ g[i, ..]`: the rows of `g` added into `acc` (a vector of `g`'s width) one at a
/// time, in row order.
///
/// Panics if `acc` is not a vector of `g`'s width (callers check the shapes).
pub(crate) fn add_row_sums(acc: &mut Tensor, g: ArrayView2<'_, f32>) {
    for row in g.rows() {
        match (acc.as_slice_mut(), row.as_slice()) {
            (Some(acc), Some(row)) => acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v),
            _ => acc.zip_mut_with(&row.into_dyn(), |a, &v| *a += v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set_num_threads;
    use ndarray::{Array1, Axis, s};

    #[test]
    fn match_their_plain_forms_on_contiguous_and_strided_buffers() {
        for threads in [1, 2] {
            set_num_threads(threads);
            for (rows, cols) in [(0, 3), (1, 1), (3, 5), (70, 300), (300, 257)] {
                let big =
                    Array2::from_shape_fn((rows, 2 * cols), |(i, j)| (i * 31 + j) as f32 - 7.5);
                // Flatten's copy, in logical order into another shape: contiguous and strided.
                for src in [
                    big.view(),
                    big.slice(s![.., ..cols]),
                    big.slice(s![.., ..;2]),
                ] {
                    let mut flat = Tensor::zeros(vec![src.len()]);
                    copy_in_order(&mut flat, &src.into_dyn());
                    assert!(flat.iter().eq(src.iter()));
                }
                for src in [big.slice(s![.., ..cols]), big.slice(s![.., ..;2])] {
                    let mut dst = Array2::from_elem((1, 1), 9.0);
                    copy_into(&mut dst, src);
                    assert_eq!(dst, src);
                    // Rows added in order from 0: exactly what a plain loop gives.
                    let mut acc = Tensor::from_elem(vec![cols], 0.5);
                    add_row_sums(&mut acc, src);
                    let mut plain = Array1::from_elem(cols, 0.5f32);
                    for row in src.axis_iter(Axis(0)) {
                        plain += &row;
                    }
                    assert_eq!(acc, plain.into_dyn());
                }
                let mut t = big.clone().into_dyn();
                fill_zero(&mut t);
                assert!(t.iter().all(|&v| v == 0.0));
                let mut strided = big.clone().reversed_axes().into_dyn();
                fill_zero(&mut strided);
                assert!(strided.iter().all(|&v| v == 0.0));
            }
        }
        set_num_threads(0);
    }
}
