//! Mutation test of the checkpoint reader and of resuming: a valid training checkpoint (a model
//! with a PReLU, Adam's state, a StepLR schedule) is damaged in a few thousand seeded ways, and
//! every load must give either exactly what the file holds or a typed error that names the file
//! and leaves the model (and, on resume, the whole trainer) as it was. Never a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lazarus_activations::PRelu;
use lazarus_core::loss::CrossEntropyLoss;
use lazarus_core::{Layer, Linear, Sequential, Tensor};
use lazarus_optim::{Adam, OptimizerState, StepLr};
use lazarus_train::checkpoint::load_checkpoint;
use lazarus_train::data::Dataset;
use lazarus_train::{Trainer, Verbosity};
use rand::{Rng, SeedableRng, rngs::StdRng};
use safetensors::SafeTensors;
use serde_json::Value;

const CASES: usize = 1500;

fn model(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .add(Linear::new(6, 5, &mut rng).unwrap())
        .add(PRelu::new(5, 0.25).unwrap())
        .add(Linear::new(5, 3, &mut rng).unwrap())
}

fn data() -> Dataset {
    let mut rng = StdRng::seed_from_u64(7);
    let x = Tensor::from_shape_fn(vec![24, 6], |_| rng.random_range(-1.0..1.0));
    let labels = (0..24).map(|i| i % 3).collect();
    Dataset::from_labels(x, labels, 3).unwrap()
}

fn trainer(seed: u64) -> Trainer<Sequential> {
    Trainer::new(
        model(seed),
        CrossEntropyLoss::new(),
        Adam::new(1e-2).unwrap(),
    )
    .scheduler(StepLr::new(1e-2, 1, 0.5).unwrap())
    .unwrap()
    .batch_size(8)
    .unwrap()
    .epochs(2)
    .verbosity(Verbosity::Silent)
}

fn params(model: &dyn Layer) -> Vec<(String, Tensor)> {
    let mut out = Vec::new();
    model.visit_params(&mut |name, p| out.push((name.to_string(), p.value.clone())));
    out
}

/// Everything a failed resume must leave alone.
fn snapshot(t: &Trainer<Sequential>) -> (Vec<(String, Tensor)>, OptimizerState, usize) {
    (params(t.model()), t.optimizer().state(), t.epochs_done())
}

/// One random change to a valid safetensors file.
fn mutate(bytes: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    match rng.random_range(0..7) {
        // Flip a bit anywhere (header length, JSON, data).
        0 => {
            let i = rng.random_range(0..out.len());
            out[i] ^= 1 << rng.random_range(0..8);
        }
        // Cut the file short.
        1 => out.truncate(rng.random_range(0..out.len())),
        // Append junk.
        2 => out.extend((0..rng.random_range(1..64)).map(|_| rng.random::<u8>())),
        // A special value in the data.
        3 => {
            let n = (out.len() - 8 - header_len) / 4;
            let at = 8 + header_len + 4 * rng.random_range(0..n);
            let v = [
                f32::NAN,
                f32::INFINITY,
                -f32::INFINITY,
                f32::MAX,
                -0.0,
                1e-45,
            ][rng.random_range(0..6)];
            out[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        // Edit the JSON header and write it back with its new length.
        _ => {
            let mut header: Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
            edit_header(&mut header, rng);
            let text = serde_json::to_vec(&header).unwrap();
            out = Vec::with_capacity(8 + text.len() + bytes.len());
            out.extend((text.len() as u64).to_le_bytes());
            out.extend(&text);
            out.extend(&bytes[8 + header_len..]);
        }
    }
    out
}

/// One change to the header: a tensor's shape, dtype or offsets, a removed or renamed entry,
/// or a metadata value (numbers, kinds, the epoch, the group list).
fn edit_header(header: &mut Value, rng: &mut StdRng) {
    let map = header.as_object_mut().unwrap();
    let tensors: Vec<String> = map
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect();
    let name = tensors[rng.random_range(0..tensors.len())].clone();
    let odd_numbers = [
        "NaN",
        "inf",
        "-inf",
        "1e39",
        "1e300",
        "1e400",
        "-1",
        "0.5",
        "-0",
        "abc",
        "",
        "18446744073709551616",
    ];
    match rng.random_range(0..8) {
        0 => {
            let shape = &mut map[&name]["shape"];
            let dims = shape.as_array_mut().unwrap();
            if dims.is_empty() || rng.random_bool(0.3) {
                dims.push(Value::from(rng.random_range(0..4)));
            } else {
                let d = rng.random_range(0..dims.len());
                dims[d] = Value::from(rng.random_range(0..8));
            }
        }
        1 => {
            map[&name]["dtype"] =
                Value::from(["F16", "F64", "I64", "U8", "BOGUS"][rng.random_range(0..5)])
        }
        2 => {
            let offsets = map[&name]["data_offsets"].as_array_mut().unwrap();
            let i = rng.random_range(0..2);
            let v = offsets[i].as_u64().unwrap();
            offsets[i] = Value::from(v.saturating_add_signed(rng.random_range(-8i64..8)));
        }
        3 => {
            map.remove(&name);
        }
        4 => {
            let v = map.remove(&name).unwrap();
            let renamed = [
                "0.weight",
                "9.weight",
                "optimizer.0.weight.exp_avg",
                "scheduler.x",
                "optimizer.lr",
                "lazarus.kind.optimizer",
                "1.alpha",
            ][rng.random_range(0..7)];
            map.insert(renamed.into(), v);
        }
        _ => {
            let meta = map
                .entry("__metadata__")
                .or_insert_with(|| Value::Object(Default::default()));
            let meta = meta.as_object_mut().unwrap();
            let keys: Vec<String> = meta.keys().cloned().collect();
            let key = if rng.random_bool(0.8) && !keys.is_empty() {
                keys[rng.random_range(0..keys.len())].clone()
            } else {
                [
                    "scheduler.extra",
                    "optimizer.9.weight.step",
                    "lazarus.kind.ema",
                    "optimizer.lr",
                ][rng.random_range(0..4)]
                .into()
            };
            let value = match rng.random_range(0..3) {
                0 => odd_numbers[rng.random_range(0..odd_numbers.len())].to_string(),
                1 => [
                    "SGD",
                    "Adam",
                    "AdamW",
                    "StepLR",
                    "OneCycleLR",
                    "optimizer",
                    "optimizer,scheduler,x",
                    "",
                ][rng.random_range(0..8)]
                .to_string(),
                _ => {
                    meta.remove(&key);
                    return;
                }
            };
            meta.insert(key, Value::from(value));
        }
    }
}

/// What a file really holds, read with the safetensors crate alone: the F32 tensors that are
/// not state (no `optimizer.`/`scheduler.` prefix), as the loader must apply them (PReLU's
/// slopes under an old-style `1.alpha` key load as `1.weight`).
fn file_params(bytes: &[u8]) -> Option<Vec<(String, Vec<f32>)>> {
    let file = SafeTensors::deserialize(bytes).ok()?;
    let mut out: Vec<(String, Vec<f32>)> = file
        .iter()
        .filter(|(name, _)| !name.starts_with("optimizer.") && !name.starts_with("scheduler."))
        .map(|(name, v)| (if name == "1.alpha" { "1.weight" } else { name }, v))
        .map(|(name, v)| {
            let values = v
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name.to_string(), values)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

fn check_load(path: &Path, bytes: &[u8]) -> bool {
    let mut target = model(99);
    let before = params(&target);
    match load_checkpoint(path, &mut target) {
        Ok(_) => {
            let mut loaded: Vec<(String, Vec<f32>)> = params(&target)
                .into_iter()
                .map(|(n, t)| (n, t.iter().copied().collect()))
                .collect();
            loaded.sort_by(|a, b| a.0.cmp(&b.0));
            let expected =
                file_params(bytes).expect("the loader accepted a file safetensors rejects");
            assert_eq!(loaded.len(), expected.len());
            for ((n, got), (m, want)) in loaded.iter().zip(&expected) {
                assert_eq!(n, m);
                assert!(
                    got.iter()
                        .zip(want)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{n}"
                );
                assert!(
                    got.iter().all(|v| v.is_finite()),
                    "{n} loaded a non-finite value"
                );
            }
            true
        }
        Err(e) => {
            let message = names_the_file(&e, path);
            assert_eq!(
                params(&target),
                before,
                "a failed load changed the model: {message}"
            );
            false
        }
    }
}

/// The message of `e`, which must name the file at `path`.
fn names_the_file(e: &lazarus_train::Error, path: &Path) -> String {
    let message = e.to_string();
    assert!(
        message.contains(&*path.to_string_lossy()),
        "error names no file: {message}"
    );
    message
}

fn check_resume(path: &Path, base: &Trainer<Sequential>, data: &Dataset) -> bool {
    let mut t = trainer(1);
    // The same optimizer/schedule progress as `base`, so a failed resume is compared with a
    // trainer that has state of its own.
    t.fit(data, None).unwrap();
    let before = snapshot(&t);
    assert_eq!(before.0, snapshot(base).0);
    match t.resume_from(path) {
        Ok(epoch) => {
            assert_eq!(t.epochs_done(), epoch);
            // Training on from the loaded state works or fails with a typed error.
            let mut t = t.epochs(epoch.saturating_add(1).min(1000));
            let _ = t.fit(data, None);
            true
        }
        Err(e) => {
            let message = names_the_file(&e, path);
            assert!(
                snapshot(&t) == before,
                "a failed resume changed the trainer: {message}"
            );
            false
        }
    }
}

#[test]
fn damaged_checkpoints_load_exactly_or_fail_cleanly() {
    let data = data();
    let dir = std::env::temp_dir().join(format!("lazarus-ckpt-mutation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good: PathBuf = dir.join("good.safetensors");
    let mut base = trainer(1);
    base.fit(&data, None).unwrap();
    base.save_checkpoint(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    // The undamaged file loads and resumes.
    assert!(check_load(&good, &bytes));
    assert!(check_resume(&good, &base, &data));

    let mut rng = StdRng::seed_from_u64(2024);
    let path = dir.join("damaged.safetensors");
    let mut failures = 0;
    // How many damaged files loaded / resumed: both outcomes must be exercised.
    let (mut loaded, mut resumed) = (0, 0);
    for case in 0..CASES {
        let damaged = mutate(&bytes, &mut rng);
        std::fs::write(&path, &damaged).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            (
                check_load(&path, &damaged),
                check_resume(&path, &base, &data),
            )
        }));
        if let Ok((l, r)) = outcome {
            loaded += usize::from(l);
            resumed += usize::from(r);
        } else {
            failures += 1;
            eprintln!("case {case} failed (file kept at {})", path.display());
            std::fs::copy(&path, dir.join(format!("failed-{case}.safetensors"))).unwrap();
        }
    }
    assert_eq!(
        failures, 0,
        "{failures} of {CASES} damaged checkpoints misbehaved"
    );
    eprintln!("{loaded} of {CASES} damaged files loaded, {resumed} resumed; the rest were refused");
    assert!(
        loaded > CASES / 20 && loaded < CASES * 19 / 20,
        "{loaded} loaded"
    );
    assert!(
        resumed > CASES / 20 && resumed < loaded,
        "{resumed} resumed"
    );
}
