//! Ready-made models: the MLPs the examples, benches and the dying-ReLU lab train.

use lazarus_activations::activation_by_name;
use lazarus_core::{Dropout, Linear, Sequential};
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
