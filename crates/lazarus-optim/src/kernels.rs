//! Kernel helper of the optimizers: how an element-wise update runs fast, apart from what it
//! computes (the update rules, in each optimizer's file).
//!
//! An update touches every element on its own, so a large parameter is cut into pieces that
//! run on the thread pool (`lazarus_core::parallel_zip`; the result is the same for any thread
//! count), and each piece runs 8 lanes wide where the CPU has AVX2
//! (`lazarus_core::with_simd`). Each piece also reports whether it wrote only finite values
//! ([`FiniteCheck`]).

use crate::FiniteCheck;

/// Run `pass` over matching pieces of the `N` slices in `state` (the value first, then the
/// buffers) and of `grad`, in parallel, each compiled for AVX2 where available. `pass` returns
/// the [`FiniteCheck`] flags of what it wrote; the result says whether every piece was finite.
///
/// Mark `pass` `#[inline(always)]`: it must be compiled inside the AVX2 copy, which LLVM's
/// inlining heuristics alone do not promise (Adam's pass once fell out of it and ran 2× slower).
#[inline(always)]
pub(crate) fn update_in_pieces<const N: usize>(
    state: [&mut [f32]; N],
    grad: &[f32],
    pass: impl Fn([&mut [f32]; N], &[f32]) -> u32 + Sync,
) -> bool {
    let finite = FiniteCheck::new();
    lazarus_core::parallel_zip(state, [grad], &|pieces, [g]| {
        finite.piece(lazarus_core::with_simd(
            #[inline(always)]
            || pass(pieces, g),
        ));
    });
    finite.all_finite()
}
