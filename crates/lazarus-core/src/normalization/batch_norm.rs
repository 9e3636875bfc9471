//! `BatchNorm1d` and `BatchNorm2d`: each channel normalized with its statistics over the batch.
//!
//! One implementation, [`BatchNorm<D>`], serves both: they differ only in the input ranks they
//! accept. [`BatchNorm::forward_reference`] and [`BatchNorm::backward_reference`] are the
//! formulas in plain ndarray; the [`Layer`] methods compute the same with the kernel
//! (`kernels/normalization.rs`: per-channel passes over chunks of the batch, on the thread
//! pool), and `tests/batch_norm.rs` compares the two.

use ndarray::{Array3, Axis, CowArray, Ix3};

use super::{
    Affine, ReferenceGrads, RunningStats, affine_slices, invalid, python_float, shape_error,
};
use crate::kernels::{BatchNormKernel, Dims};
use crate::{Buffer, Layer, Mode, Param, Result, Tensor, TensorView};

/// Batch normalization of channel axis 1, as PyTorch's `nn.BatchNorm1d` (input `[N, C]` or
/// `[N, C, L]`) and `nn.BatchNorm2d` (`[N, C, H, W]`) (Ioffe & Szegedy, 2015).
///
/// For each channel, over its M values (every sample and position: M = N, N·L or N·H·W):
///
/// ```text
/// μ  = (1/M) Σ x                 the batch mean
/// σ² = (1/M) Σ (x − μ)²          the batch variance (biased: divided by M)
/// x̂  = (x − μ) / √(σ² + ε)       ε = eps, 1e-5
/// y  = γ · x̂ + β                 γ = weight (init 1), β = bias (init 0), one per channel
/// ```
///
/// Training also updates running estimates (m = `momentum`, 0.1 by default; the batch's
/// variance enters unbiased, divided by M − 1):
///
/// ```text
/// running_mean ← (1 − m) · running_mean + m · μ
/// running_var  ← (1 − m) · running_var  + m · σ² · M/(M − 1)
/// num_batches_tracked ← num_batches_tracked + 1     (momentum None: m = 1/num_batches_tracked,
///                                                    a plain average over all batches)
/// ```
///
/// [`Mode::Eval`] normalizes with `running_mean` and `running_var` instead, so a sample's output
/// no longer depends on the rest of its batch. [`Mode::Probe`] uses the batch's statistics as
/// training does, but updates nothing and keeps nothing for backward. Without running statistics
/// ([`without_running_stats`](Self::without_running_stats)) every mode uses the batch's.
///
/// Backward (training). Every output of a channel depends on every input of that channel,
/// through μ and σ, so the gradient is coupled across the batch. With g = dL/dy and means over
/// the channel's M values:
///
/// ```text
/// dL/dβ = Σ g
/// dL/dγ = Σ g · x̂
/// dL/dx = γ/√(σ² + ε) · (g − mean(g) − x̂ · mean(g · x̂))
/// ```
///
/// The two means are the gradient flowing back through μ and through σ; dropping them (the
/// shortcut γ/σ · g, right only in evaluation) is a common bug the gradient check catches.
///
/// Buffers (saved in checkpoints, never trained): `running_mean` (init 0), `running_var`
/// (init 1), `num_batches_tracked` (a count, int64 in files). Parameters: `weight` with
/// [`ParamRole::Scale`](crate::ParamRole::Scale) and `bias` with
/// [`ParamRole::Bias`](crate::ParamRole::Bias), neither decayed by default.
///
/// When to use: after a convolution or Linear layer and before its activation. Each layer then
/// sees inputs of mean 0 and variance 1 whatever the weights did before it, which tames poor
/// initialization and lets larger learning rates train. A ReLU after it gets, per channel,
/// inputs of mean β and spread γ: a channel cannot drift to all-negative inputs (dead) unless
/// training moves β itself far below γ. Its statistics need batches: in
/// training, a channel with a single value (BatchNorm1d on a batch of 1) is an error, as in
/// PyTorch; for small batches or per-sample models, prefer [`LayerNorm`](crate::LayerNorm).
///
/// ```
/// use lazarus_core::{BatchNorm1d, Layer, Mode, Tensor};
/// let mut bn = BatchNorm1d::new(2)?;
/// let x = Tensor::from_shape_vec(vec![2, 2], vec![1.0, 10.0, 3.0, 30.0]).unwrap();
/// let y = bn.forward(x.view(), Mode::Train)?;
/// // Each column: mean 0, biased variance 1 (up to ε).
/// assert!((y[[0, 0]] + 1.0).abs() < 1e-4 && (y[[1, 1]] - 1.0).abs() < 1e-4);
/// assert_eq!(bn.describe(), "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchNorm<const D: usize> {
    pub(super) num_features: usize,
    pub(super) eps: f32,
    pub(super) momentum: Option<f32>,
    pub(super) affine: Option<Affine>,
    pub(super) running: Option<RunningStats>,
    kernel: BatchNormKernel,
}

/// `BatchNorm1d`: inputs `[N, C]` or `[N, C, L]`.
pub type BatchNorm1d = BatchNorm<1>;

/// `BatchNorm2d`: inputs `[N, C, H, W]`.
pub type BatchNorm2d = BatchNorm<2>;

impl<const D: usize> BatchNorm<D> {
    /// The layer's name in errors: `batch_norm1d`, `batch_norm2d`.
    pub(super) const NAME: &'static str = if D == 1 {
        "batch_norm1d"
    } else {
        "batch_norm2d"
    };

    /// A layer for `num_features` channels with PyTorch's defaults: eps 1e-5, momentum 0.1,
    /// affine (γ = 1, β = 0), running statistics tracked (mean 0, variance 1).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if `num_features` is 0 or too large
    /// for memory.
    pub fn new(num_features: usize) -> Result<Self> {
        const { assert!(D == 1 || D == 2, "BatchNorm1d and BatchNorm2d only") };
        if num_features == 0 {
            return Err(invalid(
                Self::NAME,
                "num_features",
                "must be at least 1, found 0",
            ));
        }
        Ok(Self {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            affine: Some(Affine::new(Self::NAME, "num_features", &[num_features])?),
            running: Some(RunningStats::new(Self::NAME, num_features)?),
            kernel: BatchNormKernel::default(),
        })
    }

    /// The forward pass in plain ndarray and f64, the definition [`forward`](Layer::forward)
    /// is tested against: `y = γ·(x − μ)/√(σ² + ε) + β` with the batch's μ and biased σ², or
    /// the running ones in [`Mode::Eval`]. Updates nothing.
    ///
    /// # Errors
    /// As [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>, mode: Mode) -> Result<Tensor> {
        let x3 = self.as_channels(&x, mode)?;
        let (mean, var) = match (&self.running, mode) {
            (Some(r), Mode::Eval) => (widen(&r.mean.value), widen(&r.var.value)),
            _ => batch_statistics(&x3),
        };
        let (gamma, beta) = self.gamma_beta();
        let mut y = x3.mapv(f64::from);
        for (c, mut channel) in y.axis_iter_mut(Axis(1)).enumerate() {
            let s = (var[c] + f64::from(self.eps)).sqrt();
            channel.mapv_inplace(|x| gamma[c] * (x - mean[c]) / s + beta[c]);
        }
        Ok(reshape(y, x.shape()))
    }

    /// The training backward in plain ndarray and f64, for input `x` and upstream gradient
    /// `g`: `(dL/dx, Some((dL/dγ, dL/dβ)))` from the formulas above (`None` without affine),
    /// returned rather than added into the parameters' gradients.
    ///
    /// # Errors
    /// As [`forward`](Layer::forward), and `ShapeMismatch` if `g`'s shape is not `x`'s.
    pub fn backward_reference(
        &self,
        x: TensorView<'_>,
        g: TensorView<'_>,
    ) -> Result<ReferenceGrads> {
        crate::expect_shape(Self::NAME, x.shape(), g.shape())?;
        let x3 = self.as_channels(&x, Mode::Train)?;
        let g = g.to_shape(x3.raw_dim()).expect("x's shape").mapv(f64::from);
        let (mean, var) = batch_statistics(&x3);
        let (gamma, _) = self.gamma_beta();
        let m = (x3.len() / self.num_features) as f64;
        let mut dx = g.clone();
        let mut dgamma = Tensor::zeros(vec![self.num_features]);
        let mut dbeta = dgamma.clone();
        for c in 0..self.num_features {
            let s = (var[c] + f64::from(self.eps)).sqrt();
            let x = x3.index_axis(Axis(1), c);
            let xhat = x.mapv(|x| (f64::from(x) - mean[c]) / s);
            let g = g.index_axis(Axis(1), c);
            let (sum_g, sum_gx) = (g.sum(), (&g * &xhat).sum());
            (dbeta[c], dgamma[c]) = (sum_g as f32, sum_gx as f32);
            let dx_c = (&g - sum_g / m - &xhat * (sum_gx / m)) * (gamma[c] / s);
            dx.index_axis_mut(Axis(1), c).assign(&dx_c);
        }
        let params = self.affine.as_ref().map(|_| (dgamma, dbeta));
        Ok((reshape(dx, x.shape()), params))
    }

    /// `x` as `[N, C, positions]` (a copy if its layout needs one), once checked for `mode`.
    fn as_channels<'a>(&self, x: &'a TensorView<'_>, mode: Mode) -> Result<CowArray<'a, f32, Ix3>> {
        let d = self.check_forward(x.shape(), mode)?;
        Ok(x.to_shape((d.batch, d.channels, d.spatial))
            .expect("same element count"))
    }

    /// γ and β in f64 (1 and 0 without affine), for the references.
    fn gamma_beta(&self) -> (Vec<f64>, Vec<f64>) {
        match &self.affine {
            Some(a) => (widen(&a.weight.value), widen(&a.bias.value)),
            None => (vec![1.0; self.num_features], vec![0.0; self.num_features]),
        }
    }

    /// The input seen as `[N, C, positions]`, once its rank and channels are checked.
    fn check_input(&self, shape: &[usize]) -> Result<Dims> {
        let c = self.num_features;
        let rank_fits = if D == 1 {
            matches!(shape.len(), 2 | 3)
        } else {
            shape.len() == 4
        };
        if rank_fits && shape[1] == c {
            return Ok(Dims::of(shape));
        }
        let expected = match D {
            1 => format!("[batch, {c}] or [batch, {c}, length]"),
            _ => format!("[batch, {c}, h, w]"),
        };
        Err(shape_error(Self::NAME, expected, shape))
    }

    /// [`check_input`](Self::check_input), and in a mode that uses the batch's statistics,
    /// more than one value per channel: σ² of one value is 0, and the unbiased variance 0/0
    /// (PyTorch refuses it too).
    fn check_forward(&self, shape: &[usize], mode: Mode) -> Result<Dims> {
        let dims = self.check_input(shape)?;
        if (mode != Mode::Eval || self.running.is_none()) && dims.per_channel() == 1 {
            let expected = "more than 1 value per channel when training".to_string();
            return Err(shape_error(Self::NAME, expected, shape));
        }
        Ok(dims)
    }

    /// Backward through the kernel; dL/dx only if `input_grad`.
    fn backward_pass(&mut self, g: TensorView<'_>, input_grad: bool) -> Result<TensorView<'_>> {
        let affine = affine_slices(self.affine.as_ref(), Self::NAME, &[self.num_features])?;
        let gamma = affine.map(|(gamma, _)| gamma);
        let (dx, sum_gx, sum_g) = self.kernel.backward(Self::NAME, g, gamma, input_grad)?;
        if let Some(a) = &mut self.affine {
            a.add_grads(sum_gx, sum_g);
        }
        Ok(dx)
    }
}

impl RunningStats {
    /// The update after a training batch of `count` values per channel, from the batch's mean
    /// μ and Σ (x − μ)² per channel (with PyTorch's order of operations).
    fn update(&mut self, momentum: Option<f32>, mean: &[f32], var_sum: &[f64], count: usize) {
        // num_batches_tracked ← num_batches_tracked + 1
        let tracked = &mut self.num_batches_tracked.value;
        tracked.mapv_inplace(|n| n + 1.0);
        // m = momentum, or 1/num_batches_tracked for a cumulative average
        let m = momentum.unwrap_or_else(|| (1.0 / f64::from(tracked.sum())) as f32);
        if count == 0 {
            return; // an empty batch has no statistics (PyTorch counts it all the same)
        }
        // running_mean ← (1 − m)·running_mean + m·μ
        for (r, &mu) in self.mean.value.iter_mut().zip(mean) {
            *r = m * mu + (1.0 - m) * *r;
        }
        // running_var ← (1 − m)·running_var + m·σ²_unbiased, σ²_unbiased = Σ (x − μ)² / (M − 1)
        for (r, &v) in self.var.value.iter_mut().zip(var_sum) {
            let unbiased = v / (count - 1) as f64;
            *r = (f64::from(m) * unbiased + f64::from((1.0 - m) * *r)) as f32;
        }
    }
}

impl<const D: usize> Layer for BatchNorm<D> {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn describe(&self) -> String {
        let (c, eps) = (self.num_features, python_float(self.eps));
        let momentum = self.momentum.map_or("None".into(), python_float);
        let python = |b: bool| if b { "True" } else { "False" };
        let (affine, track) = (
            python(self.affine.is_some()),
            python(self.running.is_some()),
        );
        format!(
            "BatchNorm{D}d({c}, eps={eps}, momentum={momentum}, affine={affine}, \
             track_running_stats={track})"
        )
    }

    /// Training and [`Mode::Probe`]: normalize with the batch's statistics (training also
    /// updates the running ones and keeps x̂ and 1/σ for backward). Evaluation: with the
    /// running statistics, when tracked.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let dims = self.check_forward(x.shape(), mode)?;
        let affine = affine_slices(self.affine.as_ref(), Self::NAME, &[self.num_features])?;
        let running = self.running.as_ref();
        let running = running
            .map(|r| r.check(Self::NAME, self.num_features))
            .transpose()?;
        if let (Some(running), Mode::Eval) = (running, mode) {
            return Ok(self.kernel.forward_running(x, running, self.eps, affine));
        }
        let train = mode == Mode::Train;
        let (y, mean, var_sum) = self.kernel.forward_batch(x, self.eps, affine, train);
        if let (Some(r), true) = (&mut self.running, train) {
            r.update(self.momentum, mean, var_sum, dims.per_channel());
        }
        Ok(y)
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.backward_pass(grad_output, true)
    }

    /// dL/dγ and dL/dβ only, skipping the dL/dx pass.
    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        self.backward_pass(grad_output, false).map(|_| ())
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        self.affine.iter().for_each(|a| a.visit(f));
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        self.affine.iter_mut().for_each(|a| a.visit_mut(f));
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer)) {
        self.running.iter().for_each(|r| r.visit(f));
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer)) {
        self.running.iter_mut().for_each(|r| r.visit_mut(f));
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.check_input(input).map(|_| input.to_vec())
    }
}

/// Per channel of a `[N, C, positions]` array: the mean and the biased variance, in f64.
fn batch_statistics(x: &CowArray<'_, f32, Ix3>) -> (Vec<f64>, Vec<f64>) {
    let moments = |channel: ndarray::ArrayView2<'_, f32>| {
        let m = channel.len() as f64;
        let mean = channel.iter().map(|&v| f64::from(v)).sum::<f64>() / m;
        let var = channel
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / m;
        (mean, var)
    };
    x.axis_iter(Axis(1)).map(moments).unzip()
}

/// An f64 result given back the input's shape, in f32.
fn reshape(y: Array3<f64>, shape: &[usize]) -> Tensor {
    let y = y.mapv(|v| v as f32);
    y.into_shape_with_order(shape.to_vec())
        .expect("same element count")
}

/// A tensor's values in f64.
fn widen(t: &Tensor) -> Vec<f64> {
    t.iter().map(|&v| f64::from(v)).collect()
}
