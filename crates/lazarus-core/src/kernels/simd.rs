//! Kernel helper: wider SIMD when the CPU has it, without `-C target-cpu=native`.
//!
//! A release build targets plain x86-64, whose vectors are SSE2's 4 lanes. Element-wise loops
//! (activations, optimizer updates) can run 8 lanes wide on CPUs with AVX2: [`with_simd`]
//! compiles its body a second time inside a function with AVX2 and FMA enabled and picks that
//! copy when the running CPU has them. Both copies perform the same IEEE operations in the same
//! order (Rust never fuses `a * b + c` into an FMA on its own), so their results are
//! bit-identical. This is the one place lazarus makes that choice; hand-written intrinsics (the
//! AVX2 GEMM kernel) ask [`has_avx2_fma`].

/// Whether the running CPU has AVX2 and FMA (detected once, then cached by `std`).
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Run `body` in a context compiled for AVX2 and FMA when the CPU supports them, else as is.
///
/// `body`, and everything it calls that is marked `#[inline(always)]`, is inlined into the
/// AVX2 copy and vectorized 8 lanes wide.
///
/// ```
/// let x = vec![1.0f32; 1000];
/// let sum: f32 = lazarus_core::with_simd(|| x.iter().map(|v| v * 2.0).sum());
/// assert_eq!(sum, 2000.0);
/// ```
#[inline(always)]
pub fn with_simd<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: `run_avx2` is only unsafe because it is compiled for AVX2 and FMA; both
            // were detected on the running CPU just above, so its instructions are supported.
            return unsafe { run_avx2(body) };
        }
    }
    body()
}

/// `body()`, compiled with AVX2 and FMA enabled.
///
/// # Safety
/// The CPU must support AVX2 and FMA (checked by the only caller, [`with_simd`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}
