//! How grayscale images are laid out in a data set's input tensor.

/// The shape of an image data set's inputs: flat rows for an MLP or `[n, 1, h, w]` for a CNN.
///
/// ```
/// use lazarus_train::data::ImageLayout;
/// assert_eq!(ImageLayout::Flat.shape(5, 28, 28), vec![5, 784]);
/// assert_eq!(ImageLayout::Nchw.shape(5, 28, 28), vec![5, 1, 28, 28]);
/// assert_eq!(ImageLayout::default(), ImageLayout::Flat);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageLayout {
    /// `[n, h·w]`: one row of pixels per image, row-major, what a `Linear` layer takes (default).
    #[default]
    Flat,
    /// `[n, 1, h, w]`: one channel per image, what a convolution takes.
    Nchw,
}

impl ImageLayout {
    /// The input tensor's shape for `n` images of `height × width` pixels.
    pub fn shape(self, n: usize, height: usize, width: usize) -> Vec<usize> {
        match self {
            ImageLayout::Flat => vec![n, height * width],
            ImageLayout::Nchw => vec![n, 1, height, width],
        }
    }
}
