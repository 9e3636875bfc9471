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
//! Both walk the taps in the same order and, for each output row, copy (or add) the run of
//! positions that falls inside the input in one slice operation when the stride is 1: the
//! compiler turns those into vector moves. The padding is written as zeros explicitly, never
//! read.

use super::conv::ConvGeometry;

/// The output positions `j` in `0..n` whose input index `j·stride + offset` falls inside
/// `0..len`, as a range (empty when none does).
#[inline]
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

/// `col ← im2col(x_n)` for `group`: `col` is `[C/G·kh·kw, oh·ow]`, row-major.
pub(super) fn im2col(geo: &ConvGeometry, x_n: &[f32], group: usize, col: &mut [f32]) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (geo.out_height, geo.out_width);
    let (sh, sw) = geo.stride;
    let positions = oh * ow;
    let flat = flat(geo);
    for_each_tap(geo, group, |row, channel, off_r, off_c| {
        let plane = &x_n[channel * h * w..(channel + 1) * h * w];
        let dst = &mut col[row * positions..(row + 1) * positions];
        let (i0, i1) = inside(off_r, sh, h, oh);
        let (j0, j1) = inside(off_c, sw, w, ow);
        dst[..i0 * ow].fill(0.0);
        dst[i1 * ow..].fill(0.0);
        if i0 == i1 {
            return;
        }
        if flat {
            // The rows i0..i1 read input rows i0 + off_r.. shifted by off_c: one copy of the
            // whole run, then zeros where a row's edge read its neighbor row instead.
            let (first, last) = (i0 * ow + j0, (i1 - 1) * ow + j1);
            let src = (i0 as isize + off_r) as usize * w + (j0 as isize + off_c) as usize;
            dst[first..last].copy_from_slice(&plane[src..src + (last - first)]);
            for out in dst[i0 * ow..i1 * ow].chunks_exact_mut(ow) {
                out[..j0].fill(0.0);
                out[j1..].fill(0.0);
            }
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

/// Stride 1 and an output row as wide as an input row (a "same"-sized convolution): a tap's
/// entries are then one shifted run of the input plane.
fn flat(geo: &ConvGeometry) -> bool {
    geo.stride == (1, 1) && geo.out_width == geo.width
}

/// `dx_n += col2im(dcol)` for `group`: every entry of `dcol` (`[C/G·kh·kw, oh·ow]`) is added
/// to the input position it was copied from by [`im2col`]; entries in the padding are dropped
/// (and set to 0 in `dcol`, which is scratch).
pub(super) fn col2im_add(geo: &ConvGeometry, dcol: &mut [f32], group: usize, dx_n: &mut [f32]) {
    let (h, w) = (geo.height, geo.width);
    let (oh, ow) = (geo.out_height, geo.out_width);
    let (sh, sw) = geo.stride;
    let positions = oh * ow;
    let flat = flat(geo);
    for_each_tap(geo, group, |row, channel, off_r, off_c| {
        let plane = &mut dx_n[channel * h * w..(channel + 1) * h * w];
        let src = &mut dcol[row * positions..(row + 1) * positions];
        let (i0, i1) = inside(off_r, sh, h, oh);
        let (j0, j1) = inside(off_c, sw, w, ow);
        if i0 == i1 {
            return;
        }
        if flat {
            // As in im2col: one run. Entries that fell in the left or right padding are set
            // to 0 first, so the run adds exactly 0 to the neighbor rows they line up with.
            for g in src[i0 * ow..i1 * ow].chunks_exact_mut(ow) {
                g[..j0].fill(0.0);
                g[j1..].fill(0.0);
            }
            let (first, last) = (i0 * ow + j0, (i1 - 1) * ow + j1);
            let dst = (i0 as isize + off_r) as usize * w + (j0 as isize + off_c) as usize;
            for (d, &v) in plane[dst..dst + (last - first)].iter_mut().zip(&src[first..last]) {
                *d += v;
            }
            return;
        }
        for i in i0..i1 {
            let r = (i * sh) as isize + off_r;
            let dst = &mut plane[r as usize * w..][..w];
            let g = &src[i * ow + j0..i * ow + j1];
            if sw == 1 {
                let start = (j0 as isize + off_c) as usize;
                for (d, &v) in dst[start..start + (j1 - j0)].iter_mut().zip(g) {
                    *d += v;
                }
            } else {
                for (j, &v) in (j0..j1).zip(g) {
                    dst[((j * sw) as isize + off_c) as usize] += v;
                }
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
