//! Buffers in checkpoints (named state that is not trained, such as BatchNorm's running
//! statistics), tested on `common::RunningStats`, a layer with BatchNorm1d's state: saved and
//! loaded exactly, a missing, extra, misshapen or mistyped buffer a typed error naming the key
//! and the layer, nothing changed on failure; optimizers never see buffers. And PReLU files
//! written before its slopes took PyTorch's name `weight` still load.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::{RunningStats, Tensors, rewrite};
use lazarus_activations::PRelu;
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{Layer, Linear, Mode, Sequential, Tensor};
use lazarus_optim::{Optimizer, Sgd};
use lazarus_train::checkpoint::{load_model, save_model};
use lazarus_train::data::Dataset;
use lazarus_train::{Error, Trainer, Verbosity};
use rand::{Rng, SeedableRng, rngs::StdRng};
use safetensors::Dtype;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-buffers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `Linear(4, 3) → RunningStats(3) → Linear(3, 2)`, its buffers moved by `batches` training
/// forwards.
fn model(seed: u64, batches: usize) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(RunningStats::new(3))
        .add(Linear::new(3, 2, &mut rng).unwrap());
    for _ in 0..batches {
        let x = Tensor::from_shape_fn(vec![8, 4], |_| rng.random_range(-2.0..2.0));
        model.forward(x.view(), Mode::Train).unwrap();
    }
    model
}

/// Parameters and buffers, bit for bit.
fn state(model: &dyn Layer) -> Vec<(String, Vec<u32>)> {
    let mut out = RunningStats::buffers(model);
    model.visit_params(&mut |name, p| {
        out.push((name.into(), p.value.iter().map(|v| v.to_bits()).collect()))
    });
    out
}

#[test]
fn buffers_round_trip_exactly() {
    let path = temp("round-trip.safetensors");
    let saved = model(0, 5);
    save_model(&path, &saved).unwrap();
    let mut loaded = model(1, 0);
    load_model(&path, &mut loaded).unwrap();
    assert_eq!(state(&loaded), state(&saved));
    let count = RunningStats::buffers(&loaded)
        .into_iter()
        .find(|(name, _)| name == "1.num_batches_tracked")
        .unwrap();
    assert_eq!(count.1, [5.0f32.to_bits()]);
}

/// The error of loading the model file after `edit`, which must leave the model unchanged.
fn load_edited(edit: impl FnOnce(&mut Tensors)) -> Error {
    // Tests run in parallel: one file per call.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let path = temp(&format!(
        "edited-{}.safetensors",
        CALLS.fetch_add(1, Relaxed)
    ));
    save_model(&path, &model(0, 2)).unwrap();
    rewrite(&path, |tensors, _| edit(tensors));
    let mut target = model(1, 1);
    let before = state(&target);
    let err = load_model(&path, &mut target).unwrap_err();
    assert_eq!(
        state(&target),
        before,
        "a failed load changed the model: {err}"
    );
    err
}

/// `err` is a `CheckpointMismatch` naming `key` and the layer `layer`, with `reason` in it.
fn names(err: &Error, key: &str, layer: Option<&str>, reason: &str) {
    let Error::CheckpointMismatch {
        key: k, layer: l, ..
    } = err
    else {
        panic!("expected CheckpointMismatch, got {err:?}");
    };
    assert_eq!((k.as_str(), l.as_deref()), (key, layer), "{err}");
    assert!(err.to_string().contains(reason), "{err}");
}

fn find<'t>(tensors: &'t mut Tensors, key: &str) -> &'t mut (String, Dtype, Vec<usize>, Vec<u8>) {
    tensors.iter_mut().find(|(name, ..)| name == key).unwrap()
}

#[test]
fn a_missing_buffer_names_the_key_and_the_layer() {
    let err = load_edited(|t| t.retain(|(name, ..)| name != "1.running_var"));
    names(
        &err,
        "1.running_var",
        Some("running_stats[1]"),
        "missing buffer of shape [3]",
    );
    assert_eq!(
        err.to_string()
            .split(": ")
            .skip(1)
            .collect::<Vec<_>>()
            .join(": "),
        "checkpoint does not fit the model: tensor `1.running_var` of running_stats[1]: \
         missing buffer of shape [3]"
    );
}

#[test]
fn an_extra_buffer_names_the_key_and_the_layer() {
    let err = load_edited(|t| {
        let copy = find(t, "1.running_mean").clone();
        t.push(("0.running_mean".into(), copy.1, copy.2, copy.3));
    });
    names(
        &err,
        "0.running_mean",
        Some("linear[0]"),
        "unexpected tensors",
    );
    let err = load_edited(|t| {
        let copy = find(t, "1.running_mean").clone();
        t.push(("7.running_mean".into(), copy.1, copy.2, copy.3));
    });
    names(&err, "7.running_mean", None, "unexpected tensors");
}

#[test]
fn a_misshapen_buffer_names_the_key_and_the_layer() {
    let err = load_edited(|t| {
        let (_, _, shape, data) = find(t, "1.running_mean");
        *shape = vec![4];
        data.extend(0.5f32.to_le_bytes());
    });
    names(
        &err,
        "1.running_mean",
        Some("running_stats[1]"),
        "expected shape [3], found [4]",
    );
    let err = load_edited(|t| find(t, "1.num_batches_tracked").2 = vec![1]);
    names(
        &err,
        "1.num_batches_tracked",
        Some("running_stats[1]"),
        "expected shape [], found [1]",
    );
}

#[test]
fn counts_are_int64_and_real_values_float32() {
    // A count written as a float, as a careless exporter might.
    let err = load_edited(|t| {
        let (_, dtype, _, data) = find(t, "1.num_batches_tracked");
        *dtype = Dtype::F32;
        *data = 2.0f32.to_le_bytes().to_vec();
    });
    names(
        &err,
        "1.num_batches_tracked",
        Some("running_stats[1]"),
        "expected dtype I64",
    );
    let err = load_edited(|t| {
        let (_, dtype, _, data) = find(t, "1.running_mean");
        *dtype = Dtype::I64;
        *data = [0i64, 1, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    });
    names(
        &err,
        "1.running_mean",
        Some("running_stats[1]"),
        "expected dtype F32, found I64",
    );
}

#[test]
fn counts_must_be_in_range_on_load_and_whole_on_save() {
    for bad in [-1i64, (1 << 24) + 1, i64::MAX] {
        let err = load_edited(|t| find(t, "1.num_batches_tracked").3 = bad.to_le_bytes().to_vec());
        names(
            &err,
            "1.num_batches_tracked",
            Some("running_stats[1]"),
            &format!("found {bad}"),
        );
    }
    // 2²⁴, the largest count an f32 holds exactly, loads.
    let path = temp("max-count.safetensors");
    save_model(&path, &model(0, 1)).unwrap();
    rewrite(&path, |t, _| {
        find(t, "1.num_batches_tracked").3 = (1i64 << 24).to_le_bytes().to_vec()
    });
    let mut target = model(1, 0);
    load_model(&path, &mut target).unwrap();
    let mut count = 0.0;
    target.visit_buffers(&mut |name, b| {
        if name == "1.num_batches_tracked" {
            count = b.value[[]];
        }
    });
    assert_eq!(count, 16_777_216.0);

    // A count that is no whole number is never written; the previous file is kept.
    let before = std::fs::read(&path).unwrap();
    for bad in [2.5f32, -1.0] {
        let mut broken = model(0, 1);
        broken.visit_buffers_mut(&mut |name, b| {
            if name == "1.num_batches_tracked" {
                b.value.fill(bad);
            }
        });
        let err = save_model(&path, &broken).unwrap_err();
        assert!(matches!(err, Error::CheckpointCorrupt { .. }), "{err}");
        assert!(err.to_string().contains("1.num_batches_tracked"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

#[test]
fn non_finite_buffers_are_neither_saved_nor_loaded() {
    let err =
        load_edited(|t| find(t, "1.running_var").3[4..8].copy_from_slice(&f32::NAN.to_le_bytes()));
    assert!(
        matches!(&err, Error::NonFiniteTensor { tensor, index: 1, action: "load", .. } if tensor == "1.running_var"),
        "{err:?}"
    );
    let mut broken = model(0, 1);
    broken.visit_buffers_mut(&mut |name, b| {
        if name == "1.running_mean" {
            b.value[[2]] = f32::INFINITY;
        }
    });
    let err = save_model(temp("inf.safetensors"), &broken).unwrap_err();
    assert!(
        matches!(&err, Error::NonFiniteTensor { tensor, action: "save", .. } if tensor == "1.running_mean"),
        "{err:?}"
    );
}

#[test]
fn optimizers_never_see_buffers() {
    let mut m = model(0, 2);
    let mut opt = Sgd::new(0.1)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .weight_decay(0.1)
        .unwrap();
    let x = Tensor::from_shape_fn(vec![4, 4], |i| (i[0] as f32 - i[1] as f32) / 3.0);
    for _ in 0..2 {
        m.forward(x.view(), Mode::Train).unwrap();
        m.zero_grad();
        m.backward(Tensor::ones(vec![4, 2]).view()).unwrap();
        let buffers = RunningStats::buffers(&m);
        opt.step(&mut m).unwrap();
        assert_eq!(RunningStats::buffers(&m), buffers, "a step moved a buffer");
    }
    let keys: Vec<String> = opt.state().tensors.into_keys().collect();
    assert_eq!(keys.len(), 6, "one momentum buffer per parameter: {keys:?}");
    assert!(
        keys.iter()
            .all(|k| !k.contains("running") && !k.contains("num_batches"))
    );
}

#[test]
fn resuming_restores_the_buffers() {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::from_shape_fn(vec![16, 4], |_| rng.random_range(-2.0..2.0));
    let data = Dataset::from_labels(x, (0..16).map(|i| i % 2).collect(), 2).unwrap();
    let trainer = |seed| {
        Trainer::new(
            model(seed, 0),
            CrossEntropyLoss::new(),
            Sgd::new(0.1).unwrap(),
        )
        .batch_size(8)
        .unwrap()
        .epochs(1)
        .verbosity(Verbosity::Silent)
    };
    let mut first = trainer(0);
    first.fit(&data, None).unwrap();
    let path = temp("resume.safetensors");
    first.save_checkpoint(&path).unwrap();
    let mut second = trainer(1);
    second.resume_from(&path).unwrap();
    assert_eq!(state(second.model()), state(first.model()));
}

fn prelu_model(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut prelu = PRelu::new(3, 0.25).unwrap();
    prelu.alpha_mut().value.fill(seed as f32 / 10.0);
    Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(prelu)
}

/// A file written when PReLU's slopes were visited as `alpha`: `1.alpha` for `1.weight`.
fn old_style_file(name: &str) -> PathBuf {
    let path = temp(name);
    save_model(&path, &prelu_model(3)).unwrap();
    rewrite(&path, |t, _| find(t, "1.weight").0 = "1.alpha".into());
    path
}

#[test]
fn old_files_with_alpha_keys_still_load() {
    let path = old_style_file("old-alpha.safetensors");
    let mut model = prelu_model(1);
    load_model(&path, &mut model).unwrap();
    assert_eq!(state(&model), state(&prelu_model(3)));
    // Saved again, the file has PyTorch's key.
    save_model(&path, &model).unwrap();
    let keys: Vec<String> = common::read_tensors(&path)
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert!(keys.contains(&"1.weight".to_string()) && !keys.iter().any(|k| k.contains("alpha")));
}

#[test]
fn the_alpha_rename_is_for_slopes_only_and_never_guesses() {
    // Both keys: `1.alpha` is unexpected.
    let path = old_style_file("both.safetensors");
    rewrite(&path, |t, _| {
        let copy = find(t, "1.alpha").clone();
        t.push(("1.weight".into(), copy.1, copy.2, copy.3));
    });
    let mut target = prelu_model(1);
    let err = load_model(&path, &mut target).unwrap_err();
    names(&err, "1.alpha", Some("prelu[1]"), "unexpected tensors");
    // A Linear's weight is no slope: `0.alpha` does not stand for `0.weight`.
    rewrite(&path, |t, _| {
        t.retain(|(name, ..)| name != "1.weight");
        find(t, "0.weight").0 = "0.alpha".into();
    });
    let err = load_model(&path, &mut target).unwrap_err();
    names(
        &err,
        "0.weight",
        Some("linear[0]"),
        "missing parameter of shape [3, 4]",
    );
    assert_eq!(state(&target), state(&prelu_model(1)));
}
