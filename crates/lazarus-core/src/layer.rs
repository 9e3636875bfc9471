//! The `Layer` trait: forward keeps what backward needs, backward is the chain rule written out.

use crate::{ActivationStats, Buffer, Mode, Param, Result, TensorView};

/// A differentiable building block: Linear, an activation, Dropout, a whole `Sequential`.
///
/// The contract, which every layer in lazarus follows and [`gradcheck`](crate::gradcheck)
/// verifies numerically:
///
/// * [`forward`](Layer::forward) computes `y = f(x)`. In [`Mode::Train`] it keeps what backward
///   needs (Linear its input, ReLU its output, ...) in buffers it owns and reuses.
/// * [`backward`](Layer::backward) takes the upstream gradient `dL/dy`, *adds* `dL/dθ` into every
///   parameter's `grad`, and returns `dL/dx`. Called without a training-mode forward it returns
///   [`Error::BackwardBeforeForward`](crate::Error::BackwardBeforeForward).
/// * Outputs and input gradients are views into buffers the layer owns: a training loop allocates
///   on its first batch and then never again. Call `.to_owned()` to keep a result.
/// * Parameters are visited in a fixed order with PyTorch's names (`weight`, `bias`; PReLU's
///   slopes are `weight` too, with role [`Slope`](crate::ParamRole::Slope)); a `Sequential`
///   prefixes its child's index (`0.weight`, `2.weight`), the same keys a PyTorch
///   `state_dict` shows for the same `nn.Sequential`. Optimizers, gradient clipping, checkpoints
///   and the gradient checker all use this one walk.
///
/// The trait is object-safe: a `Sequential` holds `Vec<Box<dyn Layer>>`.
///
/// ```
/// use lazarus_core::{Layer, Linear, Mode, Tensor};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut layer = Linear::new(3, 2, &mut rng).unwrap();
/// let x = Tensor::ones(vec![4, 3]);
/// let y = layer.forward(x.view(), Mode::Train).unwrap();
/// assert_eq!(y.shape(), &[4, 2]);
/// let upstream = Tensor::ones(vec![4, 2]);
/// let dx = layer.backward(upstream.view()).unwrap();
/// assert_eq!(dx.shape(), &[4, 3]);
/// assert_eq!(layer.param_count(), 3 * 2 + 2);
/// ```
pub trait Layer: Send {
    /// A short lower-case name used in error messages and summaries: `linear`, `relu`, `prelu`.
    fn name(&self) -> &str;

    /// A one-line description with the layer's settings, as PyTorch prints modules:
    /// `Linear(in_features=784, out_features=256, bias=true)`.
    fn describe(&self) -> String {
        self.name().to_string()
    }

    /// Compute the output for input `x`. In [`Mode::Train`], keep what backward needs.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `x` does not fit the layer.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>>;

    /// Given `dL/dy` for the last training-mode forward, add `dL/dθ` into each parameter's
    /// gradient and return `dL/dx`.
    ///
    /// # Errors
    /// [`Error::BackwardBeforeForward`](crate::Error::BackwardBeforeForward) without a preceding
    /// training-mode forward; [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when
    /// `grad_output` does not have the output's shape.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>>;

    /// Like [`backward`](Layer::backward), but only accumulate parameter gradients and skip
    /// `dL/dx`. Trainers call this on the whole model: nobody needs the gradient with respect to
    /// the data, and for the first Linear layer it is a third of the backward work (PyTorch skips
    /// it too, because the input does not require grad).
    ///
    /// # Errors
    /// As [`backward`](Layer::backward).
    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        self.backward(grad_output).map(|_| ())
    }

    /// Visit every parameter with its name, in a fixed order.
    fn visit_params(&self, _f: &mut dyn FnMut(&str, &Param)) {}

    /// Visit every parameter mutably with its name, in the same order as
    /// [`visit_params`](Layer::visit_params).
    fn visit_params_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Param)) {}

    /// Visit every [`Buffer`] (named state that is not trained, such as BatchNorm's
    /// `running_mean`) with its name, in a fixed order. Names get the same path prefixes as
    /// parameters (`1.running_mean`), so a checkpoint holds both under PyTorch's `state_dict`
    /// keys. Optimizers and gradient clipping never see buffers.
    fn visit_buffers(&self, _f: &mut dyn FnMut(&str, &Buffer)) {}

    /// Visit every buffer mutably with its name, in the same order as
    /// [`visit_buffers`](Layer::visit_buffers) (a checkpoint loads them this way).
    fn visit_buffers_mut(&mut self, _f: &mut dyn FnMut(&str, &mut Buffer)) {}

    /// Visit the direct children of a container layer with their indices, in forward order
    /// (none for a leaf). The walks of `walk.rs` ([`walk_layers`](crate::walk_layers), ...)
    /// use this to reach every layer of a model with its path.
    fn visit_children(&self, _f: &mut dyn FnMut(usize, &dyn Layer)) {}

    /// Visit the direct children mutably (none for a leaf), in the same order as
    /// [`visit_children`](Layer::visit_children).
    fn visit_children_mut(&mut self, _f: &mut dyn FnMut(usize, &mut dyn Layer)) {}

    /// The output shape for an input of shape `input` (the input's shape for element-wise
    /// layers, which is the default).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the input does not fit.
    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(input.to_vec())
    }

    /// For activation layers: per-unit statistics of the last forward in [`Mode::Train`] or
    /// [`Mode::Probe`] (how many inputs fell in the silent region and what gradient still flows
    /// there, output mean, spread and peak; see [`ActivationStats`] for silent, dead and
    /// inactive). An evaluation-mode forward leaves them as they were. `None` for other layers,
    /// and before the first training or probe forward. Dead-unit diagnostics run a probe pass,
    /// walk the model with [`walk_layers`](crate::walk_layers) and read this, without knowing
    /// concrete types.
    fn activation_stats(&self) -> Option<ActivationStats> {
        None
    }

    /// Number of trainable scalars.
    fn param_count(&self) -> usize {
        let mut count = 0;
        self.visit_params(&mut |_, p| count += p.len());
        count
    }

    /// Number of scalars in buffers (not trained, so not in [`param_count`](Layer::param_count)).
    fn buffer_count(&self) -> usize {
        let mut count = 0;
        self.visit_buffers(&mut |_, b| count += b.len());
        count
    }

    /// Set every parameter's gradient to zero.
    fn zero_grad(&mut self) {
        self.visit_params_mut(&mut |_, p| p.zero_grad());
    }
}
