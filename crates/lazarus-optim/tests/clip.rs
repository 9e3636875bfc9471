//! Gradient clipping on fixed tensors: the returned norm and the clipped gradients; and
//! `clip_grad_norm_with_total`, given the norm measured once, against `clip_grad_norm`.

mod common;

use lazarus_core::{Layer, Linear, Param, ParamBag, ParamRole, Sequential, Tensor};
use lazarus_optim::{
    Error, NormType, clip_grad_norm, clip_grad_norm_with_total, clip_grad_value, grad_norm,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Two parameters with gradients [[3, 4], [0, −12]] and [1, −2, 2].
fn model() -> ParamBag {
    let p1 = Param::new(Tensor::zeros(vec![2, 2]), ParamRole::Weight);
    let p2 = Param::new(Tensor::zeros(vec![3]), ParamRole::Bias);
    let mut bag = ParamBag::new(vec![("weight", p1), ("bias", p2)]);
    bag.params[0].1.grad = Tensor::from_shape_vec(vec![2, 2], vec![3.0, 4.0, 0.0, -12.0]).unwrap();
    bag.params[1].1.grad = Tensor::from_shape_vec(vec![3], vec![1.0, -2.0, 2.0]).unwrap();
    bag
}

fn grads(bag: &ParamBag) -> Vec<f32> {
    bag.params
        .iter()
        .flat_map(|(_, p)| p.grad.iter().copied().collect::<Vec<_>>())
        .collect()
}

fn assert_grads(got: &[f32], want: &[f64], what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= 1e-6 * w.abs() + 1e-9,
            "{what}: grad[{i}] = {g}, expected {w}"
        );
    }
}

// import torch
// def grads():
//     p1 = torch.zeros(2, 2, requires_grad=True); p2 = torch.zeros(3, requires_grad=True)
//     p1.grad = torch.tensor([[3.0, 4.0], [0.0, -12.0]]); p2.grad = torch.tensor([1.0, -2.0, 2.0])
//     return [p1, p2]
// for nt in [2.0, float('inf'), 1.0]:
//     ps = grads()
//     n = torch.nn.utils.clip_grad_norm_(ps, max_norm=1.0, norm_type=nt)
//     print(nt, repr(n.item()), [p.grad.flatten().tolist() for p in ps])
// (torch 2.15.0)
const TORCH_L2: (f64, [f64; 7]) = (
    13.34166431427002,
    [
        0.22485947608947754,
        0.2998126447200775,
        0.0,
        -0.8994379043579102,
        0.07495316118001938,
        -0.14990632236003876,
        0.14990632236003876,
    ],
);
const TORCH_INF: (f64, [f64; 7]) = (
    12.0,
    [
        0.2499999850988388,
        0.3333333134651184,
        0.0,
        -0.9999999403953552,
        0.0833333283662796,
        -0.1666666567325592,
        0.1666666567325592,
    ],
);
const TORCH_L1: (f64, [f64; 7]) = (
    24.0,
    [
        0.1249999925494194,
        0.1666666567325592,
        0.0,
        -0.4999999701976776,
        0.0416666641831398,
        -0.0833333283662796,
        0.0833333283662796,
    ],
);

#[test]
fn clip_grad_norm_matches_pytorch_for_l2_inf_and_l1() {
    for (norm_type, (norm, clipped)) in [
        (NormType::L2, TORCH_L2),
        (NormType::Inf, TORCH_INF),
        (NormType::L1, TORCH_L1),
    ] {
        let mut bag = model();
        let total = clip_grad_norm(&mut bag, 1.0, norm_type, true).unwrap();
        assert!(
            (f64::from(total) - norm).abs() < 1e-6 * norm,
            "{norm_type}: norm {total}, expected {norm}"
        );
        assert_grads(&grads(&bag), &clipped, &format!("{norm_type}"));
    }
}

#[test]
fn clip_grad_norm_by_hand() {
    // ‖g‖₂ = √(9 + 16 + 0 + 144 + 1 + 4 + 4) = √178; coef = 2 / (√178 + 1e-6).
    let mut bag = model();
    let total = clip_grad_norm(&mut bag, 2.0, NormType::L2, false).unwrap();
    assert!((total - 178f32.sqrt()).abs() < 1e-6);
    let coef = 2.0 / (178f64.sqrt() + 1e-6);
    let want: Vec<f64> = [3.0, 4.0, 0.0, -12.0, 1.0, -2.0, 2.0]
        .iter()
        .map(|g| g * coef)
        .collect();
    assert_grads(&grads(&bag), &want, "by hand");
    // The clipped gradients now have norm max_norm (up to the 1e-6).
    assert!((grad_norm(&bag, NormType::L2).unwrap() - 2.0).abs() < 1e-5);
    // General p: (Σ|g|³)^(1/3).
    let p3 = (27.0f64 + 64.0 + 1728.0 + 1.0 + 8.0 + 8.0).cbrt();
    assert!((f64::from(grad_norm(&model(), NormType::P(3.0)).unwrap()) - p3).abs() < 1e-5);
}

#[test]
fn small_gradients_are_left_alone_but_the_norm_is_returned() {
    let mut bag = model();
    let total = clip_grad_norm(&mut bag, 100.0, NormType::L2, true).unwrap();
    assert!((total - 178f32.sqrt()).abs() < 1e-6);
    assert_eq!(grads(&bag), [3.0, 4.0, 0.0, -12.0, 1.0, -2.0, 2.0]);
}

#[test]
fn non_finite_norm_is_an_error_when_asked_and_leaves_gradients() {
    for bad in [f32::NAN, f32::INFINITY] {
        let mut bag = model();
        bag.params[1].1.grad[[0]] = bad;
        let err = clip_grad_norm(&mut bag, 1.0, NormType::L2, true).unwrap_err();
        assert!(matches!(err, Error::NonFiniteNorm { .. }), "{err}");
        assert!(err.to_string().contains("non-finite"), "{err}");
        assert_eq!(grads(&bag)[..4], [3.0, 4.0, 0.0, -12.0]);
        // Without the flag, as PyTorch: returns the norm and scales by NaN (or 0).
        let total = clip_grad_norm(&mut bag, 1.0, NormType::L2, false).unwrap();
        assert!(!total.is_finite());
    }
    let mut bag = model();
    bag.params[0].1.grad[[0, 0]] = f32::NAN;
    assert!(
        grad_norm(&bag, NormType::Inf).unwrap().is_nan(),
        "the inf norm must not hide a NaN"
    );
}

#[test]
fn clip_grad_value_clamps_each_element() {
    let mut bag = model();
    clip_grad_value(&mut bag, 2.5).unwrap();
    assert_eq!(grads(&bag), [2.5, 2.5, 0.0, -2.5, 1.0, -2.0, 2.0]);
    assert!(matches!(
        clip_grad_value(&mut bag, -1.0),
        Err(Error::InvalidHyperParameter { .. })
    ));
    assert!(matches!(
        clip_grad_norm(&mut bag, f32::NAN, NormType::L2, false),
        Err(Error::InvalidHyperParameter { .. })
    ));
    assert!(matches!(
        grad_norm(&bag, NormType::P(0.0)),
        Err(Error::InvalidHyperParameter { .. })
    ));
    // A model without parameters has norm 0.
    let empty = ParamBag::new(vec![]);
    assert_eq!(grad_norm(&empty, NormType::L2).unwrap(), 0.0);
    assert_eq!(empty.param_count(), 0);
}

/// Two linear layers whose gradients are random, some large, some tiny.
fn model_with_random_grads(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new()
        .add(Linear::new(5, 7, &mut rng).unwrap())
        .add(Linear::new(7, 3, &mut rng).unwrap());
    model.visit_params_mut(&mut |_, p| {
        let scale = 10f32.powi(rng.random_range(-3..4));
        p.grad
            .mapv_inplace(|_| scale * rng.random_range(-1.0f32..1.0));
    });
    model
}

fn grad_bits(model: &Sequential) -> Vec<u32> {
    let mut bits = Vec::new();
    model.visit_params(&mut |_, p| bits.extend(p.grad.iter().map(|g| g.to_bits())));
    bits
}

#[test]
fn with_a_precomputed_total_the_gradients_are_bit_identical_to_clip_grad_norm() {
    for seed in 0..20 {
        for norm_type in [NormType::L2, NormType::L1, NormType::Inf, NormType::P(3.0)] {
            // From far below the norm (clipped hard) to far above it (coef 1, still applied).
            for max_norm in [0.0, 1e-3, 0.5, 3.0, 1e6] {
                let mut reference = model_with_random_grads(seed);
                let mut shared = model_with_random_grads(seed);
                let total = clip_grad_norm(&mut reference, max_norm, norm_type, false).unwrap();
                let measured = grad_norm(&shared, norm_type).unwrap();
                assert_eq!(measured.to_bits(), total.to_bits());
                let coef = clip_grad_norm_with_total(&mut shared, max_norm, measured).unwrap();
                assert_eq!(
                    grad_bits(&shared),
                    grad_bits(&reference),
                    "seed {seed}, {norm_type}"
                );
                assert!(coef <= 1.0 && (coef < 1.0) == (max_norm / (total + 1e-6) < 1.0));
            }
        }
    }
}

#[test]
fn non_finite_totals_are_applied_as_pytorch_does_and_bad_arguments_are_errors() {
    let mut model = model_with_random_grads(1);
    let coef = clip_grad_norm_with_total(&mut model, 1.0, f32::INFINITY).unwrap();
    assert_eq!(coef, 0.0);
    assert!(grad_bits(&model).iter().all(|&g| f32::from_bits(g) == 0.0));
    let coef = clip_grad_norm_with_total(&mut model, 1.0, f32::NAN).unwrap();
    assert!(coef.is_nan());
    for (max_norm, total, parameter) in [
        (-1.0, 1.0, "max_norm"),
        (f32::NAN, 1.0, "max_norm"),
        (1.0, -1.0, "total_norm"),
    ] {
        let err = clip_grad_norm_with_total(&mut model, max_norm, total).unwrap_err();
        assert!(
            matches!(err, Error::InvalidHyperParameter { parameter: p, .. } if p == parameter),
            "{err:?}"
        );
    }
}
