use super::{ElementwiseLoss, ElementwiseTerm};

/// Binary cross-entropy on logits, as PyTorch's `nn.BCEWithLogitsLoss()`.
///
/// For a logit x and a target probability y ∈ [0, 1], with σ the logistic sigmoid:
///
/// ```text
/// lᵢ = −[yᵢ log σ(xᵢ) + (1 − yᵢ) log(1 − σ(xᵢ))]
///    = max(xᵢ, 0) − xᵢ yᵢ + log(1 + e^(−|xᵢ|))        (the stable form computed here)
/// ∂lᵢ/∂xᵢ = σ(xᵢ) − yᵢ
/// L = mean of lᵢ (or the sum)
/// ```
///
/// When to use: binary or multi-label classification. Taking logits instead of probabilities
/// avoids log(0) and the vanishing gradient of a saturated sigmoid.
///
/// ```
/// use lazarus_core::loss::{BceWithLogitsLoss, Loss, Target};
/// use ndarray::array;
/// let mut bce = BceWithLogitsLoss::new();
/// let l = bce.forward(array![0.0f32].into_dyn().view(), Target::Values(array![1.0f32].into_dyn().view())).unwrap();
/// assert!((l - 2f32.ln()).abs() < 1e-7);
/// ```
pub type BceWithLogitsLoss = ElementwiseLoss<BceWithLogitsTerm>;

/// One element of [`BceWithLogitsLoss`] (formulas there).
#[derive(Debug, Clone, Copy, Default)]
pub struct BceWithLogitsTerm;

impl ElementwiseTerm for BceWithLogitsTerm {
    const NAME: &'static str = "bce_with_logits";

    fn term(&self, x: f32, y: f32) -> (f32, f32) {
        // e^(−|x|) never overflows; both branches of σ reuse it.
        let e = (-x.abs()).exp();
        let loss = x.max(0.0) - x * y + e.ln_1p();
        let sigmoid = if x >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        (loss, sigmoid - y)
    }
}

impl BceWithLogitsLoss {
    /// BCE with logits and mean reduction.
    pub fn new() -> Self {
        Self::with_term(BceWithLogitsTerm)
    }
}
