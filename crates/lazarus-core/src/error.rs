//! The one error type of lazarus-core.
//!
//! Every message names the layer (or loss, or initializer), what was expected and what was found,
//! and the same facts are fields, so a program can match on them instead of parsing text.

/// Errors from layers, losses, initializers and the gradient checker.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input, gradient or target had the wrong shape.
    ///
    /// `layer` is the layer's name with its path inside a `Sequential` (`linear[0]`), `expected`
    /// describes the shape it needed (`[batch, 784]`), `found` is the shape it was given.
    #[error("{layer}: expected {expected}, found shape {found:?}")]
    ShapeMismatch {
        /// Layer, loss or function that rejected the input, with its path.
        layer: String,
        /// A description of the accepted shape, e.g. `[batch, 784]`.
        expected: String,
        /// The shape that was passed in.
        found: Vec<usize>,
    },

    /// `backward` was called without a preceding training-mode `forward`.
    ///
    /// Evaluation mode does not keep what backward needs, so a backward after an eval forward
    /// (or before any forward) has nothing to differentiate.
    #[error("{layer}: backward called before a training-mode forward")]
    BackwardBeforeForward {
        /// Layer or loss, with its path.
        layer: String,
    },

    /// A hyper-parameter or configuration value is outside its valid range.
    #[error("{layer}: invalid {parameter}: {reason}")]
    InvalidConfig {
        /// Layer, loss, initializer or optimizer being configured.
        layer: String,
        /// The offending parameter, by its PyTorch name (`p`, `negative_slope`, `lr`, ...).
        parameter: String,
        /// What was wrong, with the value that was found.
        reason: String,
    },

    /// A target value is not valid for the loss (a class index out of range, for instance).
    #[error("{loss}: invalid target: {reason}")]
    InvalidTarget {
        /// The loss that rejected the target.
        loss: String,
        /// What was wrong, with the value that was found.
        reason: String,
    },

    /// A NaN or an infinity appeared where a finite number is required.
    #[error("{layer}: non-finite value in {what}")]
    NonFinite {
        /// Layer, loss or parameter path where it appeared.
        layer: String,
        /// What held the value: `loss`, `output`, `gradient of 0.weight`, ...
        what: String,
    },
}

impl Error {
    /// The same error, reported from inside a container at child index `index`.
    ///
    /// `linear` becomes `linear[2]`, and an already indexed `linear[0]` from a nested `Sequential`
    /// becomes `linear[2.0]`, the same path the child's parameters have (`2.0.weight`).
    pub fn at(self, index: usize) -> Self {
        self.at_path(&index.to_string())
    }

    /// The same error, reported from the layer at `path` inside a model (`"2.0"`, as the walks
    /// of [`walk_layers`](crate::walk_layers) give it): `linear` becomes `linear[2.0]`, and an
    /// already indexed `linear[1]` becomes `linear[2.0.1]`. The empty path (the model itself)
    /// leaves the error as it is.
    ///
    /// ```
    /// use lazarus_core::Error;
    /// let e = Error::BackwardBeforeForward { layer: "linear".into() };
    /// assert_eq!(e.clone().at_path("2.0"), e.clone().at(0).at(2));
    /// assert_eq!(e.clone().at_path(""), e);
    /// ```
    pub fn at_path(mut self, path: &str) -> Self {
        if path.is_empty() {
            return self;
        }
        let name = match &mut self {
            Error::ShapeMismatch { layer, .. }
            | Error::BackwardBeforeForward { layer }
            | Error::InvalidConfig { layer, .. }
            | Error::NonFinite { layer, .. } => layer,
            Error::InvalidTarget { loss, .. } => loss,
        };
        *name = match name.find('[') {
            Some(open) => format!("{}[{path}.{}", &name[..open], &name[open + 1..]),
            None => format!("{name}[{path}]"),
        };
        self
    }
}

/// `Result` with lazarus-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_builds_nested_paths() {
        let e = Error::BackwardBeforeForward {
            layer: "linear".into(),
        };
        assert_eq!(
            e.clone().at(0).to_string(),
            "linear[0]: backward called before a training-mode forward"
        );
        assert_eq!(
            e.at(0).at(3),
            Error::BackwardBeforeForward {
                layer: "linear[3.0]".into()
            }
        );
    }
}
