//! Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay.

use crate::builder::shared_setters;
use crate::error::{check, check_in, check_lr_and_decay};
use crate::kernels::update_in_pieces;
use crate::rule::common_accessors;
use crate::{Buffer, FiniteCheck, GroupedOptimizer, PytorchDefaults, Result, UpdateRule};

/// Stochastic gradient descent, as PyTorch's `torch.optim.SGD`.
///
/// Update of one parameter θ with gradient g at step t (γ = `lr`, μ = `momentum`,
/// τ = `dampening`, λ = `weight_decay`):
///
/// ```text
/// g ← −g                         if maximize
/// g ← g + λ·θ                    weight decay as L2 (Weight-role parameters only, by default)
/// if μ ≠ 0:
///     b ← g                      at t = 1: the buffer starts as the first gradient
///     b ← μ·b + (1 − τ)·g        at t > 1
///     g ← g + μ·b                if nesterov
///     g ← b                      otherwise
/// θ ← θ − γ·g
/// ```
///
/// Where this differs from textbooks: Sutskever et al. write `v ← μ·v + γ·g; θ ← θ − v`
/// (lr inside the buffer); PyTorch keeps lr outside, so changing lr mid-training takes effect at
/// once instead of fading in through the buffer. And the buffer starts as the first gradient
/// rather than at 0, so there is no slow start (and no dampening on step 1).
///
/// Defaults (PyTorch's): `momentum = 0`, `dampening = 0`, `weight_decay = 0`,
/// `nesterov = false`, `maximize = false`. PyTorch has no default lr for SGD; neither do we.
///
/// When to use: the baseline, and still the best-generalising choice for many CNNs with
/// momentum 0.9 and a step or cosine schedule. Momentum smooths noisy minibatch gradients and
/// speeds progress along shallow valleys; Nesterov looks one step ahead, which damps
/// oscillation.
///
/// ```
/// use lazarus_optim::{Optimizer, Sgd};
/// let opt = Sgd::new(0.1)?.momentum(0.9)?.nesterov(true)?.weight_decay(5e-4)?;
/// assert_eq!(opt.lr(), 0.1);
/// assert!(Sgd::new(0.1)?.nesterov(true).is_err()); // Nesterov needs momentum (set it first)
/// assert!(Sgd::new(-0.1).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "SGD")]
pub type Sgd = GroupedOptimizer<SgdConfig>;

/// [`Sgd`]'s hyper-parameters, with PyTorch's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ (≥ 0).
    pub lr: f32,
    /// Momentum factor μ, in `[0, 1)` (PyTorch accepts μ ≥ 1; its buffer then never forgets).
    pub momentum: f64,
    /// Dampening τ: the share of the new gradient left out of the buffer, in `[0, 1]`.
    pub dampening: f64,
    /// L2 penalty λ (≥ 0), added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening = 0).
    pub nesterov: bool,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

shared_setters!(SgdConfig: momentum);

impl PytorchDefaults for SgdConfig {
    fn pytorch_defaults(lr: f32) -> Self {
        Self {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

/// SGD's own setters (`new`, `momentum`, `weight_decay`, `maximize` are shared: see
/// [`GroupedOptimizer`]).
impl Sgd {
    /// Dampening τ.
    ///
    /// # Errors
    /// If τ is outside `[0, 1]`, or non-zero with Nesterov.
    pub fn dampening(self, dampening: f64) -> Result<Self> {
        self.configure(|c| c.dampening = dampening)
    }

    /// Nesterov momentum. Set `momentum` first.
    ///
    /// # Errors
    /// If `nesterov` is set without momentum or with dampening.
    pub fn nesterov(self, nesterov: bool) -> Result<Self> {
        self.configure(|c| c.nesterov = nesterov)
    }
}

impl UpdateRule for SgdConfig {
    const NAME: &'static str = "SGD";

    common_accessors!();

    fn cycled_momentum_mut(&mut self) -> Option<&mut f64> {
        Some(&mut self.momentum)
    }

    fn validate(&self) -> Result<()> {
        check_lr_and_decay(Self::NAME, self.lr, self.weight_decay)?;
        let (m, d) = (self.momentum, self.dampening);
        check_in(0.0..1.0, Self::NAME, "momentum", m, "0 <= momentum < 1")?;
        check_in(0.0..=1.0, Self::NAME, "dampening", d, "0 <= dampening <= 1")?;
        if self.nesterov {
            check(
                m > 0.0,
                Self::NAME,
                "momentum",
                m,
                "momentum > 0 with nesterov",
            )?;
            check(
                d == 0.0,
                Self::NAME,
                "dampening",
                d,
                "dampening = 0 with nesterov",
            )?;
        }
        Ok(())
    }

    fn buffers(&self) -> &'static [Buffer] {
        if self.momentum != 0.0 {
            const B: Buffer = Buffer::signed("momentum_buffer");
            &[B]
        } else {
            &[]
        }
    }

    fn update(&self, step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool {
        // PyTorch rounds each Python-float coefficient to f32 for the element-wise kernels.
        let (lr, mu, wd) = (self.lr, self.momentum as f32, self.weight_decay as f32);
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let keep = (1.0 - self.dampening) as f32;
        let Some(buf) = state.first_mut() else {
            // Plain SGD: θ ← θ − γ·(g + λθ).
            return update_in_pieces(
                [value],
                grad,
                #[inline(always)]
                |[w], g| {
                    let mut flags = 0;
                    for (w, &g) in w.iter_mut().zip(g) {
                        *w -= lr * (sign * g + wd * *w);
                        flags = FiniteCheck::track(flags, *w);
                    }
                    flags
                },
            );
        };
        let c = Coefficients {
            sign,
            wd,
            mu,
            keep,
            lr,
        };
        // With momentum: the two flags pick one of four loops outside the element loop, so
        // each loop is branch-free and vectorizes.
        update_in_pieces(
            [value, buf.as_mut_slice()],
            grad,
            #[inline(always)]
            |[w, b], g| match (step == 1, self.nesterov) {
                (true, false) => momentum_pass::<true, false>(w, g, b, c),
                (true, true) => momentum_pass::<true, true>(w, g, b, c),
                (false, false) => momentum_pass::<false, false>(w, g, b, c),
                (false, true) => momentum_pass::<false, true>(w, g, b, c),
            },
        )
    }
}

/// The per-element coefficients of a momentum step, rounded to f32.
#[derive(Clone, Copy)]
struct Coefficients {
    sign: f32,
    wd: f32,
    mu: f32,
    keep: f32,
    lr: f32,
}

/// One momentum step over a piece of a parameter (the update rule in [`Sgd`]'s docs); returns
/// the [`FiniteCheck`] flags of the values written.
#[inline(always)]
fn momentum_pass<const FIRST: bool, const NESTEROV: bool>(
    value: &mut [f32],
    grad: &[f32],
    buf: &mut [f32],
    c: Coefficients,
) -> u32 {
    let mut flags = 0;
    for ((w, &g), b) in value.iter_mut().zip(grad).zip(buf.iter_mut()) {
        let g = c.sign * g + c.wd * *w;
        *b = if FIRST { g } else { c.mu * *b + c.keep * g };
        let d = if NESTEROV { g + c.mu * *b } else { *b };
        *w -= c.lr * d;
        flags = FiniteCheck::track(flags, *w);
    }
    flags
}
