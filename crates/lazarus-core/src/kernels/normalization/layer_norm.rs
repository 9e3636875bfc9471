//! LayerNorm's passes: per-row statistics, `y = γ·x̂ + β`, and backward (the formulas are in
//! `src/normalization/layer_norm.rs`).

use super::{
    Buffers, CONTIGUOUS, Dims, Gradients, for_chunks, inverse_std, map_run, push_affine, shaped,
    sum_run, with_simd,
};
use crate::kernels::threads::Shared;
use crate::{Result, TensorView};

/// LayerNorm's buffers ([`Buffers`], with 1/σ per row). Its input is seen as rows of the
/// `width` normalized values (`Dims` of `[rows, width, 1]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerNormKernel {
    b: Buffers,
}

impl LayerNormKernel {
    /// `y = γ·x̂ + β` with `x̂ = (x − μ)/√(σ² + ε)`, μ and σ² over each row's `width` trailing
    /// values. With `keep`, x̂ and 1/σ are kept for backward.
    pub(crate) fn forward(
        &mut self,
        x: TensorView<'_>,
        width: usize,
        eps: f32,
        affine: Option<(&[f32], &[f32])>,
        keep: bool,
    ) -> TensorView<'_> {
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect(CONTIGUOUS);
        let (dims, b) = (row_dims(xs.len(), width), &mut self.b);
        b.coef.clear();
        push_affine(&mut b.coef, affine, width);
        b.invstd.resize(dims.batch, 0.0);
        b.xhat.resize(xs.len(), 0.0);
        let (y, (gamma, beta)) = (shaped(&mut b.output, x.raw_dim()), b.coef.split_at(width));
        let invstd = Shared(b.invstd.as_mut_ptr());
        for_chunks(dims, [y, &mut b.xhat], &mut [], 0, &|rows, [y, xhat], _| {
            let xs = &xs[rows.start * width..rows.end * width];
            with_simd(
                #[inline(always)]
                || {
                    let rows_of = xs.chunks_exact(width).zip(y.chunks_exact_mut(width));
                    for (r, ((x, y), xhat)) in rows_of.zip(xhat.chunks_exact_mut(width)).enumerate()
                    {
                        // μ = Σ x / D, then σ²·D = Σ (x − μ)² (two passes).
                        let [sum] = sum_run([x], |_, [x]| x);
                        let mean = (sum / width as f64) as f32;
                        let [var_sum] = sum_run([x], |_, [x]| (x - mean) * (x - mean));
                        let s = inverse_std(var_sum, width, eps);
                        // SAFETY: row `rows.start + r` belongs to this chunk only.
                        unsafe { *invstd.get().add(rows.start + r) = s };
                        map_run([x], [gamma, beta], [xhat, y], |[g, b], [x]| {
                            let xhat = (x - mean) * s;
                            [xhat, xhat * g + b]
                        });
                    }
                },
            );
        });
        b.cached = keep.then_some(dims);
        b.output.view()
    }

    /// Backward of the last training forward, for upstream gradient g: dL/dx and, per
    /// position j of the normalized shape, Σ over rows of g·x̂ (dL/dγ) and of g (dL/dβ).
    ///
    /// `dx = (1/σ)·(g·γ − mean(g·γ) − x̂·mean(g·γ·x̂))`, the means over the row.
    ///
    /// # Errors
    /// As [`Buffers::backward`].
    pub(crate) fn backward(
        &mut self,
        layer: &str,
        g: TensorView<'_>,
        gamma: Option<&[f32]>,
        input_grad: bool,
    ) -> Result<Gradients<'_>> {
        // Σ_rows g·x̂ and Σ_rows g per position: the column sums of a [rows, width] matrix.
        self.b.backward(layer, g, input_grad, |b, dims, g| {
            let width = dims.channels;
            b.coef.clear();
            push_affine(&mut b.coef, gamma.map(|gamma| (gamma, gamma)), width);
            let gs = g.as_slice().expect(CONTIGUOUS);
            let dx = shaped(&mut b.grad_input, g.raw_dim());
            let (gamma, xhat, invstd) = (&b.coef[..width], &b.xhat, &b.invstd);
            for_chunks(dims, [dx], &mut [], 0, &|rows, [dx], _| {
                let range = rows.start * width..rows.end * width;
                let (gs, xhat) = (&gs[range.clone()], &xhat[range]);
                with_simd(
                    #[inline(always)]
                    || {
                        let rows_of = gs.chunks_exact(width).zip(xhat.chunks_exact(width));
                        for (r, ((g, x), dx)) in rows_of.zip(dx.chunks_exact_mut(width)).enumerate()
                        {
                            // Σ g·γ (j = 0) and Σ g·γ·x̂ (j = 1).
                            let sums: [f64; 2] =
                                sum_run(
                                    [g, x, gamma],
                                    |j, [g, x, gm]| {
                                        if j == 0 { g * gm } else { g * gm * x }
                                    },
                                );
                            let [mean_gg, mean_ggx] = sums.map(|s| (s / width as f64) as f32);
                            let s = invstd[rows.start + r];
                            map_run([g, x], [gamma], [dx], |[gamma], [g, x]| {
                                [s * (g * gamma - mean_gg - x * mean_ggx)]
                            });
                        }
                    },
                );
            });
        })
    }
}

/// `len` values as rows of `width` (a `[rows, width, 1]` view for the chunking).
fn row_dims(len: usize, width: usize) -> Dims {
    let batch = len.checked_div(width).unwrap_or(0);
    Dims {
        batch,
        channels: width,
        spatial: 1,
    }
}
