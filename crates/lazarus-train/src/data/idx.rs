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
//! A header is a few bytes that can claim anything, so every reader works in two phases:
//!
//! 1. **Headers only.** Open the file(s) and read the header(s); check everything the headers
//!    alone decide: magic, type, rank, a size that overflows, a raw file shorter than its header
//!    promises ([`Error::Truncated`]), images and labels counting different samples, MNIST's
//!    28×28, and the memory the whole load will need against [`ReadLimits::max_bytes`]
//!    ([`Error::TooLarge`]).
//! 2. **Data.** Only then read the data, into buffers reserved fallibly
//!    ([`Error::AllocationFailed`] rather than an abort) and never grown past what the header
//!    declared. A `.gz` stream has no length up front, so it is read incrementally and fails with
//!    [`Error::Truncated`] when it runs short.

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

/// Height and width of an MNIST image, in pixels.
const MNIST_IMAGE: [usize; 2] = [28, 28];

/// Bytes read from the file per call while reading the data.
const CHUNK: usize = 1 << 16;

/// How much memory a read of IDX files may allocate.
///
/// Every reader adds up, from the headers alone, what the load will allocate, and refuses with
/// [`Error::TooLarge`] before reading any data when that is more than `max_bytes`:
///
/// * [`read_idx_with`]: the bytes of the data (one per item);
/// * [`idx_dataset_with`] and each split of [`Mnist::load_with`]: the image bytes, their `f32`
///   copy (4 bytes per pixel), the label bytes and their `usize` copy (8 bytes per label), i.e.
///   5 bytes per pixel and 9 per label.
///
/// Why a limit and not just a fallible allocation: a corrupt or hostile 16-byte header can claim
/// terabytes, and on Linux (which overcommits memory) reserving them usually *succeeds*; the
/// process is then killed when the pages are touched, or spends minutes reading a sparse file.
/// The readers still reserve fallibly ([`Error::AllocationFailed`]), as a second line.
///
/// ```
/// use lazarus_train::data::ReadLimits;
/// assert_eq!(ReadLimits::default().max_bytes, 3 << 30);
/// let big = ReadLimits { max_bytes: 16 << 30 }; // a machine with plenty of memory
/// # let _ = big;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The most bytes one load may allocate (default [`ReadLimits::DEFAULT_MAX_BYTES`]).
    pub max_bytes: u64,
}

impl ReadLimits {
    /// 3 GiB. Enough for the largest common IDX data set, EMNIST ByClass (697,932 training
    /// images of 28×28, 2.6 GiB with their `f32` copy), and for MNIST many times over; small
    /// enough that a header lying about a 4 GiB file is refused on an ordinary machine.
    pub const DEFAULT_MAX_BYTES: u64 = 3 << 30;

    /// Check that a load needing `needed_bytes` fits; `path` and `dims` name what declared it.
    fn check(self, path: &Path, dims: &[usize], needed_bytes: u64) -> Result<()> {
        if needed_bytes > self.max_bytes {
            return Err(Error::TooLarge {
                path: path.into(),
                declared_dims: dims.to_vec(),
                needed_bytes,
                limit_bytes: self.max_bytes,
            });
        }
        Ok(())
    }
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_bytes: Self::DEFAULT_MAX_BYTES,
        }
    }
}

/// Read an IDX file of unsigned bytes (raw, or gzip-compressed: detected from its first bytes,
/// whatever its name) into an array of the shape its header declares, within the default
/// [`ReadLimits`].
///
/// # Errors
/// [`Error::Io`] when the file cannot be read (or its gzip stream is corrupt),
/// [`Error::BadMagic`] when it does not start with two zero bytes,
/// [`Error::UnsupportedIdxType`] for a data type other than unsigned bytes,
/// [`Error::Truncated`] when the header or the data are shorter than declared,
/// [`Error::TrailingData`] when there is more data than declared,
/// [`Error::BadHeader`] when the declared size overflows,
/// [`Error::TooLarge`] when the declared data is larger than the limit,
/// [`Error::AllocationFailed`] when the memory cannot be reserved.
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
    read_idx_with(path, ReadLimits::default())
}

/// [`read_idx`] within the given limits: the data (one byte per item) must fit in
/// `limits.max_bytes`.
///
/// # Errors
/// As [`read_idx`].
///
/// ```
/// use lazarus_train::data::{read_idx_with, ReadLimits};
/// use lazarus_train::Error;
/// let path = std::env::temp_dir().join("lazarus-doc-read-idx-with");
/// std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]).unwrap();
/// assert_eq!(read_idx_with(&path, ReadLimits { max_bytes: 3 })?.len(), 3);
/// let err = read_idx_with(&path, ReadLimits { max_bytes: 2 }).unwrap_err();
/// assert!(matches!(err, Error::TooLarge { needed_bytes: 3, limit_bytes: 2, .. }));
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn read_idx_with(path: impl AsRef<Path>, limits: ReadLimits) -> Result<ArrayD<u8>> {
    let file = IdxFile::open(path.as_ref(), None)?;
    limits.check(&file.path, &file.dims, file.data_len as u64)?;
    file.read_data()
}

/// An IDX file whose header has been read and checked; the reader is at the first data byte.
struct IdxFile {
    path: PathBuf,
    reader: Box<dyn Read>,
    /// The dimensions the header declares.
    dims: Vec<usize>,
    /// Bytes of the header: 4 + 4 per dimension.
    header_len: u64,
    /// Bytes of data the header declares (one per item).
    data_len: usize,
    /// Whether the file is a gzip stream (whose decompressed length is unknown until read).
    gzipped: bool,
}

impl IdxFile {
    /// Open `path` and read its header, requiring `rank` dimensions when given (reported as
    /// [`Error::BadMagic`], the rank being the magic number's last byte). A raw file shorter than
    /// its header promises fails here, before any data is read.
    fn open(path: &Path, rank: Option<u32>) -> Result<Self> {
        let file = File::open(path).map_err(Error::io(path))?;
        let file_len = file.metadata().map_err(Error::io(path))?.len();
        let mut buffered = BufReader::new(file);
        let gzipped = buffered
            .fill_buf()
            .map_err(Error::io(path))?
            .starts_with(&[0x1f, 0x8b]);
        let mut reader: Box<dyn Read> = if gzipped {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
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

        // At most 255 dimensions (one byte), so this allocation is bounded.
        let mut dims = Vec::with_capacity(ndim as usize);
        for i in 0..ndim {
            read_header(&mut reader, path, &mut word, 4 + 4 * u64::from(i))?;
            dims.push(u32::from_be_bytes(word) as usize);
        }
        let header_len = 4 + 4 * u64::from(ndim);
        let Some(data_len) = lazarus_core::element_count(&dims, 1) else {
            return Err(Error::BadHeader {
                path: path.into(),
                expected: "dimensions whose product fits in memory addresses".into(),
                found: format!("dimensions {dims:?}"),
            });
        };
        let expected_bytes = header_len + data_len as u64;
        if !gzipped && file_len < expected_bytes {
            // The file cannot hold what the header claims: say so before reading anything.
            return Err(Error::Truncated {
                path: path.into(),
                expected_bytes,
                found_bytes: file_len,
            });
        }
        Ok(Self {
            path: path.into(),
            reader,
            dims,
            header_len,
            data_len,
            gzipped,
        })
    }

    /// Read the data the header declares and check that nothing follows it.
    ///
    /// Memory is reserved fallibly and never past `data_len`: all of it at once for a raw file
    /// (its length was checked), and as the data arrive for a gzip stream, so a stream that runs
    /// short costs only what it really holds.
    fn read_data(mut self) -> Result<ArrayD<u8>> {
        let path = self.path.as_path();
        let expected_bytes = self.header_len + self.data_len as u64;
        let mut data: Vec<u8> = Vec::new();
        let first = if self.gzipped {
            self.data_len.min(CHUNK)
        } else {
            self.data_len
        };
        reserve(&mut data, first, path, self.data_len)?;
        let mut chunk = vec![0u8; CHUNK.min(self.data_len).max(1)];
        while data.len() < self.data_len {
            let want = (self.data_len - data.len()).min(chunk.len());
            let n = match self.reader.read(&mut chunk[..want]) {
                Ok(0) => {
                    return Err(Error::Truncated {
                        path: path.into(),
                        expected_bytes,
                        found_bytes: self.header_len + data.len() as u64,
                    });
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(path)(e)),
            };
            if data.capacity() - data.len() < n {
                // Double, but never past what the header declares (already within the limit).
                let grow = data.capacity().max(n).min(self.data_len - data.len());
                reserve(&mut data, grow, path, self.data_len)?;
            }
            data.extend_from_slice(&chunk[..n]);
        }
        loop {
            match self.reader.read(&mut chunk[..1]) {
                Ok(0) => break,
                Ok(_) => {
                    return Err(Error::TrailingData {
                        path: path.into(),
                        expected_bytes,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(path)(e)),
            }
        }
        // element_count checked the shape and exactly data_len bytes were read, so this holds;
        // an error rather than a panic all the same.
        ArrayD::from_shape_vec(IxDyn(&self.dims), data).map_err(|_| Error::BadHeader {
            path: path.into(),
            expected: "dimensions whose product fits in memory addresses".into(),
            found: format!("dimensions {:?}", self.dims),
        })
    }
}

/// Reserve room for `additional` more elements in `buffer`, or fail with
/// [`Error::AllocationFailed`] naming `path` and the `total` elements the load needs.
fn reserve<T>(buffer: &mut Vec<T>, additional: usize, path: &Path, total: usize) -> Result<()> {
    buffer
        .try_reserve_exact(additional)
        .map_err(|_| Error::AllocationFailed {
            path: path.into(),
            bytes: (total as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        })
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
/// Within the default [`ReadLimits`].
///
/// Both headers are read and checked against each other before any data is read.
///
/// # Errors
/// Those of [`read_idx`] for either file (a rank other than 3 for images or 1 for labels is
/// [`Error::BadMagic`]), [`Error::BadHeader`] for images of zero height or width,
/// [`Error::CountMismatch`] when the files hold different counts, and [`Error::TooLarge`] when
/// the images, the labels and their copies need more memory than the limit.
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
    idx_dataset_with(images_path, labels_path, layout, ReadLimits::default())
}

/// [`idx_dataset`] within the given limits (5 bytes per pixel and 9 per label, see
/// [`ReadLimits`]).
///
/// # Errors
/// As [`idx_dataset`].
///
/// ```no_run
/// use lazarus_train::data::{idx_dataset_with, ImageLayout, ReadLimits};
/// let byclass = idx_dataset_with(
///     "data/emnist-byclass-train-images-idx3-ubyte.gz",
///     "data/emnist-byclass-train-labels-idx1-ubyte.gz",
///     ImageLayout::Flat,
///     ReadLimits { max_bytes: 8 << 30 },
/// )?;
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn idx_dataset_with(
    images_path: impl AsRef<Path>,
    labels_path: impl AsRef<Path>,
    layout: ImageLayout,
    limits: ReadLimits,
) -> Result<Dataset> {
    IdxPair::open(images_path.as_ref(), labels_path.as_ref(), None, limits)?.read(layout, None)
}

/// An images file and its labels file, headers read and checked against each other and the
/// limit; no data read yet.
struct IdxPair {
    images: IdxFile,
    labels: IdxFile,
}

impl IdxPair {
    /// Read both headers and check: ranks, image size (`image_size` when given, else at least
    /// 1×1), equal counts, and the memory the load will need against `limits`.
    fn open(
        images_path: &Path,
        labels_path: &Path,
        image_size: Option<[usize; 2]>,
        limits: ReadLimits,
    ) -> Result<Self> {
        let labels = IdxFile::open(labels_path, Some(1))?;
        let images = IdxFile::open(images_path, Some(3))?;
        let &[n, height, width] = images.dims.as_slice() else {
            unreachable!("IdxFile::open checked the rank")
        };
        let bad_size = |expected: String| Error::BadHeader {
            path: images_path.into(),
            expected,
            found: format!("dimensions {:?}", images.dims),
        };
        match image_size {
            Some([h, w]) if [height, width] != [h, w] => {
                return Err(bad_size(format!(
                    "dimensions [n, {h}, {w}] ({h}×{w}-pixel images)"
                )));
            }
            None if height == 0 || width == 0 => {
                return Err(bad_size("images of at least 1×1 pixels".into()));
            }
            _ => {}
        }
        if labels.data_len != n {
            return Err(Error::CountMismatch {
                images_path: images_path.into(),
                labels_path: labels_path.into(),
                images: n,
                labels: labels.data_len,
            });
        }
        // The bytes read, plus the f32 pixels and usize labels made from them.
        let pixels = images.data_len as u64;
        let needed = pixels
            .saturating_mul(1 + 4)
            .saturating_add((n as u64).saturating_mul(1 + 8));
        limits.check(images_path, &images.dims, needed)?;
        Ok(Self { images, labels })
    }

    /// Read the labels (checked against `num_classes` when given, else it is the largest label
    /// + 1), then the images, into a data set shaped by `layout`.
    fn read(self, layout: ImageLayout, num_classes: Option<usize>) -> Result<Dataset> {
        let &[n, height, width] = self.images.dims.as_slice() else {
            unreachable!("IdxFile::open checked the rank")
        };
        let labels_path = self.labels.path.clone();
        let label_bytes = self.labels.read_data()?;
        if let Some(num_classes) = num_classes
            && let Some((index, &label)) = label_bytes
                .iter()
                .enumerate()
                .find(|&(_, &l)| usize::from(l) >= num_classes)
        {
            return Err(Error::LabelOutOfRangeInFile {
                path: labels_path,
                index,
                label: label.into(),
                num_classes,
            });
        }
        let mut labels = Vec::new();
        reserve(&mut labels, n, &labels_path, n)?;
        labels.extend(label_bytes.iter().map(|&l| usize::from(l)));
        drop(label_bytes);
        let num_classes =
            num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&max| max + 1));

        let images_path = self.images.path.clone();
        let image_bytes = self.images.read_data()?;
        let mut pixels = Vec::new();
        reserve(
            &mut pixels,
            image_bytes.len(),
            &images_path,
            image_bytes.len(),
        )?;
        pixels.extend(image_bytes.iter().map(|&p| f32::from(p) / 255.0));
        drop(image_bytes);
        let inputs = Tensor::from_shape_vec(layout.shape(n, height, width), pixels)
            .expect("n · height · width pixels");
        // Counts and labels were checked above, so this cannot fail on the files' contents.
        Dataset::from_labels(inputs, labels, num_classes)
    }
}

/// How [`Mnist::load_with`] shapes and scales the images, and how much memory it may use.
///
/// ```
/// use lazarus_train::data::{ImageLayout, MnistOptions};
/// let cnn = MnistOptions { layout: ImageLayout::Nchw, normalize: true, ..Default::default() };
/// assert_eq!(MnistOptions::default().layout, ImageLayout::Flat);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MnistOptions {
    /// `[n, 784]` (default) or `[n, 1, 28, 28]`.
    pub layout: ImageLayout,
    /// After scaling to [0, 1], standardize with [`MNIST_MEAN`] and [`MNIST_STD`] (default: no).
    pub normalize: bool,
    /// The memory each split may need (default [`ReadLimits::default`], far above the
    /// 225 MiB of MNIST's training split).
    pub limits: ReadLimits,
}

/// MNIST (or Fashion-MNIST, which uses the same file names and format), loaded from a folder.
///
/// The folder holds `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or with `.gz` appended, as
/// distributed. Images are 28×28 pixels; labels are classes `0..10`.
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
    /// All four headers are read and checked before any data is, so a bad test file is
    /// reported at once, not after reading the training set.
    ///
    /// # Errors
    /// [`Error::MissingFile`] (listing the names tried) when a file is absent, and every error
    /// of [`idx_dataset`]; [`Error::BadHeader`] for images that are not 28×28 and
    /// [`Error::LabelOutOfRangeInFile`] for a label above 9, each naming the file.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(dir, MnistOptions::default())
    }

    /// Load both splits from `dir` with the given layout, normalization and limits (each split
    /// is checked against `options.limits` on its own).
    ///
    /// # Errors
    /// As [`Mnist::load`].
    pub fn load_with(dir: impl AsRef<Path>, options: MnistOptions) -> Result<Self> {
        let dir = dir.as_ref();
        let open = |prefix: &str| -> Result<IdxPair> {
            let images = find_data_file(dir, &format!("{prefix}-images-idx3-ubyte"))?;
            let labels = find_data_file(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
            IdxPair::open(&images, &labels, Some(MNIST_IMAGE), options.limits)
        };
        let read = |pair: IdxPair| -> Result<Dataset> {
            let mut data = pair.read(options.layout, Some(10))?;
            if options.normalize {
                data.normalize(MNIST_MEAN, MNIST_STD)?;
            }
            Ok(data)
        };
        let (train, test) = (open("train")?, open("t10k")?);
        Ok(Self {
            train: read(train)?,
            test: read(test)?,
        })
    }
}
