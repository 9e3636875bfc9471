//! Kernels of the training crate: how the data pipeline runs fast, apart from what it does.
//!
//! The loader (`data/loader.rs`) says what a shuffled batch is: row `i` of the batch is sample
//! `order[i]` of the data set. [`gather_rows`] makes that copy fast: into a buffer reused from
//! batch to batch, one `copy_from_slice` per run of a sample, and for large batches in parallel
//! pieces on lazarus' thread pool (`lazarus_core::parallel_zip`; each element is copied by one
//! piece, so the batch is the same for every thread count). The test below compares it with
//! the plain gather, ndarray's `select`, on random shapes and thread counts.

use lazarus_core::{Tensor, reuse_buffer};

/// Copy the samples `indices` of `src` (first axis = sample, standard layout) into `dst`,
/// reshaped to `[indices.len(), ...]` without reallocating once it is large enough.
pub(crate) fn gather_rows(src: &Tensor, indices: &[usize], dst: &mut Tensor) {
    // `raw_dim` of a tensor of rank ≤ 4 is stored inline: no allocation per batch.
    let mut shape = src.raw_dim();
    shape[0] = indices.len();
    reuse_buffer(dst, shape);
    let row = src.shape()[1..].iter().product::<usize>();
    if row == 0 {
        return;
    }
    let src = src
        .as_slice()
        .expect("Dataset keeps its tensors in standard layout");
    let dst = dst
        .as_slice_mut()
        .expect("reuse_buffer builds standard-layout tensors");
    let base = dst.as_ptr() as usize;
    // Large batches are copied in parallel pieces (contiguous ranges of the batch buffer, which
    // may start and end inside a sample).
    lazarus_core::parallel_zip([dst], [], &|[piece], []| {
        let offset = (piece.as_ptr() as usize - base) / std::mem::size_of::<f32>();
        copy_range(src, indices, row, offset, piece);
    });
}

/// Fill `out`, the elements `[offset, offset + out.len())` of the gathered batch, from `src`.
fn copy_range(src: &[f32], indices: &[usize], row: usize, offset: usize, out: &mut [f32]) {
    let (mut at, mut done) = (offset, 0);
    while done < out.len() {
        let (sample, within) = (at / row, at % row);
        let n = (row - within).min(out.len() - done);
        let start = indices[sample] * row + within;
        out[done..done + n].copy_from_slice(&src[start..start + n]);
        done += n;
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Axis, IxDyn};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// The plain gather: row `i` of the result is row `indices[i]` of `src`.
    fn gather_reference(src: &Tensor, indices: &[usize]) -> Tensor {
        src.select(Axis(0), indices)
    }

    #[test]
    fn the_fast_gather_equals_the_plain_one_on_random_shapes_and_thread_counts() {
        let mut rng = StdRng::seed_from_u64(15);
        let mut dst = Tensor::zeros(IxDyn(&[0]));
        // Shapes from one element per sample to batches large enough to be cut into pieces
        // (2^15 elements per piece), which then start and end inside a sample; a sample of
        // size 0; rank 1 (one value per sample) to rank 4 (images).
        let shapes: [&[usize]; 8] = [
            &[7],
            &[50, 3],
            &[300, 784],
            &[200, 1, 28, 28],
            &[90, 3, 5, 7],
            &[40, 0],
            &[5000, 13],
            &[1, 1],
        ];
        for threads in [1, 2, 3] {
            lazarus_core::set_num_threads(threads);
            for shape in shapes {
                let n = shape[0];
                let src = Tensor::from_shape_fn(IxDyn(shape), |_| rng.random_range(-1.0f32..1.0));
                for batch in [1, n.div_ceil(2), n, 2 * n] {
                    // With repeats: a gather need not be a permutation.
                    let indices: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
                    gather_rows(&src, &indices, &mut dst);
                    let want = gather_reference(&src, &indices);
                    assert_eq!(dst.shape(), want.shape(), "{shape:?}, batch {batch}");
                    assert!(
                        dst.iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{shape:?}, batch {batch}, {threads} threads"
                    );
                }
            }
        }
        lazarus_core::set_num_threads(0);
    }
}
