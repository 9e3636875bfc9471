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
