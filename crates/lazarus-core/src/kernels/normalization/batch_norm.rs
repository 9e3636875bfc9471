//! BatchNorm's passes: per-channel statistics over the batch, `y = γ·x̂ + β`, and backward
//! (the formulas are in `src/normalization/batch_norm.rs`).

use std::array::from_fn;

use super::{
    Buffers, CONTIGUOUS, Dims, Gradients, channel_sums, inverse_std, map_channels, push_affine,
    shaped,
};
use crate::{Result, TensorView};

/// BatchNorm's buffers: [`Buffers`], and the batch statistics of the last forward.
#[derive(Debug, Clone, Default)]
pub(crate) struct BatchNormKernel {
    b: Buffers,
    /// Per channel: μ and Σ (x − μ)² of the last batch-statistics forward.
    mean: Vec<f32>,
    var_sum: Vec<f64>,
}

impl BatchNormKernel {
    /// Batch statistics and `y = γ·x̂ + β` with `x̂ = (x − μ)/√(σ² + ε)`. Returns the output
    /// and the per-channel μ and Σ (x − μ)² (for the running statistics). With `keep`, x̂ and
    /// 1/σ are kept for backward.
    pub(crate) fn forward_batch(
        &mut self,
        x: TensorView<'_>,
        eps: f32,
        affine: Option<(&[f32], &[f32])>,
        keep: bool,
    ) -> (TensorView<'_>, &[f32], &[f64]) {
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect(CONTIGUOUS);
        let dims = Dims::of(x.shape());
        let (count, channels) = (dims.per_channel(), dims.channels);
        let b = &mut self.b;
        // μ_c = Σ x / M; then σ²_c·M = Σ (x − μ_c)² (two passes: no cancellation).
        channel_sums::<1, 0, 1>(dims, [xs], [], (&mut b.parts, &mut b.sums), &|_, [], [x]| x);
        self.mean.clear();
        self.mean
            .extend(b.sums.iter().map(|s| (s / count as f64) as f32));
        let scratch = (&mut b.parts, &mut self.var_sum);
        channel_sums::<1, 1, 1>(dims, [xs], [&self.mean], scratch, &|_, [mean], [x]| {
            (x - mean) * (x - mean)
        });
        b.invstd.clear();
        b.invstd
            .extend(self.var_sum.iter().map(|&v| inverse_std(v, count, eps)));
        b.coef.clear();
        b.coef.extend_from_slice(&self.mean);
        b.coef.extend_from_slice(&b.invstd);
        push_affine(&mut b.coef, affine, channels);
        let (y, consts) = (
            shaped(&mut b.output, x.raw_dim()),
            split4(&b.coef, channels),
        );
        if keep {
            b.xhat.resize(xs.len(), 0.0);
            let f = |[m, s, g, b]: [f32; 4], [x]: [f32; 1]| {
                let xhat = (x - m) * s;
                [xhat * g + b, xhat]
            };
            map_channels(dims, [xs], consts, [y, &mut b.xhat], &f);
        } else {
            let f = |[m, s, g, b]: [f32; 4], [x]: [f32; 1]| [(x - m) * s * g + b];
            map_channels(dims, [xs], consts, [y], &f);
        }
        b.cached = keep.then_some(dims);
        (b.output.view(), &self.mean, &self.var_sum)
    }

    /// `y = γ·(x − mean)/√(var + ε) + β` with given (running) statistics; keeps nothing.
    pub(crate) fn forward_running(
        &mut self,
        x: TensorView<'_>,
        (mean, var): (&[f32], &[f32]),
        eps: f32,
        affine: Option<(&[f32], &[f32])>,
    ) -> TensorView<'_> {
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect(CONTIGUOUS);
        let (dims, b) = (Dims::of(x.shape()), &mut self.b);
        b.coef.clear();
        b.coef.extend_from_slice(mean);
        b.coef
            .extend(var.iter().map(|&v| inverse_std(f64::from(v), 1, eps)));
        push_affine(&mut b.coef, affine, dims.channels);
        let (y, consts) = (
            shaped(&mut b.output, x.raw_dim()),
            split4(&b.coef, dims.channels),
        );
        let f = |[m, s, g, b]: [f32; 4], [x]: [f32; 1]| [(x - m) * s * g + b];
        map_channels(dims, [xs], consts, [y], &f);
        b.cached = None;
        b.output.view()
    }

    /// Backward of the last training forward, for upstream gradient g: returns dL/dx (unless
    /// `input_grad` is false) and the per-channel Σ g·x̂ (dL/dγ) and Σ g (dL/dβ).
    ///
    /// `dx = γ/σ · (g − mean(g) − x̂·mean(g·x̂))`, the means over the channel's M values.
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
        self.b.backward(layer, g, input_grad, |b, dims, g| {
            let (channels, count) = (dims.channels, dims.per_channel() as f64);
            // Per channel: a = γ/σ, then mean(g·x̂) and mean(g).
            b.coef.clear();
            let gamma = |c: usize| gamma.map_or(1.0, |gamma| gamma[c]);
            b.coef.extend((0..channels).map(|c| gamma(c) * b.invstd[c]));
            b.coef.extend(b.sums.iter().map(|&s| (s / count) as f32));
            let (a, means) = b.coef.split_at(channels);
            let (mean_gx, mean_g) = means.split_at(channels);
            let dx = shaped(&mut b.grad_input, g.raw_dim());
            let inputs = [g.as_slice().expect(CONTIGUOUS), &b.xhat];
            let f = |[a, mg, mgx]: [f32; 3], [g, x]: [f32; 2]| [a * (g - mg - x * mgx)];
            map_channels(dims, inputs, [a, mean_g, mean_gx], [dx], &f);
        })
    }
}

/// `coef` as four consecutive vectors of `n` values.
fn split4(coef: &[f32], n: usize) -> [&[f32]; 4] {
    from_fn(|i| &coef[i * n..(i + 1) * n])
}
