//! `Sequential`: layers run in order forward and in reverse order backward.

use std::fmt::{self, Write as _};

use crate::{Buffer, Layer, Mode, Param, Result, Tensor, TensorView, reuse_buffer};

/// A chain of layers: `y = fₙ(…f₂(f₁(x)))`, like PyTorch's `nn.Sequential`.
///
/// Backward is the chain rule applied in reverse: each layer turns dL/d(its output) into
/// dL/d(its input) and hands it to the layer before it.
///
/// Children are named by index, so parameters are `0.weight`, `0.bias`, `2.weight`, ... and
/// buffers `3.running_mean`, ...: the keys of the matching PyTorch `state_dict`. Errors from a child carry its index: `linear[0]`.
///
/// ```
/// use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(42);
/// let mut model = Sequential::new()
///     .add(Linear::new(2, 8, &mut rng).unwrap())
///     .add(Linear::new(8, 1, &mut rng).unwrap());
/// let mut names = Vec::new();
/// model.visit_params(&mut |name, _| names.push(name.to_string()));
/// assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
///
/// let x = Tensor::zeros(vec![5, 2]);
/// assert_eq!(model.forward(x.view(), Mode::Train).unwrap().shape(), &[5, 1]);
/// let dx = model.backward(Tensor::ones(vec![5, 1]).view()).unwrap();
/// assert_eq!(dx.shape(), &[5, 2]);
/// println!("{}", model.summary(&[5, 2]).unwrap());
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
    /// Output of an empty `Sequential` (the identity needs a buffer of its own to return).
    identity: Tensor,
}

impl Sequential {
    /// An empty chain (the identity function).
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a layer, builder style.
    #[allow(clippy::should_implement_trait)] // `add` reads as "add a layer", not arithmetic
    pub fn add(mut self, layer: impl Layer + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Append a boxed layer.
    pub fn push(&mut self, layer: Box<dyn Layer>) {
        self.layers.push(layer);
    }

    /// Number of direct children.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether the chain has no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The children, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// The children, mutably.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// A Keras-style table of each layer, its output shape for an input of shape `input`, and its
    /// parameter count, with the total. A model with buffers (state that is not trained, such
    /// as BatchNorm's running statistics) gets a `Buffers` column and total too, counted apart
    /// from the trainable parameters.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) from the first layer the shape does
    /// not fit.
    pub fn summary(&self, input: &[usize]) -> Result<String> {
        Ok(table(self, &child_rows(self, input)?))
    }

    /// Run backward through `layers` (the children from index `offset` on) in reverse order.
    fn backward_chain<'a>(
        layers: &'a mut [Box<dyn Layer>],
        offset: usize,
        grad_output: TensorView<'_>,
    ) -> Result<TensorView<'a>> {
        let (last, before) = layers
            .split_last_mut()
            .expect("callers pass at least one layer");
        let last_index = offset + before.len();
        let mut grad = last.backward(grad_output).map_err(|e| e.at(last_index))?;
        for (i, layer) in before.iter_mut().enumerate().rev() {
            grad = layer.backward(grad).map_err(|e| e.at(offset + i))?;
        }
        Ok(grad)
    }
}

impl Layer for Sequential {
    fn name(&self) -> &str {
        "sequential"
    }

    fn describe(&self) -> String {
        format!("Sequential({} layers)", self.layers.len())
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let Some((first, rest)) = self.layers.split_first_mut() else {
            reuse_buffer(&mut self.identity, x.raw_dim());
            self.identity.assign(&x);
            return Ok(self.identity.view());
        };
        let mut y = first.forward(x, mode).map_err(|e| e.at(0))?;
        for (i, layer) in rest.iter_mut().enumerate() {
            y = layer.forward(y, mode).map_err(|e| e.at(i + 1))?;
        }
        Ok(y)
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        if self.layers.is_empty() {
            reuse_buffer(&mut self.identity, grad_output.raw_dim());
            self.identity.assign(&grad_output);
            return Ok(self.identity.view());
        }
        Self::backward_chain(&mut self.layers, 0, grad_output)
    }

    fn backward_params(&mut self, grad_output: TensorView<'_>) -> Result<()> {
        match self.layers.split_first_mut() {
            None => Ok(()),
            Some((first, [])) => first.backward_params(grad_output).map_err(|e| e.at(0)),
            Some((first, rest)) => {
                let grad = Self::backward_chain(rest, 1, grad_output)?;
                first.backward_params(grad).map_err(|e| e.at(0))
            }
        }
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        let mut path = String::new();
        for (i, layer) in self.layers.iter().enumerate() {
            layer.visit_params(&mut |name, p| f(child_name(&mut path, i, name), p));
        }
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        let mut path = String::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.visit_params_mut(&mut |name, p| f(child_name(&mut path, i, name), p));
        }
    }

    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Buffer)) {
        let mut path = String::new();
        for (i, layer) in self.layers.iter().enumerate() {
            layer.visit_buffers(&mut |name, b| f(child_name(&mut path, i, name), b));
        }
    }

    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Buffer)) {
        let mut path = String::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            layer.visit_buffers_mut(&mut |name, b| f(child_name(&mut path, i, name), b));
        }
    }

    /// Each child zeroes its own gradients (no paths to build on the way).
    fn zero_grad(&mut self) {
        for layer in &mut self.layers {
            layer.zero_grad();
        }
    }

    fn visit_children(&self, f: &mut dyn FnMut(usize, &dyn Layer)) {
        for (i, layer) in self.layers.iter().enumerate() {
            f(i, layer.as_ref());
        }
    }

    fn visit_children_mut(&mut self, f: &mut dyn FnMut(usize, &mut dyn Layer)) {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            f(i, layer.as_mut());
        }
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let mut shape = input.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            shape = layer.output_shape(&shape).map_err(|e| e.at(i))?;
        }
        Ok(shape)
    }
}

/// The layers and their parameter counts (use [`Sequential::summary`] for output shapes).
impl fmt::Display for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<_> = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| Row {
                index: i.to_string(),
                describe: l.describe(),
                shape: None,
                params: l.param_count(),
                buffers: l.buffer_count(),
            })
            .collect();
        f.write_str(&table(self, &rows))
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.layers.iter().map(|l| l.describe()))
            .finish()
    }
}

fn table(model: &dyn Layer, rows: &[Row]) -> String {
    let shape_text =
        |s: &Option<Vec<usize>>| s.as_ref().map_or("-".to_string(), |s| format!("{s:?}"));
    let w0 = rows.iter().map(|r| r.index.len()).max().unwrap_or(0).max(1);
    let w1 = rows
        .iter()
        .map(|r| r.describe.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let w2 = rows
        .iter()
        .map(|r| shape_text(&r.shape).len())
        .max()
        .unwrap_or(0)
        .max(12);
    // The buffers column only for a model that has buffers: an MLP's table stays as it was.
    let buffers = model.buffer_count();
    let (header, w3) = if buffers > 0 {
        (format!("  {:>10}", "Buffers"), 12)
    } else {
        (String::new(), 0)
    };
    let rule = "-".repeat(w0 + w1 + w2 + 16 + w3);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:<w2$}  {:>10}{header}",
        "#", "Layer", "Output shape", "Params"
    );
    let _ = writeln!(out, "{rule}");
    for row in rows {
        let _ = write!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>10}",
            row.index,
            row.describe,
            shape_text(&row.shape),
            row.params
        );
        if buffers > 0 {
            let _ = write!(out, "  {:>10}", row.buffers);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{rule}");
    let _ = write!(out, "Total params: {}", model.param_count());
    if buffers > 0 {
        let _ = write!(out, "\nBuffers (not trained): {buffers}");
    }
    out
}

/// [`Sequential::summary`] for any model: the table of a container's children, or of the model
/// itself when it has none (a single layer).
///
/// ```
/// use lazarus_core::{Linear, model_summary};
/// use rand::{rngs::StdRng, SeedableRng};
/// let layer = Linear::new(4, 2, &mut StdRng::seed_from_u64(0))?;
/// assert!(model_summary(&layer, &[8, 4])?.contains("Total params: 10"));
/// # Ok::<(), lazarus_core::Error>(())
/// ```
///
/// # Errors
/// As [`Sequential::summary`].
pub fn model_summary(model: &dyn Layer, input: &[usize]) -> Result<String> {
    let mut rows = child_rows(model, input)?;
    if rows.is_empty() {
        rows.push(Row {
            index: "0".into(),
            describe: model.describe(),
            shape: Some(model.output_shape(input)?),
            params: model.param_count(),
            buffers: model.buffer_count(),
        });
    }
    Ok(table(model, &rows))
}

/// One row per child of `model`: its output shape for an input of shape `input`, its counts.
fn child_rows(model: &dyn Layer, input: &[usize]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut shape = input.to_vec();
    let mut failed = None;
    model.visit_children(&mut |i, layer| {
        if failed.is_some() {
            return;
        }
        match layer.output_shape(&shape) {
            Ok(next) => {
                shape = next;
                rows.push(Row {
                    index: i.to_string(),
                    describe: layer.describe(),
                    shape: Some(shape.clone()),
                    params: layer.param_count(),
                    buffers: layer.buffer_count(),
                });
            }
            Err(e) => failed = Some(e.at(i)),
        }
    });
    failed.map_or(Ok(rows), Err)
}

/// One line of [`Sequential::summary`]'s table.
struct Row {
    index: String,
    describe: String,
    shape: Option<Vec<usize>>,
    params: usize,
    buffers: usize,
}

/// `"{index}.{name}"` in `path` (reused, so naming every parameter allocates once): a child's
/// parameter or buffer name as the `Sequential` shows it, PyTorch's `state_dict` key.
fn child_name<'p>(path: &'p mut String, index: usize, name: &str) -> &'p str {
    path.clear();
    let _ = write!(path, "{index}.{name}");
    path
}
