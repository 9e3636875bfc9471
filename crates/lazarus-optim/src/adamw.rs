//! AdamW: Adam with decoupled weight decay.

use crate::GroupedOptimizer;
use crate::adam::AdamConfig;

/// AdamW (Loshchilov & Hutter 2019), as PyTorch's `torch.optim.AdamW`: [`Adam`](crate::Adam)
/// with weight decay applied to θ directly instead of through the gradient.
///
/// Update of one parameter θ at step t (γ = `lr`, λ = `weight_decay`):
///
/// ```text
/// θ ← θ − γ·λ·θ                        decoupled decay first, on the raw θ
/// then Adam's moment update and step with the raw gradient g (no λθ added):
/// m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − γ·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
/// ```
///
/// Why decoupled: in Adam, λθ is added to g and then divided by √v̂, so weights with large
/// gradients are hardly decayed at all; here every weight shrinks by the same factor (1 − γλ)
/// per step, which is what "weight decay" was meant to be. Note the decay scales with γ, so a
/// schedule lowers it too (as in PyTorch).
///
/// Defaults (PyTorch's): `betas = (0.9, 0.999)`, `eps = 1e-8`, **`weight_decay = 1e-2`**
/// (Weight-role parameters only, by default: see
/// [`GroupedOptimizer`](crate::GroupedOptimizer)), `amsgrad = false`.
///
/// Its hyper-parameters, defaults and update are written once with Adam's, in `adam.rs`
/// ([`AdamConfig`](crate::AdamConfig)`<true>`).
///
/// When to use: Adam with regularisation; the usual choice for transformers and a good one for
/// MLPs and CNNs trained with Adam.
///
/// ```
/// use lazarus_optim::{AdamW, Optimizer};
/// let opt = AdamW::new(1e-3)?;
/// assert_eq!(opt.config().weight_decay, 1e-2);
/// let opt = AdamW::new(1e-3)?.weight_decay(0.05)?.amsgrad(true);
/// assert!(opt.config().amsgrad);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
pub type AdamW = GroupedOptimizer<AdamConfig<true>>;
