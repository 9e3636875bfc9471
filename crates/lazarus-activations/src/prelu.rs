//! PReLU: Leaky ReLU whose negative slope is a trainable parameter.
//!
//! Read it top to bottom: the layer, whose `forward` and `backward` hand the slopes to PReLU's
//! fast channel kernel ([`crate::kernels`], `kernels/prelu.rs`); the scalar functions
//! (`prelu`, `prelu_grad`, `prelu_grad_alpha`); and `prelu_forward`/`prelu_backward`, the same
//! computation in plain ndarray, dL/dα included, which the kernel is tested against.

use lazarus_core::{
    ActivationStats, Error, Layer, Mode, Param, ParamRole, Result, Tensor, TensorView,
    expect_shape, try_zeros,
};
use ndarray::IxDyn;

use crate::chain::chain;
use crate::kernels::PreluKernel;
use crate::settings::{finite, invalid};

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
/// `α` is a [`Param`] with [`ParamRole::Slope`], of shape `[num_parameters]`, initialized to
/// `init`. With `num_parameters = 1` one slope is shared by every element; with
/// `num_parameters = C` each channel has its own, the channel axis being 1: `[batch, C]` for an
/// MLP, `[batch, C, h, w]` for a CNN (an input with fewer than 2 axes has one channel). The
/// Rust API calls it [`alpha`](PRelu::alpha), as the papers do; PyTorch calls it `weight`, and
/// so does the parameter walk: `α` is visited like any weight, as `"weight"` (`"1.weight"`
/// inside a `Sequential`, `nn.PReLU`'s `state_dict` key), so optimizers, gradient clipping,
/// checkpoints and the gradient checker handle it without a PReLU special case, and code that
/// looks for slopes finds them by role, [`ParamRole::Slope`].
/// Optimizers do not decay [`ParamRole::Slope`] by default: weight decay would pull α to 0 and
/// turn PReLU back into ReLU (PyTorch's docs warn against decaying it).
///
/// Output range `(-∞, ∞)`; unbounded above like ReLU.
///
/// Negative inputs pass `α · dL/dy` back: the network *learns* how much to leak, per channel if
/// you like, instead of fixing it as [`LeakyRelu`](crate::LeakyRelu) does. Diagnostics count
/// x ≤ 0 as *silent*; a channel silent on every input is *inactive*, never dead, even when its
/// slope is exactly 0 (where ∂f/∂x = 0): its slope still receives dL/dα = Σ x · dL/dy and can
/// move away from 0. That is PReLU's whole point. (The definition:
/// [`ActivationStats`](lazarus_core::ActivationStats).)
///
/// When to use: the article's adaptive fix; a cheap gain on CNNs (He et al. 2015 introduced it
/// with the initialization that bears their name). With few data, a learned slope can overfit.
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
/// assert_eq!(grads, [("weight".to_string(), -6.0)]); // PyTorch's name for α
/// # Ok::<(), lazarus_core::Error>(())
/// ```
#[doc(alias = "PReLU")]
#[derive(Debug, Clone)]
pub struct PRelu {
    alpha: Param,
    /// The slope count given at construction (`alpha` is public and could be replaced).
    num_parameters: usize,
    kernel: PreluKernel,
}

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
            num_parameters,
            kernel: PreluKernel::new(num_parameters),
        })
    }

    /// Number of slopes.
    pub fn num_parameters(&self) -> usize {
        self.alpha.len()
    }

    /// The slopes α, `[num_parameters]` (PyTorch's `nn.PReLU.weight`, visited and saved as
    /// `weight`).
    pub fn alpha(&self) -> &Param {
        &self.alpha
    }

    /// The slopes α, mutably (PyTorch's `weight`).
    pub fn alpha_mut(&mut self) -> &mut Param {
        &mut self.alpha
    }
}

/// The slopes as a slice, after checking that `alpha` (value and gradient) still has the
/// layer's `[num_parameters]` shape: it is public, and could have been replaced.
fn slopes(alpha: &Param, num_parameters: usize) -> Result<&[f32]> {
    alpha.check("prelu alpha", &[num_parameters])?;
    Ok(alpha
        .value
        .as_slice()
        .expect("a checked 1-D tensor is contiguous"))
}

impl Default for PRelu {
    /// One shared slope initialized to 0.25, PyTorch's default.
    fn default() -> Self {
        Self::new(1, 0.25).expect("1 and 0.25 are valid")
    }
}

impl Layer for PRelu {
    fn name(&self) -> &str {
        "prelu"
    }

    fn describe(&self) -> String {
        format!("PReLU(num_parameters={})", self.num_parameters())
    }

    /// `y = x` where x > 0, else `α_c · x`, c the element's channel. Training keeps x: dL/dα
    /// needs x itself (and α may turn negative, so y could not tell the sides apart).
    fn forward(&mut self, x: TensorView<'_>, mode: Mode) -> Result<TensorView<'_>> {
        let alpha = slopes(&self.alpha, self.num_parameters)?;
        check_channels(x.shape(), self.num_parameters)?;
        self.kernel.forward(x, alpha, mode)
    }

    /// `dL/dx = ∂f/∂x · dL/dy` (dL/dy where x > 0, else α_c · dL/dy), and
    /// `dL/dα_c += Σ ∂f/∂α · dL/dy` (the sum of x · dL/dy over channel c's inputs with x ≤ 0).
    fn backward(&mut self, grad_output: TensorView<'_>) -> Result<TensorView<'_>> {
        let alpha = slopes(&self.alpha, self.num_parameters)?;
        let (grad_input, dalpha) = self.kernel.backward(grad_output, alpha)?;
        // Parameter gradients accumulate (`+=`) until zero_grad, as in PyTorch.
        for (grad, &d) in self.alpha.grad.iter_mut().zip(dalpha) {
            *grad += d as f32;
        }
        Ok(grad_input)
    }

    /// α under PyTorch's name for it, `weight` (the `state_dict` key of `nn.PReLU`).
    fn visit_params(&self, f: &mut dyn FnMut(&str, &Param)) {
        f("weight", &self.alpha);
    }

    fn visit_params_mut(&mut self, f: &mut dyn FnMut(&str, &mut Param)) {
        f("weight", &mut self.alpha);
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        check_channels(input, self.num_parameters).map(|()| input.to_vec())
    }

    /// Counts, per unit, the silent inputs (x ≤ 0). A channel whose slope is exactly 0 has a
    /// zero derivative there, yet it is *inactive*, not dead: its slope still receives
    /// dL/dα = Σ x·g (see [`ActivationStats`] for the definition).
    fn activation_stats(&self) -> Option<ActivationStats> {
        let alpha = slopes(&self.alpha, self.num_parameters).ok();
        let mut stats = self.kernel.stats(alpha)?;
        if let Some(alpha) = alpha {
            // One shared slope, or one per channel (= unit).
            let slope_of = |u: usize| if alpha.len() == 1 { alpha[0] } else { alpha[u] };
            stats.silent_derivative_zero = (0..stats.units).map(|u| slope_of(u) == 0.0).collect();
        }
        stats.silent_params_learn = true;
        Some(stats)
    }
}

/// Check that an input of shape `shape` fits `num_parameters` slopes: anything for one shared
/// slope, else `num_parameters` channels on axis 1.
fn check_channels(shape: &[usize], num_parameters: usize) -> Result<()> {
    let channels = if shape.len() >= 2 { shape[1] } else { 1 };
    if num_parameters == 1 || channels == num_parameters {
        return Ok(());
    }
    let n = num_parameters;
    Err(Error::ShapeMismatch {
        layer: "prelu".into(),
        expected: format!(
            "{n} channels on axis 1 (num_parameters = {n}), as [batch, {n}] or [batch, {n}, ...]"
        ),
        found: shape.to_vec(),
    })
}

/// PReLU: `x` if x > 0, else `alpha · x` (the function of [`leaky_relu`](crate::functional::leaky_relu),
/// with a learned slope).
///
/// ```
/// use lazarus_activations::functional::prelu;
/// assert_eq!(prelu(-2.0, 0.25), -0.5);
/// ```
#[inline(always)]
pub fn prelu(x: f32, alpha: f32) -> f32 {
    if x > 0.0 { x } else { x * alpha }
}

/// ∂PReLU/∂x: 1 for x > 0, else `alpha` (at x = 0: alpha, PyTorch's convention).
///
/// ```
/// use lazarus_activations::functional::prelu_grad;
/// assert_eq!(prelu_grad(0.0, 0.25), 0.25);
/// ```
#[inline(always)]
pub fn prelu_grad(x: f32, alpha: f32) -> f32 {
    if x > 0.0 { 1.0 } else { alpha }
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

/// Reference forward, in plain ndarray: `y = prelu(x, α_c)`, c the element's channel (axis 1;
/// every element uses `alpha[0]` when there is one slope).
///
/// # Errors
/// `ShapeMismatch` if `x` has no axis 1 of `alpha.len()` channels (and `alpha.len() > 1`).
pub fn prelu_forward(x: TensorView<'_>, alpha: &[f32]) -> Result<Tensor> {
    check_channels(x.shape(), alpha.len())?;
    let channel = |i: &IxDyn| if alpha.len() == 1 { 0 } else { i[1] };
    let mut y = x.to_owned();
    for (i, y) in y.indexed_iter_mut() {
        *y = prelu(*y, alpha[channel(&i)]);
    }
    Ok(y)
}

/// Reference backward, in plain ndarray: `(dL/dx, dL/dα)` with, for each element of channel c,
///
/// ```text
/// dL/dx    = ∂f/∂x · dL/dy     = dL/dy if x > 0, else α_c · dL/dy
/// dL/dα_c  = Σ ∂f/∂α · dL/dy   = Σ x · dL/dy over the channel's inputs with x ≤ 0 (summed in f64)
/// ```
///
/// # Errors
/// `ShapeMismatch` if the shapes differ or do not fit the slopes (see [`prelu_forward`]).
pub fn prelu_backward(
    x: TensorView<'_>,
    grad_output: TensorView<'_>,
    alpha: &[f32],
) -> Result<(Tensor, Vec<f32>)> {
    check_channels(x.shape(), alpha.len())?;
    expect_shape("prelu", x.shape(), grad_output.shape())?;
    let channel = |i: &IxDyn| if alpha.len() == 1 { 0 } else { i[1] };
    let mut dx = Tensor::zeros(x.raw_dim());
    let mut dalpha = vec![0.0f64; alpha.len()];
    // All three in logical (row-major) order, whatever their memory layout.
    for (((i, &x), &g), dx) in x.indexed_iter().zip(&grad_output).zip(&mut dx) {
        let c = channel(&i);
        *dx = chain(prelu_grad(x, alpha[c]), g);
        dalpha[c] += f64::from(chain(prelu_grad_alpha(x), g));
    }
    Ok((dx, dalpha.into_iter().map(|d| d as f32).collect()))
}
