//! state_dict parity: a model file holds exactly the keys, shapes and dtypes of the matching
//! PyTorch `nn.Sequential.state_dict()`, so PyTorch loads it with `strict=True` and nothing
//! renamed; a training checkpoint's model part is the same file plus `optimizer.*` and
//! `scheduler.*` entries. Each test pins the literal list (sorted by key) for one model, as
//! its `nn.Sequential` twin's `state_dict()` lists it; another layer's parity is one more
//! `#[test]` calling [`pin`].
//!
//! The files stay in `target/tmp/state_dict/` (with `<name>.io.safetensors`: an input `x` and
//! lazarus's eval output `y`). PyTorch is no dependency of the tests; the check by hand, after
//! `cargo test --release -p lazarus-train --test state_dict_parity`, is
//! `python3 check.py target/tmp/state_dict` (with `pip install torch safetensors numpy`), where
//! `check.py` is:
//!
//! ```python
//! import sys, torch
//! from torch import nn
//! from safetensors.torch import load_file
//!
//! def block(c_in, c_out):
//!     conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)   # no bias before BatchNorm
//!     return [conv, nn.BatchNorm2d(c_out), nn.PReLU(), nn.MaxPool2d(2)]
//!
//! folder = sys.argv[1]
//! twins = {
//!     "mlp_prelu": lambda: nn.Sequential(nn.Linear(4, 8), nn.PReLU(8), nn.Linear(8, 3), nn.PReLU()),
//!     "running_stats": lambda: nn.Sequential(
//!         nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2)),
//!     "cnn_bn_prelu": lambda: nn.Sequential(
//!         *block(1, 16), *block(16, 32), nn.Flatten(), nn.Linear(1568, 10)),
//! }
//! for name, twin in twins.items():
//!     print(name, sorted((k, str(v.dtype), list(v.shape)) for k, v in twin().state_dict().items()))
//!     stems = (name, name + ".checkpoint") if name != "cnn_bn_prelu" else (name,)
//!     for stem in stems:
//!         model = twin().eval()
//!         state = load_file(f"{folder}/{stem}.safetensors")
//!         state = {k: v for k, v in state.items() if not k.startswith(("optimizer.", "scheduler."))}
//!         model.load_state_dict(state, strict=True)
//!         io = load_file(f"{folder}/{stem}.io.safetensors")
//!         with torch.no_grad():
//!             diff = (model(io["x"]) - io["y"]).abs().max().item()
//!         print(f"  {stem}: strict load ok, max |torch - lazarus| = {diff:.2e}")
//! ```
//!
//! `running_stats` is a test layer with BatchNorm1d's state (see `common/mod.rs`) whose eval
//! forward is BatchNorm's, so the same script checks buffers: `running_mean`, `running_var`
//! and the int64 `num_batches_tracked` of shape `[]`.

mod common;

use std::path::PathBuf;

use common::{RunningStats, read_tensors};
use lazarus_activations::{PRelu, Relu};
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
use lazarus_optim::{Adam, StepLr};
use lazarus_train::checkpoint::save_model;
use lazarus_train::data::Dataset;
use lazarus_train::models::cnn;
use lazarus_train::{Trainer, Verbosity};
use rand::{Rng, SeedableRng, rngs::StdRng};
use safetensors::{Dtype, tensor::TensorView as StView};

/// `(key, dtype, shape)`, as PyTorch's `state_dict()` would list it.
type Entry = (&'static str, &'static str, &'static [usize]);

/// `Linear(4, 8) → PReLU(8) → Linear(8, 3) → PReLU()`, with slopes other than 0.25.
fn mlp_prelu(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut per_channel = PRelu::new(8, 0.25).unwrap();
    per_channel
        .alpha_mut()
        .value
        .mapv_inplace(|_| rng.random_range(-0.5..0.5));
    Sequential::new()
        .add(Linear::new(4, 8, &mut rng).unwrap())
        .add(per_channel)
        .add(Linear::new(8, 3, &mut rng).unwrap())
        .add(PRelu::new(1, 0.1).unwrap())
}

const MLP_PRELU: [Entry; 6] = [
    ("0.bias", "F32", &[8]),
    ("0.weight", "F32", &[8, 4]),
    ("1.weight", "F32", &[8]),
    ("2.bias", "F32", &[3]),
    ("2.weight", "F32", &[3, 8]),
    ("3.weight", "F32", &[1]),
];

/// `Linear(4, 3) → [BatchNorm1d(3)'s state] → ReLU → Linear(3, 2)`, after three training-mode
/// batches (so the running statistics and the count are not their initial values).
fn running_stats(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(RunningStats::new(3))
        .add(Relu::new())
        .add(Linear::new(3, 2, &mut rng).unwrap());
    for _ in 0..3 {
        model.forward(input(&mut rng).view(), Mode::Train).unwrap();
    }
    model
}

const RUNNING_STATS: [Entry; 9] = [
    ("0.bias", "F32", &[3]),
    ("0.weight", "F32", &[3, 4]),
    ("1.bias", "F32", &[3]),
    ("1.num_batches_tracked", "I64", &[]),
    ("1.running_mean", "F32", &[3]),
    ("1.running_var", "F32", &[3]),
    ("1.weight", "F32", &[3]),
    ("3.bias", "F32", &[2]),
    ("3.weight", "F32", &[2, 3]),
];

/// The mnist example's `--model cnn-bn --activation prelu`: Conv2d (no bias) → BatchNorm2d →
/// PReLU → MaxPool2d, twice, then Flatten → Linear(1568, 10); after two training-mode batches, so the
/// running statistics and counts are not their initial values.
fn cnn_bn_prelu(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = cnn("prelu", true, &mut rng).unwrap();
    for _ in 0..2 {
        model
            .forward(image_input(&mut rng).view(), Mode::Train)
            .unwrap();
    }
    model
}

const CNN_BN_PRELU: [Entry; 16] = [
    ("0.weight", "F32", &[16, 1, 3, 3]),
    ("1.bias", "F32", &[16]),
    ("1.num_batches_tracked", "I64", &[]),
    ("1.running_mean", "F32", &[16]),
    ("1.running_var", "F32", &[16]),
    ("1.weight", "F32", &[16]),
    ("2.weight", "F32", &[1]),
    ("4.weight", "F32", &[32, 16, 3, 3]),
    ("5.bias", "F32", &[32]),
    ("5.num_batches_tracked", "I64", &[]),
    ("5.running_mean", "F32", &[32]),
    ("5.running_var", "F32", &[32]),
    ("5.weight", "F32", &[32]),
    ("6.weight", "F32", &[1]),
    ("9.bias", "F32", &[10]),
    ("9.weight", "F32", &[10, 1568]),
];

/// `[3, 1, 28, 28]` pixels in [0, 1], as the example's CNNs see them.
fn image_input(rng: &mut StdRng) -> Tensor {
    Tensor::from_shape_fn(vec![3, 1, 28, 28], |_| rng.random_range(0.0..1.0))
}

fn input(rng: &mut StdRng) -> Tensor {
    Tensor::from_shape_fn(vec![6, 4], |_| rng.random_range(-2.0..2.0))
}

fn folder() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("state_dict");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `(key, dtype, shape)` of every tensor in the file at `path`, sorted by key.
fn entries(path: &std::path::Path) -> Vec<(String, String, Vec<usize>)> {
    let mut out: Vec<_> = read_tensors(path)
        .into_iter()
        .map(|(key, dtype, shape, _)| (key, format!("{dtype:?}"), shape))
        .collect();
    out.sort();
    out
}

fn owned(expected: &[Entry]) -> Vec<(String, String, Vec<usize>)> {
    expected
        .iter()
        .map(|(k, d, s)| (k.to_string(), d.to_string(), s.to_vec()))
        .collect()
}

/// Write `<stem>.io.safetensors`: a fixed input `x` and `model`'s eval output `y` for it.
fn write_io(stem: &str, model: &mut dyn Layer) {
    write_io_for(stem, model, flat_input());
}

/// [`write_io`] with the input `x`.
fn write_io_for(stem: &str, model: &mut dyn Layer, x: Tensor) {
    let y = model.forward(x.view(), Mode::Eval).unwrap().to_owned();
    let bytes = |t: &Tensor| t.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    let (xb, yb) = (bytes(&x), bytes(&y));
    let views = [
        (
            "x",
            StView::new(Dtype::F32, x.shape().to_vec(), &xb).unwrap(),
        ),
        (
            "y",
            StView::new(Dtype::F32, y.shape().to_vec(), &yb).unwrap(),
        ),
    ];
    let out = safetensors::serialize(views, None).unwrap();
    std::fs::write(folder().join(format!("{stem}.io.safetensors")), out).unwrap();
}

/// Save `model` as `<stem>.safetensors` and check its entries are `expected`, literally; `x`
/// is the input of `<stem>.io.safetensors`.
fn pin(stem: &str, mut model: Sequential, expected: &[Entry], x: Tensor) {
    let path = folder().join(format!("{stem}.safetensors"));
    save_model(&path, &model).unwrap();
    assert_eq!(entries(&path), owned(expected));
    write_io_for(stem, &mut model, x);
}

fn flat_input() -> Tensor {
    input(&mut StdRng::seed_from_u64(99))
}

#[test]
fn an_mlp_with_prelu_has_pytorchs_keys_shapes_and_dtypes() {
    pin("mlp_prelu", mlp_prelu(0), &MLP_PRELU, flat_input());
}

#[test]
fn buffers_have_pytorchs_keys_shapes_and_dtypes() {
    pin(
        "running_stats",
        running_stats(0),
        &RUNNING_STATS,
        flat_input(),
    );
}

/// The example's CNN with BatchNorm2d and PReLU: conv weights `[out, in, kh, kw]`, BatchNorm's
/// γ/β as `weight`/`bias`, its buffers with the int64 scalar `num_batches_tracked`, PReLU's α
/// as `weight`.
#[test]
fn a_cnn_with_batch_norm_and_prelu_has_pytorchs_keys_shapes_and_dtypes() {
    let x = image_input(&mut StdRng::seed_from_u64(99));
    pin("cnn_bn_prelu", cnn_bn_prelu(0), &CNN_BN_PRELU, x);
}

/// A training checkpoint (Adam and StepLR state) holds the model file's tensors, byte for
/// byte, plus `optimizer.*` and `scheduler.*` entries: the README's filter leaves the model.
#[test]
fn a_training_checkpoint_holds_the_model_file_plus_state() {
    let mut rng = StdRng::seed_from_u64(5);
    for (stem, model, classes) in [
        ("mlp_prelu", mlp_prelu(1), 3),
        ("running_stats", running_stats(1), 2),
    ] {
        let x = Tensor::from_shape_fn(vec![24, 4], |_| rng.random_range(-2.0..2.0));
        let labels = (0..24).map(|i| i % classes).collect();
        let data = Dataset::from_labels(x, labels, classes).unwrap();
        let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Adam::new(1e-2).unwrap())
            .scheduler(StepLr::new(1e-2, 1, 0.5).unwrap())
            .unwrap()
            .batch_size(8)
            .unwrap()
            .epochs(1)
            .verbosity(Verbosity::Silent);
        trainer.fit(&data, None).unwrap();
        let checkpoint = folder().join(format!("{stem}.checkpoint.safetensors"));
        let model_file = folder().join(format!("{stem}.trained.safetensors"));
        trainer.save_checkpoint(&checkpoint).unwrap();
        save_model(&model_file, trainer.model()).unwrap();

        let mut state = read_tensors(&checkpoint);
        let before = state.len();
        state.retain(|(key, ..)| !key.starts_with("optimizer.") && !key.starts_with("scheduler."));
        assert!(
            state.len() < before,
            "{stem}: the checkpoint holds optimizer state"
        );
        let mut model_part = read_tensors(&model_file);
        state.sort();
        model_part.sort();
        assert_eq!(state, model_part, "{stem}");

        let mut model = trainer.into_model();
        write_io(&format!("{stem}.checkpoint"), &mut model);
    }
}
