//! The normalization layers' settings (PyTorch's constructor arguments, as builder methods
//! validated like PyTorch's constructors) and accessors. The math is in `batch_norm.rs` and
//! `layer_norm.rs`.

use super::batch_norm::BatchNorm;
use super::layer_norm::{LayerNorm, NAME};
use super::{check_eps, invalid};
use crate::{Buffer, Num, Param, Result};

impl<const D: usize> BatchNorm<D> {
    /// Set ε, added to the variance before its square root (PyTorch's `eps`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `eps` is finite and > 0.
    pub fn with_eps(mut self, eps: f32) -> Result<Self> {
        self.eps = check_eps(Self::NAME, eps)?;
        Ok(self)
    }

    /// Set the weight m of the new batch in the running statistics, or `None` for a plain
    /// cumulative average (m = 1/num_batches_tracked).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `momentum` is in `[0, 1]`.
    pub fn with_momentum(mut self, momentum: Option<f32>) -> Result<Self> {
        if let Some(m) = momentum.filter(|m| !(0.0..=1.0).contains(m)) {
            let reason = format!("must be in [0, 1], found {}", Num(m));
            return Err(invalid(Self::NAME, "momentum", &reason));
        }
        self.momentum = momentum;
        Ok(self)
    }

    /// No γ and β: `y = x̂` (PyTorch's `affine=False`).
    pub fn without_affine(mut self) -> Self {
        self.affine = None;
        self
    }

    /// No running statistics and no buffers: every mode normalizes with the batch's own
    /// statistics (PyTorch's `track_running_stats=False`).
    pub fn without_running_stats(mut self) -> Self {
        self.running = None;
        self
    }

    /// Number of channels C.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// ε.
    pub fn eps(&self) -> f32 {
        self.eps
    }

    /// The momentum m (`None`: cumulative average).
    pub fn momentum(&self) -> Option<f32> {
        self.momentum
    }

    /// γ (`weight`, `[C]`), if the layer is affine.
    pub fn weight(&self) -> Option<&Param> {
        self.affine.as_ref().map(|a| &a.weight)
    }

    /// β (`bias`, `[C]`), if the layer is affine.
    pub fn bias(&self) -> Option<&Param> {
        self.affine.as_ref().map(|a| &a.bias)
    }

    /// The running mean, `[C]`, if tracked.
    pub fn running_mean(&self) -> Option<&Buffer> {
        self.running.as_ref().map(|r| &r.mean)
    }

    /// The running (unbiased) variance, `[C]`, if tracked.
    pub fn running_var(&self) -> Option<&Buffer> {
        self.running.as_ref().map(|r| &r.var)
    }

    /// The number of training batches seen (a 0-d tensor), if tracked.
    pub fn num_batches_tracked(&self) -> Option<&Buffer> {
        self.running.as_ref().map(|r| &r.num_batches_tracked)
    }
}

impl LayerNorm {
    /// Set ε, added to the variance before its square root.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `eps` is finite and > 0.
    pub fn with_eps(mut self, eps: f32) -> Result<Self> {
        self.eps = check_eps(NAME, eps)?;
        Ok(self)
    }

    /// No γ and β: `y = x̂` (PyTorch's `elementwise_affine=False`).
    pub fn without_affine(mut self) -> Self {
        self.affine = None;
        self
    }

    /// The trailing axes normalized over.
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// ε.
    pub fn eps(&self) -> f32 {
        self.eps
    }

    /// γ (`weight`, of `normalized_shape`), if elementwise affine.
    pub fn weight(&self) -> Option<&Param> {
        self.affine.as_ref().map(|a| &a.weight)
    }

    /// β (`bias`, of `normalized_shape`), if elementwise affine.
    pub fn bias(&self) -> Option<&Param> {
        self.affine.as_ref().map(|a| &a.bias)
    }
}
