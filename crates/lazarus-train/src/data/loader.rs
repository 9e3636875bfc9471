//! Mini-batches from a [`Dataset`]: seeded shuffling per epoch, reusable batch buffers.

use lazarus_core::loss::Target;
use lazarus_core::{Tensor, TensorView};
use ndarray::{Axis, IxDyn, Slice};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{Dataset, Targets};
use crate::kernels::gather_rows;
use crate::{Error, Result};

/// Cuts a [`Dataset`] into mini-batches, epoch after epoch.
///
/// * **Order.** Without [`shuffle`](DataLoader::shuffle), batches follow the data set's order.
///   With `shuffle(seed)`, epoch `e` visits the samples in a permutation that is a function of
///   `(seed, e)` alone: the same seed gives the same order on every run, different epochs give
///   different orders, and a run resumed at epoch `e` sees exactly the batches an uninterrupted
///   run would have.
/// * **Size.** Every batch has `batch_size` samples except possibly the last; with
///   [`drop_last(true)`](DataLoader::drop_last) that short batch is skipped (useful when a layer
///   such as batch statistics should not see a tiny batch).
/// * **No copies of the data set.** An unshuffled batch is a view into the data set. A shuffled
///   batch is gathered (row `i` of the batch = sample `order[i]`; the copy, in parallel pieces
///   for large batches, is `kernels.rs`) into buffers the loader owns and reuses, so an epoch
///   allocates nothing after its first batch. The price of that reuse is
///   the lending API: a [`Batch`] borrows the loader and must be dropped before the next one
///   is asked for, so batches come from a `while let` loop, not a `for` loop.
///
/// ```
/// use lazarus_train::data::{DataLoader, Dataset};
/// use lazarus_core::Tensor;
///
/// let x = Tensor::from_shape_vec(vec![5, 2], (0..10).map(|v| v as f32).collect()).unwrap();
/// let data = Dataset::from_labels(x, vec![0, 1, 0, 1, 0], 2)?;
/// let mut loader = DataLoader::new(&data, 2)?.shuffle(42).drop_last(false);
/// assert_eq!(loader.num_batches(), 3);
/// for epoch in 0..2 {
///     let mut batches = loader.epoch(epoch);
///     while let Some(batch) = batches.next_batch() {
///         assert_eq!(batch.inputs.shape()[1], 2);
///         assert!(batch.len() == 2 || batch.index == 2);
///         let _target = batch.target(); // Target::Classes(&[..]) for a loss
///     }
/// }
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug)]
pub struct DataLoader<'d> {
    dataset: &'d Dataset,
    batch_size: usize,
    seed: Option<u64>,
    drop_last: bool,
    /// The sample order of the current epoch (reused across epochs).
    order: Vec<usize>,
    /// Gather buffers for shuffled batches.
    inputs: Tensor,
    labels: Vec<usize>,
    values: Tensor,
}

impl<'d> DataLoader<'d> {
    /// A loader over `dataset` in batches of `batch_size`, in order, keeping the last short batch.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `batch_size` is 0.
    ///
    /// ```
    /// use lazarus_train::data::{DataLoader, Dataset};
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![3, 1]), vec![0; 3], 1)?;
    /// assert!(DataLoader::new(&data, 0).is_err());
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn new(dataset: &'d Dataset, batch_size: usize) -> Result<Self> {
        let ok = batch_size >= 1;
        Error::check_setting(
            ok,
            "data_loader",
            "batch_size",
            "at least 1",
            batch_size as f64,
        )?;
        Ok(Self {
            dataset,
            batch_size,
            seed: None,
            drop_last: false,
            order: Vec::new(),
            inputs: Tensor::zeros(IxDyn(&[0])),
            labels: Vec::new(),
            values: Tensor::zeros(IxDyn(&[0])),
        })
    }

    /// Shuffle every epoch, with an order determined by `(seed, epoch)`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Skip the last batch of an epoch when it is shorter than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// The data set being batched.
    pub fn dataset(&self) -> &'d Dataset {
        self.dataset
    }

    /// Samples per (full) batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batches per epoch: `⌈n / batch_size⌉`, or `⌊n / batch_size⌋` with `drop_last`.
    ///
    /// ```
    /// use lazarus_train::data::{DataLoader, Dataset};
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![10, 1]), vec![0; 10], 1)?;
    /// assert_eq!(DataLoader::new(&data, 4)?.num_batches(), 3);
    /// assert_eq!(DataLoader::new(&data, 4)?.drop_last(true).num_batches(), 2);
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// Samples visited per epoch (fewer than the data set's length with `drop_last`).
    pub fn num_samples(&self) -> usize {
        (self.num_batches() * self.batch_size).min(self.dataset.len())
    }

    /// Start epoch `epoch` (0-based): fixes this epoch's sample order and returns the batches.
    ///
    /// ```
    /// use lazarus_train::data::{DataLoader, Dataset};
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![6, 1]), vec![0; 6], 1)?;
    /// let mut loader = DataLoader::new(&data, 4)?.shuffle(1);
    /// let mut seen = Vec::new();
    /// let mut batches = loader.epoch(0);
    /// while let Some(batch) = batches.next_batch() {
    ///     seen.extend_from_slice(batch.indices());
    /// }
    /// seen.sort();
    /// assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn epoch(&mut self, epoch: usize) -> Epoch<'_, 'd> {
        self.order.clear();
        self.order.extend(0..self.dataset.len());
        if let Some(seed) = self.seed {
            self.order.shuffle(&mut epoch_rng(seed, epoch));
        }
        Epoch {
            next: 0,
            num_batches: self.num_batches(),
            loader: self,
        }
    }
}

/// The RNG that orders epoch `epoch`: ChaCha keyed by the seed and the epoch number, so each
/// `(seed, epoch)` pair has its own stream, independent of how many epochs came before.
fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    StdRng::from_seed(key)
}

/// The batches of one epoch, from [`DataLoader::epoch`]; ask for each with
/// [`next_batch`](Epoch::next_batch).
#[derive(Debug)]
pub struct Epoch<'l, 'd> {
    loader: &'l mut DataLoader<'d>,
    next: usize,
    num_batches: usize,
}

impl Epoch<'_, '_> {
    /// Batches in this epoch (the same as [`DataLoader::num_batches`]).
    pub fn num_batches(&self) -> usize {
        self.num_batches
    }

    /// The next batch, or `None` when the epoch is over.
    ///
    /// The batch borrows this `Epoch` (it may live in the loader's buffers), so drop it before
    /// asking for the next one.
    pub fn next_batch(&mut self) -> Option<Batch<'_>> {
        if self.next >= self.num_batches {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let loader = &mut *self.loader;
        let dataset = loader.dataset;
        let start = index * loader.batch_size;
        let end = (start + loader.batch_size).min(loader.order.len());
        let indices = &loader.order[start..end];

        if loader.seed.is_none() {
            // In order: the batch is a contiguous range of the data set, so lend views of it.
            let rows = Slice::from(start..end);
            let target = match dataset.targets() {
                Targets::Labels { labels, .. } => Target::Classes(&labels[start..end]),
                Targets::Values(values) => Target::Values(values.slice_axis(Axis(0), rows)),
            };
            return Some(Batch {
                inputs: dataset.inputs().slice_axis(Axis(0), rows),
                target,
                indices,
                index,
            });
        }

        gather_rows(dataset.inputs(), indices, &mut loader.inputs);
        let target = match dataset.targets() {
            Targets::Labels { labels, .. } => {
                loader.labels.clear();
                loader.labels.extend(indices.iter().map(|&i| labels[i]));
                Target::Classes(&loader.labels)
            }
            Targets::Values(values) => {
                gather_rows(values, indices, &mut loader.values);
                Target::Values(loader.values.view())
            }
        };
        Some(Batch {
            inputs: loader.inputs.view(),
            target,
            indices,
            index,
        })
    }
}

/// One mini-batch, borrowed from the data set (in order) or from the loader's buffers
/// (shuffled).
#[derive(Debug, Clone)]
pub struct Batch<'a> {
    /// The inputs, `[batch, ...]`: the data set's input shape with the batch first.
    pub inputs: TensorView<'a>,
    /// Position of this batch in its epoch, from 0.
    pub index: usize,
    target: Target<'a>,
    indices: &'a [usize],
}

impl<'a> Batch<'a> {
    /// The targets, ready for a loss: `Target::Classes(&[usize])` for labels,
    /// `Target::Values(view)` for regression values.
    pub fn target(&self) -> Target<'a> {
        self.target.clone()
    }

    /// The class labels, for a classification data set.
    pub fn labels(&self) -> Option<&'a [usize]> {
        match self.target {
            Target::Classes(labels) => Some(labels),
            Target::Values(_) => None,
        }
    }

    /// The data set index of each sample in the batch (to find a misclassified sample, say).
    pub fn indices(&self) -> &'a [usize] {
        self.indices
    }

    /// Samples in this batch.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty (never, for batches from an [`Epoch`]).
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}
