//! One Linear layer's training work at the shapes of the 784-256-128-10 MLP: forward (keeping
//! the input) then backward. The first layer runs `backward_params` (no dL/dx, as in training);
//! the others the full `backward`. Batch 128 and 32, 1 and 2 threads.
//!
//! `cargo bench --bench linear`; PyTorch's numbers for the same work come from
//! `benches/compare/linear.py` (not part of CI).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lazarus::core::gradcheck::random_input;
use lazarus::core::{Layer, Linear, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("linear_fwd_bwd");
    group.sample_size(30);
    for threads in [1, 2] {
        for batch in [128, 32] {
            for (inputs, outputs) in [(784, 256), (256, 128), (128, 10)] {
                set_num_threads(threads);
                let mut rng = StdRng::seed_from_u64(0);
                let mut layer = Linear::new(inputs, outputs, &mut rng).unwrap();
                let x = random_input(&[batch, inputs], &mut rng);
                let g = random_input(&[batch, outputs], &mut rng);
                let first = inputs == 784;
                // Multiply-adds: forward, dL/dW, and dL/dx unless first.
                let macs = batch * inputs * outputs * if first { 2 } else { 3 };
                group.throughput(Throughput::Elements(macs as u64));
                let id = format!("{inputs}x{outputs}/b{batch}/t{threads}");
                group.bench_function(id, |b| {
                    b.iter(|| {
                        layer.forward(black_box(x.view()), Mode::Train).unwrap();
                        if first {
                            layer.backward_params(black_box(g.view())).unwrap();
                        } else {
                            black_box(layer.backward(black_box(g.view())).unwrap());
                        }
                    })
                });
            }
        }
    }
    group.finish();
    set_num_threads(0);
}

criterion_group!(benches, linear);
criterion_main!(benches);
