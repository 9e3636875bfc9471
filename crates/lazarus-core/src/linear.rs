//! `Linear`: the fully connected layer, y = x Wᵀ + b.

use ndarray::{Array2, Axis, Ix2};
use rand::Rng;

use crate::gemm::{Split, gemm};
use crate::{
    Error, Layer, Mode, Param, ParamRole, Result, Tensor, TensorView, as_matrix, init, reuse_buffer,
};

/// Fully connected layer: `y = x Wᵀ + b`, as PyTorch's `nn.Linear`.
///
/// Shapes: input `[batch, in_features]`, weight `[out_features, in_features]` (PyTorch's layout,
/// so a checkpoint loads into `nn.Linear` unchanged), bias `[out_features]`, output
/// `[batch, out_features]`.
///
/// Backward, for upstream gradient G = dL/dy of shape `[batch, out]`:
///
/// ```text
/// dL/dW = Gᵀ x        [out, in]   (summed over the batch by the matrix product)
/// dL/db = Σ_batch G   [out]
/// dL/dx = G W         [batch, in]
/// ```
///
/// Default init, as PyTorch's: W and b from U(-1/√in, 1/√in) (`kaiming_uniform_` with a = √5).
/// For deep ReLU networks, He init ([`init::kaiming_normal`] with `Nonlinearity::Relu`) keeps the
/// signal from shrinking layer after layer; set it through [`Linear::weight_mut`].
///
/// ```
/// use lazarus_core::{Layer, Linear, Mode, Tensor};
/// use ndarray::array;
/// let mut layer = Linear::from_params(array![[1.0f32, 2.0], [0.0, -1.0]].into_dyn(), Some(array![0.5f32, 0.0].into_dyn())).unwrap();
/// let y = layer.forward(array![[1.0f32, 1.0]].into_dyn().view(), Mode::Eval).unwrap();
/// assert_eq!(y, array![[3.5f32, -1.0]].into_dyn());
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    in_features: usize,
    out_features: usize,
    weight: Param,
    bias: Option<Param>,
    /// The last training-mode input, needed for dL/dW.
    input: Array2<f32>,
    has_input: bool,
    output: Array2<f32>,
    grad_input: Array2<f32>,
}

impl Linear {
    /// A layer with bias and PyTorch's default initialization, drawn from `rng`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if either size is zero or the weight does not fit in memory.
    pub fn new(in_features: usize, out_features: usize, rng: &mut impl Rng) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return Err(Error::InvalidConfig {
                layer: "linear".into(),
                parameter: "in_features/out_features".into(),
                reason: format!("sizes must be positive, found {in_features} -> {out_features}"),
            });
        }
        let bound = 1.0 / (in_features as f32).sqrt();
        let mut weight = crate::try_zeros(
            "linear",
            "in_features/out_features",
            &[out_features, in_features],
        )?;
        init::uniform_symmetric(&mut weight, bound, rng)?;
        let mut bias = Tensor::zeros(vec![out_features]);
        init::uniform_symmetric(&mut bias, bound, rng)?;
        Self::from_params(weight, Some(bias))
    }

    /// A layer with the given weight `[out, in]` and optional bias `[out]`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the weight is not a non-empty matrix or the bias length differs
    /// from its row count.
    pub fn from_params(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        let (out_features, in_features) = match weight.shape() {
            &[o, i] if o > 0 && i > 0 => (o, i),
            found => {
                return Err(Error::ShapeMismatch {
                    layer: "linear".into(),
                    expected: "a non-empty weight matrix [out_features, in_features]".into(),
                    found: found.to_vec(),
                });
            }
        };
        if let Some(b) = &bias {
            crate::expect_shape("linear bias", &[out_features], b.shape())?;
        }
        Ok(Self {
            in_features,
            out_features,
            weight: Param::new(weight, ParamRole::Weight),
            bias: bias.map(|b| Param::new(b, ParamRole::Bias)),
            input: Array2::zeros((0, in_features)),
            has_input: false,
            output: Array2::zeros((0, out_features)),
            grad_input: Array2::zeros((0, in_features)),
        })
    }

    /// Remove the bias: `y = x Wᵀ` (PyTorch's `bias=False`).
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Number of input features.
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// Number of output features.
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight `[out_features, in_features]`.
    pub fn weight(&self) -> &Param {
        &self.weight
    }

    /// The weight, mutably (to initialize it differently, for instance).
    pub fn weight_mut(&mut self) -> &mut Param {
        &mut self.weight
    }

    /// The bias `[out_features]`, if any.
    pub fn bias(&self) -> Option<&Param> {
        self.bias.as_ref()
    }

    /// The bias, mutably, if any.
    pub fn bias_mut(&mut self) -> Option<&mut Param> {
        self.bias.as_mut()
    }

    fn weight_matrix(param: &Tensor) -> ndarray::ArrayView2<'_, f32> {
        param
            .view()
            .into_dimensionality::<Ix2>()
            .expect("the weight is 2-D by construction")
    }
}

impl Layer for Linear {
    fn name(&self) -> &str {
        "linear"
    }

    fn describe(&self) -> String {
        format!(
            "Linear(in_features={}, out_features={}, bias={})",
            self.in_features,
            self.out_features,
            self.bias.is_some()
        )
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.check_params()?;
        let x = as_matrix(x, "linear", Some(self.in_features))?;
        let batch = x.nrows();
        reuse_buffer(&mut self.output, ndarray::Ix2(batch, self.out_features));
        // y = b (broadcast over rows), then y += x Wᵀ in one matrix product.
        match &self.bias {
            Some(b) => self.output.assign(&b.value.view().insert_axis(Axis(0))),
            None => self.output.fill(0.0),
        }
        let w = Self::weight_matrix(&self.weight.value);
        // With several threads, each takes a block of output columns = a block of W's rows:
        // the same rows it accumulates dL/dW into and updates in the optimizer step.
        gemm(x, w.t(), 1.0, &mut self.output.view_mut(), Split::Cols);
        self.has_input = mode == Mode::Train;
        if self.has_input {
            reuse_buffer(&mut self.input, x.raw_dim());
            match (self.input.as_slice_mut(), x.as_slice()) {
                // A large batch is copied in parallel pieces.
                (Some(dst), Some(src)) => {
                    crate::parallel_zip([dst], [src], &|[d], [s]| d.copy_from_slice(s));
                }
                _ => self.input.assign(&x),
            }
        }
        Ok(self.output.view().into_dyn())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = self.accumulate_param_grads(grad_output)?;
        reuse_buffer(&mut self.grad_input, self.input.raw_dim());
        // dL/dx = G W
        let w = Self::weight_matrix(&self.weight.value);
        // Cut by columns of dL/dx: each thread reads only its columns of W.
        gemm(g, w, 0.0, &mut self.grad_input.view_mut(), Split::Cols);
        Ok(self.grad_input.view().into_dyn())
    }

    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        self.accumulate_param_grads(grad_output).map(|_| ())
    }

    /// Zero both gradients. The weight's is cleared in parallel pieces by rows, like the
    /// matrix products cut it, so each core clears the rows it will accumulate into.
    fn zero_grad(&mut self) {
        match self.weight.grad.as_slice_mut() {
            Some(dw) => crate::parallel_zip([dw], [], &|[dw], []| dw.fill(0.0)),
            None => self.weight.zero_grad(),
        }
        if let Some(b) = &mut self.bias {
            b.zero_grad();
        }
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("weight", &self.weight);
        if let Some(b) = &self.bias {
            f("bias", b);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("weight", &mut self.weight);
        if let Some(b) = &mut self.bias {
            f("bias", b);
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        match input {
            &[batch, features] if features == self.in_features => {
                Ok(vec![batch, self.out_features])
            }
            _ => Err(Error::ShapeMismatch {
                layer: "linear".into(),
                expected: format!("[batch, {}]", self.in_features),
                found: input.to_vec(),
            }),
        }
    }
}

impl Linear {
    /// Check that the weight and bias (values and gradients) still have this layer's shapes.
    fn check_params(&self) -> Result<()> {
        self.weight
            .check("linear weight", &[self.out_features, self.in_features])?;
        match &self.bias {
            Some(b) => b.check("linear bias", &[self.out_features]),
            None => Ok(()),
        }
    }

    /// Check `grad_output` against the cached input and add dL/dW and dL/db; returns G as a matrix.
    fn accumulate_param_grads<'g>(
        &mut self,
        grad_output: TensorView<'g>,
    ) -> Result<ndarray::ArrayView2<'g, f32>> {
        if !self.has_input {
            return Err(Error::BackwardBeforeForward {
                layer: "linear".into(),
            });
        }
        self.check_params()?;
        let g = as_matrix(grad_output, "linear", Some(self.out_features))?;
        if g.nrows() != self.input.nrows() {
            return Err(Error::ShapeMismatch {
                layer: "linear".into(),
                expected: format!(
                    "a gradient of shape [{}, {}]",
                    self.input.nrows(),
                    self.out_features
                ),
                found: g.shape().to_vec(),
            });
        }
        // dL/dW += Gᵀ x
        let mut dw = self
            .weight
            .grad
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("the weight gradient has the weight's 2-D shape");
        // Cut by rows of dL/dW (output units), as the forward product cut W.
        gemm(g.t(), self.input.view(), 1.0, &mut dw, Split::Rows);
        // dL/db += Σ_batch G, one row of G at a time (contiguous slices when G is, so the
        // additions vectorize; the order of the sum is the batch order either way).
        if let Some(b) = &mut self.bias {
            for row in g.rows() {
                match (b.grad.as_slice_mut(), row.as_slice()) {
                    (Some(db), Some(row)) => db.iter_mut().zip(row).for_each(|(acc, &v)| *acc += v),
                    _ => b.grad.zip_mut_with(&row.into_dyn(), |acc, &v| *acc += v),
                }
            }
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{GradCheck, random_input};
    use ndarray::array;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn forward_matches_pytorch() {
        // torch 2.15: l = nn.Linear(3, 2); l.weight.data = [[.1,.2,.3],[-.4,.5,-.6]]; l.bias.data = [.01,-.02]
        //   l(torch.tensor([[1.,2.,3.],[-1.,0.,2.]])) -> [[1.41000009, -1.22000003], [0.50999999, -0.82000005]]
        let w = array![[0.1f32, 0.2, 0.3], [-0.4, 0.5, -0.6]].into_dyn();
        let mut l = Linear::from_params(w, Some(array![0.01f32, -0.02].into_dyn())).unwrap();
        let x = array![[1.0f32, 2.0, 3.0], [-1.0, 0.0, 2.0]].into_dyn();
        let y = l.forward(x.view(), Mode::Eval).unwrap().to_owned();
        let expected = array![[1.41f32, -1.22], [0.51, -0.82]].into_dyn();
        approx::assert_abs_diff_eq!(y, expected, epsilon = 1e-6);
    }

    #[test]
    fn gradients_pass_finite_difference_check() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut l = Linear::new(5, 4, &mut rng).unwrap();
        let x = random_input(&[3, 5], &mut rng);
        let report = GradCheck::default()
            .check_layer(&mut l, &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{report}");
        assert_eq!(report.params.len(), 2);
    }

    #[test]
    fn gradcheck_without_bias() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut l = Linear::new(3, 2, &mut rng).unwrap().without_bias();
        let x = random_input(&[4, 3], &mut rng);
        let report = GradCheck::default()
            .check_layer(&mut l, &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{report}");
        assert_eq!(l.param_count(), 6);
    }

    #[test]
    fn two_backwards_double_the_gradients() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut l = Linear::new(3, 2, &mut rng).unwrap();
        let x = random_input(&[4, 3], &mut rng);
        let g = random_input(&[4, 2], &mut rng);
        l.forward(x.view(), Mode::Train).unwrap();
        l.backward(g.view()).unwrap();
        let once = l.weight().grad.clone();
        l.backward(g.view()).unwrap();
        approx::assert_abs_diff_eq!(l.weight().grad, once * 2.0, epsilon = 1e-6);
    }

    #[test]
    fn backward_params_matches_backward() {
        let mut rng = StdRng::seed_from_u64(6);
        let mut a = Linear::new(3, 2, &mut rng).unwrap();
        let mut b = a.clone();
        let x = random_input(&[4, 3], &mut rng);
        let g = random_input(&[4, 2], &mut rng);
        a.forward(x.view(), Mode::Train).unwrap();
        a.backward(g.view()).unwrap();
        b.forward(x.view(), Mode::Train).unwrap();
        b.backward_params(g.view()).unwrap();
        assert_eq!(a.weight().grad, b.weight().grad);
        assert_eq!(a.bias().unwrap().grad, b.bias().unwrap().grad);
    }

    #[test]
    fn errors_name_the_layer_and_shapes() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut l = Linear::new(784, 10, &mut rng).unwrap();
        let err = l
            .forward(Tensor::zeros(vec![32, 28, 28]).view(), Mode::Train)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "linear: expected [batch, 784], found shape [32, 28, 28]"
        );
        assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[32, 28, 28]));
        let mut fresh = Linear::new(3, 2, &mut rng).unwrap();
        assert!(matches!(
            fresh.backward(Tensor::zeros(vec![1, 2]).view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
        fresh
            .forward(Tensor::zeros(vec![4, 3]).view(), Mode::Eval)
            .unwrap();
        assert!(matches!(
            fresh.backward(Tensor::zeros(vec![4, 2]).view()),
            Err(Error::BackwardBeforeForward { .. })
        ));
        fresh
            .forward(Tensor::zeros(vec![4, 3]).view(), Mode::Train)
            .unwrap();
        assert!(matches!(
            fresh.backward(Tensor::zeros(vec![5, 2]).view()),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            Linear::new(0, 3, &mut rng),
            Err(Error::InvalidConfig { .. })
        ));
    }

    #[test]
    fn default_init_is_bounded_by_one_over_sqrt_fan_in() {
        let mut rng = StdRng::seed_from_u64(0);
        let l = Linear::new(100, 50, &mut rng).unwrap();
        assert!(l.weight().value.iter().all(|v| v.abs() <= 0.1));
        assert!(l.bias().unwrap().value.iter().all(|v| v.abs() <= 0.1));
        assert_eq!(l.weight().value.shape(), &[50, 100]);
    }
}
