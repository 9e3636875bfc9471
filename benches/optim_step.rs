//! One optimizer step over the parameters of a 784-256-128-10 MLP (235,146 parameters):
//! Adam, AdamW and SGD with momentum. `cargo bench --bench optim_step`.
//!
//! The state is built by a step before timing, so this measures the steady state: one check
//! pass over the parameters (paths, shapes) and one fused update pass, no allocation.

use criterion::{Criterion, criterion_group, criterion_main};
use lazarus_core::{Layer, Linear, Sequential};
use lazarus_optim::{Adam, AdamW, Optimizer, Sgd};
use rand::{SeedableRng, rngs::StdRng};
use std::hint::black_box;

fn mlp() -> Sequential {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new()
        .add(Linear::new(784, 256, &mut rng).unwrap())
        .add(Linear::new(256, 128, &mut rng).unwrap())
        .add(Linear::new(128, 10, &mut rng).unwrap());
    // Small, varied gradients, as after a backward pass.
    model.visit_params_mut(&mut |_, p| {
        let n = p.grad.len() as f32;
        p.grad
            .iter_mut()
            .enumerate()
            .for_each(|(i, g)| *g = 1e-3 * ((i as f32 / n) - 0.5));
    });
    model
}

fn bench_step(c: &mut Criterion, name: &str, mut opt: Box<dyn Optimizer>) {
    let mut model = mlp();
    opt.step(&mut model).unwrap(); // builds the state
    c.bench_function(name, |b| {
        b.iter(|| opt.step(black_box(&mut model)).unwrap())
    });
}

fn optim_step(c: &mut Criterion) {
    // One thread, as benches/compare/optim_step.py runs PyTorch (the updates of large
    // parameters are cut into parallel pieces when more threads are allowed).
    lazarus_core::set_num_threads(1);
    assert_eq!(mlp().param_count(), 235_146);
    bench_step(
        c,
        "adam_step_784_256_128_10",
        Box::new(Adam::new(1e-3).unwrap()),
    );
    bench_step(
        c,
        "adamw_step_784_256_128_10",
        Box::new(AdamW::new(1e-3).unwrap()),
    );
    bench_step(
        c,
        "sgd_momentum_step_784_256_128_10",
        Box::new(Sgd::new(0.01).unwrap().momentum(0.9).unwrap()),
    );
}

criterion_group!(benches, optim_step);
criterion_main!(benches);
