//! One Conv2d layer's training work at the shapes of the MNIST CNN (issue 16), batch 64:
//! conv1 = Conv2d(1, 16, 3, padding=1) on 28×28, conv2 = Conv2d(16, 32, 3, padding=1) on
//! 14×14. Forward (keeping the input), then `backward` ("full": dW, db, dx) or
//! `backward_params` ("params": dW and db only, a first layer's backward). 1 and 2 threads.
//!
//! `cargo bench --bench conv2d`; criterion's throughput is multiply-adds per second (GFLOP/s
//! is twice that). PyTorch's numbers for the same work come from `benches/compare/conv2d.py`
//! (not part of CI).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lazarus::core::gradcheck::random_input;
use lazarus::core::{Conv2dSettings, Layer, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

/// (name, batch, in channels, out channels, height = width).
const SHAPES: [(&str, usize, usize, usize, usize); 2] =
    [("conv1", 64, 1, 16, 28), ("conv2", 64, 16, 32, 14)];

fn conv2d(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d_fwd_bwd");
    group.sample_size(30);
    for threads in [1, 2] {
        for (name, batch, cin, cout, hw) in SHAPES {
            for full in [true, false] {
                set_num_threads(threads);
                let mut rng = StdRng::seed_from_u64(0);
                let settings = Conv2dSettings::new(cin, cout, 3).padding(1);
                let mut layer = settings.build(&mut rng).unwrap();
                let x = random_input(&[batch, cin, hw, hw], &mut rng);
                let g = random_input(&[batch, cout, hw, hw], &mut rng);
                // Multiply-adds: forward, dL/dW, and dL/dx when full.
                let macs = batch * cout * hw * hw * cin * 9 * if full { 3 } else { 2 };
                group.throughput(Throughput::Elements(macs as u64));
                let kind = if full { "full" } else { "params" };
                group.bench_function(format!("{name}/{kind}/t{threads}"), |b| {
                    b.iter(|| {
                        layer.forward(black_box(x.view()), Mode::Train).unwrap();
                        if full {
                            black_box(layer.backward(black_box(g.view())).unwrap());
                        } else {
                            layer.backward_params(black_box(g.view())).unwrap();
                        }
                    })
                });
            }
        }
    }
    group.finish();
    set_num_threads(0);
}

criterion_group!(benches, conv2d);
criterion_main!(benches);
