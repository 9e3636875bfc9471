//! The kernel behind every element-wise activation layer: buffers, what is kept, fast loops.
//!
//! An activation's file hands its scalar function and derivative to [`Elementwise`]; this
//! runs them over the tensor with the loops of [`super::loops`], in buffers it reuses, and
//! computes [`ActivationStats`] on demand. It knows nothing about any particular activation.
//!
//! What backward reads ([`Keep`]): PyTorch keeps the *input* of most activations and the
//! *output* of a few (sigmoid, tanh). Keeping the output is cheaper for a layer that does not own
//! its input: the output buffer has to be written anyway, while keeping the input costs one more
//! copy. A layer keeps its output only where its derivative is provably the same function of the
//! output as of the input, and says why beside its `forward`.

use lazarus_core::{ActivationStats, Mode, Result, SilentRegion, Tensor, TensorView, reuse_buffer};

use super::buffers::Buffers;
use super::loops::{map_into, map_save_into, zip_map_into};
use crate::chain::chain;

/// Which tensor a training forward keeps for backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// The input x: backward's derivative receives x.
    Input,
    /// The output y = f(x): backward's derivative receives y.
    Output,
}

/// No silent region, with a concrete test type: for the smooth activations (Tanh, GELU, ...).
pub(crate) const NOT_SILENT: Option<SilentRegion<SilentTest>> = None;

/// The type of a silent-region test with no captures.
pub(crate) type SilentTest = fn(f32) -> bool;

/// Buffers and loops for an element-wise activation layer.
#[derive(Debug, Clone)]
pub(crate) struct Elementwise {
    /// The layer's name, for errors.
    name: &'static str,
    buffers: Buffers,
    /// What the last training or probe forward kept.
    kept: Keep,
    /// RReLU only: the local derivatives drawn by the last training forward.
    drawn: Tensor,
}

impl Elementwise {
    /// A kernel for the layer called `name`, with empty buffers.
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            buffers: Buffers::default(),
            kept: Keep::Input,
            drawn: Tensor::zeros(vec![0]),
        }
    }

    /// `y = f(x)` element-wise; a training pass also keeps `keep` for backward. A probe pass
    /// keeps it too, for [`stats`](Self::stats) only (backward stays refused): the same loop as
    /// training's, so the statistics of a probe cost no extra pass.
    pub(crate) fn forward(
        &mut self,
        x: TensorView<'_>,
        mode: Mode,
        keep: Keep,
        f: impl Fn(f32) -> f32 + Copy + Sync,
    ) -> Result<TensorView<'_>> {
        let backward = mode == Mode::Train;
        match (mode, keep) {
            (Mode::Eval, _) => map_into(&x, self.buffers.eval_output(x.raw_dim()), f),
            (Mode::Train | Mode::Probe, Keep::Output) => {
                map_into(&x, self.buffers.saved_output(x.raw_dim(), backward), f)
            }
            (Mode::Train | Mode::Probe, Keep::Input) => {
                let (saved, output) = self.buffers.saved_input(x.raw_dim(), backward);
                map_save_into(&x, saved, output, f);
            }
        }
        if mode != Mode::Eval {
            self.kept = keep;
        }
        Ok(self.buffers.output())
    }

    /// `dL/dx = f'· dL/dy` element-wise, with `derivative` applied to what forward kept (x or y).
    ///
    /// # Errors
    /// `BackwardBeforeForward` without a training pass since the last evaluation or probe pass;
    /// `ShapeMismatch` naming the layer when `grad_output`'s shape is not the output's.
    pub(crate) fn backward(
        &mut self,
        grad_output: TensorView<'_>,
        derivative: impl Fn(f32) -> f32 + Copy + Sync,
    ) -> Result<TensorView<'_>> {
        let (kept, grad_input) = self.buffers.backward(self.name, grad_output.raw_dim())?;
        zip_map_into(&kept, &grad_output, grad_input, move |k, g| {
            chain(derivative(k), g)
        });
        Ok(self.buffers.grad_input())
    }

    /// A training forward whose local derivative is drawn, not computed (RReLU's random slopes):
    /// for each element in order, `d = draw(x)` and `y = f(x, d)`. Keeps y (for the statistics)
    /// and d (for [`Elementwise::backward_drawn`]). Sequential: one draw per element, in order.
    pub(crate) fn forward_drawn(
        &mut self,
        x: TensorView<'_>,
        mut draw: impl FnMut(f32) -> f32,
        f: impl Fn(f32, f32) -> f32,
    ) -> Result<TensorView<'_>> {
        reuse_buffer(&mut self.drawn, x.raw_dim());
        let y = self.buffers.saved_output(x.raw_dim(), true);
        self.kept = Keep::Output;
        ndarray::Zip::from(y)
            .and(&mut self.drawn)
            .and(&x)
            .for_each(|y, d, &x| {
                *d = draw(x);
                *y = f(x, *d);
            });
        Ok(self.buffers.output())
    }

    /// `dL/dx = d · dL/dy` with the local derivatives d drawn by the last training forward.
    ///
    /// # Errors
    /// As [`Elementwise::backward`].
    pub(crate) fn backward_drawn(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let (_, grad_input) = self.buffers.backward(self.name, grad_output.raw_dim())?;
        zip_map_into(&self.drawn.view(), &grad_output, grad_input, chain);
        Ok(self.buffers.grad_input())
    }

    /// Statistics of the last training or probe pass, computed now from what forward kept; `f` gives the
    /// output from a kept input, `silent` tests a kept value (x, or y where the layer keeps y).
    pub(crate) fn stats<R: Fn(f32) -> bool>(
        &self,
        f: impl Fn(f32) -> f32 + Sync,
        silent: Option<SilentRegion<R>>,
    ) -> Option<ActivationStats> {
        let kept = self.buffers.last_pass()?;
        Some(match self.kept {
            Keep::Output => ActivationStats::from_saved(kept, |y| y, silent),
            Keep::Input => ActivationStats::from_saved(kept, f, silent),
        })
    }
}
