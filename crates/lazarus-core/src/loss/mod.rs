//! Losses: each computes a scalar from the network's output and a target, and keeps its gradient
//! with respect to that output, the first upstream gradient of every backward pass.
//!
//! Each loss's file holds its formula and derivative. What they share is here: the
//! [`Reduction`] (mean or sum) and how it scales the loss and the gradient, the gradient buffer
//! behind [`Loss::input_grad`], and the check of a setting; and in `elementwise.rs`,
//! [`ElementwiseLoss`], everything but the formula of a loss that is a mean of per-element
//! terms (MSE, Huber, BCE with logits: each file gives only its term).

mod bce_with_logits;
mod cross_entropy;
mod elementwise;
mod huber;
mod mse;
mod nll;

pub use bce_with_logits::{BceWithLogitsLoss, BceWithLogitsTerm};
pub use cross_entropy::CrossEntropyLoss;
pub use elementwise::{ElementwiseLoss, ElementwiseTerm};
pub use huber::{HuberLoss, HuberTerm};
pub use mse::{MseLoss, MseTerm};
pub use nll::NllLoss;

use crate::{Error, Result, Tensor, TensorView, reuse_buffer};

/// What a loss compares the network's output with.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// One class index per sample (`[batch]`), for [`CrossEntropyLoss`] and [`NllLoss`].
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

impl Reduction {
    /// The factor applied to the summed loss, and so to each term's gradient, over `count`
    /// terms: `1 / count` for the mean (1 for no terms), 1 for the sum.
    ///
    /// ```
    /// use lazarus_core::loss::Reduction;
    /// assert_eq!(Reduction::Mean.scale(4), 0.25);
    /// assert_eq!(Reduction::Sum.scale(4), 1.0);
    /// ```
    pub fn scale(self, count: usize) -> f32 {
        match self {
            Reduction::Mean => 1.0 / count.max(1) as f32,
            Reduction::Sum => 1.0,
        }
    }
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
/// assert_eq!(mse.input_grad().unwrap(), array![[1.0f32, 0.0]].into_dyn().view());
/// ```
pub trait Loss: Send {
    /// Short name used in errors: `cross_entropy`, `mse`, ...
    fn name(&self) -> &str;

    /// The loss for `input` against `target`. The derivative comes out of the same formulas,
    /// so this also computes dL/d(input) and keeps it for [`input_grad`](Loss::input_grad).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when target and input do not fit,
    /// [`Error::InvalidTarget`] for a class index out of range.
    fn forward(&mut self, input: TensorView<'_>, target: Target<'_>) -> Result<f32>;

    /// dL/d(input), the gradient the last [`forward`](Loss::forward) computed: computing
    /// nothing, it returns what forward kept. Hand it to the model's backward pass, where
    /// PyTorch would call `loss.backward()`: `model.backward(loss.input_grad()?)`.
    ///
    /// # Errors
    /// [`Error::BackwardBeforeForward`] before any forward.
    fn input_grad(&self) -> Result<TensorView<'_>>;
}

/// dL/d(input) as a loss keeps it, with the "no forward yet" state.
#[derive(Debug, Clone, Default)]
struct InputGrad {
    grad: Tensor,
    ready: bool,
}

impl InputGrad {
    /// The buffer, given `shape` (its old allocation reused), to be filled by a forward pass.
    fn reshaped(&mut self, shape: ndarray::IxDyn) -> &mut Tensor {
        reuse_buffer(&mut self.grad, shape);
        self.ready = true;
        &mut self.grad
    }

    /// The gradient of the last forward pass of the loss `loss`.
    fn view(&self, loss: &str) -> Result<TensorView<'_>> {
        if self.ready {
            Ok(self.grad.view())
        } else {
            Err(Error::BackwardBeforeForward { layer: loss.into() })
        }
    }
}

/// `Ok(value)` when `valid`, else [`Error::InvalidConfig`] for the `parameter` of `loss`: "must
/// be `rule`, found `value`". Every loss checks its settings with this, where they are given.
fn check_setting(loss: &str, parameter: &str, value: f32, valid: bool, rule: &str) -> Result<f32> {
    if valid {
        Ok(value)
    } else {
        Err(Error::InvalidConfig {
            layer: loss.into(),
            parameter: parameter.into(),
            reason: format!("must be {rule}, found {}", crate::Num(value)),
        })
    }
}

/// Check that `targets` holds one class index per sample of a `[batch, classes]` input, each
/// below `classes` unless it is `ignore_index` (which the loss skips, whatever its value).
///
/// # Errors
/// [`Error::ShapeMismatch`] for a wrong count, [`Error::InvalidTarget`] naming the first
/// sample whose class is out of range.
fn check_classes(
    loss: &str,
    targets: &[usize],
    batch: usize,
    classes: usize,
    ignore_index: Option<usize>,
) -> Result<()> {
    if targets.len() != batch {
        return Err(Error::ShapeMismatch {
            layer: loss.into(),
            expected: format!("{batch} class indices, one per sample"),
            found: vec![targets.len()],
        });
    }
    let out_of_range = |&(_, &c): &(usize, &usize)| c >= classes && Some(c) != ignore_index;
    match targets.iter().enumerate().find(out_of_range) {
        Some((i, c)) => Err(Error::InvalidTarget {
            loss: loss.into(),
            reason: format!("sample {i} has class {c}, but there are {classes} classes"),
        }),
        None => Ok(()),
    }
}
