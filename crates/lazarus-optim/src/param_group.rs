//! Parameter groups: give some parameters other hyper-parameters, selected by role or path.

use std::fmt;
use std::sync::Arc;

use lazarus_core::ParamRole;

use crate::{Error, Result, UpdateRule};

/// Which parameters a group applies to.
///
/// Built from a [`ParamRole`] (`ParamRole::Slope`: every PReLU alpha), from a path prefix
/// (`"0."`: the first layer of a `Sequential`), or from any predicate on the path.
///
/// ```
/// use lazarus_core::ParamRole;
/// use lazarus_optim::Selector;
/// assert!(Selector::from(ParamRole::Bias).matches("0.bias", ParamRole::Bias));
/// assert!(Selector::from("2.").matches("2.weight", ParamRole::Weight));
/// assert!(!Selector::from("2.").matches("12.weight", ParamRole::Weight));
/// assert!(Selector::path(|p| p.ends_with(".bias")).matches("3.bias", ParamRole::Bias));
/// ```
#[derive(Clone)]
pub enum Selector {
    /// Every parameter with this role.
    Role(ParamRole),
    /// Every parameter whose path starts with this prefix (`"0."`, `"1.weight"`).
    Prefix(String),
    /// Every parameter whose path satisfies the predicate.
    Path(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl Selector {
    /// Select by a predicate on the parameter path.
    pub fn path(predicate: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Selector::Path(Arc::new(predicate))
    }

    /// Whether the parameter at `path` with role `role` belongs to the group.
    pub fn matches(&self, path: &str, role: ParamRole) -> bool {
        match self {
            Selector::Role(r) => *r == role,
            Selector::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Selector::Path(predicate) => predicate(path),
        }
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Role(r) => write!(f, "Role({r:?})"),
            Selector::Prefix(p) => write!(f, "Prefix({p:?})"),
            Selector::Path(_) => f.write_str("Path(<predicate>)"),
        }
    }
}

impl From<ParamRole> for Selector {
    fn from(role: ParamRole) -> Self {
        Selector::Role(role)
    }
}

impl From<&str> for Selector {
    fn from(prefix: &str) -> Self {
        Selector::Prefix(prefix.to_string())
    }
}

type Edit<R> = Arc<dyn Fn(&mut R) + Send + Sync>;

/// A group: a selector and the hyper-parameters it overrides.
///
/// Overrides are kept as edits applied on top of the optimizer's defaults each time the
/// per-parameter settings are worked out, so changing a default later still reaches every
/// hyper-parameter the group does not override.
pub(crate) struct ParamGroup<R> {
    pub(crate) selector: Selector,
    /// This group's lr as a multiple of the base lr (see [`GroupBuilder::lr`]).
    pub(crate) lr_scale: Option<f32>,
    edits: Vec<Edit<R>>,
}

impl<R: UpdateRule> ParamGroup<R> {
    pub(crate) fn new(selector: Selector) -> Self {
        Self {
            selector,
            lr_scale: None,
            edits: Vec::new(),
        }
    }

    /// Apply this group's overrides to `config`.
    pub(crate) fn apply(&self, config: &mut R) {
        for edit in &self.edits {
            edit(config);
        }
    }
}

impl<R> fmt::Debug for ParamGroup<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParamGroup")
            .field("selector", &self.selector)
            .field("lr_scale", &self.lr_scale)
            .field("overrides", &self.edits.len())
            .finish()
    }
}

/// Sets the hyper-parameters of one group; returned by
/// [`GroupedOptimizer::group`](crate::GroupedOptimizer::group).
///
/// Each setter validates the group's settings (the defaults with this group's overrides applied)
/// and returns the builder again, so overrides chain:
///
/// ```
/// use lazarus_core::ParamRole;
/// use lazarus_optim::{Optimizer, Sgd};
/// let mut opt = Sgd::new(0.1)?.momentum(0.9)?.weight_decay(5e-4)?;
/// // PReLU slopes: a small decay of their own (by default they get none).
/// opt.group(ParamRole::Slope).weight_decay(1e-4)?;
/// // The first layer: a tenth of the learning rate, and no momentum.
/// opt.group("0.").lr(0.01)?.set(|c| c.momentum = 0.0)?;
/// assert!(opt.group(ParamRole::Bias).set(|c| c.momentum = 1.5).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub struct GroupBuilder<'a, R> {
    pub(crate) group: &'a mut ParamGroup<R>,
    pub(crate) defaults: &'a R,
}

impl<R: UpdateRule> GroupBuilder<'_, R> {
    /// Override any hyper-parameter with a closure over the optimizer's config struct
    /// (`|c| c.momentum = 0.0`, `|c| c.betas = (0.9, 0.99)`).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] when the group's settings are invalid with this edit; the
    /// edit is not kept.
    pub fn set(self, edit: impl Fn(&mut R) + Send + Sync + 'static) -> Result<Self> {
        self.group.edits.push(Arc::new(edit));
        let mut config = *self.defaults;
        self.group.apply(&mut config);
        if let Err(e) = config.validate() {
            self.group.edits.pop();
            return Err(e);
        }
        Ok(self)
    }

    /// This group's weight decay, whatever the parameters' roles (PyTorch's per-group
    /// `weight_decay`).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `weight_decay` is negative, NaN or infinite.
    pub fn weight_decay(self, weight_decay: f64) -> Result<Self> {
        self.set(move |c| *c.weight_decay_mut() = weight_decay)
    }

    /// No weight decay for this group.
    pub fn no_decay(self) -> Self {
        self.weight_decay(0.0)
            .expect("weight_decay = 0 passes every optimizer's validation")
    }

    /// This group's learning rate, now: `lr`. When a schedule later calls
    /// [`Optimizer::set_lr`](crate::Optimizer::set_lr), the group keeps its ratio to the base
    /// rate (`lr / base lr`, fixed here).
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`] if `lr` is negative, NaN or infinite, if the base lr is 0
    /// (no ratio to keep), or if the ratio `lr / base lr` overflows `f32`.
    pub fn lr(self, lr: f32) -> Result<Self> {
        let base = self.defaults.lr();
        let scale = if base == 0.0 { 1.0 } else { lr / base };
        let valid = lr >= 0.0 && lr.is_finite() && (base > 0.0 || lr == 0.0) && scale.is_finite();
        if !valid {
            return Err(Error::InvalidHyperParameter {
                optimizer: R::NAME,
                parameter: "lr",
                value: lr.into(),
                expected: "a finite group lr >= 0, with a base lr > 0 to keep its ratio to",
            });
        }
        self.group.lr_scale = Some(scale);
        Ok(self)
    }
}
