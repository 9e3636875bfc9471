//! `BatchNorm1d` / `BatchNorm2d`: PyTorch's numbers (outputs, the three gradients, running
//! statistics after several steps with momentum 0.1 and None, eval outputs after them), the
//! finite-difference check of the batch-coupled backward, the kernel against the plain-ndarray
//! reference on random shapes, the same bits for 1, 2 and 3 threads, `Mode::Probe`, and errors.

mod norm_common;

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{
    BatchNorm, BatchNorm1d, BatchNorm2d, BufferKind, Error, Layer, Mode, Sequential, Tensor,
    TensorView, set_num_threads,
};
use norm_common::{assert_backward_errors, close, inp, near, param_grad, set_param};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

const X: (usize, usize, f64) = (37, 23, 7.0);

// The PyTorch 2.15 script behind the literals below:
//
// def inp(shape, a=37, b=23, scale=7.0, shift=0.0):
//     n = math.prod(shape)
//     return torch.tensor([((i * a) % b - b // 2) / scale + shift for i in range(n)],
//                         dtype=torch.float32).reshape(shape)
// fl = lambda t: ", ".join(str(v) for v in t.detach().flatten().numpy())  # shortest f32 forms
// bn = torch.nn.BatchNorm2d(3)
// bn.weight.data = torch.tensor([0.5, -1.0, 2.0]); bn.bias.data = torch.tensor([0.1, 0.0, -0.3])
// x = inp([2, 3, 2, 2]).requires_grad_(); g = inp([2, 3, 2, 2], a=11, b=13, scale=5.0)
// y = bn(x); y.backward(g)
// print(fl(y), fl(x.grad), fl(bn.weight.grad), fl(bn.bias.grad), fl(bn.running_mean), fl(bn.running_var))
#[test]
fn batch_norm2d_matches_pytorch_output_gradients_and_running_statistics() {
    let mut bn = BatchNorm2d::new(3).unwrap();
    set_param(&mut bn, "weight", &[0.5, -1.0, 2.0]);
    set_param(&mut bn, "bias", &[0.1, 0.0, -0.3]);
    let x = inp(&[2, 3, 2, 2], X, 0.0);
    let g = inp(&[2, 3, 2, 2], (11, 13, 5.0), 0.0);
    let y = bn.forward(x.view(), Mode::Train).unwrap().to_owned();
    #[rustfmt::skip]
    close(y.view(), &[
        -0.6116188, 0.37234795, -0.26020214, 0.72376466,
        0.24096426, 1.6867499, -0.56225, 0.8835357,
        2.5213685, -0.017863162, -2.5570948, 1.3928212,
        -0.119635455, 0.86433136, 0.23178126, -0.40076882,
        -0.8835357, 0.56224996, -1.6867498, -0.2409643,
        -1.9928212, 1.9570949, -0.5821369, -3.1213686,
    ], 1e-6);
    let dx = bn.backward(g.view()).unwrap().to_owned();
    #[rustfmt::skip]
    close(dx.view(), &[
        -0.58084136, 0.47132593, 0.29394442, 0.066954896,
        -0.032647397, 0.727293, 0.6946523, -1.4691073,
        0.5541696, -0.023581414, -0.6013324, -1.7214547,
        -0.39914608, -0.6261356, 0.47563967, 0.29825816,
        -0.7236677, 0.03627269, 0.0036320656, 0.7635724,
        1.7214546, 0.6013323, 0.023581302, -0.5541697,
    ], 1e-5);
    let dw = [0.24950582, -1.5261071, 0.67712843];
    close(param_grad(&bn, "weight").view(), &dw, 1e-5);
    close(param_grad(&bn, "bias").view(), &[0.2, -2.2, 3.2], 1e-6);
    let rm = [-0.012499999, 0.0071428567, -0.014285713];
    let rv = [1.0180393, 0.990379, 1.0172012];
    close(bn.running_mean().unwrap().value.view(), &rm, 1e-6);
    close(bn.running_var().unwrap().value.view(), &rv, 1e-6);
    assert_eq!(bn.num_batches_tracked().unwrap().value.sum(), 1.0);
}

// bn = torch.nn.BatchNorm1d(2)
// bn.weight.data = torch.tensor([1.5, 0.25]); bn.bias.data = torch.tensor([-0.5, 0.75])
// x = inp([3, 2, 3], a=7, b=17, scale=4.0).requires_grad_(); g = inp([3, 2, 3], a=5, b=11, scale=3.0)
// y = bn(x); y.backward(g)
#[test]
fn batch_norm1d_on_three_axes_matches_pytorch_gradients() {
    let mut bn = BatchNorm1d::new(2).unwrap();
    set_param(&mut bn, "weight", &[1.5, 0.25]);
    set_param(&mut bn, "bias", &[-0.5, 0.75]);
    let x = inp(&[3, 2, 3], (7, 17, 4.0), 0.0);
    let g = inp(&[3, 2, 3], (5, 11, 3.0), 0.0);
    let y = bn.forward(x.view(), Mode::Train).unwrap().to_owned();
    #[rustfmt::skip]
    close(y.view(), &[
        -3.233959, -1.1834898, 0.8669794, 0.6493695,
        1.0456021, 0.47955552, -0.8905656, 1.1599035,
        -1.7693381, 1.1022068, 0.5361602, 0.93239284,
        1.4528277, -1.476414, 0.57405525, 0.59276485,
        0.98899746, 0.42295086,
    ], 1e-6);
    let dx = bn.backward(g.view()).unwrap().to_owned();
    #[rustfmt::skip]
    close(dx.view(), &[
        -1.9042847, -0.18314703, 1.5379906, -0.09649034,
        0.42966908, -0.23573253, 0.955451, -1.6196322,
        0.66418123, -0.15285756, 0.011942566, -0.2920997,
        -0.4810341, 1.8027792, -0.772304, 0.25961763,
        -0.044424653, 0.12037546,
    ], 1e-5);
    close(
        param_grad(&bn, "weight").view(),
        &[1.3018848, -3.7317147],
        1e-5,
    );
    close(param_grad(&bn, "bias").view(), &[2.0, -0.66666645], 1e-5);
}

// for shape in ([5, 4], [3, 4, 2]):
//     for momentum in (0.1, None):
//         bn = torch.nn.BatchNorm1d(4, momentum=momentum)
//         for k in range(3):
//             bn(inp(shape, shift=float(k)) * (k + 1))
//         bn.eval()
//         y = bn(inp(shape, a=5, b=9, scale=3.0))
//         print(fl(bn.running_mean), fl(bn.running_var), int(bn.num_batches_tracked), fl(y))
#[test]
fn running_statistics_after_three_steps_and_eval_match_pytorch() {
    struct Case {
        shape: &'static [usize],
        momentum: Option<f32>,
        mean: [f32; 4],
        var: [f32; 4],
        eval: &'static [f32],
    }
    #[rustfmt::skip]
    let cases = [
        Case { shape: &[5, 4], momentum: Some(0.1),
            mean: [0.76397145, 0.78000003, 0.7960286, 0.81205714],
            var: [2.4723, 2.2205203, 2.4723, 1.9687409],
            eval: &[-1.3338594, -0.29974723, -1.1422515, -0.10361924, -0.9098678, 0.14763671, -0.71825993, 0.37151176, -0.4858762, -1.4182072, -0.29426834, -1.2914467, -0.06188459, -0.9708232, 0.12972325, -0.81631577, 0.36210704, -0.5234392, -1.3542473, -0.34118474] },
        Case { shape: &[5, 4], momentum: None,
            mean: [2.6095238, 2.6666665, 2.7238097, 2.7809525],
            var: [6.066667, 5.190476, 6.066667, 4.3142858],
            eval: &[-1.6007946, -1.0241716, -1.5118616, -1.0179085, -1.3301288, -0.73155105, -1.2411958, -0.69694626, -1.059463, -1.7557228, -0.9705301, -1.8203137, -0.78879726, -1.4631023, -0.6998644, -1.4993516, -0.5181315, -1.1704818, -1.6471945, -1.1783894] },
        Case { shape: &[3, 4, 2], momentum: Some(0.1),
            mean: [0.8334286, 0.9269285, 0.7132143, 0.49950004],
            var: [2.1156123, 2.4303367, 2.4303367, 1.5910714],
            eval: &[-1.4896772, -0.343822, -1.236037, -0.16694614, -0.8851309, 0.18395999, -0.6602553, 0.66104805, -0.57299304, -1.4896772, -0.3807643, -1.236037, -0.029858168, -0.8851309, 0.39678738, -0.6602553, 0.34369105, -0.57299304, -1.4498552, -0.3807643, -1.0989491, -0.029858168, -0.92451596, 0.39678738] },
        Case { shape: &[3, 4, 2], momentum: None,
            mean: [2.857143, 3.190476, 2.4285712, 1.6666666],
            var: [4.8253975, 5.9206347, 5.9206347, 2.9999998],
            eval: &[-1.9076399, -1.1489195, -1.7221812, -1.0372227, -1.2720656, -0.5871072, -1.1546986, -0.1924497, -1.3006636, -1.9076399, -1.1742144, -1.7221812, -0.72409886, -1.2720656, -0.3848995, -1.1546986, -0.69368726, -1.3006636, -1.8591728, -1.1742144, -1.4090573, -0.72409886, -1.3471483, -0.3848995] },
    ];
    for case in cases {
        let mut bn = BatchNorm1d::new(4)
            .unwrap()
            .with_momentum(case.momentum)
            .unwrap();
        for k in 0..3 {
            let x = inp(case.shape, X, k as f64) * (k + 1) as f32;
            bn.forward(x.view(), Mode::Train).unwrap();
        }
        close(bn.running_mean().unwrap().value.view(), &case.mean, 1e-6);
        close(bn.running_var().unwrap().value.view(), &case.var, 1e-6);
        let tracked = bn.num_batches_tracked().unwrap();
        assert_eq!((tracked.value.shape(), tracked.value.sum()), (&[][..], 3.0));
        let y = bn
            .forward(inp(case.shape, (5, 9, 3.0), 0.0).view(), Mode::Eval)
            .unwrap();
        close(y, case.eval, 1e-5);
    }
}

#[test]
fn gradients_pass_finite_difference_check_in_training() {
    let mut rng = StdRng::seed_from_u64(16);
    let cases: [(Box<dyn Layer>, &[usize]); 5] = [
        (Box::new(BatchNorm1d::new(3).unwrap()), &[4, 3]),
        (Box::new(BatchNorm1d::new(2).unwrap()), &[3, 2, 5]),
        (Box::new(BatchNorm2d::new(3).unwrap()), &[2, 3, 3, 2]),
        (
            Box::new(BatchNorm2d::new(2).unwrap().without_affine()),
            &[3, 2, 2, 2],
        ),
        (
            Box::new(BatchNorm1d::new(3).unwrap().without_running_stats()),
            &[5, 3],
        ),
    ];
    for (mut layer, shape) in cases {
        // γ and β away from 1 and 0, so that a backward forgetting either would show.
        let c = shape[1];
        let gamma: Vec<f32> = (0..c).map(|_| rng.random_range(0.5..2.0)).collect();
        let beta: Vec<f32> = (0..c).map(|_| rng.random_range(-1.0..1.0)).collect();
        set_param(layer.as_mut(), "weight", &gamma);
        set_param(layer.as_mut(), "bias", &beta);
        let x = random_input(shape, &mut rng);
        let report = GradCheck::default()
            .check_layer(layer.as_mut(), &x, &mut rng)
            .unwrap();
        assert!(
            report.passed(),
            "{} on {shape:?}: {report}",
            layer.describe()
        );
    }
}

/// The dL/dx of the shortcut γ/σ · g (μ and σ treated as constants) fails the check: the
/// finite differences see the batch coupling.
#[test]
fn the_per_element_shortcut_would_fail_the_check() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut bn = BatchNorm1d::new(2).unwrap();
    let x = random_input(&[4, 2], &mut rng);
    let g = random_input(&[4, 2], &mut rng);
    bn.forward(x.view(), Mode::Train).unwrap();
    let dx = bn.backward(g.view()).unwrap().to_owned();
    let (reference, _) = bn.backward_reference(x.view(), g.view()).unwrap();
    approx::assert_abs_diff_eq!(dx, reference, epsilon = 1e-5);
    let var = x.var_axis(ndarray::Axis(0), 0.0);
    let shortcut = &g / &(var + 1e-5).sqrt();
    assert!((&shortcut - &dx).iter().any(|d| d.abs() > 0.1));
}

/// The kernel path against the reference for one layer and input, in every mode; `x_view`
/// holds `x`'s values in some memory layout.
fn agrees_with_reference<const D: usize>(
    mut layer: BatchNorm<D>,
    x: &Tensor,
    x_view: TensorView<'_>,
    g: &Tensor,
) -> Result<(), TestCaseError> {
    let eval_reference = layer.forward_reference(x.view(), Mode::Eval).unwrap();
    let train_reference = layer.forward_reference(x.view(), Mode::Train).unwrap();
    let (dx_reference, params) = layer.backward_reference(x.view(), g.view()).unwrap();
    let (dw_reference, db_reference) = params.unwrap();
    let eval = layer
        .forward(x_view.clone(), Mode::Eval)
        .unwrap()
        .to_owned();
    prop_assert!(
        near(&eval, &eval_reference, 1e-5),
        "{eval} vs {eval_reference}"
    );
    let probe = layer
        .forward(x_view.clone(), Mode::Probe)
        .unwrap()
        .to_owned();
    let train = layer.forward(x_view, Mode::Train).unwrap().to_owned();
    prop_assert_eq!(&probe, &train);
    prop_assert!(
        near(&train, &train_reference, 1e-5),
        "{train} vs {train_reference}"
    );
    let dx = layer.backward(g.view()).unwrap().to_owned();
    prop_assert!(near(&dx, &dx_reference, 1e-4), "{dx} vs {dx_reference}");
    prop_assert!(near(&param_grad(&layer, "weight"), &dw_reference, 1e-4));
    prop_assert!(near(&param_grad(&layer, "bias"), &db_reference, 1e-4));
    Ok(())
}

/// A layer with random γ and running statistics away from their initial values.
fn randomized<const D: usize>(channels: usize, rng: &mut StdRng) -> BatchNorm<D> {
    let mut layer = BatchNorm::<D>::new(channels).unwrap();
    let gamma: Vec<f32> = (0..channels).map(|_| rng.random_range(-2.0..2.0)).collect();
    set_param(&mut layer, "weight", &gamma);
    layer.visit_buffers_mut(&mut |_, b| {
        if b.kind() == BufferKind::Float {
            b.value.mapv_inplace(|v| v + 0.5);
        }
    });
    layer
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn kernel_matches_the_reference_on_random_shapes(
        batch in 1usize..9, channels in 1usize..6, length in 0usize..4, h in 1usize..5,
        w in 1usize..40, seed in 0u64..1000, transposed in any::<bool>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        // BatchNorm1d on rank 2 (length 0) or 3, BatchNorm2d on rank 4; the batch of 1 only
        // where there are several positions per channel.
        let batch = if length == 0 { batch.max(2) } else { batch };
        let rank3 = if length == 0 { vec![batch, channels] } else { vec![batch, channels, length * w] };
        for shape in [rank3, vec![batch, channels, h, w.max(2)]] {
            let x = random_input(&shape, &mut rng).mapv(|v| 3.0 * v + 1.0);
            let g = random_input(&shape, &mut rng);
            // The same values, stored transposed: the layer sees a non-contiguous view.
            let stored = x.clone().reversed_axes().as_standard_layout().into_owned();
            let x_view = if transposed { stored.view().reversed_axes() } else { x.view() };
            if shape.len() == 4 {
                agrees_with_reference(randomized::<2>(channels, &mut rng), &x, x_view, &g)?;
            } else {
                agrees_with_reference(randomized::<1>(channels, &mut rng), &x, x_view, &g)?;
            }
        }
    }
}

/// Forward (training and eval) and backward of a BatchNorm2d and a BatchNorm1d on inputs cut
/// into several chunks, with `threads` threads: every output, gradient and buffer.
fn run_with_threads(threads: usize) -> Vec<Tensor> {
    set_num_threads(threads);
    let mut rng = StdRng::seed_from_u64(3);
    let mut results = Vec::new();
    // Several chunks of rows; one and several blocks of columns, with more than CHUNK rows.
    let cases: [(Box<dyn Layer>, &[usize]); 4] = [
        (Box::new(BatchNorm2d::new(5).unwrap()), &[9, 5, 30, 31]),
        (Box::new(BatchNorm1d::new(7).unwrap()), &[5000, 7]),
        (Box::new(BatchNorm1d::new(40).unwrap()), &[20000, 40]),
        (Box::new(BatchNorm1d::new(3).unwrap()), &[40, 3, 700]),
    ];
    for (mut layer, shape) in cases {
        let x = random_input(shape, &mut rng).mapv(|v| 2.0 * v + 0.3);
        let g = random_input(shape, &mut rng);
        for _ in 0..2 {
            results.push(layer.forward(x.view(), Mode::Train).unwrap().to_owned());
            results.push(layer.backward(g.view()).unwrap().to_owned());
        }
        results.push(layer.forward(x.view(), Mode::Eval).unwrap().to_owned());
        layer.visit_params(&mut |_, p| results.push(p.grad.clone()));
        layer.visit_buffers(&mut |_, b| results.push(b.value.clone()));
    }
    results
}

#[test]
fn same_bits_for_every_thread_count() {
    let one = run_with_threads(1);
    assert!(one.iter().all(|t| t.iter().all(|v| v.is_finite())));
    assert_eq!(run_with_threads(2), one);
    assert_eq!(run_with_threads(3), one);
    set_num_threads(0);
}

#[test]
fn probe_uses_batch_statistics_and_changes_nothing() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut bn = BatchNorm2d::new(3).unwrap();
    let x = random_input(&[4, 3, 5, 5], &mut rng);
    bn.forward(x.view(), Mode::Train).unwrap();
    let mut before = Vec::new();
    bn.visit_buffers(&mut |_, b| before.push(b.value.clone()));
    let probe = bn.forward(x.view(), Mode::Probe).unwrap().to_owned();
    let mut after = Vec::new();
    bn.visit_buffers(&mut |_, b| after.push(b.value.clone()));
    assert_eq!(before, after);
    // Nothing was kept for backward.
    assert!(matches!(
        bn.backward(x.view()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    // The same output as training (batch statistics), unlike evaluation (running ones).
    let train = bn.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(probe, train);
    let eval = bn.forward(x.view(), Mode::Eval).unwrap().to_owned();
    assert_ne!(eval, train);
}

#[test]
fn one_value_per_channel_is_an_error_where_batch_statistics_are_used() {
    let mut bn = BatchNorm1d::new(16).unwrap();
    let x = Tensor::ones(vec![1, 16]);
    let err = bn.forward(x.view(), Mode::Train).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch_norm1d: expected more than 1 value per channel when training, found shape [1, 16]"
    );
    assert!(matches!(
        bn.forward(x.view(), Mode::Probe),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(
        bn.forward(Tensor::ones(vec![1, 16, 1]).view(), Mode::Train)
            .is_err()
    );
    // Nothing was counted, and evaluation (running statistics) is fine, as in PyTorch.
    assert_eq!(bn.num_batches_tracked().unwrap().value.sum(), 0.0);
    assert_eq!(bn.forward(x.view(), Mode::Eval).unwrap().shape(), &[1, 16]);
    bn.forward(Tensor::ones(vec![1, 16, 2]).view(), Mode::Train)
        .unwrap();
    // Without running statistics, evaluation uses the batch's too.
    let mut untracked = BatchNorm1d::new(16).unwrap().without_running_stats();
    assert!(untracked.forward(x.view(), Mode::Eval).is_err());
    // In a model, the error names the layer's position: the final batch of 1 of an epoch.
    let mut model = Sequential::new()
        .add(lazarus_core::Flatten::new())
        .add(BatchNorm1d::new(16).unwrap());
    let err = model.forward(x.view(), Mode::Train).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("batch_norm1d[1]: expected more than 1 value"),
        "{err}"
    );
}

#[test]
fn errors_not_panics() {
    let mut bn = BatchNorm2d::new(16).unwrap();
    let err = bn
        .forward(Tensor::zeros(vec![64, 3, 28, 28]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch_norm2d: expected [batch, 16, h, w], found shape [64, 3, 28, 28]"
    );
    assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[64, 3, 28, 28]));
    for shape in [
        vec![64, 16],
        vec![64, 16, 28],
        vec![2, 16, 2, 2, 2],
        vec![16],
    ] {
        assert!(
            matches!(
                bn.forward(Tensor::zeros(shape.clone()).view(), Mode::Eval),
                Err(Error::ShapeMismatch { .. })
            ),
            "{shape:?}"
        );
        assert!(bn.output_shape(&shape).is_err());
    }
    let mut bn1 = BatchNorm1d::new(4).unwrap();
    let err = bn1
        .forward(Tensor::zeros(vec![8, 5]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch_norm1d: expected [batch, 4] or [batch, 4, length], found shape [8, 5]"
    );
    assert!(
        bn1.forward(Tensor::zeros(vec![8, 4, 2, 2]).view(), Mode::Train)
            .is_err()
    );
    // Backward without a training forward, or with a gradient of another shape.
    assert_backward_errors(&mut bn1, &[8, 4], &[7, 4]);
    // Settings, validated at construction.
    assert!(matches!(
        BatchNorm2d::new(0),
        Err(Error::InvalidConfig { .. })
    ));
    for eps in [0.0, -1e-5, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            BatchNorm2d::new(3).unwrap().with_eps(eps),
            Err(Error::InvalidConfig { .. })
        ));
    }
    for m in [-0.1, 1.5, f32::NAN] {
        let err = BatchNorm1d::new(3)
            .unwrap()
            .with_momentum(Some(m))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("batch_norm1d: invalid momentum"),
            "{err}"
        );
    }
    assert!(
        BatchNorm1d::new(3)
            .unwrap()
            .with_momentum(Some(1.0))
            .is_ok()
    );
    assert!(BatchNorm1d::new(usize::MAX).is_err());
}

#[test]
fn misshapen_parameters_and_buffers_are_errors_naming_the_layer() {
    let x = Tensor::ones(vec![4, 3, 2, 2]);
    // Each name with a replacement of the wrong shape (a weight of 2, not 3; a running mean of
    // 4; a running variance of [3, 1]; a count of [1], not 0-d).
    let misshape = [
        ("weight", vec![2]),
        ("running_mean", vec![4]),
        ("running_var", vec![3, 1]),
        ("num_batches_tracked", vec![1]),
    ];
    for (what, shape) in misshape {
        let mut broken = BatchNorm2d::new(3).unwrap();
        broken.visit_params_mut(&mut |n, p| {
            if n == what {
                p.value = Tensor::zeros(shape.clone())
            }
        });
        broken.visit_buffers_mut(&mut |n, b| {
            if n == what {
                b.value = Tensor::zeros(shape.clone())
            }
        });
        let mut model = Sequential::new()
            .add(BatchNorm2d::new(3).unwrap())
            .add(broken);
        for mode in [Mode::Train, Mode::Eval] {
            let err = model.forward(x.view(), mode).unwrap_err().to_string();
            assert!(
                err.starts_with("batch_norm2d[1]: expected") && err.contains(what),
                "{err}"
            );
        }
    }
}

#[test]
fn describe_names_roles_and_buffers_as_pytorch() {
    let bn = BatchNorm2d::new(16).unwrap();
    assert_eq!(
        bn.describe(),
        "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    );
    let other = BatchNorm1d::new(4)
        .unwrap()
        .with_eps(1e-3)
        .unwrap()
        .with_momentum(None)
        .unwrap();
    let other = other.without_affine().without_running_stats();
    assert_eq!(
        other.describe(),
        "BatchNorm1d(4, eps=0.001, momentum=None, affine=False, track_running_stats=False)"
    );
    assert_eq!((other.param_count(), other.buffer_count()), (0, 0));
    // In a Sequential: PyTorch's state_dict keys, in its order, with the dtypes it writes.
    let model = Sequential::new().add(lazarus_core::Flatten::new()).add(bn);
    let mut params = Vec::new();
    model.visit_params(&mut |name, p| params.push((name.to_string(), p.role(), p.value.clone())));
    let ones = Tensor::ones(vec![16]);
    assert_eq!(
        params,
        [
            (
                "1.weight".into(),
                lazarus_core::ParamRole::Scale,
                ones.clone()
            ),
            (
                "1.bias".into(),
                lazarus_core::ParamRole::Bias,
                Tensor::zeros(vec![16])
            ),
        ]
    );
    let mut buffers = Vec::new();
    model.visit_buffers(&mut |name, b| buffers.push((name.to_string(), b.kind(), b.value.clone())));
    assert_eq!(
        buffers,
        [
            (
                "1.running_mean".into(),
                BufferKind::Float,
                Tensor::zeros(vec![16])
            ),
            ("1.running_var".into(), BufferKind::Float, ones),
            (
                "1.num_batches_tracked".into(),
                BufferKind::Count,
                Tensor::zeros(vec![])
            ),
        ]
    );
    assert_eq!((model.param_count(), model.buffer_count()), (32, 33));
    assert_eq!(
        model.layers()[1].output_shape(&[8, 16, 5, 5]).unwrap(),
        [8, 16, 5, 5]
    );
    // A batch of 1 is fine for shapes (summaries): only a training forward needs two values.
    assert_eq!(
        BatchNorm1d::new(3).unwrap().output_shape(&[1, 3]).unwrap(),
        [1, 3]
    );
}

#[test]
fn gradients_accumulate_and_backward_params_matches_backward() {
    let mut rng = StdRng::seed_from_u64(8);
    let x = random_input(&[6, 4, 3], &mut rng);
    let g = random_input(&[6, 4, 3], &mut rng);
    let mut a = BatchNorm1d::new(4).unwrap();
    let mut b = a.clone();
    a.forward(x.view(), Mode::Train).unwrap();
    a.backward(g.view()).unwrap();
    let once = param_grad(&a, "weight");
    a.backward(g.view()).unwrap();
    approx::assert_abs_diff_eq!(param_grad(&a, "weight"), &once * 2.0, epsilon = 1e-6);
    b.forward(x.view(), Mode::Train).unwrap();
    b.backward_params(g.view()).unwrap();
    assert_eq!(param_grad(&b, "weight"), once);
    assert_eq!(param_grad(&b, "bias"), param_grad(&a, "bias") / 2.0);
}

#[test]
fn untracked_layers_use_batch_statistics_in_every_mode() {
    let mut rng = StdRng::seed_from_u64(9);
    let x = random_input(&[5, 2, 3, 3], &mut rng);
    let mut bn = BatchNorm2d::new(2).unwrap().without_running_stats();
    assert_eq!(bn.running_mean(), None);
    let train = bn.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_eq!(bn.forward(x.view(), Mode::Eval).unwrap(), train);
}

#[test]
fn an_empty_batch_gives_an_empty_output_and_is_counted_as_pytorch_does() {
    // torch: bn = nn.BatchNorm1d(3); bn(torch.zeros(0, 3)) -> shape [0, 3];
    //        running_mean stays 0, num_batches_tracked becomes 1
    let mut bn = BatchNorm1d::new(3).unwrap();
    let y = bn
        .forward(Tensor::zeros(vec![0, 3]).view(), Mode::Train)
        .unwrap();
    assert_eq!(y.shape(), &[0, 3]);
    assert_eq!(
        bn.backward(Tensor::zeros(vec![0, 3]).view())
            .unwrap()
            .shape(),
        &[0, 3]
    );
    assert_eq!(bn.num_batches_tracked().unwrap().value.sum(), 1.0);
    assert_eq!(bn.running_mean().unwrap().value, Tensor::zeros(vec![3]));
    assert_eq!(bn.running_var().unwrap().value, Tensor::ones(vec![3]));
    assert!(param_grad(&bn, "weight").iter().all(|&v| v == 0.0));
}
