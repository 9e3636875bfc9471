//! PReLU: Leaky ReLU whose negative slope is a trainable parameter.

use lazarus_core::{
    ActivationStats, Error, Layer, Mode, Param, ParamRole, Result, Tensor, TensorView, try_zeros,
};

use crate::buffers::Buffers;
use crate::elementwise::{chain, finite, invalid};
use crate::leaky_relu::{leaky_relu, leaky_relu_grad};
use crate::loops::{OWNED, with_simd};

/// Parametric rectified linear unit, as PyTorch's `nn.PReLU(num_parameters=1, init=0.25)`.
///
/// ```text
/// f(x)     = x if x > 0, else α · x
/// ∂f/∂x    = 1 if x > 0, else α                 (at x = 0: α, as in PyTorch)
/// ∂f/∂α    = 0 if x > 0, else x                 (at x = 0: 0)
/// dL/dα   += Σ x · dL/dy over the inputs with x ≤ 0, summed over the batch (and, per channel,
///            over the spatial positions)
/// ```
///
/// `α` is a [`Param`] named `alpha` with [`ParamRole::Slope`], of shape `[num_parameters]`,
/// initialized to `init`. With `num_parameters = 1` one slope is shared by every element; with
/// `num_parameters = C` each channel has its own, the channel axis being 1: `[batch, C]` for an
/// MLP, `[batch, C, h, w]` for a CNN (an input with fewer than 2 axes has one channel). `α` is
/// visited like any weight (`"1.alpha"` inside a `Sequential`), so optimizers, gradient
/// clipping, checkpoints and the gradient checker handle it without a PReLU special case.
/// Optimizers do not decay [`ParamRole::Slope`] by default: weight decay would pull α to 0 and
/// turn PReLU back into ReLU (PyTorch's docs warn against decaying it).
///
/// Output range `(-∞, ∞)`; unbounded above like ReLU.
///
/// Negative inputs pass `α · dL/dy` back: the network *learns* how much to leak, per channel if
/// you like, instead of fixing it as [`LeakyRelu`](crate::LeakyRelu) does. Diagnostics count
/// x ≤ 0 as "negative" (inactive but still learning).
///
/// When to use: the article's adaptive fix; a cheap gain on CNNs (He et al. 2015 introduced it
/// with the initialization that bears their name). With few data, a learned slope can overfit.
///
/// Backward keeps the input (dL/dα needs x itself, and α may become negative in training).
///
/// ```
/// use lazarus_activations::PRelu;
/// use lazarus_core::{Layer, Mode, Tensor};
/// let x = ndarray::arr1(&[-3.0f32, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]).into_dyn();
/// let mut prelu = PRelu::default(); // one alpha, 0.25
/// let y = prelu.forward(x.view(), Mode::Train)?;
/// assert_eq!(y.as_slice().unwrap(), &[-0.75, -0.5, -0.25, 0.0, 1.0, 2.0, 3.0]);
/// let dx = prelu.backward(Tensor::ones(vec![7]).view())?;
/// assert_eq!(dx.as_slice().unwrap(), &[0.25, 0.25, 0.25, 0.25, 1.0, 1.0, 1.0]);
/// // dL/dα = Σ x over x ≤ 0 = −3 − 2 − 1 + 0
/// let mut grads = Vec::new();
/// prelu.visit_params(&mut |name, p| grads.push((name.to_string(), p.grad[0])));
/// assert_eq!(grads, [("alpha".to_string(), -6.0)]);
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "PReLU")]
#[derive(Debug, Clone)]
pub struct PRelu {
    alpha: Param,
    buffers: Buffers,
    /// How the last training input was laid out over the slopes.
    layout: Layout,
    /// Per-slope sums of dL/dα for one backward pass, in f64.
    alpha_sums: Vec<f64>,
    /// Per-column partial sums in f32 for `[batch, C]` inputs (flushed into `alpha_sums`).
    column_sums: Vec<f32>,
}

/// How the elements of an input map to slopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One slope for every element.
    Shared,
    /// `[batch, C]`: element k uses slope k mod C.
    Columns { channels: usize },
    /// `[batch, C, spatial...]`: consecutive runs of `plane` elements share a slope.
    Planes { channels: usize, plane: usize },
}

/// Elements summed in f32 before their sum is added to an f64 total.
const BLOCK: usize = 512;
/// Rows of a `[batch, C]` input summed per column in f32 before flushing into f64.
const ROWS_PER_FLUSH: usize = 32;

impl PRelu {
    /// A PReLU with `num_parameters` slopes (1 = shared, or the number of channels), each
    /// initialized to `init` (PyTorch's defaults: 1 and 0.25).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `num_parameters` is 0 or too large for memory, or `init` is
    /// not finite.
    pub fn new(num_parameters: usize, init: f32) -> Result<Self> {
        if num_parameters == 0 {
            return Err(invalid(
                "prelu",
                "num_parameters",
                "must be at least 1, found 0".into(),
            ));
        }
        let init = finite("prelu", "init", init)?;
        let mut alpha: Tensor = try_zeros("prelu", "num_parameters", &[num_parameters])?;
        alpha.fill(init);
        Ok(Self {
            alpha: Param::new(alpha, ParamRole::Slope),
            buffers: Buffers::default(),
            layout: Layout::Shared,
            alpha_sums: vec![0.0; num_parameters],
            column_sums: Vec::new(),
        })
    }

    /// Number of slopes.
    pub fn num_parameters(&self) -> usize {
        self.alpha.len()
    }

    /// The slopes, `[num_parameters]`.
    pub fn alpha(&self) -> &Param {
        &self.alpha
    }

    /// The slopes, mutably.
    pub fn alpha_mut(&mut self) -> &mut Param {
        &mut self.alpha
    }

    /// How an input of shape `shape` maps to the slopes.
    fn layout_for(&self, shape: &[usize]) -> Result<Layout> {
        let n = self.num_parameters();
        if n == 1 {
            return Ok(Layout::Shared);
        }
        let channels = if shape.len() >= 2 { shape[1] } else { 1 };
        if channels != n {
            return Err(Error::ShapeMismatch {
                layer: "prelu".into(),
                expected: format!(
                    "{n} channels on axis 1 (num_parameters = {n}), as [batch, {n}] or [batch, {n}, ...]"
                ),
                found: shape.to_vec(),
            });
        }
        let plane: usize = shape[2..].iter().product();
        Ok(if plane == 0 {
            // No elements: nothing to map.
            Layout::Shared
        } else if shape.len() == 2 {
            Layout::Columns { channels }
        } else {
            Layout::Planes { channels, plane }
        })
    }

    /// Check that `alpha` (value and gradient) still has this layer's `[num_parameters]`
    /// shape: it is a public field, and the per-channel sums were sized at construction.
    fn check_alpha(&self) -> Result<()> {
        self.alpha.check("prelu alpha", &[self.alpha_sums.len()])
    }

    fn alphas(&self) -> &[f32] {
        self.alpha
            .value
            .as_slice()
            .expect("alpha is a 1-D tensor built contiguous")
    }
}

impl Default for PRelu {
    /// One shared slope initialized to 0.25, PyTorch's default.
    fn default() -> Self {
        Self::new(1, 0.25).expect("1 and 0.25 are valid")
    }
}

/// `y = prelu(x)` for one run of elements with their slopes, copying x into `saved` if given.
#[inline(always)]
fn forward_run(
    x: &[f32],
    y: &mut [f32],
    saved: Option<&mut [f32]>,
    slopes: impl Iterator<Item = f32>,
) {
    match saved {
        Some(saved) => {
            for (((y, s), &x), a) in y.iter_mut().zip(saved).zip(x).zip(slopes) {
                *s = x;
                *y = leaky_relu(x, a);
            }
        }
        None => {
            for ((y, &x), a) in y.iter_mut().zip(x).zip(slopes) {
                *y = leaky_relu(x, a);
            }
        }
    }
}

/// `y = prelu(x)` over contiguous slices, with an optional copy of x into `saved` (one read of
/// x for both).
#[inline(always)]
fn forward_slices(
    layout: Layout,
    alpha: &[f32],
    x: &[f32],
    y: &mut [f32],
    mut saved: Option<&mut [f32]>,
) {
    let run_len = match layout {
        Layout::Shared => x.len().max(1),
        Layout::Columns { channels } => channels,
        Layout::Planes { plane, .. } => plane,
    };
    for (k, start) in (0..x.len()).step_by(run_len).enumerate() {
        let range = start..start + run_len;
        let saved = saved.as_deref_mut().map(|s| &mut s[range.clone()]);
        let (x, y) = (&x[range.clone()], &mut y[range]);
        match layout {
            Layout::Shared => forward_run(x, y, saved, std::iter::repeat(alpha[0])),
            Layout::Columns { .. } => forward_run(x, y, saved, alpha.iter().copied()),
            Layout::Planes { channels, .. } => {
                forward_run(x, y, saved, std::iter::repeat(alpha[k % channels]))
            }
        }
    }
}

/// For one run of elements sharing slope `a`: write dL/dx and return Σ ∂f/∂α · dL/dy.
#[inline(always)]
fn backward_run(a: f32, x: &[f32], g: &[f32], dx: &mut [f32]) -> f64 {
    const LANES: usize = 16;
    let mut total = 0.0f64;
    for ((xb, gb), db) in x
        .chunks(BLOCK)
        .zip(g.chunks(BLOCK))
        .zip(dx.chunks_mut(BLOCK))
    {
        // Sixteen independent f32 accumulators: a reduction LLVM can vectorize (one serial sum
        // could not be reordered), summed into f64 once per block for accuracy.
        let mut lanes = [0.0f32; LANES];
        let whole = xb.len() / LANES * LANES;
        for ((xc, gc), dc) in xb[..whole]
            .chunks_exact(LANES)
            .zip(gb[..whole].chunks_exact(LANES))
            .zip(db[..whole].chunks_exact_mut(LANES))
        {
            for k in 0..LANES {
                // dL/dx = ∂f/∂x · dL/dy;  dL/dα += ∂f/∂α · dL/dy
                dc[k] = chain(leaky_relu_grad(xc[k], a), gc[k]);
                lanes[k] += chain(prelu_grad_alpha(xc[k]), gc[k]);
            }
        }
        for ((&x, &g), d) in xb[whole..].iter().zip(&gb[whole..]).zip(&mut db[whole..]) {
            *d = chain(leaky_relu_grad(x, a), g);
            total += f64::from(chain(prelu_grad_alpha(x), g));
        }
        total += lanes.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    total
}

/// dL/dx and the per-slope sums of dL/dα over contiguous slices.
#[inline(always)]
fn backward_slices(
    layout: Layout,
    alpha: &[f32],
    x: &[f32],
    g: &[f32],
    dx: &mut [f32],
    sums: &mut [f64],
    column_sums: &mut [f32],
) {
    match layout {
        Layout::Shared => sums[0] += backward_run(alpha[0], x, g, dx),
        Layout::Planes { channels, plane } => {
            for (k, ((xp, gp), dp)) in x
                .chunks_exact(plane)
                .zip(g.chunks_exact(plane))
                .zip(dx.chunks_exact_mut(plane))
                .enumerate()
            {
                sums[k % channels] += backward_run(alpha[k % channels], xp, gp, dp);
            }
        }
        Layout::Columns { channels } => {
            let rows = channels * ROWS_PER_FLUSH;
            for ((xb, gb), db) in x.chunks(rows).zip(g.chunks(rows)).zip(dx.chunks_mut(rows)) {
                column_sums.fill(0.0);
                for ((xr, gr), dr) in xb
                    .chunks_exact(channels)
                    .zip(gb.chunks_exact(channels))
                    .zip(db.chunks_exact_mut(channels))
                {
                    // Row by row, column sums side by side: a vertical add that vectorizes.
                    // Re-slicing to one length lets the compiler drop the bounds checks.
                    let n = channels;
                    let (xr, gr, dr) = (&xr[..n], &gr[..n], &mut dr[..n]);
                    let (alpha, col) = (&alpha[..n], &mut column_sums[..n]);
                    for j in 0..n {
                        dr[j] = chain(leaky_relu_grad(xr[j], alpha[j]), gr[j]);
                        col[j] += chain(prelu_grad_alpha(xr[j]), gr[j]);
                    }
                }
                for (total, &s) in sums.iter_mut().zip(column_sums.iter()) {
                    *total += f64::from(s);
                }
            }
        }
    }
}

impl Layer for PRelu {
    fn name(&self) -> &str {
        "prelu"
    }

    fn describe(&self) -> String {
        format!("PReLU(num_parameters={})", self.num_parameters())
    }

    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        self.check_alpha()?;
        let layout = self.layout_for(x.shape())?;
        // Channel indexing needs row-major order; only a non-contiguous view is copied.
        let x = x.as_standard_layout();
        let xs = x
            .as_slice()
            .expect("as_standard_layout gives a contiguous array");
        let alpha = self
            .alpha
            .value
            .as_slice()
            .expect("alpha is a 1-D tensor built contiguous");
        match mode {
            Mode::Eval => {
                let y = self
                    .buffers
                    .eval_output(x.raw_dim())
                    .as_slice_mut()
                    .expect(OWNED);
                with_simd(
                    #[inline(always)]
                    || forward_slices(layout, alpha, xs, y, None),
                );
            }
            Mode::Train => {
                self.layout = layout;
                let (saved, y) = self.buffers.train_saved_input(x.raw_dim());
                let saved = saved.as_slice_mut().expect(OWNED);
                let y = y.as_slice_mut().expect(OWNED);
                with_simd(
                    #[inline(always)]
                    || forward_slices(layout, alpha, xs, y, Some(saved)),
                );
            }
        }
        Ok(self.buffers.output())
    }

    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let layout = self.layout;
        self.check_alpha()?;
        let (saved, dx) = self.buffers.backward("prelu", grad_output.raw_dim())?;
        let g = grad_output.as_standard_layout();
        let gs = g
            .as_slice()
            .expect("as_standard_layout gives a contiguous array");
        let xs = saved.as_slice().expect(OWNED);
        let dx = dx.as_slice_mut().expect(OWNED);
        let alpha = self
            .alpha
            .value
            .as_slice()
            .expect("alpha is a 1-D tensor built contiguous");
        self.alpha_sums.fill(0.0);
        if let Layout::Columns { channels } = layout {
            self.column_sums.resize(channels, 0.0);
        }
        let (sums, columns) = (&mut self.alpha_sums, &mut self.column_sums);
        with_simd(
            #[inline(always)]
            || backward_slices(layout, alpha, xs, gs, dx, sums, columns),
        );
        // Parameter gradients accumulate (`+=`) until zero_grad, as in PyTorch.
        for (grad, &sum) in self.alpha.grad.iter_mut().zip(self.alpha_sums.iter()) {
            *grad += sum as f32;
        }
        Ok(self.buffers.grad_input())
    }

    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("alpha", &self.alpha);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("alpha", &mut self.alpha);
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.layout_for(input).map(|_| input.to_vec())
    }

    fn activation_stats(&self) -> Option<ActivationStats> {
        let x = self.buffers.last_pass()?;
        let negative = |v: f32| v <= 0.0;
        // The output buffer holds the training pass's output unless an evaluation pass came
        // since; then recompute it (with the current slopes).
        if self.buffers.output_is_from_last_train_pass() {
            return Some(ActivationStats::from_pass(
                x,
                self.buffers.output(),
                None,
                Some(&negative),
            ));
        }
        // The slopes may have been replaced since that pass; without usable ones there are
        // no statistics to give.
        self.check_alpha().ok()?;
        let mut y = Tensor::zeros(x.raw_dim());
        let ys = y.as_slice_mut().expect(OWNED);
        forward_slices(
            self.layout,
            self.alphas(),
            x.as_slice().expect(OWNED),
            ys,
            None,
        );
        Some(ActivationStats::from_pass(
            x,
            y.view(),
            None,
            Some(&negative),
        ))
    }
}

/// PReLU: `x` if x > 0, else `alpha · x` (the same function as [`leaky_relu`], with a learned
/// slope).
///
/// ```
/// use lazarus_activations::functional::prelu;
/// assert_eq!(prelu(-2.0, 0.25), -0.5);
/// ```
#[inline(always)]
pub fn prelu(x: f32, alpha: f32) -> f32 {
    leaky_relu(x, alpha)
}

/// ∂PReLU/∂x: 1 for x > 0, else `alpha` (at x = 0: alpha, PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::prelu_grad;
/// assert_eq!(prelu_grad(0.0, 0.25), 0.25);
/// ```
#[inline(always)]
pub fn prelu_grad(x: f32, alpha: f32) -> f32 {
    leaky_relu_grad(x, alpha)
}

/// ∂PReLU/∂alpha: 0 for x > 0, else `x` (so 0 at x = 0, as in PyTorch).
///
/// ```
/// use lazarus_activations::functional::prelu_grad_alpha;
/// assert_eq!(prelu_grad_alpha(-2.0), -2.0);
/// assert_eq!(prelu_grad_alpha(3.0), 0.0);
/// ```
#[inline(always)]
pub fn prelu_grad_alpha(x: f32) -> f32 {
    if x > 0.0 { 0.0 } else { x }
}
