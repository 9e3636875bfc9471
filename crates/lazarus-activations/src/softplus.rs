//! Softplus: a smooth ReLU, log(1 + eˣ).

use lazarus_core::Result;

use crate::elementwise::{Elementwise, Pointwise, Saved, elementwise_layer, finite, invalid};
use crate::sigmoid::sigmoid;

/// Softplus, element-wise, as PyTorch's `nn.Softplus(beta=1.0, threshold=20.0)`.
///
/// ```text
/// f(x)  = log(1 + e^(beta·x)) / beta        if beta·x ≤ threshold
///       = x                                  if beta·x > threshold (linear, for numerical stability)
/// f'(x) = σ(beta·x) = 1 / (1 + e^(−beta·x))  if beta·x ≤ threshold, else 1
/// ```
///
/// Output range `(0, ∞)`: a smooth ReLU, unbounded above. At the threshold the two pieces
/// differ by less than e^(−threshold) (2e-9 for the default), below f32 resolution.
///
/// Negative inputs keep a small positive gradient σ(beta·x) that fades for very negative x; it
/// never becomes exactly zero for moderate inputs, so diagnostics report no dead region.
/// Larger beta makes it closer to ReLU.
///
/// When to use: where an output must be positive and smooth (a variance, a rate), rarely as a
/// hidden activation (slower than ReLU, no better in practice).
///
/// ```
/// use lazarus_activations::Softplus;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = Softplus::default(); // beta = 1, threshold = 20
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// let expected = [0.04858735f32, 0.126928, 0.3132617, 0.6931472, 1.313262, 2.126928, 3.048587];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// let dx = layer.backward(Tensor::ones(vec![7]).view())?.to_owned();
/// let expected = [0.04742587f32, 0.1192029, 0.2689414, 0.5, 0.7310586, 0.8807971, 0.9525741];
/// approx::assert_abs_diff_eq!(dx.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Softplus {
    inner: Elementwise<SoftplusFn>,
}

impl Softplus {
    /// A Softplus with the given `beta` and `threshold` (PyTorch's defaults: 1 and 20).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) unless `beta > 0` and both
    /// are finite (PyTorch divides by beta).
    pub fn new(beta: f32, threshold: f32) -> Result<Self> {
        let beta = finite("softplus", "beta", beta)?;
        let threshold = finite("softplus", "threshold", threshold)?;
        if beta <= 0.0 {
            return Err(invalid(
                "softplus",
                "beta",
                format!("must be positive, found {}", lazarus_core::Num(beta)),
            ));
        }
        Ok(Self {
            inner: Elementwise::new(SoftplusFn { beta, threshold }),
        })
    }

    /// The sharpness.
    pub fn beta(&self) -> f32 {
        self.inner.f.beta
    }

    /// Above `beta·x > threshold` the function is the identity.
    pub fn threshold(&self) -> f32 {
        self.inner.f.threshold
    }
}

impl Default for Softplus {
    /// `beta = 1`, `threshold = 20`, PyTorch's defaults.
    fn default() -> Self {
        Self {
            inner: Elementwise::new(SoftplusFn {
                beta: 1.0,
                threshold: 20.0,
            }),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SoftplusFn {
    beta: f32,
    threshold: f32,
}

impl Pointwise for SoftplusFn {
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn describe(&self) -> String {
        format!(
            "Softplus(beta={:?}, threshold={:?})",
            self.beta, self.threshold
        )
    }
    fn saved(&self) -> Saved {
        Saved::Input
    }
    #[inline(always)]
    fn value(&self, x: f32) -> f32 {
        softplus(x, self.beta, self.threshold)
    }
    #[inline(always)]
    fn derivative(&self, x: f32) -> f32 {
        softplus_grad(x, self.beta, self.threshold)
    }
}

elementwise_layer!(Softplus);

/// Softplus: `log(1 + e^(beta·x)) / beta`, or `x` where `beta·x > threshold`.
///
/// ```
/// use lazarus_activations::functional::softplus;
/// assert!((softplus(0.0, 1.0, 20.0) - std::f32::consts::LN_2).abs() < 1e-7);
/// assert_eq!(softplus(100.0, 1.0, 20.0), 100.0); // no overflow
/// ```
#[inline(always)]
pub fn softplus(x: f32, beta: f32, threshold: f32) -> f32 {
    let scaled = x * beta;
    if scaled > threshold {
        x
    } else {
        scaled.exp().ln_1p() / beta
    }
}

/// dSoftplus/dx: `σ(beta·x)` where `beta·x ≤ threshold`, else 1 (PyTorch's convention at the
/// threshold: the smooth piece).
///
/// ```
/// use lazarus_activations::functional::softplus_grad;
/// assert_eq!(softplus_grad(0.0, 1.0, 20.0), 0.5);
/// assert_eq!(softplus_grad(21.0, 1.0, 20.0), 1.0);
/// ```
#[inline(always)]
pub fn softplus_grad(x: f32, beta: f32, threshold: f32) -> f32 {
    let scaled = x * beta;
    // PyTorch writes z/(z + 1) with z = e^(beta·x); σ(beta·x) is the same number without the
    // ∞/∞ that z/(z + 1) gives when a large threshold lets z overflow.
    if scaled > threshold {
        1.0
    } else {
        sigmoid(scaled)
    }
}
