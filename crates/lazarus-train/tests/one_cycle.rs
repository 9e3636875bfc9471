//! The trainer applies a schedule's momentum as PyTorch's OneCycleLR does, and refuses a
//! momentum schedule for an optimizer that has no momentum, when it is given.

use lazarus_core::loss::{CrossEntropyLoss, MseLoss};
use lazarus_core::{Layer, Linear, Sequential, Tensor};
use lazarus_optim::{Adadelta, Adagrad, LrScheduler, OneCycleLr, Sgd};
use lazarus_train::data::Dataset;
use lazarus_train::{Error, Trainer, Verbosity};
use rand::{SeedableRng, rngs::StdRng};

fn tensor(shape: Vec<usize>, values: &[f32]) -> Tensor {
    Tensor::from_shape_vec(shape, values.to_vec()).unwrap()
}

fn one_cycle() -> OneCycleLr {
    OneCycleLr::new(0.5, 6).unwrap()
}

// PyTorch 2.15.0 (CPU, float32):
//
// import torch
// x = torch.tensor([[1.0, -0.5, 0.25], [0.5, 2.0, -1.0], [-1.5, 0.75, 0.5], [0.0, -1.0, 2.0]])
// y = torch.tensor([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75], [2.0, -0.5]])
// model = torch.nn.Linear(3, 2)
// with torch.no_grad():
//     model.weight.copy_(torch.tensor([[0.1, -0.2, 0.3], [-0.4, 0.5, -0.6]]))
//     model.bias.copy_(torch.tensor([0.05, -0.05]))
// opt = torch.optim.SGD(model.parameters(), lr=0.1)  # momentum 0: OneCycleLR turns it on
// sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=6)
// loss_fn = torch.nn.MSELoss()
// for epoch in range(3):
//     for i in (0, 2):
//         loss = loss_fn(model(x[i:i + 2]), y[i:i + 2])
//         opt.zero_grad(); loss.backward(); opt.step(); sched.step()
// print(model.weight.detach().flatten().tolist(), model.bias.detach().tolist(),
//       opt.param_groups[0]["momentum"])
const TORCH_WEIGHT: [f64; 6] = [
    0.9392516613006592,
    0.5657657980918884,
    0.6409532427787781,
    -0.663832426071167,
    0.1440192610025406,
    0.09587832540273666,
];
const TORCH_BIAS: [f64; 2] = [1.0207524299621582, -0.0541142039000988];
const TORCH_MOMENTUM: f64 = 0.9366525935914912;

fn data() -> Dataset {
    let x = [
        1.0, -0.5, 0.25, 0.5, 2.0, -1.0, -1.5, 0.75, 0.5, 0.0, -1.0, 2.0,
    ];
    let y = [0.5, -1.0, 1.0, 0.25, -0.5, 0.75, 2.0, -0.5];
    Dataset::from_values(tensor(vec![4, 3], &x), tensor(vec![4, 2], &y)).unwrap()
}

/// The PyTorch run below: Linear(3, 2) with fixed weights, SGD built without momentum,
/// OneCycleLR over 3 epochs of 2 batches, in order.
fn trainer(epochs: usize) -> Trainer<Sequential> {
    let mut model =
        Sequential::new().add(Linear::new(3, 2, &mut StdRng::seed_from_u64(0)).unwrap());
    model.visit_params_mut(&mut |path, p| {
        p.value = match path {
            "0.weight" => tensor(vec![2, 3], &[0.1, -0.2, 0.3, -0.4, 0.5, -0.6]),
            _ => tensor(vec![2], &[0.05, -0.05]),
        }
    });
    Trainer::new(model, MseLoss::new(), Sgd::new(0.1).unwrap())
        .scheduler(one_cycle())
        .unwrap()
        .epochs(epochs)
        .batch_size(2)
        .unwrap()
        .shuffle(false)
        .verbosity(Verbosity::Silent)
}

fn params(trainer: &Trainer<Sequential>) -> Vec<f32> {
    let mut found = Vec::new();
    trainer
        .model()
        .visit_params(&mut |_, p| found.extend(p.value.iter().copied()));
    found
}

#[test]
fn fit_cycles_sgd_momentum_as_pytorch() {
    let mut trainer = trainer(3);
    // As PyTorch's constructor: max_momentum at once, momentum 0 or not.
    assert_eq!(trainer.optimizer().cycled_momentum(), Some(0.95));
    trainer.fit(&data(), None).unwrap();
    assert_eq!(trainer.optimizer().cycled_momentum(), Some(TORCH_MOMENTUM));
    let found = params(&trainer);
    for (i, (&got, &want)) in found
        .iter()
        .zip(TORCH_WEIGHT.iter().chain(&TORCH_BIAS))
        .enumerate()
    {
        let err = (f64::from(got) - want).abs();
        assert!(
            err <= 1e-5 * want.abs() + 1e-6,
            "parameter {i}: {got}, expected {want}"
        );
    }
    assert_eq!(found.len(), 8);
}

#[test]
fn resuming_gives_the_optimizer_the_momentum_of_the_resumed_step() {
    let mut whole = trainer(3);
    whole.fit(&data(), None).unwrap();
    let mut first = trainer(1);
    first.fit(&data(), None).unwrap();
    let dir = std::env::temp_dir().join(format!("lazarus-one-cycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("epoch1.safetensors");
    first.save_checkpoint(&path).unwrap();
    // A fresh trainer starts at max_momentum; the checkpoint's step wants another.
    let mut resumed = trainer(3);
    assert_eq!(resumed.resume_from(&path).unwrap(), 1);
    assert_eq!(
        resumed.optimizer().cycled_momentum(),
        first.optimizer().cycled_momentum()
    );
    resumed.fit(&data(), None).unwrap();
    assert_eq!(params(&resumed), params(&whole));
    assert_eq!(
        resumed.optimizer().cycled_momentum(),
        whole.optimizer().cycled_momentum()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_momentum_schedule_is_refused_for_adagrad_and_adadelta_when_given() {
    let model = || Sequential::new().add(Linear::new(3, 2, &mut StdRng::seed_from_u64(0)).unwrap());
    let adagrad = Trainer::new(model(), CrossEntropyLoss::new(), Adagrad::new(0.1).unwrap());
    let err = adagrad.scheduler(one_cycle()).err().unwrap();
    assert!(
        matches!(
            err,
            Error::Optim(lazarus_optim::Error::NoMomentum {
                optimizer: "Adagrad"
            })
        ),
        "{err:?}"
    );
    let adadelta = Trainer::new(
        model(),
        CrossEntropyLoss::new(),
        Adadelta::new(1.0).unwrap(),
    );
    assert!(adadelta.scheduler(one_cycle()).is_err());
    // Without momentum cycling the pair is fine, as in PyTorch (cycle_momentum=False).
    let adagrad = Trainer::new(model(), CrossEntropyLoss::new(), Adagrad::new(0.1).unwrap());
    let trainer = adagrad
        .scheduler(one_cycle().cycle_momentum(false))
        .unwrap();
    assert_eq!(trainer.optimizer().lr(), one_cycle().lr());
}
