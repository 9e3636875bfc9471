//! im2col and col2im: a convolution's input laid out as a matrix, and the way back.
//!
//! For one sample and one group, `col` has a row per kernel tap (c, u, v) and a column per
//! output position (i, j):
//!
//! ```text
//! col[(c, u, v), (i, j)] = xpad[g·C/G + c, i·s + u·d, j·s + v·d]     (0 in the padding)
//! ```
//!
//! so the convolution is the matrix product `Y[group] = W[group] · col` (`conv.rs`). col2im
//! adds a matrix of that shape back onto the input positions each entry came from:
//! `dx[.., i·s + u·d − pad, j·s + v·d − pad] += dcol[(c, u, v), (i, j)]`.
//!
//! Why it is fast. When the stride is 1 and an output row is as wide as an input row (a
//! "same"-sized convolution, the common case), a tap's whole row of `col` is one shifted run
//! of the input plane: im2col is one copy per tap, then zeros at the few positions where the
//! shift wrapped into a neighbor row; col2im gathers, for each input position, the entries of
//! its taps (a sum of shifted rows in a fixed order, 16 positions at a time), reading into
//! zero margins around each row instead of testing bounds. Other geometries go row by row.
//! The padding is written as zeros, never read.

use super::conv::ConvGeometry;

/// The output positions `j` in `0..n` whose input index `j·stride + offset` falls inside
/// `0..len`, as a range (empty when none does).
#[inline(always)]
fn inside(offset: isize, stride: usize, len: usize, n: usize) -> (usize, usize) {
    let s = stride as isize;
    // First j with j·s + offset ≥ 0, and one past the last with j·s + offset ≤ len − 1.
    let first = if offset >= 0 {
        0
    } else {
        (-offset + s - 1) / s
    };
    let last = len as isize - 1 - offset;
    let end = if last < 0 { 0 } else { last / s + 1 };
    let end = (end as usize).min(n);
    ((first as usize).min(end), end)
}

/// For each tap (c, u, v) of `group`, in row order of `col`: `f(row, channel, row offset,
/// column offset)`, with the input channel `group·C/G + c` and the offsets `u·d − top`,
/// `v·d − left` of the tap's first input row and column (negative in the padding).
#[inline(always)]
fn for_each_tap(geo: &ConvGeometry, group: usize, mut f: impl FnMut(usize, usize, isize, isize)) {
    let (kh, kw) = geo.kernel;
    let (dh, dw) = geo.dilation;
    let (top, left) = geo.pad;
    let cg = geo.in_channels / geo.groups;
    let mut row = 0;
    for channel in group * cg..(group + 1) * cg {
        for u in 0..kh {
            for v in 0..kw {
                let off_r = (u * dh) as isize - top as isize;
                let off_c = (v * dw) as isize - left as isize;
                f(row, channel, off_r, off_c);
                row += 1;
            }
        }
    }
}

/// How a `col` matrix lies in its buffer: row r at `r·ld + margin`, `oh·ow` values long, with
/// zeros around each row (`margin` of them on each side, never written) when stride 1 keeps
/// rows their width, so that [`col2im`] can read a tap's row shifted by up to `margin`
/// positions without checking bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ColLayout {
    pub(super) ld: usize,
    pub(super) margin: usize,
}

impl ColLayout {
    pub(super) fn of(geo: &ConvGeometry) -> Self {
        let positions = geo.out_height * geo.out_width;
        if !flat(geo) {
            return Self {
                ld: positions,
                margin: 0,
            };
        }
        // Flat offsets of the taps, q − s for q in 0..h·w must stay within the margins.
        let (mut lo, mut hi) = (0isize, 0isize);
        for_each_tap(geo, 0, |_, _, off_r, off_c| {
            let shift = off_r * geo.width as isize + off_c;
            lo = lo.min(shift);
            hi = hi.max(shift);
        });
        let plane = (geo.height * geo.width) as isize;
        let margin = hi.max(plane - positions as isize - lo).max(0) as usize;
        Self {
            ld: positions + 2 * margin,
            margin,
        }
    }

    /// Row r of `col`.
    #[inline(always)]
    fn row<'a>(&self, col: &'a [f32], r: usize, positions: usize) -> &'a [f32] {
        &col[r * self.ld + self.margin..][..positions]
    }

    #[inline(always)]
    fn row_mut<'a>(&self, col: &'a mut [f32], r: usize, positions: usize) -> &'a mut [f32] {
        &mut col[r * self.ld + self.margin..][..positions]
    }
}

/// `col ← im2col(x_n)` for `group`: `col` is `[C/G·kh·kw, oh·ow]`, laid out as `layout`.
///
/// Inlined into the caller's [`with_simd`](super::with_simd) context: the copies and fills
/// run 8 lanes wide on AVX2 CPUs.
#[inline(always)]
pub(super) fn im2col(
    geo: &ConvGeometry,
    x_n: &[f32],
    group: usize,
    col: &mut [f32],
    layout: ColLayout,
) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (geo.out_height, geo.out_width);
    let (sh, sw) = geo.stride;
    let positions = oh * ow;
    let flat = flat(geo);
    for_each_tap(geo, group, |row, channel, off_r, off_c| {
        let plane = &x_n[channel * h * w..(channel + 1) * h * w];
        let dst = layout.row_mut(col, row, positions);
        let (i0, i1) = inside(off_r, sh, h, oh);
        let (j0, j1) = inside(off_c, sw, w, ow);
        dst[..i0 * ow].fill(0.0);
        dst[i1 * ow..].fill(0.0);
        if i0 == i1 || j0 == j1 {
            dst.fill(0.0);
            return;
        }
        if flat {
            // The rows i0..i1 read input rows i0 + off_r.. shifted by off_c: one copy of the
            // whole run, then zeros where a row's edge read its neighbor row instead.
            let (first, last) = (i0 * ow + j0, (i1 - 1) * ow + j1);
            let src = (i0 as isize + off_r) as usize * w + (j0 as isize + off_c) as usize;
            dst[first..last].copy_from_slice(&plane[src..src + (last - first)]);
            zero_edge_columns(&mut dst[i0 * ow..i1 * ow], ow, j0, j1);
            return;
        }
        for i in i0..i1 {
            let r = (i * sh) as isize + off_r;
            let src = &plane[r as usize * w..][..w];
            let out = &mut dst[i * ow..(i + 1) * ow];
            out[..j0].fill(0.0);
            out[j1..].fill(0.0);
            if sw == 1 {
                let start = (j0 as isize + off_c) as usize;
                out[j0..j1].copy_from_slice(&src[start..start + (j1 - j0)]);
            } else {
                for (j, o) in (j0..j1).zip(&mut out[j0..j1]) {
                    *o = src[((j * sw) as isize + off_c) as usize];
                }
            }
        }
    });
}

/// Zero columns `0..j0` and `j1..ow` of the rows of `m` (`ow` wide): a column at a time, so
/// each is a short strided loop (a padding of 1 or 2 columns) rather than a library call per
/// row.
#[inline(always)]
fn zero_edge_columns(m: &mut [f32], ow: usize, j0: usize, j1: usize) {
    for j in (0..j0).chain(j1..ow) {
        for v in m[j..].iter_mut().step_by(ow) {
            *v = 0.0;
        }
    }
}

/// Stride 1 and an output row as wide as an input row (a "same"-sized convolution): a tap's
/// entries are then one shifted run of the input plane.
#[inline(always)]
fn flat(geo: &ConvGeometry) -> bool {
    geo.stride == (1, 1) && geo.out_width == geo.width && geo.kernel.0 * geo.kernel.1 <= MAX_TAPS
}

/// `dx_n ← col2im(dcol)` for the channels of `group`: every entry of `dcol`
/// (`[C/G·kh·kw, oh·ow]`) is added to the input position [`im2col`] copied it from; entries
/// that fell in the padding are dropped (and set to 0 in `dcol`, which is scratch). Inlined
/// like [`im2col`].
#[inline(always)]
pub(super) fn col2im(
    geo: &ConvGeometry,
    dcol: &mut [f32],
    layout: ColLayout,
    group: usize,
    dx_n: &mut [f32],
) {
    let (h, w) = (geo.height, geo.width);
    let cg = geo.in_channels / geo.groups;
    let channels = &mut dx_n[group * cg * h * w..(group + 1) * cg * h * w];
    if flat(geo) {
        gather_flat(geo, dcol, layout, channels);
    } else {
        channels.fill(0.0);
        scatter_add(geo, dcol, layout, channels);
    }
}

/// col2im when stride is 1 and rows keep their width: a tap (u, v) moved every entry by the
/// same flat offset `s = off_r·w + off_c`, so each input position gathers
/// `dx[q] = Σ_taps dcol_tap[q − s_tap]` in one pass, 16 positions at a time (tap order fixed),
/// instead of adding the taps one after another into dx (whose overlapping read-modify-writes
/// wait on stores still in flight). Reads that leave a row land in its zero margins.
#[inline(always)]
fn gather_flat(geo: &ConvGeometry, dcol: &mut [f32], layout: ColLayout, channels: &mut [f32]) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (geo.out_height, geo.out_width);
    let positions = oh * ow;
    let taps = geo.kernel.0 * geo.kernel.1;
    // Entries whose column fell in the left or right padding are set to 0: in the flat view
    // they line up with a neighbor row's position, where they must add nothing. Rows of
    // padding (outside i0..i1) likewise.
    let mut shifts = [0isize; MAX_TAPS];
    for_each_tap(geo, 0, |row, _, off_r, off_c| {
        let (i0, i1) = inside(off_r, 1, h, oh);
        let (j0, j1) = inside(off_c, 1, w, ow);
        let g = layout.row_mut(dcol, row, positions);
        zero_edge_columns(&mut g[i0 * ow..i1 * ow], ow, j0, j1);
        g[..i0 * ow].fill(0.0);
        g[i1 * ow..].fill(0.0);
        if row < taps {
            shifts[row] = off_r * w as isize + off_c;
        }
    });
    // Where tap t's value for position q sits in dcol: q + start[t] (within the margins).
    let mut starts = [0usize; MAX_TAPS];
    for (t, (start, &s)) in starts.iter_mut().zip(&shifts[..taps]).enumerate() {
        *start = ((t * layout.ld + layout.margin) as isize - s) as usize;
    }
    let starts = &starts[..taps];
    const BLOCK: usize = 16;
    for (c, dx) in channels.chunks_exact_mut(h * w).enumerate() {
        let rows = &dcol[c * taps * layout.ld..];
        let mut blocks = dx.chunks_exact_mut(BLOCK);
        for (b, out) in blocks.by_ref().enumerate() {
            let mut acc = [0.0f32; BLOCK];
            for &start in starts {
                let tap = &rows[start + b * BLOCK..][..BLOCK];
                for (a, &v) in acc.iter_mut().zip(tap) {
                    *a += v;
                }
            }
            out.copy_from_slice(&acc);
        }
        let rest = blocks.into_remainder();
        let q0 = h * w - rest.len();
        for (q, out) in rest.iter_mut().enumerate() {
            *out = starts
                .iter()
                .fold(0.0, |acc, &start| acc + rows[start + q0 + q]);
        }
    }
}

/// Most taps per channel (kh·kw) [`gather_flat`] handles; larger kernels take `scatter_add`.
const MAX_TAPS: usize = 64;

/// The general col2im: each tap's entries added onto their input positions, tap after tap.
#[inline(always)]
fn scatter_add(geo: &ConvGeometry, dcol: &[f32], layout: ColLayout, channels: &mut [f32]) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (geo.out_height, geo.out_width);
    let (sh, sw) = geo.stride;
    let positions = oh * ow;
    for_each_tap(geo, 0, |row, channel, off_r, off_c| {
        let plane = &mut channels[channel * h * w..(channel + 1) * h * w];
        let src = layout.row(dcol, row, positions);
        let (i0, i1) = inside(off_r, sh, h, oh);
        let (j0, j1) = inside(off_c, sw, w, ow);
        for i in i0..i1 {
            let r = (i * sh) as isize + off_r;
            let dst = &mut plane[r as usize * w..][..w];
            let g = &src[i * ow + j0..i * ow + j1];
            for (j, &v) in (j0..j1).zip(g) {
                dst[((j * sw) as isize + off_c) as usize] += v;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::inside;

    #[test]
    fn inside_matches_a_plain_filter() {
        for offset in -7isize..7 {
            for stride in 1..4 {
                for len in 1..9 {
                    for n in 0..9 {
                        let plain: Vec<usize> = (0..n)
                            .filter(|&j| {
                                (0..len as isize).contains(&((j * stride) as isize + offset))
                            })
                            .collect();
                        let (a, b) = inside(offset, stride, len, n);
                        assert_eq!(
                            (a..b).collect::<Vec<_>>(),
                            plain,
                            "{offset} {stride} {len} {n}"
                        );
                    }
                }
            }
        }
    }
}
