//! `LogSoftmax`: log-probabilities over dim 1, and their gradient.
//!
//! [`LogSoftmax::forward_reference`] and [`LogSoftmax::backward_reference`] are the formulas in
//! plain ndarray; the [`Layer`] methods run the same with `kernels/log_softmax.rs` (samples cut
//! over the thread pool), which `tests/log_softmax_nll.rs` checks against them bit for bit.

use ndarray::{Axis, IxDyn, Zip};

use crate::{Error, Layer, Mode, Result, Tensor, TensorView, kernels, reuse_buffer};

/// Log-softmax over dim 1 (the classes of `[batch, classes]`, or the channels of
/// `[batch, channels, ...]` at each position), as PyTorch's `nn.LogSoftmax(dim=1)`.
///
/// For each sample (and position), over the C values x₁ … x_C along dim 1, with upstream
/// gradient g = dL/dy:
///
/// ```text
/// y_c     = x_c − m − log Σ_k e^(x_k − m),     m = max_k x_k
/// dL/dx_c = g_c − e^(y_c) · Σ_k g_k            (e^(y_c) is softmax_c)
/// ```
///
/// Subtracting the maximum m first changes nothing mathematically (it cancels), but keeps every
/// e^(x − m) ≤ 1, so nothing overflows, and the largest term is exactly 1, so the log never
/// sees 0: `log(softmax(x))` computed naively gives −∞ (and NaN gradients) for a logit 100
/// below the maximum; this gives −100. The outputs are log-probabilities: e^y sums to 1.
///
/// When to use: as the last layer of a classifier trained with
/// [`NllLoss`](crate::loss::NllLoss), as PyTorch's MNIST example does (`log_softmax` +
/// `nll_loss` is exactly cross-entropy). [`CrossEntropyLoss`](crate::loss::CrossEntropyLoss)
/// on raw scores computes the same in one step; use this layer when the model itself should
/// output log-probabilities (to read them, or to match a PyTorch model that ends in
/// `LogSoftmax`).
///
/// ```
/// use lazarus_core::{Layer, LogSoftmax, Mode, Tensor};
/// let mut layer = LogSoftmax::new();
/// let x = Tensor::from_shape_vec(vec![1, 2], vec![0.0, 0.0]).unwrap();
/// let y = layer.forward(x.view(), Mode::Train)?;
/// assert!(y.iter().all(|&v| (v - (0.5f32).ln()).abs() < 1e-7));
/// // dL/dx = g − softmax · Σg: a gradient equal on both classes cancels out.
/// let dx = layer.backward(Tensor::from_elem(vec![1, 2], 3.0).view())?;
/// assert!(dx.iter().all(|&d| d.abs() < 1e-6));
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "log_softmax")]
#[derive(Debug, Clone, Default)]
pub struct LogSoftmax {
    /// The last output y: backward needs e^y, the softmax.
    output: Tensor,
    grad_input: Tensor,
    trained: bool,
}

impl LogSoftmax {
    /// Log-softmax over dim 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The forward pass in plain ndarray: `y = x − m − log Σ e^(x − m)` along dim 1, the sum
    /// in f32 in class order.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] as [`forward`](Layer::forward).
    pub fn forward_reference(&self, x: TensorView<'_>) -> Result<Tensor> {
        check_input(x.shape())?;
        let mut y = x.to_owned();
        for mut lane in y.lanes_mut(Axis(1)) {
            let m = lane.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let log_sum = lane.fold(0.0f32, |s, &v| s + (v - m).exp()).ln();
            lane.mapv_inplace(|v| v - m - log_sum);
        }
        Ok(y)
    }

    /// The backward pass in plain ndarray, given the forward's output `y` and the upstream
    /// gradient `g`: `dL/dx = g − e^y · Σ g` along dim 1.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `y` is not at least 2-D or `g` has another shape.
    pub fn backward_reference(&self, y: TensorView<'_>, g: TensorView<'_>) -> Result<Tensor> {
        check_input(y.shape())?;
        crate::expect_shape("log_softmax", y.shape(), g.shape())?;
        let mut dx = g.to_owned();
        for (mut dx, y) in dx.lanes_mut(Axis(1)).into_iter().zip(y.lanes(Axis(1))) {
            let sum_g = dx.fold(0.0f32, |s, &g| s + g);
            Zip::from(&mut dx)
                .and(&y)
                .for_each(|d, &y| *d -= y.exp() * sum_g);
        }
        Ok(dx)
    }
}

impl Layer for LogSoftmax {
    fn name(&self) -> &str {
        "log_softmax"
    }

    fn describe(&self) -> String {
        "LogSoftmax(dim=1)".into()
    }

    /// `y_c = x_c − m − log Σ_k e^(x_k − m)` along dim 1; training keeps y.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.trained = false;
        let lanes = check_input(x.shape())?;
        let x = x.as_standard_layout();
        reuse_buffer(&mut self.output, x.raw_dim());
        kernels::log_softmax_forward(contiguous(&x), owned(&mut self.output), lanes);
        self.trained = mode == Mode::Train;
        Ok(self.output.view())
    }

    /// `dL/dx_c = g_c − e^(y_c) · Σ_k g_k` along dim 1.
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        if !self.trained {
            return Err(Error::BackwardBeforeForward {
                layer: "log_softmax".into(),
            });
        }
        crate::expect_shape("log_softmax", self.output.shape(), grad_output.shape())?;
        let lanes = check_input(self.output.shape())?;
        let g = grad_output.as_standard_layout();
        reuse_buffer(&mut self.grad_input, IxDyn(self.output.shape()));
        let (y, dx) = (contiguous(&self.output), owned(&mut self.grad_input));
        kernels::log_softmax_backward(y, contiguous(&g), dx, lanes);
        Ok(self.grad_input.view())
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        check_input(input).map(|_| input.to_vec())
    }
}

/// `[batch, classes, positions]` of a shape with at least 2 axes (positions = the product of
/// the axes after dim 1, 1 for `[batch, classes]`).
fn check_input(shape: &[usize]) -> Result<[usize; 3]> {
    match shape {
        [batch, classes, rest @ ..] => Ok([*batch, *classes, rest.iter().product()]),
        _ => Err(Error::ShapeMismatch {
            layer: "log_softmax".into(),
            expected: "at least 2 dimensions [batch, classes, ...] (softmax over dim 1)".into(),
            found: shape.to_vec(),
        }),
    }
}

fn contiguous<S: ndarray::Data<Elem = f32>>(t: &ndarray::ArrayBase<S, IxDyn>) -> &[f32] {
    t.as_slice().expect("a standard-layout array is contiguous")
}

fn owned(t: &mut Tensor) -> &mut [f32] {
    t.as_slice_mut().expect("the layer's buffers are row-major")
}
