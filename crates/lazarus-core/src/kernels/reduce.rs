//! Sums over whole tensors in `f64`: gradient norms, update sizes, output moments.
//!
//! A plain `iter().sum()` adds one element at a time into one accumulator, so each addition
//! waits for the previous one (about 4 cycles each), and over an n-dimensional `ArrayD` each
//! element also pays for the iterator's index bookkeeping. Diagnostics and clipping take such
//! sums over every parameter at every step, so they use these instead: a contiguous slice,
//! cut into blocks of [`BLOCK`] elements that run on the thread pool ([`parallel_for`]), each
//! block summed in [`LANES`] independent partial sums (which the compiler keeps in SIMD
//! registers), the block sums added in order at the end. The order of additions is fixed by the
//! length alone, not by the thread count, so results are the same on every run and machine
//! setting.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{TensorView, parallel_for};

/// Independent partial sums per reduction.
const LANES: usize = 8;

/// Elements per block: one block is worth far more than the microsecond a hand-over costs.
const BLOCK: usize = 1 << 15;

/// Blocks summed per round of [`parallel_for`] (their sums live on the stack).
const BLOCKS_PER_ROUND: usize = 64;

/// `Σ block_sum(range)` over consecutive blocks of `0..len`, blocks in parallel, their sums
/// added in block order.
fn sum_blocks(len: usize, block_sum: &(dyn Fn(Range<usize>) -> f64 + Sync)) -> f64 {
    if len <= BLOCK {
        return block_sum(0..len);
    }
    let mut total = 0.0;
    for round in (0..len).step_by(BLOCK * BLOCKS_PER_ROUND) {
        let blocks = (len - round).min(BLOCK * BLOCKS_PER_ROUND).div_ceil(BLOCK);
        // f64 bits in atomics: each task writes its own slot, no lock and no allocation.
        let sums: [AtomicU64; BLOCKS_PER_ROUND] = std::array::from_fn(|_| AtomicU64::new(0));
        parallel_for(blocks, &|b| {
            let start = round + b * BLOCK;
            let sum = block_sum(start..(start + BLOCK).min(len));
            sums[b].store(sum.to_bits(), Ordering::Relaxed);
        });
        total += sums[..blocks]
            .iter()
            .map(|s| f64::from_bits(s.load(Ordering::Relaxed)))
            .sum::<f64>();
    }
    total
}

/// `Σ term(xᵢ)` in `f64` over a slice, in [`LANES`] partial sums.
#[inline(always)]
fn sum_slice(values: &[f32], term: impl Fn(f32) -> f64) -> f64 {
    let mut partial = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (acc, &v) in partial.iter_mut().zip(chunk) {
            *acc += term(v);
        }
    }
    partial.iter().sum::<f64>() + rest.iter().map(|&v| term(v)).sum::<f64>()
}

/// `Σ term(aᵢ, bᵢ)` in `f64` over two slices of the same length, in [`LANES`] partial sums.
#[inline(always)]
fn sum_slice_pairs(a: &[f32], b: &[f32], term: impl Fn(f32, f32) -> f64) -> f64 {
    let mut partial = [0.0f64; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest = a_chunks.remainder().iter().zip(b_chunks.remainder());
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for ((acc, &x), &y) in partial.iter_mut().zip(ca).zip(cb) {
            *acc += term(x, y);
        }
    }
    partial.iter().sum::<f64>() + rest.map(|(&x, &y)| term(x, y)).sum::<f64>()
}

/// `Σ term(xᵢ)` in `f64` over every element of `x`, whatever its layout.
///
/// Contiguous tensors (every tensor a layer owns) take the fast path; others are summed in
/// logical order.
pub fn sum_f64(x: &TensorView<'_>, term: impl Fn(f32) -> f64 + Sync) -> f64 {
    match x.as_slice_memory_order() {
        Some(values) => sum_blocks(values.len(), &|r| sum_slice(&values[r], &term)),
        None => x.iter().map(|&v| term(v)).sum(),
    }
}

/// `Σ xᵢ²` in `f64`: the squared L2 norm of a tensor.
///
/// ```
/// use lazarus_core::{Tensor, sum_squares};
/// let g = Tensor::from_elem(vec![3, 4], 0.5);
/// assert_eq!(sum_squares(&g.view()), 3.0); // 12 × 0.25
/// ```
pub fn sum_squares(x: &TensorView<'_>) -> f64 {
    sum_f64(x, |v| {
        let v = f64::from(v);
        v * v
    })
}

/// `Σ (aᵢ − bᵢ)²` in `f64`: the squared L2 distance between two tensors of the same shape
/// (‖Δw‖² between a parameter's value after and before a step).
///
/// Returns `None` when the shapes differ.
///
/// ```
/// use lazarus_core::{Tensor, sum_squared_difference};
/// let after = Tensor::from_elem(vec![2, 2], 1.5);
/// let before = Tensor::from_elem(vec![2, 2], 1.0);
/// assert_eq!(sum_squared_difference(&after.view(), &before.view()), Some(1.0));
/// ```
pub fn sum_squared_difference(a: &TensorView<'_>, b: &TensorView<'_>) -> Option<f64> {
    if a.shape() != b.shape() {
        return None;
    }
    let term = |x: f32, y: f32| {
        let d = f64::from(x) - f64::from(y);
        d * d
    };
    // Same shape and both in standard layout: the slices line up element for element.
    Some(match (a.as_slice(), b.as_slice()) {
        (Some(a), Some(b)) => sum_blocks(a.len(), &|r| sum_slice_pairs(&a[r.clone()], &b[r], term)),
        _ => a.iter().zip(b.iter()).map(|(&x, &y)| term(x, y)).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    #[test]
    fn sums_match_a_plain_loop_for_every_remainder_length() {
        for len in 0..40 {
            let values: Vec<f32> = (0..len).map(|i| (i as f32 - 7.5) * 0.37).collect();
            let x = Tensor::from_shape_vec(vec![len], values.clone()).unwrap();
            let plain: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            assert!((sum_squares(&x.view()) - plain).abs() <= 1e-12 * plain.max(1.0));
            let zeros = Tensor::zeros(vec![len]);
            let d = sum_squared_difference(&x.view(), &zeros.view()).unwrap();
            assert!((d - plain).abs() <= 1e-12 * plain.max(1.0));
        }
    }

    #[test]
    fn long_tensors_sum_the_same_on_any_thread_count() {
        // Several blocks and a second round of blocks.
        let len = BLOCK * BLOCKS_PER_ROUND + 3 * BLOCK + 5;
        let x = Tensor::from_shape_fn(vec![len], |i| ((i[0] % 1000) as f32 - 500.0) * 1e-3);
        let y = Tensor::zeros(vec![len]);
        let plain: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let threads = crate::num_threads();
        let mut results = Vec::new();
        for n in [1, 2, 3] {
            crate::set_num_threads(n);
            results.push((
                sum_squares(&x.view()),
                sum_squared_difference(&x.view(), &y.view()).unwrap(),
            ));
        }
        crate::set_num_threads(threads);
        assert!((results[0].0 - plain).abs() <= 1e-9 * plain);
        assert!(results.iter().all(|&r| r == results[0]), "{results:?}");
    }

    #[test]
    fn non_contiguous_views_are_summed_too() {
        let x = Tensor::from_shape_vec(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        let t = x.t();
        assert_eq!(sum_squares(&t), 91.0);
        let y = x.clone().reversed_axes();
        assert_eq!(sum_squared_difference(&t, &y.view()), Some(0.0));
        assert_eq!(sum_squared_difference(&t, &x.view()), None);
    }
}
