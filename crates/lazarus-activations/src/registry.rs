//! Activations by name, for command-line flags and experiment configs.

use lazarus_core::Layer;

use crate::{
    Celu, Elu, Gelu, GeluApproximate, Hardsigmoid, Hardswish, Hardtanh, LeakyRelu, LogSigmoid,
    Mish, PRelu, RRelu, Relu, Relu6, Selu, Sigmoid, Silu, Softplus, Softsign, Tanh,
};

/// Every name [`activation_by_name`] accepts, in the order of the article and then PyTorch's
/// docs (snake_case, as in `torch.nn.functional`).
pub const ACTIVATION_NAMES: &[&str] = &[
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "gelu_tanh",
    "silu",
    "mish",
    "softplus",
    "sigmoid",
    "tanh",
    "relu6",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "log_sigmoid",
    "softsign",
    "rrelu",
];

/// [`activation_by_name`] was given a name it does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activation {name:?}; valid names: {}", valid.join(", "))]
pub struct UnknownActivation {
    /// The name that was asked for.
    pub name: String,
    /// The names that exist ([`ACTIVATION_NAMES`]).
    pub valid: &'static [&'static str],
}

impl From<UnknownActivation> for lazarus_core::Error {
    /// As [`lazarus_core::Error::InvalidConfig`], so `?` works in code returning core errors.
    fn from(e: UnknownActivation) -> Self {
        lazarus_core::Error::InvalidConfig {
            layer: "activation".into(),
            parameter: "name".into(),
            reason: e.to_string(),
        }
    }
}

/// A boxed activation layer with PyTorch's defaults, by its snake_case name (one of
/// [`ACTIVATION_NAMES`]). `seed` seeds RReLU's slopes and is ignored by the others.
///
/// The names are the layer's [`Layer::name`]s: `activation_by_name(n)?.name() == n`.
///
/// # Errors
/// [`UnknownActivation`], listing the valid names, for any other name.
///
/// ```
/// use lazarus_activations::{activation_by_name, ACTIVATION_NAMES};
/// let layer = activation_by_name("leaky_relu", 0)?;
/// assert_eq!(layer.describe(), "LeakyReLU(negative_slope=0.01)");
/// for name in ACTIVATION_NAMES {
///     assert_eq!(activation_by_name(name, 0)?.name(), *name);
/// }
/// let Err(err) = activation_by_name("swish", 0) else { panic!("swish is not a name here") };
/// assert!(err.to_string().contains("valid names: relu, leaky_relu, prelu"));
/// # Ok::<(), lazarus_activations::UnknownActivation>(())
/// ```
pub fn activation_by_name(name: &str, seed: u64) -> Result<Box<dyn Layer>, UnknownActivation> {
    Ok(match name {
        "relu" => Box::new(Relu::new()),
        "leaky_relu" => Box::new(LeakyRelu::default()),
        "prelu" => Box::new(PRelu::default()),
        "elu" => Box::new(Elu::default()),
        "selu" => Box::new(Selu::new()),
        "celu" => Box::new(Celu::default()),
        "gelu" => Box::new(Gelu::new(GeluApproximate::None)),
        "gelu_tanh" => Box::new(Gelu::new(GeluApproximate::Tanh)),
        "silu" => Box::new(Silu::new()),
        "mish" => Box::new(Mish::new()),
        "softplus" => Box::new(Softplus::default()),
        "sigmoid" => Box::new(Sigmoid::new()),
        "tanh" => Box::new(Tanh::new()),
        "relu6" => Box::new(Relu6::new()),
        "hardtanh" => Box::new(Hardtanh::default()),
        "hardsigmoid" => Box::new(Hardsigmoid::new()),
        "hardswish" => Box::new(Hardswish::new()),
        "log_sigmoid" => Box::new(LogSigmoid::new()),
        "softsign" => Box::new(Softsign::new()),
        "rrelu" => Box::new(RRelu::with_seed(seed)),
        _ => {
            return Err(UnknownActivation {
                name: name.to_string(),
                valid: ACTIVATION_NAMES,
            });
        }
    })
}
