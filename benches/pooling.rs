//! MaxPool2d(2) training work at the MNIST CNN's two pooling shapes: forward (keeping the
//! positions of the maxima) then backward. `[64, 16, 28, 28]` follows the first convolution,
//! `[64, 32, 14, 14]` the second; 1 and 2 threads.
//!
//! `cargo bench --bench pooling`; PyTorch's numbers for the same work come from
//! `benches/compare/pooling.py` (not part of CI).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lazarus::core::gradcheck::random_input;
use lazarus::core::{Layer, MaxPool2d, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

fn max_pool2d(c: &mut Criterion) {
    let mut group = c.benchmark_group("max_pool2d_fwd_bwd");
    group.sample_size(30);
    for threads in [1, 2] {
        for shape in [[64, 16, 28, 28], [64, 32, 14, 14]] {
            set_num_threads(threads);
            let mut rng = StdRng::seed_from_u64(0);
            let mut pool = MaxPool2d::new(2).unwrap();
            let x = random_input(&shape, &mut rng);
            let g = random_input(&[shape[0], shape[1], shape[2] / 2, shape[3] / 2], &mut rng);
            group.throughput(Throughput::Elements(x.len() as u64));
            let [n, ch, h, w] = shape;
            group.bench_function(format!("{n}x{ch}x{h}x{w}/t{threads}"), |b| {
                b.iter(|| {
                    pool.forward(black_box(x.view()), Mode::Train).unwrap();
                    black_box(pool.backward(black_box(g.view())).unwrap());
                })
            });
        }
    }
    group.finish();
    set_num_threads(0);
}

criterion_group!(benches, max_pool2d);
criterion_main!(benches);
