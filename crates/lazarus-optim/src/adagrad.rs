//! Adagrad: per-element learning rates that shrink with the sum of squared gradients.

use crate::builder::shared_setters;
use crate::error::{check, check_eps, check_lr_and_decay, finite_f32};
use crate::rule::common_accessors;
use crate::{Buffer, FiniteCheck, GroupedOptimizer, PytorchDefaults, Result, UpdateRule};

/// Adagrad (Duchi et al. 2011), as PyTorch's `torch.optim.Adagrad`.
///
/// Update of one parameter θ with gradient g at step t (γ = `lr`, η = `lr_decay`,
/// λ = `weight_decay`, ε = `eps`):
///
/// ```text
/// g ← −g                          if maximize
/// g ← g + λ·θ                     L2 weight decay
/// γ̃ = γ / (1 + (t − 1)·η)         learning-rate decay
/// s ← s + g²                      sum, starts at initial_accumulator_value
/// θ ← θ − γ̃·g / (√s + ε)
/// ```
///
/// Defaults (PyTorch's): `lr = 1e-2`, `lr_decay = 0`, `weight_decay = 0`,
/// `initial_accumulator_value = 0`, `eps = 1e-10`.
///
/// When to use: sparse features (rare features keep a large step). The sum only grows, so the
/// step size only shrinks: long dense training stalls, which RMSprop, Adadelta and Adam fix
/// with running averages instead of a sum.
///
/// ```
/// use lazarus_optim::{Adagrad, Optimizer};
/// let opt = Adagrad::new(1e-2)?.lr_decay(1e-3)?.initial_accumulator_value(0.1)?;
/// assert_eq!(opt.config().eps, 1e-10);
/// assert!(Adagrad::new(1e-2)?.lr_decay(-1.0).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub type Adagrad = GroupedOptimizer<AdagradConfig>;

/// [`Adagrad`]'s hyper-parameters, with PyTorch's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate γ (≥ 0).
    pub lr: f32,
    /// Learning-rate decay η ≥ 0, finite.
    pub lr_decay: f64,
    /// L2 penalty λ ≥ 0.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum (≥ 0, finite).
    pub initial_accumulator_value: f64,
    /// ε > 0, finite, added to the denominator.
    pub eps: f64,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

shared_setters!(AdagradConfig: eps);

impl PytorchDefaults for AdagradConfig {
    fn pytorch_defaults(lr: f32) -> Self {
        Self {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// Adagrad's own setters (`new`, `eps`, `weight_decay`, `maximize` are shared: see
/// [`GroupedOptimizer`]).
impl Adagrad {
    /// Learning-rate decay η.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if η is negative,
    /// NaN or infinite.
    pub fn lr_decay(self, lr_decay: f64) -> Result<Self> {
        self.configure(|c| c.lr_decay = lr_decay)
    }

    /// Starting value of the sum.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) if negative, NaN or
    /// infinite (also once rounded to `f32`).
    pub fn initial_accumulator_value(self, value: f64) -> Result<Self> {
        self.configure(|c| c.initial_accumulator_value = value)
    }
}

impl UpdateRule for AdagradConfig {
    const NAME: &'static str = "Adagrad";

    common_accessors!();

    fn validate(&self) -> Result<()> {
        check_lr_and_decay(Self::NAME, self.lr, self.weight_decay)?;
        let (d, s) = (self.lr_decay, self.initial_accumulator_value);
        check(
            d >= 0.0 && d.is_finite(),
            Self::NAME,
            "lr_decay",
            d,
            "a finite lr_decay >= 0",
        )?;
        check(
            s >= 0.0 && finite_f32(s),
            Self::NAME,
            "initial_accumulator_value",
            s,
            "a finite initial_accumulator_value >= 0",
        )?;
        check_eps(Self::NAME, self.eps)
    }

    fn buffers(&self) -> &'static [Buffer] {
        const BUFFERS: &[Buffer] = &[Buffer::non_negative("sum")]; // a sum of g²
        BUFFERS
    }

    fn initial_value(&self, _index: usize) -> f32 {
        self.initial_accumulator_value as f32
    }

    fn update(&self, step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool {
        let clr = (f64::from(self.lr) / (1.0 + (step - 1) as f64 * self.lr_decay)) as f32;
        let (wd, eps) = (self.weight_decay as f32, self.eps as f32);
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let mut flags = 0;
        for ((w, &g), s) in value.iter_mut().zip(grad).zip(state[0].iter_mut()) {
            let g = sign * g + wd * *w;
            *s += g * g;
            *w -= clr * (g / (s.sqrt() + eps));
            flags = FiniteCheck::track(flags, *w);
        }
        FiniteCheck::finite(flags)
    }
}
