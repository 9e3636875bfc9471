//! A PNG contact sheet of image samples, for a person to look at.

use std::path::Path;

use super::Dataset;
use crate::{Error, Result};

/// Write the first `rows × cols` samples of an image data set as one grayscale PNG grid,
/// row by row, with a one-pixel gray border around each image.
///
/// Samples must be grayscale images: input shape `[h, w]`, `[1, h, w]`, or flat `[h·w]` with
/// h·w a perfect square (`[784]` is 28 × 28). Pixel values are stretched from the shown
/// samples' minimum (black) to maximum (white), so normalized data displays as well as data
/// in [0, 1]. Cells past the end of a short data set stay black.
///
/// # Errors
/// [`Error::InvalidConfig`] when `rows` or `cols` is 0, the grid would be wider or taller
/// than 16 384 pixels, or the samples are not grayscale images;
/// [`Error::Io`] / [`Error::Png`] when the file cannot be written.
///
/// ```
/// use lazarus_train::data::{write_png_grid, SyntheticDigits};
/// let digits = SyntheticDigits::new(0).generate(20)?;
/// let path = std::env::temp_dir().join("lazarus-doc-grid.png");
/// write_png_grid(&digits, 2, 10, &path)?;
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn write_png_grid(
    dataset: &Dataset,
    rows: usize,
    cols: usize,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    if rows == 0 || cols == 0 {
        return Err(Error::config(
            "png_grid",
            "rows, cols",
            format!("must both be at least 1, found {rows} × {cols}"),
        ));
    }
    let (height, width) = image_size(dataset.input_shape()).ok_or_else(|| {
        Error::config(
            "png_grid",
            "dataset",
            format!(
                "samples must be grayscale images [h, w], [1, h, w] or [h·w], found shape {:?}",
                dataset.input_shape()
            ),
        )
    })?;

    // The grid is held in memory and PNG sides are u32: refuse sizes no viewer could open
    // instead of failing to allocate.
    const MAX_SIDE: usize = 16_384;
    let side = |count: usize, cell: usize| count.checked_mul(cell + 1).map(|s| s + 1);
    let (grid_w, grid_h) = match (side(cols, width), side(rows, height)) {
        (Some(w), Some(h)) if w <= MAX_SIDE && h <= MAX_SIDE => (w, h),
        _ => {
            return Err(Error::config(
                "png_grid",
                "rows, cols",
                format!(
                    "{rows} × {cols} cells of {height} × {width} pixels exceed the largest \
                     grid, {MAX_SIDE} × {MAX_SIDE} pixels"
                ),
            ));
        }
    };
    let shown = dataset.len().min(rows * cols);
    let pixels = &dataset
        .inputs()
        .as_slice()
        .expect("Dataset keeps its tensors in standard layout")[..shown * height * width];
    let (lo, hi) = pixels
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };

    const BORDER: u8 = 96;
    let mut grid = vec![BORDER; grid_w * grid_h];
    for cell in 0..rows * cols {
        let (top, left) = (
            (cell / cols) * (height + 1) + 1,
            (cell % cols) * (width + 1) + 1,
        );
        for y in 0..height {
            let out = &mut grid[(top + y) * grid_w + left..][..width];
            if cell < shown {
                let src = &pixels[(cell * height + y) * width..][..width];
                for (o, &v) in out.iter_mut().zip(src) {
                    *o = ((v - lo) * scale).clamp(0.0, 255.0) as u8;
                }
            } else {
                out.fill(0);
            }
        }
    }

    let png_error = |source| Error::Png {
        path: path.into(),
        source,
    };
    // Encode in memory, then replace the file in one step: a failed write keeps the old image.
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, grid_w as u32, grid_h as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&grid).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    crate::atomic_file::write_atomically(path, &bytes)
}

/// (height, width) of a grayscale image sample of shape `shape`.
fn image_size(shape: &[usize]) -> Option<(usize, usize)> {
    match *shape {
        [h, w] | [1, h, w] => Some((h, w)),
        [n] => {
            let side = (n as f64).sqrt().round() as usize;
            (side * side == n && n > 0).then_some((side, side))
        }
        _ => None,
    }
}
