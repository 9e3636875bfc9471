//! Weight decay by role: a Sequential of Linear and a PReLU-like parameter. Slopes and biases
//! are not decayed by default; a group or `decay_all` changes that in one line.

mod common;

use common::prelu_like;
use lazarus_core::{Layer, Linear, ParamRole, Sequential};
use lazarus_optim::{AdamW, Optimizer, Selector, Sgd};
use ndarray::array;

/// `0.weight` [2, 2], `0.bias` [2], `1.weight` [2] (PReLU's slope, role Slope), all gradients 0.
fn model() -> Sequential {
    let linear = Linear::from_params(
        array![[1.0f32, -2.0], [0.5, 3.0]].into_dyn(),
        Some(array![0.5f32, -1.0].into_dyn()),
    )
    .unwrap();
    Sequential::new().add(linear).add(prelu_like(2))
}

fn values(model: &Sequential) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    model.visit_params(&mut |path, p| {
        out.push((path.to_string(), p.value.iter().copied().collect()))
    });
    out
}

/// After one step with zero gradients: which parameters moved, by how much (value / initial).
fn ratios(opt: &mut dyn Optimizer) -> Vec<(String, f32)> {
    let mut m = model();
    let before = values(&m);
    m.zero_grad();
    opt.step(&mut m).unwrap();
    values(&m)
        .into_iter()
        .zip(before)
        .map(|((path, after), (_, before))| (path, after[0] / before[0]))
        .collect()
}

fn ratio(r: &[(String, f32)], path: &str) -> f32 {
    r.iter().find(|(p, _)| p == path).unwrap().1
}

#[test]
fn paths_and_roles_are_what_prelu_exposes() {
    let mut seen = Vec::new();
    model().visit_params(&mut |path, p| seen.push((path.to_string(), p.role())));
    let want = [
        ("0.weight", ParamRole::Weight),
        ("0.bias", ParamRole::Bias),
        ("1.weight", ParamRole::Slope),
    ];
    assert_eq!(seen, want.map(|(p, r)| (p.to_string(), r)));
}

#[test]
fn sgd_decays_weights_only_by_default() {
    // Zero gradient: θ ← θ − lr·λ·θ = 0.99·θ for a decayed parameter, unchanged otherwise.
    let r = ratios(&mut Sgd::new(0.1).unwrap().weight_decay(0.1).unwrap());
    assert!((ratio(&r, "0.weight") - 0.99).abs() < 1e-6);
    assert_eq!(ratio(&r, "0.bias"), 1.0);
    assert_eq!(
        ratio(&r, "1.weight"),
        1.0,
        "PReLU's slope must not be pulled towards 0 (back to ReLU)"
    );
}

#[test]
fn decay_all_is_pytorchs_behaviour() {
    let r = ratios(
        &mut Sgd::new(0.1)
            .unwrap()
            .weight_decay(0.1)
            .unwrap()
            .decay_all(),
    );
    for path in ["0.weight", "0.bias", "1.weight"] {
        assert!((ratio(&r, path) - 0.99).abs() < 1e-6, "{path}");
    }
}

#[test]
fn a_group_decays_one_role_with_its_own_coefficient() {
    let mut opt = Sgd::new(0.1).unwrap().weight_decay(0.1).unwrap();
    opt.group(ParamRole::Slope).weight_decay(0.5).unwrap();
    let r = ratios(&mut opt);
    assert!((ratio(&r, "0.weight") - 0.99).abs() < 1e-6);
    assert_eq!(ratio(&r, "0.bias"), 1.0);
    assert!((ratio(&r, "1.weight") - 0.95).abs() < 1e-6);
    // With decay_all, a group can still exclude a role: the usual "no decay on biases".
    let mut opt = Sgd::new(0.1)
        .unwrap()
        .weight_decay(0.1)
        .unwrap()
        .decay_all();
    opt.group(ParamRole::Bias).no_decay();
    let r = ratios(&mut opt);
    assert_eq!(ratio(&r, "0.bias"), 1.0);
    assert!((ratio(&r, "1.weight") - 0.99).abs() < 1e-6);
}

#[test]
fn adamw_decoupled_decay_follows_the_same_roles() {
    // Zero gradient: the Adam step is 0, only the decoupled decay (1 − lr·λ) acts.
    let r = ratios(&mut AdamW::new(0.1).unwrap().weight_decay(0.1).unwrap());
    assert!((ratio(&r, "0.weight") - 0.99).abs() < 1e-6);
    assert_eq!((ratio(&r, "0.bias"), ratio(&r, "1.weight")), (1.0, 1.0));
    let mut opt = AdamW::new(0.1).unwrap().weight_decay(0.1).unwrap();
    opt.group(Selector::path(|p| p == "1.weight"))
        .weight_decay(0.1)
        .unwrap();
    assert!((ratio(&ratios(&mut opt), "1.weight") - 0.99).abs() < 1e-6);
}

#[test]
fn groups_by_prefix_override_lr_and_keep_their_ratio_under_set_lr() {
    // Gradient 1 everywhere: θ moves by exactly −lr.
    let run = |opt: &mut dyn Optimizer| {
        let mut m = model();
        let before = values(&m);
        m.visit_params_mut(&mut |_, p| p.grad.fill(1.0));
        opt.step(&mut m).unwrap();
        values(&m)
            .into_iter()
            .zip(before)
            .map(|((path, a), (_, b))| (path, b[0] - a[0]))
            .collect::<Vec<_>>()
    };
    let mut opt = Sgd::new(0.1).unwrap();
    opt.group("1.").lr(0.01).unwrap();
    let moved = run(&mut opt);
    assert!((ratio(&moved, "0.weight") - 0.1).abs() < 1e-6);
    assert!((ratio(&moved, "1.weight") - 0.01).abs() < 1e-6);
    // A schedule halves the base lr: the group keeps its tenth.
    opt.set_lr(0.05);
    assert_eq!(opt.lr(), 0.05);
    let moved = run(&mut opt);
    assert!((ratio(&moved, "0.weight") - 0.05).abs() < 1e-6);
    assert!((ratio(&moved, "1.weight") - 0.005).abs() < 1e-6);
}

#[test]
fn later_groups_override_earlier_ones_and_defaults_still_reach_groups() {
    let mut opt = Sgd::new(0.1).unwrap();
    opt.group(ParamRole::Slope)
        .set(|c| c.momentum = 0.5)
        .unwrap();
    opt.group("1.weight").set(|c| c.momentum = 0.0).unwrap();
    let mut m = model();
    for _ in 0..2 {
        m.visit_params_mut(&mut |_, p| p.grad.fill(1.0));
        opt.step(&mut m).unwrap();
    }
    // No momentum buffer for alpha (the later group won), none for the others either.
    assert!(opt.state().tensors.is_empty());
    assert!(values(&m)[2].1.iter().all(|&a| (a - 0.05).abs() < 1e-6));
    // An invalid group edit is refused and not kept.
    assert!(
        opt.group(ParamRole::Bias)
            .set(|c| c.momentum = -1.0)
            .is_err()
    );
    m.visit_params_mut(&mut |_, p| p.grad.fill(1.0));
    opt.step(&mut m).unwrap();
    assert!(opt.state().tensors.is_empty());
}
