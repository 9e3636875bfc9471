//! `Linear`: the fully connected layer, y = x·Wᵀ + b, and its three backward formulas.
//!
//! [`Linear::forward_reference`] and [`Linear::backward_reference`] are the formulas in plain
//! ndarray. The [`Layer`] methods compute the same with the kernels (`kernels/gemm.rs`: one
//! call per matrix product), into buffers the layer reuses; `tests/linear.rs` compares the two.
//! The shape checks that keep every call from panicking are in `linear/checks.rs`.

mod checks;

use ndarray::{Array2, ArrayView2, Axis, Ix2};
use rand::Rng;

use crate::weight_and_bias;
use crate::{
    Error, Layer, Mode, Param, ParamRole, Result, Tensor, TensorView, as_matrix, init, kernels,
    reuse_buffer,
};
use checks::matrix;

/// Fully connected layer: `y = x Wᵀ + b`, as PyTorch's `nn.Linear`.
///
/// Shapes: input `[batch, in_features]`, weight `[out_features, in_features]` (PyTorch's layout,
/// so a checkpoint loads into `nn.Linear` unchanged), bias `[out_features]`, output
/// `[batch, out_features]`.
///
/// Backward, for upstream gradient G = dL/dy of shape `[batch, out]`:
///
/// ```text
/// dL/dW = Gᵀ x        [out, in]   (a matrix product: it sums over the batch)
/// dL/db = Σ_batch G   [out]       (a sum of G's rows)
/// dL/dx = G W         [batch, in] (a matrix product)
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

    /// The forward pass in plain ndarray, `y = x·Wᵀ + b`: the definition the layer's fast
    /// [`forward`](Layer::forward) is tested against (in `tests/linear.rs`; they agree up to
    /// rounding, as the kernels add the products in another order).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        self.check_params()?;
        let x = as_matrix(x, "linear", Some(self.in_features))?;
        let w = matrix(&self.weight.value);
        let y = x.dot(&w.t());
        Ok(match &self.bias {
            // b is added to every row (broadcast).
            Some(b) => y + &b.value.view().insert_axis(Axis(0)),
            None => y.into_dyn(),
        })
    }

    /// The backward pass in plain ndarray, for an input `x` and the upstream gradient `g` =
    /// dL/dy: `(dL/dW, dL/db, dL/dx) = (gᵀ·x, Σ_batch g, g·W)` (no dL/db without a bias),
    /// returned rather than added into the parameters' `grad` as [`backward`](Layer::backward)
    /// does.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` or `g` does not fit the layer, or their batch sizes
    /// differ.
    pub fn backward_reference(
        &self,
        x: TensorView<'_>,
        g: TensorView<'_>,
    ) -> Result<(Tensor, Option<Tensor>, Tensor)> {
        let x = as_matrix(x, "linear", Some(self.in_features))?;
        let g = self.grad_matrix(g, x.nrows())?;
        let w = matrix(&self.weight.value);
        let dw = g.t().dot(&x);
        let db = self.bias.as_ref().map(|_| g.sum_axis(Axis(0)).into_dyn());
        let dx = g.dot(&w);
        Ok((dw.into_dyn(), db, dx.into_dyn()))
    }
}

impl Layer for Linear {
    fn name(&self) -> &str {
        "linear"
    }

    fn describe(&self) -> String {
        let (i, o, bias) = (self.in_features, self.out_features, self.bias.is_some());
        format!("Linear(in_features={i}, out_features={o}, bias={bias})")
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.check_params()?;
        let x = as_matrix(x, "linear", Some(self.in_features))?;
        let w = matrix(&self.weight.value);
        reuse_buffer(&mut self.output, Ix2(x.nrows(), self.out_features));
        // y = x·Wᵀ + b: every row of y starts as b, then x·Wᵀ is added (β = 1).
        match &self.bias {
            Some(b) => self.output.assign(&b.value.view().insert_axis(Axis(0))),
            None => self.output.fill(0.0),
        }
        kernels::gemm(x, w.t(), 1.0, &mut self.output.view_mut());
        // Backward needs x for dL/dW = Gᵀ·x: keep a copy, in training only.
        self.has_input = mode == Mode::Train;
        if self.has_input {
            kernels::copy_into(&mut self.input, x);
        }
        Ok(self.output.view().into_dyn())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let g = self.start_backward(grad_output)?;
        self.add_param_grads(g);
        // dL/dx = G·W
        let w = matrix(&self.weight.value);
        reuse_buffer(&mut self.grad_input, self.input.raw_dim());
        kernels::gemm(g, w, 0.0, &mut self.grad_input.view_mut());
        Ok(self.grad_input.view().into_dyn())
    }

    /// dL/dW and dL/db only: the trainer's call for a first layer, whose dL/dx nobody needs.
    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        let g = self.start_backward(grad_output)?;
        self.add_param_grads(g);
        Ok(())
    }

    /// `"weight"`, then `"bias"` if any.
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        weight_and_bias::visit(&self.weight, self.bias.as_ref(), f);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        weight_and_bias::visit_mut(&mut self.weight, self.bias.as_mut(), f);
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
    /// dL/dW += Gᵀ·x and dL/db += Σ_batch G, for the input x kept by the forward pass.
    fn add_param_grads(&mut self, g: ArrayView2<'_, f32>) {
        // dL/dW += Gᵀ·x
        let dw = self.weight.grad.view_mut().into_dimensionality::<Ix2>();
        let mut dw = dw.expect("the weight gradient has the weight's 2-D shape");
        kernels::gemm(g.t(), self.input.view(), 1.0, &mut dw);
        // dL/db += Σ_batch G
        if let Some(b) = &mut self.bias {
            kernels::add_row_sums(&mut b.grad, g);
        }
    }
}
