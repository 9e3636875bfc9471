//! `Linear`: PyTorch's numbers, the finite-difference check, errors, and the fast path
//! (`Layer::forward` / `backward`, which run the kernels) against the plain-ndarray reference
//! (`Linear::forward_reference` / `backward_reference`) on random shapes and memory layouts.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{Error, Layer, Linear, Mode, Tensor, TensorView, set_num_threads};
use ndarray::{Array2, Axis, array, s};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

#[test]
fn forward_matches_pytorch() {
    // torch 2.15: l = nn.Linear(3, 2); l.weight.data = [[.1,.2,.3],[-.4,.5,-.6]]; l.bias.data = [.01,-.02]
    //   l(torch.tensor([[1.,2.,3.],[-1.,0.,2.]])) -> [[1.41000009, -1.22000003], [0.50999999, -0.82000005]]
    let w = array![[0.1f32, 0.2, 0.3], [-0.4, 0.5, -0.6]].into_dyn();
    let mut l = Linear::from_params(w, Some(array![0.01f32, -0.02].into_dyn())).unwrap();
    let x = array![[1.0f32, 2.0, 3.0], [-1.0, 0.0, 2.0]].into_dyn();
    let y = l.forward(x.view(), Mode::Eval).unwrap().to_owned();
    let expected = array![[1.41f32, -1.22], [0.51, -0.82]].into_dyn();
    approx::assert_abs_diff_eq!(y, expected, epsilon = 1e-6);
}

#[test]
fn gradients_pass_finite_difference_check() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut l = Linear::new(5, 4, &mut rng).unwrap();
    let x = random_input(&[3, 5], &mut rng);
    let report = GradCheck::default()
        .check_layer(&mut l, &x, &mut rng)
        .unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(report.params.len(), 2);
}

#[test]
fn gradcheck_without_bias() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut l = Linear::new(3, 2, &mut rng).unwrap().without_bias();
    let x = random_input(&[4, 3], &mut rng);
    let report = GradCheck::default()
        .check_layer(&mut l, &x, &mut rng)
        .unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(l.param_count(), 6);
}

#[test]
fn two_backwards_double_the_gradients() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut l = Linear::new(3, 2, &mut rng).unwrap();
    let x = random_input(&[4, 3], &mut rng);
    let g = random_input(&[4, 2], &mut rng);
    l.forward(x.view(), Mode::Train).unwrap();
    l.backward(g.view()).unwrap();
    let once = l.weight().grad.clone();
    l.backward(g.view()).unwrap();
    approx::assert_abs_diff_eq!(l.weight().grad, once * 2.0, epsilon = 1e-6);
}

#[test]
fn backward_params_matches_backward() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut a = Linear::new(3, 2, &mut rng).unwrap();
    let mut b = a.clone();
    let x = random_input(&[4, 3], &mut rng);
    let g = random_input(&[4, 2], &mut rng);
    a.forward(x.view(), Mode::Train).unwrap();
    a.backward(g.view()).unwrap();
    b.forward(x.view(), Mode::Train).unwrap();
    b.backward_params(g.view()).unwrap();
    assert_eq!(a.weight().grad, b.weight().grad);
    assert_eq!(a.bias().unwrap().grad, b.bias().unwrap().grad);
}

#[test]
fn errors_name_the_layer_and_shapes() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut l = Linear::new(784, 10, &mut rng).unwrap();
    let err = l
        .forward(Tensor::zeros(vec![32, 28, 28]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "linear: expected [batch, 784], found shape [32, 28, 28]"
    );
    assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[32, 28, 28]));
    // Backward with no forward, after an evaluation forward (nothing kept), and with a
    // gradient whose batch differs from the training forward's.
    let mut fresh = Linear::new(3, 2, &mut rng).unwrap();
    for (forward, grad_rows) in [(None, 1), (Some(Mode::Eval), 4), (Some(Mode::Train), 5)] {
        if let Some(mode) = forward {
            fresh
                .forward(Tensor::zeros(vec![4, 3]).view(), mode)
                .unwrap();
        }
        let err = fresh.backward(Tensor::zeros(vec![grad_rows, 2]).view());
        match forward {
            Some(Mode::Train) => assert!(matches!(err, Err(Error::ShapeMismatch { .. }))),
            _ => assert!(matches!(err, Err(Error::BackwardBeforeForward { .. }))),
        }
    }
    assert!(matches!(
        Linear::new(0, 3, &mut rng),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn default_init_is_bounded_by_one_over_sqrt_fan_in() {
    let mut rng = StdRng::seed_from_u64(0);
    let l = Linear::new(100, 50, &mut rng).unwrap();
    assert!(l.weight().value.iter().all(|v| v.abs() <= 0.1));
    assert!(l.bias().unwrap().value.iter().all(|v| v.abs() <= 0.1));
    assert_eq!(l.weight().value.shape(), &[50, 100]);
}

/// How a test matrix lies in memory: the layer must give the same results for each.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// Row-major and contiguous (what a layer usually receives).
    Standard,
    /// The transpose of a row-major matrix (column-major).
    Transposed,
    /// Every other column of a matrix twice as wide (rows not contiguous).
    Strided,
}

/// `m`'s values stored with `layout`; [`view`] gives the matrix back.
fn store(m: &Array2<f32>, layout: Layout) -> Array2<f32> {
    match layout {
        Layout::Standard => m.clone(),
        Layout::Transposed => m.t().as_standard_layout().into_owned(),
        Layout::Strided => {
            let mut wide = Array2::from_elem((m.nrows(), 2 * m.ncols()), f32::NAN);
            wide.slice_mut(s![.., ..;2]).assign(m);
            wide
        }
    }
}

fn view(stored: &Array2<f32>, layout: Layout) -> TensorView<'_> {
    match layout {
        Layout::Standard => stored.view().into_dyn(),
        Layout::Transposed => stored.t().into_dyn(),
        Layout::Strided => stored.slice(s![.., ..;2]).into_dyn(),
    }
}

/// Asserts |fast − reference| ≤ 2·(k + 1)·u·scale elementwise, u = 2⁻²⁴: each of the two is
/// a sum of k + 1 rounded f32 terms (in different orders), so each is within (k + 1)·u·scale
/// of the exact value, where `scale` holds Σ|terms| (computed in f64).
fn assert_within_rounding(
    fast: TensorView<'_>,
    reference: &Tensor,
    scale: &Array2<f64>,
    k: usize,
    what: &str,
) {
    let u = f64::powi(2.0, -24);
    let scale = scale.view().into_dyn();
    assert_eq!(fast.shape(), reference.shape(), "{what}: shape");
    for ((&f, &r), &s) in fast.iter().zip(reference).zip(scale.iter()) {
        let tol = 2.0 * (k as f64 + 1.0) * u * s;
        let err = (f64::from(f) - f64::from(r)).abs();
        assert!(
            err <= tol,
            "{what}: fast {f} vs reference {r} (tolerance {tol:e})"
        );
    }
}

fn random(rows: usize, cols: usize, rng: &mut StdRng) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |_| rng.random_range(-1.0..1.0))
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(96)
    })]

    /// The layer's fast forward and backward (kernels: blocked GEMM, parallel pieces, buffer
    /// reuse) equal the plain-ndarray reference within rounding, for batch 1..70, features
    /// 1..300, with or without bias, 1 or 2 threads, and inputs and upstream gradients in any
    /// memory layout. Two backward passes run, so the accumulation (`grad +=`) is checked too.
    #[test]
    fn fast_path_matches_the_reference(
        batch in 1usize..70,
        inputs in 1usize..300,
        outputs in 1usize..300,
        bias in any::<bool>(),
        threads in 1usize..3,
        x_layout in prop_oneof![Just(Layout::Standard), Just(Layout::Transposed), Just(Layout::Strided)],
        g_layout in prop_oneof![Just(Layout::Standard), Just(Layout::Transposed), Just(Layout::Strided)],
        seed in any::<u64>(),
    ) {
        set_num_threads(threads);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = Linear::new(inputs, outputs, &mut rng).unwrap();
        if !bias {
            layer = layer.without_bias();
        }
        let (x, g) = (random(batch, inputs, &mut rng), random(batch, outputs, &mut rng));
        let (xs, gs) = (store(&x, x_layout), store(&g, g_layout));
        let (x_view, g_view) = (view(&xs, x_layout), view(&gs, g_layout));

        // Σ|terms| of each output element, for the tolerance.
        let abs64 = |m: &Array2<f32>| m.mapv(|v| f64::from(v.abs()));
        let w = layer.weight().value.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
        let b_abs = layer.bias().map_or(0.0, |b| b.value.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        let y_scale = abs64(&x).dot(&abs64(&w).t()) + f64::from(b_abs);
        let dw_scale = abs64(&g).t().dot(&abs64(&x));
        let db_scale = abs64(&g).sum_axis(Axis(0)).insert_axis(Axis(0));
        let dx_scale = abs64(&g).dot(&abs64(&w));

        let y_ref = layer.forward_reference(x_view.clone()).unwrap();
        let (dw_ref, db_ref, dx_ref) = layer.backward_reference(x_view.clone(), g_view.clone()).unwrap();
        let y = layer.forward(x_view, Mode::Train).unwrap().to_owned();
        assert_within_rounding(y.view(), &y_ref, &y_scale, inputs, "y");
        layer.zero_grad();
        let dx = layer.backward(g_view.clone()).unwrap().to_owned();
        assert_within_rounding(dx.view(), &dx_ref, &dx_scale, outputs, "dx");
        assert_within_rounding(layer.weight().grad.view(), &dw_ref, &dw_scale, batch, "dW");
        match (layer.bias(), &db_ref) {
            (Some(b), Some(db_ref)) => {
                assert_within_rounding(b.grad.view(), db_ref, &db_scale, batch, "db");
            }
            (None, None) => {}
            _ => panic!("the reference has a db exactly when the layer has a bias"),
        }
        // A second backward adds the same again: compare with twice the reference.
        layer.backward_params(g_view).unwrap();
        let twice = |t: &Tensor| t * 2.0;
        assert_within_rounding(layer.weight().grad.view(), &twice(&dw_ref), &(dw_scale * 2.0), 2 * batch, "dW twice");
        if let (Some(b), Some(db_ref)) = (layer.bias(), &db_ref) {
            assert_within_rounding(b.grad.view(), &twice(db_ref), &(db_scale * 2.0), 2 * batch, "db twice");
        }
        set_num_threads(0);
    }
}

#[test]
fn references_check_shapes_instead_of_panicking() {
    let mut rng = StdRng::seed_from_u64(0);
    let l = Linear::new(3, 2, &mut rng).unwrap();
    let (x, g) = (Tensor::zeros(vec![4, 3]), Tensor::zeros(vec![4, 2]));
    assert!(matches!(
        l.forward_reference(Tensor::zeros(vec![4, 5]).view()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        l.backward_reference(x.view(), Tensor::zeros(vec![5, 2]).view()),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        l.backward_reference(Tensor::zeros(vec![4]).view(), g.view()),
        Err(Error::ShapeMismatch { .. })
    ));
    let (dw, db, dx) = l.backward_reference(x.view(), g.view()).unwrap();
    assert_eq!(
        (dw.shape(), db.unwrap().shape(), dx.shape()),
        (&[2, 3][..], &[2][..], &[4, 3][..])
    );
}
