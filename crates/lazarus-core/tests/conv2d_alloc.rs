//! Once its buffers exist, a Conv2d training step (forward, backward, backward_params)
//! allocates nothing: counted on this thread by a wrapping allocator, with 1 and 2 threads
//! (the pool's workers reuse their own buffers too: faer's scratch is per thread and kept).

mod counting_alloc;
use counting_alloc::allocations;
use lazarus_core::gradcheck::random_input;
use lazarus_core::{Conv2dSettings, Layer, Mode, set_num_threads};
use rand::{SeedableRng, rngs::StdRng};

#[test]
fn training_steps_after_the_first_do_not_allocate() {
    let mut rng = StdRng::seed_from_u64(0);
    for threads in [1, 2] {
        set_num_threads(threads);
        // The MNIST CNN's second convolution at batch 16, and a strided grouped one; a smaller
        // last batch (as at the end of an epoch) reuses the buffers of the larger one.
        let settings = [
            Conv2dSettings::new(16, 32, 3).padding(1),
            Conv2dSettings::new(4, 6, 3)
                .stride(2)
                .unwrap()
                .groups(2)
                .unwrap(),
        ];
        for s in settings {
            let mut conv = s.build(&mut rng).unwrap();
            let c = s.in_channels;
            let (x, small) = (
                random_input(&[16, c, 14, 14], &mut rng),
                random_input(&[5, c, 14, 14], &mut rng),
            );
            let step = |conv: &mut lazarus_core::Conv2d, x: &lazarus_core::Tensor| {
                let shape = conv
                    .forward(x.view(), Mode::Train)
                    .unwrap()
                    .shape()
                    .to_vec();
                let g = lazarus_core::Tensor::from_elem(shape, 0.5);
                let before = allocations();
                conv.forward(x.view(), Mode::Train).unwrap();
                conv.backward(g.view()).unwrap();
                conv.backward_params(g.view()).unwrap();
                conv.zero_grad();
                allocations() - before
            };
            step(&mut conv, &x);
            step(&mut conv, &small);
            assert_eq!(step(&mut conv, &x), 0, "{s:?}, {threads} threads");
            assert_eq!(step(&mut conv, &small), 0, "{s:?}, {threads} threads");
        }
    }
    set_num_threads(0);
}
