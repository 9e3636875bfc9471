//! Finite-difference gradient checking for any [`Layer`] and any [`Loss`].
//!
//! A hand-written backward is only as good as its test. The check compares the analytic
//! gradient with a central difference of the function itself:
//!
//! ```text
//! ∂J/∂θₖ ≈ (J(θ + h·eₖ) − J(θ − h·eₖ)) / 2h,     J(x) = Σ g ⊙ f(x)
//! ```
//!
//! `g` is a random upstream gradient, never all ones: with ones, a backward that forgets to
//! multiply by the upstream gradient (returning 0.01 instead of 0.01·g) would still pass. J is
//! summed in f64; f itself runs in f32, so h is large-ish (5e-3) and the tolerance 1e-2.
//! Inputs should stay away from kinks (ReLU at 0): [`random_input`] draws |x| ≥ 0.05, and a
//! kink's value is better tested exactly.

use std::fmt;

use rand::Rng;

use crate::loss::{Loss, Target};
use crate::{Layer, Mode, Result, Tensor};

/// Settings of a gradient check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradCheck {
    /// Finite-difference step h.
    pub step: f32,
    /// Largest accepted relative error ‖analytic − numeric‖ / (max(‖analytic‖, ‖numeric‖) + floor).
    pub tolerance: f64,
    /// Added to the denominator so that all-zero gradients compare in absolute terms.
    pub floor: f64,
}

impl Default for GradCheck {
    fn default() -> Self {
        Self {
            step: 5e-3,
            tolerance: 1e-2,
            floor: 1e-3,
        }
    }
}

/// The comparison for one tensor (the input, or one parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorCheck {
    /// `input`, or the parameter's path (`0.weight`).
    pub name: String,
    /// ‖analytic − numeric‖ / (max(‖analytic‖, ‖numeric‖) + floor).
    pub relative_error: f64,
    /// Largest element-wise |analytic − numeric|.
    pub max_abs_error: f64,
}

/// The result of a gradient check: one [`TensorCheck`] per tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport {
    /// The gradient with respect to the input: a layer's dL/dx, or a loss's dL/d(input).
    pub input: TensorCheck,
    /// One entry per parameter, in visiting order (none for a loss).
    pub params: Vec<TensorCheck>,
    /// The tolerance the check used.
    pub tolerance: f64,
}

impl GradCheckReport {
    /// The largest relative error over all tensors.
    pub fn worst(&self) -> f64 {
        self.params
            .iter()
            .chain(std::iter::once(&self.input))
            .map(|c| c.relative_error)
            .fold(0.0, f64::max)
    }

    /// Whether every tensor is within tolerance.
    pub fn passed(&self) -> bool {
        self.worst() <= self.tolerance
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "gradient check (tolerance {:e}):", self.tolerance)?;
        for c in std::iter::once(&self.input).chain(&self.params) {
            writeln!(
                f,
                "  {:<16} relative error {:.3e}, max abs error {:.3e}",
                c.name, c.relative_error, c.max_abs_error
            )?;
        }
        write!(
            f,
            "  worst {:.3e}: {}",
            self.worst(),
            if self.passed() { "passed" } else { "FAILED" }
        )
    }
}

/// A random tensor for gradient checks: values with |x| in [0.05, 1.5] and random signs, so
/// they sit on both sides of zero but never on a kink.
pub fn random_input(shape: &[usize], rng: &mut impl Rng) -> Tensor {
    Tensor::from_shape_fn(shape, |_| {
        let magnitude = rng.random_range(0.05f32..1.5);
        if rng.random_bool(0.5) {
            magnitude
        } else {
            -magnitude
        }
    })
}

impl GradCheck {
    /// Check `layer`'s dL/dx and every parameter's gradient at input `x`, with a random
    /// upstream gradient drawn from `rng`. Forward passes run in [`Mode::Train`].
    ///
    /// Leaves the parameters' values as they were and their gradients as computed by one
    /// backward pass.
    ///
    /// # Errors
    /// Any error of the layer's forward or backward.
    ///
    /// ```
    /// use lazarus_core::gradcheck::{random_input, GradCheck};
    /// use lazarus_core::Linear;
    /// use rand::{rngs::StdRng, SeedableRng};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let mut layer = Linear::new(4, 3, &mut rng).unwrap();
    /// let x = random_input(&[2, 4], &mut rng);
    /// let report = GradCheck::default().check_layer(&mut layer, &x, &mut rng).unwrap();
    /// assert!(report.passed(), "{report}");
    /// ```
    pub fn check_layer(
        &self,
        layer: &mut dyn Layer,
        x: &Tensor,
        rng: &mut impl Rng,
    ) -> Result<GradCheckReport> {
        layer.zero_grad();
        let output_shape = layer.forward(x.view(), Mode::Train)?.shape().to_vec();
        let upstream = random_input(&output_shape, rng);
        let analytic_input = layer.backward(upstream.view())?.to_owned();
        let mut analytic_params = Vec::new();
        layer.visit_params(&mut |name, p| analytic_params.push((name.to_string(), p.grad.clone())));

        let objective = |layer: &mut dyn Layer, x: &Tensor| -> Result<f64> {
            let y = layer.forward(x.view(), Mode::Train)?;
            Ok(y.iter()
                .zip(upstream.iter())
                .map(|(&y, &g)| f64::from(y) * f64::from(g))
                .sum())
        };

        let numeric_input = self.input_differences(x, |probe| objective(layer, probe))?;
        let input = self.compare("input", &analytic_input, &numeric_input);

        let mut params = Vec::with_capacity(analytic_params.len());
        for (index, (name, analytic)) in analytic_params.iter().enumerate() {
            let numeric = self.central_differences(analytic.len(), |k, delta| {
                nudge_param(layer, index, k, delta);
                let value = objective(layer, x);
                nudge_param(layer, index, k, -delta);
                value
            })?;
            params.push(self.compare(name, analytic, &numeric));
        }
        Ok(GradCheckReport {
            input,
            params,
            tolerance: self.tolerance,
        })
    }

    /// Check a loss's gradient with respect to its input at `input` for `target`.
    ///
    /// # Errors
    /// Any error of the loss.
    pub fn check_loss(
        &self,
        loss: &mut dyn Loss,
        input: &Tensor,
        target: Target<'_>,
    ) -> Result<GradCheckReport> {
        loss.forward(input.view(), target.clone())?;
        let analytic = loss.input_grad()?.to_owned();
        let numeric = self.input_differences(input, |probe| {
            loss.forward(probe.view(), target.clone()).map(f64::from)
        })?;
        Ok(GradCheckReport {
            input: self.compare("input", &analytic, &numeric),
            params: Vec::new(),
            tolerance: self.tolerance,
        })
    }

    /// The central differences of `objective` at `x`, element by element. Elements are probed
    /// through a flat row-major copy, so in row-major order whatever the caller's layout.
    fn input_differences(
        &self,
        x: &Tensor,
        mut objective: impl FnMut(&Tensor) -> Result<f64>,
    ) -> Result<Vec<f64>> {
        let mut probe = x.as_standard_layout().into_owned();
        self.central_differences(x.len(), |k, delta| {
            let flat = probe
                .as_slice_mut()
                .expect("a standard-layout copy is contiguous");
            let original = flat[k];
            flat[k] = original + delta;
            let value = objective(&probe);
            probe.as_slice_mut().expect("contiguous")[k] = original;
            value
        })
    }

    /// For k in 0..len: (J(+h) − J(−h)) / 2h, where `evaluate(k, δ)` returns J with element k
    /// moved by δ (and puts it back).
    fn central_differences(
        &self,
        len: usize,
        mut evaluate: impl FnMut(usize, f32) -> Result<f64>,
    ) -> Result<Vec<f64>> {
        let h = self.step;
        (0..len)
            .map(|k| Ok((evaluate(k, h)? - evaluate(k, -h)?) / (2.0 * f64::from(h))))
            .collect()
    }

    fn compare(&self, name: &str, analytic: &Tensor, numeric: &[f64]) -> TensorCheck {
        let (mut diff, mut norm_a, mut norm_n, mut max_abs) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (&a, &n) in analytic.iter().zip(numeric) {
            let a = f64::from(a);
            diff += (a - n).powi(2);
            norm_a += a * a;
            norm_n += n * n;
            max_abs = max_abs.max((a - n).abs());
        }
        TensorCheck {
            name: name.to_string(),
            relative_error: diff.sqrt() / (norm_a.sqrt().max(norm_n.sqrt()) + self.floor),
            max_abs_error: max_abs,
        }
    }
}

/// Add `delta` to element `element` of the `index`-th parameter in visiting order.
fn nudge_param(layer: &mut dyn Layer, index: usize, element: usize, delta: f32) {
    let mut seen = 0;
    layer.visit_params_mut(&mut |_, p| {
        if seen == index {
            let value = p
                .value
                .iter_mut()
                .nth(element)
                .expect("element index within the parameter");
            *value += delta;
        }
        seen += 1;
    });
}
