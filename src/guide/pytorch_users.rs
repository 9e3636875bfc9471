//! # lazarus for PyTorch users
//!
//! lazarus follows PyTorch's conventions wherever a number depends on them, so that a result
//! can be compared with PyTorch's number for number: the same weight layout, the same default
//! initialization, the same hyper-parameter names and defaults, the same derivative at every
//! kink, the same update rules and the same `state_dict` keys. This page lists the names and
//! the few places where lazarus deliberately differs.
//!
//! ## Names
//!
//! | PyTorch | lazarus |
//! |---|---|
//! | `nn.Linear(in, out)` | [`Linear::new(in, out, &mut rng)`](crate::core::Linear::new) |
//! | `nn.Sequential(a, b)` | [`Sequential::new().add(a).add(b)`](crate::core::Sequential) |
//! | `nn.Flatten()`, `nn.Dropout(p)` | [`Flatten`](crate::core::Flatten), [`Dropout`](crate::core::Dropout) (with a seed) |
//! | `nn.ReLU`, `nn.LeakyReLU`, `nn.PReLU`, `nn.ELU`, `nn.GELU`, … | [`Relu`](crate::activations::Relu), [`LeakyRelu`](crate::activations::LeakyRelu), [`PRelu`](crate::activations::PRelu), [`Elu`](crate::activations::Elu), [`Gelu`](crate::activations::Gelu), … (Rust casing; the PyTorch spelling is a doc alias) |
//! | `nn.CrossEntropyLoss`, `nn.MSELoss`, `nn.BCEWithLogitsLoss`, `nn.HuberLoss` | [`CrossEntropyLoss`](crate::core::loss::CrossEntropyLoss), [`MseLoss`](crate::core::loss::MseLoss), [`BceWithLogitsLoss`](crate::core::loss::BceWithLogitsLoss), [`HuberLoss`](crate::core::loss::HuberLoss) |
//! | `optim.SGD`, `Adam`, `AdamW`, `RMSprop`, `Adagrad`, `Adadelta` | [`Sgd`](crate::optim::Sgd), [`Adam`](crate::optim::Adam), [`AdamW`](crate::optim::AdamW), [`RmsProp`](crate::optim::RmsProp), [`Adagrad`](crate::optim::Adagrad), [`Adadelta`](crate::optim::Adadelta) |
//! | `lr_scheduler.StepLR`, `CosineAnnealingLR`, `OneCycleLR`, `ReduceLROnPlateau`, … | [`StepLr`](crate::optim::StepLr), [`CosineAnnealingLr`](crate::optim::CosineAnnealingLr), [`OneCycleLr`](crate::optim::OneCycleLr), [`ReduceLrOnPlateau`](crate::optim::ReduceLrOnPlateau), … |
//! | `nn.utils.clip_grad_norm_` | [`clip_grad_norm`](crate::optim::clip_grad_norm) (returns the norm before clipping) |
//! | `nn.init.kaiming_normal_`, `xavier_uniform_`, `calculate_gain` | [`init::kaiming_normal`](crate::core::init::kaiming_normal), [`init::xavier_uniform`](crate::core::init::xavier_uniform), [`init::calculate_gain`](crate::core::init::calculate_gain) (each takes an explicit RNG) |
//! | `torch.set_num_threads(n)` | [`core::set_num_threads(n)`](crate::core::set_num_threads) |
//! | `model.state_dict()` + `safetensors.torch.save_file` | [`train::checkpoint::save_model`](crate::train::checkpoint::save_model) |
//!
//! ## The same
//!
//! * **Weights are `[out, in]`** and `Linear` computes `y = x Wᵀ + b`, initialized as PyTorch's
//!   `reset_parameters` does (Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), bias the
//!   same bound).
//! * **Parameter and buffer paths are `state_dict` keys**: `"0.weight"`, `"0.bias"`,
//!   `"1.weight"` (PReLU's slopes, which the Rust API calls `alpha()` as the papers do),
//!   `"2.running_mean"`, with PyTorch's shapes and dtypes (int64 `[]` for a count). A file from
//!   `save_model` loads into the matching `nn.Sequential` with `safetensors.torch.load_file`
//!   and `load_state_dict(..., strict=True)` (see the README).
//! * **Defaults**: LeakyReLU 0.01, PReLU one slope at 0.25, ELU α = 1, Adam betas (0.9, 0.999)
//!   and eps 1e-8, RMSprop alpha 0.99, cross-entropy with mean reduction, and so on.
//! * **Derivatives at kinks**: ReLU'(0) = 0, LeakyReLU'(0) = negative_slope, ReLU6'(6) = 0,
//!   Hardtanh' = 0 at ±1, … as PyTorch's autograd gives them.
//! * **Update rules**, step by step as PyTorch documents them, including the details textbooks
//!   skip (SGD's momentum buffer starts as the first gradient; Adam's L2 `weight_decay` is added
//!   to the gradient while AdamW's is decoupled).
//!
//! ## Different, on purpose
//!
//! * **No autograd.** Every layer has a hand-written `backward` next to its `forward`, which is
//!   the point for a learner. Where PyTorch writes `loss.backward()`, lazarus writes
//!   `model.backward(loss_fn.input_grad()?)?`: the loss returns dL/dlogits and the model carries
//!   it back through its layers, adding dL/dθ into every [`Param`](crate::core::Param)'s `grad`.
//! * **The mode is an argument**: `model.forward(x, Mode::Train)` instead of `model.train()`
//!   followed by `model(x)`. An evaluation-mode forward keeps nothing, and a `backward` after it
//!   is an error, not a silent wrong gradient.
//! * **Weight decay skips biases and PReLU slopes by default.** Decaying a bias buys nothing,
//!   and decaying PReLU's slope pulls it to 0, turning PReLU back into ReLU (PyTorch's own docs
//!   warn against it, but PyTorch decays everything in a group). PyTorch's behaviour is one line
//!   away: `.decay_all()`, or a parameter group by role or path.
//! * **Errors, not exceptions or panics**: a wrong shape, a bad hyper-parameter (momentum ≥ 1,
//!   eps ≤ 0, which PyTorch accepts), a truncated data file or a corrupt checkpoint is a typed
//!   `Err` naming the layer or file, what was expected and what was found.
//! * **Every random choice takes a seeded RNG** (initialization, dropout, shuffling, RReLU), so
//!   the same seed gives the same weights bit for bit, whatever the thread count.
//!
//! ## A PyTorch training step, and the same in lazarus
//!
//! ```python
//! model = nn.Sequential(nn.Linear(4, 8), nn.PReLU(), nn.Linear(8, 3))
//! opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
//! loss = nn.functional.cross_entropy(model(x), y)
//! opt.zero_grad(); loss.backward(); opt.step()
//! ```
//!
//! ```
//! use lazarus::prelude::*;
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = Sequential::new()
//!     .add(Linear::new(4, 8, &mut rng)?)
//!     .add(PRelu::new(1, 0.25)?)
//!     .add(Linear::new(8, 3, &mut rng)?);
//! let mut opt = Sgd::new(0.1)?.momentum(0.9)?.weight_decay(1e-4)?; // decays 0.weight, 2.weight, not the slope 1.weight
//! let mut loss_fn = CrossEntropyLoss::new();
//!
//! let x = Tensor::from_shape_vec(vec![2, 4], vec![0.5, -1.0, 2.0, 0.0, 1.5, 0.3, -0.7, 1.0])?;
//! let logits = model.forward(x.view(), Mode::Train)?;
//! let loss = loss_fn.forward(logits, Target::Classes(&[2, 0]))?;
//! model.zero_grad();
//! model.backward(loss_fn.input_grad()?)?;
//! opt.step(&mut model)?;
//!
//! let mut names = Vec::new();
//! model.visit_params(&mut |name, _| names.push(name.to_string()));
//! assert_eq!(names, ["0.weight", "0.bias", "1.weight", "2.weight", "2.bias"]);
//! assert!(loss.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
