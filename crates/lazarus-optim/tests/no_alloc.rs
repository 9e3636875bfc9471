//! Once its state exists, a step allocates nothing (counted on this thread by a wrapping
//! allocator). The model is a ParamBag, whose visit itself does not allocate (a `Sequential`
//! builds one small path string per child per visit, which is its cost, not the optimizer's).

mod common;

// The core's counting allocator, shared by every "allocates nothing" test of the workspace.
#[path = "../../lazarus-core/tests/counting_alloc/mod.rs"]
mod counting_alloc;

use common::set_quadratic_grad;
use counting_alloc::allocations;
use lazarus_core::{Param, ParamBag, ParamRole, Tensor};
use lazarus_optim::{Adam, Optimizer, RmsProp, Sgd};

#[test]
fn steps_after_the_first_do_not_allocate() {
    let opts: Vec<Box<dyn Optimizer>> = vec![
        Box::new(
            Sgd::new(0.01)
                .unwrap()
                .momentum(0.9)
                .unwrap()
                .weight_decay(1e-4)
                .unwrap(),
        ),
        Box::new(Adam::new(1e-3).unwrap().amsgrad(true)),
        Box::new(
            RmsProp::new(1e-3)
                .unwrap()
                .centered(true)
                .momentum(0.9)
                .unwrap(),
        ),
    ];
    for mut opt in opts {
        let mut m = ParamBag::new(vec![
            (
                "0.weight",
                Param::new(Tensor::from_elem(vec![64, 32], 0.5), ParamRole::Weight),
            ),
            (
                "0.bias",
                Param::new(Tensor::from_elem(vec![64], 0.1), ParamRole::Bias),
            ),
        ]);
        set_quadratic_grad(&mut m);
        opt.step(&mut m).unwrap();
        opt.set_lr(1e-4);
        let before = allocations();
        for _ in 0..10 {
            opt.step(&mut m).unwrap();
        }
        assert_eq!(allocations() - before, 0);
    }
}
