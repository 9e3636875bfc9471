//! What every element-wise activation layer has in common, written once.
//!
//! An activation is a scalar function and its derivative ([`Pointwise`]). [`Elementwise`] turns
//! one into a layer: it owns the buffers, checks shapes, decides what to keep for backward, runs
//! the loops of [`crate::loops`] and computes [`ActivationStats`] on demand. Each activation file
//! (`relu.rs`, `elu.rs`, ...) only says what is specific to it, and the `elementwise_layer!`
//! macro forwards the public type's `Layer` methods here.
//!
//! What backward reads ([`Saved`]): PyTorch keeps the *input* of most activations and the
//! *output* of a few (sigmoid, tanh). Keeping the output is cheaper for a layer that does not own
//! its input: the output buffer has to be written anyway, while keeping the input costs one more
//! copy. A kernel may ask for its output only where the derivative is provably the same function
//! of the output as of the input; each one says why in its `saved` method.

use lazarus_core::{ActivationStats, Error, Mode, Result, TensorView};

use crate::buffers::Buffers;
use crate::loops::{map_into, map_save_into, zip_map_into};

/// Which tensor forward keeps for backward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saved {
    /// The input x: backward evaluates f'(x).
    Input,
    /// The output y = f(x): backward evaluates the derivative written as a function of y.
    Output,
}

/// Which per-unit count an activation reports to diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    /// Smooth activations: no region worth counting.
    None,
    /// Where the derivative is exactly 0 (ReLU x ≤ 0): a unit always there is dead.
    ZeroGrad,
    /// The leaky negative side (LeakyReLU, ELU, ... x ≤ 0): inactive, but still learning.
    Negative,
}

/// A scalar activation: its value, its derivative, and what the layer keeps.
///
/// Implementations are small `Copy` structs holding the hyper-parameters; their methods call
/// the public [`functional`](crate::functional) functions, so a plotted curve and the layer can
/// never disagree. Methods are `#[inline(always)]` so that the loops vectorize.
pub(crate) trait Pointwise: Copy + std::fmt::Debug + Send + Sync + 'static {
    /// Lower-case name for errors (`relu`, `leaky_relu`).
    fn name(&self) -> &'static str;
    /// PyTorch-style description with the settings: `LeakyReLU(negative_slope=0.01)`.
    fn describe(&self) -> String;
    /// What forward keeps for backward.
    fn saved(&self) -> Saved;
    /// f(x).
    fn value(&self, x: f32) -> f32;
    /// f'(x), from the input.
    fn derivative(&self, x: f32) -> f32;
    /// f'(x) written as a function of the output y = f(x); called only when
    /// [`Pointwise::saved`] is [`Saved::Output`].
    ///
    /// The default, `derivative(y)`, is right for the piecewise-linear activations that keep
    /// their output (ReLU, ReLU6, Hardtanh, LeakyReLU with a slope ≥ 0): their derivative is
    /// constant on each piece and y lies in the same piece as x, so f'(y) = f'(x) exactly.
    fn derivative_from_output(&self, y: f32) -> f32 {
        self.derivative(y)
    }
    /// Which region diagnostics count (default: none).
    fn region(&self) -> Region {
        Region::None
    }
    /// Whether a saved value (x or y) lies in [`Pointwise::region`].
    fn in_region(&self, _saved: f32) -> bool {
        false
    }
}

/// The chain rule for one element: local derivative × upstream gradient.
///
/// A local derivative of exactly 0 stops the gradient outright (gives 0, not 0 · ∞ = NaN when the
/// upstream gradient has overflowed), as PyTorch's masks do. A select, not a branch.
#[inline(always)]
pub(crate) fn chain(local: f32, upstream: f32) -> f32 {
    if local == 0.0 { 0.0 } else { local * upstream }
}

/// An element-wise activation layer built from a [`Pointwise`] function.
#[derive(Debug, Clone)]
pub(crate) struct Elementwise<F> {
    /// The function and its hyper-parameters.
    pub(crate) f: F,
    buffers: Buffers,
}

impl<F: Pointwise> Elementwise<F> {
    /// A layer computing `f`, with empty buffers.
    pub(crate) fn new(f: F) -> Self {
        Self {
            f,
            buffers: Buffers::default(),
        }
    }

    pub(crate) fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let f = self.f;
        let value = move |v| f.value(v);
        match (mode, f.saved()) {
            (Mode::Eval, _) => map_into(&x, self.buffers.eval_output(x.raw_dim()), value),
            (Mode::Train, Saved::Output) => {
                map_into(&x, self.buffers.train_saved_output(x.raw_dim()), value)
            }
            (Mode::Train, Saved::Input) => {
                let (saved, output) = self.buffers.train_saved_input(x.raw_dim());
                map_save_into(&x, saved, output, value);
            }
        }
        Ok(self.buffers.output())
    }

    pub(crate) fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let f = self.f;
        let (saved, grad_input) = self.buffers.backward(f.name(), grad_output.raw_dim())?;
        // dL/dx = f'(x) · dL/dy, with f' read from what forward kept.
        match f.saved() {
            Saved::Input => zip_map_into(&saved, &grad_output, grad_input, move |x, g| {
                chain(f.derivative(x), g)
            }),
            Saved::Output => zip_map_into(&saved, &grad_output, grad_input, move |y, g| {
                chain(f.derivative_from_output(y), g)
            }),
        }
        Ok(self.buffers.grad_input())
    }

    /// Statistics of the last training-mode pass, computed now from what forward kept.
    pub(crate) fn activation_stats(&self) -> Option<ActivationStats> {
        let saved = self.buffers.last_pass()?;
        let f = self.f;
        let in_region = move |v: f32| f.in_region(v);
        // Regions are defined on the saved value (x, or y where y stands in for x).
        let (zero_grad, negative) = match f.region() {
            Region::None => (None, None),
            Region::ZeroGrad => (Some(in_region), None),
            Region::Negative => (None, Some(in_region)),
        };
        Some(match f.saved() {
            Saved::Output => ActivationStats::from_saved(saved, |y| y, zero_grad, negative),
            Saved::Input => {
                ActivationStats::from_saved(saved, move |x| f.value(x), zero_grad, negative)
            }
        })
    }
}

/// Implement `lazarus_core::Layer` for a newtype `struct $layer { inner: Elementwise<_> }` by
/// forwarding to [`Elementwise`].
macro_rules! elementwise_layer {
    ($layer:ident) => {
        impl lazarus_core::Layer for $layer {
            fn name(&self) -> &str {
                crate::elementwise::Pointwise::name(&self.inner.f)
            }

            fn describe(&self) -> String {
                crate::elementwise::Pointwise::describe(&self.inner.f)
            }

            fn forward(
                &mut self,
                x: lazarus_core::TensorView<'_>,
                mode: lazarus_core::Mode,
            ) -> lazarus_core::Result<lazarus_core::TensorView<'_>> {
                self.inner.forward(x, mode)
            }

            fn backward(
                &mut self,
                grad_output: lazarus_core::TensorView<'_>,
            ) -> lazarus_core::Result<lazarus_core::TensorView<'_>> {
                self.inner.backward(grad_output)
            }

            fn activation_stats(&self) -> Option<lazarus_core::ActivationStats> {
                self.inner.activation_stats()
            }
        }
    };
}
pub(crate) use elementwise_layer;

/// An [`Error::InvalidConfig`] for `layer`'s `parameter`.
pub(crate) fn invalid(layer: &str, parameter: &str, reason: String) -> Error {
    Error::InvalidConfig {
        layer: layer.into(),
        parameter: parameter.into(),
        reason,
    }
}

/// `Ok(value)` if it is finite, else [`Error::InvalidConfig`].
pub(crate) fn finite(layer: &str, parameter: &str, value: f32) -> Result<f32> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(invalid(
            layer,
            parameter,
            format!("must be finite, found {}", lazarus_core::Num(value)),
        ))
    }
}
