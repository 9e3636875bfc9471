//! One BatchNorm2d layer's training work at the CNN's shapes (after its first and second
//! convolution): forward in training mode (batch statistics, running statistics updated, x̂
//! kept), then the full backward (dL/dx, dL/dγ, dL/dβ). 1 and 2 threads.
//!
//! `cargo bench --bench batch_norm`; PyTorch's numbers for the same work come from
//! `benches/compare/batch_norm.py` (not part of CI).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lazarus::core::gradcheck::random_input;
use lazarus::core::{BatchNorm2d, Layer, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

fn batch_norm(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_norm2d_fwd_bwd");
    group.sample_size(30);
    for threads in [1, 2] {
        for shape in [[64, 16, 28, 28], [64, 32, 14, 14]] {
            set_num_threads(threads);
            let mut rng = StdRng::seed_from_u64(0);
            let mut layer = BatchNorm2d::new(shape[1]).unwrap();
            let x = random_input(&shape, &mut rng);
            let g = random_input(&shape, &mut rng);
            group.throughput(Throughput::Elements(x.len() as u64));
            let [n, ch, h, w] = shape;
            group.bench_function(format!("{n}x{ch}x{h}x{w}/t{threads}"), |b| {
                b.iter(|| {
                    layer.forward(black_box(x.view()), Mode::Train).unwrap();
                    black_box(layer.backward(black_box(g.view())).unwrap());
                })
            });
        }
    }
    group.finish();
    set_num_threads(0);
}

criterion_group!(benches, batch_norm);
criterion_main!(benches);
