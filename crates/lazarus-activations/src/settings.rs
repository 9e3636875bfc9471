//! Checking an activation's settings where they are given: constructors are fallible exactly
//! when an argument can be invalid, and say which one and why.

use lazarus_core::{Error, Result};

/// An [`Error::InvalidConfig`] for `layer`'s `parameter`.
pub(crate) fn invalid(layer: &str, parameter: &str, reason: String) -> Error {
    Error::InvalidConfig {
        layer: layer.into(),
        parameter: parameter.into(),
        reason,
    }
}

/// `Ok(value)` if it is finite, else [`Error::InvalidConfig`].
pub(crate) fn finite(layer: &str, parameter: &str, value: f32) -> Result<f32> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(invalid(
            layer,
            parameter,
            format!("must be finite, found {}", lazarus_core::Num(value)),
        ))
    }
}
