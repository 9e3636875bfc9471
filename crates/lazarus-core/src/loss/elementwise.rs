//! `ElementwiseLoss`: a loss that is the mean (or sum) of one term per element, given the term.

use std::fmt;

use super::{InputGrad, Loss, Reduction, Target};
use crate::{Error, Result, TensorView};

/// The formula of an element-wise loss: for an input element x and its target y, the element's
/// loss lᵢ and its derivative ∂lᵢ/∂xᵢ. [`ElementwiseLoss`] does everything else.
///
/// ```
/// use lazarus_core::loss::{ElementwiseLoss, ElementwiseTerm, Loss, Target};
/// use ndarray::array;
/// // Mean absolute error (PyTorch's `nn.L1Loss`), with PyTorch's sign(0) = 0.
/// #[derive(Debug, Clone)]
/// struct AbsoluteError;
/// impl ElementwiseTerm for AbsoluteError {
///     const NAME: &'static str = "l1";
///     fn term(&self, x: f32, y: f32) -> (f32, f32) {
///         let d = x - y;
///         (d.abs(), if d == 0.0 { 0.0 } else { d.signum() })
///     }
/// }
/// let mut l1 = ElementwiseLoss::with_term(AbsoluteError);
/// let x = array![3.0f32, -1.0].into_dyn();
/// assert_eq!(l1.forward(x.view(), Target::Values(array![1.0f32, 0.0].into_dyn().view()))?, 1.5);
/// assert_eq!(l1.input_grad()?, array![0.5f32, -0.5].into_dyn());
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub trait ElementwiseTerm: fmt::Debug + Clone + Send {
    /// The loss's name in errors: `mse`, `huber`, ...
    const NAME: &'static str;

    /// `(lᵢ, ∂lᵢ/∂xᵢ)` for an input element `x` and its target `y`.
    fn term(&self, x: f32, y: f32) -> (f32, f32);
}

/// A loss made of one [`ElementwiseTerm`] per element of the input, against a target tensor of
/// the input's shape ([`MseLoss`](super::MseLoss), [`HuberLoss`](super::HuberLoss) and
/// [`BceWithLogitsLoss`](super::BceWithLogitsLoss) are this with their terms):
///
/// ```text
/// L      = s · Σᵢ lᵢ,      lᵢ = term(xᵢ, yᵢ)     (s = 1/n for the mean over n elements, 1 for the sum)
/// ∂L/∂xᵢ = s · ∂lᵢ/∂xᵢ
/// ```
///
/// The sum runs in f64, so a large batch does not lose the small terms.
#[derive(Debug, Clone, Default)]
pub struct ElementwiseLoss<T> {
    term: T,
    reduction: Reduction,
    grad: InputGrad,
}

impl<T: ElementwiseTerm> ElementwiseLoss<T> {
    /// The loss of `term`, with mean reduction (PyTorch's default).
    pub fn with_term(term: T) -> Self {
        Self {
            term,
            reduction: Reduction::Mean,
            grad: InputGrad::default(),
        }
    }

    /// Choose mean or sum.
    pub fn reduction(self, reduction: Reduction) -> Self {
        Self { reduction, ..self }
    }

    /// The term, with its settings (Huber's `delta`, for instance).
    pub fn term(&self) -> &T {
        &self.term
    }
}

impl<T: ElementwiseTerm> Loss for ElementwiseLoss<T> {
    fn name(&self) -> &str {
        T::NAME
    }

    fn forward(&mut self, input: TensorView<'_>, target: Target<'_>) -> Result<f32> {
        let Target::Values(target) = target else {
            return Err(Error::InvalidTarget {
                loss: T::NAME.into(),
                reason: "expected a tensor of target values, found class indices".into(),
            });
        };
        if target.shape() != input.shape() {
            return Err(Error::ShapeMismatch {
                layer: T::NAME.into(),
                expected: format!("a target of the input's shape {:?}", input.shape()),
                found: target.shape().to_vec(),
            });
        }
        let scale = self.reduction.scale(input.len());
        let mut total = 0.0f64;
        ndarray::Zip::from(self.grad.reshaped(input.raw_dim()))
            .and(&input)
            .and(&target)
            .for_each(|g, &x, &y| {
                let (l, d) = self.term.term(x, y);
                total += f64::from(l);
                *g = d * scale;
            });
        Ok((total * f64::from(scale)) as f32)
    }

    fn input_grad(&self) -> Result<TensorView<'_>> {
        self.grad.view(T::NAME)
    }
}
