//! LogSoftmax's loops over row-major slices.
//!
//! The math is in `crate::log_softmax` (the formulas and `LogSoftmax::forward_reference` /
//! `backward_reference`). Here a `[batch, classes, positions]` buffer is walked one lane (the
//! `classes` values of one sample at one position, `positions` apart in memory) at a time, with
//! the same arithmetic in the same order as the reference, so the results are bit for bit the
//! same; samples are cut into blocks that run on the thread pool (each lane is on its own, so
//! the thread count changes nothing).

use super::pooling::{for_planes, no_buffer};

/// `y = x − m − log Σ e^(x − m)` along each lane of `x`, shaped `[batch, classes, positions]`.
pub(crate) fn log_softmax_forward(
    x: &[f32],
    y: &mut [f32],
    [batch, classes, positions]: [usize; 3],
) {
    let sample = classes * positions;
    if sample == 0 {
        return; // no lanes, or empty ones
    }
    for_planes(batch, sample, (y, sample), no_buffer(), &|samples, y, _| {
        for (n, y) in samples.zip(y.chunks_exact_mut(sample)) {
            let x = &x[n * sample..][..sample];
            for k in 0..positions {
                let lane = || x[k..].iter().step_by(positions);
                let m = lane().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let log_sum = lane().fold(0.0f32, |s, &v| s + (v - m).exp()).ln();
                for (y, &x) in y[k..].iter_mut().step_by(positions).zip(lane()) {
                    *y = x - m - log_sum;
                }
            }
        }
    });
}

/// `dx = g − e^y · Σ g` along each lane, for the forward output `y` and upstream gradient `g`.
pub(crate) fn log_softmax_backward(
    y: &[f32],
    g: &[f32],
    dx: &mut [f32],
    [batch, classes, positions]: [usize; 3],
) {
    let sample = classes * positions;
    if sample == 0 {
        return;
    }
    for_planes(
        batch,
        sample,
        (dx, sample),
        no_buffer(),
        &|samples, dx, _| {
            for (n, dx) in samples.zip(dx.chunks_exact_mut(sample)) {
                let (y, g) = (&y[n * sample..][..sample], &g[n * sample..][..sample]);
                for k in 0..positions {
                    let sum_g = g[k..].iter().step_by(positions).fold(0.0f32, |s, &g| s + g);
                    let lane = y[k..]
                        .iter()
                        .step_by(positions)
                        .zip(g[k..].iter().step_by(positions));
                    for (dx, (&y, &g)) in dx[k..].iter_mut().step_by(positions).zip(lane) {
                        *dx = g - y.exp() * sum_g;
                    }
                }
            }
        },
    );
}
