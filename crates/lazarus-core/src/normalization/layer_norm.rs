//! `LayerNorm`: each sample normalized with its own statistics over the trailing axes.
//!
//! [`LayerNorm::forward_reference`] and [`LayerNorm::backward_reference`] are the formulas in
//! plain ndarray; the [`Layer`] methods compute the same with the kernel
//! (`kernels/normalization.rs`: rows in chunks on the thread pool), and `tests/layer_norm.rs`
//! compares the two.

use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::{Affine, ReferenceGrads, affine_slices, invalid, python_float, shape_error};
use crate::kernels::LayerNormKernel;
use crate::{Layer, Mode, Param, Result, Tensor, TensorView};

/// Layer normalization over the trailing axes `normalized_shape`, as PyTorch's
/// `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)` (Ba et al., 2016).
///
/// Each input is split into rows of the D = ∏ `normalized_shape` trailing values (a
/// `[batch, 16]` input with `normalized_shape = [16]` has one row per sample; `[batch, C, H, W]`
/// with `[C, H, W]` too). For each row:
///
/// ```text
/// μ  = (1/D) Σ x                 over the row
/// σ² = (1/D) Σ (x − μ)²          biased, as in BatchNorm's training
/// x̂  = (x − μ) / √(σ² + ε)       ε = eps, 1e-5
/// y  = γ ⊙ x̂ + β                 γ = weight (init 1), β = bias (init 0), of normalized_shape
/// ```
///
/// The same in every [`Mode`]: nothing depends on the rest of the batch, so there are no
/// running statistics and no buffers. Backward, with g = dL/dy and means over the row:
///
/// ```text
/// dL/dβ = Σ_rows g
/// dL/dγ = Σ_rows g ⊙ x̂
/// dL/dx = (1/√(σ² + ε)) · (g⊙γ − mean(g⊙γ) − x̂ · mean(g⊙γ⊙x̂))
/// ```
///
/// (BatchNorm's formula with the roles of batch and features swapped, and γ inside the means
/// because it varies along the row.)
///
/// `weight` has [`ParamRole::Scale`](crate::ParamRole::Scale), `bias`
/// [`ParamRole::Bias`](crate::ParamRole::Bias); neither is decayed by default.
///
/// When to use: where BatchNorm's batch statistics hurt: batches of 1 or of varying size,
/// per-sample inference, sequence models. It steadies the scale of each sample's activations,
/// which keeps a following ReLU from going all silent on a sample whose pre-activations drift.
///
/// ```
/// use lazarus_core::{Layer, LayerNorm, Mode, Tensor};
/// let mut ln = LayerNorm::new(&[4])?;
/// let x = Tensor::from_shape_vec(vec![1, 4], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// let y = ln.forward(x.view(), Mode::Eval)?;
/// // μ = 2.5, σ² = 1.25: y = (x − 2.5)/√1.25
/// assert!((y[[0, 3]] - 1.5 / 1.25f32.sqrt()).abs() < 1e-5);
/// assert_eq!(ln.describe(), "LayerNorm((4,), eps=1e-05, elementwise_affine=True)");
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub(super) normalized_shape: Vec<usize>,
    /// D, the values per row.
    width: usize,
    pub(super) eps: f32,
    pub(super) affine: Option<Affine>,
    kernel: LayerNormKernel,
}

pub(super) const NAME: &str = "layer_norm";

impl LayerNorm {
    /// Normalize over the trailing axes `normalized_shape`, with PyTorch's defaults: eps 1e-5,
    /// γ = 1 and β = 0 of that shape.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) if `normalized_shape` is empty, has a 0, or is too large.
    pub fn new(normalized_shape: &[usize]) -> Result<Self> {
        if normalized_shape.is_empty() || normalized_shape.contains(&0) {
            let reason = format!("must be non-empty without 0, found {normalized_shape:?}");
            return Err(invalid(NAME, "normalized_shape", &reason));
        }
        let affine = Affine::new(NAME, "normalized_shape", normalized_shape)?;
        Ok(Self {
            normalized_shape: normalized_shape.to_vec(),
            width: affine.weight.len(),
            eps: 1e-5,
            affine: Some(affine),
            kernel: LayerNormKernel::default(),
        })
    }

    /// The forward pass in plain ndarray and f64, the definition [`forward`](Layer::forward)
    /// is tested against: `y = γ ⊙ (x − μ)/√(σ² + ε) + β` per row.
    ///
    /// # Errors
    /// As [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        let rows = self.rows(&x)?;
        let (gamma, beta) = self.gamma_beta();
        let mut y = rows.clone();
        for mut row in y.rows_mut() {
            let (mean, s) = row_statistics(row.view(), self.eps);
            let xhat = row.mapv(|x| (x - mean) / s);
            row.assign(&(xhat * &gamma + &beta));
        }
        Ok(to_input_shape(y, x.shape()))
    }

    /// The backward pass in plain ndarray and f64, for input `x` and upstream gradient `g`:
    /// `(dL/dx, Some((dL/dγ, dL/dβ)))` from the formulas above (`None` without affine).
    ///
    /// # Errors
    /// As [`forward`](Layer::forward), and `ShapeMismatch` if `g`'s shape is not `x`'s.
    pub fn backward_reference(
        &self,
        x: TensorView<'_>,
        g: TensorView<'_>,
    ) -> Result<ReferenceGrads> {
        crate::expect_shape(NAME, x.shape(), g.shape())?;
        let (xs, gs) = (self.rows(&x)?, self.rows(&g)?);
        let (gamma, _) = self.gamma_beta();
        let d = self.width as f64;
        let mut dx = Array2::zeros(xs.raw_dim());
        let mut dgamma = Array1::zeros(self.width);
        let mut dbeta = Array1::zeros(self.width);
        for ((x, g), mut dx) in xs.rows().into_iter().zip(gs.rows()).zip(dx.rows_mut()) {
            let (mean, s) = row_statistics(x, self.eps);
            let xhat = x.mapv(|x| (x - mean) / s);
            let gg = &g * &gamma;
            let (mean_gg, mean_ggx) = (gg.sum() / d, (&gg * &xhat).sum() / d);
            dx.assign(&((&gg - mean_gg - &xhat * mean_ggx) / s));
            dgamma += &(&g * &xhat);
            dbeta += &g;
        }
        let to_f32 =
            |v: Array1<f64>| to_input_shape(v.insert_axis(Axis(0)), &self.normalized_shape);
        let params = self
            .affine
            .as_ref()
            .map(|_| (to_f32(dgamma), to_f32(dbeta)));
        Ok((to_input_shape(dx, x.shape()), params))
    }

    /// `x` as f64 rows of D values, once its trailing axes are checked.
    fn rows(&self, x: &TensorView<'_>) -> Result<Array2<f64>> {
        self.check_input(x.shape())?;
        let rows = x.len() / self.width;
        let x = x.to_shape((rows, self.width)).expect("same element count");
        Ok(x.mapv(f64::from))
    }

    /// γ and β in f64 (1 and 0 without affine), flattened, for the references.
    fn gamma_beta(&self) -> (Array1<f64>, Array1<f64>) {
        let flat = |t: &Tensor| t.iter().map(|&v| f64::from(v)).collect();
        match &self.affine {
            Some(a) => (flat(&a.weight.value), flat(&a.bias.value)),
            None => (Array1::ones(self.width), Array1::zeros(self.width)),
        }
    }

    /// The input must end with `normalized_shape`.
    fn check_input(&self, shape: &[usize]) -> Result<()> {
        if shape.ends_with(&self.normalized_shape) {
            return Ok(());
        }
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let expected = format!("[..., {}] (normalized_shape at the end)", dims.join(", "));
        Err(shape_error(NAME, expected, shape))
    }

    fn backward_pass(&mut self, g: TensorView<'_>, input_grad: bool) -> Result<TensorView<'_>> {
        let affine = affine_slices(self.affine.as_ref(), NAME, &self.normalized_shape)?;
        let gamma = affine.map(|(gamma, _)| gamma);
        let (dx, sum_gx, sum_g) = self.kernel.backward(NAME, g, gamma, input_grad)?;
        if let Some(a) = &mut self.affine {
            a.add_grads(sum_gx, sum_g);
        }
        Ok(dx)
    }
}

impl Layer for LayerNorm {
    fn name(&self) -> &str {
        NAME
    }

    fn describe(&self) -> String {
        let dims: Vec<String> = self
            .normalized_shape
            .iter()
            .map(|d| d.to_string())
            .collect();
        let shape = match dims.as_slice() {
            [one] => format!("({one},)"),
            _ => format!("({})", dims.join(", ")),
        };
        let affine = if self.affine.is_some() {
            "True"
        } else {
            "False"
        };
        let eps = python_float(self.eps);
        format!("LayerNorm({shape}, eps={eps}, elementwise_affine={affine})")
    }

    /// The same in every mode; training keeps x̂ and 1/σ per row for backward.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.check_input(x.shape())?;
        let affine = affine_slices(self.affine.as_ref(), NAME, &self.normalized_shape)?;
        let keep = mode == Mode::Train;
        Ok(self.kernel.forward(x, self.width, self.eps, affine, keep))
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.backward_pass(grad_output, true)
    }

    /// dL/dγ and dL/dβ only, skipping the dL/dx pass.
    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        self.backward_pass(grad_output, false).map(|_| ())
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        if let Some(a) = &self.affine {
            a.visit(f);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        if let Some(a) = &mut self.affine {
            a.visit_mut(f);
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.check_input(input).map(|()| input.to_vec())
    }
}

/// A row's mean and √(σ² + ε) (σ² biased), in f64.
fn row_statistics(row: ArrayView1<'_, f64>, eps: f32) -> (f64, f64) {
    let d = row.len() as f64;
    let mean = row.sum() / d;
    let var = row.iter().map(|&x| (x - mean).powi(2)).sum::<f64>() / d;
    (mean, (var + f64::from(eps)).sqrt())
}

/// An f64 result as f32 in the given shape.
fn to_input_shape(y: Array2<f64>, shape: &[usize]) -> Tensor {
    y.mapv(|v| v as f32)
        .into_shape_with_order(shape.to_vec())
        .expect("same element count")
}
