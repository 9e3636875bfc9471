//! Adam, and the moment update it shares with AdamW.

use crate::error::{check, check_eps, check_in, check_lr_and_decay, finite_f32};
use crate::kernels::update_in_pieces;
use crate::rule::common_accessors;
use crate::{Buffer, FiniteCheck, GroupedOptimizer, HasEps, PytorchDefaults, Result, UpdateRule};

/// Adam (Kingma & Ba 2015), as PyTorch's `torch.optim.Adam`: per-element step sizes from running
/// averages of the gradient and of its square.
///
/// Update of one parameter θ with gradient g at step t (γ = `lr`, (β₁, β₂) = `betas`,
/// ε = `eps`, λ = `weight_decay`):
///
/// ```text
/// g ← −g                              if maximize
/// g ← g + λ·θ                         L2 weight decay, added to the gradient (see AdamW)
/// m ← β₁·m + (1 − β₁)·g               first moment  (exp_avg, starts at 0)
/// v ← β₂·v + (1 − β₂)·g²              second moment (exp_avg_sq, starts at 0)
/// v_max ← max(v_max, v)               if amsgrad (max_exp_avg_sq)
/// m̂ = m / (1 − β₁ᵗ)                   bias corrections: m and v start at 0, so early
/// v̂ = v / (1 − β₂ᵗ)   (v_max with amsgrad)         averages are too small without them
/// θ ← θ − γ·m̂ / (√v̂ + ε)
/// ```
///
/// Computed as PyTorch's single-tensor CPU path computes it: `step_size = γ / (1 − β₁ᵗ)` and
/// `√(1 − β₂ᵗ)` in f64, then `θ ← θ − step_size · m / (√v / √(1 − β₂ᵗ) + ε)` in f32. Note that ε
/// is added *after* dividing √v by its correction (the paper's ε̂ placement), and that amsgrad
/// keeps the maximum of the raw v, not of v̂ (PyTorch's choice; the paper's pseudo-code differs).
/// The first moment is PyTorch's `lerp` in its scalar form; PyTorch's vectorized lerp may fuse
/// its multiply-add, so `exp_avg` can differ from PyTorch's by an ulp in some elements.
///
/// Defaults (PyTorch's): `lr = 1e-3` is customary (pass it), `betas = (0.9, 0.999)`,
/// `eps = 1e-8`, `weight_decay = 0`, `amsgrad = false`, `maximize = false`.
///
/// When to use: the default choice to get a network training quickly, robust to gradient scale
/// (each element's step is about γ whatever the gradient's size, which also tames, but does not
/// cure, exploding gradients). With weight decay, prefer [`AdamW`](crate::AdamW): here the
/// decay passes through the adaptive denominator and is weakened for large-gradient weights.
///
/// ```
/// use lazarus_optim::{Adam, Optimizer};
/// let opt = Adam::new(1e-3)?.betas((0.9, 0.99))?.amsgrad(true);
/// assert_eq!(opt.config().betas, (0.9, 0.99));
/// assert!(Adam::new(1e-3)?.betas((1.0, 0.999)).is_err());
/// assert!(Adam::new(1e-3)?.eps(0.0).is_err());
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub type Adam = GroupedOptimizer<AdamConfig<false>>;

/// The hyper-parameters of [`Adam`] (`DECOUPLED = false`: weight decay added to the gradient) and
/// [`AdamW`](crate::AdamW) (`DECOUPLED = true`: weight decay shrinks θ directly), PyTorch's names.
/// One struct for both, as in PyTorch, where `AdamW` is `Adam(decoupled_weight_decay=True)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig<const DECOUPLED: bool> {
    /// Learning rate γ (≥ 0).
    pub lr: f32,
    /// (β₁, β₂), each in `[0, 1)`: the decay rates of the first and second moment averages.
    pub betas: (f64, f64),
    /// ε > 0, added to the denominator for numerical stability.
    pub eps: f64,
    /// Weight decay λ ≥ 0 (L2 for Adam, decoupled for AdamW).
    pub weight_decay: f64,
    /// Use the maximum of all second-moment averages so far (Reddi et al. 2018).
    pub amsgrad: bool,
    /// Maximise the objective instead of minimising it.
    pub maximize: bool,
}

/// Adam's defaults; AdamW's differ only in `weight_decay = 1e-2`, as in PyTorch.
impl<const DECOUPLED: bool> PytorchDefaults for AdamConfig<DECOUPLED> {
    fn pytorch_defaults(lr: f32) -> Self {
        Self {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: if DECOUPLED { 1e-2 } else { 0.0 },
            amsgrad: false,
            maximize: false,
        }
    }
}

impl<const DECOUPLED: bool> HasEps for AdamConfig<DECOUPLED> {
    fn eps_mut(&mut self) -> &mut f64 {
        &mut self.eps
    }
}

/// Setters of [`Adam`] and [`AdamW`](crate::AdamW) only (`new`, `eps`, `weight_decay`,
/// `maximize` are shared: see [`GroupedOptimizer`]).
impl<const DECOUPLED: bool> GroupedOptimizer<AdamConfig<DECOUPLED>> {
    /// (β₁, β₂).
    ///
    /// # Errors
    /// If either is outside `[0, 1)`.
    pub fn betas(self, betas: (f64, f64)) -> Result<Self> {
        self.configure(|c| c.betas = betas)
    }

    /// AMSGrad.
    pub fn amsgrad(self, amsgrad: bool) -> Self {
        self.configure(|c| c.amsgrad = amsgrad)
            .expect("amsgrad never makes a valid configuration invalid")
    }
}

/// PyTorch's `lerp(a, b, w) = a + w·(b − a)`, in the form its CPU kernel uses for each half of the
/// weight range (the other form is more accurate when w is close to 1).
#[inline(always)]
pub(crate) fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

impl<const DECOUPLED: bool> UpdateRule for AdamConfig<DECOUPLED> {
    const NAME: &'static str = if DECOUPLED { "AdamW" } else { "Adam" };

    common_accessors!();

    fn cycled_momentum_mut(&mut self) -> Option<&mut f64> {
        Some(&mut self.betas.0)
    }

    fn validate(&self) -> Result<()> {
        check_lr_and_decay(Self::NAME, self.lr, self.weight_decay)?;
        let (b1, b2) = self.betas;
        check_in(0.0..1.0, Self::NAME, "betas[0]", b1, "0 <= betas[0] < 1")?;
        check_in(0.0..1.0, Self::NAME, "betas[1]", b2, "0 <= betas[1] < 1")?;
        if DECOUPLED {
            // AdamW shrinks θ by (1 − lr·λ), computed in f64 and used as f32.
            let shrink = 1.0 - f64::from(self.lr) * self.weight_decay;
            check(
                finite_f32(shrink),
                Self::NAME,
                "weight_decay",
                self.weight_decay,
                "lr * weight_decay finite as f32 (AdamW multiplies θ by 1 - lr * weight_decay)",
            )?;
        }
        check_eps(Self::NAME, self.eps)
    }

    fn buffers(&self) -> &'static [Buffer] {
        const M: Buffer = Buffer::signed("exp_avg");
        const V: Buffer = Buffer::non_negative("exp_avg_sq"); // an average of g²
        const V_MAX: Buffer = Buffer::non_negative("max_exp_avg_sq"); // a maximum of those
        if self.amsgrad {
            &[M, V, V_MAX]
        } else {
            &[M, V]
        }
    }

    fn update(&self, step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool {
        let (b1, b2) = self.betas;
        let lr = f64::from(self.lr);
        // Scalars in f64, as PyTorch computes them from Python floats, then rounded to f32.
        let t = step as f64;
        let wd = self.weight_decay;
        let c = Coefficients {
            decay: wd != 0.0,
            shrink: (1.0 - lr * wd) as f32, // AdamW: θ ← (1 − γλ)·θ
            l2: wd as f32,                  // Adam: g ← g + λθ
            sign: if self.maximize { -1.0 } else { 1.0 },
            w1: (1.0 - b1) as f32,
            b2f: b2 as f32,
            c2: (1.0 - b2) as f32,
            step_size: (lr / (1.0 - b1.powf(t))) as f32,
            bias_correction2_sqrt: (1.0 - b2.powf(t)).sqrt() as f32,
            eps: self.eps as f32,
        };
        let [m, v, rest @ ..] = state else {
            unreachable!("Adam's buffers() lists exp_avg and exp_avg_sq")
        };
        // Pieces, threads and SIMD: `kernels::update_in_pieces`; the math: `adam_pass` below.
        match rest.first_mut() {
            None => update_in_pieces(
                [value, m.as_mut_slice(), v.as_mut_slice()],
                grad,
                #[inline(always)]
                |[w, m, v], g| adam_pass::<DECOUPLED>(&c, w, g, Moments { m, v, v_max: None }),
            ),
            Some(v_max) => update_in_pieces(
                [
                    value,
                    m.as_mut_slice(),
                    v.as_mut_slice(),
                    v_max.as_mut_slice(),
                ],
                grad,
                #[inline(always)]
                |[w, m, v, v_max], g| {
                    let v_max = Some(v_max);
                    adam_pass::<DECOUPLED>(&c, w, g, Moments { m, v, v_max })
                },
            ),
        }
    }
}

/// The per-element coefficients of one Adam step, rounded to f32.
#[derive(Clone, Copy)]
struct Coefficients {
    /// Whether there is weight decay (λ ≠ 0): then `shrink` applies for AdamW, `l2` for Adam.
    decay: bool,
    shrink: f32,
    sign: f32,
    l2: f32,
    w1: f32,
    b2f: f32,
    c2: f32,
    step_size: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
}

/// A piece of Adam's per-element state: `exp_avg`, `exp_avg_sq` and, with amsgrad,
/// `max_exp_avg_sq`.
struct Moments<'a> {
    m: &'a mut [f32],
    v: &'a mut [f32],
    v_max: Option<&'a mut [f32]>,
}

/// One Adam step over a piece of a parameter (the update rule in [`Adam`]'s docs), AdamW's
/// when `DECOUPLED`. Returns the [`FiniteCheck`] flags of the values written.
#[inline(always)]
fn adam_pass<const DECOUPLED: bool>(
    c: &Coefficients,
    w: &mut [f32],
    g: &[f32],
    moments: Moments<'_>,
) -> u32 {
    // Decay or not is decided once per piece, so that the loop without it (Adam's default)
    // spends no work and no register on it, and skips it as PyTorch does.
    match c.decay {
        true => adam_loop::<DECOUPLED, true>(c, w, g, moments),
        false => adam_loop::<DECOUPLED, false>(c, w, g, moments),
    }
}

/// [`adam_pass`] with weight decay on (`DECAY`) or off.
#[inline(always)]
fn adam_loop<const DECOUPLED: bool, const DECAY: bool>(
    c: &Coefficients,
    w: &mut [f32],
    g: &[f32],
    moments: Moments<'_>,
) -> u32 {
    let Moments { m, v, v_max } = moments;
    let c = *c;
    // m ← lerp(m, g, w1) in PyTorch's two forms, m + w1·(g − m) when |w1| < 0.5, else
    // g − (1 − w1)·(g − m), written as one, `start + k·(g − m)`, bit for bit the same: the
    // form is picked once, outside the loop, and the loop has no branch and vectorizes.
    let from_m = c.w1.abs() < 0.5;
    let k = if from_m { c.w1 } else { -(1.0 - c.w1) };
    // Decay, then both moment averages, for one element.
    let moments = |w: &mut f32, g: f32, m: &mut f32, v: &mut f32| {
        let mut g = c.sign * g;
        if DECAY && DECOUPLED {
            *w *= c.shrink; // AdamW: θ ← (1 − γλ)·θ
        } else if DECAY {
            g += c.l2 * *w; // Adam: g ← g + λθ
        }
        let start = if from_m { *m } else { g };
        *m = start + k * (g - *m);
        *v = *v * c.b2f + c.c2 * g * g;
    };
    let elements = w.iter_mut().zip(g).zip(m.iter_mut().zip(v));
    let mut flags = 0;
    match v_max {
        None => {
            for ((w, &g), (m, v)) in elements {
                moments(w, g, m, v);
                *w -= c.step_size * (*m / (v.sqrt() / c.bias_correction2_sqrt + c.eps));
                flags = FiniteCheck::track(flags, *w);
            }
        }
        Some(v_max) => {
            for (((w, &g), (m, v)), v_max) in elements.zip(v_max) {
                moments(w, g, m, v);
                *v_max = v_max.max(*v);
                *w -= c.step_size * (*m / (v_max.sqrt() / c.bias_correction2_sqrt + c.eps));
                flags = FiniteCheck::track(flags, *w);
            }
        }
    }
    flags
}
