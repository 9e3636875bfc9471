//! Forward + backward of the article's four activations on a [16384, 256] f32 batch, against a
//! plain memory copy of the same bytes (an identity layer: copy x → y forward, dL/dy → dL/dx
//! backward). Activations are memory-bound: the copy is the floor.
//!
//! One thread, as `benches/compare/activations.py` runs PyTorch; the `_t2` group runs ReLU and
//! ELU again on 2 threads (tensors are cut into pieces of at least 32,768 elements).
//!
//! `cargo bench --bench activations`; PyTorch's numbers for the same work come from
//! `benches/compare/activations.py` (not part of CI). Divide a time by 16384 · 256 = 4,194,304
//! for ns/element.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use lazarus::activations::{Elu, LeakyRelu, PRelu, Relu};
use lazarus::core::gradcheck::random_input;
use lazarus::core::{Layer, Mode, Tensor};
use rand::{SeedableRng, rngs::StdRng};

const SHAPE: [usize; 2] = [16384, 256];

fn forward_backward(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let x = random_input(&SHAPE, &mut rng);
    let g = random_input(&SHAPE, &mut rng);

    lazarus::core::set_num_threads(1);
    let mut group = c.benchmark_group("activations_16384x256_fwd_bwd");
    group.throughput(Throughput::Elements((SHAPE[0] * SHAPE[1]) as u64));
    group.sample_size(30);
    let mut y = Tensor::zeros(SHAPE.to_vec());
    let mut dx = Tensor::zeros(SHAPE.to_vec());
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            y.as_slice_mut()
                .unwrap()
                .copy_from_slice(black_box(&x).as_slice().unwrap());
            dx.as_slice_mut()
                .unwrap()
                .copy_from_slice(black_box(&g).as_slice().unwrap());
            black_box((&y, &dx));
        })
    });
    let layers: Vec<(&str, Box<dyn Layer>)> = vec![
        ("relu", Box::new(Relu::new())),
        ("leaky_relu", Box::new(LeakyRelu::default())),
        ("prelu_256", Box::new(PRelu::new(256, 0.25).unwrap())),
        ("elu", Box::new(Elu::default())),
    ];
    bench_layers(&mut group, layers, &x, &g);
    group.finish();

    // ReLU and ELU again on 2 threads (the loops are cut into pieces of at least 32,768 elements).
    lazarus::core::set_num_threads(2);
    let mut group = c.benchmark_group("activations_16384x256_fwd_bwd_t2");
    group.throughput(Throughput::Elements((SHAPE[0] * SHAPE[1]) as u64));
    group.sample_size(30);
    let layers: Vec<(&str, Box<dyn Layer>)> = vec![
        ("relu", Box::new(Relu::new())),
        ("elu", Box::new(Elu::default())),
    ];
    bench_layers(&mut group, layers, &x, &g);
    group.finish();
}

/// Forward (training) then backward of each layer.
fn bench_layers(
    group: &mut BenchmarkGroup<'_, WallTime>,
    layers: Vec<(&str, Box<dyn Layer>)>,
    x: &Tensor,
    g: &Tensor,
) {
    for (name, mut layer) in layers {
        group.bench_function(name, |b| {
            b.iter(|| {
                layer.forward(black_box(x.view()), Mode::Train).unwrap();
                black_box(layer.backward(black_box(g.view())).unwrap());
            })
        });
    }
}

criterion_group!(benches, forward_backward);
criterion_main!(benches);
