//! The element loops every activation runs: written once, branch-free, and compiled twice.
//!
//! Activations are memory-bound: the work per element is a handful of instructions, the cost is
//! reading and writing the arrays. Two things keep the loops at memory speed:
//!
//! * **Contiguous slices and no branches.** Over `&[f32]` with a body made of selects
//!   (`if x <= 0.0 { 0.0 } else { x }` compiles to a compare and a blend, not a jump), LLVM emits
//!   SIMD code. A data-dependent branch in the ReLU backward mask once cost 17% of an MLP epoch.
//!   Non-contiguous views (a transposed input, say) take an `ndarray::Zip` path instead.
//! * **Large tensors in parallel pieces.** A convolution's activations are hundreds of thousands
//!   of elements per batch; the loop is cut into contiguous pieces of at least 32,768 elements
//!   that run on the thread pool ([`parallel_zip`](lazarus_core::parallel_zip)), one per thread, cut as
//!   the layer before cut its output. Each element is computed on its own, so the result is the
//!   same for every thread count.
//! * **Wider SIMD when the CPU has it, without `-C target-cpu=native`.** Each loop runs inside
//!   [`with_simd`](lazarus_core::with_simd), which instantiates it a second time in a function
//!   compiled with AVX2 and FMA enabled (`#[target_feature]`) and picks that copy when the
//!   running CPU has them. Without them (or on another architecture) the portable copy runs.
//!   Both copies perform the same IEEE operations in the same order (Rust never fuses `a * b + c`
//!   on its own, and no kernel calls `mul_add`), so they give bit-identical results.

use lazarus_core::{Tensor, TensorView, parallel_zip};
use ndarray::Zip;

pub(crate) use lazarus_core::with_simd;

/// `y[i] = f(x[i])`.
#[inline(always)]
fn unary_slices(x: &[f32], y: &mut [f32], f: impl Fn(f32) -> f32) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

/// `saved[i] = x[i]; y[i] = f(x[i])`: one read of x for both.
#[inline(always)]
fn unary_save_slices(x: &[f32], saved: &mut [f32], y: &mut [f32], f: impl Fn(f32) -> f32) {
    for ((y, s), &x) in y.iter_mut().zip(saved.iter_mut()).zip(x) {
        *s = x;
        *y = f(x);
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
fn binary_slices(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// `out = f(x)` element-wise. `out` must already have `x`'s shape.
#[inline(always)]
pub(crate) fn map_into(x: &TensorView<'_>, out: &mut Tensor, f: impl Fn(f32) -> f32 + Copy + Sync) {
    debug_assert_eq!(x.shape(), out.shape());
    match x.as_slice() {
        Some(x) => {
            let out = out.as_slice_mut().expect(OWNED);
            parallel_zip([out], [x], &|[out], [x]| {
                with_simd(
                    #[inline(always)]
                    || unary_slices(x, out, f),
                )
            });
        }
        None => Zip::from(out).and(x).for_each(|y, &x| *y = f(x)),
    }
}

/// `saved = x` and `out = f(x)` in one pass. Both must already have `x`'s shape.
#[inline(always)]
pub(crate) fn map_save_into(
    x: &TensorView<'_>,
    saved: &mut Tensor,
    out: &mut Tensor,
    f: impl Fn(f32) -> f32 + Copy + Sync,
) {
    debug_assert!(x.shape() == saved.shape() && x.shape() == out.shape());
    match x.as_slice() {
        Some(x) => {
            let saved = saved.as_slice_mut().expect(OWNED);
            let out = out.as_slice_mut().expect(OWNED);
            parallel_zip([saved, out], [x], &|[saved, out], [x]| {
                with_simd(
                    #[inline(always)]
                    || unary_save_slices(x, saved, out, f),
                )
            });
        }
        None => Zip::from(saved).and(out).and(x).for_each(|s, y, &x| {
            *s = x;
            *y = f(x);
        }),
    }
}

/// `out = f(a, b)` element-wise. All three must have the same shape.
#[inline(always)]
pub(crate) fn zip_map_into(
    a: &TensorView<'_>,
    b: &TensorView<'_>,
    out: &mut Tensor,
    f: impl Fn(f32, f32) -> f32 + Copy + Sync,
) {
    debug_assert!(a.shape() == b.shape() && a.shape() == out.shape());
    match (a.as_slice(), b.as_slice()) {
        (Some(a), Some(b)) => {
            let out = out.as_slice_mut().expect(OWNED);
            parallel_zip([out], [a, b], &|[out], [a, b]| {
                with_simd(
                    #[inline(always)]
                    || binary_slices(a, b, out, f),
                )
            });
        }
        _ => Zip::from(out)
            .and(a)
            .and(b)
            .for_each(|o, &a, &b| *o = f(a, b)),
    }
}

/// Why `as_slice_mut` cannot fail on a layer's own buffers.
pub(crate) const OWNED: &str = "buffers sized by reuse_buffer are contiguous in standard layout";
