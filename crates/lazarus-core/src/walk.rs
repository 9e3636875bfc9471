//! One walk over a model: every layer, with its path.
//!
//! A layer's *path* says where it sits: `""` for the model itself, `"2"` for its child 2,
//! `"2.0"` for child 0 of that one. It is the prefix of the layer's parameter names
//! (`2.0.weight`, the key PyTorch's `state_dict` uses) and the index in error messages
//! (`linear[2.0]`, see [`Error::at_path`](crate::Error::at_path)). Every walk over a model
//! builds paths here, the same way, in three forms (as burn's `ModuleVisitor`, with closures):
//!
//! * [`walk_layers`]: every layer, containers included, depth first, read-only (dead-unit
//!   diagnostics read each activation's statistics; an error names a parameter's owner).
//! * [`walk_layers_mut`]: the same, mutably.
//! * [`try_fold_leaves`]: the leaves (layers without children) in forward order, each handed
//!   the value the previous one returned: a model run one layer at a time (to find the first
//!   layer whose output is not finite, or to record statistics on a validation set).
//!
//! Containers list their children with [`Layer::visit_children`]. Parameters have their own
//! walk, [`Layer::visit_params`], where a container prefixes its child's index to each name.

use std::fmt::Write as _;

use crate::Layer;

/// The path of the layer being visited: one string, grown on the way down and cut back on the
/// way up, so a walk allocates only when a path is longer than any before it.
struct Path(String);

impl Path {
    /// Run `f` with the path of child `index` of the current layer, then restore the path.
    fn child<R>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.0.len();
        if len > 0 {
            self.0.push('.');
        }
        let _ = write!(self.0, "{index}");
        let result = f(self);
        self.0.truncate(len);
        result
    }
}

/// Visit `root` and every layer inside it, depth first, with its path (`""` for the root, `"2"`
/// for child 2, `"2.0"` for child 0 of child 2): the prefixes of the parameter names.
///
/// ```
/// use lazarus_core::{walk_layers, Flatten, Layer, Linear, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Sequential::new()
///     .add(Flatten::new())
///     .add(Sequential::new().add(Linear::new(4, 2, &mut rng).unwrap()));
/// let mut seen = Vec::new();
/// walk_layers(&model, &mut |path, layer| seen.push(format!("{path}:{}", layer.name())));
/// assert_eq!(seen, [":sequential", "0:flatten", "1:sequential", "1.0:linear"]);
/// ```
pub fn walk_layers(root: &dyn Layer, f: &mut dyn FnMut(&str, &dyn Layer)) {
    fn walk(path: &mut Path, layer: &dyn Layer, f: &mut dyn FnMut(&str, &dyn Layer)) {
        f(&path.0, layer);
        layer.visit_children(&mut |i, child| path.child(i, |path| walk(path, child, f)));
    }
    walk(&mut Path(String::new()), root, f);
}

/// [`walk_layers`], with each layer mutable: `f` sees a container before its children.
///
/// ```
/// use lazarus_core::{walk_layers_mut, Layer, Linear, Sequential};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new().add(Linear::new(4, 2, &mut rng).unwrap());
/// // Zero every bias, wherever it sits.
/// walk_layers_mut(&mut model, &mut |_, layer| {
///     layer.visit_params_mut(&mut |name, p| if name == "bias" { p.value.fill(0.0) })
/// });
/// model.visit_params(&mut |name, p| if name == "0.bias" { assert!(p.value.iter().all(|&b| b == 0.0)) });
/// ```
pub fn walk_layers_mut(root: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut dyn Layer)) {
    fn walk(path: &mut Path, layer: &mut dyn Layer, f: &mut dyn FnMut(&str, &mut dyn Layer)) {
        f(&path.0, layer);
        layer.visit_children_mut(&mut |i, child| path.child(i, |path| walk(path, child, f)));
    }
    walk(&mut Path(String::new()), root, f);
}

/// What [`try_fold_leaves`] calls on each leaf: `f(path, leaf, value)` returns the value for the
/// next leaf, or stops the walk with an error.
pub type LeafFn<'a, T, E> = dyn FnMut(&str, &mut dyn Layer, T) -> Result<T, E> + 'a;

/// Run `root`'s leaves (the layers without children) in forward order, threading a value
/// through them: `f(path, leaf, value)` returns the value handed to the next leaf, and the
/// last one's is returned. The first error stops the walk and is returned.
///
/// This treats every container as a chain of its children, as [`Sequential`](crate::Sequential)
/// is: running a model one layer at a time gives the same output as its own forward pass. A
/// root without children is its own only leaf.
///
/// # Errors
/// The first error `f` returns.
///
/// ```
/// use lazarus_core::{try_fold_leaves, Layer, Linear, Mode, Sequential, Tensor};
/// use rand::{rngs::StdRng, SeedableRng};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new()
///     .add(Linear::new(3, 4, &mut rng)?)
///     .add(Sequential::new().add(Linear::new(4, 2, &mut rng)?));
/// let x = Tensor::ones(vec![5, 3]);
/// let mut widths = Vec::new();
/// let y = try_fold_leaves(&mut model, x.clone(), &mut |path, leaf, x: Tensor| {
///     let y = leaf.forward(x.view(), Mode::Eval)?.to_owned();
///     widths.push(format!("{path}: {}", y.shape()[1]));
///     Ok::<_, lazarus_core::Error>(y)
/// })?;
/// assert_eq!(widths, ["0: 4", "1.0: 2"]);
/// assert_eq!(y, model.forward(x.view(), Mode::Eval)?);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
pub fn try_fold_leaves<T, E>(
    root: &mut dyn Layer,
    init: T,
    f: &mut LeafFn<'_, T, E>,
) -> Result<T, E> {
    let mut value = Some(init);
    let mut error = None;
    walk_layers_mut(root, &mut |path, layer| {
        let mut leaf = true;
        layer.visit_children(&mut |_, _| leaf = false);
        // After an error `value` is gone, and the remaining leaves are skipped.
        if leaf && let Some(x) = value.take() {
            match f(path, layer, x) {
                Ok(y) => value = Some(y),
                Err(e) => error = Some(e),
            }
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(value.expect("no error, so the last leaf handed its value back")),
    }
}
