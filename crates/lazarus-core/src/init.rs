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

/// He et al.'s standard deviation gain / √fan, which keeps the variance of the signal (fan_in)
/// or of the gradient (fan_out) from layer to layer.
fn kaiming_std(shape: &[usize], mode: FanMode, nonlinearity: Nonlinearity) -> Result<f32> {
    Ok(calculate_gain(nonlinearity) / (fan(shape, mode)? as f32).sqrt())
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
    // U(-b, b) has standard deviation b/√3, so b = √3 · std.
    let std = kaiming_std(tensor.shape(), mode, nonlinearity)?;
    uniform_symmetric(tensor, 3f32.sqrt() * std, rng)
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
    let std = kaiming_std(tensor.shape(), mode, nonlinearity)?;
    normal(tensor, 0.0, std, rng)
}

/// Xavier/Glorot uniform: U(-b, b) with b = gain · √(6 / (fan_in + fan_out)).
///
/// Keeps the variance of both the forward signal and the backward gradient for linear, sigmoid
/// or tanh units. For ReLU it shrinks the signal by about √2 per layer: use Kaiming there.
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions.
pub fn xavier_uniform(tensor: &mut Tensor, gain: f32, rng: &mut impl Rng) -> Result<()> {
    let (fan_in, fan_out) = fans(tensor.shape())?;
    let bound = gain * (6.0 / (fan_in + fan_out).max(1) as f32).sqrt();
    uniform_symmetric(tensor, bound, rng)
}

/// Xavier/Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).
///
/// # Errors
/// [`Error::ShapeMismatch`] for tensors with fewer than 2 dimensions.
pub fn xavier_normal(tensor: &mut Tensor, gain: f32, rng: &mut impl Rng) -> Result<()> {
    let (fan_in, fan_out) = fans(tensor.shape())?;
    let std = gain * (2.0 / (fan_in + fan_out).max(1) as f32).sqrt();
    normal(tensor, 0.0, std, rng)
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn std_of(t: &Tensor) -> f32 {
        let n = t.len() as f32;
        let mean = t.sum() / n;
        (t.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt()
    }

    #[test]
    fn fans_follow_pytorch() {
        assert_eq!(fans(&[256, 784]).unwrap(), (784, 256));
        assert_eq!(fans(&[16, 3, 5, 5]).unwrap(), (75, 400));
        assert!(matches!(fans(&[5]), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn gains_match_pytorch_table() {
        assert_eq!(calculate_gain(Nonlinearity::Linear), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Sigmoid), 1.0);
        assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
        // PReLU at its init slope 0.25: √(2 / 1.0625).
        let g = calculate_gain(Nonlinearity::LeakyRelu(Some(0.25)));
        assert!((g - (2.0f32 / 1.0625).sqrt()).abs() < 1e-7);
    }

    #[test]
    fn spreads_match_their_formulas() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut w = Tensor::zeros(vec![400, 500]);
        kaiming_normal(&mut w, FanMode::FanIn, Nonlinearity::Relu, &mut rng).unwrap();
        assert!((std_of(&w) / (2.0f32 / 500.0).sqrt() - 1.0).abs() < 0.01);
        kaiming_normal(&mut w, FanMode::FanOut, Nonlinearity::Relu, &mut rng).unwrap();
        assert!((std_of(&w) / (2.0f32 / 400.0).sqrt() - 1.0).abs() < 0.01);
        xavier_uniform(&mut w, 1.0, &mut rng).unwrap();
        // U(-b, b) has std b/√3.
        let b = (6.0f32 / 900.0).sqrt();
        assert!((std_of(&w) / (b / 3f32.sqrt()) - 1.0).abs() < 0.01);
        xavier_normal(&mut w, 2.0, &mut rng).unwrap();
        assert!((std_of(&w) / (2.0 * (2.0f32 / 900.0).sqrt()) - 1.0).abs() < 0.01);
        lecun_normal(&mut w, &mut rng).unwrap();
        assert!((std_of(&w) / (1.0f32 / 500.0).sqrt() - 1.0).abs() < 0.01);
        kaiming_uniform(
            &mut w,
            FanMode::FanIn,
            Nonlinearity::LeakyRelu(Some(5f32.sqrt())),
            &mut rng,
        )
        .unwrap();
        let bound = 1.0 / 500f32.sqrt();
        assert!(w.iter().all(|v| v.abs() <= bound));
        assert!((std_of(&w) / (bound / 3f32.sqrt()) - 1.0).abs() < 0.01);
    }

    #[test]
    fn same_seed_same_weights() {
        let draw = || {
            let mut w = Tensor::zeros(vec![3, 4]);
            kaiming_uniform(
                &mut w,
                FanMode::FanIn,
                Nonlinearity::Relu,
                &mut StdRng::seed_from_u64(7),
            )
            .unwrap();
            w
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn bad_arguments_are_errors() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut w = Tensor::zeros(vec![2, 2]);
        assert!(matches!(
            normal(&mut w, 0.0, -1.0, &mut rng),
            Err(Error::InvalidConfig { .. })
        ));
        for (low, high) in [(1.0, 0.0), (-f32::MAX, f32::MAX), (0.0, f32::NAN)] {
            assert!(matches!(
                uniform(&mut w, low, high, &mut rng),
                Err(Error::InvalidConfig { .. })
            ));
        }
        assert!(matches!(
            kaiming_uniform(
                &mut Tensor::zeros(vec![0, 3]),
                FanMode::FanOut,
                Nonlinearity::Relu,
                &mut rng
            ),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
