//! `UpdateRule`: what makes SGD different from Adam, written once per optimizer.

use crate::Result;

/// One per-parameter state buffer of an [`UpdateRule`]: its PyTorch name, and which values it
/// can hold, so that an imported state can be checked before it is used.
///
/// ```
/// use lazarus_optim::{Buffer, BufferKind};
/// const SQUARES: Buffer = Buffer::non_negative("exp_avg_sq");
/// assert_eq!(SQUARES.kind, BufferKind::NonNegative);
/// assert_eq!(Buffer::signed("exp_avg").name, "exp_avg");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// PyTorch's name (`exp_avg`): the state key is `<parameter path>.<name>`.
    pub name: &'static str,
    /// The values the update rule can leave in it.
    pub kind: BufferKind,
}

/// Which values a [`Buffer`] can hold (besides being finite, which every buffer is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// Any finite value: a momentum buffer, a first moment (`momentum_buffer`, `exp_avg`,
    /// `grad_avg`).
    Signed,
    /// A running sum or average of squares, so never negative (`exp_avg_sq`,
    /// `max_exp_avg_sq`, `square_avg`, Adagrad's `sum`, Adadelta's `acc_delta`). The update
    /// takes its square root: a negative value would make the parameter NaN.
    NonNegative,
}

impl Buffer {
    /// A buffer holding any finite value.
    pub const fn signed(name: &'static str) -> Self {
        Self {
            name,
            kind: BufferKind::Signed,
        }
    }

    /// A buffer holding finite values `>= 0` (a running sum or average of squares).
    pub const fn non_negative(name: &'static str) -> Self {
        Self {
            name,
            kind: BufferKind::NonNegative,
        }
    }
}

/// One optimizer's hyper-parameters and its per-parameter update, applied by
/// [`GroupedOptimizer`](crate::GroupedOptimizer).
///
/// Everything every optimizer shares (visiting the model, parameter groups, weight decay by role,
/// checking the model did not change, state export and import) lives in `GroupedOptimizer`; a rule
/// says only what PyTorch's `_single_tensor_<name>` function says: how one parameter moves,
/// given its gradient and its state buffers. Implement it to write your own optimizer.
///
/// ```
/// use lazarus_optim::{Buffer, GroupedOptimizer, Optimizer, Result, UpdateRule};
///
/// /// Sign descent: θ ← θ − lr · sign(g).
/// #[derive(Debug, Clone, Copy)]
/// struct SignSgd { lr: f32, weight_decay: f64, maximize: bool }
///
/// impl UpdateRule for SignSgd {
///     const NAME: &'static str = "SignSGD";
///     fn lr(&self) -> f32 { self.lr }
///     fn lr_mut(&mut self) -> &mut f32 { &mut self.lr }
///     fn weight_decay_mut(&mut self) -> &mut f64 { &mut self.weight_decay }
///     fn maximize_mut(&mut self) -> &mut bool { &mut self.maximize }
///     fn validate(&self) -> Result<()> { Ok(()) }
///     fn buffers(&self) -> &'static [Buffer] { &[] }
///     fn update(&self, _step: u64, value: &mut [f32], grad: &[f32], _state: &mut [Vec<f32>]) -> bool {
///         for (v, g) in value.iter_mut().zip(grad) {
///             *v -= self.lr * g.signum();
///         }
///         value.iter().all(|v| v.is_finite())
///     }
/// }
///
/// let mut opt = GroupedOptimizer::from_rule(SignSgd { lr: 0.5, weight_decay: 0.0, maximize: false })?;
/// assert_eq!(opt.lr(), 0.5);
/// # Ok::<(), lazarus_optim::Error>(())
/// ```
///
/// Types: `lr` is `f32`, as in [`Optimizer::lr`](crate::Optimizer::lr); the other
/// hyper-parameters are `f64`, like the Python floats PyTorch keeps them in, so that
/// coefficients such as `1 − β₂` and `1 − β₂ᵗ` are computed as PyTorch computes them, and only
/// then rounded to `f32` for the element-wise pass.
pub trait UpdateRule: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// PyTorch's name of the optimizer, used in error messages: `SGD`, `Adam`, `RMSprop`.
    const NAME: &'static str;

    /// The learning rate.
    fn lr(&self) -> f32;

    /// The learning rate, to be set.
    fn lr_mut(&mut self) -> &mut f32;

    /// The weight-decay coefficient, to be set (zeroed for non-`Weight` parameters by default).
    fn weight_decay_mut(&mut self) -> &mut f64;

    /// Whether to maximise the objective (follow +g instead of −g), to be set.
    fn maximize_mut(&mut self) -> &mut bool;

    /// The hyper-parameter a momentum schedule cycles, to be set: SGD's and RMSprop's
    /// `momentum`, Adam's and AdamW's β₁ (PyTorch's OneCycleLR sets `momentum` where the
    /// optimizer has one, else `betas[0]`). `None` (the default) for a rule with neither
    /// (Adagrad, Adadelta): [`Optimizer::set_momentum`](crate::Optimizer::set_momentum) then
    /// fails with [`Error::NoMomentum`](crate::Error::NoMomentum).
    fn cycled_momentum_mut(&mut self) -> Option<&mut f64> {
        None
    }

    /// Check every hyper-parameter, as PyTorch's constructor does.
    ///
    /// # Errors
    /// [`Error::InvalidHyperParameter`](crate::Error::InvalidHyperParameter) naming the first bad
    /// one.
    fn validate(&self) -> Result<()>;

    /// The per-parameter state buffers these hyper-parameters need, by PyTorch's names, in the
    /// order [`update`](UpdateRule::update) receives them (Adam: `exp_avg`, `exp_avg_sq`, and
    /// `max_exp_avg_sq` with amsgrad), each with the values it can hold: a running sum or
    /// average of squares is [`Buffer::non_negative`], anything else [`Buffer::signed`]. An
    /// imported state is checked against this (finite values; `>= 0` where non-negative).
    fn buffers(&self) -> &'static [Buffer];

    /// The value every element of buffer `index` starts at (0 except Adagrad's `sum`).
    fn initial_value(&self, _index: usize) -> f32 {
        0.0
    }

    /// Update one parameter in place, in one fused pass over `value`, `grad` and the buffers
    /// (all the same length). `step` counts this parameter's updates including this one: 1 on
    /// the first.
    ///
    /// Returns whether every updated value is finite. The pass computes it as it writes (see
    /// [`FiniteCheck`]), so knowing costs nothing: the optimizer reports a step that blows a
    /// weight up at that step, and a separate pass over the weights would cost as much as the
    /// update itself.
    fn update(&self, step: u64, value: &mut [f32], grad: &[f32], state: &mut [Vec<f32>]) -> bool;
}

/// Whether every value an update writes is finite, gathered while it writes.
///
/// A value is NaN or ±∞ exactly when its 8 exponent bits are all ones. Adding one to the
/// exponent field (`(bits & 0x7f80_0000) + 0x0080_0000`) carries into the top bit only then, so
/// OR-ing that sum over every value written leaves the top bit set iff one was not finite: an
/// AND, an ADD and an OR per element, which every x86-64 vectorizes (SSE2 has no unsigned `max`,
/// the obvious alternative). A loop reports its piece with [`piece`](FiniteCheck::piece)
/// (pieces may run on several threads), and the update returns
/// [`all_finite`](FiniteCheck::all_finite).
///
/// ```
/// use lazarus_optim::FiniteCheck;
/// let check = FiniteCheck::new();
/// let mut flags = 0;
/// for w in [1.0f32, -3.0, f32::MAX, 0.0, -f32::MIN_POSITIVE] {
///     flags = FiniteCheck::track(flags, w);
/// }
/// check.piece(flags);
/// assert!(check.all_finite());
/// check.piece(FiniteCheck::track(0, f32::NEG_INFINITY));
/// assert!(!check.all_finite());
/// ```
#[derive(Debug, Default)]
pub struct FiniteCheck(std::sync::atomic::AtomicBool);

impl FiniteCheck {
    /// Set in [`track`](FiniteCheck::track)'s flags once a non-finite value went by.
    const NON_FINITE_BIT: u32 = 0x8000_0000;

    /// No piece reported yet: finite.
    pub fn new() -> Self {
        Self(std::sync::atomic::AtomicBool::new(false))
    }

    /// `flags` (start at 0) updated with the value `x` just written.
    #[inline(always)]
    pub fn track(flags: u32, x: f32) -> u32 {
        flags | ((x.to_bits() & 0x7f80_0000) + 0x0080_0000)
    }

    /// Whether a loop whose [`track`](FiniteCheck::track)ed flags are `flags` wrote only
    /// finite values (for an update that runs as one piece).
    pub fn finite(flags: u32) -> bool {
        flags & Self::NON_FINITE_BIT == 0
    }

    /// Report a piece whose [`track`](FiniteCheck::track)ed flags are `flags`.
    pub fn piece(&self, flags: u32) {
        if !Self::finite(flags) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Whether every piece reported so far was finite.
    pub fn all_finite(&self) -> bool {
        !self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The four field accessors of [`UpdateRule`] for a config struct with fields `lr: f32`,
/// `weight_decay: f64` and `maximize: bool`, written once for the built-in optimizers.
macro_rules! common_accessors {
    () => {
        fn lr(&self) -> f32 {
            self.lr
        }

        fn lr_mut(&mut self) -> &mut f32 {
            &mut self.lr
        }

        fn weight_decay_mut(&mut self) -> &mut f64 {
            &mut self.weight_decay
        }

        fn maximize_mut(&mut self) -> &mut bool {
            &mut self.maximize
        }
    };
}
pub(crate) use common_accessors;
