//! The thread count changes speed, never results: the same seed trains to the same weights,
//! bit for bit, with 1, 2 or 3 threads (see `lazarus_core::set_num_threads`).

use lazarus_core::gradcheck::random_input;
use lazarus_core::loss::{CrossEntropyLoss, Loss, Target};
use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

/// Ten steps of plain gradient descent on a 784-256-10 network at batch 48 (large enough that
/// the products and the zeroing are cut into pieces), returning every parameter.
fn train(threads: usize) -> Vec<Tensor> {
    set_num_threads(threads);
    let mut rng = StdRng::seed_from_u64(7);
    let mut model = Sequential::new()
        .add(Linear::new(784, 256, &mut rng).unwrap())
        .add(Linear::new(256, 10, &mut rng).unwrap());
    let x = random_input(&[48, 784], &mut rng);
    let labels: Vec<usize> = (0..48).map(|i| (i * 7) % 10).collect();
    let mut loss = CrossEntropyLoss::new();
    for _ in 0..10 {
        let logits = model.forward(x.view(), Mode::Train).unwrap();
        loss.forward(logits, Target::Classes(&labels)).unwrap();
        model.zero_grad();
        model.backward_params(loss.backward().unwrap()).unwrap();
        model.visit_params_mut(&mut |_, p| p.value.scaled_add(-0.1, &p.grad));
    }
    let mut params = Vec::new();
    model.visit_params(&mut |_, p| params.push(p.value.clone()));
    params
}

#[test]
fn same_weights_for_every_thread_count() {
    let one = train(1);
    assert_eq!(train(2), one);
    assert_eq!(train(3), one);
    set_num_threads(0);
}
