//! Kernels: how lazarus makes the math fast. Nothing here changes *what* is computed.
//!
//! A layer's file says what the layer computes, as the formulas say, and is what a learner
//! reads (`linear.rs`: `y = x·Wᵀ + b`, `dW += Gᵀ·x`, `db += Σ_batch G`, `dx = G·W`, with a
//! plain-ndarray reference beside them). Where a formula is a matrix product or a pass over a
//! whole buffer, the layer calls one function here, and everything about running it fast
//! lives here instead:
//!
//! | file           | what                                                  | why it is fast                                  |
//! |----------------|-------------------------------------------------------|-------------------------------------------------|
//! | `gemm.rs`      | `gemm`, the one matrix product `C ← A·B + β·C`        | picks a kernel; cuts C into pieces for threads  |
//! | `gemm_avx2.rs` | two AVX2+FMA products that read W where it lies       | no packing of the weight at small batch sizes   |
//! | `conv.rs`      | Conv2d as matrix products: one `gemm` per sample      | batch cut in fixed chunks over the threads      |
//! | `conv_im2col.rs` | im2col and col2im (an input as a matrix, and back)  | one shifted copy or sum per tap, no bounds tests |
//! | `threads.rs`   | [`set_num_threads`], [`parallel_for`], [`parallel_zip`] | results the same for every thread count         |
//! | `pool.rs`      | the worker threads behind `parallel_for`              | no thread start per product; static dealing     |
//! | `reduce.rs`    | [`sum_f64`], [`sum_squares`], [`sum_squared_difference`] | sums in 8 `f64` lanes, blocks in parallel     |
//! | `simd.rs`      | [`with_simd`], [`has_avx2_fma`]                       | compiled for AVX2 too, picked at run time       |
//! | `buffers.rs`   | copy, zero, and sum the rows of whole buffers         | large buffers in parallel pieces                |
//! | `pooling.rs`   | max and average pooling over the planes of NCHW input | planes in parallel blocks; 2 × 2 windows in SIMD |
//! | `log_softmax.rs` | LogSoftmax's lanes along dim 1                      | samples in parallel blocks                      |
//! | `normalization.rs` | BatchNorm's per-channel and LayerNorm's per-row passes | chunks of the batch on the pool, fixed order |
//!
//! Every fast path is tested against a plain version: `gemm` against the product in `f64` for
//! every kernel the CPU can run, every cut and thread count (`gemm_tests.rs`); `Linear` against
//! `Linear::forward_reference` / `backward_reference` on random shapes and layouts
//! (`tests/linear.rs`); `Conv2d` against `Conv2d::forward_reference` / `backward_reference`
//! over stride, padding, dilation and groups, and for 1, 2 and 3 threads bit for bit
//! (`tests/conv2d_kernel.rs`); the sums against plain loops (`reduce.rs`); the buffer
//! passes against ndarray's (`buffers.rs`); pooling and LogSoftmax against their layers'
//! references, bit for bit (`tests/pooling.rs`, `tests/log_softmax_nll.rs`).
//!
//! Other crates' kernels use the public items, re-exported at the crate root
//! (`lazarus_core::with_simd`, `lazarus_core::parallel_zip`, ...): there is one AVX2 dispatch
//! and one thread pool in lazarus.

mod buffers;
mod conv;
mod conv_im2col;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
mod log_softmax;
mod normalization;
mod pool;
mod pooling;
mod reduce;
mod simd;
mod threads;

pub(crate) use buffers::{add_row_sums, copy_into, fill_zero};
pub(crate) use conv::{ConvGeometry, ConvScratch, conv2d_backward, conv2d_forward};
pub(crate) use gemm::gemm;
pub(crate) use log_softmax::{log_softmax_backward, log_softmax_forward};
pub(crate) use normalization::{BatchNormKernel, Dims, LayerNormKernel};
pub(crate) use pooling::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward,
};
pub use reduce::{sum_f64, sum_squared_difference, sum_squares};
pub use simd::{has_avx2_fma, with_simd};
pub use threads::{ZipFn, num_threads, parallel_for, parallel_zip, set_num_threads};
