//! Losses: each computes a scalar from the network's output and a target, and keeps its gradient
//! with respect to that output, the first upstream gradient of every backward pass.

mod bce_with_logits;
mod cross_entropy;
mod huber;
mod mse;

pub use bce_with_logits::BceWithLogitsLoss;
pub use cross_entropy::CrossEntropyLoss;
pub use huber::HuberLoss;
pub use mse::MseLoss;

use crate::{Error, Result, Tensor, TensorView, reuse_buffer};

/// What a loss compares the network's output with.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// One class index per sample (`[batch]`), for [`CrossEntropyLoss`].
    Classes(&'a [usize]),
    /// A tensor of target values, usually of the output's shape: regression targets for
    /// [`MseLoss`] and [`HuberLoss`], probabilities for [`BceWithLogitsLoss`] and
    /// [`CrossEntropyLoss`].
    Values(TensorView<'a>),
}

/// How per-element losses are combined into one number (PyTorch's `reduction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The mean (PyTorch's default). For cross-entropy: the mean over samples.
    #[default]
    Mean,
    /// The sum.
    Sum,
}

/// A loss function L(output, target) with its gradient dL/d(output).
///
/// ```
/// use lazarus_core::loss::{Loss, MseLoss, Target};
/// use ndarray::array;
/// let mut mse = MseLoss::new();
/// let y = array![[1.0f32, 2.0]].into_dyn();
/// let t = array![[0.0f32, 2.0]].into_dyn();
/// assert_eq!(mse.forward(y.view(), Target::Values(t.view())).unwrap(), 0.5);
/// assert_eq!(mse.backward().unwrap(), array![[1.0f32, 0.0]].into_dyn().view());
/// ```
pub trait Loss: Send {
    /// Short name used in errors: `cross_entropy`, `mse`, ...
    fn name(&self) -> &str;

    /// The loss for `input` against `target`; also computes and keeps dL/d(input).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when target and input do not fit,
    /// [`Error::InvalidTarget`] for a class index out of range.
    fn forward(&mut self, input: TensorView<'_>, target: Target<'_>) -> Result<f32>;

    /// dL/d(input) for the last `forward`.
    ///
    /// # Errors
    /// [`Error::BackwardBeforeForward`] before any forward.
    fn backward(&self) -> Result<TensorView<'_>>;
}

/// The gradient buffer every loss keeps, with the "no forward yet" state.
#[derive(Debug, Clone, Default)]
struct GradBuffer {
    grad: Tensor,
    ready: bool,
}

impl GradBuffer {
    fn view(&self, loss: &str) -> Result<TensorView<'_>> {
        if self.ready {
            Ok(self.grad.view())
        } else {
            Err(Error::BackwardBeforeForward { layer: loss.into() })
        }
    }
}

/// Shared body of the element-wise losses (MSE, BCE with logits, Huber): check that the target
/// is a tensor of the input's shape, then for each element pair (x, y) let `term` return the
/// element's loss and its derivative ∂lᵢ/∂xᵢ; reduce, and scale the gradient the same way.
fn elementwise_loss(
    name: &str,
    reduction: Reduction,
    buffer: &mut GradBuffer,
    input: TensorView<'_>,
    target: Target<'_>,
    term: impl Fn(f32, f32) -> (f32, f32),
) -> Result<f32> {
    let Target::Values(target) = target else {
        return Err(Error::InvalidTarget {
            loss: name.into(),
            reason: "expected a tensor of target values, found class indices".into(),
        });
    };
    if target.shape() != input.shape() {
        return Err(Error::ShapeMismatch {
            layer: name.into(),
            expected: format!("a target of the input's shape {:?}", input.shape()),
            found: target.shape().to_vec(),
        });
    }
    let scale = match reduction {
        Reduction::Mean => 1.0 / input.len().max(1) as f32,
        Reduction::Sum => 1.0,
    };
    reuse_buffer(&mut buffer.grad, input.raw_dim());
    let mut total = 0.0f64;
    ndarray::Zip::from(&mut buffer.grad)
        .and(&input)
        .and(&target)
        .for_each(|g, &x, &y| {
            let (l, d) = term(x, y);
            total += f64::from(l);
            *g = d * scale;
        });
    buffer.ready = true;
    Ok((total * f64::from(scale)) as f32)
}
