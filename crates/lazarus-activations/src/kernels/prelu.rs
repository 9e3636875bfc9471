//! PReLU's fast path: the channel loops and the blocked sums of dL/dα.
//!
//! The math is in `crate::prelu` (`prelu`, `prelu_grad`, `prelu_grad_alpha`, and the reference
//! `prelu_forward`/`prelu_backward` this is tested against). What is added here is speed:
//!
//! * the input is walked in runs of elements that share a slope ([`Layout`]), so the slope is a
//!   constant inside the inner loop and the loop vectorizes;
//! * dL/dα = Σ x·g is summed in sixteen f32 lanes per block of 512 elements (a reduction LLVM can
//!   vectorize, where one serial sum could not be reordered), and each block's sum is added to an
//!   f64 total, so a large batch does not drift as a plain f32 running sum would. For `[batch, C]`
//!   inputs the C column sums run side by side, row by row, flushed to f64 every 32 rows;
//! * the loops run inside [`with_simd`], compiled a second time for AVX2.
//!
//! dL/dx is bit-for-bit the reference's (the same scalar functions); dL/dα differs only in the
//! order of the additions.

use lazarus_core::{ActivationStats, Mode, Result, SilentRegion, Tensor, TensorView};

use super::buffers::Buffers;
use super::loops::{OWNED, with_simd};
use crate::chain::chain;
use crate::prelu::{prelu, prelu_grad, prelu_grad_alpha};

/// How the elements of an input map to slopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One slope for every element.
    Shared,
    /// `[batch, C]`: element k uses slope k mod C.
    Columns { channels: usize },
    /// `[batch, C, spatial...]`: consecutive runs of `plane` elements share a slope.
    Planes { channels: usize, plane: usize },
}

impl Layout {
    /// The layout of an input of shape `shape` over `num_parameters` slopes, whose channel count
    /// the layer has already checked.
    fn of(shape: &[usize], num_parameters: usize) -> Self {
        let plane: usize = shape.get(2..).map_or(1, |s| s.iter().product());
        if num_parameters == 1 || plane == 0 {
            Layout::Shared // one slope, or no elements: nothing to map
        } else if shape.len() == 2 {
            Layout::Columns {
                channels: num_parameters,
            }
        } else {
            Layout::Planes {
                channels: num_parameters,
                plane,
            }
        }
    }
}

/// Elements summed in f32 before their sum is added to an f64 total.
const BLOCK: usize = 512;
/// Rows of a `[batch, C]` input summed per column in f32 before flushing into f64.
const ROWS_PER_FLUSH: usize = 32;

/// PReLU's buffers and the per-slope sums of one backward pass.
#[derive(Debug, Clone)]
pub(crate) struct PreluKernel {
    buffers: Buffers,
    /// How the last training (or probe) input was laid out over the slopes.
    layout: Layout,
    /// Per-slope sums of dL/dα for one backward pass, in f64.
    alpha_sums: Vec<f64>,
    /// Per-column partial sums in f32 for `[batch, C]` inputs (flushed into `alpha_sums`).
    column_sums: Vec<f32>,
}

impl PreluKernel {
    /// A kernel for `num_parameters` slopes, with empty buffers.
    pub(crate) fn new(num_parameters: usize) -> Self {
        Self {
            buffers: Buffers::default(),
            layout: Layout::Shared,
            alpha_sums: vec![0.0; num_parameters],
            column_sums: Vec::new(),
        }
    }

    /// `y = prelu(x, α[channel])`; a training pass keeps x. `alpha` has the layer's
    /// `num_parameters` slopes and `x` a matching channel axis (the layer checks both).
    pub(crate) fn forward(
        &mut self,
        x: TensorView<'_>,
        alpha: &[f32],
        mode: Mode,
    ) -> Result<TensorView<'_>> {
        let layout = Layout::of(x.shape(), alpha.len());
        // Channel indexing needs row-major order; only a non-contiguous view is copied.
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect(STANDARD);
        match mode {
            Mode::Eval => {
                let y = self.buffers.eval_output(x.raw_dim());
                let y = y.as_slice_mut().expect(OWNED);
                with_simd(
                    #[inline(always)]
                    || forward_slices(layout, alpha, xs, y, None),
                );
            }
            // A probe keeps x too, for the statistics (backward stays refused).
            Mode::Train | Mode::Probe => {
                self.layout = layout;
                let (saved, y) = self.buffers.saved_input(x.raw_dim(), mode == Mode::Train);
                let saved = saved.as_slice_mut().expect(OWNED);
                let y = y.as_slice_mut().expect(OWNED);
                with_simd(
                    #[inline(always)]
                    || forward_slices(layout, alpha, xs, y, Some(saved)),
                );
            }
        }
        Ok(self.buffers.output())
    }

    /// dL/dx, and this pass's dL/dα per slope (to be added to the gradient).
    ///
    /// # Errors
    /// `BackwardBeforeForward` without a training pass since the last evaluation or probe pass;
    /// `ShapeMismatch` when `grad_output`'s shape is not the output's.
    pub(crate) fn backward(
        &mut self,
        grad_output: TensorView<'_>,
        alpha: &[f32],
    ) -> Result<(TensorView<'_>, &[f64])> {
        let layout = self.layout;
        let (saved, dx) = self.buffers.backward("prelu", grad_output.raw_dim())?;
        let g = grad_output.as_standard_layout();
        let gs = g.as_slice().expect(STANDARD);
        let xs = saved.as_slice().expect(OWNED);
        let dx = dx.as_slice_mut().expect(OWNED);
        self.alpha_sums.fill(0.0);
        if let Layout::Columns { channels } = layout {
            self.column_sums.resize(channels, 0.0);
        }
        let (sums, columns) = (&mut self.alpha_sums, &mut self.column_sums);
        with_simd(
            #[inline(always)]
            || backward_slices(layout, alpha, xs, gs, dx, sums, columns),
        );
        Ok((self.buffers.grad_input(), &self.alpha_sums))
    }

    /// Statistics of the last training or probe pass (x ≤ 0 counted as silent; what gradient
    /// flows there is the layer's to say). The output buffer holds that pass's output unless an
    /// evaluation pass came since; then it is recomputed with `alpha`, and without usable slopes
    /// (`None`) there are no statistics.
    pub(crate) fn stats(&self, alpha: Option<&[f32]>) -> Option<ActivationStats> {
        let x = self.buffers.last_pass()?;
        let non_positive = |v: f32| v <= 0.0;
        let silent = Some(SilentRegion {
            contains: &non_positive as &dyn Fn(f32) -> bool,
            derivative_zero: false,
        });
        if self.buffers.output_is_from_last_pass() {
            let y = self.buffers.output();
            return Some(ActivationStats::from_pass(x, y, silent));
        }
        let mut y = Tensor::zeros(x.raw_dim());
        let ys = y.as_slice_mut().expect(OWNED);
        forward_slices(self.layout, alpha?, x.as_slice().expect(OWNED), ys, None);
        Some(ActivationStats::from_pass(x, y.view(), silent))
    }
}

/// Why `as_slice` cannot fail after `as_standard_layout`.
const STANDARD: &str = "as_standard_layout gives a contiguous array";

/// `y = prelu(x)` for one run of elements with their slopes, copying x into `saved` if given.
#[inline(always)]
fn forward_run(
    x: &[f32],
    y: &mut [f32],
    saved: Option<&mut [f32]>,
    slopes: impl Iterator<Item = f32>,
) {
    match saved {
        Some(saved) => {
            for (((y, s), &x), a) in y.iter_mut().zip(saved).zip(x).zip(slopes) {
                *s = x;
                *y = prelu(x, a);
            }
        }
        None => {
            for ((y, &x), a) in y.iter_mut().zip(x).zip(slopes) {
                *y = prelu(x, a);
            }
        }
    }
}

/// `y = prelu(x)` over contiguous slices, with an optional copy of x into `saved` (one read of
/// x for both).
#[inline(always)]
fn forward_slices(
    layout: Layout,
    alpha: &[f32],
    x: &[f32],
    y: &mut [f32],
    mut saved: Option<&mut [f32]>,
) {
    let run_len = match layout {
        Layout::Shared => x.len().max(1),
        Layout::Columns { channels } => channels,
        Layout::Planes { plane, .. } => plane,
    };
    for (k, start) in (0..x.len()).step_by(run_len).enumerate() {
        let range = start..start + run_len;
        let saved = saved.as_deref_mut().map(|s| &mut s[range.clone()]);
        let (x, y) = (&x[range.clone()], &mut y[range]);
        match layout {
            Layout::Shared => forward_run(x, y, saved, std::iter::repeat(alpha[0])),
            Layout::Columns { .. } => forward_run(x, y, saved, alpha.iter().copied()),
            Layout::Planes { channels, .. } => {
                forward_run(x, y, saved, std::iter::repeat(alpha[k % channels]))
            }
        }
    }
}

/// For one run of elements sharing slope `a`: write dL/dx and return Σ ∂f/∂α · dL/dy.
#[inline(always)]
fn backward_run(a: f32, x: &[f32], g: &[f32], dx: &mut [f32]) -> f64 {
    const LANES: usize = 16;
    let mut total = 0.0f64;
    for ((xb, gb), db) in x
        .chunks(BLOCK)
        .zip(g.chunks(BLOCK))
        .zip(dx.chunks_mut(BLOCK))
    {
        // Sixteen independent f32 accumulators, summed into f64 once per block.
        let mut lanes = [0.0f32; LANES];
        let whole = xb.len() / LANES * LANES;
        for ((xc, gc), dc) in xb[..whole]
            .chunks_exact(LANES)
            .zip(gb[..whole].chunks_exact(LANES))
            .zip(db[..whole].chunks_exact_mut(LANES))
        {
            for k in 0..LANES {
                dc[k] = chain(prelu_grad(xc[k], a), gc[k]);
                lanes[k] += chain(prelu_grad_alpha(xc[k]), gc[k]);
            }
        }
        for ((&x, &g), d) in xb[whole..].iter().zip(&gb[whole..]).zip(&mut db[whole..]) {
            *d = chain(prelu_grad(x, a), g);
            total += f64::from(chain(prelu_grad_alpha(x), g));
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}

/// dL/dx and the per-slope sums of dL/dα over contiguous slices.
#[inline(always)]
fn backward_slices(
    layout: Layout,
    alpha: &[f32],
    x: &[f32],
    g: &[f32],
    dx: &mut [f32],
    sums: &mut [f64],
    column_sums: &mut [f32],
) {
    match layout {
        Layout::Shared => sums[0] += backward_run(alpha[0], x, g, dx),
        Layout::Planes { channels, plane } => {
            for (k, ((xp, gp), dp)) in x
                .chunks_exact(plane)
                .zip(g.chunks_exact(plane))
                .zip(dx.chunks_exact_mut(plane))
                .enumerate()
            {
                sums[k % channels] += backward_run(alpha[k % channels], xp, gp, dp);
            }
        }
        Layout::Columns { channels } => {
            let rows = channels * ROWS_PER_FLUSH;
            for ((xb, gb), db) in x.chunks(rows).zip(g.chunks(rows)).zip(dx.chunks_mut(rows)) {
                column_sums.fill(0.0);
                for ((xr, gr), dr) in xb
                    .chunks_exact(channels)
                    .zip(gb.chunks_exact(channels))
                    .zip(db.chunks_exact_mut(channels))
                {
                    // Row by row, column sums side by side: a vertical add that vectorizes.
                    // Re-slicing to one length lets the compiler drop the bounds checks.
                    let n = channels;
                    let (xr, gr, dr) = (&xr[..n], &gr[..n], &mut dr[..n]);
                    let (alpha, col) = (&alpha[..n], &mut column_sums[..n]);
                    for j in 0..n {
                        dr[j] = chain(prelu_grad(xr[j], alpha[j]), gr[j]);
                        col[j] += chain(prelu_grad_alpha(xr[j]), gr[j]);
                    }
                }
                for (total, &s) in sums.iter_mut().zip(column_sums.iter()) {
                    *total += f64::from(s);
                }
            }
        }
    }
}
