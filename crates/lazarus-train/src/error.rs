//! The one error type of lazarus-train.
//!
//! Every message names the file (or the setting) involved, what was expected and what was found,
//! and the same facts are fields, so a program can match on them instead of parsing text.

use std::path::PathBuf;

/// Errors from data sets, loaders, file readers and training.
///
/// Errors from layers and losses arrive wrapped as [`Error::Core`] (via `?` and `From`).
///
/// ```
/// use lazarus_train::Error;
/// let err = Error::BadMagic { path: "train-labels-idx1-ubyte".into(), expected: 0x801, found: 0x803 };
/// assert_eq!(
///     err.to_string(),
///     "train-labels-idx1-ubyte: expected IDX magic number 0x00000801, found 0x00000803"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from a layer, a loss or another part of lazarus-core.
    #[error(transparent)]
    Core(#[from] lazarus_core::Error),

    /// Reading or writing a file failed (not found, permission denied, a corrupt gzip stream...).
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What the operating system (or the gzip decoder) reported.
        #[source]
        source: std::io::Error,
    },

    /// A file does not start with the magic number its format requires.
    ///
    /// An IDX file starts with two zero bytes, a type byte (`0x08` for unsigned bytes) and the
    /// number of dimensions: `0x00000803` for MNIST images, `0x00000801` for MNIST labels.
    #[error("{path}: expected IDX magic number {expected:#010x}, found {found:#010x}", path = path.display())]
    BadMagic {
        /// The file that was read.
        path: PathBuf,
        /// The magic number that was required.
        expected: u32,
        /// The first four bytes of the file, big-endian.
        found: u32,
    },

    /// An IDX file holds a data type this reader does not support (only `0x08`, unsigned bytes).
    #[error("{path}: unsupported IDX data type {found:#04x}, expected 0x08 (unsigned byte)", path = path.display())]
    UnsupportedIdxType {
        /// The file that was read.
        path: PathBuf,
        /// The type byte found (third byte of the file).
        found: u8,
    },

    /// An images file and its labels file disagree on the number of samples.
    #[error(
        "{images_path} holds {images} images but {labels_path} holds {labels} labels",
        images_path = images_path.display(),
        labels_path = labels_path.display()
    )]
    CountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// The labels file.
        labels_path: PathBuf,
        /// Number of images its header declares.
        images: usize,
        /// Number of labels its header declares.
        labels: usize,
    },

    /// A file holds fewer bytes than its header promises (also: a header cut short).
    ///
    /// For an uncompressed file this is detected from the file's length before any data is
    /// allocated, so a corrupt header claiming billions of samples fails at once.
    #[error(
        "{path}: truncated: expected {expected_bytes} bytes, found {found_bytes}",
        path = path.display()
    )]
    Truncated {
        /// The file that was read.
        path: PathBuf,
        /// Bytes the header promises (after decompression, for `.gz` files).
        expected_bytes: u64,
        /// Bytes actually present (at least this many, for a too-short header).
        found_bytes: u64,
    },

    /// A file holds more bytes than its header declares.
    #[error(
        "{path}: expected {expected_bytes} bytes, found more (trailing data after the last item)",
        path = path.display()
    )]
    TrailingData {
        /// The file that was read.
        path: PathBuf,
        /// Bytes the header declares.
        expected_bytes: u64,
    },

    /// A header is self-inconsistent: a size that overflows, or a shape the caller cannot use
    /// (MNIST images that are not 28×28, for instance).
    #[error("{path}: bad header: expected {expected}, found {found}", path = path.display())]
    BadHeader {
        /// The file that was read.
        path: PathBuf,
        /// What the header should have held.
        expected: String,
        /// What it held.
        found: String,
    },

    /// None of the accepted names of a data file exists in the folder.
    #[error(
        "{dir}: missing data file, tried {}",
        tried.join(", "),
        dir = dir.display()
    )]
    MissingFile {
        /// The folder searched.
        dir: PathBuf,
        /// Every file name looked for, in order (raw name first, then `.gz`).
        tried: Vec<String>,
    },

    /// Inputs and targets disagree on the number of samples.
    #[error("dataset: inputs hold {inputs} samples but targets hold {targets}")]
    LengthMismatch {
        /// Samples along the inputs' first axis.
        inputs: usize,
        /// Number of labels, or samples along the target tensor's first axis.
        targets: usize,
    },

    /// A class label is not below the number of classes.
    #[error("dataset: label {label} of sample {index} is not below num_classes = {num_classes}")]
    LabelOutOfRange {
        /// The sample holding the label.
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes declared.
        num_classes: usize,
    },

    /// A sample index is past the end of a data set.
    #[error("dataset: index {index} out of range for a data set of {len} samples")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The data set's length.
        len: usize,
    },

    /// A setting is outside its valid range, or does not fit the data it is used with.
    #[error("{context}: invalid {parameter}: {reason}")]
    InvalidConfig {
        /// What was being configured: `data_loader`, `dataset`, `png_grid`, ...
        context: String,
        /// The offending parameter: `batch_size`, `fraction`, `std`, ...
        parameter: String,
        /// What was wrong, with the value that was found.
        reason: String,
    },

    /// An error from an optimizer, a schedule or gradient clipping.
    #[error(transparent)]
    Optim(#[from] lazarus_optim::Error),

    /// A NaN or an infinity appeared during training, validation or evaluation.
    ///
    /// `layer` is the first layer whose output is not finite (`linear[0]`), `input data` when
    /// the inputs themselves hold one (then `sample` is the data set index of the first such
    /// sample), `targets` for a non-finite regression target, or the first parameter whose value
    /// is not finite after an optimizer step (`linear[1] (parameter 1.weight)`).
    #[error(
        "{stage}: non-finite {what}; {}",
        culprit(layer, *sample)
    )]
    NonFinite {
        /// Where in the run it happened.
        stage: Stage,
        /// Where it appeared first (see above).
        layer: String,
        /// The data set index of the first sample holding a NaN or an infinity, when the input
        /// data or the targets are to blame.
        sample: Option<usize>,
        /// `loss`, `gradient`, `weights after the optimizer step`, `validation loss`, ...
        what: String,
    },

    /// A tensor to save or to load holds a NaN or an infinity: such a file would only spread the
    /// failure, so it is never written, and never loaded into a model.
    #[error(
        "{path}: tensor `{tensor}` is not finite (element {index} is {value}); refusing to {action} it",
        path = path.display()
    )]
    NonFiniteTensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor's name in the file (`1.weight`, `optimizer.0.weight.exp_avg`).
        tensor: String,
        /// Flat (row-major) index of the first non-finite element.
        index: usize,
        /// That element.
        value: f32,
        /// `save` or `load`.
        action: &'static str,
    },

    /// A training checkpoint's optimizer or schedule state does not fit this trainer (another
    /// kind of optimizer or schedule, a missing or unexpected entry, a value out of range),
    /// or the file holds schedule state and the trainer has no schedule. Nothing was loaded.
    #[error("{path}: cannot resume from its {group} state: {reason}", path = path.display())]
    CheckpointState {
        /// The checkpoint file.
        path: PathBuf,
        /// `optimizer` or `scheduler`.
        group: String,
        /// What does not fit.
        reason: String,
    },

    /// A checkpoint file is not a valid safetensors file (truncated, garbled header, ...).
    #[error("{path}: corrupt checkpoint: {reason}", path = path.display())]
    CheckpointCorrupt {
        /// The checkpoint file.
        path: PathBuf,
        /// What the safetensors reader reported.
        reason: String,
    },

    /// A checkpoint does not fit the model: a missing, unexpected or mis-shaped tensor (a
    /// parameter, a buffer or a state tensor), a wrong dtype (F32, or I64 for a count), or a
    /// count out of range.
    #[error(
        "{path}: checkpoint does not fit the model: tensor `{key}`{}: {reason}",
        layer.as_ref().map_or(String::new(), |l| format!(" of {l}")),
        path = path.display()
    )]
    CheckpointMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The key of the first tensor that does not fit (`1.running_mean`), in the file or
        /// in the model; for unexpected tensors, the first of them in sorted order.
        key: String,
        /// The layer that owns the key, as errors name layers (`batchnorm2d[1]`, `linear[0]`),
        /// when the model has a layer at the key's path.
        layer: Option<String>,
        /// What does not fit, with the expected and the found shape, dtype or value.
        reason: String,
    },

    /// JSON could not be written or parsed.
    #[error("{}: JSON: {reason}", path.as_ref().map_or("<memory>".to_string(), |p| p.display().to_string()))]
    Json {
        /// The file, if any.
        path: Option<PathBuf>,
        /// What serde_json reported.
        reason: String,
    },

    /// A CSV line could not be parsed.
    #[error("CSV line {line}: {reason}")]
    Csv {
        /// Line number, from 1.
        line: usize,
        /// What was wrong.
        reason: String,
    },

    /// Drawing a plot failed.
    #[error("{path}: plotting failed: {reason}", path = path.display())]
    Plot {
        /// The SVG file being written.
        path: PathBuf,
        /// What plotters reported.
        reason: String,
    },

    /// Encoding a PNG image failed.
    #[error("{path}: PNG encoding failed: {source}", path = path.display())]
    Png {
        /// The file being written.
        path: PathBuf,
        /// What the PNG encoder reported.
        #[source]
        source: png::EncodingError,
    },

    /// A file's header declares more data than the configured memory limit allows
    /// (`ReadLimits::max_bytes` in [`crate::data`]); refused before any data is read.
    #[error(
        "{path}: declared dimensions {declared_dims:?} need {needed} of memory to load, more \
         than the limit of {limit}; raise ReadLimits::max_bytes if the file is really that large",
        path = path.display(),
        needed = format_bytes(*needed_bytes),
        limit = format_bytes(*limit_bytes)
    )]
    TooLarge {
        /// The file whose header declares the size (the images file, for a data set).
        path: PathBuf,
        /// The dimensions its header declares.
        declared_dims: Vec<usize>,
        /// Bytes the load would allocate: the data and, for a data set, the copies made from it.
        needed_bytes: u64,
        /// The limit in force.
        limit_bytes: u64,
    },

    /// The memory for a file's data could not be reserved.
    #[error(
        "{path}: could not reserve {size} of memory for its data",
        path = path.display(),
        size = format_bytes(*bytes)
    )]
    AllocationFailed {
        /// The file being read.
        path: PathBuf,
        /// Bytes asked for.
        bytes: u64,
    },

    /// A class label in a labels file is not below the number of classes.
    #[error(
        "{path}: label {label} of sample {index} is not below num_classes = {num_classes}",
        path = path.display()
    )]
    LabelOutOfRangeInFile {
        /// The labels file.
        path: PathBuf,
        /// The sample holding the label, from 0.
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes required.
        num_classes: usize,
    },

    /// Writing to standard output or standard error failed (a full disk, a closed pipe, ...):
    /// what `println!` would have turned into a panic.
    #[error("writing to {stream} failed: {source}")]
    Output {
        /// `stdout` or `stderr`.
        stream: &'static str,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::InvalidConfig`] for `parameter` of `context` with the reason `reason`.
    pub(crate) fn config(context: &str, parameter: &str, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            context: context.into(),
            parameter: parameter.into(),
            reason: reason.into(),
        }
    }

    /// `Err(InvalidConfig)` unless `ok`, reading "`context`: invalid `parameter`: must be
    /// `expected`, found `value`": the one check every fallible setter uses.
    pub(crate) fn check_setting<T>(
        ok: bool,
        context: &str,
        parameter: &str,
        expected: &str,
        value: T,
    ) -> Result<(), Self>
    where
        lazarus_core::Num<T>: std::fmt::Display,
    {
        if ok {
            return Ok(());
        }
        let found = lazarus_core::Num(value);
        Err(Error::config(
            context,
            parameter,
            format!("must be {expected}, found {found}"),
        ))
    }

    /// An [`Error::Io`] for `path`; for use as `.map_err(Error::io(path))`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Where in a run a non-finite value appeared (see [`Error::NonFinite`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Training, in batch `batch` (from 0) of epoch `epoch` (from 1).
    Training {
        /// Epoch, from 1.
        epoch: usize,
        /// Batch within the epoch, from 0.
        batch: usize,
    },
    /// The validation pass after epoch `epoch` (from 1).
    Validation {
        /// Epoch, from 1.
        epoch: usize,
    },
    /// A standalone [`Trainer::evaluate`](crate::Trainer::evaluate) (or prediction).
    Evaluation,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Training { epoch, batch } => write!(f, "epoch {epoch}, batch {batch}"),
            Stage::Validation { epoch } => write!(f, "epoch {epoch}, validation"),
            Stage::Evaluation => write!(f, "evaluation"),
        }
    }
}

/// The end of a [`Error::NonFinite`] message: where the value appeared first.
fn culprit(layer: &str, sample: Option<usize>) -> String {
    match sample {
        Some(i) => format!("first found in {layer}, sample {i}"),
        None => format!("first found in {layer}"),
    }
}

/// A byte count for a person: `4.0 GiB (4294967296 bytes)`, or `512 bytes` below 1 KiB.
pub(crate) fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // 1023.95 and above would print as "1024.0": move to the next unit instead.
    while value >= 1023.95 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {} ({bytes} bytes)", UNITS[unit])
}

/// `Result` with lazarus-train's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
