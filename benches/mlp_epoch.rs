//! The MLP-epoch workload of `benches/README.md` at a tenth of the size (6,000 samples per
//! epoch, so a run takes a minute): 784-256-128-10 ReLU, softmax cross-entropy, SGD lr 0.05
//! momentum 0.9, shuffled, batch 128 and 32, 1 and 2 threads; the hand-written loop ("bare")
//! and `Trainer::fit` (silent, no diagnostics), to watch the framework's overhead.
//!
//! `cargo bench --bench mlp_epoch`. The full-size numbers, next to PyTorch's, come from
//! `examples/bench_mlp.rs` and `benches/compare/mlp_epoch.py`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lazarus::core::loss::{CrossEntropyLoss, Loss};
use lazarus::core::{Layer, Mode, Sequential, set_num_threads};
use lazarus::optim::{Optimizer, Sgd};
use lazarus::train::data::{DataLoader, Dataset, SyntheticDigits};
use lazarus::train::models::mlp;
use lazarus::train::{Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};

const SAMPLES: usize = 6_000;

fn model() -> Sequential {
    mlp(
        &[784, 256, 128, 10],
        "relu",
        0.0,
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap()
}

fn sgd() -> Sgd {
    Sgd::new(0.05).unwrap().momentum(0.9).unwrap()
}

/// One epoch of the hand-written loop.
fn bare_epoch(
    model: &mut Sequential,
    loss: &mut CrossEntropyLoss,
    optimizer: &mut Sgd,
    loader: &mut DataLoader<'_>,
    epoch: usize,
) -> f32 {
    let mut last = 0.0;
    let mut batches = loader.epoch(epoch);
    while let Some(batch) = batches.next_batch() {
        let logits = model.forward(batch.inputs.view(), Mode::Train).unwrap();
        last = loss.forward(logits, batch.target()).unwrap();
        model.zero_grad();
        model.backward_params(loss.input_grad().unwrap()).unwrap();
        optimizer.step(model).unwrap();
    }
    last
}

fn mlp_epoch(c: &mut Criterion) {
    let data: Dataset = SyntheticDigits::new(0).generate(SAMPLES).unwrap();
    let mut group = c.benchmark_group("mlp_epoch_6000");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SAMPLES as u64));
    for threads in [1, 2] {
        for batch in [128, 32] {
            set_num_threads(threads);
            let (mut m, mut loss, mut opt) = (model(), CrossEntropyLoss::new(), sgd());
            let mut loader = DataLoader::new(&data, batch).unwrap().shuffle(0);
            let mut epoch = 0;
            group.bench_function(format!("bare/b{batch}/t{threads}"), |b| {
                b.iter(|| {
                    epoch += 1;
                    black_box(bare_epoch(&mut m, &mut loss, &mut opt, &mut loader, epoch))
                })
            });

            let mut trainer = Some(
                Trainer::new(model(), CrossEntropyLoss::new(), sgd())
                    .batch_size(batch)
                    .unwrap()
                    .verbosity(Verbosity::Silent),
            );
            group.bench_function(format!("trainer/b{batch}/t{threads}"), |b| {
                b.iter(|| {
                    // `fit` trains up to `epochs`: ask for one more each time.
                    let t = trainer.take().expect("put back below");
                    let next = t.epochs_done() + 1;
                    let mut t = t.epochs(next);
                    black_box(t.fit(&data, None).unwrap());
                    trainer = Some(t);
                })
            });
        }
    }
    group.finish();
    set_num_threads(0);
}

criterion_group!(benches, mlp_epoch);
criterion_main!(benches);
