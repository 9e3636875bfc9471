//! The buffers an activation layer owns, and the rules about when backward may read them.

use lazarus_core::{Error, Result, Tensor, TensorView, expect_shape, reuse_buffer};
use ndarray::{Dimension, IxDyn};

/// Output, kept tensor and input-gradient buffers, reused from batch to batch.
///
/// * A training-mode pass keeps one tensor for backward (`saved`: the layer's input, or its
///   output when that is what backward reads, in which case `saved` *is* the output and nothing
///   is copied).
/// * A probe pass keeps the same tensor, so that the statistics describe it, but forbids
///   backward (`Error::BackwardBeforeForward`): a probe keeps nothing *for backward* by contract.
/// * An evaluation-mode pass writes `output` only: it does not disturb `saved`, so statistics of
///   the last training or probe pass can still be read after a validation pass, but it forbids
///   backward, since evaluation keeps nothing by contract.
/// * Buffers are resized with [`reuse_buffer`]: no allocation once the batch shape is stable.
#[derive(Debug, Clone)]
pub(crate) struct Buffers {
    saved: Tensor,
    output: Tensor,
    grad_input: Tensor,
    /// Where the last forward's output is.
    output_is_saved: bool,
    /// A training-mode forward ran since the last evaluation-mode or probe one.
    backward_ready: bool,
    /// `saved` holds the last training-mode or probe pass.
    has_pass: bool,
    /// The output buffer still holds that pass's output (no evaluation pass since).
    output_from_pass: bool,
}

impl Default for Buffers {
    fn default() -> Self {
        Self {
            saved: Tensor::zeros(vec![0]),
            output: Tensor::zeros(vec![0]),
            grad_input: Tensor::zeros(vec![0]),
            output_is_saved: false,
            backward_ready: false,
            has_pass: false,
            output_from_pass: false,
        }
    }
}

impl Buffers {
    /// The output buffer for an evaluation pass of shape `shape`.
    pub(crate) fn eval_output(&mut self, shape: IxDyn) -> &mut Tensor {
        self.backward_ready = false;
        self.output_is_saved = false;
        self.output_from_pass = false;
        reuse_buffer(&mut self.output, shape);
        &mut self.output
    }

    /// For a training (`backward` true) or probe pass that keeps its output: the buffer that
    /// is both.
    pub(crate) fn saved_output(&mut self, shape: IxDyn, backward: bool) -> &mut Tensor {
        self.start_kept_pass(true, backward);
        reuse_buffer(&mut self.saved, shape);
        &mut self.saved
    }

    /// For a training (`backward` true) or probe pass that keeps its input: (buffer for the
    /// input, buffer for the output).
    pub(crate) fn saved_input(
        &mut self,
        shape: IxDyn,
        backward: bool,
    ) -> (&mut Tensor, &mut Tensor) {
        self.start_kept_pass(false, backward);
        reuse_buffer(&mut self.saved, shape.clone());
        reuse_buffer(&mut self.output, shape);
        (&mut self.saved, &mut self.output)
    }

    fn start_kept_pass(&mut self, output_is_saved: bool, backward: bool) {
        self.backward_ready = backward;
        self.has_pass = true;
        self.output_from_pass = true;
        self.output_is_saved = output_is_saved;
    }

    /// The last forward's output.
    pub(crate) fn output(&self) -> TensorView<'_> {
        if self.output_is_saved {
            self.saved.view()
        } else {
            self.output.view()
        }
    }

    /// Whether [`Buffers::output`] still holds the output of the last training or probe pass.
    pub(crate) fn output_is_from_last_pass(&self) -> bool {
        self.has_pass && self.output_from_pass
    }

    /// Check that backward may run for `layer` with a gradient of shape `grad_shape`, and hand
    /// out (the kept tensor, the input-gradient buffer sized to match).
    ///
    /// # Errors
    /// `BackwardBeforeForward` without a training pass since the last evaluation or probe pass;
    /// `ShapeMismatch` naming `layer` when the gradient's shape is not the output's.
    pub(crate) fn backward(
        &mut self,
        layer: &str,
        grad_shape: IxDyn,
    ) -> Result<(TensorView<'_>, &mut Tensor)> {
        if !self.backward_ready {
            return Err(Error::BackwardBeforeForward {
                layer: layer.into(),
            });
        }
        expect_shape(layer, self.saved.shape(), grad_shape.slice())?;
        reuse_buffer(&mut self.grad_input, grad_shape);
        Ok((self.saved.view(), &mut self.grad_input))
    }

    /// The input gradient computed by the last backward.
    pub(crate) fn grad_input(&self) -> TensorView<'_> {
        self.grad_input.view()
    }

    /// What the last training or probe pass kept, if there was one.
    pub(crate) fn last_pass(&self) -> Option<TensorView<'_>> {
        self.has_pass.then(|| self.saved.view())
    }
}
