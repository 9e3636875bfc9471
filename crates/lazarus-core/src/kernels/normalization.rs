//! Normalization's fast paths: BatchNorm's per-channel passes and LayerNorm's per-row ones.
//!
//! The math is in `normalization/batch_norm.rs` and `normalization/layer_norm.rs`: the formulas
//! in their docs, and the plain-ndarray `forward_reference`/`backward_reference` these kernels
//! are tested against (`tests/batch_norm.rs`, `tests/layer_norm.rs`). What is added here is
//! speed, with the same results for every thread count:
//!
//! * the input is cut into chunks of whole samples (rows) of about [`CHUNK`] elements, whose
//!   boundaries depend on the shape alone; the chunks run on the thread pool ([`parallel_for`]);
//! * a sum over the batch (a channel's Σ x, Σ (x − μ)², Σ g, Σ g·x̂) is summed chunk by chunk
//!   into a partial sum per chunk, and the partial sums are added in chunk order: the same
//!   additions in the same order whichever thread ran which chunk, so 1, 2 or 3 threads give
//!   the same bits;
//! * inside a chunk, a run of one channel's elements (an `h·w` plane, or a LayerNorm row) is
//!   summed in [`LANES`] f32 lanes per block of [`BLOCK`] elements (a reduction LLVM vectorizes;
//!   two sums over the same run, as Σ g·x̂ and Σ g, are taken one after the other over each
//!   block, in L1 by the second) and each block's sum is added to an f64 total, so a large batch
//!   does not drift;
//! * `[batch, C]` inputs (and LayerNorm's dL/dγ, dL/dβ, sums over rows) are summed by blocks of
//!   columns instead: a task adds the rows into its columns' f64 sums one after the other, so
//!   each sum again has one fixed order, and no partial sums are needed however wide the rows;
//! * x̂ = (x − μ)/σ is kept by the training forward for backward (one write, instead of keeping x
//!   and computing x̂ again);
//! * every loop runs inside [`with_simd`] (compiled a second time for AVX2), and every buffer
//!   is owned here and reused: nothing is allocated once a shape has been seen.

use std::array::from_fn;
use std::ops::Range;

use ndarray::IxDyn;

use super::threads::Shared;
use super::{parallel_for, with_simd};
use crate::{Error, Result, Tensor, TensorView, reuse_buffer};

/// Elements per chunk (a task of the thread pool): far more work than the microsecond a
/// hand-over costs, and small enough that a [64, 16, 28, 28] batch makes 64 chunks to share.
const CHUNK: usize = 1 << 14;
/// Independent f32 partial sums per run (two AVX2 registers).
const LANES: usize = 16;
/// Elements summed in f32 before their sum is added to an f64 total.
const BLOCK: usize = 512;

/// Why `as_slice` cannot fail after `as_standard_layout`, or on a buffer we own.
const CONTIGUOUS: &str = "standard-layout arrays are contiguous";

/// An input seen as `[batch, channels, spatial]`: BatchNorm's `[N, C]` (spatial 1),
/// `[N, C, L]` and `[N, C, H, W]` (spatial `H·W`); LayerNorm's `[rows, width]` is `[rows, width,
/// 1]`. Element `(n, c, s)` is at `(n·C + c)·S + s` in row-major order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Dims {
    pub(crate) batch: usize,
    pub(crate) channels: usize,
    pub(crate) spatial: usize,
}

impl Dims {
    /// `[batch, channels, spatial...]` (at least two axes; the layer checked).
    pub(crate) fn of(shape: &[usize]) -> Self {
        Self {
            batch: shape[0],
            channels: shape[1],
            spatial: shape[2..].iter().product(),
        }
    }

    /// Values per channel, M = batch · spatial (what a channel's mean divides by).
    pub(crate) fn per_channel(self) -> usize {
        self.batch * self.spatial
    }

    fn len(self) -> usize {
        self.batch * self.row_len()
    }

    fn row_len(self) -> usize {
        self.channels * self.spatial
    }

    fn rows_per_chunk(self) -> usize {
        (CHUNK / self.row_len().max(1)).max(1)
    }

    fn chunks(self) -> usize {
        self.batch.div_ceil(self.rows_per_chunk())
    }

    fn chunk_rows(self, chunk: usize) -> Range<usize> {
        let rows = self.rows_per_chunk();
        chunk * rows..((chunk + 1) * rows).min(self.batch)
    }
}

/// What [`for_chunks`] runs on a chunk: its rows, its part of each output, its partial sums.
type ChunkTask<'a, const O: usize> = dyn Fn(Range<usize>, [&mut [f32]; O], &mut [f64]) + Sync + 'a;

/// Run `task(rows, outs, part)` for every chunk of rows, in parallel: `outs` are the chunk's
/// rows of each mutable slice (each `dims.len()` long), `part` its own `part_len` values of
/// `parts` (`chunks · part_len` long).
fn for_chunks<const O: usize>(
    dims: Dims,
    outs: [&mut [f32]; O],
    parts: &mut [f64],
    part_len: usize,
    task: &ChunkTask<'_, O>,
) {
    assert!(outs.iter().all(|o| o.len() == dims.len()) && parts.len() >= dims.chunks() * part_len);
    let outs = outs.map(|o| Shared(o.as_mut_ptr()));
    let parts = Shared(parts.as_mut_ptr());
    let row_len = dims.row_len();
    parallel_for(dims.chunks(), &|chunk| {
        let rows = dims.chunk_rows(chunk);
        let (start, len) = (rows.start * row_len, rows.len() * row_len);
        // SAFETY: chunks cover disjoint rows, so disjoint ranges of every output, and each has
        // its own `part_len` values of `parts`; all are borrowed for the whole call.
        let outs = outs.map(|o| unsafe { std::slice::from_raw_parts_mut(o.get().add(start), len) });
        let part =
            unsafe { std::slice::from_raw_parts_mut(parts.get().add(chunk * part_len), part_len) };
        task(rows, outs, part);
    });
}

/// For every channel c, `K` sums over the channel's elements i: sum j of `term(j, k, values)`,
/// k the channel's constants (`consts[p][c]`) and values the inputs at i, goes to
/// `sums[j·C + c]`. Chunks of rows run in parallel, each into its own partial sums (in
/// `parts`), which are then added in chunk order. (`[batch, C]` inputs go to
/// [`column_sums`].)
fn channel_sums<const M: usize, const P: usize, const K: usize>(
    dims: Dims,
    inputs: [&[f32]; M],
    consts: [&[f32]; P],
    (parts, sums): (&mut Vec<f64>, &mut Vec<f64>),
    term: &(impl Fn(usize, [f32; P], [f32; M]) -> f32 + Sync),
) {
    let (channels, spatial, row_len) = (dims.channels, dims.spatial, dims.row_len());
    sums.clear();
    sums.resize(K * channels, 0.0);
    if spatial == 1 {
        column_sums::<M, P, K>(dims, inputs, consts, sums, term);
        return;
    }
    parts.clear();
    parts.resize(dims.chunks() * K * channels, 0.0);
    for_chunks(dims, [], parts, K * channels, &|rows, [], part| {
        let inputs = inputs.map(|x| &x[rows.start * row_len..rows.end * row_len]);
        with_simd(
            #[inline(always)]
            || {
                for row in (0..rows.len()).map(|r| inputs.map(|x| &x[r * row_len..][..row_len])) {
                    for c in 0..channels {
                        let run = row.map(|x| &x[c * spatial..][..spatial]);
                        let k = consts.map(|k| k[c]);
                        let plane: [f64; K] = sum_run(run, |j, v| term(j, k, v));
                        for (j, sum) in plane.into_iter().enumerate() {
                            part[j * channels + c] += sum;
                        }
                    }
                }
            },
        );
    });
    for part in parts.chunks_exact(K * channels) {
        sums.iter_mut().zip(part).for_each(|(s, &p)| *s += p);
    }
}

/// [`channel_sums`] for `[batch, C]` inputs, where each channel is a column: a task takes a
/// block of columns and adds the rows into their sums one after the other, in f64 (a vertical
/// add, vectorized along the row). Each sum has one task and a fixed order, so no partial sums
/// are needed, however wide the rows (LayerNorm's dL/dγ over a `[C, H, W]` row, for one).
fn column_sums<const M: usize, const P: usize, const K: usize>(
    dims: Dims,
    inputs: [&[f32]; M],
    consts: [&[f32]; P],
    sums: &mut [f64],
    term: &(impl Fn(usize, [f32; P], [f32; M]) -> f32 + Sync),
) {
    let (rows, channels) = (dims.batch, dims.channels);
    // Columns per task: about CHUNK elements each, whole lanes.
    let width = (CHUNK / rows.max(1)).max(1).next_multiple_of(LANES);
    let width = width.min(channels.max(1));
    let sums = Shared(sums.as_mut_ptr());
    parallel_for(channels.div_ceil(width), &|task| {
        let columns = task * width..((task + 1) * width).min(channels);
        // SAFETY: each task has its own columns of each of the K sums, and `sums` (K·C long)
        // is borrowed for the whole call.
        let mut acc: [&mut [f64]; K] = from_fn(|j| unsafe {
            let start = sums.get().add(j * channels + columns.start);
            std::slice::from_raw_parts_mut(start, columns.len())
        });
        let consts = consts.map(|k| &k[columns.clone()]);
        with_simd(
            #[inline(always)]
            || {
                for r in 0..rows {
                    let row = inputs.map(|x| &x[r * channels..][columns.clone()]);
                    add_along(row, consts, &mut acc, term);
                }
            },
        );
    });
}

/// `outs[i] = f(k, [input[i] for each input])` for every element i, k the constants of its
/// channel (`consts[p][c]`).
fn map_channels<const M: usize, const P: usize, const O: usize>(
    dims: Dims,
    inputs: [&[f32]; M],
    consts: [&[f32]; P],
    outs: [&mut [f32]; O],
    f: &(impl Fn([f32; P], [f32; M]) -> [f32; O] + Sync),
) {
    let (channels, spatial, row_len) = (dims.channels, dims.spatial, dims.row_len());
    for_chunks(dims, outs, &mut [], 0, &|rows, mut outs, _| {
        let inputs = inputs.map(|x| &x[rows.start * row_len..rows.end * row_len]);
        with_simd(
            #[inline(always)]
            || {
                for r in 0..rows.len() {
                    let (start, end) = (r * row_len, (r + 1) * row_len);
                    let row = inputs.map(|x| &x[start..end]);
                    let mut out = outs.each_mut().map(|o| &mut o[start..end]);
                    if spatial == 1 {
                        // `[batch, C]`: the constants are vectors along the row.
                        map_run(row, consts, out, f);
                        continue;
                    }
                    for c in 0..channels {
                        let (run, k) = (
                            row.map(|x| &x[c * spatial..][..spatial]),
                            consts.map(|k| k[c]),
                        );
                        let out = out.each_mut().map(|o| &mut o[c * spatial..][..spatial]);
                        map_run(run, [], out, |[], v| f(k, v));
                    }
                }
            },
        );
    });
}

/// `LANES` consecutive values of each slice from `i` (one bounds check per chunk, none per
/// lane). The loops below take lane `l` of every slice as `from_fn(|m| x[m][l])`, which LLVM
/// vectorizes across the lanes (our first version, with `x.map(|x| x[l])`, partly did not).
#[inline(always)]
fn lanes<const M: usize>(slices: [&[f32]; M], i: usize) -> [&[f32; LANES]; M] {
    slices.map(|x| x[i..i + LANES].try_into().expect("LANES values"))
}

/// `outs[i] = f([per[p][i]], [ins[m][i]])` over equal-length slices, [`LANES`] at a time: a
/// chunk's results are computed into a local array, then stored, so LLVM vectorizes across
/// the lanes without having to prove that the outputs do not overlap the inputs.
#[inline(always)]
fn map_run<const M: usize, const P: usize, const O: usize>(
    ins: [&[f32]; M],
    per: [&[f32]; P],
    mut outs: [&mut [f32]; O],
    f: impl Fn([f32; P], [f32; M]) -> [f32; O],
) {
    let len = outs.first().map_or(0, |o| o.len());
    let whole = len / LANES * LANES;
    for i in (0..whole).step_by(LANES) {
        let (x, k) = (lanes(ins, i), lanes(per, i));
        let mut y = [[0.0f32; LANES]; O];
        for l in 0..LANES {
            let v = f(from_fn(|p| k[p][l]), from_fn(|m| x[m][l]));
            for o in 0..O {
                y[o][l] = v[o];
            }
        }
        for (out, y) in outs.iter_mut().zip(&y) {
            out[i..i + LANES].copy_from_slice(y);
        }
    }
    for i in whole..len {
        let v = f(per.map(|k| k[i]), ins.map(|x| x[i]));
        for o in 0..O {
            outs[o][i] = v[o];
        }
    }
}

/// `acc[j][i] += term(j, [per[p][i]], [ins[m][i]])` in f64 over equal-length slices, a chunk
/// of [`LANES`] at a time (added in a local array, as in [`map_run`]).
#[inline(always)]
fn add_along<const M: usize, const P: usize, const K: usize>(
    ins: [&[f32]; M],
    per: [&[f32]; P],
    acc: &mut [&mut [f64]; K],
    term: impl Fn(usize, [f32; P], [f32; M]) -> f32,
) {
    let len = acc.first().map_or(0, |a| a.len());
    let whole = len / LANES * LANES;
    for i in (0..whole).step_by(LANES) {
        let (x, k) = (lanes(ins, i), lanes(per, i));
        let mut a = [[0.0f64; LANES]; K];
        for (a, acc) in a.iter_mut().zip(acc.iter()) {
            a.copy_from_slice(&acc[i..i + LANES]);
        }
        for (j, a) in a.iter_mut().enumerate() {
            for (l, a) in a.iter_mut().enumerate() {
                *a += f64::from(term(j, from_fn(|p| k[p][l]), from_fn(|m| x[m][l])));
            }
        }
        for (acc, a) in acc.iter_mut().zip(&a) {
            acc[i..i + LANES].copy_from_slice(a);
        }
    }
    for i in whole..len {
        for (j, acc) in acc.iter_mut().enumerate() {
            acc[i] += f64::from(term(j, per.map(|k| k[i]), ins.map(|x| x[i])));
        }
    }
}

/// `K` sums over a run of elements, the j-th of `term(j, values at i)`, in [`LANES`] f32
/// partial sums per block of [`BLOCK`] elements, each block's total added in f64. The sums
/// are taken one after the other over each block (in L1 by then), so that inside a loop `j` is
/// fixed and the term is one vectorizable expression: computed together, two sums of two
/// inputs came out as scalar code.
#[inline(always)]
fn sum_run<const M: usize, const K: usize>(
    run: [&[f32]; M],
    term: impl Fn(usize, [f32; M]) -> f32,
) -> [f64; K] {
    let len = run.first().map_or(0, |x| x.len());
    let mut total = [0.0f64; K];
    for start in (0..len).step_by(BLOCK) {
        let block = run.map(|x| &x[start..(start + BLOCK).min(len)]);
        let whole = block[0].len() / LANES * LANES;
        for (j, total) in total.iter_mut().enumerate() {
            let mut partial = [0.0f32; LANES];
            for i in (0..whole).step_by(LANES) {
                let x = lanes(block, i);
                for (l, partial) in partial.iter_mut().enumerate() {
                    *partial += term(j, from_fn(|m| x[m][l]));
                }
            }
            for i in whole..block[0].len() {
                *total += f64::from(term(j, block.map(|x| x[i])));
            }
            *total += partial.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
    }
    total
}

/// `1/√(σ² + ε)` computed in f64 from `σ² = var_sum / count`, as PyTorch does.
fn inverse_std(var_sum: f64, count: usize, eps: f32) -> f32 {
    (1.0 / (var_sum / count as f64 + f64::from(eps)).sqrt()) as f32
}

/// What a backward pass gives: dL/dx, Σ g·x̂ and Σ g (per channel or per normalized position).
type Gradients<'a> = (TensorView<'a>, &'a [f64], &'a [f64]);

/// What both kernels keep: x̂ and 1/σ of the last training forward (and its shape, while a
/// backward may follow), the output and dL/dx, the constants and sums of the passes.
#[derive(Debug, Clone, Default)]
struct Buffers {
    cached: Option<Dims>,
    xhat: Vec<f32>,
    /// 1/σ per channel (BatchNorm) or per row (LayerNorm).
    invstd: Vec<f32>,
    /// Per-channel or per-position constants of a pass, as consecutive vectors.
    coef: Vec<f32>,
    /// Chunk partial sums, and their totals.
    parts: Vec<f64>,
    sums: Vec<f64>,
    output: Tensor,
    grad_input: Tensor,
}

impl Buffers {
    /// Backward of the last training forward, for upstream gradient `g`: the sums `Σ g·x̂` and
    /// `Σ g` per channel of its `dims` (dL/dγ and dL/dβ, in `sums`), then, if `input_grad`,
    /// `dx_pass(self, dims, g)` to write dL/dx into `grad_input` (`g` in row-major order).
    ///
    /// # Errors
    /// `BackwardBeforeForward` without a training forward since the last other forward;
    /// `ShapeMismatch` when `g` does not have the output's shape.
    fn backward(
        &mut self,
        layer: &str,
        g: TensorView<'_>,
        input_grad: bool,
        dx_pass: impl FnOnce(&mut Self, Dims, TensorView<'_>),
    ) -> Result<Gradients<'_>> {
        let before = || Error::BackwardBeforeForward {
            layer: layer.into(),
        };
        let dims = self.cached.ok_or_else(before)?;
        crate::expect_shape(layer, self.output.shape(), g.shape())?;
        let g = g.as_standard_layout();
        let gs = g.as_slice().expect(CONTIGUOUS);
        let scratch = (&mut self.parts, &mut self.sums);
        // Σ g·x̂ (j = 0) and Σ g (j = 1).
        let term = |j: usize, _: [f32; 0], [g, x]: [f32; 2]| if j == 0 { g * x } else { g };
        channel_sums::<2, 0, 2>(dims, [gs, &self.xhat], [], scratch, &term);
        if input_grad {
            dx_pass(self, dims, g.view());
        }
        let (sum_gx, sum_g) = self.sums.split_at(dims.channels);
        Ok((self.grad_input.view(), sum_gx, sum_g))
    }
}

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

/// Append γ and β (ones and zeros without an affine transform) to `coef`.
fn push_affine(coef: &mut Vec<f32>, affine: Option<(&[f32], &[f32])>, n: usize) {
    match affine {
        Some((gamma, beta)) => {
            coef.extend_from_slice(gamma);
            coef.extend_from_slice(beta);
        }
        None => {
            coef.extend(std::iter::repeat_n(1.0, n));
            coef.extend(std::iter::repeat_n(0.0, n));
        }
    }
}

/// `coef` as four consecutive vectors of `n` values.
fn split4(coef: &[f32], n: usize) -> [&[f32]; 4] {
    from_fn(|i| &coef[i * n..(i + 1) * n])
}

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

/// `buffer` given shape `shape` (row-major, reusing its allocation), as a slice to fill.
fn shaped(buffer: &mut Tensor, shape: IxDyn) -> &mut [f32] {
    reuse_buffer(buffer, shape);
    buffer.as_slice_mut().expect(CONTIGUOUS)
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
