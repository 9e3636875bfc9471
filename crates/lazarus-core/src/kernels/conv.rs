//! Conv2d on the one matrix product, [`gemm`](super::gemm): im2col, batch cut over threads.
//!
//! What is computed is in `conv2d.rs` (the formulas, and `Conv2d::forward_reference` /
//! `backward_reference` in plain loops). Here, for each sample n and group g, with
//! `col = im2col(x[n], g)` of shape `[C/G·kh·kw, oh·ow]` (`conv_im2col.rs`):
//!
//! ```text
//! forward   Y[n, g]  = W[g] · col                     [O/G, oh·ow]   (+ b, set first)
//! weights   dW[g]   += dY[n, g] · colᵀ                [O/G, C/G·kh·kw]
//! bias      db      += Σ_positions dY[n]               [O]
//! input     dcol     = W[g]ᵀ · dY[n, g],  dx[n] = col2im(dcol)
//! ```
//!
//! A 1×1 convolution with stride 1 and no padding needs no im2col: `col` is `x[n, g]` itself.
//!
//! How the batch is cut, and why results do not depend on the thread count:
//!
//! * The batch is cut into chunks of [`CHUNK`] samples: the boundaries depend on the batch
//!   size only. The chunks are dealt to `min(threads, chunks)` pieces (piece p takes chunks
//!   p, p + pieces, …), each with its own im2col buffer.
//! * Everything per sample (Y[n], dx[n]) is computed by one piece, the same way whichever.
//! * dW and db sum over the batch: each chunk sums its samples, in order, into its own partial
//!   (a slot per chunk, not per thread), and the partials are added into the gradient in chunk
//!   order once all pieces are done. Same chunks, same order, same bits for 1 thread or 8.
//! * Small convolutions run as one piece; a product inside a piece that runs on the pool stays
//!   on its thread (a nested `parallel_for` runs serially), and a product of a single piece
//!   may be cut by `gemm` itself, which does not change its bits either.
//!
//! Buffers (im2col per piece, partials per chunk) live in a [`ConvScratch`] the layer owns:
//! they grow on the first batch and are reused after.

use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};

use super::conv_im2col::{ColLayout, col2im, im2col};
use super::gemm;
use super::threads::{Shared, num_threads, parallel_for};
use super::with_simd;

/// Samples per chunk of the batch sums (dW, db): boundaries independent of the thread count.
pub(crate) const CHUNK: usize = 4;

/// Convolutions with fewer multiply-adds than this run as one piece.
const MIN_PARALLEL_MACS: usize = 1 << 18;

/// The shapes of one convolution over one input: every size the kernels need, computed and
/// checked by `Conv2dSettings::geometry` (the output-size formula is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvGeometry {
    pub(crate) batch: usize,
    pub(crate) in_channels: usize,
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) out_channels: usize,
    pub(crate) groups: usize,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) dilation: (usize, usize),
    /// Zeros before the first row and column (`"same"` may put one more after the last).
    pub(crate) pad: (usize, usize),
    pub(crate) out_height: usize,
    pub(crate) out_width: usize,
}

impl ConvGeometry {
    /// `[batch, C, h, w]`.
    pub(crate) fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.height, self.width]
    }

    /// `[batch, O, oh, ow]`.
    pub(crate) fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_height,
            self.out_width,
        ]
    }

    /// Rows of `col` (and columns of a group's weight matrix): C/G·kh·kw.
    fn taps(&self) -> usize {
        self.in_channels / self.groups * self.kernel.0 * self.kernel.1
    }

    fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    fn input_len(&self) -> usize {
        self.in_channels * self.height * self.width
    }

    fn output_len(&self) -> usize {
        self.out_channels * self.positions()
    }

    /// 1×1, stride 1, no padding: `col` is the input itself.
    fn pointwise(&self) -> bool {
        self.kernel == (1, 1) && self.stride == (1, 1) && self.pad == (0, 0)
    }

    fn chunks(&self) -> usize {
        self.batch.div_ceil(CHUNK)
    }

    /// Pieces to cut the batch into: one for small convolutions.
    fn pieces(&self) -> usize {
        let macs = self.batch * self.output_len() * self.taps();
        if macs < MIN_PARALLEL_MACS {
            1
        } else {
            num_threads().min(self.chunks()).max(1)
        }
    }
}

/// Buffers a convolution layer keeps between batches.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConvScratch {
    /// One im2col buffer per piece.
    cols: Vec<Vec<f32>>,
    /// How `col` lies in those buffers (their margins are zero while it stays the same).
    layout: Option<ColLayout>,
    /// dW of each chunk, `[chunks, O, C/G·kh·kw]`.
    dw_parts: Vec<f32>,
    /// db of each chunk, `[chunks, O]`.
    db_parts: Vec<f32>,
}

impl ConvScratch {
    /// Make room for `pieces` im2col buffers (and partials when `chunks > 0`).
    fn reserve(&mut self, geo: &ConvGeometry, pieces: usize, chunks: usize) -> ColLayout {
        let layout = ColLayout::of(geo);
        let col_len = if geo.pointwise() {
            0
        } else {
            geo.taps() * layout.ld
        };
        if self.cols.len() < pieces {
            self.cols.resize_with(pieces, Vec::new);
        }
        let fresh = self.layout != Some(layout);
        for col in &mut self.cols[..pieces] {
            if fresh {
                // New margins must start as zeros; nothing writes them afterwards.
                col.clear();
            }
            col.resize(col_len, 0.0);
        }
        if fresh {
            self.cols.truncate(pieces);
        }
        self.layout = Some(layout);
        self.dw_parts
            .resize(chunks * geo.out_channels * geo.taps(), 0.0);
        self.db_parts.resize(chunks * geo.out_channels, 0.0);
        layout
    }
}

/// Run `chunk(piece, c)` for every chunk c of the batch, the chunks dealt to the pieces.
fn for_each_chunk(geo: &ConvGeometry, pieces: usize, chunk: &(dyn Fn(usize, usize) + Sync)) {
    let chunks = geo.chunks();
    let piece = |p: usize| (p..chunks).step_by(pieces).for_each(|c| chunk(p, c));
    if pieces == 1 {
        piece(0);
    } else {
        parallel_for(pieces, &piece);
    }
}

/// Samples of chunk `c`.
fn samples(geo: &ConvGeometry, c: usize) -> std::ops::Range<usize> {
    c * CHUNK..((c + 1) * CHUNK).min(geo.batch)
}

fn matrix(values: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), &values[..rows * cols]).expect("sizes from the geometry")
}

fn matrix_mut(values: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), &mut values[..rows * cols])
        .expect("sizes from the geometry")
}

/// The `[taps, positions]` matrix `col` inside its buffer (rows `layout.ld` apart).
fn col_matrix<'a>(geo: &ConvGeometry, col: &'a [f32], layout: ColLayout) -> ArrayView2<'a, f32> {
    let shape = (geo.taps(), geo.positions()).strides((layout.ld, 1));
    ArrayView2::from_shape(shape, &col[layout.margin..]).expect("sizes from the geometry")
}

fn col_matrix_mut<'a>(
    geo: &ConvGeometry,
    col: &'a mut [f32],
    layout: ColLayout,
) -> ArrayViewMut2<'a, f32> {
    let shape = (geo.taps(), geo.positions()).strides((layout.ld, 1));
    ArrayViewMut2::from_shape(shape, &mut col[layout.margin..]).expect("sizes from the geometry")
}

/// `x_n`'s group `g` as the matrix `col` (im2col into `col`, or `x_n` itself when pointwise).
fn columns<'a>(
    geo: &ConvGeometry,
    x_n: &'a [f32],
    g: usize,
    col: &'a mut [f32],
    layout: ColLayout,
) -> ArrayView2<'a, f32> {
    let (taps, positions) = (geo.taps(), geo.positions());
    if geo.pointwise() {
        matrix(&x_n[g * taps * positions..], taps, positions)
    } else {
        with_simd(|| im2col(geo, x_n, g, col, layout));
        col_matrix(geo, col, layout)
    }
}

/// `y ← conv(x, w) + b` for the whole batch; when `keep` is given, `x` is also copied there
/// (sample by sample, as each is read: the layer keeps its input for backward).
///
/// Slices are contiguous NCHW (`x`, `y`, `keep`) and `[O, C/G, kh, kw]` (`w`), of the
/// geometry's sizes (the layer checks them).
pub(crate) fn conv2d_forward(
    geo: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    mut keep: Option<&mut [f32]>,
    scratch: &mut ConvScratch,
) {
    let pieces = geo.pieces();
    let layout = scratch.reserve(geo, pieces, 0);
    let (in_len, out_len) = (geo.input_len(), geo.output_len());
    let (og, taps, positions) = (geo.out_channels / geo.groups, geo.taps(), geo.positions());
    let y_ptr = Shared(y.as_mut_ptr());
    let keep_ptr = keep.as_mut().map(|k| Shared(k.as_mut_ptr()));
    let cols = Shared(scratch.cols.as_mut_ptr());
    for_each_chunk(geo, pieces, &|p, c| {
        // SAFETY: piece p alone uses im2col buffer p; chunk c's samples are written by this
        // call alone (their slices of `y` and `keep` are disjoint from every other chunk's).
        let col = unsafe { &mut *cols.get().add(p) };
        for n in samples(geo, c) {
            let y_n =
                unsafe { std::slice::from_raw_parts_mut(y_ptr.get().add(n * out_len), out_len) };
            let mut x_n = &x[n * in_len..(n + 1) * in_len];
            if let Some(keep) = keep_ptr {
                let kept =
                    unsafe { std::slice::from_raw_parts_mut(keep.get().add(n * in_len), in_len) };
                kept.copy_from_slice(x_n);
                x_n = kept;
            }
            for g in 0..geo.groups {
                let y_g = &mut y_n[g * og * positions..(g + 1) * og * positions];
                // Y = b (each row its channel's bias), then Y += W·col.
                let beta = match bias {
                    Some(b) => {
                        for (row, &b) in y_g.chunks_exact_mut(positions).zip(&b[g * og..]) {
                            row.fill(b);
                        }
                        1.0
                    }
                    None => 0.0,
                };
                let col = columns(geo, x_n, g, col, layout);
                let w_g = matrix(&w[g * og * taps..], og, taps);
                gemm(w_g, col, beta, &mut matrix_mut(y_g, og, positions));
            }
        }
    });
}

/// Backward for the whole batch: `dw += dW`, `db += db` (when there is a bias) and, when `dx`
/// is given, `dx ← dL/dx` (overwritten). `x` is the forward's input, `g` = dL/dy, all
/// contiguous with the geometry's sizes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv2d_backward(
    geo: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    g: &[f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
    dx: Option<&mut [f32]>,
    scratch: &mut ConvScratch,
) {
    let (pieces, chunks) = (geo.pieces(), geo.chunks());
    let layout = scratch.reserve(geo, pieces, chunks);
    let (in_len, out_len) = (geo.input_len(), geo.output_len());
    let (o, og, taps, positions) = (
        geo.out_channels,
        geo.out_channels / geo.groups,
        geo.taps(),
        geo.positions(),
    );
    let dx_ptr = dx.map(|d| Shared(d.as_mut_ptr()));
    let cols = Shared(scratch.cols.as_mut_ptr());
    let dw_parts = Shared(scratch.dw_parts.as_mut_ptr());
    let db_parts = Shared(scratch.db_parts.as_mut_ptr());
    for_each_chunk(geo, pieces, &|p, c| {
        // SAFETY: piece p alone uses im2col buffer p; chunk c alone writes its partials and
        // its samples' slices of dx.
        let col = unsafe { &mut *cols.get().add(p) };
        let dw_c =
            unsafe { std::slice::from_raw_parts_mut(dw_parts.get().add(c * o * taps), o * taps) };
        let db_c = unsafe { std::slice::from_raw_parts_mut(db_parts.get().add(c * o), o) };
        db_c.fill(0.0);
        for (i, n) in samples(geo, c).enumerate() {
            let x_n = &x[n * in_len..(n + 1) * in_len];
            let g_n = &g[n * out_len..(n + 1) * out_len];
            let mut dx_n = dx_ptr.map(|d| unsafe {
                std::slice::from_raw_parts_mut(d.get().add(n * in_len), in_len)
            });
            for grp in 0..geo.groups {
                let g_g = matrix(&g_n[grp * og * positions..], og, positions);
                let w_g = matrix(&w[grp * og * taps..], og, taps);
                let x_cols = columns(geo, x_n, grp, col, layout);
                // dW[g] (+)= dY[n, g] · colᵀ: the chunk's first sample sets the partial.
                let beta = if i == 0 { 0.0 } else { 1.0 };
                let dw_g = &mut dw_c[grp * og * taps..];
                gemm(g_g, x_cols.t(), beta, &mut matrix_mut(dw_g, og, taps));
                let Some(dx_n) = &mut dx_n else { continue };
                if geo.pointwise() {
                    // dx[n, g] = W[g]ᵀ · dY[n, g] directly: col is x[n, g].
                    let dx_g = &mut dx_n[grp * taps * positions..];
                    gemm(w_g.t(), g_g, 0.0, &mut matrix_mut(dx_g, taps, positions));
                } else {
                    // dcol = W[g]ᵀ · dY[n, g] into the im2col buffer (col is used up), then
                    // each entry back onto the input position it came from.
                    gemm(w_g.t(), g_g, 0.0, &mut col_matrix_mut(geo, col, layout));
                    with_simd(|| col2im(geo, col, layout, grp, dx_n));
                }
            }
            // db += Σ_positions dY[n, o]
            with_simd(|| {
                for (b, row) in db_c.iter_mut().zip(g_n.chunks_exact(positions)) {
                    *b += sum_lanes(row);
                }
            });
        }
    });
    // The chunks' partials, added in chunk order.
    for (k, d) in dw.iter_mut().enumerate() {
        *d += (0..chunks)
            .map(|c| scratch.dw_parts[c * o * taps + k])
            .sum::<f32>();
    }
    if let Some(db) = db {
        for (k, d) in db.iter_mut().enumerate() {
            *d += (0..chunks)
                .map(|c| scratch.db_parts[c * o + k])
                .sum::<f32>();
        }
    }
}

/// `Σ values` in 16 independent partial sums (which vectorize), added in a fixed order.
#[inline(always)]
fn sum_lanes(values: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut partial = [0.0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder().iter().sum::<f32>();
    for chunk in chunks {
        for (p, &v) in partial.iter_mut().zip(chunk) {
            *p += v;
        }
    }
    partial.iter().sum::<f32>() + rest
}
