//! Ready-made models: the MLPs and the small CNN the examples, benches and the dying-ReLU lab
//! train.

use lazarus_activations::activation_by_name;
use lazarus_core::{BatchNorm2d, Conv2dSettings, Dropout, Flatten, Linear, MaxPool2d, Sequential};
use rand::Rng;

use crate::{Error, Result};

/// A multi-layer perceptron `sizes[0] → sizes[1] → … → sizes[n]`: a [`Linear`] layer between
/// each pair of sizes, followed (except after the last) by the activation named `activation`
/// (any name of [`lazarus_activations::ACTIVATION_NAMES`]) and, if `dropout > 0`, a
/// [`Dropout`]. Weights use PyTorch's default Linear initialization, drawn from `rng`.
///
/// `mlp(&[784, 256, 128, 10], "relu", 0.0, rng)` is the classic MNIST MLP; its parameter names
/// are `0.weight`, `0.bias`, `2.weight`, ... exactly as in the matching `nn.Sequential`.
///
/// # Errors
/// [`Error::InvalidConfig`] for fewer than two sizes, a zero size, an unknown activation, or a
/// dropout outside [0, 1).
///
/// ```
/// use lazarus_core::Layer;
/// use lazarus_train::models::mlp;
/// use rand::{rngs::StdRng, SeedableRng};
/// let model = mlp(&[784, 256, 128, 10], "relu", 0.0, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(model.param_count(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn mlp(
    sizes: &[usize],
    activation: &str,
    dropout: f32,
    rng: &mut impl Rng,
) -> Result<Sequential> {
    if sizes.len() < 2 {
        return Err(Error::config(
            "mlp",
            "sizes",
            format!("need at least an input and an output size, found {sizes:?}"),
        ));
    }
    // Checked here, not only by `Dropout::new`: a 0 (or a NaN) would otherwise skip it.
    if !(0.0..1.0).contains(&dropout) {
        return Err(Error::config(
            "mlp",
            "dropout",
            format!("must be in [0, 1), found {}", lazarus_core::Num(dropout)),
        ));
    }
    let mut model = Sequential::new();
    let layers = sizes.len() - 1;
    for (i, pair) in sizes.windows(2).enumerate() {
        model.push(Box::new(Linear::new(pair[0], pair[1], rng)?));
        if i + 1 < layers {
            model.push(
                activation_by_name(activation, rng.random())
                    .map_err(|e| Error::config("mlp", "activation", e.to_string()))?,
            );
            if dropout > 0.0 {
                model.push(Box::new(Dropout::new(dropout, rng.random())?));
            }
        }
    }
    Ok(model)
}

/// The two-convolution CNN of `--example mnist -- --model cnn` for `[batch, 1, 28, 28]` images
/// and 10 classes, with the activation named `activation` (as in [`mlp`]):
///
/// ```text
/// Conv2d(1, 16, 3, padding=1) → act → MaxPool2d(2)       [b, 16, 28, 28] → [b, 16, 14, 14]
/// Conv2d(16, 32, 3, padding=1) → act → MaxPool2d(2)      [b, 32, 14, 14] → [b, 32, 7, 7]
/// Flatten → Linear(1568, 10)                              [b, 1568] → [b, 10] (logits)
/// ```
///
/// With `batch_norm`, a [`BatchNorm2d`] follows each convolution (before the activation, so
/// the activation sees zero-mean, unit-variance channels), and the convolutions have no bias:
/// BatchNorm subtracts each channel's batch mean, which cancels a bias added just before it, so
/// such a bias would get no gradient (BatchNorm's β is the shift instead). The matching
/// `nn.Sequential` builds them with `nn.Conv2d(..., bias=False)`, as torchvision's ResNets do
/// before BatchNorm, so the file loads into it strictly. Parameter and buffer names are
/// PyTorch's: `0.weight`, `0.bias` (without `batch_norm`), or with `batch_norm` `0.weight`,
/// `1.weight`, `1.bias`, `1.running_mean`, `1.running_var`, `1.num_batches_tracked`, ...
/// Weights use PyTorch's default initialization, drawn from `rng`.
///
/// Learning rate: with `batch_norm`, SGD needs about a fifth of the plain CNN's. BatchNorm
/// makes each of the 1568 features the Linear layer reads about 1 in size (without it, about
/// 0.1), so ‖features‖² is ~1800 instead of ~18, and one SGD step on the Linear weights moves
/// the logits by about lr · ‖features‖² per unit of their gradient: ~90 at lr 0.05 (the plain
/// CNN: ~0.9). With SGD lr 0.05, momentum 0.9, batch 64 the loss climbs from 2.4 to ~10 in
/// seven steps; the large gradients of those wrong logits push the second BatchNorm's β below 0
/// and shrink its γ, momentum carries them on, and after ~15 steps most of its ReLU's channels
/// are silent on every input: dead, 30 of 32 after 16 steps on synthetic digits (the loss at
/// chance, 2.30, for a while); after one epoch 28 on synthetic digits, 29 on real MNIST (the few
/// left still reach ~98 % and ~96 %). PyTorch does the same, step for step. lr 0.01 trains with
/// no dead channel (`tests/cnn_bn_sgd.rs` pins both trajectories against PyTorch's).
///
/// # Errors
/// [`Error::InvalidConfig`] for an unknown activation.
///
/// ```
/// use lazarus_core::{Layer, Mode, Tensor};
/// use lazarus_train::models::cnn;
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut model = cnn("relu", true, &mut StdRng::seed_from_u64(0))?;
/// let conv = 16 * 9 + 32 * 16 * 9; // no conv bias before a BatchNorm
/// assert_eq!(model.param_count(), conv + 2 * (16 + 32) + 1568 * 10 + 10);
/// let plain = cnn("relu", false, &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(plain.param_count(), (16 * 9 + 16) + (32 * 16 * 9 + 32) + 1568 * 10 + 10);
/// let logits = model.forward(Tensor::zeros(vec![2, 1, 28, 28]).view(), Mode::Eval)?;
/// assert_eq!(logits.shape(), &[2, 10]);
/// # Ok::<(), lazarus_train::Error>(())
/// ```
pub fn cnn(activation: &str, batch_norm: bool, rng: &mut impl Rng) -> Result<Sequential> {
    let mut model = Sequential::new();
    for (c_in, c_out) in [(1, 16), (16, 32)] {
        // A bias right before BatchNorm is cancelled by its mean subtraction: leave it out.
        let conv = Conv2dSettings::new(c_in, c_out, 3)
            .padding(1)
            .bias(!batch_norm)
            .build(rng)?;
        model.push(Box::new(conv));
        if batch_norm {
            model.push(Box::new(BatchNorm2d::new(c_out)?));
        }
        model.push(
            activation_by_name(activation, rng.random())
                .map_err(|e| Error::config("cnn", "activation", e.to_string()))?,
        );
        model.push(Box::new(MaxPool2d::new(2)?));
    }
    model.push(Box::new(Flatten::new()));
    model.push(Box::new(Linear::new(32 * 7 * 7, 10, rng)?));
    Ok(model)
}
