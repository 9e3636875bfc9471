//! Once its state exists, a step allocates nothing (counted on this thread by a wrapping
//! allocator). The model is a ParamBag, whose visit itself does not allocate (a `Sequential`
//! builds one small path string per child per visit, which is its cost, not the optimizer's).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::set_quadratic_grad;
use lazarus_core::{Param, ParamBag, ParamRole, Tensor};
use lazarus_optim::{Adam, Optimizer, RmsProp, Sgd};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
        let before = ALLOCATIONS.with(Cell::get);
        for _ in 0..10 {
            opt.step(&mut m).unwrap();
        }
        assert_eq!(ALLOCATIONS.with(Cell::get) - before, 0);
    }
}
