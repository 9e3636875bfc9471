//! Unit tests of the checkpoint module that need its private parts.

use super::*;
use crate::atomic_file::{temporaries_of, write_atomically_with_hook};
use lazarus_core::Linear;
use rand::{SeedableRng, rngs::StdRng};

#[test]
fn an_interrupted_save_keeps_the_previous_file() {
    let dir = std::env::temp_dir().join(format!("lazarus-ckpt-unit-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    let old = Linear::new(3, 2, &mut StdRng::seed_from_u64(0)).unwrap();
    save_model(&path, &old).unwrap();
    let good = fs::read(&path).unwrap();

    let new = Linear::new(3, 2, &mut StdRng::seed_from_u64(1)).unwrap();
    let bytes = encode(&path, &new, None).unwrap();
    // The temporary file is fully written, then the "crash" happens before the rename.
    let crash = write_atomically_with_hook(&path, &bytes, || {
        assert_eq!(temporaries_of(&path).len(), 1);
        Err(Error::config(
            "test",
            "crash",
            "simulated crash before rename",
        ))
    });
    assert!(crash.is_err());
    assert_eq!(
        fs::read(&path).unwrap(),
        good,
        "the previous checkpoint is intact"
    );
    assert!(
        temporaries_of(&path).is_empty(),
        "the temporary file is cleaned up"
    );

    let mut loaded = Linear::new(3, 2, &mut StdRng::seed_from_u64(2)).unwrap();
    load_model(&path, &mut loaded).unwrap();
    assert_eq!(loaded.weight().value, old.weight().value);
}

#[test]
fn training_state_round_trips_exactly() {
    let dir = std::env::temp_dir().join(format!("lazarus-ckpt-state-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.safetensors");
    let model = Linear::new(2, 2, &mut StdRng::seed_from_u64(0)).unwrap();
    let mut state = TrainingState {
        epoch: 7,
        ..TrainingState::default()
    };
    let mut opt = OptimizerState::default();
    opt.scalars.insert("lr".into(), 0.1 + 0.2);
    opt.scalars.insert("0.weight.step".into(), 5.0);
    opt.tensors.insert(
        "weight.exp_avg".into(),
        Tensor::from_elem(vec![2, 2], 1.0 / 3.0),
    );
    state.groups.insert("optimizer".into(), opt);
    save_checkpoint(&path, &model, Some(&state)).unwrap();
    let mut other = Linear::new(2, 2, &mut StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(load_checkpoint(&path, &mut other).unwrap(), state);
}
