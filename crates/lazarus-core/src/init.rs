//! Weight initializers, as in `torch.nn.init`, each with an explicit RNG.
//!
//! Why initialization matters for the dying-ReLU story: ReLU zeroes half of its inputs, so each
//! layer halves the variance of the signal unless the weights make up for it. Xavier/Glorot
//! keeps the variance for linear or tanh-like units; He/Kaiming multiplies by the gain √2 so that
//! a deep ReLU network neither shrinks its signal to nothing nor blows it up (He et al. 2015).
//!
//! Fans follow PyTorch's `_calculate_fan_in_and_fan_out`: for a weight of shape
//! `[out, in, k1, k2, ...]`, `fan_in = in · k1 · k2 ...` and `fan_out = out · k1 · k2 ...`.

use ndarray_rand::RandomExt;
use ndarray_rand::rand_distr::{Normal, Uniform};
use rand::Rng;

use crate::{Error, Result, Tensor};

/// The non-linearity that follows a layer, for [`calculate_gain`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// No non-linearity (also PyTorch's `conv1d`/`conv2d`/`conv3d`/`identity`): gain 1.
    Linear,
    /// Logistic sigmoid: gain 1.
    Sigmoid,
    /// Hyperbolic tangent: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with the given negative slope (PyTorch's `param`; `None` means 0.01):
    /// gain √(2 / (1 + slope²)).
    LeakyRelu(Option<f32>),
    /// SELU: gain 3/4 (but see [`lecun_normal`]: self-normalizing networks want gain 1).
    Selu,
}

/// Which fan keeps the variance: `FanIn` preserves it in the forward pass, `FanOut` in the
/// backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// Number of inputs of each output unit (PyTorch's default).
    FanIn,
    /// Number of outputs each input unit feeds.
    FanOut,
}

/// The recommended gain for a non-linearity, PyTorch's `calculate_gain` table.
///
/// ```
/// use lazarus_core::init::{calculate_gain, Nonlinearity};
/// assert_eq!(calculate_gain(Nonlinearity::Relu), 2f32.sqrt());
/// assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
/// // PyTorch's default leaky slope is 0.01, so the gain is a hair below √2.
/// assert!((calculate_gain(Nonlinearity::LeakyRelu(None)) - (2.0f32 / 1.0001).sqrt()).abs() < 1e-7);
/// ```
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f32 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f32.sqrt(),
        Nonlinearity::LeakyRelu(slope) => {
            let a = slope.unwrap_or(0.01);
            (2.0 / (1.0 + a * a)).sqrt()
        }
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight tensor of shape `[out, in, kernel...]`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions (no fan is defined).
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::ShapeMismatch {
            layer: "init".into(),
            expected: "a tensor with at least 2 dimensions [out, in, ...]".into(),
            found: shape.to_vec(),
        });
    }
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

fn fan(shape: &[usize], mode: FanMode) -> Result<usize> {
    let (fan_in, fan_out) = fans(shape)?;
    let n = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    if n == 0 {
        return Err(Error::ShapeMismatch {
            layer: "init".into(),
            expected: "a non-empty weight tensor".into(),
            found: shape.to_vec(),
        });
    }
    Ok(n)
}

/// The standard deviation [`kaiming_normal`] draws with, He et al.'s `gain / √fan`: it keeps
/// the variance of the signal (fan = fan_in) or of the gradient (fan = fan_out) from layer to
/// layer. Print it to see what an init will draw.
///
/// # Errors
/// [`Error::InvalidConfig`] if `fan` is 0.
///
/// ```
/// use lazarus_core::init::{calculate_gain, kaiming_normal_std, Nonlinearity};
/// // PyTorch: nn.init.calculate_gain('relu') / math.sqrt(784)  -> 0.050507627227610534
/// let std = kaiming_normal_std(784, calculate_gain(Nonlinearity::Relu))?;
/// assert!((std - 0.050_507_627).abs() < 1e-8);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn kaiming_normal_std(fan: usize, gain: f32) -> Result<f32> {
    Ok(gain / (positive("fan", fan)? as f32).sqrt())
}

/// The bound b of the U(-b, b) that [`kaiming_uniform`] draws from: `√3 · gain / √fan`
/// (U(-b, b) has standard deviation b/√3, so this is [`kaiming_normal_std`] times √3).
///
/// # Errors
/// [`Error::InvalidConfig`] if `fan` is 0.
///
/// ```
/// use lazarus_core::init::{calculate_gain, kaiming_uniform_bound, Nonlinearity};
/// // PyTorch: math.sqrt(3) * nn.init.calculate_gain('relu') / math.sqrt(784)
/// //   -> 0.08748177652797065
/// let bound = kaiming_uniform_bound(784, calculate_gain(Nonlinearity::Relu))?;
/// assert!((bound - 0.087_481_776).abs() < 1e-8);
/// // nn.Linear's default init, kaiming_uniform_(a=√5): bound 1/√fan_in.
/// let linear = kaiming_uniform_bound(784, calculate_gain(Nonlinearity::LeakyRelu(Some(5f32.sqrt()))))?;
/// assert!((linear - 1.0 / 28.0).abs() < 1e-8);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn kaiming_uniform_bound(fan: usize, gain: f32) -> Result<f32> {
    Ok(3f32.sqrt() * kaiming_normal_std(fan, gain)?)
}

/// The standard deviation [`xavier_normal`] draws with: `gain · √(2 / (fan_in + fan_out))`.
///
/// # Errors
/// [`Error::InvalidConfig`] if both fans are 0.
///
/// ```
/// use lazarus_core::init::xavier_normal_std;
/// // PyTorch: 1.0 * math.sqrt(2.0 / (784 + 256))  -> 0.04385290096535146
/// assert!((xavier_normal_std(784, 256, 1.0)? - 0.043_852_9).abs() < 1e-8);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn xavier_normal_std(fan_in: usize, fan_out: usize, gain: f32) -> Result<f32> {
    Ok(gain * (2.0 / positive("fan_in + fan_out", fan_in + fan_out)? as f32).sqrt())
}

/// The bound b of the U(-b, b) that [`xavier_uniform`] draws from:
/// `gain · √(6 / (fan_in + fan_out))`.
///
/// # Errors
/// [`Error::InvalidConfig`] if both fans are 0.
///
/// ```
/// use lazarus_core::init::xavier_uniform_bound;
/// // PyTorch: 1.0 * math.sqrt(6.0 / (784 + 256))  -> 0.075955452531275
/// assert!((xavier_uniform_bound(784, 256, 1.0)? - 0.075_955_45).abs() < 1e-8);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn xavier_uniform_bound(fan_in: usize, fan_out: usize, gain: f32) -> Result<f32> {
    Ok(gain * (6.0 / positive("fan_in + fan_out", fan_in + fan_out)? as f32).sqrt())
}

/// The standard deviation [`lecun_normal`] draws with: `1 / √fan_in`
/// (= [`kaiming_normal_std`] with gain 1).
///
/// # Errors
/// [`Error::InvalidConfig`] if `fan_in` is 0.
///
/// ```
/// use lazarus_core::init::lecun_normal_std;
/// assert_eq!(lecun_normal_std(784)?, 1.0 / 28.0);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn lecun_normal_std(fan_in: usize) -> Result<f32> {
    kaiming_normal_std(fan_in, 1.0)
}

/// `fan` if it is positive, else [`Error::InvalidConfig`] naming it.
fn positive(what: &str, fan: usize) -> Result<usize> {
    if fan > 0 {
        Ok(fan)
    } else {
        Err(Error::InvalidConfig {
            layer: "init".into(),
            parameter: what.into(),
            reason: "must be positive, found 0".into(),
        })
    }
}

/// Fill `tensor` with U(-bound, bound).
///
/// # Errors
/// [`Error::InvalidConfig`] if `bound` is negative or not finite.
pub fn uniform_symmetric(tensor: &mut Tensor, bound: f32, rng: &mut impl Rng) -> Result<()> {
    uniform(tensor, -bound, bound, rng)
}

/// Fill `tensor` with U(low, high), like `torch.nn.init.uniform_`.
///
/// # Errors
/// [`Error::InvalidConfig`] unless `low <= high` and both and their difference are finite.
pub fn uniform(tensor: &mut Tensor, low: f32, high: f32, rng: &mut impl Rng) -> Result<()> {
    // The sampler scales by `high - low`, so that difference must be finite too.
    if !(low <= high && (high - low).is_finite()) {
        return Err(Error::InvalidConfig {
            layer: "init::uniform".into(),
            parameter: "bounds".into(),
            reason: format!(
                "need low <= high with a finite high - low, found [{}, {}]",
                crate::Num(low),
                crate::Num(high)
            ),
        });
    }
    if low == high {
        tensor.fill(low);
        return Ok(());
    }
    let dist = Uniform::new(low, high).expect("bounds were checked above");
    *tensor = Tensor::random_using(tensor.raw_dim(), dist, rng);
    Ok(())
}

/// Fill `tensor` with N(mean, std²), like `torch.nn.init.normal_`.
///
/// # Errors
/// [`Error::InvalidConfig`] if `std` is negative or either argument is not finite.
pub fn normal(tensor: &mut Tensor, mean: f32, std: f32, rng: &mut impl Rng) -> Result<()> {
    let dist = Normal::new(mean, std)
        .ok()
        .filter(|_| mean.is_finite() && std.is_finite() && std >= 0.0)
        .ok_or_else(|| Error::InvalidConfig {
            layer: "init::normal".into(),
            parameter: "std".into(),
            reason: format!(
                "need finite mean and std >= 0, found mean {}, std {}",
                crate::Num(mean),
                crate::Num(std)
            ),
        })?;
    *tensor = Tensor::random_using(tensor.raw_dim(), dist, rng);
    Ok(())
}

/// He/Kaiming uniform: U(-b, b) with b = gain · √(3 / fan), gain = `calculate_gain(nonlinearity)`.
///
/// PyTorch's `kaiming_uniform_(tensor, a, mode, nonlinearity)` takes the leaky slope `a`
/// separately; here it is part of [`Nonlinearity::LeakyRelu`]. Use for layers followed by ReLU
/// or its variants. PyTorch's default `Linear` init is `kaiming_uniform_` with `a = √5`, that is
/// b = 1/√fan_in.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions.
///
/// ```
/// use lazarus_core::init::{kaiming_uniform, FanMode, Nonlinearity};
/// use lazarus_core::Tensor;
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut w = Tensor::zeros(vec![256, 784]);
/// kaiming_uniform(&mut w, FanMode::FanIn, Nonlinearity::Relu, &mut StdRng::seed_from_u64(0)).unwrap();
/// let bound = 2f32.sqrt() * (3.0f32 / 784.0).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= bound));
/// ```
pub fn kaiming_uniform(
    tensor: &mut Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut impl Rng,
) -> Result<()> {
    let fan = fan(tensor.shape(), mode)?;
    let bound = kaiming_uniform_bound(fan, calculate_gain(nonlinearity))?;
    uniform_symmetric(tensor, bound, rng)
}

/// He/Kaiming normal: N(0, std²) with std = gain / √fan.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions.
pub fn kaiming_normal(
    tensor: &mut Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut impl Rng,
) -> Result<()> {
    let fan = fan(tensor.shape(), mode)?;
    let std = kaiming_normal_std(fan, calculate_gain(nonlinearity))?;
    normal(tensor, 0.0, std, rng)
}

/// Xavier/Glorot uniform: U(-b, b) with b = gain · √(6 / (fan_in + fan_out)).
///
/// Keeps the variance of both the forward signal and the backward gradient for linear, sigmoid
/// or tanh units. For ReLU it shrinks the signal by about √2 per layer: use Kaiming there.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions, [`Error::InvalidConfig`]
/// for a `[0, 0]` tensor (no fan at all).
pub fn xavier_uniform(tensor: &mut Tensor, gain: f32, rng: &mut impl Rng) -> Result<()> {
    let (fan_in, fan_out) = fans(tensor.shape())?;
    uniform_symmetric(tensor, xavier_uniform_bound(fan_in, fan_out, gain)?, rng)
}

/// Xavier/Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).
///
/// # Errors
/// As [`xavier_uniform`].
pub fn xavier_normal(tensor: &mut Tensor, gain: f32, rng: &mut impl Rng) -> Result<()> {
    let (fan_in, fan_out) = fans(tensor.shape())?;
    normal(tensor, 0.0, xavier_normal_std(fan_in, fan_out, gain)?, rng)
}

/// LeCun normal: N(0, 1/fan_in), the init SELU's self-normalizing property assumes.
///
/// PyTorch has no named function; its docs say to use
/// `kaiming_normal_(w, nonlinearity='linear')`, which is exactly this.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions.
pub fn lecun_normal(tensor: &mut Tensor, rng: &mut impl Rng) -> Result<()> {
    kaiming_normal(tensor, FanMode::FanIn, Nonlinearity::Linear, rng)
}

/// Fill with zeros.
pub fn zeros(tensor: &mut Tensor) {
    tensor.fill(0.0);
}

/// Fill with a constant.
pub fn constant(tensor: &mut Tensor, value: f32) {
    tensor.fill(value);
}
