//! # lazarus-core
//!
//! The foundation of lazarus: the tensor type, trainable [`Param`]s (and [`ParamBag`], loose
//! parameters as a layer), the [`Layer`] trait with a hand-written backward for every layer,
//! [`Linear`], [`Conv2d`], [`Sequential`], [`Flatten`], [`Dropout`], the pooling layers
//! ([`MaxPool2d`], [`AvgPool2d`], [`AdaptiveAvgPool2d`]), [`LogSoftmax`], the [`loss`]
//! functions, the [`init`]ializers and the [`gradcheck`] that proves each backward right.
//!
//! Reading order for a learner: [`Layer`] (the contract) → [`Linear`] (forward `y = x Wᵀ + b`
//! and its three backward formulas) → [`Sequential`] (the chain rule as a loop) →
//! [`loss::CrossEntropyLoss`] (where every backward pass starts) → [`gradcheck`] (how we know).
//!
//! Speed lives apart from the math, in `src/kernels/`: a layer's file shows its formulas (and a
//! plain-ndarray reference of them), and calls a kernel where a formula is a matrix product or a
//! pass over a whole buffer. Matrix products and large element-wise passes run on
//! [`num_threads`] threads ([`set_num_threads`], like `torch.set_num_threads`; the machine's
//! cores by default), with the same results for every thread count.
//!
//! Walking a model: [`walk_layers`] (and [`walk_layers_mut`], [`try_fold_leaves`]) visit every
//! layer with its path (`"2.0"`), the prefix of its parameters' names (`2.0.weight`).
//!
//! ```
//! use lazarus_core::loss::{CrossEntropyLoss, Loss, Target};
//! use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = Sequential::new()
//!     .add(Linear::new(2, 16, &mut rng)?)
//!     .add(Linear::new(16, 2, &mut rng)?);
//! let x = Tensor::from_shape_vec(vec![2, 2], vec![0.0, 1.0, 1.0, 0.0]).unwrap();
//! let mut loss = CrossEntropyLoss::new();
//! let logits = model.forward(x.view(), Mode::Train)?;
//! let value = loss.forward(logits, Target::Classes(&[1, 0]))?;
//! model.zero_grad();
//! model.backward(loss.input_grad()?)?;
//! // Plain gradient descent: θ ← θ − 0.1 · ∂L/∂θ.
//! model.visit_params_mut(&mut |_, p| p.value.scaled_add(-0.1, &p.grad));
//! assert!(value > 0.0);
//! # Ok::<(), lazarus_core::Error>(())
//! ```
#![warn(missing_docs)]

mod activation_stats;
mod buffer;
mod conv2d;
mod dropout;
mod error;
mod flatten;
pub mod gradcheck;
pub mod init;
mod kernels;
mod layer;
mod linear;
mod log_softmax;
pub mod loss;
mod mode;
mod normalization;
mod num;
mod param;
mod param_bag;
mod pooling;
mod sequential;
mod size2d;
mod tensor;
mod walk;
mod weight_and_bias;

pub use activation_stats::{ActivationStats, SilentRegion};
pub use buffer::{Buffer, BufferKind};
pub use conv2d::{Conv2d, Conv2dSettings, Padding};
pub use dropout::Dropout;
pub use error::{Error, Result};
pub use flatten::Flatten;
pub use kernels::{
    ZipFn, has_avx2_fma, num_threads, parallel_for, parallel_zip, set_num_threads, sum_f64,
    sum_squared_difference, sum_squares, with_simd,
};
pub use layer::Layer;
pub use linear::Linear;
pub use log_softmax::LogSoftmax;
pub use mode::Mode;
pub use normalization::{BatchNorm, BatchNorm1d, BatchNorm2d, LayerNorm};
pub use num::Num;
pub use param::{Param, ParamRole};
pub use param_bag::ParamBag;
pub use pooling::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use sequential::{Sequential, model_summary};
pub use size2d::Size2d;
pub use tensor::{
    Tensor, TensorView, TensorViewMut, as_matrix, check_finite, element_count, expect_shape,
    reuse_buffer, try_zeros,
};
pub use walk::{LeafFn, try_fold_leaves, walk_layers, walk_layers_mut};
