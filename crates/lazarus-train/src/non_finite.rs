//! Where did the NaN come from? When a loss, a gradient or a weight stops being finite, the
//! trainer reports the first place it can blame: a sample of the input data, a layer's output,
//! a target, or a parameter. These searches run only after something went wrong, so they favour
//! plain code over speed. (Weights that stop being finite are found by the optimizer itself, as
//! it writes them: see `lazarus_optim::FiniteCheck`.)

use lazarus_core::loss::Target;
use lazarus_core::{Layer, Mode, Tensor, TensorView, try_fold_leaves, walk_layers};
use ndarray::Axis;

use crate::data::Batch;
use crate::{Error, Stage};

/// What [`locate`] blames, for [`Error::NonFinite`]: a place and, when
/// the data are to blame, the data set index of the sample.
pub(crate) struct Culprit {
    pub(crate) layer: String,
    pub(crate) sample: Option<usize>,
}

/// The first thing to blame for a non-finite `what` (`"loss"`, `"gradient"`) computed from
/// `inputs` and `target`, whose rows are the data set samples `indices`: the inputs, then each
/// layer's output in order, then the targets, then the computation itself.
pub(crate) fn locate(
    model: &mut dyn Layer,
    inputs: TensorView<'_>,
    target: &Target<'_>,
    indices: &[usize],
    what: &str,
    mode: Mode,
) -> Culprit {
    let sample_of = |row: usize| indices.get(row).copied();
    if let Some(row) = first_non_finite_row(inputs.view()) {
        return Culprit {
            layer: "input data".into(),
            sample: sample_of(row),
        };
    }
    if let Some(layer) = first_non_finite_layer(model, inputs, mode) {
        return Culprit {
            layer,
            sample: None,
        };
    }
    if let Target::Values(values) = target
        && let Some(row) = first_non_finite_row(values.view())
    {
        return Culprit {
            layer: "targets".into(),
            sample: sample_of(row),
        };
    }
    let layer = if what == "gradient" {
        "backward: every layer's output is finite, so a gradient overflowed".into()
    } else {
        format!("the {what} itself: every layer's output and every target is finite")
    };
    Culprit {
        layer,
        sample: None,
    }
}

/// The first row (index along axis 0) of `x` holding a NaN or an infinity.
fn first_non_finite_row(x: TensorView<'_>) -> Option<usize> {
    if x.ndim() == 0 {
        return (!x.iter().all(|v| v.is_finite())).then_some(0);
    }
    x.axis_iter(Axis(0))
        .position(|row| !row.iter().all(|v| v.is_finite()))
}

/// Run `model`'s children one at a time on `inputs` and return the path and name of the first
/// one whose output holds a NaN or an infinity; `"input data"` when the inputs themselves do.
/// `None` if every output is finite.
///
/// Pass the mode of the pass that failed: [`Mode::Probe`] for a training step (the layers run
/// as the step ran them, BatchNorm on the batch's statistics, where a training-only blow-up
/// shows, but without changing anything: no running-statistics update, nothing kept for
/// backward), [`Mode::Eval`] for validation or evaluation. ([`Mode::Train`] is taken as
/// [`Mode::Probe`]: a search must not change the model.)
pub fn first_non_finite_layer(
    model: &mut dyn Layer,
    inputs: TensorView<'_>,
    mode: Mode,
) -> Option<String> {
    let mode = if mode == Mode::Eval {
        Mode::Eval
    } else {
        Mode::Probe
    };
    if first_non_finite_row(inputs.view()).is_some() {
        return Some("input data".into());
    }
    // Each leaf in forward order, on the previous one's output; the error is the culprit.
    try_fold_leaves(
        model,
        inputs.to_owned(),
        &mut |path, layer, x: Tensor| match layer.forward(x.view(), mode) {
            Ok(y) if y.iter().all(|v| v.is_finite()) => Ok(y.to_owned()),
            _ => Err(layer_label(layer.name(), path)),
        },
    )
    .err()
}

/// The parameter at `param` (a path such as `1.weight`) with the layer that owns it, as
/// `linear[1] (parameter 1.weight)`: the deepest layer whose path prefixes the parameter's.
pub(crate) fn param_owner(model: &dyn Layer, param: &str) -> String {
    let mut owner = String::new();
    let mut owner_depth = None;
    walk_layers(model, &mut |path, layer| {
        let owns = path.is_empty() || param.starts_with(&format!("{path}."));
        if owns && owner_depth.is_none_or(|d| path.len() >= d) {
            owner = layer_label(layer.name(), path);
            owner_depth = Some(path.len());
        }
    });
    format!("{owner} (parameter {param})")
}

/// `linear[1]` for the layer `linear` at path `1`; the bare name at the root.
fn layer_label(name: &str, path: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{name}[{path}]")
    }
}

/// The [`Error::NonFinite`] for a non-finite `what` computed from
/// `batch` at `stage`: the first input sample, layer output or target to blame (see [`locate`]).
pub(crate) fn non_finite_error(
    model: &mut dyn Layer,
    stage: Stage,
    batch: &Batch<'_>,
    what: &str,
) -> Error {
    let target = batch.target();
    // Search as the failed pass ran: training's view (batch statistics) for a training step.
    let mode = match stage {
        Stage::Training { .. } => Mode::Probe,
        Stage::Validation { .. } | Stage::Evaluation => Mode::Eval,
    };
    let culprit = locate(
        model,
        batch.inputs.view(),
        &target,
        batch.indices(),
        what,
        mode,
    );
    Error::NonFinite {
        stage,
        layer: culprit.layer,
        sample: culprit.sample,
        what: what.to_string(),
    }
}
