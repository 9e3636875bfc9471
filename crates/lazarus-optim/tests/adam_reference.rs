//! Adam's and AdamW's fast pass (pieces on threads, AVX2 where the CPU has it, the settings
//! turned into constants, lerp written in one form) against the update written out one element
//! at a time, in f32 as PyTorch's single-tensor CPU path computes it: bit for bit, for every
//! option, both forms of lerp, lengths that leave SIMD tails, and 1 to 3 threads.

use lazarus_core::{Param, ParamBag, ParamRole, Tensor};
use lazarus_optim::{AdamConfig, GroupedOptimizer, Optimizer};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// PyTorch's `lerp(a, b, w)`: `a + w·(b − a)` when |w| < 0.5, else `b − (b − a)·(1 − w)`.
fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// One element's state: θ, m, v, v_max.
#[derive(Clone, Copy, Default)]
struct Element {
    w: f32,
    m: f32,
    v: f32,
    v_max: f32,
}

/// One Adam step of one element, as the docs of `Adam` write it (scalars in f64, then f32).
fn reference_step<const DECOUPLED: bool>(
    c: &AdamConfig<DECOUPLED>,
    t: u64,
    e: &mut Element,
    g: f32,
) {
    let (b1, b2) = c.betas;
    let lr = f64::from(c.lr);
    let step_size = (lr / (1.0 - b1.powf(t as f64))) as f32;
    let bias_correction2_sqrt = (1.0 - b2.powf(t as f64)).sqrt() as f32;
    let mut g = if c.maximize { -g } else { g };
    if c.weight_decay != 0.0 {
        if DECOUPLED {
            e.w *= (1.0 - lr * c.weight_decay) as f32;
        } else {
            g += c.weight_decay as f32 * e.w;
        }
    }
    e.m = lerp(e.m, g, (1.0 - b1) as f32);
    e.v = e.v * b2 as f32 + (1.0 - b2) as f32 * g * g;
    e.v_max = e.v_max.max(e.v);
    let v = if c.amsgrad { e.v_max } else { e.v };
    e.w -= step_size * (e.m / (v.sqrt() / bias_correction2_sqrt + c.eps as f32));
}

/// Three steps of `opt` on one parameter of `len` elements against [`reference_step`].
fn check<const DECOUPLED: bool>(
    mut opt: GroupedOptimizer<AdamConfig<DECOUPLED>>,
    len: usize,
    rng: &mut StdRng,
) {
    let config = *opt.config();
    let mut want: Vec<Element> = (0..len)
        .map(|_| Element {
            w: rng.random_range(-1.0..1.0),
            ..Element::default()
        })
        .collect();
    let values = Tensor::from_shape_vec(vec![len], want.iter().map(|e| e.w).collect()).unwrap();
    let mut bag = ParamBag::new(vec![("w", Param::new(values, ParamRole::Weight))]);
    for t in 1..=3 {
        let grad: Vec<f32> = (0..len).map(|_| rng.random_range(-2.0..2.0)).collect();
        for (e, &g) in want.iter_mut().zip(&grad) {
            reference_step(&config, t, e, g);
        }
        bag.params[0].1.grad = Tensor::from_shape_vec(vec![len], grad).unwrap();
        opt.step(&mut bag).unwrap();
        let got = &bag.params[0].1.value;
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g.to_bits(),
                e.w.to_bits(),
                "{config:?}, len {len}, step {t}, element {i}: {g} vs {}",
                e.w
            );
        }
    }
}

/// Adam (`DECOUPLED = false`) or AdamW with lr 0.01, β₂ 0.99 and these β₁, weight decay,
/// amsgrad and maximize.
fn adam<const DECOUPLED: bool>(
    (beta1, weight_decay, amsgrad, maximize): (f64, f64, bool, bool),
) -> GroupedOptimizer<AdamConfig<DECOUPLED>> {
    GroupedOptimizer::<AdamConfig<DECOUPLED>>::new(0.01)
        .and_then(|o| o.betas((beta1, 0.99)))
        .and_then(|o| o.weight_decay(weight_decay))
        .unwrap()
        .amsgrad(amsgrad)
        .maximize(maximize)
}

#[test]
fn adam_and_adamw_equal_the_element_by_element_update_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(7);
    for threads in 1..=3 {
        lazarus_core::set_num_threads(threads);
        for len in [1, 7, 8, 9, 33, 4_099, 70_001] {
            // β₁ = 0.9 takes lerp's first form (1 − β₁ < 0.5), β₁ = 0.3 its second.
            for beta1 in [0.9, 0.3] {
                for weight_decay in [0.0, 0.05] {
                    for amsgrad in [false, true] {
                        for maximize in [false, true] {
                            let options = (beta1, weight_decay, amsgrad, maximize);
                            check(adam::<false>(options), len, &mut rng);
                            check(adam::<true>(options), len, &mut rng);
                        }
                    }
                }
            }
        }
    }
}
