//! Softplus: a smooth ReLU, log(1 + eˣ).

use lazarus_core::{ActivationStats, Layer, Mode, Result, Tensor, TensorView};

use crate::chain::chain_rule;
use crate::kernels::{Elementwise, Keep, NOT_SILENT};
use crate::settings::{finite, invalid};
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
    beta: f32,
    threshold: f32,
    kernel: Elementwise,
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
            beta,
            threshold,
            kernel: Elementwise::new("softplus"),
        })
    }

    /// The sharpness.
    pub fn beta(&self) -> f32 {
        self.beta
    }

    /// Above `beta·x > threshold` the function is the identity.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }
}

impl Default for Softplus {
    /// `beta = 1`, `threshold = 20`, PyTorch's defaults.
    fn default() -> Self {
        Self::new(1.0, 20.0).expect("1 and 20 are valid")
    }
}

impl Layer for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }

    fn describe(&self) -> String {
        format!(
            "Softplus(beta={:?}, threshold={:?})",
            self.beta, self.threshold
        )
    }

    /// `y = softplus(x, beta, threshold)`, keeping x.
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let (beta, threshold) = (self.beta, self.threshold);
        self.kernel
            .forward(x, mode, Keep::Input, move |x| softplus(x, beta, threshold))
    }

    /// `dL/dx = σ(beta·x) · dL/dy` (or dL/dy above the threshold).
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let (beta, threshold) = (self.beta, self.threshold);
        self.kernel
            .backward(grad_output, move |x| softplus_grad(x, beta, threshold))
    }

    /// No silent region (no exactly zero derivative): only the output moments.
    fn activation_stats(&self) -> Option<ActivationStats> {
        let (beta, threshold) = (self.beta, self.threshold);
        self.kernel
            .stats(move |x| softplus(x, beta, threshold), NOT_SILENT)
    }
}

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

/// Reference forward, in plain ndarray: `y = softplus(x, beta, threshold)` element by element.
pub fn softplus_forward(x: TensorView<'_>, beta: f32, threshold: f32) -> Tensor {
    x.mapv(|x| softplus(x, beta, threshold))
}

/// Reference backward, in plain ndarray: `dL/dx = σ(beta·x) · dL/dy` where
/// `beta·x ≤ threshold`, else dL/dy.
///
/// # Errors
/// `ShapeMismatch` if `grad_output`'s shape is not `x`'s.
pub fn softplus_backward(
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    beta: f32,
    threshold: f32,
) -> Result<Tensor> {
    chain_rule("softplus", x, grad_output, |x| {
        softplus_grad(x, beta, threshold)
    })
}
