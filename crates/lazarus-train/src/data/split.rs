//! Random train/validation splits of a data set.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::Dataset;
use crate::{Error, Result};

impl Dataset {
    /// Split at random into two data sets: the first holds `round(fraction · len)` samples, the
    /// second the rest. The permutation is a function of `seed` alone.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 ≤ fraction ≤ 1`.
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![10, 3]), vec![0; 10], 1)?;
    /// let (a, b) = data.split(0.8, 42)?;
    /// assert_eq!((a.len(), b.len()), (8, 2));
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::config(
                "split",
                "fraction",
                format!("must be in [0, 1], found {}", lazarus_core::Num(fraction)),
            ));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let first = (fraction * self.len() as f64).round() as usize;
        Ok((self.subset(&order[..first])?, self.subset(&order[first..])?))
    }

    /// Hold out `validation_fraction` of the samples, at random, for validation: returns
    /// `(train, validation)`. Same permutation as [`split`](Dataset::split) for the same seed.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 ≤ validation_fraction ≤ 1`.
    ///
    /// ```
    /// use lazarus_train::data::Dataset;
    /// use lazarus_core::Tensor;
    /// let data = Dataset::from_labels(Tensor::zeros(vec![100, 3]), vec![0; 100], 1)?;
    /// let (train, validation) = data.train_validation_split(0.1, 7)?;
    /// assert_eq!((train.len(), validation.len()), (90, 10));
    /// # Ok::<(), lazarus_train::Error>(())
    /// ```
    pub fn train_validation_split(
        &self,
        validation_fraction: f64,
        seed: u64,
    ) -> Result<(Dataset, Dataset)> {
        let (validation, train) = self.split(validation_fraction, seed)?;
        Ok((train, validation))
    }
}
