//! The pooling layers' loops. (Not to be confused with `pool.rs`, the pool of threads.)
//!
//! The math is in `crate::pooling` (each layer's formulas and plain-ndarray reference, and
//! `window.rs`, where the windows lie). Here the same computation runs over row-major slices:
//!
//! * every (sample, channel) plane is pooled on its own, so the planes are cut into contiguous
//!   blocks that run on the thread pool ([`for_planes`]). No plane's result depends on another,
//!   so the result is the same for every thread count;
//! * a window is a [`Span`] of rows times a span of columns, computed once per input size;
//! * max pooling keeps, per output, the flat index `h·w_in + w` of the input that won
//!   (PyTorch's `return_indices`), so backward is one scatter: dx\[index\] += g;
//! * nothing is allocated: outputs, indices and gradients are the layer's reused buffers.
//!
//! Every function here is tested against the layer's reference (`tests/pooling.rs`), bit for
//! bit: the arithmetic is the same, in the same order.

use std::ops::Range;

use super::threads::Shared;
use super::{num_threads, parallel_for};
use crate::pooling::{Planes, Span, replaces_max};

/// The index stored for a max-pooling window that lies wholly in the padding (no input wins;
/// its output is −∞ and it passes no gradient back).
pub(crate) const NO_INDEX: u32 = u32::MAX;

/// Below this many input elements a pass runs on one thread: handing a block to another core
/// costs about a microsecond.
const MIN_PARALLEL_ELEMENTS: usize = 1 << 15;

/// What [`for_planes`] runs on each block: the block's planes, and its parts of the buffers.
pub(super) type PlaneFn<'a, A, B> = dyn Fn(Range<usize>, &mut [A], &mut [B]) + Sync + 'a;

/// Run `f(planes, a, b)` over contiguous blocks of `planes` planes, in parallel, where `a` and
/// `b` are the blocks' parts of two mutable buffers of `a.1` and `b.1` elements per plane (pass
/// an empty buffer with 0 per plane when one is not needed). `work` is the number of elements
/// each plane reads, which decides whether threads are worth it.
///
/// # Panics
/// If a buffer is shorter than `planes` times its plane size.
pub(super) fn for_planes<A: Send, B: Send>(
    planes: usize,
    work: usize,
    (a, a_plane): (&mut [A], usize),
    (b, b_plane): (&mut [B], usize),
    f: &PlaneFn<'_, A, B>,
) {
    assert!(a.len() >= planes * a_plane && b.len() >= planes * b_plane);
    let blocks = if planes * work < MIN_PARALLEL_ELEMENTS {
        1
    } else {
        num_threads().min(planes)
    };
    if blocks <= 1 {
        f(0..planes, a, b);
        return;
    }
    let (a_ptr, b_ptr) = (Shared(a.as_mut_ptr()), Shared(b.as_mut_ptr()));
    parallel_for(blocks, &|block| {
        let range = planes * block / blocks..planes * (block + 1) / blocks;
        let n = range.len();
        // SAFETY: the blocks are disjoint ranges of planes, so each task gets its own part of
        // each buffer (checked long enough above), borrowed mutably for the whole call.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts_mut(a_ptr.get().add(range.start * a_plane), n * a_plane),
                std::slice::from_raw_parts_mut(b_ptr.get().add(range.start * b_plane), n * b_plane),
            )
        };
        f(range, a, b);
    });
}

/// `y` = the maximum of each window, `argmax` = where it was (the first maximum in row-major
/// window order; a NaN wins; see `MaxPool2d`), for the planes of `x`.
pub(crate) fn max_pool_forward(p: &Planes, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    let (input, output) = p.sizes();
    let two_by_two = is_2x2(p);
    for_planes(
        p.count,
        input,
        (y, output),
        (argmax, output),
        &|planes, y, argmax| {
            let outputs = y
                .chunks_exact_mut(output)
                .zip(argmax.chunks_exact_mut(output));
            for (plane, (y, argmax)) in planes.zip(outputs) {
                let x = &x[plane * input..][..input];
                if two_by_two {
                    max_plane_2x2(p, x, y, argmax);
                } else {
                    max_plane(p, x, y, argmax);
                }
            }
        },
    );
}

/// One plane of [`max_pool_forward`], any windows.
fn max_plane(p: &Planes, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    let [dh, dw] = p.step;
    for ((r, c), (y, argmax)) in windows(p).zip(y.iter_mut().zip(argmax)) {
        let (mut best, mut at) = (f32::NEG_INFINITY, NO_INDEX);
        if !is_empty(r, c) {
            // Until something beats −∞, the first position holds the "maximum" (PyTorch's).
            at = (r.first * p.w + c.first) as u32;
        }
        for ih in r.positions(dh) {
            let row = &x[ih * p.w..][..p.w];
            for iw in c.positions(dw) {
                if replaces_max(row[iw], best) {
                    (best, at) = (row[iw], (ih * p.w + iw) as u32);
                }
            }
        }
        (*y, *argmax) = (best, at);
    }
}

/// Whether every window is 2 × 2, adjacent and non-overlapping (`MaxPool2d(2)`, the usual
/// case, without padding and away from a ceil_mode edge): then window (i, j) is the inputs
/// (2i, 2j), (2i, 2j+1), (2i+1, 2j), (2i+1, 2j+1), and each input is in at most one window.
fn is_2x2(p: &Planes) -> bool {
    let pairs = |spans: &[Span]| {
        let pair = |(o, s): (usize, &Span)| s.first == 2 * o && s.end == 2 * o + 2;
        spans.iter().enumerate().all(pair)
    };
    p.step == [1, 1] && pairs(&p.rows) && pairs(&p.cols)
}

/// [`max_plane`] for 2 × 2 windows: the same comparisons in the same order, written as
/// selects without branches so that the compiler turns a row of windows into SIMD code.
fn max_plane_2x2(p: &Planes, x: &[f32], y: &mut [f32], argmax: &mut [u32]) {
    let (w, ow) = (p.w, p.cols.len());
    let rows = y.chunks_exact_mut(ow).zip(argmax.chunks_exact_mut(ow));
    for (i, (y, argmax)) in rows.enumerate() {
        let top = &x[2 * i * w..][..2 * ow];
        let bottom = &x[(2 * i + 1) * w..][..2 * ow];
        let first = (2 * i * w) as u32;
        let window = |j: usize| {
            // The window's inputs in row-major order, and their offsets from the first.
            let (a, b, c, d) = (top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]);
            let (best, at) = (a, 0);
            let (best, at) = pick(replaces_max(b, best), (b, 1), (best, at));
            let (best, at) = pick(replaces_max(c, best), (c, w as u32), (best, at));
            let (best, at) = pick(replaces_max(d, best), (d, w as u32 + 1), (best, at));
            (best, first + 2 * j as u32 + at)
        };
        // Four windows at a time, the last four overlapping the others if need be (computing
        // a window twice gives the same result): no loop remainder on short rows.
        if ow >= 4 {
            for j0 in (0..ow).step_by(4).map(|j| j.min(ow - 4)) {
                for l in 0..4 {
                    (y[j0 + l], argmax[j0 + l]) = window(j0 + l);
                }
            }
        } else {
            for j in 0..ow {
                (y[j], argmax[j]) = window(j);
            }
        }
    }
}

/// `if take { new } else { old }`, with bit masks rather than a branch (the branch would be
/// mispredicted on random data; the masks also vectorize).
#[inline(always)]
fn pick(take: bool, new: (f32, u32), old: (f32, u32)) -> (f32, u32) {
    let mask = 0u32.wrapping_sub(u32::from(take));
    let bits = (new.0.to_bits() & mask) | (old.0.to_bits() & !mask);
    (f32::from_bits(bits), (new.1 & mask) | (old.1 & !mask))
}

/// `dx` = `g` scattered to where each window's maximum was (`argmax` from the forward pass),
/// added up where windows overlap; 0 elsewhere.
pub(crate) fn max_pool_backward(p: &Planes, g: &[f32], argmax: &[u32], dx: &mut [f32]) {
    let (input, output) = p.sizes();
    let two_by_two = is_2x2(p);
    for_planes(
        p.count,
        input,
        (dx, input),
        no_buffer(),
        &|planes, dx, _| {
            for (plane, dx) in planes.zip(dx.chunks_exact_mut(input)) {
                let (g, argmax) = (&g[plane * output..][..output], &argmax[plane * output..]);
                if two_by_two {
                    max_plane_backward_2x2(p, g, &argmax[..output], dx);
                    continue;
                }
                dx.fill(0.0);
                for (&g, &at) in g.iter().zip(argmax) {
                    if at != NO_INDEX {
                        dx[at as usize] += g;
                    }
                }
            }
        },
    );
}

/// One plane of [`max_pool_backward`] for 2 × 2 windows: each input is in at most one
/// window, so every element of `dx` is written once (`0 + g` where its window's maximum is,
/// `0` elsewhere: the same bits as zeroing and adding) instead of zeroed and then scattered to.
fn max_plane_backward_2x2(p: &Planes, g: &[f32], argmax: &[u32], dx: &mut [f32]) {
    let (w, ow) = (p.w, p.cols.len());
    let oh = p.rows.len();
    for (i, (g, argmax)) in g.chunks_exact(ow).zip(argmax.chunks_exact(ow)).enumerate() {
        let (top, bottom) = dx[2 * i * w..][..2 * w].split_at_mut(w);
        let (top, bottom) = (&mut top[..2 * ow], &mut bottom[..2 * ow]);
        let first = (2 * i * w) as u32;
        for j in 0..ow {
            // Where the maximum was, as an offset from the window's first input.
            let at = argmax[j].wrapping_sub(first + 2 * j as u32);
            // g where the offset matches, else 0, with a bit mask rather than a branch.
            let g = (0.0 + g[j]).to_bits();
            let share =
                |offset: u32| f32::from_bits(g & 0u32.wrapping_sub(u32::from(at == offset)));
            top[2 * j] = share(0);
            top[2 * j + 1] = share(1);
            bottom[2 * j] = share(w as u32);
            bottom[2 * j + 1] = share(w as u32 + 1);
        }
        // An odd width leaves a last column no window covers.
        dx[2 * i * w + 2 * ow..2 * i * w + w].fill(0.0);
        dx[(2 * i + 1) * w + 2 * ow..(2 * i + 2) * w].fill(0.0);
    }
    // An odd height leaves a last row no window covers.
    dx[2 * oh * w..].fill(0.0);
}

/// `y` = each window's sum in f32, row-major, divided by its divisor (the product of its row
/// and column span divisors), for the planes of `x`. An empty window gives 0.
pub(crate) fn avg_pool_forward(p: &Planes, x: &[f32], y: &mut [f32]) {
    let (input, output) = p.sizes();
    for_planes(p.count, input, (y, output), no_buffer(), &|planes, y, _| {
        for (plane, y) in planes.zip(y.chunks_exact_mut(output)) {
            let x = &x[plane * input..][..input];
            for ((r, c), y) in windows(p).zip(y) {
                let mut sum = 0.0f32;
                // One f32 sum, added in row-major order, as PyTorch adds it.
                for ih in r.first..r.end {
                    for &v in &x[ih * p.w + c.first..ih * p.w + c.end] {
                        sum += v;
                    }
                }
                *y = if is_empty(r, c) {
                    0.0
                } else {
                    sum / divisor(r, c)
                };
            }
        }
    });
}

/// `dx` = each window's `g / divisor` added to every input of the window.
pub(crate) fn avg_pool_backward(p: &Planes, g: &[f32], dx: &mut [f32]) {
    let (input, output) = p.sizes();
    for_planes(
        p.count,
        input,
        (dx, input),
        no_buffer(),
        &|planes, dx, _| {
            dx.fill(0.0);
            for (plane, dx) in planes.zip(dx.chunks_exact_mut(input)) {
                let g = &g[plane * output..][..output];
                for ((r, c), &g) in windows(p).zip(g) {
                    if is_empty(r, c) {
                        continue;
                    }
                    let share = g / divisor(r, c);
                    for ih in r.first..r.end {
                        let row = &mut dx[ih * p.w + c.first..ih * p.w + c.end];
                        row.iter_mut().for_each(|dx| *dx += share);
                    }
                }
            }
        },
    );
}

/// The windows of a plane in row-major output order: (row span, column span).
fn windows(p: &Planes) -> impl Iterator<Item = (&Span, &Span)> {
    p.rows
        .iter()
        .flat_map(|r| p.cols.iter().map(move |c| (r, c)))
}

fn is_empty(r: &Span, c: &Span) -> bool {
    r.first >= r.end || c.first >= c.end
}

fn divisor(r: &Span, c: &Span) -> f32 {
    (r.divisor * c.divisor) as f32
}

/// The unused second buffer of [`for_planes`].
pub(super) fn no_buffer() -> (&'static mut [u8], usize) {
    (&mut [], 0)
}
