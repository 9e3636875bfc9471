//! `ParamBag`: loose parameters as a layer, so that anything made of `Param`s can be optimized.

use crate::{Layer, Mode, Param, Result, Tensor, TensorView, reuse_buffer};

/// Named parameters that are not part of any layer, as a [`Layer`]: what optimizers, gradient
/// clipping and checkpoints take (they all walk a layer's parameters), for parameters you
/// manage yourself (PyTorch's `optimizer = SGD([w, b], lr=0.1)`).
///
/// As a layer it is the identity: forward returns its input and backward its upstream
/// gradient, unchanged; it only contributes its parameters, visited in the order they were
/// added, under their names. You compute the gradients and write them into each `grad`.
///
/// ```
/// use lazarus_core::{Param, ParamBag, ParamRole, Tensor};
/// use lazarus_optim::{Optimizer, Sgd};
///
/// // Minimize f(w) = ½‖w‖², whose gradient is w itself.
/// let w = Param::new(Tensor::from_elem(vec![3], 2.0), ParamRole::Weight);
/// let mut bag = ParamBag::new(vec![("w", w)]);
/// let mut opt = Sgd::new(0.5)?;
/// for _ in 0..3 {
///     let w = &mut bag.params[0].1;
///     w.grad = w.value.clone();
///     opt.step(&mut bag)?;
/// }
/// // Each step halves w: 2 → 1 → 0.5 → 0.25.
/// assert!(bag.params[0].1.value.iter().all(|&v| v == 0.25));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ParamBag {
    /// The parameters with their names, in visiting order.
    pub params: Vec<(String, Param)>,
    out: Tensor,
}

impl ParamBag {
    /// A bag of the given parameters, visited in this order under these names.
    pub fn new(params: Vec<(&str, Param)>) -> Self {
        let params = params
            .into_iter()
            .map(|(name, p)| (name.to_string(), p))
            .collect();
        Self {
            params,
            out: Tensor::zeros(vec![0]),
        }
    }

    /// The parameter named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }

    /// Pass `x` through unchanged (into the bag's own buffer, as a layer returns a view).
    fn identity(&mut self, x: TensorView<'_>) -> TensorView<'_> {
        reuse_buffer(&mut self.out, x.raw_dim());
        self.out.assign(&x);
        self.out.view()
    }
}

impl Layer for ParamBag {
    fn name(&self) -> &str {
        "param_bag"
    }

    fn forward(&mut self, x: TensorView<'_>, _mode: Mode) -> Result<TensorView<'_>> {
        Ok(self.identity(x))
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        Ok(self.identity(grad_output))
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        for (name, p) in &self.params {
            f(name, p);
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        for (name, p) in &mut self.params {
            f(name, p);
        }
    }
}
