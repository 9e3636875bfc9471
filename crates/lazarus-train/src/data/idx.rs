//! The IDX file format (MNIST, Fashion-MNIST, EMNIST...), raw or gzip-compressed.
//!
//! An IDX file is a big-endian header followed by the data, row-major:
//!
//! ```text
//! bytes 0-1   0x00 0x00
//! byte  2     data type: 0x08 = unsigned byte (the only one read here)
//! byte  3     number of dimensions d
//! 4·d bytes   the size of each dimension, u32 big-endian
//! the data    Π sizes items
//! ```
//!
//! MNIST images: magic `0x00000803`, dims `[n, 28, 28]`; labels: `0x00000801`, dims `[n]`.
//!
//! A corrupt header must not make the reader allocate what the file cannot hold. For a raw file
//! the data length the header promises is compared with the file's length before anything is
//! allocated; a `.gz` stream has no length up front, so it is read incrementally (bounded by
//! the promised length) and fails with [`Error::Truncated`] when it runs short.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;
use lazarus_core::Tensor;
use ndarray::{ArrayD, IxDyn};

use super::{Dataset, ImageLayout};
use crate::{Error, Result};

/// Mean pixel value of the MNIST training images, scaled to [0, 1] (the value PyTorch
/// examples use in `transforms.Normalize((0.1307,), (0.3081,))`).
pub const MNIST_MEAN: f32 = 0.1307;

/// Standard deviation of the MNIST training pixels, scaled to [0, 1].
pub const MNIST_STD: f32 = 0.3081;

/// The IDX type byte for unsigned bytes.
const TYPE_U8: u32 = 0x08;

/// Read an IDX file of unsigned bytes (raw, or gzip-compressed: detected from its first bytes,
/// whatever its name) into an array of the shape its header declares.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read (or its gzip stream is corrupt),
/// [`Error::BadMagic`] when it does not start with two zero bytes,
/// [`Error::UnsupportedIdxType`] for a data type other than unsigned bytes,
/// [`Error::Truncated`] when the header or the data are shorter than declared,
/// [`Error::TrailingData`] when there is more data than declared,
/// [`Error::BadHeader`] when the declared size overflows.
///
/// ```
/// use lazarus_train::data::read_idx;
/// let path = std::env::temp_dir().join("lazarus-doc-read-idx");
/// // 2 × 3 unsigned bytes.
/// std::fs::write(&path, [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]).unwrap();
/// let a = read_idx(&path)?;
/// assert_eq!(a.shape(), &[2, 3]);
/// assert_eq!(a[[1, 2]], 6);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<ArrayD<u8>> {
    read_idx_rank(path.as_ref(), None)
}

/// [`read_idx`], requiring `rank` dimensions when given (reported as [`Error::BadMagic`], the
/// rank being the magic number's last byte).
fn read_idx_rank(path: &Path, rank: Option<u32>) -> Result<ArrayD<u8>> {
    let file = File::open(path).map_err(Error::io(path))?;
    let file_len = file.metadata().map_err(Error::io(path))?.len();
    let mut buffered = BufReader::new(file);
    let gzipped = buffered
        .fill_buf()
        .map_err(Error::io(path))?
        .starts_with(&[0x1f, 0x8b]);
    // Raw files have a known length; a gzip stream's is known only once it is decompressed.
    let (mut reader, known_len): (Box<dyn Read>, Option<u64>) = if gzipped {
        (Box::new(MultiGzDecoder::new(buffered)), None)
    } else {
        (Box::new(buffered), Some(file_len))
    };

    let mut word = [0u8; 4];
    read_header(&mut reader, path, &mut word, 0)?;
    let magic = u32::from_be_bytes(word);
    let ndim = magic & 0xff;
    if magic >> 16 != 0 || rank.is_some_and(|r| r != ndim) {
        return Err(Error::BadMagic {
            path: path.into(),
            expected: (TYPE_U8 << 8) | rank.unwrap_or(ndim),
            found: magic,
        });
    }
    if (magic >> 8) & 0xff != TYPE_U8 {
        return Err(Error::UnsupportedIdxType {
            path: path.into(),
            found: (magic >> 8) as u8,
        });
    }

    let mut dims = Vec::with_capacity(ndim as usize);
    for i in 0..ndim {
        read_header(&mut reader, path, &mut word, 4 + 4 * u64::from(i))?;
        dims.push(u32::from_be_bytes(word) as usize);
    }
    let header_len = 4 + 4 * u64::from(ndim);
    let bad_dims = || Error::BadHeader {
        path: path.into(),
        expected: "dimensions whose product fits in memory addresses".into(),
        found: format!("dimensions {dims:?}"),
    };
    let data_len = lazarus_core::element_count(&dims, 1).ok_or_else(bad_dims)? as u64;
    let expected_bytes = header_len + data_len;
    if let Some(file_len) = known_len
        && file_len < expected_bytes
    {
        // Fail before allocating: the file cannot hold what the header claims.
        return Err(Error::Truncated {
            path: path.into(),
            expected_bytes,
            found_bytes: file_len,
        });
    }

    // With a known length the buffer is allocated once, exactly; a gzip stream grows it as the
    // data arrive, so a lying header costs at most what the stream really holds.
    let mut data = Vec::with_capacity(if known_len.is_some() {
        data_len as usize
    } else {
        0
    });
    (&mut reader)
        .take(data_len)
        .read_to_end(&mut data)
        .map_err(Error::io(path))?;
    if (data.len() as u64) < data_len {
        return Err(Error::Truncated {
            path: path.into(),
            expected_bytes,
            found_bytes: header_len + data.len() as u64,
        });
    }
    if reader.read(&mut [0u8; 1]).map_err(Error::io(path))? > 0 {
        return Err(Error::TrailingData {
            path: path.into(),
            expected_bytes,
        });
    }
    ArrayD::from_shape_vec(IxDyn(&dims), data).map_err(|_| bad_dims())
}

/// Fill `word` from the header at byte `offset`, or fail with [`Error::Truncated`].
fn read_header(reader: &mut dyn Read, path: &Path, word: &mut [u8; 4], offset: u64) -> Result<()> {
    let mut got = 0;
    while got < word.len() {
        match reader.read(&mut word[got..]) {
            Ok(0) => {
                return Err(Error::Truncated {
                    path: path.into(),
                    expected_bytes: offset + 4,
                    found_bytes: offset + got as u64,
                });
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(path)(e)),
        }
    }
    Ok(())
}

/// Find the data file `name` in `dir`, raw or gzip-compressed (`name`, then `name.gz`).
///
/// # Errors
/// [`Error::MissingFile`] listing both names when neither exists.
///
/// ```
/// use lazarus_train::{data::find_data_file, Error};
/// let err = find_data_file("/no/such/dir", "train-images-idx3-ubyte").unwrap_err();
/// let Error::MissingFile { tried, .. } = err else { panic!() };
/// assert_eq!(tried, ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]);
/// ```
pub fn find_data_file(dir: impl AsRef<Path>, name: &str) -> Result<PathBuf> {
    let dir = dir.as_ref();
    let tried = vec![name.to_string(), format!("{name}.gz")];
    tried
        .iter()
        .map(|candidate| dir.join(candidate))
        .find(|path| path.is_file())
        .ok_or_else(|| Error::MissingFile {
            dir: dir.into(),
            tried,
        })
}

/// A classification data set from an IDX images file (`[n, height, width]` bytes) and an IDX
/// labels file (`[n]` bytes), pixels scaled to [0, 1]; `num_classes` is the largest label + 1.
///
/// # Errors
/// Those of [`read_idx`] for either file (a rank other than 3 for images or 1 for labels is
/// [`Error::BadMagic`]), and [`Error::CountMismatch`] when the files hold different counts.
///
/// ```no_run
/// use lazarus_train::data::{idx_dataset, ImageLayout};
/// let emnist = idx_dataset(
///     "data/emnist-letters-train-images-idx3-ubyte.gz",
///     "data/emnist-letters-train-labels-idx1-ubyte.gz",
///     ImageLayout::Flat,
/// )?;
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn idx_dataset(
    images_path: impl AsRef<Path>,
    labels_path: impl AsRef<Path>,
    layout: ImageLayout,
) -> Result<Dataset> {
    load_pair(images_path.as_ref(), labels_path.as_ref(), layout, None)
}

/// [`idx_dataset`] with a fixed class count (checked against the labels) when given.
fn load_pair(
    images_path: &Path,
    labels_path: &Path,
    layout: ImageLayout,
    num_classes: Option<usize>,
) -> Result<Dataset> {
    // Labels first: the small file, so a count mismatch is found cheaply when the images are fine.
    let labels = read_idx_rank(labels_path, Some(1))?;
    let images = read_idx_rank(images_path, Some(3))?;
    let &[n, height, width] = images.shape() else {
        unreachable!("read_idx_rank checked the rank")
    };
    if labels.len() != n {
        return Err(Error::CountMismatch {
            images_path: images_path.into(),
            labels_path: labels_path.into(),
            images: n,
            labels: labels.len(),
        });
    }
    let labels: Vec<usize> = labels.iter().map(|&l| usize::from(l)).collect();
    let num_classes = num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&max| max + 1));
    let pixels: Vec<f32> = images.iter().map(|&p| f32::from(p) / 255.0).collect();
    let inputs = Tensor::from_shape_vec(layout.shape(n, height, width), pixels)
        .expect("n · height · width pixels");
    Dataset::from_labels(inputs, labels, num_classes)
}

/// How [`Mnist::load_with`] shapes and scales the images.
///
/// ```
/// use lazarus_train::data::{ImageLayout, MnistOptions};
/// let cnn = MnistOptions { layout: ImageLayout::Nchw, normalize: true };
/// assert_eq!(MnistOptions::default().layout, ImageLayout::Flat);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MnistOptions {
    /// `[n, 784]` (default) or `[n, 1, 28, 28]`.
    pub layout: ImageLayout,
    /// After scaling to [0, 1], standardize with [`MNIST_MEAN`] and [`MNIST_STD`] (default: no).
    pub normalize: bool,
}

/// MNIST (or Fashion-MNIST, which uses the same file names and format), loaded from a folder.
///
/// The folder holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or with `.gz` appended, as
/// distributed. Labels are classes `0..10`.
///
/// ```no_run
/// use lazarus_train::data::Mnist;
/// let mnist = Mnist::load("data/mnist")?;
/// assert_eq!(mnist.train.len(), 60_000);
/// assert_eq!(mnist.test.input_shape(), &[784]);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    /// The 60,000 training images.
    pub train: Dataset,
    /// The 10,000 test images.
    pub test: Dataset,
}

impl Mnist {
    /// Load both splits from `dir`, flat `[n, 784]`, pixels in [0, 1].
    ///
    /// # Errors
    /// [`Error::MissingFile`] (listing the names tried) when a file is absent, and every error
    /// of [`idx_dataset`]; [`Error::LabelOutOfRange`] for a label above 9.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(dir, MnistOptions::default())
    }

    /// Load both splits from `dir` with the given layout and normalization.
    ///
    /// # Errors
    /// As [`Mnist::load`].
    pub fn load_with(dir: impl AsRef<Path>, options: MnistOptions) -> Result<Self> {
        let dir = dir.as_ref();
        let split = |prefix: &str| -> Result<Dataset> {
            let images = find_data_file(dir, &format!("{prefix}-images-idx3-ubyte"))?;
            let labels = find_data_file(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
            let mut data = load_pair(&images, &labels, options.layout, Some(10))?;
            if options.normalize {
                data.normalize(MNIST_MEAN, MNIST_STD)?;
            }
            Ok(data)
        };
        Ok(Self {
            train: split("train")?,
            test: split("t10k")?,
        })
    }
}
