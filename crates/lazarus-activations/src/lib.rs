//! # lazarus-activations: why ReLU units die, and the variants that keep them alive
//!
//! Every activation of `torch.nn` a small MLP or CNN needs, each a [`Layer`](lazarus_core::Layer)
//! with PyTorch's defaults, PyTorch's numbers (float32 values and gradients agree to 1e-5) and
//! PyTorch's derivative at every kink, written in its doc comment.
//!
//! ## How to read it
//!
//! Each file holds one activation (`relu.rs`, `leaky_relu.rs`, `prelu.rs`, `elu.rs`, ...), and
//! it is the whole story of that activation:
//!
//! 1. the layer's doc comment: f(x), f'(x), PyTorch's value at the kinks, when to use it;
//! 2. the layer's `forward` and `backward`: one line each, handing the scalar functions to a
//!    fast kernel, with the formula in a comment above (`dL/dx = relu'(x) · dL/dy`);
//! 3. the scalar function and its derivative (`relu`, `relu_grad`: where ReLU'(0) = 0 is
//!    decided), also in [`functional`] for plotting;
//! 4. reference `*_forward`/`*_backward` functions: the same computation over a whole tensor in
//!    plain ndarray (PReLU's with dL/dα per channel), also in [`reference`](mod@reference).
//!
//! The speed plumbing (SIMD loops compiled for AVX2 at run time, buffer reuse, PReLU's blocked
//! sums, a vectorizable `exp`) lives in `src/kernels/`, apart from the math; every kernel is
//! tested against the reference functions of its activation (`tests/kernels_vs_reference.rs`).
//!
//! ReLU's backward, for instance: `relu.rs` `Relu::backward` (`dL/dx = relu'(x) · dL/dy`) and
//! `relu_grad` (`1 if x > 0, else 0`) beside it; the loop that runs them is
//! `kernels/elementwise.rs` `Elementwise::backward`. PReLU's dL/dα: `prelu.rs` `PRelu::backward`
//! (`dL/dα_c += Σ x · dL/dy` over x ≤ 0) and `prelu_backward`, its plain-ndarray reference; the
//! blocked sums are in `kernels/prelu.rs`.
//!
//! ## The story
//!
//! **ReLU is cheap and sparse.** [`Relu`] computes `max(0, x)`: one comparison, no exponential,
//! and exact zeros for every negative input. It trains deep networks far better than
//! [`Sigmoid`] and [`Tanh`], whose derivatives (at most 0.25 and 1) shrink the gradient at every
//! layer. It remains the default.
//!
//! **ReLU units can die.** For x ≤ 0 its derivative is exactly 0 (PyTorch's value at x = 0 is
//! 0, and so is ours). A unit whose pre-activation is negative for *every* input, after a large
//! update pushed its bias far below zero, or from an unlucky initialization, gets no gradient,
//! so its weights never change again: it is dead, and the network has lost its capacity for good.
//! [`Layer::activation_stats`](lazarus_core::Layer::activation_stats) reports, per unit, how many
//! inputs of the last training or probe pass fell in this *silent* region; the training crate
//! runs a probe pass ([`Mode::Probe`](lazarus_core::Mode::Probe): fixed weights, nothing
//! changed) over a fixed probe set after each epoch and turns that into a dead-unit report.
//!
//! **ReLU is unbounded above.** Nothing caps its output, so with a poor initialization or a large
//! learning rate activations and gradients can grow layer after layer: exploding gradients,
//! NaN losses. Remedies: He initialization, gradient clipping, or a bounded variant such as
//! [`Relu6`] or [`Hardtanh`].
//!
//! **The cures give the negative side a gradient.**
//! * [`LeakyRelu`]: a small fixed slope (0.01) for x ≤ 0. Gradients *leak* through negative
//!   inputs, so a unit pushed into the negative region can come back.
//! * [`PRelu`]: the slope is a trainable parameter `alpha` (one, or one per channel), updated by
//!   the optimizer like any weight: the network learns how much to leak.
//! * [`Elu`]: a smooth exponential curve `alpha · (eˣ − 1)` for x ≤ 0 that saturates at
//!   −alpha: negative outputs push mean activations towards zero (less "bias shift"), which
//!   often speeds up convergence. [`Selu`] and [`Celu`] are its scaled relatives; [`RRelu`]
//!   draws a random slope per element in training.
//!
//! Diagnostics distinguish the two situations by the gradient, not by the type. Every ReLU-like
//! activation counts, per unit, the inputs in its *silent* region (`silent_counts`: x ≤ 0 for the
//! ReLU family; also the saturated side of [`Relu6`], [`Hardtanh`], [`Hardsigmoid`], [`Hardswish`])
//! and says whether its derivative is exactly zero there (`silent_derivative_zero`) and whether an
//! own parameter still learns from silent inputs (`silent_params_learn`, PReLU's slope). A unit
//! silent on every probe input is *dead* when nothing reaches it ([`Relu`], and
//! `LeakyRelu::new(0.0)`, which is a ReLU), *inactive* when gradient still flows ([`LeakyRelu`],
//! [`RRelu`], [`Elu`], [`Celu`], [`Selu`], and [`PRelu`] even with a slope of 0). The definition is
//! written once, on [`ActivationStats`](lazarus_core::ActivationStats). Smooth activations
//! ([`Gelu`], [`Silu`], [`Mish`], [`Softplus`], [`Sigmoid`], [`Tanh`], [`LogSigmoid`],
//! [`Softsign`]) have no silent region.
//!
//! **Which one?** Start with [`Relu`]. If the dead-unit fraction climbs, try [`LeakyRelu`] or
//! [`PRelu`]; if convergence is slow, [`Elu`]. For transformers, [`Gelu`]; for modern CNNs,
//! [`Silu`]. Pick by name with [`activation_by_name`] (the examples' `--activation` flag).
//!
//! ```
//! use lazarus_activations::{activation_by_name, LeakyRelu, Relu};
//! use lazarus_core::{Layer, Mode, Tensor};
//!
//! // A batch where unit 0 only ever sees negative inputs.
//! let x = Tensor::from_shape_vec(vec![3, 2], vec![-1.0, 0.5, -2.0, 1.0, -0.5, -1.0]).unwrap();
//!
//! let mut relu = Relu::new();
//! relu.forward(x.view(), Mode::Train)?;
//! let stats = relu.activation_stats().unwrap();
//! assert_eq!(stats.silent_counts, Some(vec![3, 1])); // unit 0: silent on the whole batch
//! assert!(stats.silent_unit_can_die(0)); // and no gradient at all: dead
//!
//! let mut leaky = LeakyRelu::default();
//! leaky.forward(x.view(), Mode::Train)?;
//! let stats = leaky.activation_stats().unwrap();
//! assert_eq!(stats.silent_counts, Some(vec![3, 1])); // silent too...
//! assert!(!stats.silent_unit_can_die(0)); // ...but only inactive
//! let dx = leaky.backward(Tensor::ones(vec![3, 2]).view())?;
//! assert_eq!(dx[[0, 0]], 0.01); // and still passes gradient back
//!
//! let layer = activation_by_name("elu", 0).unwrap();
//! assert_eq!(layer.describe(), "ELU(alpha=1.0)");
//! # Ok::<(), lazarus_core::Error>(())
//! ```
//!
//! ## Speed
//!
//! Activations are memory-bound, so each layer reuses its buffers (no allocation per batch once
//! the shape is stable), keeps only what backward needs (the output where that suffices, as for
//! [`Relu`] and [`Elu`]), and runs branch-free loops over contiguous slices that compile to SIMD,
//! with an AVX2 copy picked at run time (all in `src/kernels/`). [`Elu`], [`Selu`] and [`Celu`]
//! use a vectorizable `expm1` (relative error ≤ 2.5e-7) instead of the scalar libm call.
#![warn(missing_docs)]

mod celu;
mod chain;
mod elu;
mod gelu;
mod hardsigmoid;
mod hardswish;
mod hardtanh;
pub(crate) mod kernels;
mod leaky_relu;
mod log_sigmoid;
mod mish;
mod prelu;
mod registry;
mod relu;
mod relu6;
mod rrelu;
mod selu;
mod settings;
mod sigmoid;
mod silu;
mod softplus;
mod softsign;
mod tanh;

pub use celu::Celu;
pub use elu::Elu;
pub use gelu::{Gelu, GeluApproximate};
pub use hardsigmoid::Hardsigmoid;
pub use hardswish::Hardswish;
pub use hardtanh::Hardtanh;
pub use leaky_relu::LeakyRelu;
pub use log_sigmoid::LogSigmoid;
pub use mish::Mish;
pub use prelu::PRelu;
pub use registry::{ACTIVATION_NAMES, UnknownActivation, activation_by_name};
pub use relu::Relu;
pub use relu6::Relu6;
pub use rrelu::RRelu;
pub use selu::{SELU_ALPHA, SELU_SCALE, Selu};
pub use sigmoid::Sigmoid;
pub use silu::Silu;
pub use softplus::Softplus;
pub use softsign::Softsign;
pub use tanh::Tanh;

/// Every activation as plain functions of a scalar: `f(x, ...)` and its derivative
/// `f_grad(x, ...)` (plus `f_grad_from_output(y, ...)` where the layer differentiates from its
/// output). The layers call these very functions, so a curve plotted from here is exactly what
/// trains. For an array, map them: `x.mapv(|v| elu(v, 1.0))`.
///
/// Derivatives at kinks are PyTorch's: `relu_grad(0) = 0`, `leaky_relu_grad(0, s) = s`,
/// `prelu_grad(0, a) = a`, `elu_grad(0, alpha) = alpha`, `selu_grad(0) ≈ 1.7581`,
/// `celu_grad(0, alpha) = 1`, `relu6_grad` and `hardtanh_grad` are 0 at both boundaries,
/// `hardsigmoid_grad(±3) = 0`, `hardswish_grad(−3) = 0` and `hardswish_grad(3) = 1`.
///
/// ```
/// use lazarus_activations::functional::{elu, elu_grad, relu_grad};
/// use ndarray::array;
/// let x = array![-2.0f32, 0.0, 2.0];
/// let curve = x.mapv(|v| elu(v, 1.0));
/// let slope = x.mapv(|v| elu_grad(v, 1.0));
/// assert_eq!(curve[2], 2.0);
/// assert_eq!(slope[1], 1.0);
/// assert_eq!(relu_grad(0.0), 0.0);
/// ```
pub mod functional {
    pub use crate::celu::{celu, celu_grad};
    pub use crate::elu::{elu, elu_grad, elu_grad_from_output};
    pub use crate::gelu::{gelu, gelu_grad, gelu_tanh, gelu_tanh_grad};
    pub use crate::hardsigmoid::{hardsigmoid, hardsigmoid_grad};
    pub use crate::hardswish::{hardswish, hardswish_grad};
    pub use crate::hardtanh::{hardtanh, hardtanh_grad};
    pub use crate::leaky_relu::{leaky_relu, leaky_relu_grad};
    pub use crate::log_sigmoid::{log_sigmoid, log_sigmoid_grad};
    pub use crate::mish::{mish, mish_grad};
    pub use crate::prelu::{prelu, prelu_grad, prelu_grad_alpha};
    pub use crate::relu::{relu, relu_grad};
    pub use crate::relu6::{relu6, relu6_grad};
    pub use crate::rrelu::{rrelu, rrelu_grad};
    pub use crate::selu::{selu, selu_grad};
    pub use crate::sigmoid::{sigmoid, sigmoid_grad, sigmoid_grad_from_output};
    pub use crate::silu::{silu, silu_grad};
    pub use crate::softplus::{softplus, softplus_grad};
    pub use crate::softsign::{softsign, softsign_grad};
    pub use crate::tanh::{tanh, tanh_grad, tanh_grad_from_output};
}

/// Every activation's forward and backward over a whole tensor, written as the formulas say in
/// plain ndarray: `f_forward(x, settings...)` gives y, `f_backward(x, dL/dy, settings...)` gives
/// dL/dx (and PReLU's also dL/dα), always from the input x.
///
/// They sit in each activation's file beside its layer, and they are what the layers' fast
/// kernels are tested against (`tests/kernels_vs_reference.rs`): bit for bit where the kernel
/// does the same arithmetic, within a stated tolerance where it does not (ELU, SELU and CELU
/// differentiate from their output; PReLU sums dL/dα in another order). They allocate their
/// result and are not fast: use the layers to train.
///
/// ```
/// use lazarus_activations::reference::{prelu_backward, prelu_forward};
/// let x = ndarray::arr2(&[[-2.0f32, 1.0], [0.0, -4.0]]).into_dyn();
/// let g = ndarray::arr2(&[[1.0f32, 1.0], [1.0, 0.5]]).into_dyn();
/// let alpha = [0.25, 0.5]; // one slope per channel (axis 1)
/// let y = prelu_forward(x.view(), &alpha)?;
/// assert_eq!(y.as_slice().unwrap(), &[-0.5, 1.0, 0.0, -2.0]);
/// let (dx, dalpha) = prelu_backward(x.view(), g.view(), &alpha)?;
/// assert_eq!(dx.as_slice().unwrap(), &[0.25, 1.0, 0.25, 0.25]);
/// assert_eq!(dalpha, [-2.0 + 0.0, -4.0 * 0.5]); // Σ x·g over x ≤ 0, per channel
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub mod reference {
    pub use crate::celu::{celu_backward, celu_forward};
    pub use crate::elu::{elu_backward, elu_forward};
    pub use crate::gelu::{gelu_backward, gelu_forward};
    pub use crate::hardsigmoid::{hardsigmoid_backward, hardsigmoid_forward};
    pub use crate::hardswish::{hardswish_backward, hardswish_forward};
    pub use crate::hardtanh::{hardtanh_backward, hardtanh_forward};
    pub use crate::leaky_relu::{leaky_relu_backward, leaky_relu_forward};
    pub use crate::log_sigmoid::{log_sigmoid_backward, log_sigmoid_forward};
    pub use crate::mish::{mish_backward, mish_forward};
    pub use crate::prelu::{prelu_backward, prelu_forward};
    pub use crate::relu::{relu_backward, relu_forward};
    pub use crate::relu6::{relu6_backward, relu6_forward};
    pub use crate::rrelu::{rrelu_backward, rrelu_forward};
    pub use crate::selu::{selu_backward, selu_forward};
    pub use crate::sigmoid::{sigmoid_backward, sigmoid_forward};
    pub use crate::silu::{silu_backward, silu_forward};
    pub use crate::softplus::{softplus_backward, softplus_forward};
    pub use crate::softsign::{softsign_backward, softsign_forward};
    pub use crate::tanh::{tanh_backward, tanh_forward};
}
