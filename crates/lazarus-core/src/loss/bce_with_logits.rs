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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{GradCheck, random_input};
    use crate::loss::{Loss, Target};
    use ndarray::array;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn gradcheck_bce() {
        let mut rng = StdRng::seed_from_u64(2);
        let x = random_input(&[3, 4], &mut rng) * 3.0;
        let t = random_input(&[3, 4], &mut rng).mapv(|v| (v + 1.5) / 3.0);
        let mut loss = BceWithLogitsLoss::new();
        let r = GradCheck::default()
            .check_loss(&mut loss, &x, Target::Values(t.view()))
            .unwrap();
        assert!(r.passed(), "{r}");
    }

    #[test]
    fn matches_pytorch_and_stays_finite() {
        // torch 2.15: F.binary_cross_entropy_with_logits(torch.tensor([-100., -1., 0., 2., 100.]),
        //                 torch.tensor([1., 0., .5, 1., 0.]))  -> 40.22666549682617
        let mut loss = BceWithLogitsLoss::new();
        let x = array![-100.0f32, -1.0, 0.0, 2.0, 100.0].into_dyn();
        let t = array![1.0f32, 0.0, 0.5, 1.0, 0.0].into_dyn();
        let l = loss.forward(x.view(), Target::Values(t.view())).unwrap();
        approx::assert_relative_eq!(l, 40.226_665, max_relative = 1e-6);
        // x.grad -> [-0.2, 0.053788285702466965, 0.0, -0.02384059503674507, 0.2]
        let expected = array![-0.2f32, 0.053_788_3, 0.0, -0.023_840_6, 0.2].into_dyn();
        approx::assert_abs_diff_eq!(
            loss.input_grad().unwrap().to_owned(),
            expected,
            epsilon = 1e-6
        );
    }
}
