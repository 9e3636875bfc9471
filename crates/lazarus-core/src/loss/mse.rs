use super::{ElementwiseLoss, ElementwiseTerm};

/// Mean squared error, as PyTorch's `nn.MSELoss()`.
///
/// ```text
/// L = (1/n) Σᵢ (xᵢ − yᵢ)²          (n = number of elements; Σ only with Reduction::Sum)
/// ∂L/∂xᵢ = 2 (xᵢ − yᵢ) / n
/// ```
///
/// When to use: regression. Large errors dominate (the gradient grows with the error); prefer
/// [`HuberLoss`](super::HuberLoss) when outliers would blow up the gradient.
///
/// ```
/// use lazarus_core::loss::{Loss, MseLoss, Target};
/// use ndarray::array;
/// let mut mse = MseLoss::new();
/// let l = mse.forward(array![3.0f32, 0.0].view().into_dyn(), Target::Values(array![1.0f32, 0.0].view().into_dyn())).unwrap();
/// assert_eq!(l, 2.0); // (2² + 0²) / 2
/// ```
pub type MseLoss = ElementwiseLoss<MseTerm>;

/// One element of [`MseLoss`]: lᵢ = (xᵢ − yᵢ)², ∂lᵢ/∂xᵢ = 2 (xᵢ − yᵢ).
#[derive(Debug, Clone, Copy, Default)]
pub struct MseTerm;

impl ElementwiseTerm for MseTerm {
    const NAME: &'static str = "mse";

    fn term(&self, x: f32, y: f32) -> (f32, f32) {
        let d = x - y;
        (d * d, 2.0 * d)
    }
}

impl MseLoss {
    /// MSE with mean reduction.
    pub fn new() -> Self {
        Self::with_term(MseTerm)
    }
}
