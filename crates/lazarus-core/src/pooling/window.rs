//! Where pooling windows lie: the one place for PyTorch's output-size rule, `ceil_mode`, padding
//! and dilation. Each pooling layer turns its settings into a [`Span`] per output row and per
//! output column; the kernels and the references only walk spans.

use crate::{Error, Result};

/// The input positions one window covers along one axis: `first, first + step, …` below `end`
/// (`step` is the dilation for max pooling, 1 otherwise), with padding already cut away. Empty
/// when `first ≥ end` (a window lying wholly in the padding). `divisor` is what an average
/// divides by along this axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub first: usize,
    pub end: usize,
    pub divisor: usize,
}

impl Span {
    /// The input positions, in order.
    pub fn positions(self, step: usize) -> impl Iterator<Item = usize> {
        (self.first..self.end).step_by(step)
    }
}

/// The windows of `MaxPool2d` or `AvgPool2d` along one axis (PyTorch's `kernel_size`, `stride`,
/// `padding`, `dilation` and `ceil_mode` for that axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AxisWindows {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub ceil_mode: bool,
}

impl AxisWindows {
    /// How many windows fit an input of length `input`, PyTorch's `pooling_output_shape`:
    ///
    /// ```text
    /// reach = dilation·(kernel − 1) + 1                      (input positions one window spans)
    /// out   = ⌊(input + 2·padding − reach) / stride⌋ + 1    (floor mode)
    /// out   = ⌈(input + 2·padding − reach) / stride⌉ + 1    (ceil_mode), minus 1 if that last
    ///         window would start at or past input + padding: a window must start inside the
    ///         input or its left padding, never in the right padding alone
    /// ```
    ///
    /// `None` when not even one window fits (the kernel is larger than the padded input).
    pub fn count(&self, input: usize) -> Option<usize> {
        let reach = self.dilation * (self.kernel - 1) + 1;
        let room = (input + 2 * self.padding) as i64 - reach as i64;
        let stride = self.stride as i64;
        let rounding = if self.ceil_mode { stride - 1 } else { 0 };
        let mut out = (room + rounding).div_euclid(stride) + 1;
        if self.ceil_mode && (out - 1) * stride >= (input + self.padding) as i64 {
            out -= 1;
        }
        usize::try_from(out).ok().filter(|&n| n > 0)
    }

    /// The shortest input that [`count`](Self::count) accepts, for error messages.
    pub fn min_input(&self) -> usize {
        (1..)
            .find(|&n| self.count(n).is_some())
            .expect("a long input fits a window")
    }

    /// Where window `o` starts, in input coordinates (negative inside the left padding).
    fn start(&self, o: usize) -> i64 {
        (o * self.stride) as i64 - self.padding as i64
    }

    /// Max pooling's window `o` over an input of length `input`: the taps
    /// `start + j·dilation` (j < kernel) that land inside the input. Padding is −∞, which never
    /// wins a comparison, so padded taps are simply skipped.
    pub fn max_span(&self, o: usize, input: usize) -> Span {
        let (start, d) = (self.start(o), self.dilation as i64);
        let end = (start + d * (self.kernel as i64 - 1) + 1).min(input as i64);
        // The first tap at or after position 0.
        let first = if start < 0 {
            start + ((-start) as u64).div_ceil(d as u64) as i64 * d
        } else {
            start
        };
        let end = end.max(first);
        Span {
            first: first as usize,
            end: end.max(0) as usize,
            divisor: 1,
        }
    }

    /// Average pooling's window `o` over an input of length `input` (dilation is 1): the
    /// positions `start .. start + kernel`, cut to the input. The divisor counts the padded
    /// positions too with `count_include_pad`, but never positions past the right padding
    /// (with `ceil_mode` a last window can run past it: it divides by its clipped size).
    pub fn avg_span(&self, o: usize, input: usize, count_include_pad: bool) -> Span {
        let start = self.start(o);
        let padded_end = (start + self.kernel as i64).min((input + self.padding) as i64);
        let first = start.max(0);
        let end = padded_end.min(input as i64).max(first);
        let divisor = if count_include_pad {
            padded_end - start
        } else {
            end - first
        };
        Span {
            first: first as usize,
            end: end as usize,
            divisor: divisor as usize,
        }
    }
}

/// The positions window `o` covers along one axis, by the definition, padding included (so
/// possibly negative or past the input): `o·stride − padding + a·dilation` for `a < kernel`.
/// The layers' plain references use this; the kernels use the [`Span`]s.
pub(crate) fn taps(o: usize, w: AxisWindows) -> impl Iterator<Item = i64> {
    let start = (o * w.stride) as i64 - w.padding as i64;
    (0..w.kernel as i64).map(move |a| start + a * w.dilation as i64)
}

/// Adaptive pooling's window `o` of `out` over an input of length `input`, PyTorch's
/// `start_index`/`end_index`: `⌊o·input/out⌋ .. ⌈(o+1)·input/out⌉`. Windows cover the whole
/// input, overlap by at most one position when `out` does not divide `input`, and differ in
/// size by at most one.
pub(crate) fn adaptive_span(o: usize, out: usize, input: usize) -> Span {
    let first = o * input / out;
    let end = ((o + 1) * input).div_ceil(out);
    Span {
        first,
        end,
        divisor: end - first,
    }
}

/// Fill `spans` with `span(o)` for every output position `o < count`, reusing its allocation.
pub(crate) fn fill_spans(spans: &mut Vec<Span>, count: usize, span: impl Fn(usize) -> Span) {
    spans.clear();
    spans.extend((0..count).map(span));
}

/// The windows' output size along both axes, or the error naming `layer` when the input is
/// too small for the kernel.
pub(crate) fn output_size(
    layer: &str,
    axes: [AxisWindows; 2],
    input_shape: &[usize],
    [h, w]: [usize; 2],
) -> Result<[usize; 2]> {
    match (axes[0].count(h), axes[1].count(w)) {
        (Some(oh), Some(ow)) => Ok([oh, ow]),
        _ => Err(Error::ShapeMismatch {
            layer: layer.into(),
            expected: format!(
                "[batch, channels, h, w] with h ≥ {} and w ≥ {} (the kernel must fit in the \
                 padded input)",
                axes[0].min_input(),
                axes[1].min_input()
            ),
            found: input_shape.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        ceil: bool,
    ) -> AxisWindows {
        AxisWindows {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode: ceil,
        }
    }

    #[test]
    fn output_sizes_match_pytorch() {
        // torch 2.15: nn.MaxPool2d(k, s, p, d, ceil_mode)(torch.zeros(1, 1, n, n)).shape[-1]
        let cases = [
            ((2, 2, 0, 1, false), 28, 14),
            ((2, 2, 0, 1, false), 7, 3),
            ((2, 2, 0, 1, true), 7, 4),
            ((3, 2, 1, 1, true), 6, 4),
            ((3, 2, 0, 1, true), 6, 3),
            ((3, 3, 1, 1, true), 5, 2),
            ((3, 2, 1, 2, false), 7, 3),
            ((2, 2, 1, 3, false), 5, 2),
            ((3, 2, 0, 1, true), 2, 1),
        ];
        for ((k, s, p, d, c), n, out) in cases {
            assert_eq!(
                axis(k, s, p, d, c).count(n),
                Some(out),
                "{k} {s} {p} {d} {c} {n}"
            );
        }
        assert_eq!(axis(6, 6, 0, 1, false).count(5), None);
        assert_eq!(axis(6, 6, 0, 1, false).min_input(), 6);
    }

    #[test]
    fn spans_cut_padding_and_keep_the_divisor_rules() {
        // k = 3, s = 2, p = 1 over 5 positions, ceil_mode: windows start at -1, 1, 3 (and 5
        // would start in the right padding alone, so there are 3).
        let a = axis(3, 2, 1, 1, true);
        assert_eq!(a.count(5), Some(3));
        let spans: Vec<_> = (0..3).map(|o| a.avg_span(o, 5, true)).collect();
        assert_eq!(
            spans[0],
            Span {
                first: 0,
                end: 2,
                divisor: 3
            }
        );
        assert_eq!(
            spans[2],
            Span {
                first: 3,
                end: 5,
                divisor: 3
            }
        );
        assert_eq!(a.avg_span(0, 5, false).divisor, 2);
        // ceil_mode: the last window runs past the padded input and divides by its clipped size.
        let c = axis(3, 2, 0, 1, true);
        assert_eq!(c.count(6), Some(3));
        assert_eq!(
            c.avg_span(2, 6, true),
            Span {
                first: 4,
                end: 6,
                divisor: 2
            }
        );
        // Dilation: taps -1, 1 (k = 2, d = 2, p = 1); -1 is padding.
        let d = axis(2, 2, 1, 2, false);
        assert_eq!(
            d.max_span(0, 4),
            Span {
                first: 1,
                end: 2,
                divisor: 1
            }
        );
        // A window wholly in the padding is empty.
        assert!(
            axis(2, 2, 1, 2, false)
                .max_span(0, 1)
                .positions(2)
                .next()
                .is_none()
        );
        // Adaptive: 5 → 3 gives [0, 2), [1, 4), [3, 5).
        let spans: Vec<_> = (0..3).map(|o| adaptive_span(o, 3, 5)).collect();
        assert_eq!(
            spans.iter().map(|s| (s.first, s.end)).collect::<Vec<_>>(),
            [(0, 2), (1, 4), (3, 5)]
        );
    }
}
