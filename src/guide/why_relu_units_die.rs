//! # Why ReLU units die, and what to do about it
//!
//! ReLU, `f(x) = max(0, x)`, is the default activation of deep learning: it costs one compare,
//! its gradient is exactly 1 for positive inputs (no shrinking through the layers as with
//! sigmoid or tanh), and it zeroes out weak, noisy inputs, which makes its outputs sparse. It has
//! two drawbacks, and both are easy to watch in lazarus.
//!
//! ## 1. A unit that only sees negative inputs is dead
//!
//! The derivative of ReLU is 0 for every x ≤ 0 (at exactly 0 too, PyTorch's convention). A unit
//! whose pre-activation `z = w·x + b` is negative for *every* input therefore sends back no
//! gradient at all: its weights and bias never change again, and it outputs 0 forever. It is
//! *dead*. A large learning-rate step, or one bad batch that pushes `b` far below zero, is
//! enough.
//!
//! Here the second hidden unit has a bias of −10, so for inputs in [0, 1] it is negative
//! whatever the input, and its weights get exactly zero gradient:
//!
//! ```
//! use lazarus::prelude::*;
//! use ndarray::array;
//!
//! // Two hidden units: unit 0 has bias 0, unit 1 has bias -10.
//! let hidden = Linear::from_params(
//!     array![[1.0f32, 1.0], [1.0, 1.0]].into_dyn(),
//!     Some(array![0.0f32, -10.0].into_dyn()),
//! )?;
//! let mut model = Sequential::new().add(hidden).add(Relu::new());
//! let x = Tensor::from_shape_vec(vec![3, 2], vec![0.1, 0.9, 0.5, 0.5, 1.0, 0.2])?;
//! model.forward(x.view(), Mode::Train)?;
//! model.zero_grad();
//! model.backward(Tensor::ones(vec![3, 2]).view())?;
//!
//! let mut weight_grad = Tensor::zeros(vec![0]);
//! model.visit_params(&mut |name, p| if name == "0.weight" { weight_grad = p.grad.clone() });
//! let rows: Vec<_> = weight_grad.outer_iter().collect(); // row u: the weights into unit u
//! assert!(rows[0].iter().all(|&g| g != 0.0)); // the live unit learns
//! assert!(rows[1].iter().all(|&g| g == 0.0)); // the dead unit cannot
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The cures change what happens for negative inputs, so that some gradient always flows:
//!
//! | activation | f(x) for x ≤ 0 | f'(x) for x < 0 | a silent unit is |
//! |---|---|---|---|
//! | [`Relu`](crate::activations::Relu) | 0 | 0 | dead: it cannot recover |
//! | [`LeakyRelu`](crate::activations::LeakyRelu) | 0.01·x | 0.01 | inactive, still learning |
//! | [`PRelu`](crate::activations::PRelu) | α·x, α learned (init 0.25) | α | inactive, still learning |
//! | [`Elu`](crate::activations::Elu) | α·(eˣ − 1) | α·eˣ, smooth, saturates at −α | inactive, still learning |
//!
//! Dead or inactive is decided by the gradient, not by the name: `LeakyRelu::new(0.0)` is a ReLU,
//! and its silent units are dead; a PReLU channel whose α is exactly 0 passes no gradient to x,
//! yet it is only inactive, because α still receives dL/dα = Σ x·g and can move away from 0
//! (the definition: [`ActivationStats`](crate::core::ActivationStats)).
//!
//! The same network with a Leaky ReLU: the negative unit is *inactive* (every input on the
//! negative side) but its weights still get a gradient, 0.01 times as large, and can pull it back:
//!
//! ```
//! use lazarus::prelude::*;
//! use ndarray::array;
//!
//! let hidden = Linear::from_params(
//!     array![[1.0f32, 1.0], [1.0, 1.0]].into_dyn(),
//!     Some(array![0.0f32, -10.0].into_dyn()),
//! )?;
//! let mut model = Sequential::new().add(hidden).add(LeakyRelu::new(0.01)?);
//! let x = Tensor::from_shape_vec(vec![3, 2], vec![0.1, 0.9, 0.5, 0.5, 1.0, 0.2])?;
//! model.forward(x.view(), Mode::Train)?;
//! model.zero_grad();
//! model.backward(Tensor::ones(vec![3, 2]).view())?;
//!
//! let mut weight_grad = Tensor::zeros(vec![0]);
//! model.visit_params(&mut |name, p| if name == "0.weight" { weight_grad = p.grad.clone() });
//! // dL/dw = Σ 0.01 · x over the batch: small, but not zero.
//! let unit_1: Vec<f32> = weight_grad.outer_iter().nth(1).unwrap().iter().copied().collect();
//! assert!((unit_1[0] - 0.01 * (0.1 + 0.5 + 1.0)).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! PReLU goes one step further: its slope α is a [`Param`](crate::core::Param) like any
//! weight (path `"1.weight"` in the model above, PyTorch's name for it), updated by the
//! optimizer and saved in checkpoints, so the network chooses how much to leak. ELU's negative side is a smooth curve that saturates at
//! −α, which pushes the mean output towards zero (less "bias shift" for the next layer) and is
//! known to converge faster in some deep networks.
//!
//! ## 2. Watching units die during training
//!
//! What "dead" means has to be pinned down before it can be counted. lazarus uses one
//! definition everywhere: a unit is silent when it is silent on **every sample of a fixed probe
//! set, with fixed weights**. [`Trainer::diagnostics`](crate::train::Trainer::diagnostics)
//! draws the probe set once (2,048 training samples, or all of them if fewer) and runs the
//! network over it at initialization (epoch 0) and after every epoch, as training sees it
//! (BatchNorm on batch statistics, no dropout) but changing nothing. A silent unit is *dead*
//! for ReLU, *inactive* for the leaky variants. (Counting "silent on every batch of the epoch"
//! instead would measure a moving target: the early batches, before a unit died, hide its
//! death until the next epoch.) The numbers land in the [`History`](crate::train::History) (and
//! its JSON and CSV), and a unit that comes back is counted as revived:
//!
//! ```
//! use lazarus::prelude::*;
//! use lazarus::train::diagnostics::{DiagnosticsConfig, SilentKind};
//! use lazarus::train::models::mlp;
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let train = SyntheticDigits::new(1).generate(300)?;
//! let model = mlp(&[784, 32, 10], "relu", 0.0, &mut StdRng::seed_from_u64(0))?;
//! let mut trainer = Trainer::new(model, CrossEntropyLoss::new(), Adam::new(0.05)?) // a harsh lr
//!     .epochs(2)
//!     .batch_size(32)?
//!     .verbosity(Verbosity::Silent)
//!     .diagnostics(DiagnosticsConfig { warnings: false, ..DiagnosticsConfig::default() })?;
//! let history = trainer.fit(&train, None)?;
//! let report = history.epochs[1].diagnostics.as_ref().unwrap();
//! let relu = &report.units[0]; // the probe after epoch 2
//! assert_eq!((relu.layer.as_str(), relu.kind), ("relu", SilentKind::Dead));
//! println!("{} of {} ReLU units dead after epoch 2", relu.silent, relu.units);
//! assert!(relu.silent > 0); // 22 of the 32 with this seed: lr 0.05 is 50x Adam's usual
//! print!("{}", report.table()); // layer, dead %, gradient norms, output max
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Trainer::report`](crate::train::Trainer::report) draws it all on one HTML page: a heatmap
//! per layer (units × epochs, dead units black, inactive ones orange), the PReLU slopes, the
//! gradient norms. The lab runs the whole comparison, ReLU against Leaky ReLU, PReLU and ELU,
//! under a gentle setting, a harsh one, and the harsh one with BatchNorm, and plots the dead
//! fractions epoch by epoch: `cargo run --release --example dying_relu -- --report lab.html`.
//! On this project's machine the harsh setting leaves about half of the first ReLU layer dead,
//! while the variants keep nearly all their units learning, and BatchNorm keeps ReLU's alive.
//!
//! A network can also be **born dead**: with deep, narrow ReLU layers, some layer is all zeros
//! for every input already at initialization, the output does not depend on the input, and
//! no gradient reaches the first layer (Lu, Shin, Su & Karniadakis, 2019).
//! The trainer's probe at initialization checks it (a warning if the output is the same for
//! every probe input); [`born_dead_check`](crate::train::diagnostics::born_dead_check) tests
//! one batch, and
//! `cargo run --release --example dying_relu -- born-dead` measures the probability by width
//! and depth.
//!
//! ## 3. Unbounded outputs and exploding gradients
//!
//! Sigmoid and tanh cap their outputs; ReLU does not. With a poor weight initialization each
//! layer can multiply the size of the signal, forwards and backwards, until one step is huge and
//! the weights are wrecked (or turned into NaN). Two cures, both one line:
//!
//! * **Initialize for ReLU.** He (Kaiming) initialization keeps the output variance steady
//!   through ReLU layers; Xavier initialization shrinks it by about √2 per layer.
//!   [`init::kaiming_normal`](crate::core::init::kaiming_normal) takes the leaky slope into
//!   account (gain √(2 / (1 + a²))). `cargo run --release --example dying_relu -- init-probe`
//!   shows the standard deviation of each of 30 layers for both.
//! * **Clip the gradient norm.** Rescale all gradients together when their total norm exceeds
//!   a threshold: the direction is kept, the step is capped.
//!
//! ```
//! use lazarus::prelude::*;
//! use ndarray::array;
//!
//! let mut layer = Linear::from_params(array![[0.0f32, 0.0]].into_dyn(), None)?;
//! // An exploding gradient: norm 5000.
//! layer.visit_params_mut(&mut |_, p| p.grad.assign(&array![[3000.0f32, 4000.0]].into_dyn()));
//! let before = clip_grad_norm(&mut layer, 1.0, NormType::L2, true)?;
//! assert_eq!(before, 5000.0); // returned for logging: a spike is the warning sign
//! let mut g = Vec::new();
//! layer.visit_params(&mut |_, p| g.extend(p.grad.iter().copied()));
//! assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6); // same direction, norm 1
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a [`Trainer`](crate::train::Trainer), it is `.clip_grad_norm(1.0)?`; the diagnostics
//! record each parameter's gradient norm before clipping and warn about spikes (a total norm
//! more than 10× the median of the previous 20 steps). In the lab, `--clip-norm 1` puts the
//! clipped run next to the unclipped one.
//!
//! ## 4. So which one?
//!
//! ReLU stays the default: it is the fastest, its sparsity is useful, and with He
//! initialization and a sane learning rate most units stay alive. When the dead-unit count
//! climbs (the diagnostics tell you), try Leaky ReLU first (no extra parameters), PReLU when
//! you would rather learn the slope, and ELU (or SELU for self-normalizing networks) when
//! smoother, zero-centred outputs help convergence. Whatever the activation, clip gradients
//! when the norms spike.
