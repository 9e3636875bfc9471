//! The smallest complete lazarus program: learn XOR, predict, save, load.
//!
//! `cargo run --release --example xor` prints the four predictions and the saved file's name.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use common::{Output, exit_code};
use lazarus::prelude::*;
use lazarus::train::checkpoint::{load_model, save_model};
use lazarus::train::data::Dataset;
use lazarus::train::models::mlp;
use rand::{SeedableRng, rngs::StdRng};

fn main() -> ExitCode {
    exit_code(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = Output::default();
    // The four XOR points and their classes.
    let x = Tensor::from_shape_vec(vec![4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.])?;
    let data = Dataset::from_labels(x.clone(), vec![0, 1, 1, 0], 2)?;

    // 2 → 16 → 2 with ReLU; every random choice comes from this seeded RNG.
    let mut rng = StdRng::seed_from_u64(0);
    let model = mlp(&[2, 16, 2], "relu", 0.0, &mut rng)?;
    let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Adam::new(0.05)?)
        .epochs(200)
        .batch_size(4)?
        .verbosity(Verbosity::Silent);
    trainer.fit(&data, None)?;
    let predictions = trainer.predict(x.view())?;
    out.line(format_args!(
        "XOR predictions for (0,0) (0,1) (1,0) (1,1): {predictions:?}"
    ));

    // Save in safetensors (PyTorch state_dict names), then load into a fresh model.
    let path = std::env::temp_dir().join("lazarus_xor.safetensors");
    save_model(&path, trainer.model())?;
    let mut fresh = mlp(&[2, 16, 2], "relu", 0.0, &mut StdRng::seed_from_u64(1))?;
    load_model(&path, &mut fresh)?;
    let logits = fresh.forward(x.view(), Mode::Eval)?;
    out.line(format_args!(
        "reloaded from {}: logits\n{logits:.3}",
        path.display()
    ));
    if predictions != [0, 1, 1, 0] {
        return Err(format!("XOR not learned: predictions {predictions:?}").into());
    }
    Ok(out.finish()?)
}
