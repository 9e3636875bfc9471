//! The speed plumbing behind the activations: what the CPU runs, kept apart from the math.
//!
//! Each activation's own file (`relu.rs`, `prelu.rs`, ...) is what a learner reads: the formula
//! and its derivative as scalar functions (`relu`, `relu_grad`), the layer's `forward` and
//! `backward`, and reference functions (`relu_forward`, `relu_backward`) that compute the same
//! thing over a whole tensor in plain ndarray. The layer's `forward` and `backward` hand the
//! scalar functions to a kernel from this module, which runs them fast:
//!
//! * [`Elementwise`] (`elementwise.rs`): the one kernel of every element-wise activation. It
//!   keeps x or y for backward as the layer asks ([`Keep`]), applies `chain(f'(kept), dL/dy)`
//!   in backward, and computes the dead/inactive statistics.
//! * `loops.rs`: the element loops, branch-free over contiguous slices so that they compile to
//!   SIMD, and run through [`lazarus_core::with_simd`] (an AVX2 copy picked at run time).
//! * `buffers.rs`: the output, kept and gradient buffers, reused from batch to batch, and the
//!   rules about when backward may read them.
//! * [`PreluKernel`] (`prelu.rs`): PReLU's channel loops and its blocked f32/f64 sums of dL/dα.
//! * `fast_exp.rs`: `exp` and `expm1` that vectorize (ELU, SELU, CELU), relative error ≤ 2.5e-7.
//! * `erf.rs`: the error function for the exact GELU (Rust's standard library has none).
//!
//! The contract: a kernel computes exactly what its activation's reference functions compute.
//! `tests/kernels_vs_reference.rs` checks it on random shapes, contiguous and not, with the kinks
//! (x = 0 and every piece boundary) and NaN in the inputs: bit for bit where the kernel does the
//! same arithmetic, and within a stated tolerance where it does not (a derivative read from the
//! output, dL/dα summed in another order).

mod buffers;
mod elementwise;
pub(crate) mod erf;
pub(crate) mod fast_exp;
mod loops;
mod prelu;

pub(crate) use elementwise::{Elementwise, Keep, NOT_SILENT};
pub(crate) use prelu::PreluKernel;
