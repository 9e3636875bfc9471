//! Adadelta: RMSprop with the learning rate replaced by a running RMS of past updates.

use crate::builder::shared_setters;
use crate::error::{check_eps, check_in, check_lr_and_decay};
use crate::rule::common_accessors;
use crate::{Buffer, FiniteCheck, GroupedOptimizer, PytorchDefaults, Result, UpdateRule};

/// Adadelta (Zeiler 2012), as PyTorch's `torch.optim.Adadelta`.
///
/// Update of one parameter θ with gradient g (γ = `lr`, ρ = `rho`, ε = `eps`,
/// λ = `weight_decay`):
///
/// ```text
/// g ← −g                          if maximize
/// g ← g + λ·θ                     L2 weight decay
/// v ← ρ·v + (1 − ρ)·g²            square_avg, starts at 0
/// Δ = √(u + ε) / √(v + ε) · g     u: acc_delta, the running average of past Δ², starts at 0
/// u ← ρ·u + (1 − ρ)·Δ²
/// θ ← θ − γ·Δ
/// ```
///
/// The ratio of the two RMS values gives Δ the units of θ, which is why the paper needs no
/// learning rate; PyTorch keeps γ as a multiplier (default 1.0). ε is inside both square roots
/// (unlike Adam's), and with u = 0 at the start the first steps are about √ε·g/|g|·√(1/(1−ρ)):
/// tiny, so Adadelta starts slowly.
///
/// Defaults (PyTorch's): `lr = 1.0`, `rho = 0.9`, `eps = 1e-6`, `weight_decay = 0`.
///
/// When to use: when you do not want to tune a learning rate; otherwise Adam usually trains
/// faster.
///
/// ```
/// use lazarus_optim::{Adadelta, Optimizer};
/// let opt = Adadelta::default_lr()?.rho(0.95)?;
/// assert_eq!(opt.lr(), 1.0);
/// assert!(Adadelta::new(1.0)?.rho(1.5).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub type Adadelta = GroupedOptimizer<AdadeltaConfig>;

/// [`Adadelta`]'s hyper-parameters, with PyTorch's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdadeltaConfig {
    /// Multiplier γ of the update (≥ 0; PyTorch's default 1.0).
    pub lr: f32,
    /// Decay rate ρ of both running averages, in `[0, 1]`.
    pub rho: f64,
    /// ε > 0, inside both square roots.
    pub eps: f64,
    /// L2 penalty λ ≥ 0.
    pub weight_decay: f64,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

shared_setters!(AdadeltaConfig: eps);

impl PytorchDefaults for AdadeltaConfig {
    fn pytorch_defaults(lr: f32) -> Self {
        Self {
            lr,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// Adadelta's own setters (`new`, `eps`, `weight_decay`, `maximize` are shared: see
/// [`GroupedOptimizer`]).
impl Adadelta {
    /// Adadelta with all of PyTorch's defaults, `lr = 1.0` included.
    ///
    /// # Errors
    /// Never in practice; `Result` for symmetry with [`Adadelta::new`].
    pub fn default_lr() -> Result<Self> {
        Self::new(1.0)
    }

    /// Decay rate ρ.
    ///
    /// # Errors
    /// If ρ is outside `[0, 1]`.
    pub fn rho(self, rho: f64) -> Result<Self> {
        self.configure(|c| c.rho = rho)
    }
}

impl UpdateRule for AdadeltaConfig {
    const NAME: &'static str = "Adadelta";

    common_accessors!();

    fn validate(&self) -> Result<()> {
        check_lr_and_decay(Self::NAME, self.lr, self.weight_decay)?;
        check_in(0.0..=1.0, Self::NAME, "rho", self.rho, "0 <= rho <= 1")?;
        check_eps(Self::NAME, self.eps)
    }

    fn buffers(&self) -> &'static [Buffer] {
        // Averages of g² and of Δ².
        const BUFFERS: &[Buffer] = &[
            Buffer::non_negative("square_avg"),
            Buffer::non_negative("acc_delta"),
        ];
        BUFFERS
    }

    fn update(&self, _step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool {
        let (lr, rho, c, eps) = (
            self.lr,
            self.rho as f32,
            (1.0 - self.rho) as f32,
            self.eps as f32,
        );
        let wd = self.weight_decay as f32;
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let [square_avg, acc_delta] = state else {
            unreachable!("Adadelta's buffers() lists square_avg and acc_delta")
        };
        let averages = square_avg.iter_mut().zip(acc_delta.iter_mut());
        let mut flags = 0;
        for ((w, &g), (v, u)) in value.iter_mut().zip(grad).zip(averages) {
            let g = sign * g + wd * *w;
            *v = *v * rho + c * g * g;
            let delta = (*u + eps).sqrt() / (*v + eps).sqrt() * g;
            *u = *u * rho + c * delta * delta;
            *w -= lr * delta;
            flags = FiniteCheck::track(flags, *w);
        }
        FiniteCheck::finite(flags)
    }
}
