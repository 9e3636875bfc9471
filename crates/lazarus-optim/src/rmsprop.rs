//! RMSprop: divide the gradient by a running root-mean-square of recent gradients.

use crate::adam::lerp;
use crate::builder::shared_setters;
use crate::error::{check_eps, check_in, check_lr_and_decay};
use crate::rule::common_accessors;
use crate::{Buffer, FiniteCheck, GroupedOptimizer, PytorchDefaults, Result, UpdateRule};

/// RMSprop (Hinton's lecture 6e), as PyTorch's `torch.optim.RMSprop`.
///
/// Update of one parameter θ with gradient g (γ = `lr`, α = `alpha`, ε = `eps`,
/// μ = `momentum`, λ = `weight_decay`):
///
/// ```text
/// g ← −g                          if maximize
/// g ← g + λ·θ                     L2 weight decay
/// v ← α·v + (1 − α)·g²            square_avg, starts at 0
/// if centered:
///     ḡ ← α·ḡ + (1 − α)·g         grad_avg, starts at 0
///     d = √(v − ḡ²) + ε           an estimate of the gradient's standard deviation
/// else:
///     d = √v + ε
/// if μ > 0:
///     b ← μ·b + g / d             momentum_buffer, starts at 0 (unlike SGD's)
///     θ ← θ − γ·b
/// else:
///     θ ← θ − γ·g / d
/// ```
///
/// Where this differs from other write-ups: ε is added outside the square root (TensorFlow
/// adds it inside), there is no bias correction (unlike Adam, v starts at 0, so the first
/// steps are large: about γ/√(1 − α) = 10·γ with α = 0.99), and the momentum buffer starts at 0.
///
/// Defaults (PyTorch's): `lr = 1e-2`, `alpha = 0.99`, `eps = 1e-8`, `weight_decay = 0`,
/// `momentum = 0`, `centered = false`.
///
/// When to use: recurrent networks and non-stationary objectives (reinforcement learning);
/// like Adam it normalises each element's step, which keeps a few huge gradients from
/// blowing the weights up.
///
/// ```
/// use lazarus_optim::{Optimizer, RmsProp};
/// let opt = RmsProp::new(1e-2)?.alpha(0.9)?.momentum(0.5)?.centered(true);
/// assert!(opt.config().centered);
/// assert!(RmsProp::new(1e-2)?.momentum(-0.1).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
#[doc(alias = "RMSprop")]
pub type RmsProp = GroupedOptimizer<RmsPropConfig>;

/// [`RmsProp`]'s hyper-parameters, with PyTorch's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate γ (≥ 0).
    pub lr: f32,
    /// Smoothing constant α of the squared-gradient average, in `[0, 1]`.
    pub alpha: f64,
    /// ε > 0, added to the denominator.
    pub eps: f64,
    /// L2 penalty λ ≥ 0.
    pub weight_decay: f64,
    /// Momentum factor μ in `[0, 1)`. A μ that rounds to 0 as `f32` (1e-50) means no momentum
    /// and no `momentum_buffer`, as the `f32` update sees it.
    pub momentum: f64,
    /// Normalise by the estimated variance instead of the raw second moment.
    pub centered: bool,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

shared_setters!(RmsPropConfig: eps, momentum);

impl PytorchDefaults for RmsPropConfig {
    fn pytorch_defaults(lr: f32) -> Self {
        Self {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// RMSprop's own setters (`new`, `eps`, `momentum`, `weight_decay`, `maximize` are shared: see
/// [`GroupedOptimizer`]).
impl RmsProp {
    /// Smoothing constant α.
    ///
    /// # Errors
    /// If α is outside `[0, 1]`.
    pub fn alpha(self, alpha: f64) -> Result<Self> {
        self.configure(|c| c.alpha = alpha)
    }

    /// Centered RMSprop.
    pub fn centered(self, centered: bool) -> Self {
        self.configure(|c| c.centered = centered)
            .expect("centered never makes a valid configuration invalid")
    }
}

impl RmsPropConfig {
    /// Whether the update uses a momentum buffer: μ > 0 as the `f32` the element-wise pass
    /// uses, so a μ that rounds to 0 (1e-50) is no momentum. [`UpdateRule::buffers`] (which
    /// buffers exist) and [`UpdateRule::update`] (what each buffer is) both ask this, so they
    /// always agree.
    pub(crate) fn uses_momentum(&self) -> bool {
        self.momentum as f32 > 0.0
    }
}

impl UpdateRule for RmsPropConfig {
    const NAME: &'static str = "RMSprop";

    common_accessors!();

    fn cycled_momentum_mut(&mut self) -> Option<&mut f64> {
        Some(&mut self.momentum)
    }

    fn validate(&self) -> Result<()> {
        check_lr_and_decay(Self::NAME, self.lr, self.weight_decay)?;
        let (a, m) = (self.alpha, self.momentum);
        check_in(0.0..=1.0, Self::NAME, "alpha", a, "0 <= alpha <= 1")?;
        check_in(0.0..1.0, Self::NAME, "momentum", m, "0 <= momentum < 1")?;
        check_eps(Self::NAME, self.eps)
    }

    fn buffers(&self) -> &'static [Buffer] {
        const V: Buffer = Buffer::non_negative("square_avg"); // an average of g²
        const B: Buffer = Buffer::signed("momentum_buffer");
        const G: Buffer = Buffer::signed("grad_avg");
        match (self.uses_momentum(), self.centered) {
            (false, false) => &[V],
            (true, false) => &[V, B],
            (false, true) => &[V, G],
            (true, true) => &[V, B, G],
        }
    }

    fn update(&self, _step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool {
        let (lr, a, c, eps) = (
            self.lr,
            self.alpha as f32,
            (1.0 - self.alpha) as f32,
            self.eps as f32,
        );
        let (mu, wd) = (self.momentum as f32, self.weight_decay as f32);
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let (square_avg, rest) = state
            .split_first_mut()
            .expect("RMSprop always has square_avg");
        let (mut momentum_buffer, mut grad_avg) = match rest {
            [] => (None, None),
            [one] if self.uses_momentum() => (Some(one), None),
            [one] => (None, Some(one)),
            [b, ga] => (Some(b), Some(ga)),
            _ => unreachable!("RMSprop has at most three buffers"),
        };
        let mut flags = 0;
        for (i, (w, &g)) in value.iter_mut().zip(grad).enumerate() {
            let g = sign * g + wd * *w;
            let v = &mut square_avg[i];
            *v = *v * a + c * g * g;
            let d = match grad_avg.as_deref_mut() {
                Some(grad_avg) => {
                    grad_avg[i] = lerp(grad_avg[i], g, c);
                    (*v - grad_avg[i] * grad_avg[i]).sqrt() + eps
                }
                None => v.sqrt() + eps,
            };
            match momentum_buffer.as_deref_mut() {
                Some(b) => {
                    b[i] = b[i] * mu + g / d;
                    *w -= lr * b[i];
                }
                None => *w -= lr * (g / d),
            }
            flags = FiniteCheck::track(flags, *w);
        }
        FiniteCheck::finite(flags)
    }
}
