//! After the first batch, BatchNorm and LayerNorm allocate nothing: forward (every mode),
//! backward and backward_params reuse the layer's buffers (counted on this thread by a
//! wrapping allocator; 1 thread, so every pass runs here).

mod counting_alloc;
use counting_alloc::allocations;
use lazarus_core::gradcheck::random_input;
use lazarus_core::{BatchNorm1d, BatchNorm2d, Layer, LayerNorm, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

#[test]
fn batches_after_the_first_do_not_allocate() {
    set_num_threads(1);
    let mut rng = StdRng::seed_from_u64(0);
    let cases: [(Box<dyn Layer>, Vec<usize>); 4] = [
        (Box::new(BatchNorm2d::new(4).unwrap()), vec![8, 4, 9, 9]),
        (Box::new(BatchNorm1d::new(16).unwrap()), vec![32, 16]),
        (
            Box::new(BatchNorm1d::new(3).unwrap().with_momentum(None).unwrap()),
            vec![6, 3, 20],
        ),
        (Box::new(LayerNorm::new(&[4, 9]).unwrap()), vec![8, 4, 9]),
    ];
    for (mut layer, shape) in cases {
        let x = random_input(&shape, &mut rng);
        let g = random_input(&shape, &mut rng);
        // A smaller last batch, then the full size again (as across an epoch's end).
        let mut small = shape.clone();
        small[0] -= 2;
        let (x_small, g_small) = (
            random_input(&small, &mut rng),
            random_input(&small, &mut rng),
        );
        for round in 0..3 {
            let before = allocations();
            for (x, g) in [(&x, &g), (&x_small, &g_small)] {
                layer.forward(x.view(), Mode::Train).unwrap();
                layer.backward(g.view()).unwrap();
                layer.forward(x.view(), Mode::Train).unwrap();
                layer.backward_params(g.view()).unwrap();
                layer.forward(x.view(), Mode::Eval).unwrap();
                layer.forward(x.view(), Mode::Probe).unwrap();
            }
            // The first round allocates the buffers (which shows the counter counts).
            let allocated = allocations() - before;
            assert_eq!(
                allocated == 0,
                round > 0,
                "{}: {allocated}",
                layer.describe()
            );
        }
    }
    set_num_threads(0);
}
