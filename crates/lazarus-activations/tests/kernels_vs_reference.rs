//! Every fast path against its reference: each layer (whose forward and backward run the kernels
//! of `src/kernels/`) against the plain-ndarray `reference::*_forward`/`*_backward` functions
//! written beside it in the activation's file.
//!
//! Inputs: random shapes of 1 to 4 axes, contiguous, strided (every other element of a wider
//! array) and reversed (a negative stride), with values that mix random numbers with every kink
//! and piece boundary exactly (0, −0, ±1, ±3, 6, the Softplus thresholds, ...), tiny and huge
//! values, and NaN.
//!
//! Agreement:
//! * forward: bit for bit, everywhere (the kernels call the same scalar functions);
//! * backward: bit for bit, except where the layer differentiates from its output with another
//!   formula than the reference's (ELU, SELU, CELU: `input_scale · (y + alpha)` against
//!   `alpha · input_scale · eˣ`), where |difference| ≤ 5e-7 · max(1, |alpha · input_scale|) ·
//!   (|dL/dy| + |dL/dx|): the rounding of y and of alpha (absolute, ≈ ulp(alpha) · |dL/dy|) and
//!   the two fast exponentials (relative, each ≤ 2.5e-7);
//! * PReLU's dL/dα: the kernel sums in blocks of f32 lanes (at most 32 terms each) flushed into
//!   f64, the reference in f64 in order, so |difference| ≤ 2e-6 · Σ|x · dL/dy| + 1 ulp.

use lazarus_activations::reference as r;
use lazarus_activations::{
    Celu, Elu, Gelu, GeluApproximate, Hardsigmoid, Hardswish, Hardtanh, LeakyRelu, LogSigmoid,
    Mish, PRelu, RRelu, Relu, Relu6, Selu, Sigmoid, Silu, Softplus, Softsign, Tanh,
};
use lazarus_activations::{SELU_ALPHA, SELU_SCALE};
use lazarus_core::{Layer, Mode, Result, Tensor, TensorView};
use ndarray::{Axis, Slice};
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Inputs that sit exactly on a kink or piece boundary of some activation, or at an extreme.
const KINKS: &[f32] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    3.0,
    -3.0,
    6.0,
    -2.0,
    2.5,
    10.0,
    20.0,
    1e-7,
    -1e-7,
    30.0,
    -30.0,
    -100.0,
    100.0,
    f32::NAN,
];

/// How closely a layer's backward must match its reference.
#[derive(Clone, Copy, Debug)]
enum Backward {
    /// Bit for bit.
    Exact,
    /// |difference| ≤ `tol` · (|dL/dy| + |dL/dx|) (a derivative read from the output).
    FromOutput { tol: f32 },
}

type Forward = Box<dyn Fn(TensorView<'_>) -> Tensor>;
type Reference = Box<dyn Fn(TensorView<'_>, TensorView<'_>) -> Result<Tensor>>;

struct Case {
    label: String,
    layer: Box<dyn Layer>,
    forward: Forward,
    backward: Reference,
    agreement: Backward,
}

fn case(
    label: &str,
    layer: impl Layer + 'static,
    forward: impl Fn(TensorView<'_>) -> Tensor + 'static,
    backward: impl Fn(TensorView<'_>, TensorView<'_>) -> Result<Tensor> + 'static,
    agreement: Backward,
) -> Case {
    Case {
        label: label.into(),
        layer: Box::new(layer),
        forward: Box::new(forward),
        backward: Box::new(backward),
        agreement,
    }
}

/// The ELU family's tolerance for a derivative read from the output.
fn from_output(alpha_times_input_scale: f32) -> Backward {
    Backward::FromOutput {
        tol: 5e-7 * alpha_times_input_scale.abs().max(1.0),
    }
}

/// Every element-wise activation, with settings that take each kernel path (output kept or
/// input kept, both GELU forms, two Softplus thresholds, ...).
fn cases() -> Vec<Case> {
    use Backward::Exact;
    let selu = from_output(SELU_ALPHA * SELU_SCALE);
    vec![
        case(
            "relu",
            Relu::new(),
            r::relu_forward,
            r::relu_backward,
            Exact,
        ),
        case(
            "leaky_relu(0.01)",
            LeakyRelu::default(),
            |x| r::leaky_relu_forward(x, 0.01),
            |x, g| r::leaky_relu_backward(x, g, 0.01),
            Exact,
        ),
        case(
            "leaky_relu(-0.3)",
            LeakyRelu::new(-0.3).unwrap(),
            |x| r::leaky_relu_forward(x, -0.3),
            |x, g| r::leaky_relu_backward(x, g, -0.3),
            Exact,
        ),
        case(
            "elu(1)",
            Elu::default(),
            |x| r::elu_forward(x, 1.0),
            |x, g| r::elu_backward(x, g, 1.0),
            from_output(1.0),
        ),
        case(
            "elu(2.5)",
            Elu::new(2.5).unwrap(),
            |x| r::elu_forward(x, 2.5),
            |x, g| r::elu_backward(x, g, 2.5),
            from_output(2.5),
        ),
        case(
            "elu(-0.5)",
            Elu::new(-0.5).unwrap(),
            |x| r::elu_forward(x, -0.5),
            |x, g| r::elu_backward(x, g, -0.5),
            Exact, // a negative alpha keeps the input
        ),
        case("selu", Selu::new(), r::selu_forward, r::selu_backward, selu),
        case(
            "celu(2)",
            Celu::new(2.0).unwrap(),
            |x| r::celu_forward(x, 2.0),
            |x, g| r::celu_backward(x, g, 2.0),
            from_output(1.0),
        ),
        case(
            "celu(-1.5)",
            Celu::new(-1.5).unwrap(),
            |x| r::celu_forward(x, -1.5),
            |x, g| r::celu_backward(x, g, -1.5),
            from_output(1.0),
        ),
        case(
            "gelu",
            Gelu::new(GeluApproximate::None),
            |x| r::gelu_forward(x, GeluApproximate::None),
            |x, g| r::gelu_backward(x, g, GeluApproximate::None),
            Exact,
        ),
        case(
            "gelu_tanh",
            Gelu::new(GeluApproximate::Tanh),
            |x| r::gelu_forward(x, GeluApproximate::Tanh),
            |x, g| r::gelu_backward(x, g, GeluApproximate::Tanh),
            Exact,
        ),
        case(
            "silu",
            Silu::new(),
            r::silu_forward,
            r::silu_backward,
            Exact,
        ),
        case(
            "mish",
            Mish::new(),
            r::mish_forward,
            r::mish_backward,
            Exact,
        ),
        case(
            "softplus(1, 20)",
            Softplus::default(),
            |x| r::softplus_forward(x, 1.0, 20.0),
            |x, g| r::softplus_backward(x, g, 1.0, 20.0),
            Exact,
        ),
        case(
            "softplus(2, 5)",
            Softplus::new(2.0, 5.0).unwrap(),
            |x| r::softplus_forward(x, 2.0, 5.0),
            |x, g| r::softplus_backward(x, g, 2.0, 5.0),
            Exact,
        ),
        // σ' = y(1 − y) and tanh' = 1 − y² are how the scalar derivatives are written too.
        case(
            "sigmoid",
            Sigmoid::new(),
            r::sigmoid_forward,
            r::sigmoid_backward,
            Exact,
        ),
        case(
            "tanh",
            Tanh::new(),
            r::tanh_forward,
            r::tanh_backward,
            Exact,
        ),
        case(
            "relu6",
            Relu6::new(),
            r::relu6_forward,
            r::relu6_backward,
            Exact,
        ),
        case(
            "hardtanh(-1, 1)",
            Hardtanh::default(),
            |x| r::hardtanh_forward(x, -1.0, 1.0),
            |x, g| r::hardtanh_backward(x, g, -1.0, 1.0),
            Exact,
        ),
        case(
            "hardtanh(-2, 2.5)",
            Hardtanh::new(-2.0, 2.5).unwrap(),
            |x| r::hardtanh_forward(x, -2.0, 2.5),
            |x, g| r::hardtanh_backward(x, g, -2.0, 2.5),
            Exact,
        ),
        case(
            "hardsigmoid",
            Hardsigmoid::new(),
            r::hardsigmoid_forward,
            r::hardsigmoid_backward,
            Exact,
        ),
        case(
            "hardswish",
            Hardswish::new(),
            r::hardswish_forward,
            r::hardswish_backward,
            Exact,
        ),
        case(
            "log_sigmoid",
            LogSigmoid::new(),
            r::log_sigmoid_forward,
            r::log_sigmoid_backward,
            Exact,
        ),
        case(
            "softsign",
            Softsign::new(),
            r::softsign_forward,
            r::softsign_backward,
            Exact,
        ),
        // Training with lower == upper draws the one slope every time: deterministic.
        case(
            "rrelu(0.2, 0.2)",
            RRelu::new(0.2, 0.2, 0).unwrap(),
            |x| r::rrelu_forward(x, 0.2),
            |x, g| r::rrelu_backward(x, g, 0.2),
            Exact,
        ),
    ]
}

/// Bit-identical, or both NaN.
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_all_same(label: &str, what: &str, got: &Tensor, want: &Tensor, x: &TensorView<'_>) {
    assert_eq!(got.shape(), want.shape(), "{label} {what}");
    for ((&a, &b), &x) in got.iter().zip(want).zip(x) {
        assert!(same(a, b), "{label} {what} at x = {x}: {a} vs {b}");
    }
}

/// `n` values: each a kink (one in three) or uniform in [−8, 8].
fn values(n: usize, rng: &mut StdRng) -> Vec<f32> {
    (0..n)
        .map(|_| {
            if rng.random_range(0..3) == 0 {
                KINKS[rng.random_range(0..KINKS.len())]
            } else {
                rng.random_range(-8.0f32..8.0)
            }
        })
        .collect()
}

/// Upstream gradients: random, never all ones, a few exact zeros.
fn gradients(n: usize, rng: &mut StdRng) -> Vec<f32> {
    (0..n)
        .map(|_| {
            if rng.random_range(0..10) == 0 {
                0.0
            } else {
                rng.random_range(-3.0f32..3.0)
            }
        })
        .collect()
}

/// The three memory layouts a layer may be given for one logical tensor of shape `shape`.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Contiguous,
    /// Every other element of an array twice as long on the last axis.
    Strided,
    /// Axis 0 reversed in memory (a negative stride).
    Reversed,
}

const LAYOUTS: [Layout; 3] = [Layout::Contiguous, Layout::Strided, Layout::Reversed];

/// An owned tensor whose `view(layout)` is the logical tensor with `values` in row-major order.
struct Laid {
    data: Tensor,
    layout: Layout,
}

impl Laid {
    fn new(shape: &[usize], values: &[f32], layout: Layout) -> Self {
        let logical = Tensor::from_shape_vec(shape.to_vec(), values.to_vec()).unwrap();
        let data = match layout {
            Layout::Contiguous => logical,
            Layout::Strided => {
                let last = Axis(shape.len() - 1);
                let mut wide = shape.to_vec();
                wide[last.0] *= 2;
                let mut data = Tensor::from_elem(wide, 777.0f32);
                data.slice_axis_mut(last, Slice::new(0, None, 2))
                    .assign(&logical);
                data
            }
            Layout::Reversed => {
                // Stored back to front along axis 0, so that the view reversing it again reads
                // the logical order.
                let mut reversed = logical.view();
                reversed.invert_axis(Axis(0));
                reversed.as_standard_layout().into_owned()
            }
        };
        Self { data, layout }
    }

    fn view(&self) -> TensorView<'_> {
        match self.layout {
            Layout::Contiguous => self.data.view(),
            Layout::Strided => {
                let last = Axis(self.data.ndim() - 1);
                self.data.slice_axis(last, Slice::new(0, None, 2))
            }
            Layout::Reversed => {
                let mut v = self.data.view();
                v.invert_axis(Axis(0));
                v
            }
        }
    }
}

/// Run `case`'s layer on `x` and `g` (laid out as given) and compare with its reference.
fn check(case: &mut Case, shape: &[usize], xs: &[f32], gs: &[f32], layout: Layout) {
    let (x, g) = (Laid::new(shape, xs, layout), Laid::new(shape, gs, layout));
    let (x, g) = (x.view(), g.view());
    let label = format!("{} {shape:?} {layout:?}", case.label);
    let layer = case.layer.as_mut();

    let y = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert_all_same(&label, "forward", &y, &(case.forward)(x.view()), &x);
    let dx = layer.backward(g.view()).unwrap().to_owned();
    let want = (case.backward)(x.view(), g.view()).unwrap();
    match case.agreement {
        Backward::Exact => assert_all_same(&label, "backward", &dx, &want, &x),
        Backward::FromOutput { tol } => {
            for (((&a, &b), &x), &g) in dx.iter().zip(&want).zip(&x).zip(&g) {
                assert!(
                    same(a, b) || (a - b).abs() <= tol * (g.abs() + b.abs()),
                    "{label} backward at x = {x}, g = {g}: {a} vs {b}"
                );
            }
        }
    }
    // The evaluation pass takes its own loop (nothing kept).
    let y = layer.forward(x.view(), Mode::Eval).unwrap().to_owned();
    assert_all_same(&label, "eval forward", &y, &(case.forward)(x.view()), &x);
}

/// RReLU's evaluation pass uses the mean slope, (1/8 + 1/3)/2 by default.
fn check_rrelu_eval(shape: &[usize], xs: &[f32], layout: Layout) {
    let x = Laid::new(shape, xs, layout);
    let mut layer = RRelu::with_seed(3);
    let y = layer.forward(x.view(), Mode::Eval).unwrap().to_owned();
    let want = r::rrelu_forward(x.view(), layer.eval_slope());
    assert_all_same("rrelu eval", "forward", &y, &want, &x.view());
}

/// PReLU's channel kernel (shared, `[batch, C]` columns, `[batch, C, ...]` planes) against
/// `prelu_forward`/`prelu_backward`, dL/dα included.
fn check_prelu(shape: &[usize], alpha: &[f32], xs: &[f32], gs: &[f32], layout: Layout) {
    let (x, g) = (Laid::new(shape, xs, layout), Laid::new(shape, gs, layout));
    let (x, g) = (x.view(), g.view());
    let label = format!("prelu({}) {shape:?} {layout:?}", alpha.len());
    let mut prelu = PRelu::new(alpha.len(), 0.25).unwrap();
    prelu
        .alpha_mut()
        .value
        .as_slice_mut()
        .unwrap()
        .copy_from_slice(alpha);

    let y = prelu.forward(x.view(), Mode::Train).unwrap().to_owned();
    let want = r::prelu_forward(x.view(), alpha).unwrap();
    assert_all_same(&label, "forward", &y, &want, &x);
    let dx = prelu.backward(g.view()).unwrap().to_owned();
    let (want_dx, want_dalpha) = r::prelu_backward(x.view(), g.view(), alpha).unwrap();
    assert_all_same(&label, "dL/dx", &dx, &want_dx, &x);

    // The scale of the sum: Σ|x·g| over the inputs with x ≤ 0, per slope.
    let mut scale = vec![0.0f64; alpha.len()];
    for ((i, &x), &g) in x.indexed_iter().zip(&g) {
        let c = if alpha.len() == 1 { 0 } else { i[1] };
        if x <= 0.0 {
            scale[c] += f64::from((x * g).abs());
        }
    }
    for ((&got, &want), &scale) in prelu.alpha().grad.iter().zip(&want_dalpha).zip(&scale) {
        let tol = 2e-6 * scale + f64::from(f32::EPSILON * want.abs());
        assert!(
            same(got, want) || f64::from((got - want).abs()) <= tol,
            "{label} dL/dα: {got} vs {want} (tolerance {tol:e})"
        );
    }
    let y = prelu.forward(x.view(), Mode::Eval).unwrap().to_owned();
    let want = r::prelu_forward(x.view(), alpha).unwrap();
    assert_all_same(&label, "eval forward", &y, &want, &x);
}

/// Slopes for `n` channels: positive, negative and exactly 0 among them.
fn slopes(n: usize, rng: &mut StdRng) -> Vec<f32> {
    (0..n)
        .map(|c| match c % 4 {
            0 => 0.25,
            1 => -0.1,
            2 => 0.0,
            _ => rng.random_range(-1.0f32..1.0),
        })
        .collect()
}

proptest! {
    // A fixed seed: the same cases on every run (the project promises determinism, and a
    // failure found once is found again).
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x1a2a),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn every_elementwise_kernel_matches_its_reference(
        shape in prop::collection::vec(1usize..7, 1..=4),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = shape.iter().product();
        let (xs, gs) = (values(n, &mut rng), gradients(n, &mut rng));
        for mut case in cases() {
            for layout in LAYOUTS {
                check(&mut case, &shape, &xs, &gs, layout);
            }
        }
        for layout in LAYOUTS {
            check_rrelu_eval(&shape, &xs, layout);
        }
    }

    #[test]
    fn the_prelu_kernel_matches_its_reference(
        batch in 1usize..6,
        channels in 1usize..6,
        spatial in prop::collection::vec(1usize..5, 0..=2),
        shared in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let shape: Vec<usize> = [batch, channels].into_iter().chain(spatial).collect();
        let n = shape.iter().product();
        let (xs, gs) = (values(n, &mut rng), gradients(n, &mut rng));
        let alpha = slopes(if shared { 1 } else { channels }, &mut rng);
        for layout in LAYOUTS {
            check_prelu(&shape, &alpha, &xs, &gs, layout);
        }
    }
}

/// Shapes long enough for every loop's full SIMD chunks, remainders, PReLU's 512-element blocks
/// and its 32-row flushes of `[batch, C]` column sums.
#[test]
fn large_shapes_cover_every_block_and_remainder() {
    let mut rng = StdRng::seed_from_u64(21);
    for shape in [&[1037][..], &[67, 33], &[3, 5, 7, 11]] {
        let n = shape.iter().product();
        let (xs, gs) = (values(n, &mut rng), gradients(n, &mut rng));
        for mut case in cases() {
            for layout in LAYOUTS {
                check(&mut case, shape, &xs, &gs, layout);
            }
        }
    }
    for shape in [&[70, 5][..], &[3, 4, 23, 29], &[2, 1, 1300], &[2000]] {
        let n = shape.iter().product();
        let (xs, gs) = (values(n, &mut rng), gradients(n, &mut rng));
        for alpha in [
            slopes(1, &mut rng),
            slopes(shape.get(1).copied().unwrap_or(1), &mut rng),
        ] {
            if alpha.len() > 1 && shape.len() < 2 {
                continue;
            }
            for layout in LAYOUTS {
                check_prelu(shape, &alpha, &xs, &gs, layout);
            }
        }
    }
}

/// Tensors of 65,536 elements or more are cut into pieces that run on the thread pool: every kernel
/// still equals its reference, bit for bit where it does the same arithmetic, with 1, 2 and 3
/// threads (each element is computed on its own, so the thread count changes nothing). One test
/// function, as the thread count is global.
#[test]
fn tensors_cut_into_pieces_on_threads_match_the_reference() {
    let mut rng = StdRng::seed_from_u64(22);
    for threads in 1..=3 {
        lazarus_core::set_num_threads(threads);
        // A conv activation's shape, and a length that does not divide into 16-element edges.
        for shape in [&[8, 16, 28, 28][..], &[98_311]] {
            let n = shape.iter().product();
            let (xs, gs) = (values(n, &mut rng), gradients(n, &mut rng));
            for mut case in cases() {
                for layout in LAYOUTS {
                    check(&mut case, shape, &xs, &gs, layout);
                }
            }
        }
    }
    lazarus_core::set_num_threads(0);
}

/// PyTorch's values for NaN: relu(NaN) = NaN with gradient 0 (its backward mask is y > 0).
#[test]
fn relu_passes_nan_forward_and_no_gradient_back() {
    let x = Tensor::from_shape_vec(vec![3], vec![f32::NAN, -1.0, 2.0]).unwrap();
    let mut relu = Relu::new();
    let y = relu.forward(x.view(), Mode::Train).unwrap().to_owned();
    assert!(y[0].is_nan());
    let dx = relu
        .backward(Tensor::from_elem(vec![3], 4.0f32).view())
        .unwrap();
    assert_eq!(dx.as_slice().unwrap(), &[0.0, 0.0, 4.0]);
}
