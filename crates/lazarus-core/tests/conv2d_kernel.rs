//! `Conv2d`'s fast path (`Layer::forward` / `backward`: im2col, `gemm`, the batch cut over
//! threads, buffer reuse) against the formulas' loops (`Conv2d::forward_reference` /
//! `backward_reference`), on random shapes over stride, padding (`"same"` included), dilation,
//! groups and bias; and bit-identical results for 1, 2 and 3 threads.

use lazarus_core::gradcheck::random_input;
use lazarus_core::{Conv2d, Conv2dSettings, Layer, Mode, Padding, Tensor, set_num_threads};
use proptest::prelude::*;
use rand::{SeedableRng, rngs::StdRng};

/// Asserts |fast − reference| ≤ 2·(k + 1)·u·scale elementwise (u = 2⁻²⁴, `scale` the largest
/// Σ|terms| of an element, k the terms per element): both are sums of the same k rounded f32
/// products in different orders.
fn assert_close(fast: &Tensor, reference: &Tensor, scale: f32, k: usize, what: &str) {
    assert_eq!(fast.shape(), reference.shape(), "{what}: shape");
    let tol = 2.0 * (k as f32 + 1.0) * f32::EPSILON / 2.0 * scale;
    for (&f, &r) in fast.iter().zip(reference) {
        assert!(
            (f - r).abs() <= tol,
            "{what}: fast {f} vs reference {r} (tolerance {tol:e})"
        );
    }
}

/// Σ|x|·Σ|w| bounds every |term| sum of the forward and backward.
fn abs_sum(t: &Tensor) -> f32 {
    t.iter().map(|v| v.abs()).sum()
}

#[derive(Debug, Clone)]
struct Case {
    batch: usize,
    groups: usize,
    in_per_group: usize,
    out_per_group: usize,
    kernel: (usize, usize),
    stride: (usize, usize),
    dilation: (usize, usize),
    padding: Padding,
    bias: bool,
    /// Input size beyond the smallest that fits the kernel.
    extra: (usize, usize),
    transposed_input: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        (1usize..6, 1usize..4, 1usize..4, 1usize..4),
        (
            (1usize..4, 1usize..4),
            (1usize..4, 1usize..3),
            (1usize..3, 1usize..3),
        ),
        (prop_oneof![
            (0usize..3, 0usize..3).prop_map(|(h, w)| Padding::Explicit(h, w)),
            Just(Padding::Same),
            Just(Padding::Valid)
        ]),
        (any::<bool>(), (0usize..6, 0usize..9), any::<bool>()),
    )
        .prop_map(
            |(
                (batch, groups, cg, og),
                (kernel, stride, dilation),
                padding,
                (bias, extra, transposed_input),
            )| {
                // "same" takes stride 1 only.
                let stride = if padding == Padding::Same {
                    (1, 1)
                } else {
                    stride
                };
                Case {
                    batch,
                    groups,
                    in_per_group: cg,
                    out_per_group: og,
                    kernel,
                    stride,
                    dilation,
                    padding,
                    bias,
                    extra,
                    transposed_input,
                }
            },
        )
}

fn build(case: &Case, rng: &mut StdRng) -> Conv2d {
    Conv2dSettings::new(
        case.groups * case.in_per_group,
        case.groups * case.out_per_group,
        case.kernel,
    )
    .stride(case.stride)
    .unwrap()
    .dilation(case.dilation)
    .unwrap()
    .padding(case.padding)
    .groups(case.groups)
    .unwrap()
    .bias(case.bias)
    .build(rng)
    .unwrap()
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(200)
    })]

    /// Forward, backward (dW, db, dx) and backward_params of the fast path equal the reference
    /// within rounding; a second backward adds the same again.
    #[test]
    fn fast_path_matches_the_reference(case in cases(), threads in 1usize..4, seed in any::<u64>()) {
        set_num_threads(threads);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut conv = build(&case, &mut rng);
        let (kh, kw) = case.kernel;
        let (dh, dw) = case.dilation;
        // The smallest input the kernel's reach fits, plus `extra`.
        let h = (dh * (kh - 1) + 1).saturating_sub(2 * pad(&case).0).max(1) + case.extra.0;
        let w = (dw * (kw - 1) + 1).saturating_sub(2 * pad(&case).1).max(1) + case.extra.1;
        let c = case.groups * case.in_per_group;
        let x = if case.transposed_input {
            // Same values, not row-major: the kernel must read them through a copy.
            random_input(&[w, h, c, case.batch], &mut rng).reversed_axes()
        } else {
            random_input(&[case.batch, c, h, w], &mut rng)
        };
        let y_ref = conv.forward_reference(x.view()).unwrap();
        let g = random_input(y_ref.shape(), &mut rng);
        let (dw_ref, db_ref, dx_ref) = conv.backward_reference(x.view(), g.view()).unwrap();
        let taps = case.in_per_group * kh * kw;
        let (xs, ws, gs) = (abs_sum(&x), abs_sum(&conv.weight().value), abs_sum(&g));
        let bs = conv.bias().map_or(0.0, |b| abs_sum(&b.value));

        let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
        assert_close(&y, &y_ref, xs.max(1.0) * ws + bs, taps + 1, "y");
        conv.zero_grad();
        let dx = conv.backward(g.view()).unwrap().to_owned();
        let batch_terms = case.batch * y_ref.shape()[2] * y_ref.shape()[3];
        assert_close(&dx, &dx_ref, gs * ws, case.out_per_group * taps, "dx");
        assert_close(&conv.weight().grad, &dw_ref, gs * xs, batch_terms, "dW");
        if let (Some(b), Some(db_ref)) = (conv.bias(), &db_ref) {
            assert_close(&b.grad, db_ref, gs, batch_terms, "db");
        }
        prop_assert_eq!(conv.bias().is_some(), db_ref.is_some());
        // backward_params adds the same parameter gradients again.
        conv.backward_params(g.view()).unwrap();
        assert_close(&conv.weight().grad, &(&dw_ref * 2.0), 2.0 * gs * xs, 2 * batch_terms, "dW twice");
        if let (Some(b), Some(db_ref)) = (conv.bias(), &db_ref) {
            assert_close(&b.grad, &(db_ref * 2.0), 2.0 * gs, 2 * batch_terms, "db twice");
        }
        set_num_threads(0);
    }
}

/// The explicit padding of a case (for sizing its input), or what `"same"` adds on one side.
fn pad(case: &Case) -> (usize, usize) {
    match case.padding {
        Padding::Explicit(h, w) => (h, w),
        _ => (0, 0),
    }
}

/// One conv layer's forward, full backward and backward_params at a size that is cut into
/// pieces (batch 13: chunks of 4 and a last one of 1), run with `threads`.
fn run(threads: usize, settings: Conv2dSettings) -> Vec<Tensor> {
    set_num_threads(threads);
    let mut rng = StdRng::seed_from_u64(5);
    let mut conv = settings.build(&mut rng).unwrap();
    let c = conv.settings().in_channels;
    let x = random_input(&[13, c, 15, 14], &mut rng);
    let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
    let g = random_input(y.shape(), &mut rng);
    let dx = conv.backward(g.view()).unwrap().to_owned();
    conv.backward_params(g.view()).unwrap();
    let mut out = vec![y, dx];
    conv.visit_params(&mut |_, p| out.push(p.grad.clone()));
    out
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let settings = [
        Conv2dSettings::new(16, 32, 3).padding(1),
        Conv2dSettings::new(16, 32, (3, 2))
            .stride(2)
            .unwrap()
            .groups(2)
            .unwrap(),
        Conv2dSettings::new(16, 24, 1),
    ];
    for s in settings {
        let one = run(1, s);
        assert_eq!(run(2, s), one, "{s:?}");
        assert_eq!(run(3, s), one, "{s:?}");
    }
    set_num_threads(0);
}
