//! The output-size formula of a [`Conv2d`](super::Conv2d): its settings and an input shape
//! turned into the [`ConvGeometry`] the kernels (and the reference loops) run on.

use super::{Conv2dSettings, Padding};
use crate::kernels::ConvGeometry;
use crate::{Error, Result, Size2d};

impl Conv2dSettings {
    /// Zeros on each side: `(top, bottom, left, right)`.
    pub(crate) fn pads(&self) -> (usize, usize, usize, usize) {
        match self.padding {
            Padding::Explicit(ph, pw) => (ph, ph, pw, pw),
            Padding::Valid => (0, 0, 0, 0),
            Padding::Same => {
                // Total d·(k − 1) per dimension; the odd zero goes to the bottom/right.
                let total_h = self.dilation.h * (self.kernel_size.h - 1);
                let total_w = self.dilation.w * (self.kernel_size.w - 1);
                (
                    total_h / 2,
                    total_h - total_h / 2,
                    total_w / 2,
                    total_w - total_w / 2,
                )
            }
        }
    }

    /// The geometry of a convolution over an input of shape `input`, with the output size
    ///
    /// ```text
    /// out = ⌊(in + pad_before + pad_after − dilation·(kernel − 1) − 1) / stride⌋ + 1
    /// ```
    ///
    /// per dimension (with `pad_before = pad_after = padding` unless `"same"`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] naming `conv2d` if `input` is not `[batch, in_channels, h, w]`
    /// with h, w ≥ 1, or the kernel (with its dilation) is larger than the padded input.
    pub(crate) fn geometry(&self, input: &[usize]) -> Result<ConvGeometry> {
        let c = self.in_channels;
        let mismatch = |expected: String| Error::ShapeMismatch {
            layer: "conv2d".into(),
            expected,
            found: input.to_vec(),
        };
        let &[batch, channels, h, w] = input else {
            return Err(mismatch(format!("[batch, {c}, h, w]")));
        };
        if channels != c || h == 0 || w == 0 {
            return Err(mismatch(format!("[batch, {c}, h, w]")));
        }
        let (top, bottom, left, right) = self.pads();
        let (Size2d { h: kh, w: kw }, Size2d { h: dh, w: dw }) = (self.kernel_size, self.dilation);
        // The kernel's reach: d·(k − 1) + 1 input positions.
        let (reach_h, reach_w) = (dh * (kh - 1) + 1, dw * (kw - 1) + 1);
        let (padded_h, padded_w) = (h + top + bottom, w + left + right);
        if padded_h < reach_h || padded_w < reach_w {
            return Err(mismatch(format!(
                "[batch, {c}, h, w] at least as large as the kernel's reach {reach_h}x{reach_w} \
                 once padded (padded size {padded_h}x{padded_w})"
            )));
        }
        let Size2d { h: sh, w: sw } = self.stride;
        Ok(ConvGeometry {
            batch,
            in_channels: c,
            height: h,
            width: w,
            out_channels: self.out_channels,
            groups: self.groups,
            kernel: (kh, kw),
            stride: (sh, sw),
            dilation: (dh, dw),
            pad: (top, left),
            out_height: (padded_h - reach_h) / sh + 1,
            out_width: (padded_w - reach_w) / sw + 1,
        })
    }
}
