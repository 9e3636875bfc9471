//! How it works: seven questions a learner asks, each answered from at most two files of the
//! README's reading tour, with the function that holds the answer. Every answer has a few
//! lines that run as a doc test, and `tests/reading_tour.rs` checks that each file named here
//! exists and still defines the function named, so the answers cannot silently go stale.
//!
//! # 1. Where is ReLU's derivative at 0 decided?
//!
//! `crates/lazarus-activations/src/relu.rs`, function `relu_grad`: `1 if x > 0 else 0`, so
//! ReLU'(0) = 0, PyTorch's choice (its `threshold_backward` masks with `x > 0`). `Relu::backward`
//! just above multiplies it with the upstream gradient. (The SIMD loop that runs it is one hop
//! further, in `kernels/elementwise.rs`; nothing there decides a value.)
//!
//! ```
//! use lazarus::activations::functional::relu_grad;
//! assert_eq!(relu_grad(0.0), 0.0);
//! assert_eq!(relu_grad(1e-30), 1.0);
//! assert_eq!(relu_grad(-2.0), 0.0);
//! ```
//!
//! # 2. How does PReLU's alpha reach the optimizer, and why is it not decayed?
//!
//! `crates/lazarus-activations/src/prelu.rs`, `visit_params`: the slope α is a `Param` with role
//! `Slope`, visited as `weight` (PyTorch's name for it) exactly as `Linear` visits its own
//! `weight`; optimizers, clipping and checkpoints walk parameters this way and never name
//! PReLU, and whoever looks for slopes asks for the role. `crates/lazarus-optim/src/grouped.rs`,
//! `settings_for`: weight decay applies to role `Weight` only unless you ask otherwise, because
//! decaying the slope pulls it to 0 and turns PReLU back into ReLU (He et al. 2015; PyTorch's
//! docs warn against it).
//!
//! ```
//! use lazarus::activations::PRelu;
//! use lazarus::core::{Layer, ParamRole};
//! let prelu = PRelu::new(4, 0.25)?;
//! let mut seen = Vec::new();
//! prelu.visit_params(&mut |name, p| seen.push((name.to_string(), p.role())));
//! assert_eq!(seen, [("weight".to_string(), ParamRole::Slope)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # 3. One training step of `Trainer::fit`, from batch to update
//!
//! `crates/lazarus-train/src/trainer.rs`, `train_epoch`: one line per textbook step, forward →
//! loss → zero_grad → backward → clip → step → schedule, each with a comment; `step` and `clip`
//! just below. `observer.rs` beside it lists what watches the step (progress, diagnostics, your
//! callbacks) and at which point. The same step written out by hand gives the same weights bit
//! for bit (`crates/lazarus-train/tests/training_step.rs`):
//!
//! ```
//! use lazarus::core::loss::{CrossEntropyLoss, Loss, Target};
//! use lazarus::core::{Layer, Linear, Mode, Tensor};
//! use lazarus::optim::{Optimizer, Sgd};
//! use rand::{rngs::StdRng, SeedableRng};
//! let mut model = Linear::new(3, 2, &mut StdRng::seed_from_u64(0))?;
//! let mut loss_fn = CrossEntropyLoss::new();
//! let mut opt = Sgd::new(0.1)?;
//! let x = Tensor::from_elem(vec![4, 3], 0.5);
//! let labels = [0, 1, 1, 0];
//! let y = model.forward(x.view(), Mode::Train)?.to_owned(); // forward
//! let loss = loss_fn.forward(y.view(), Target::Classes(&labels))?; // loss
//! model.zero_grad(); // zero_grad
//! model.backward_params(loss_fn.input_grad()?)?; // backward: dL/dθ into every Param
//! opt.step(&mut model)?; // step: θ ← θ − lr·g
//! assert!(loss.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # 4. How does "dead" differ from "inactive", and when is it measured?
//!
//! `crates/lazarus-core/src/activation_stats.rs`, `ActivationStats`: what an activation reports
//! per unit (how many inputs fell in its silent region, and whether a silent input still passes
//! a gradient). `crates/lazarus-train/src/diagnostics.rs`, its module doc: a unit silent on every
//! input is *dead* when no gradient can revive it (ReLU; LeakyReLU with slope 0) and *inactive*
//! when one still can (LeakyReLU, ELU; PReLU, whose slope keeps learning even at 0), and when
//! the trainer measures it.
//!
//! ```
//! use lazarus::activations::{LeakyRelu, Relu};
//! use lazarus::core::{Layer, Mode, Tensor};
//! let x = Tensor::from_elem(vec![8, 2], -1.0); // every input negative: both units silent
//! for mut layer in [Box::new(Relu::new()) as Box<dyn Layer>, Box::new(LeakyRelu::new(0.01)?)] {
//!     layer.forward(x.view(), Mode::Train)?;
//!     let stats = layer.activation_stats().expect("an activation reports statistics");
//!     assert_eq!(stats.units, 2);
//!     assert_eq!(stats.samples_per_unit, 8);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # 5. Where does clipping happen, and what does it return?
//!
//! `crates/lazarus-train/src/trainer.rs`, `clip`: after backward, before the step, with the
//! total gradient norm measured once for the step (and shared with the diagnostics).
//! `crates/lazarus-optim/src/clip.rs`, `clip_grad_norm`: scales every gradient by
//! `min(1, max_norm / ‖g‖₂)` and returns the norm *before* clipping, as PyTorch's
//! `clip_grad_norm_` does, so you can log it.
//!
//! ```
//! use lazarus::core::{Layer, Param, ParamBag, ParamRole, Tensor};
//! use lazarus::optim::{NormType, clip_grad_norm};
//! let mut p = Param::new(Tensor::zeros(vec![2]), ParamRole::Weight);
//! p.grad = Tensor::from_shape_vec(vec![2], vec![3.0, 4.0])?;
//! let mut bag = ParamBag::new(vec![("w", p)]);
//! let before = clip_grad_norm(&mut bag, 1.0, NormType::L2, false)?;
//! assert_eq!(before, 5.0);
//! let mut after = Vec::new();
//! bag.visit_params(&mut |_, p| after.extend(p.grad.iter().copied()));
//! assert!((after[0] - 0.6).abs() < 1e-6 && (after[1] - 0.8).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # 6. How do checkpoint keys match PyTorch's?
//!
//! `crates/lazarus-core/src/walk.rs`, `walk_layers`: the one place paths are built, `"2"` for
//! child 2 of a `Sequential`, `"2.0"` inside a nested one, so parameters are `0.weight`,
//! `0.bias`, `2.weight` (a PReLU's slopes) and buffers `3.running_mean`: the keys of PyTorch's
//! `nn.Sequential.state_dict()`.
//! `crates/lazarus-train/src/checkpoint/model.rs`, `entries`: one safetensors tensor per
//! parameter and per buffer under that path, `Linear` weights `[out, in]` as in PyTorch,
//! float32 (int64 for a count), nothing renamed.
//!
//! ```
//! use lazarus::core::{Layer, Linear, Sequential};
//! use lazarus::activations::Relu;
//! use rand::{rngs::StdRng, SeedableRng};
//! let mut rng = StdRng::seed_from_u64(0);
//! let model = Sequential::new()
//!     .add(Linear::new(784, 16, &mut rng)?)
//!     .add(Relu::new())
//!     .add(Linear::new(16, 10, &mut rng)?);
//! let mut keys = Vec::new();
//! model.visit_params(&mut |name, p| keys.push((name.to_string(), p.value.shape().to_vec())));
//! assert_eq!(keys[0], ("0.weight".to_string(), vec![16, 784]));
//! assert_eq!(keys[3], ("2.bias".to_string(), vec![10]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # 7. How does `Linear`'s backward compute dW, db and dx?
//!
//! `crates/lazarus-core/src/linear.rs`, `backward_reference`: in plain ndarray, `dW = Gᵀ·x`,
//! `db = Σ_batch G`, `dx = G·W`. The layer's `backward` computes the same three with the one
//! GEMM entry point (`kernels/gemm.rs`), and the tests compare the two on random shapes.
//!
//! ```
//! use lazarus::core::{Layer, Linear, Mode, Tensor};
//! use rand::{rngs::StdRng, SeedableRng};
//! let mut layer = Linear::new(3, 2, &mut StdRng::seed_from_u64(0))?;
//! let x = Tensor::from_shape_fn(vec![4, 3], |i| (i[0] + 2 * i[1]) as f32 * 0.1);
//! let g = Tensor::from_shape_fn(vec![4, 2], |i| (i[0] as f32 - i[1] as f32) * 0.5);
//! layer.forward(x.view(), Mode::Train)?;
//! let dx = layer.backward(g.view())?.to_owned();
//! // dx = G·W, db = Σ_batch G: the formulas, checked by hand.
//! let expected_dx = g.clone().into_dimensionality::<ndarray::Ix2>()?
//!     .dot(&layer.weight().value.view().into_dimensionality::<ndarray::Ix2>()?);
//! assert!(dx.iter().zip(expected_dx.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
