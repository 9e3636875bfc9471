//! The thread count changes speed, never results: the same seed trains to the same weights,
//! bit for bit, with 1, 2 or 3 threads (see `lazarus_core::set_num_threads`). And the pool
//! under it runs every task once, nested calls included.

use lazarus_core::gradcheck::random_input;
use lazarus_core::loss::{CrossEntropyLoss, Loss, Target};
use lazarus_core::{
    Layer, Linear, Mode, Sequential, Tensor, parallel_for, parallel_zip, set_num_threads,
};
use rand::{SeedableRng, rngs::StdRng};
use std::sync::atomic::{AtomicUsize, Ordering};

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
        model.backward_params(loss.input_grad().unwrap()).unwrap();
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

// The pool itself (`src/kernels/threads.rs`, `pool.rs`).

#[test]
fn every_task_runs_once_for_any_thread_count() {
    for threads in [1, 2, 3, 5] {
        set_num_threads(threads);
        for tasks in [0, 1, 2, 7, 64] {
            let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..50 {
                parallel_for(tasks, &|t| {
                    counts[t].fetch_add(1, Ordering::Relaxed);
                });
            }
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 50));
        }
    }
    set_num_threads(0);
}

#[test]
fn parallel_zip_covers_every_element_once() {
    for threads in [1, 2, 3] {
        set_num_threads(threads);
        for len in [0, 5, 40_000, 100_003] {
            let mut a = vec![0.0f32; len];
            let mut b = vec![1.0f32; len];
            let c: Vec<f32> = (0..len).map(|i| i as f32).collect();
            parallel_zip([&mut a, &mut b], [&c], &|[a, b], [c]| {
                for ((a, b), c) in a.iter_mut().zip(b.iter_mut()).zip(c) {
                    *a += c;
                    *b += c;
                }
            });
            assert!(a.iter().zip(&c).all(|(a, c)| a == c));
            assert!(b.iter().zip(&c).all(|(b, c)| *b == c + 1.0));
        }
    }
    set_num_threads(0);
}

#[test]
fn nested_calls_run_serially() {
    set_num_threads(2);
    let total = AtomicUsize::new(0);
    parallel_for(4, &|_| {
        parallel_for(3, &|_| {
            total.fetch_add(1, Ordering::Relaxed);
        });
    });
    assert_eq!(total.into_inner(), 12);
}
