//! RReLU: Leaky ReLU with a random slope per element in training.

use lazarus_core::{ActivationStats, Layer, Mode, Result, SilentRegion, TensorView};
use rand::distr::{Distribution, Uniform};
use rand::{SeedableRng, rngs::StdRng};

use crate::kernels::{Elementwise, Keep};
use crate::leaky_relu::{leaky_relu, leaky_relu_grad};
use crate::settings::{finite, invalid};

/// Randomized leaky ReLU, element-wise, as PyTorch's `nn.RReLU(lower=1/8, upper=1/3)`.
///
/// ```text
/// training:   f(x) = x if x > 0, else a · x,   a ~ U(lower, upper) drawn per element and pass
/// evaluation: f(x) = x if x > 0, else ((lower + upper)/2) · x
/// f'(x) = 1 if x > 0, else the slope used (at x = 0: the slope, as in PyTorch)
/// ```
///
/// Output range `(−∞, ∞)`; unbounded above.
///
/// Negative inputs leak like [`LeakyRelu`](crate::LeakyRelu), with a slope that changes every
/// pass: a regularizer, a little like dropout on the negative side. Diagnostics count x ≤ 0 as
/// *silent*: inactive (still learning), unless lower = upper = 0, a ReLU, where it is dead
/// (definition: [`ActivationStats`]).
///
/// When to use: small data sets where Leaky ReLU overfits (Xu et al. 2015). The slopes come from
/// the layer's own RNG, seeded at construction: the same seed gives the same slopes (they do not
/// match PyTorch's generator).
///
/// ```
/// use lazarus_activations::RRelu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut layer = RRelu::with_seed(0); // lower = 1/8, upper = 1/3
/// // Evaluation: the mean slope (1/8 + 1/3)/2 = 11/48.
/// let y = layer.forward(x.view(), Mode::Eval)?.to_owned();
/// let expected = [-0.6875f32, -0.4583333, -0.2291667, 0.0, 1.0, 2.0, 3.0];
/// approx::assert_abs_diff_eq!(y.as_slice().unwrap(), &expected[..], epsilon = 1e-6);
/// // Training: a random slope in [1/8, 1/3] for each negative input.
/// let y = layer.forward(x.view(), Mode::Train)?.to_owned();
/// for (&y, &x) in y.iter().zip(x.iter()).take(3) {
///     assert!(y / x >= 1.0 / 8.0 && y / x <= 1.0 / 3.0);
/// }
/// assert_eq!(&y.as_slice().unwrap()[3..], &[0.0, 1.0, 2.0, 3.0]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "RReLU")]
#[derive(Debug, Clone)]
pub struct RRelu {
    lower: f32,
    upper: f32,
    slopes: Uniform<f32>,
    rng: StdRng,
    kernel: Elementwise,
}

impl RRelu {
    /// An RReLU drawing slopes from U(`lower`, `upper`) with an RNG seeded by `seed` (PyTorch's
    /// defaults: 1/8 and 1/3).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](lazarus_core::Error::InvalidConfig) unless
    /// `0 ≤ lower ≤ upper` and both are finite. (PyTorch also accepts a negative `lower`;
    /// lazarus does not: a negative slope would make the unit non-monotonic, and the
    /// "negative side" statistics rely on y ≤ 0 ⇔ x ≤ 0.)
    pub fn new(lower: f32, upper: f32, seed: u64) -> Result<Self> {
        let lower = finite("rrelu", "lower", lower)?;
        let upper = finite("rrelu", "upper", upper)?;
        if lower < 0.0 || lower > upper {
            return Err(invalid(
                "rrelu",
                "lower/upper",
                format!(
                    "need 0 <= lower <= upper, found lower={}, upper={}",
                    lazarus_core::Num(lower),
                    lazarus_core::Num(upper)
                ),
            ));
        }
        let slopes = Uniform::new_inclusive(lower, upper)
            .map_err(|e| invalid("rrelu", "lower/upper", e.to_string()))?;
        Ok(Self {
            lower,
            upper,
            slopes,
            rng: StdRng::seed_from_u64(seed),
            kernel: Elementwise::new("rrelu"),
        })
    }

    /// PyTorch's defaults (lower = 1/8, upper = 1/3) with an RNG seeded by `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self::new(1.0 / 8.0, 1.0 / 3.0, seed).expect("1/8 and 1/3 are valid bounds")
    }

    /// The smallest slope.
    pub fn lower(&self) -> f32 {
        self.lower
    }

    /// The largest slope.
    pub fn upper(&self) -> f32 {
        self.upper
    }

    /// The slope used in evaluation mode: `(lower + upper) / 2`.
    pub fn eval_slope(&self) -> f32 {
        (self.lower + self.upper) / 2.0
    }
}

impl Layer for RRelu {
    fn name(&self) -> &str {
        "rrelu"
    }

    fn describe(&self) -> String {
        format!("RReLU(lower={:?}, upper={:?})", self.lower, self.upper)
    }

    /// Evaluation: `y = rrelu(x, (lower + upper)/2)`. Training: for each element in order (as
    /// PyTorch draws), a slope `a ~ U(lower, upper)` where x ≤ 0, `y = rrelu(x, a)`, and the
    /// derivative `rrelu_grad(x, a)` is kept for backward (with y, for the statistics).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        match mode {
            Mode::Eval | Mode::Probe => {
                let slope = self.eval_slope();
                self.kernel
                    .forward(x, mode, Keep::Output, move |x| rrelu(x, slope))
            }
            Mode::Train => {
                let (rng, slopes) = (&mut self.rng, &self.slopes);
                // Not vectorized: one RNG draw per input ≤ 0, in order. The derivative d kept
                // for backward is 1 or the slope, and y = rrelu(x, d) (= x where d = 1).
                let mut draw = |x: f32| if x > 0.0 { 1.0 } else { slopes.sample(rng) };
                self.kernel
                    .forward_drawn(x, |x| rrelu_grad(x, draw(x)), rrelu)
            }
        }
    }

    /// `dL/dx = rrelu'(x) · dL/dy`, with the derivative kept by the training forward (1, or
    /// the slope drawn).
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        self.kernel.backward_drawn(grad_output)
    }

    /// Counts, per unit, the inputs on the leaky side: with slopes ≥ 0, y ≤ 0 exactly when
    /// x ≤ 0, so the kept output tells it.
    fn activation_stats(&self) -> Option<ActivationStats> {
        // Every drawn slope is 0 only when lower = upper = 0: then it is a ReLU.
        let silent = SilentRegion {
            contains: |y: f32| y <= 0.0,
            derivative_zero: self.lower == 0.0 && self.upper == 0.0,
        };
        self.kernel.stats(|y| y, Some(silent))
    }
}

/// RReLU with a given slope (drawn from U(lower, upper) in training, (lower + upper)/2 in
/// evaluation): the same function as [`leaky_relu`].
///
/// ```
/// use lazarus_activations::functional::rrelu;
/// assert_eq!(rrelu(-2.0, 0.25), -0.5);
/// ```
#[inline(always)]
pub fn rrelu(x: f32, slope: f32) -> f32 {
    leaky_relu(x, slope)
}

/// dRReLU/dx for a given slope: 1 for x > 0, else the slope (at x = 0: the slope).
///
/// ```
/// use lazarus_activations::functional::rrelu_grad;
/// assert_eq!(rrelu_grad(0.0, 0.25), 0.25);
/// ```
#[inline(always)]
pub fn rrelu_grad(x: f32, slope: f32) -> f32 {
    leaky_relu_grad(x, slope)
}

/// Reference forward, in plain ndarray, for one slope (the evaluation slope, or a training pass
/// with `lower == upper`): RReLU with one slope is Leaky ReLU, so this is
/// [`leaky_relu_forward`](crate::reference::leaky_relu_forward).
pub use crate::leaky_relu::leaky_relu_forward as rrelu_forward;

/// Reference backward, in plain ndarray, for one slope: `dL/dx = dL/dy` where x > 0, else
/// `slope · dL/dy`, which is [`leaky_relu_backward`](crate::reference::leaky_relu_backward).
pub use crate::leaky_relu::leaky_relu_backward as rrelu_backward;
