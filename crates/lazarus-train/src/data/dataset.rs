//! A data set in memory: an input tensor whose first axis is the sample, and one target per sample.

use lazarus_core::loss::Target;
use lazarus_core::{Tensor, TensorView};
use ndarray::Axis;

use super::one_hot;
use crate::{Error, Result};

/// What a [`Dataset`] pairs with each input: a class label, or a tensor of values.
///
/// ```
/// use lazarus_train::data::Targets;
/// let t = Targets::Labels { labels: vec![3, 1, 4], num_classes: 10 };
/// assert_eq!(t.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class index per sample, each below `num_classes` (classification, for
    /// `CrossEntropyLoss`).
    Labels {
        /// The class of each sample.
        labels: Vec<usize>,
        /// How many classes there are (labels are `0..num_classes`).
        num_classes: usize,
    },
    /// A tensor whose first axis is the sample (regression, for `MseLoss`, `HuberLoss`, ...).
    Values(Tensor),
}

impl Targets {
    /// The number of samples the targets describe.
    pub fn len(&self) -> usize {
        match self {
            Targets::Labels { labels, .. } => labels.len(),
            Targets::Values(values) => values.shape().first().copied().unwrap_or(0),
        }
    }

    /// Whether there are no targets.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Inputs and targets held in memory, indexed by sample.
///
/// `inputs` has the sample on its first axis: `[n, 784]` for flat images, `[n, 1, 28, 28]` for
/// a CNN, `[n, features]` for tabular data. Tensors are kept in standard (row-major) layout, so
/// a sample is one contiguous slice: this is what lets the [`DataLoader`](super::DataLoader)
/// gather a shuffled batch with a `copy_from_slice` per sample.
///
/// ```
/// use lazarus_train::data::Dataset;
/// use lazarus_core::Tensor;
///
/// let x = Tensor::from_shape_vec(vec![4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.]).unwrap();
/// let xor = Dataset::from_labels(x, vec![0, 1, 1, 0], 2)?;
/// assert_eq!(xor.len(), 4);
/// assert_eq!(xor.input_shape(), &[2]);
/// assert_eq!(xor.num_classes(), Some(2));
/// assert_eq!(xor.get(1).unwrap().label(), Some(1));
/// # Ok::<(), lazarus_train::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    inputs: Tensor,
    targets: Targets,
}

/// One sample of a [`Dataset`], borrowed.
#[derive(Debug, Clone)]
pub struct Sample<'a> {
    /// The input, without the sample axis (shape [`Dataset::input_shape`]).
    pub input: TensorView<'a>,
    /// The target: `Classes` holding exactly this sample's label, or `Values` holding this
    /// sample's target tensor (without the sample axis).
    pub target: Target<'a>,
}

impl Sample<'_> {
    /// The class label, for a classification data set.
    pub fn label(&self) -> Option<usize> {
        match self.target {
            Target::Classes(&[label]) => Some(label),
            _ => None,
        }
    }
}

impl Dataset {
    /// A data set of `inputs` (first axis = sample) and `targets`.
    ///
    /// Inputs or values not in standard layout (a transposed view made owned, say) are copied
    /// into standard layout once, here.
    ///
    /// # Errors
    /// [`Error::Core`] with a `ShapeMismatch` when `inputs` (or target values) have no sample
    /// axis (0-D), [`Error::LengthMismatch`] when inputs and targets count different samples,
    /// [`Error::LabelOutOfRange`] for a label not below `num_classes`.
    ///
    /// ```
    /// use lazarus_train::data::{Dataset, Targets};
    /// use lazarus_train::Error;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::zeros(vec![3, 2]);
    /// let bad = Targets::Labels { labels: vec![0, 1], num_classes: 2 };
    /// assert!(matches!(
    ///     Dataset::new(x, bad),
    ///     Err(Error::LengthMismatch { inputs: 3, targets: 2 })
    /// ));
    /// ```
    pub fn new(inputs: Tensor, targets: Targets) -> Result<Self> {
        let n = sample_count(&inputs, "inputs")?;
        let targets = match targets {
            Targets::Labels {
                labels,
                num_classes,
            } => {
                if let Some((index, &label)) =
                    labels.iter().enumerate().find(|(_, l)| **l >= num_classes)
                {
                    return Err(Error::LabelOutOfRange {
                        index,
                        label,
                        num_classes,
                    });
                }
                Targets::Labels {
                    labels,
                    num_classes,
                }
            }
            Targets::Values(values) => {
                sample_count(&values, "target values")?;
                Targets::Values(standard_layout(values))
            }
        };
        if targets.len() != n {
            return Err(Error::LengthMismatch {
                inputs: n,
                targets: targets.len(),
            });
        }
        Ok(Self {
            inputs: standard_layout(inputs),
            targets,
        })
    }

    /// A classification data set: `labels[i]` is the class of sample `i`, in `0..num_classes`.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_train::Error;
    /// use lazarus_core::Tensor;
    /// let err = Dataset::from_labels(Tensor::zeros(vec![2, 3]), vec![0, 7], 3).unwrap_err();
    /// assert!(matches!(err, Error::LabelOutOfRange { index: 1, label: 7, num_classes: 3 }));
    /// ```
    pub fn from_labels(inputs: Tensor, labels: Vec<usize>, num_classes: usize) -> Result<Self> {
        Self::new(
            inputs,
            Targets::Labels {
                labels,
                num_classes,
            },
        )
    }

    /// A regression data set: `values` has the sample on its first axis, like `inputs`.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::zeros(vec![5, 3]);
    /// let y = Tensor::ones(vec![5, 1]);
    /// let data = Dataset::from_values(x, y)?;
    /// assert_eq!(data.num_classes(), None);
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn from_values(inputs: Tensor, values: Tensor) -> Result<Self> {
        Self::new(inputs, Targets::Values(values))
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    /// Whether the data set has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one input, without the sample axis: `[784]` or `[1, 28, 28]` for MNIST.
    pub fn input_shape(&self) -> &[usize] {
        &self.inputs.shape()[1..]
    }

    /// The number of classes of a classification data set (`None` for regression targets).
    pub fn num_classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Labels { num_classes, .. } => Some(*num_classes),
            Targets::Values(_) => None,
        }
    }

    /// All inputs, sample on the first axis.
    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    /// All targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The class labels of a classification data set (`None` for regression targets).
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Labels { labels, .. } => Some(labels),
            Targets::Values(_) => None,
        }
    }

    /// Take the data set apart into its inputs and targets.
    pub fn into_parts(self) -> (Tensor, Targets) {
        (self.inputs, self.targets)
    }

    /// Sample `index`, or `None` past the end.
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::from_shape_vec(vec![2, 2], vec![1., 2., 3., 4.]).unwrap();
    /// let data = Dataset::from_labels(x, vec![0, 1], 2)?;
    /// let s = data.get(1).unwrap();
    /// assert_eq!(s.input.as_slice().unwrap(), &[3., 4.]);
    /// assert_eq!(s.label(), Some(1));
    /// assert!(data.get(2).is_none());
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<Sample<'_>> {
        if index >= self.len() {
            return None;
        }
        let target = match &self.targets {
            Targets::Labels { labels, .. } => Target::Classes(std::slice::from_ref(&labels[index])),
            Targets::Values(values) => Target::Values(values.index_axis(Axis(0), index)),
        };
        Some(Sample {
            input: self.inputs.index_axis(Axis(0), index),
            target,
        })
    }

    /// A new data set of the samples at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for an index not below [`len`](Dataset::len).
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::from_shape_vec(vec![3, 1], vec![10., 11., 12.]).unwrap();
    /// let data = Dataset::from_labels(x, vec![0, 1, 2], 3)?;
    /// let sub = data.subset(&[2, 0])?;
    /// assert_eq!(sub.labels(), Some(&[2, 0][..]));
    /// assert_eq!(sub.inputs().as_slice().unwrap(), &[12., 10.]);
    /// assert!(data.subset(&[3]).is_err());
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let len = self.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(Error::IndexOutOfRange { index, len });
        }
        let targets = match &self.targets {
            Targets::Labels {
                labels,
                num_classes,
            } => Targets::Labels {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                num_classes: *num_classes,
            },
            Targets::Values(values) => Targets::Values(values.select(Axis(0), indices)),
        };
        Ok(Self {
            inputs: self.inputs.select(Axis(0), indices),
            targets,
        })
    }

    /// The labels as one-hot rows `[n, num_classes]`, e.g. as targets for `MseLoss`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a regression data set (it has no labels).
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![2, 1]), vec![2, 0], 3)?;
    /// let y = data.one_hot()?;
    /// assert_eq!(y.as_slice().unwrap(), &[0., 0., 1., 1., 0., 0.]);
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn one_hot(&self) -> Result<Tensor> {
        match &self.targets {
            Targets::Labels {
                labels,
                num_classes,
            } => one_hot(labels, *num_classes),
            Targets::Values(_) => Err(Error::config(
                "dataset",
                "targets",
                "one_hot needs class labels, found regression values",
            )),
        }
    }

    /// Standardize the inputs in place: x ← (x − mean) / std.
    ///
    /// For MNIST-like data use [`MNIST_MEAN`](super::MNIST_MEAN) and
    /// [`MNIST_STD`](super::MNIST_STD), or the statistics of your own training set from
    /// [`mean_std`](Dataset::mean_std) (apply the training set's numbers to the test set too).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `mean` is finite and `std` is finite and positive.
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::from_shape_vec(vec![2, 1], vec![1., 3.]).unwrap();
    /// let mut data = Dataset::from_labels(x, vec![0, 1], 2)?;
    /// data.normalize(2.0, 0.5)?;
    /// assert_eq!(data.inputs().as_slice().unwrap(), &[-2., 2.]);
    /// assert!(data.normalize(0.0, 0.0).is_err());
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn normalize(&mut self, mean: f32, std: f32) -> Result<()> {
        if !mean.is_finite() {
            return Err(Error::config(
                "normalize",
                "mean",
                format!("must be finite, found {}", lazarus_core::Num(mean)),
            ));
        }
        if !(std.is_finite() && std > 0.0) {
            return Err(Error::config(
                "normalize",
                "std",
                format!(
                    "must be finite and positive, found {}",
                    lazarus_core::Num(std)
                ),
            ));
        }
        let inv = 1.0 / std;
        self.inputs.mapv_inplace(|x| (x - mean) * inv);
        Ok(())
    }

    /// Mean and (population) standard deviation over every input element, summed in f64.
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let x = Tensor::from_shape_vec(vec![2, 1], vec![1., 3.]).unwrap();
    /// let data = Dataset::from_labels(x, vec![0, 1], 2)?;
    /// assert_eq!(data.mean_std(), (2.0, 1.0));
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn mean_std(&self) -> (f32, f32) {
        let n = self.inputs.len().max(1) as f64;
        let mean = self.inputs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = self
            .inputs
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean as f32, var.sqrt() as f32)
    }
}

/// The length of the first axis of `t`, or a shape error if it has none.
fn sample_count(t: &Tensor, what: &str) -> Result<usize> {
    t.shape().first().copied().ok_or_else(|| {
        Error::Core(lazarus_core::Error::ShapeMismatch {
            layer: "dataset".into(),
            expected: format!("{what} with a sample axis first, [n, ...]"),
            found: t.shape().to_vec(),
        })
    })
}

/// `t` itself if it is in standard layout, otherwise a standard-layout copy.
fn standard_layout(t: Tensor) -> Tensor {
    if t.is_standard_layout() {
        t
    } else {
        t.as_standard_layout().into_owned()
    }
}
