//! The one matrix-product entry point of lazarus: [`gemm`], `C ← A·B + β·C`, cut into pieces
//! that run on the thread pool.
//!
//! A layer writes its formula as one call (`Linear`: `y = x·Wᵀ + b`, `dW += Gᵀ·x`,
//! `dx = G·W`); everything below is about running that call fast, and none of it changes what
//! it computes beyond rounding (the tests compare it with ndarray's `dot`).
//!
//! Who does the arithmetic:
//!
//! * faer, a general GEMM (`faer::linalg::matmul`, sequential): it packs blocks of A and B
//!   and runs SIMD micro-kernels chosen at run time (AVX2+FMA, or AVX-512 where the CPU has
//!   it). It is used on CPUs with AVX-512 or without AVX2, for operand layouts the kernels
//!   below do not take, and for products of at least `LARGE_PRODUCT` multiply-adds, where its
//!   packing pays for itself. It replaced matrixmultiply (issue 16): on an AMD EPYC Zen 5
//!   with AVX-512, per product, 1.1–2.2× faster at a Linear layer's shapes and 1.1–2.2× at
//!   the im2col products of a small CNN (32×144×196 forward 198 vs 165 GFLOP/s, its weight
//!   gradient 211 vs 113), and a Conv2d layer's training step 1.4–1.6× faster end to end; it
//!   allocates nothing per product once warm, and each element's sum does not depend on how
//!   C is cut (checked in `gemm_tests.rs`). Its cost is build time: about a minute of a
//!   clean release build on 2 cores (42 crates).
//! * On AVX2+FMA CPUs without AVX-512, the smaller products of a training step go to the
//!   kernels in `gemm_avx2.rs`, which read the weight matrix where it lies instead of packing
//!   it: at batch 32, `y = x Wᵀ` of a 784→256 layer runs 1.4× faster and the gradient products
//!   1.1–1.2× (measured on an AMD EPYC, Zen 3).
//!
//! The choice depends only on the CPU and on the whole product's shape and layout, never on
//! how the product is cut, so it is the same for every thread count.
//!
//! How one product is cut into independent pieces:
//!
//! * Cut C into column blocks (and B with them), or row blocks (and A with them), so that each
//!   thread reads only its share of the *weight* matrix: that is what costs memory traffic at
//!   small batch sizes. In a layer's three products:
//!   - forward `y = x·Wᵀ`, C is `[batch, out]`: columns of y are rows of W, so cut columns;
//!   - `dL/dx = G·W`, C is `[batch, in]`: cut columns, each thread reads its columns of W;
//!   - `dL/dW += Gᵀ·x`, C is `[out, in]`, the weight's own shape: cut rows (output units), the
//!     same rows of W the forward product gave each thread. This is the one product whose A is
//!     a transposed view (Gᵀ: its columns, not its rows, are contiguous), because it sums over
//!     the batch. So [`gemm`] cuts rows exactly when A is stored column by column, columns
//!     otherwise, and a layer need not say anything about threads.
//!
//!   The pool deals pieces out to the same threads every time, so the same rows of W, dL/dW
//!   and the optimizer's buffers (which `parallel_zip` cuts into the same row blocks) stay in
//!   the same core's cache from one pass to the next.
//! * Never cut the sum over k. Every element of C is computed by one piece, with the same
//!   kernel and the same k-blocking as in a single call (each element's sum does not depend on
//!   where its tile starts), so the result is bit-for-bit the same for every thread count.
//! * Leave small products whole: handing work to another core costs about a microsecond, and
//!   a piece should be worth much more than that.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::threads::{Shared, num_threads, parallel_for};

/// Products with at least this many multiply-adds go to faer (see the module docs).
const LARGE_PRODUCT: usize = 1 << 24;

/// Which code computes a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Faer,
    /// `gemm_avx2::gemm`: B's rows contiguous.
    #[cfg(target_arch = "x86_64")]
    Rows,
    /// `gemm_avx2::gemm_dot`: A's rows and B's columns contiguous.
    #[cfg(target_arch = "x86_64")]
    Dot,
}

/// Pick the kernel for a whole product (not a piece of it: the choice must not depend on the
/// thread count).
fn choose(macs: usize, csa: isize, rsb: isize, csb: isize) -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2_ONLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let avx2_only = *AVX2_ONLY
            .get_or_init(|| super::gemm_avx2::available() && !is_x86_feature_detected!("avx512f"));
        if avx2_only && macs < LARGE_PRODUCT {
            if csb == 1 {
                return Kernel::Rows;
            }
            if csa == 1 && rsb == 1 {
                return Kernel::Dot;
            }
        }
    }
    let _ = (macs, csa, rsb, csb);
    Kernel::Faer
}

/// Products with fewer multiply-adds than this run on one thread.
const MIN_PARALLEL_MACS: usize = 1 << 18;
/// Block edges are multiples of this (the micro-kernels' tile width), so pieces do not end in
/// needlessly ragged tiles. (Results would be the same with any edges.)
const ALIGN: usize = 16;

/// Which dimension of C a parallel product is cut along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Row blocks of C and A; every piece reads all of B.
    Rows,
    /// Column blocks of C and B; every piece reads all of A.
    Cols,
}

/// `c ← a·b + beta·c` (beta = 0: c is only written, never read, so it may hold garbage).
///
/// Any strides work; the kernel and the cut are chosen here (see the module docs).
///
/// Panics if the shapes do not fit (callers check them and report `ShapeMismatch`).
pub(crate) fn gemm(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
) {
    let [rsa, csa] = strides(&a);
    let [rsb, csb] = strides(&b);
    let kernel = choose(a.nrows() * a.ncols() * b.ncols(), csa, rsb, csb);
    run(a, b, beta, c, kernel, split_for(rsa, csa));
}

/// A stored column by column is a transposed view: C = Gᵀ·x, a weight gradient, cut by rows
/// (output units); every other product is cut by columns (module docs).
fn split_for(rsa: isize, csa: isize) -> Split {
    if rsa == 1 && csa != 1 {
        Split::Rows
    } else {
        Split::Cols
    }
}

/// [`gemm`] with the kernel and the cut given.
fn run(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
    kernel: Kernel,
    split: Split,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "gemm shapes: [{m}, {k}] x {:?} into {:?}",
        b.dim(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == 0.0 {
            c.fill(0.0);
        } else {
            c.map_inplace(|v| *v *= beta);
        }
        return;
    }
    let [rsa, csa] = strides(&a);
    let [rsb, csb] = strides(&b);
    let [rsc, csc] = {
        let s = c.strides();
        [s[0], s[1]]
    };
    let (pa, pb, pc) = (
        Shared(a.as_ptr()),
        Shared(b.as_ptr()),
        Shared(c.as_mut_ptr()),
    );
    let split_n = split == Split::Cols;
    let len = if split_n { n } else { m };
    let threads = num_threads();
    let pieces = if m * n * k < MIN_PARALLEL_MACS || threads < 2 {
        1
    } else {
        threads.min(len / ALIGN).max(1)
    };
    // Block edges: piece p covers [edge(p), edge(p + 1)), rounded to ALIGN.
    let edge = |p: usize| {
        if p == pieces {
            len
        } else {
            (len * p / pieces).div_ceil(ALIGN) * ALIGN
        }
    };
    let piece = |p: usize| {
        let (start, end) = (edge(p), edge(p + 1).min(len));
        if start >= end {
            return;
        }
        let (pa, pb, pc) = (pa.get(), pb.get(), pc.get());
        // SAFETY: the pointers and strides describe the views above; a piece reads a block of
        // A or B inside them and writes its own block of C, disjoint from every other piece's.
        unsafe {
            let (pm, pn, pa, pb, pc) = if split_n {
                let (off_b, off_c) = (start as isize * csb, start as isize * csc);
                (m, end - start, pa, pb.offset(off_b), pc.offset(off_c))
            } else {
                let (off_a, off_c) = (start as isize * rsa, start as isize * rsc);
                (end - start, n, pa.offset(off_a), pb, pc.offset(off_c))
            };
            match kernel {
                Kernel::Faer => faer_gemm(
                    pm,
                    k,
                    pn,
                    pa,
                    [rsa, csa],
                    pb,
                    [rsb, csb],
                    beta,
                    pc,
                    [rsc, csc],
                ),
                #[cfg(target_arch = "x86_64")]
                Kernel::Rows => {
                    super::gemm_avx2::gemm(pm, pn, k, pa, rsa, csa, pb, rsb, beta, pc, rsc, csc)
                }
                #[cfg(target_arch = "x86_64")]
                Kernel::Dot => {
                    super::gemm_avx2::gemm_dot(pm, pn, k, pa, rsa, pb, csb, beta, pc, rsc, csc)
                }
            }
        }
    };
    if pieces == 1 {
        piece(0);
    } else {
        parallel_for(pieces, &piece);
    }
}

/// `C[m×n] ← A[m×k]·B[k×n] + β·C` with faer, on the calling thread.
///
/// # Safety
/// The pointers and strides describe valid matrices; C does not overlap A or B.
#[allow(clippy::too_many_arguments)]
unsafe fn faer_gemm(
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    [rsa, csa]: [isize; 2],
    b: *const f32,
    [rsb, csb]: [isize; 2],
    beta: f32,
    c: *mut f32,
    [rsc, csc]: [isize; 2],
) {
    // faer overwrites C or adds to it: any other β scales C first.
    if beta != 0.0 && beta != 1.0 {
        for i in 0..m as isize {
            for j in 0..n as isize {
                // SAFETY: (i, j) is inside C.
                unsafe { *c.offset(i * rsc + j * csc) *= beta };
            }
        }
    }
    // SAFETY: the caller's guarantees, passed on.
    let (a, b, c) = unsafe {
        (
            faer::MatRef::<f32>::from_raw_parts(a, m, k, rsa, csa),
            faer::MatRef::<f32>::from_raw_parts(b, k, n, rsb, csb),
            faer::MatMut::<f32>::from_raw_parts_mut(c, m, n, rsc, csc),
        )
    };
    let accum = if beta == 0.0 {
        faer::Accum::Replace
    } else {
        faer::Accum::Add
    };
    faer::linalg::matmul::matmul(c, accum, a, b, 1.0f32, faer::Par::Seq);
}

fn strides(x: &ArrayView2<'_, f32>) -> [isize; 2] {
    let s = x.strides();
    [s[0], s[1]]
}

#[cfg(test)]
#[path = "gemm_tests.rs"]
mod tests;
