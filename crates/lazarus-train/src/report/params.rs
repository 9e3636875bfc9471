//! What the parameter charts show: PReLU slopes per epoch, gradient norms per step, update
//! ratios per epoch.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One PReLU layer's slope parameter over the run: the values of all its slopes (one, or one
/// per channel) after each epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopeHistory {
    /// The parameter's path, as the optimizer and checkpoints name it (`"1.weight"`, as PyTorch names it).
    pub param: String,
    /// The layer it belongs to, as error messages name it (`"prelu[1]"`).
    pub layer: String,
    /// One entry per epoch (0 = at initialization), in order.
    pub epochs: Vec<SlopeValues>,
}

/// A PReLU layer's slopes after one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopeValues {
    /// The epoch after which they were read: 0 at initialization, then 1, 2, ...
    pub epoch: usize,
    /// Every slope of the layer (non-finite values are not drawn).
    #[serde(with = "crate::history::json_float::list")]
    pub values: Vec<f32>,
}

/// Gradient norms (before clipping) of every optimizer step of the run.
///
/// Steps are counted from 0 across epochs; every list is indexed by step.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GradientNorms {
    /// Per parameter, in model order: ‖∇‖₂ of each step.
    pub params: Vec<ParamNorms>,
    /// ‖∇‖₂ of all parameters together, per step: the norm that clipping compares.
    #[serde(with = "crate::history::json_float::list")]
    pub total: Vec<f64>,
    /// The steps whose total norm exceeded the clipping threshold and were clipped, in
    /// increasing order (empty without clipping).
    pub clipped: Vec<usize>,
    /// The clipping threshold (`max_norm`), when clipping was on.
    pub max_norm: Option<f64>,
    /// Optimizer steps per epoch, if known: the chart then marks where each epoch starts.
    pub steps_per_epoch: Option<usize>,
}

/// One parameter's gradient norm per step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamNorms {
    /// The parameter's path (`"0.weight"`, `"1.weight"` for a PReLU layer's slopes).
    pub param: String,
    /// ‖∇‖₂ of each step (NaN or infinite values are not drawn).
    #[serde(with = "crate::history::json_float::list")]
    pub norms: Vec<f64>,
}

/// One parameter's update ratio per epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateRatios {
    /// The parameter's path (`"0.weight"`).
    pub param: String,
    /// Per epoch, the mean of ‖Δw‖₂ / ‖w‖₂ over its measured steps: how far the optimizer
    /// moved the parameter, relative to its size (around 1e-3 is healthy for SGD).
    pub epochs: Vec<EpochValue>,
}

/// A value measured in one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochValue {
    /// The epoch, from 1.
    pub epoch: usize,
    /// The value (NaN or infinite values are not drawn).
    #[serde(with = "crate::history::json_float")]
    pub value: f64,
}

impl GradientNorms {
    /// Number of steps recorded (the length of [`total`](Self::total)).
    pub fn steps(&self) -> usize {
        self.total.len()
    }

    /// Every list has one value per step and the clipped steps are steps, in order.
    pub(crate) fn check(&self) -> Result<()> {
        let steps = self.steps();
        let fail =
            |parameter: &str, reason: String| Err(Error::config("report", parameter, reason));
        for p in &self.params {
            if p.norms.len() != steps {
                let parameter = format!("gradient_norms.params[{}]", p.param);
                let found = p.norms.len();
                return fail(
                    &parameter,
                    format!("expected {steps} norms (one per step), found {found}"),
                );
            }
        }
        let increasing = self.clipped.windows(2).all(|w| w[0] < w[1]);
        if !increasing || self.clipped.last().is_some_and(|&s| s >= steps) {
            return fail(
                "gradient_norms.clipped",
                format!("must be increasing step numbers below {steps}"),
            );
        }
        if self.steps_per_epoch == Some(0) {
            return fail(
                "gradient_norms.steps_per_epoch",
                "must be at least 1, found 0".into(),
            );
        }
        Ok(())
    }
}
