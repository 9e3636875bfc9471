use super::{ElementwiseLoss, ElementwiseTerm, check_setting};
use crate::Result;

/// Huber loss, as PyTorch's `nn.HuberLoss(delta=1.0)`: quadratic near the target, linear far away.
///
/// ```text
/// dᵢ = xᵢ − yᵢ
/// lᵢ = ½ dᵢ²              if |dᵢ| < δ
///    = δ (|dᵢ| − ½ δ)      otherwise
/// ∂lᵢ/∂xᵢ = dᵢ if |dᵢ| ≤ δ, else δ · sign(dᵢ)      (the two agree at |dᵢ| = δ)
/// L = mean of lᵢ (or the sum)
/// ```
///
/// When to use: regression with outliers. The gradient is capped at δ, so a single wild target
/// cannot produce an exploding update, unlike [`MseLoss`](super::MseLoss).
///
/// ```
/// use lazarus_core::loss::{HuberLoss, Loss, Target};
/// use ndarray::array;
/// let mut huber = HuberLoss::new(1.0).unwrap();
/// let x = array![0.5f32, 3.0].into_dyn();
/// let l = huber.forward(x.view(), Target::Values(array![0.0f32, 0.0].into_dyn().view())).unwrap();
/// assert_eq!(l, (0.125 + 2.5) / 2.0);
/// ```
pub type HuberLoss = ElementwiseLoss<HuberTerm>;

/// One element of [`HuberLoss`], with its threshold δ (formulas there).
#[derive(Debug, Clone, Copy)]
pub struct HuberTerm {
    delta: f32,
}

impl ElementwiseTerm for HuberTerm {
    const NAME: &'static str = "huber";

    fn term(&self, x: f32, y: f32) -> (f32, f32) {
        let (d, delta) = (x - y, self.delta);
        if d.abs() < delta {
            (0.5 * d * d, d)
        } else {
            (delta * (d.abs() - 0.5 * delta), delta * d.signum())
        }
    }
}

impl HuberLoss {
    /// Huber loss with threshold `delta` (PyTorch's default is 1.0) and mean reduction.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `delta` is finite and
    /// positive.
    pub fn new(delta: f32) -> Result<Self> {
        let valid = delta.is_finite() && delta > 0.0;
        let delta = check_setting("huber", "delta", delta, valid, "finite and positive")?;
        Ok(Self::with_term(HuberTerm { delta }))
    }

    /// The threshold δ.
    pub fn delta(&self) -> f32 {
        self.term().delta
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::gradcheck::{GradCheck, random_input};
    use crate::loss::{Loss, Target};
    use ndarray::array;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn gradcheck_huber_both_regions() {
        let mut rng = StdRng::seed_from_u64(1);
        let x = random_input(&[4, 5], &mut rng) * 2.0;
        let t = random_input(&[4, 5], &mut rng);
        let mut loss = HuberLoss::new(0.7).unwrap();
        let r = GradCheck::default()
            .check_loss(&mut loss, &x, Target::Values(t.view()))
            .unwrap();
        assert!(r.passed(), "{r}");
    }

    #[test]
    fn matches_pytorch() {
        // torch 2.15: F.huber_loss(torch.tensor([-2., .3, 1.5]), torch.zeros(3), delta=1.0)
        //   -> 0.8483333587646484; x.grad -> [-0.3333333432674408, 0.10000000894069672, 0.3333333432674408]
        let mut loss = HuberLoss::new(1.0).unwrap();
        let x = array![-2.0f32, 0.3, 1.5].into_dyn();
        let l = loss
            .forward(
                x.view(),
                Target::Values(array![0.0f32, 0.0, 0.0].into_dyn().view()),
            )
            .unwrap();
        approx::assert_abs_diff_eq!(l, 0.848_333_3, epsilon = 1e-6);
        let expected = array![-1.0f32 / 3.0, 0.1, 1.0 / 3.0].into_dyn();
        approx::assert_abs_diff_eq!(
            loss.input_grad().unwrap().to_owned(),
            expected,
            epsilon = 1e-6
        );
        assert!(matches!(
            HuberLoss::new(0.0),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
