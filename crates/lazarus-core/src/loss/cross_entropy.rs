use ndarray::{Axis, Ix2};

use super::{InputGrad, Loss, Reduction, Target, check_classes, check_setting};
use crate::{Error, Result, TensorView, as_matrix};

/// Softmax cross-entropy on logits, as PyTorch's `nn.CrossEntropyLoss(label_smoothing=ε)`.
///
/// Input: logits z of shape `[batch, classes]`. Target: a class index per sample, or a
/// probability row per sample (`[batch, classes]`). With C classes and the smoothed target
/// q = (1 − ε)·onehot(t) + ε/C:
///
/// ```text
/// log pᵢ = zᵢ − log Σⱼ e^(zⱼ)                  (log-softmax; computed with the max subtracted
///                                               first, so e^z never overflows)
/// ℓ      = −Σᵢ qᵢ log pᵢ                        (one sample)
/// ∂ℓ/∂zᵢ = pᵢ · Σⱼ qⱼ − qᵢ                      (= pᵢ − qᵢ, since q sums to 1)
/// L      = mean of ℓ over the batch (or the sum)
/// ```
///
/// When to use: single-label classification. Feed it raw scores (no softmax layer before it):
/// the fused formula is stable where log(softmax(z)) is not.
///
/// ```
/// use lazarus_core::loss::{CrossEntropyLoss, Loss, Target};
/// use ndarray::array;
/// let mut ce = CrossEntropyLoss::new();
/// let logits = array![[0.0f32, 0.0], [10.0, -10.0]].into_dyn();
/// let l = ce.forward(logits.view(), Target::Classes(&[1, 0])).unwrap();
/// assert!((l - 2f32.ln() / 2.0).abs() < 1e-6); // sample 0: log 2; sample 1: ~0
/// ```
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyLoss {
    label_smoothing: f32,
    reduction: Reduction,
    grad: InputGrad,
}

impl CrossEntropyLoss {
    /// Cross-entropy with mean reduction and no label smoothing (PyTorch's defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// Label smoothing ε: the target puts 1 − ε on the true class and spreads ε evenly over all
    /// classes. Discourages over-confident logits.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless 0 ≤ ε ≤ 1.
    pub fn label_smoothing(self, epsilon: f32) -> Result<Self> {
        let valid = (0.0..=1.0).contains(&epsilon);
        let label_smoothing = check_setting(
            "cross_entropy",
            "label_smoothing",
            epsilon,
            valid,
            "in [0, 1]",
        )?;
        Ok(Self {
            label_smoothing,
            ..self
        })
    }

    /// Choose mean or sum.
    pub fn reduction(self, reduction: Reduction) -> Self {
        Self { reduction, ..self }
    }
}

impl Loss for CrossEntropyLoss {
    fn name(&self) -> &str {
        "cross_entropy"
    }

    fn forward(&mut self, input: TensorView<'_>, target: Target<'_>) -> Result<f32> {
        let logits = as_matrix(input, "cross_entropy", None)?;
        let (batch, classes) = logits.dim();
        // Exactly one of the two is Some: hard class labels, or a probability row per sample.
        let (labels, probabilities) = match target {
            Target::Classes(t) => {
                check_classes("cross_entropy", t, batch, classes, None)?;
                (Some(t), None)
            }
            Target::Values(p) => {
                let found = p.shape().to_vec();
                let p = p
                    .into_dimensionality::<Ix2>()
                    .ok()
                    .filter(|p| p.dim() == (batch, classes));
                let p = p.ok_or_else(|| Error::ShapeMismatch {
                    layer: "cross_entropy".into(),
                    expected: format!("target probabilities of shape [{batch}, {classes}]"),
                    found,
                })?;
                (None, Some(p))
            }
        };
        let eps = self.label_smoothing;
        let uniform = eps / classes as f32;
        // The mean is over samples, not over the batch × classes logits.
        let scale = self.reduction.scale(batch);
        let mut grad = self
            .grad
            .reshaped(ndarray::IxDyn(&[batch, classes]))
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("the buffer was just shaped [batch, classes]");
        let mut total = 0.0f64;
        for (n, (z, mut g)) in logits
            .outer_iter()
            .zip(grad.axis_iter_mut(Axis(0)))
            .enumerate()
        {
            // Smoothed target q for this sample, as a function of the class.
            let q = |i: usize| -> f32 {
                let hard = match (labels, &probabilities) {
                    (Some(t), _) => f32::from(u8::from(t[n] == i)),
                    (None, Some(p)) => p[(n, i)],
                    (None, None) => unreachable!("the target match above sets one of the two"),
                };
                (1.0 - eps) * hard + uniform
            };
            let max = z.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            // e^(zᵢ − max), kept in the gradient row: one exp per logit, reused for pᵢ below.
            let mut sum_exp = 0.0f32;
            for (&zi, gi) in z.iter().zip(g.iter_mut()) {
                *gi = (zi - max).exp();
                sum_exp += *gi;
            }
            let log_sum_exp = max + sum_exp.ln();
            let q_total: f32 = (0..classes).map(q).sum();
            let mut sample_loss = 0.0f64;
            for (i, (&zi, gi)) in z.iter().zip(g.iter_mut()).enumerate() {
                let log_p = zi - log_sum_exp;
                let qi = q(i);
                sample_loss -= f64::from(qi * log_p);
                // ∂ℓ/∂zᵢ = pᵢ Σq − qᵢ, with pᵢ = e^(zᵢ − max) / Σⱼ e^(zⱼ − max)
                *gi = (*gi / sum_exp * q_total - qi) * scale;
            }
            total += sample_loss;
        }
        Ok((total * f64::from(scale)) as f32)
    }

    fn input_grad(&self) -> Result<TensorView<'_>> {
        self.grad.view("cross_entropy")
    }
}
