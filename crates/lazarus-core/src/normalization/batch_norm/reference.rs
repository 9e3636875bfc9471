//! `BatchNorm`'s formulas in plain ndarray and f64: [`BatchNorm::forward_reference`] and
//! [`BatchNorm::backward_reference`], the definition the fast [`Layer`](crate::Layer) methods
//! (`kernels/normalization.rs`) are tested against in `tests/batch_norm.rs`, step by step as
//! the formulas in `BatchNorm`'s docs (`batch_norm.rs`) write them.

use ndarray::{Array3, Axis, CowArray, Ix3};

use super::BatchNorm;
use crate::normalization::ReferenceGrads;
use crate::{Mode, Result, Tensor, TensorView};

impl<const D: usize> BatchNorm<D> {
    /// The forward pass in plain ndarray and f64, the definition [`forward`](crate::Layer::forward)
    /// is tested against: `y = γ·(x − μ)/√(σ² + ε) + β` with the batch's μ and biased σ², or
    /// the running ones in [`Mode::Eval`]. Updates nothing.
    ///
    /// # Errors
    /// As [`forward`](crate::Layer::forward).
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
    /// As [`forward`](crate::Layer::forward), and `ShapeMismatch` if `g`'s shape is not `x`'s.
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
