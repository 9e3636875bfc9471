//! Biases that a BatchNorm cancels: found from the model's structure, not from its gradients.
//!
//! A layer `y = z + b` whose output goes straight into a BatchNorm in training mode loses its
//! bias b there: the BatchNorm subtracts each channel's batch mean, and the mean of z + b is
//! mean(z) + b, so
//!
//! ```text
//! x̂ = (z + b − mean(z + b)) / σ = (z − mean(z)) / σ        (σ does not depend on b either)
//! dL/db = 0
//! ```
//!
//! Its gradient is exactly zero (rounding noise in practice, in PyTorch too), which is not a
//! vanishing gradient but a parameter that does nothing: the fix is to build the layer without
//! it (PyTorch's `bias=False`) and let BatchNorm's shift β play its part.

use lazarus_core::{Layer, ParamRole, walk_layers};

/// The layer names of BatchNorm1d and BatchNorm2d ([`Layer::name`]), with or without affine
/// or running statistics: in training, each subtracts its batch mean per channel.
const BATCH_NORMS: [&str; 2] = ["batch_norm1d", "batch_norm2d"];

/// A bias parameter whose layer feeds a BatchNorm directly.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BiasBeforeNorm {
    /// The parameter's path, as in the gradient flow: `0.bias`.
    pub(super) param: String,
    /// Its layer as errors name it: `linear[0]`.
    pub(super) layer: String,
    /// How to build that layer without bias in lazarus, if it is one of its own.
    pub(super) without_bias: Option<&'static str>,
    /// The BatchNorm after it: `batch_norm1d[1]`.
    pub(super) norm: String,
    /// Whether that BatchNorm is affine, with a shift β to take the bias's place.
    pub(super) norm_has_shift: bool,
}

/// Every parameter of role [`Bias`](ParamRole::Bias) of a leaf layer (one without children)
/// followed, in the same container (a [`Sequential`](lazarus_core::Sequential), nested ones
/// included), directly by a BatchNorm1d or BatchNorm2d. A layer followed by anything else
/// (an activation, Dropout, nothing) is not listed, nor one at the end of a nested container,
/// nor a BatchNorm's own β.
pub(super) fn biases_before_norm(model: &dyn Layer) -> Vec<BiasBeforeNorm> {
    let mut found = Vec::new();
    walk_layers(model, &mut |path, container| {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        // The previous child, if it was a leaf with biases: its label, how to build it without
        // them, and their names.
        let mut previous: Option<(String, Option<&'static str>, Vec<String>)> = None;
        container.visit_children(&mut |i, child| {
            if let Some((layer, without_bias, biases)) = previous.take()
                && BATCH_NORMS.contains(&child.name())
            {
                let norm = format!("{}[{prefix}{i}]", child.name());
                let mut norm_has_shift = false;
                child.visit_params(&mut |_, p| norm_has_shift |= p.role() == ParamRole::Bias);
                found.extend(biases.into_iter().map(|param| BiasBeforeNorm {
                    param: format!("{prefix}{}.{param}", i - 1),
                    layer: layer.clone(),
                    without_bias,
                    norm: norm.clone(),
                    norm_has_shift,
                }));
            }
            let mut leaf = true;
            child.visit_children(&mut |_, _| leaf = false);
            let mut biases = Vec::new();
            child.visit_params(&mut |name, p| {
                if p.role() == ParamRole::Bias {
                    biases.push(name.to_string());
                }
            });
            // A BatchNorm's own shift β before another BatchNorm is cancelled too, but the
            // advice (bias=False) does not apply to it: only layers with a bias are listed.
            if leaf && !biases.is_empty() && !BATCH_NORMS.contains(&child.name()) {
                let without_bias = match child.name() {
                    "linear" => Some("Linear::without_bias()"),
                    "conv2d" => Some("Conv2dSettings::bias(false)"),
                    _ => None,
                };
                let layer = format!("{}[{prefix}{i}]", child.name());
                previous = Some((layer, without_bias, biases));
            }
        });
    });
    found
}
