//! Data: in-memory data sets, mini-batch loading, MNIST's IDX files, and synthetic digits.
//!
//! * [`Dataset`]: inputs (first axis = sample) and [`Targets`] (class labels or values), with
//!   [`subset`](Dataset::subset), [`split`](Dataset::split), [`one_hot`] and
//!   [`normalize`](Dataset::normalize).
//! * [`DataLoader`]: batches with seeded per-epoch shuffling and `drop_last`, gathered into
//!   reusable buffers (no copy of the data set, no allocation per batch).
//! * [`Mnist`], [`read_idx`], [`idx_dataset`]: MNIST / Fashion-MNIST / any IDX file, raw or `.gz`,
//!   within [`ReadLimits`] (a header cannot make them allocate more than that).
//! * [`SyntheticDigits`]: MNIST-shaped handwritten-looking digits generated from a seed, so
//!   examples run on a fresh machine with no download; [`write_png_grid`] to look at them.
//!
//! ```
//! use lazarus_train::data::{DataLoader, SyntheticDigits};
//! let train = SyntheticDigits::new(0).generate(256)?;
//! let mut loader = DataLoader::new(&train, 64)?.shuffle(0);
//! let mut batches = loader.epoch(0);
//! while let Some(batch) = batches.next_batch() {
//!     assert_eq!(batch.inputs.shape(), &[64, 784]);
//! }
//! # Ok::<(), lazarus_train::Error>(())
//! ```

mod dataset;
mod idx;
mod image_layout;
mod loader;
mod one_hot;
mod png_grid;
mod split;
mod synthetic_digits;

pub use dataset::{Dataset, Sample, Targets};
pub use idx::{
    MNIST_MEAN, MNIST_STD, Mnist, MnistOptions, ReadLimits, find_data_file, idx_dataset,
    idx_dataset_with, read_idx, read_idx_with,
};
pub use image_layout::ImageLayout;
pub use loader::{Batch, DataLoader, Epoch};
pub use one_hot::one_hot;
pub use png_grid::write_png_grid;
pub use synthetic_digits::SyntheticDigits;
