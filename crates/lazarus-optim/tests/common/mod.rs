//! Test helpers: the quadratic's parameters and gradient, PReLU-like parameters, and three
//! parameters of different roles, in `lazarus_core::ParamBag`s; training them, and their bits.
#![allow(dead_code)] // each test file uses a different part

use lazarus_core::{Layer, Param, ParamBag, ParamRole, Tensor};
use lazarus_optim::{Optimizer, Sgd};

/// PReLU's slopes α as loose parameters: `[num_parameters]` with role Slope, named "weight"
/// (PyTorch's name for α), exactly what PReLU exposes.
pub fn prelu_like(num_parameters: usize) -> ParamBag {
    ParamBag::new(vec![(
        "weight",
        Param::new(
            Tensor::from_elem(vec![num_parameters], 0.25),
            ParamRole::Slope,
        ),
    )])
}

/// Each parameter's values, flattened, in visiting order.
pub trait Values {
    fn values(&self) -> Vec<Vec<f32>>;
}

impl Values for ParamBag {
    fn values(&self) -> Vec<Vec<f32>> {
        self.params
            .iter()
            .map(|(_, p)| p.value.iter().copied().collect())
            .collect()
    }
}

/// The quadratic f(w) = ½ Σ aᵢwᵢ² + Σ bᵢwᵢ of the tests, gradient a ⊙ w + b.
pub const A: [f32; 4] = [1.0, 2.0, 0.5, 3.0];
pub const B: [f32; 4] = [-1.0, 0.5, 2.0, -0.25];
pub const W0: [f32; 4] = [1.5, -2.0, 0.75, 1.0];

/// A bag holding the quadratic's `w` (role Weight, so weight decay applies as in PyTorch).
pub fn quadratic() -> ParamBag {
    ParamBag::new(vec![(
        "w",
        Param::new(
            Tensor::from_shape_vec(vec![4], W0.to_vec()).unwrap(),
            ParamRole::Weight,
        ),
    )])
}

/// Set each parameter's gradient to the quadratic's gradient a ⊙ w + b (in f32, as PyTorch's
/// `w.grad = a * w + b`), cycling a and b over longer parameters.
pub fn set_quadratic_grad(model: &mut dyn Layer) {
    model.visit_params_mut(&mut |_, p| {
        let grad: Vec<f32> = p
            .value
            .iter()
            .enumerate()
            .map(|(i, &w)| A[i % 4] * w + B[i % 4])
            .collect();
        p.grad = Tensor::from_shape_vec(p.value.raw_dim(), grad).unwrap();
    });
}

/// `steps` optimizer steps on the quadratic; the value of `w` after each.
pub fn trajectory(opt: &mut dyn Optimizer, steps: usize) -> Vec<Vec<f32>> {
    let mut model = quadratic();
    (0..steps)
        .map(|_| {
            set_quadratic_grad(&mut model);
            opt.step(&mut model).unwrap();
            model.values().remove(0)
        })
        .collect()
}

/// Assert `got` matches `want` within `rel` relative error (with a tiny absolute floor for
/// values that pass through 0).
pub fn assert_close(got: &[Vec<f32>], want: &[Vec<f64>], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: step count");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        for (i, (&g, &w)) in g.iter().zip(w).enumerate() {
            let err = (f64::from(g) - w).abs();
            assert!(
                err <= rel * w.abs() + 1e-7,
                "{what}: step {}, w[{i}] = {g}, expected {w} (error {err:e})",
                t + 1
            );
        }
    }
}

/// Three parameters of different shapes and roles (weight [2, 3], bias [3], alpha [1]), so
/// that groups apply to some only: the model of the state tests.
pub fn three_params() -> ParamBag {
    let w: Vec<f32> = (0..6).map(|i| 0.3 * i as f32 - 0.7).collect();
    ParamBag::new(vec![
        (
            "0.weight",
            Param::new(
                Tensor::from_shape_vec(vec![2, 3], w).unwrap(),
                ParamRole::Weight,
            ),
        ),
        (
            "0.bias",
            Param::new(
                Tensor::from_shape_vec(vec![3], vec![0.1, -0.2, 0.3]).unwrap(),
                ParamRole::Bias,
            ),
        ),
        (
            "1.weight",
            Param::new(Tensor::from_elem(vec![1], 0.25), ParamRole::Slope),
        ),
    ])
}

/// Bits of every parameter value, in visiting order.
pub fn bits(m: &ParamBag) -> Vec<Vec<u32>> {
    m.values()
        .iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

/// `steps` optimizer steps on `m`, with the quadratic's gradient.
pub fn train(opt: &mut dyn Optimizer, m: &mut ParamBag, steps: usize) {
    for _ in 0..steps {
        set_quadratic_grad(m);
        opt.step(m).unwrap();
    }
}

/// SGD at `lr` with every option that changes its update: momentum 0.9, Nesterov, weight
/// decay 0.01.
pub fn sgd_nesterov_wd(lr: f32) -> Sgd {
    Sgd::new(lr)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .nesterov(true)
        .unwrap()
        .weight_decay(0.01)
        .unwrap()
}
