//! End to end with nothing but core layers, an activation, a loss and gradient descent written
//! inline: a small MLP learns two interleaved spirals, and the same seed gives the same weights.

use lazarus::activations::Relu;
use lazarus::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Two interleaved spirals (one per class), with a little noise, from a seeded RNG.
fn spirals(n_per_class: usize, rng: &mut StdRng) -> (Tensor, Vec<usize>) {
    let mut points = Vec::with_capacity(4 * n_per_class);
    let mut labels = Vec::with_capacity(2 * n_per_class);
    for class in 0..2 {
        for i in 0..n_per_class {
            let t = i as f32 / n_per_class as f32;
            let radius = 0.1 + 0.9 * t;
            let angle = 3.0 * std::f32::consts::PI * t + class as f32 * std::f32::consts::PI;
            points.push(radius * angle.cos() + rng.random_range(-0.02..0.02));
            points.push(radius * angle.sin() + rng.random_range(-0.02..0.02));
            labels.push(class);
        }
    }
    (
        Tensor::from_shape_vec(vec![2 * n_per_class, 2], points).unwrap(),
        labels,
    )
}

/// Full-batch gradient descent: θ ← θ − lr · ∂L/∂θ, written out.
fn train(seed: u64) -> (Sequential, f64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (x, labels) = spirals(200, &mut rng);
    let mut model = Sequential::new()
        .add(Linear::new(2, 64, &mut rng).unwrap())
        .add(Relu::new())
        .add(Linear::new(64, 64, &mut rng).unwrap())
        .add(Relu::new())
        .add(Linear::new(64, 2, &mut rng).unwrap());
    let mut loss = CrossEntropyLoss::new();
    let lr = 0.5;
    for _ in 0..3000 {
        let logits = model.forward(x.view(), Mode::Train).unwrap();
        loss.forward(logits, Target::Classes(&labels)).unwrap();
        model.zero_grad();
        model.backward_params(loss.input_grad().unwrap()).unwrap();
        model.visit_params_mut(&mut |_, p| p.value.scaled_add(-lr, &p.grad));
    }
    let logits = model.forward(x.view(), Mode::Eval).unwrap();
    let correct = logits
        .outer_iter()
        .zip(&labels)
        .filter(|(row, label)| (row[1] > row[0]) == (**label == 1))
        .count();
    let accuracy = correct as f64 / labels.len() as f64;
    (model, accuracy)
}

fn weights(model: &Sequential) -> Vec<Tensor> {
    let mut out = Vec::new();
    model.visit_params(&mut |_, p| out.push(p.value.clone()));
    out
}

#[test]
fn an_mlp_learns_two_spirals_deterministically() {
    let (model, accuracy) = train(7);
    assert!(accuracy >= 0.95, "accuracy {accuracy}");
    let (again, _) = train(7);
    assert_eq!(
        weights(&model),
        weights(&again),
        "same seed, bit-identical weights"
    );
}
