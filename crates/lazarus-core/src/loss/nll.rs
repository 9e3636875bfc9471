use ndarray::Ix2;

use super::{InputGrad, Loss, Reduction, Target, check_classes, check_setting};
use crate::{Error, Result, TensorView, as_matrix};

/// Negative log-likelihood on log-probabilities, as PyTorch's `nn.NLLLoss(weight=None,
/// ignore_index=-100, reduction='mean')`.
///
/// Input: log-probabilities x of shape `[batch, classes]` (the output of a
/// [`LogSoftmax`](crate::LogSoftmax) layer). Target: one class index tᵢ per sample. With class
/// weights w (all 1 unless set) and S the samples whose target is not `ignore_index`:
///
/// ```text
/// ℓᵢ          = −w[tᵢ] · x[i, tᵢ]
/// L           = Σ_{i∈S} ℓᵢ / Σ_{i∈S} w[tᵢ]        (mean: a weighted mean, divided by the
///                                                  counted weights, not by the batch size)
/// L           = Σ_{i∈S} ℓᵢ                         (sum)
/// ∂L/∂x[i, c] = −w[tᵢ] / Σ_{j∈S} w[tⱼ]             if c = tᵢ and i ∈ S (−w[tᵢ] for the sum),
///             = 0                                  otherwise
/// ```
///
/// Ignored samples add neither to the sum nor to the divisor. A mean over nothing (every
/// target ignored, or the counted weights summing to 0) is an [`Error::InvalidTarget`] where
/// PyTorch returns NaN. `NllLoss` on `LogSoftmax(z)` equals
/// [`CrossEntropyLoss`](super::CrossEntropyLoss) on `z`.
///
/// When to use: after a `LogSoftmax` layer, as in PyTorch's MNIST example. Class weights
/// counter an imbalanced data set (a class with weight 5 counts like 5 samples);
/// `ignore_index` skips samples without a label.
///
/// ```
/// use lazarus_core::loss::{Loss, NllLoss, Target};
/// use ndarray::array;
/// let log_p = array![[-0.1f32, -2.5], [-1.2, -0.4], [-0.7, -0.7]].into_dyn();
/// let mut nll = NllLoss::new().weight(vec![1.0, 3.0])?.ignore_index(7);
/// // Samples 0 (class 0, weight 1) and 1 (class 1, weight 3) count; sample 2 is ignored.
/// let l = nll.forward(log_p.view(), Target::Classes(&[0, 1, 7]))?;
/// assert!((l - (0.1 + 3.0 * 0.4) / 4.0).abs() < 1e-6);
/// assert_eq!(nll.input_grad()?[[1, 1]], -0.75);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "NLLLoss")]
#[derive(Debug, Clone, Default)]
pub struct NllLoss {
    /// One weight per class; `None` = all 1.
    weight: Option<Vec<f32>>,
    ignore_index: Option<usize>,
    reduction: Reduction,
    grad: InputGrad,
}

impl NllLoss {
    /// Mean reduction, no class weights, no ignored index (PyTorch's defaults; its
    /// `ignore_index=-100` never matches a class).
    pub fn new() -> Self {
        Self::default()
    }

    /// One weight per class (PyTorch's `weight`): class c's samples count w\[c\] times, in the
    /// loss and in the mean's divisor.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if a weight is not finite. (The count is checked against the
    /// input's classes in [`forward`](Loss::forward).)
    pub fn weight(self, weight: impl Into<Vec<f32>>) -> Result<Self> {
        let weight = weight.into();
        for &w in &weight {
            check_setting("nll_loss", "weight", w, w.is_finite(), "finite")?;
        }
        Ok(Self {
            weight: Some(weight),
            ..self
        })
    }

    /// Skip samples whose target is `ignore_index`: no loss, no gradient, not in the mean's
    /// divisor. It need not be a valid class (255 for unlabeled pixels is common).
    pub fn ignore_index(self, ignore_index: usize) -> Self {
        Self {
            ignore_index: Some(ignore_index),
            ..self
        }
    }

    /// Choose mean or sum.
    pub fn reduction(self, reduction: Reduction) -> Self {
        Self { reduction, ..self }
    }
}

impl Loss for NllLoss {
    fn name(&self) -> &str {
        "nll_loss"
    }

    fn forward(&mut self, input: TensorView<'_>, target: Target<'_>) -> Result<f32> {
        let x = as_matrix(input, "nll_loss", None)?;
        let (batch, classes) = x.dim();
        let Target::Classes(targets) = target else {
            return Err(Error::InvalidTarget {
                loss: "nll_loss".into(),
                reason: "expected class indices, found a tensor of values".into(),
            });
        };
        check_classes("nll_loss", targets, batch, classes, self.ignore_index)?;
        if let Some(w) = self.weight.as_ref().filter(|w| w.len() != classes) {
            return Err(Error::ShapeMismatch {
                layer: "nll_loss".into(),
                expected: format!(
                    "{} class weights for an input of {classes} classes",
                    w.len()
                ),
                found: x.shape().to_vec(),
            });
        }
        let weight = |c: usize| self.weight.as_ref().map_or(1.0, |w| w[c]);
        let counted = targets
            .iter()
            .enumerate()
            .filter(|&(_, &c)| Some(c) != self.ignore_index);
        // Σ ℓᵢ = −Σ w[tᵢ]·x[i, tᵢ] and the divisor Σ w[tᵢ], over the counted samples.
        let (mut total, mut weight_sum) = (0.0f64, 0.0f32);
        for (i, &c) in counted.clone() {
            total -= f64::from(weight(c) * x[(i, c)]);
            weight_sum += weight(c);
        }
        let divisor = match self.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean if weight_sum != 0.0 => weight_sum,
            Reduction::Mean => {
                let ignored = batch - counted.count();
                return Err(Error::InvalidTarget {
                    loss: "nll_loss".into(),
                    reason: format!(
                        "the mean is over nothing ({ignored} of {batch} targets ignored, the \
                         others' class weights sum to 0); PyTorch returns NaN"
                    ),
                });
            }
        };
        let grad = self.grad.reshaped(ndarray::IxDyn(&[batch, classes]));
        grad.fill(0.0);
        let mut grad = grad
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("[batch, classes]");
        for (i, &c) in counted {
            // ∂L/∂x[i, tᵢ] = −w[tᵢ] / divisor; every other entry of the row is 0.
            grad[(i, c)] = -weight(c) / divisor;
        }
        Ok((total / f64::from(divisor)) as f32)
    }

    fn input_grad(&self) -> Result<TensorView<'_>> {
        self.grad.view("nll_loss")
    }
}
