//! `Conv2d`: PyTorch's numbers (outputs and all three gradients), finite-difference checks over
//! stride, padding, dilation, groups and bias, errors instead of panics, PyTorch's repr and
//! default init. The fast path against the plain loops, and thread counts: `conv2d_kernel.rs`.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::{
    Conv2d, Conv2dSettings, Error, Layer, Mode, Padding, Sequential, Size2d, Tensor,
};
use rand::{SeedableRng, rngs::StdRng};

// The values below were printed by this script (torch 2.15, CPU); inputs, weights, biases and
// upstream gradients are filled by formula on both sides, `fill` here and in Rust.
//
// import math, torch
// torch.set_printoptions(precision=8)
// def fill(shape, f):
//     n = math.prod(shape)
//     return torch.tensor([f(i) for i in range(n)], dtype=torch.float32).reshape(shape)
// def case(name, conv, xshape):
//     with torch.no_grad():
//         conv.weight.copy_(fill(conv.weight.shape, lambda i: 0.5 * math.sin(0.71 * i + 0.3)))
//         if conv.bias is not None:
//             conv.bias.copy_(fill(conv.bias.shape, lambda i: 0.1 * (i - 1)))
//     x = fill(xshape, lambda i: math.sin(0.37 * i + 0.1)).requires_grad_()
//     y = conv(x)
//     g = fill(y.shape, lambda i: math.cos(0.23 * i))
//     y.backward(g)
//     def fmt(t):
//         return "[" + ", ".join(f"{v:.8e}" for v in t.detach().flatten().tolist()) + "]"
//     print(f"// {name}: {conv}, x {list(xshape)} -> y {list(y.shape)}")
//     print(f"y = {fmt(y)}")
//     print(f"dw = {fmt(conv.weight.grad)}")
//     if conv.bias is not None: print(f"db = {fmt(conv.bias.grad)}")
//     print(f"dx = {fmt(x.grad)}")
// case("strided", torch.nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), (1, 3, 5, 6))
// case("same", torch.nn.Conv2d(2, 4, (2, 2), padding='same', dilation=(1, 3), groups=2), (1, 2, 3, 4))
// case("depthwise", torch.nn.Conv2d(2, 2, 3, stride=2, padding=1, groups=2, bias=False), (2, 2, 4, 3))

const STRIDED_Y: [f32; 48] = [
    1.7766131,
    2.2371821,
    2.3814242,
    2.189817,
    -2.993874,
    -2.5402067,
    -1.756268,
    -0.74816126,
    0.75785387,
    -0.129608,
    -1.0130627,
    -1.7729386,
    1.5423743,
    2.1720371,
    2.5077248,
    2.5040042,
    -3.0158741,
    -2.8175206,
    -2.237829,
    -1.355258,
    1.3131175,
    0.50403154,
    -0.37327245,
    -1.200056,
    1.2380126,
    2.0081425,
    2.5200143,
    2.7043483,
    -2.9007592,
    -2.9667382,
    -2.6176488,
    -1.9007386,
    1.8086809,
    1.1147559,
    0.28348815,
    -0.57261366,
    0.8819118,
    1.7574954,
    2.4222791,
    2.786288,
    -2.6492162,
    -2.9765284,
    -2.8739135,
    -2.355257,
    2.2265608,
    1.6793451,
    0.9319068,
    0.08540839,
];
const STRIDED_DW: [f32; 72] = [
    -1.2758427,
    -2.0903504,
    1.344541,
    4.215436,
    1.7335716,
    -0.2803813,
    1.5605403,
    0.17712927,
    -4.6129837,
    -2.1689706,
    2.482489,
    2.8331316,
    1.6011717,
    2.1272771,
    -2.306219,
    -4.667606,
    -1.2160418,
    0.87100977,
    0.010850427,
    1.4784803,
    -0.44360542,
    -3.1148174,
    -2.6976514,
    -0.6387137,
    -2.1677606,
    -1.4402707,
    4.0648317,
    2.4137328,
    -2.2774386,
    -3.3498268,
    -0.46276796,
    -1.7787366,
    1.2910091,
    3.6180131,
    2.2228694,
    -0.05963157,
    1.2557027,
    -0.65392387,
    -0.52114516,
    1.5661179,
    3.2736623,
    1.4659268,
    2.4631383,
    2.496223,
    -2.9319346,
    -2.3112676,
    1.7447675,
    3.3846345,
    -0.74220717,
    1.1743166,
    -0.09008123,
    -2.0479524,
    -2.909927,
    -0.7603253,
    -2.3416173,
    -0.26470247,
    1.4109263,
    0.20787518,
    -3.3787415,
    -2.08226,
    -2.4041824,
    -3.193082,
    1.3772651,
    1.8763173,
    -0.961104,
    -2.9325469,
    1.8404123,
    -0.40096578,
    -1.123805,
    0.18328457,
    3.178378,
    1.4709058,
];
const STRIDED_DB: [f32; 4] = [2.5760186, -5.429411, 7.5017576, -8.494942];
const STRIDED_DX: [f32; 90] = [
    0.21813,
    0.16570665,
    0.2961948,
    0.2189851,
    0.16099685,
    0.13242793,
    -0.11440886,
    -0.10351537,
    -0.31232697,
    -0.28662696,
    -0.20402208,
    -0.17690568,
    -0.03075474,
    -0.09778833,
    -0.06278726,
    -0.15690733,
    0.012630227,
    -0.03164304,
    -0.041808993,
    -0.015182361,
    -0.12822817,
    -0.057614878,
    -0.047718585,
    0.0037163198,
    -0.2553937,
    -0.28419095,
    -0.3722704,
    -0.40910032,
    -0.14569356,
    -0.17076792,
    -0.13152288,
    -0.1489031,
    -0.14176142,
    -0.19963443,
    -0.09457313,
    -0.14416526,
    0.24096662,
    0.24103078,
    0.40456077,
    0.38786536,
    0.1823908,
    0.17105144,
    -0.1524201,
    -0.13717835,
    -0.30087638,
    -0.30456284,
    -0.23905334,
    -0.24715729,
    0.16835119,
    0.124094665,
    0.22400574,
    0.14106748,
    0.08768524,
    0.048334315,
    -0.053155463,
    -0.017307708,
    -0.22279249,
    -0.16938618,
    -0.19507354,
    -0.15530047,
    -0.10314868,
    -0.03553095,
    -0.17226252,
    -0.0444585,
    -0.07831808,
    -0.0063942205,
    -0.0962516,
    -0.10720119,
    -0.041352563,
    -0.052456833,
    0.04457043,
    0.02736725,
    0.16400512,
    0.2177139,
    0.32582268,
    0.42316556,
    0.1963576,
    0.24771558,
    -0.10536881,
    -0.09330503,
    -0.067604505,
    -0.06571063,
    -0.028938524,
    -0.045971647,
    0.30186388,
    0.2993219,
    0.56704247,
    0.55718297,
    0.31623286,
    0.30653638,
];
const SAME_Y: [f32; 48] = [
    0.45438227,
    0.94782317,
    0.4262379,
    0.37207663,
    0.010254376,
    -0.0068270415,
    -0.10336964,
    -0.2943354,
    -0.35907036,
    -0.45060363,
    -0.14202678,
    -0.1904082,
    -0.5528989,
    -0.98361987,
    -0.45873648,
    -0.3612799,
    0.021383274,
    0.18192145,
    0.14130454,
    0.3029667,
    0.19904505,
    0.27868795,
    -0.00022649571,
    -0.0004872386,
    0.15517738,
    0.37547645,
    0.29428202,
    0.4321035,
    0.6389103,
    1.0604789,
    0.53338134,
    0.44777587,
    0.2832848,
    0.10391983,
    -0.049261726,
    -0.03829611,
    0.015041694,
    -0.32851934,
    -0.11755712,
    -0.20673992,
    -0.28682816,
    -0.61808586,
    -0.13358362,
    -0.0066834837,
    0.15135023,
    0.42845595,
    0.48425323,
    0.46337038,
];
const SAME_DW: [f32; 16] = [
    2.2846954,
    2.850236,
    2.374087,
    0.43660218,
    -3.1490986,
    -2.5902658,
    -2.3113997,
    0.030161232,
    -2.3768618,
    0.6573309,
    2.6333756,
    2.5657039,
    0.72524685,
    -1.6363523,
    -3.0744758,
    -2.2773056,
];
const SAME_DB: [f32; 4] = [2.5760188, -5.4294114, 7.501758, -8.494943];
const SAME_DX: [f32; 24] = [
    0.14308184,
    0.13160694,
    0.8385303,
    0.7338477,
    1.029748,
    0.9633259,
    2.1022367,
    1.144183,
    0.48667425,
    0.2632716,
    0.51192623,
    0.19755821,
    -0.30196676,
    -0.36267152,
    -0.23960522,
    0.20241266,
    0.18643373,
    0.31251827,
    1.2247033,
    0.95696664,
    0.57009137,
    0.6006224,
    1.6983342,
    1.0306567,
];
const DEPTHWISE_Y: [f32; 16] = [
    -0.6934699,
    -0.73983634,
    0.961205,
    1.349402,
    0.66689175,
    -0.14650027,
    -1.1724458,
    -0.58896494,
    0.36628518,
    0.86762553,
    -0.3235814,
    -1.0725924,
    -0.8159774,
    -0.3131758,
    1.3056854,
    1.1597992,
];
const DEPTHWISE_DW: [f32; 18] = [
    1.4753052, 2.7736032, 1.4689957, 1.4290977, 2.7010486, 1.3833947, 0.8205931, 1.3492793,
    0.6048776, -0.678578, -1.4414681, -0.769997, -1.0760264, -2.0532308, -1.0281086, 0.08366378,
    0.3619839, 0.3315816,
];
const DEPTHWISE_DX: [f32; 48] = [
    0.00079632644,
    -0.007390648,
    0.00077535625,
    -0.04485795,
    -0.073464304,
    -0.08653068,
    0.00071355025,
    -0.039669584,
    0.0006141636,
    -0.38016,
    -0.5149176,
    -0.3272095,
    -0.031814035,
    -0.104352765,
    -0.021451306,
    -0.15325646,
    -0.1791571,
    -0.17840698,
    -0.009958797,
    -0.08016003,
    0.002058214,
    -0.074649364,
    0.0010759619,
    0.015428005,
    -0.00021179407,
    -0.06979258,
    -0.0003812226,
    -0.16927382,
    -0.17412041,
    -0.14356034,
    -0.00053057325,
    -0.05058558,
    -0.00065198,
    0.28267485,
    0.5040855,
    0.34735703,
    0.0487368,
    0.056732345,
    0.051911753,
    -0.08265115,
    -0.08643404,
    -0.03903151,
    0.052352656,
    0.091944404,
    0.050036285,
    0.39242616,
    0.57317024,
    0.3750631,
];

/// A tensor of `shape` whose i-th element (row-major) is `f(i)`, as the script's `fill`.
fn fill(shape: &[usize], f: impl Fn(f64) -> f64) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::from_shape_vec(shape, (0..n).map(|i| f(i as f64) as f32).collect()).unwrap()
}

/// The script's `case`: set W and b by formula, run forward and backward with its upstream
/// gradient, and compare y, dW, db and dx with PyTorch's.
fn check_case(settings: Conv2dSettings, x_shape: &[usize], expected: [&[f32]; 4]) {
    let weight = fill(&settings.weight_shape(), |i| 0.5 * (0.71 * i + 0.3).sin());
    let bias = settings
        .bias
        .then(|| fill(&[settings.out_channels], |i| 0.1 * (i - 1.0)));
    let mut conv = settings.with_params(weight, bias).unwrap();
    let x = fill(x_shape, |i| (0.37 * i + 0.1).sin());
    let y = conv.forward(x.view(), Mode::Train).unwrap().to_owned();
    let g = fill(y.shape(), |i| (0.23 * i).cos());
    let dx = conv.backward(g.view()).unwrap().to_owned();
    let [y_pt, dw_pt, db_pt, dx_pt] = expected;
    let close = |what: &str, ours: &Tensor, theirs: &[f32]| {
        assert_eq!(ours.len(), theirs.len(), "{what}: length");
        for (a, b) in ours.iter().zip(theirs) {
            assert!(
                (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
                "{what}: {a} vs PyTorch {b}"
            );
        }
    };
    close("y", &y, y_pt);
    close("dW", &conv.weight().grad, dw_pt);
    if let Some(b) = conv.bias() {
        close("db", &b.grad, db_pt);
    }
    close("dx", &dx, dx_pt);
    // The plain loops agree with PyTorch too.
    let (dw_ref, _, dx_ref) = conv.backward_reference(x.view(), g.view()).unwrap();
    close(
        "reference y",
        &conv.forward_reference(x.view()).unwrap(),
        y_pt,
    );
    close("reference dW", &dw_ref, dw_pt);
    close("reference dx", &dx_ref, dx_pt);
}

#[test]
fn strided_dilated_conv_matches_pytorch() {
    let settings = Conv2dSettings::new(3, 4, (3, 2))
        .stride((2, 1))
        .unwrap()
        .padding((1, 0))
        .dilation((1, 2))
        .unwrap();
    check_case(
        settings,
        &[1, 3, 5, 6],
        [&STRIDED_Y, &STRIDED_DW, &STRIDED_DB, &STRIDED_DX],
    );
}

#[test]
fn same_padding_with_grouped_channels_matches_pytorch() {
    // Totals of padding d·(k − 1): 1 for the height (0 above, 1 below) and 3 for the width
    // (1 left, 2 right): PyTorch puts the odd zero after.
    let settings = Conv2dSettings::new(2, 4, 2)
        .padding(Padding::Same)
        .dilation((1, 3))
        .unwrap()
        .groups(2)
        .unwrap();
    check_case(
        settings,
        &[1, 2, 3, 4],
        [&SAME_Y, &SAME_DW, &SAME_DB, &SAME_DX],
    );
}

#[test]
fn strided_depthwise_conv_without_bias_matches_pytorch() {
    let settings = Conv2dSettings::new(2, 2, 3)
        .stride(2)
        .unwrap()
        .padding(1)
        .groups(2)
        .unwrap()
        .bias(false);
    check_case(
        settings,
        &[2, 2, 4, 3],
        [&DEPTHWISE_Y, &DEPTHWISE_DW, &[], &DEPTHWISE_DX],
    );
}

/// (in, out, kernel, stride, padding, dilation, groups, bias, input h×w)
type GradCase = (
    usize,
    usize,
    Size2d,
    Size2d,
    Padding,
    Size2d,
    usize,
    bool,
    (usize, usize),
);

#[test]
fn gradients_pass_finite_difference_checks_over_settings() {
    let mut rng = StdRng::seed_from_u64(16);
    let cases: [GradCase; 8] = [
        (
            1,
            2,
            Size2d { h: 3, w: 3 },
            Size2d { h: 1, w: 1 },
            Padding::Explicit(1, 1),
            Size2d { h: 1, w: 1 },
            1,
            true,
            (5, 5),
        ),
        (
            2,
            3,
            Size2d { h: 3, w: 2 },
            Size2d { h: 2, w: 1 },
            Padding::Explicit(0, 1),
            Size2d { h: 1, w: 1 },
            1,
            false,
            (6, 4),
        ),
        (
            2,
            2,
            Size2d { h: 2, w: 3 },
            Size2d { h: 1, w: 2 },
            Padding::Explicit(1, 0),
            Size2d { h: 2, w: 1 },
            1,
            true,
            (5, 7),
        ),
        (
            4,
            4,
            Size2d { h: 3, w: 3 },
            Size2d { h: 1, w: 1 },
            Padding::Same,
            Size2d { h: 1, w: 1 },
            2,
            true,
            (4, 5),
        ),
        (
            2,
            4,
            Size2d { h: 2, w: 2 },
            Size2d { h: 1, w: 1 },
            Padding::Same,
            Size2d { h: 2, w: 1 },
            2,
            false,
            (4, 4),
        ),
        (
            3,
            3,
            Size2d { h: 3, w: 3 },
            Size2d { h: 2, w: 2 },
            Padding::Explicit(1, 1),
            Size2d { h: 1, w: 1 },
            3,
            true,
            (5, 6),
        ),
        (
            4,
            2,
            Size2d { h: 1, w: 1 },
            Size2d { h: 1, w: 1 },
            Padding::Valid,
            Size2d { h: 1, w: 1 },
            2,
            true,
            (3, 3),
        ),
        (
            3,
            6,
            Size2d { h: 1, w: 3 },
            Size2d { h: 3, w: 1 },
            Padding::Explicit(2, 1),
            Size2d { h: 1, w: 2 },
            3,
            true,
            (4, 5),
        ),
    ];
    for (i, o, k, s, p, d, g, bias, (h, w)) in cases {
        let mut conv = Conv2dSettings::new(i, o, k)
            .stride(s)
            .unwrap()
            .padding(p)
            .dilation(d)
            .unwrap()
            .groups(g)
            .unwrap()
            .bias(bias)
            .build(&mut rng)
            .unwrap();
        let x = random_input(&[2, i, h, w], &mut rng);
        let report = GradCheck::default()
            .check_layer(&mut conv, &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{}: {report}", conv.describe());
        assert_eq!(report.params.len(), if bias { 2 } else { 1 });
    }
}

#[test]
fn describe_prints_pytorchs_repr() {
    let mut rng = StdRng::seed_from_u64(0);
    let conv = Conv2d::new(1, 16, 3, &mut rng).unwrap();
    assert_eq!(
        conv.describe(),
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))"
    );
    let conv = Conv2dSettings::new(16, 32, (3, 5))
        .stride((2, 1))
        .unwrap()
        .padding((1, 2))
        .dilation(2)
        .unwrap()
        .groups(4)
        .unwrap()
        .bias(false)
        .build(&mut rng)
        .unwrap();
    assert_eq!(
        conv.describe(),
        "Conv2d(16, 32, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 2), groups=4, bias=False)"
    );
    let valid = Conv2dSettings::new(4, 4, 3).padding(Padding::Valid);
    assert_eq!(
        valid.build(&mut rng).unwrap().describe(),
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=valid)"
    );
}

#[test]
fn default_init_is_kaiming_uniform_with_bound_one_over_sqrt_fan_in() {
    let mut rng = StdRng::seed_from_u64(1);
    // fan_in = in/groups · kh · kw = 8/2 · 3 · 3 = 36: bound 1/6.
    let conv = Conv2dSettings::new(8, 6, 3)
        .groups(2)
        .unwrap()
        .build(&mut rng)
        .unwrap();
    assert_eq!(conv.weight().value.shape(), &[6, 4, 3, 3]);
    let bound = 1.0 / 6.0 + 1e-7;
    let w = &conv.weight().value;
    assert!(w.iter().all(|v| v.abs() <= bound));
    // Spread over the interval, not bunched: the largest draw is close to the bound.
    assert!(w.iter().fold(0.0f32, |m, v| m.max(v.abs())) > 0.9 / 6.0);
    let b = &conv.bias().unwrap().value;
    assert_eq!(b.shape(), &[6]);
    assert!(b.iter().all(|v| v.abs() <= bound));
    assert_eq!(conv.param_count(), 6 * 4 * 9 + 6);
}

#[test]
fn output_shape_follows_the_formula() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut shape =
        |s: Conv2dSettings, input: &[usize]| s.build(&mut rng).unwrap().output_shape(input);
    // ⌊(28 + 2 − 2 − 1)/1⌋ + 1 = 28
    let same_size = Conv2dSettings::new(1, 16, 3).padding(1);
    assert_eq!(
        shape(same_size, &[64, 1, 28, 28]).unwrap(),
        [64, 16, 28, 28]
    );
    // ⌊(14 + 0 − 2·2 − 1)/2⌋ + 1 = 5, ⌊(15 + 2 − 1·4 − 1)/3⌋ + 1 = 5
    let s = Conv2dSettings::new(2, 4, (3, 5))
        .stride((2, 3))
        .unwrap()
        .padding((0, 1))
        .dilation((2, 1))
        .unwrap();
    assert_eq!(shape(s, &[1, 2, 14, 15]).unwrap(), [1, 4, 5, 5]);
    // "same" keeps the size, even with an even kernel (asymmetric padding).
    let same = Conv2dSettings::new(2, 2, (2, 4)).padding(Padding::Same);
    assert_eq!(shape(same, &[3, 2, 7, 9]).unwrap(), [3, 2, 7, 9]);
    // A kernel exactly as large as the padded input gives one position.
    assert_eq!(
        shape(Conv2dSettings::new(1, 1, 5).padding(1), &[1, 1, 3, 3]).unwrap(),
        [1, 1, 1, 1]
    );
}

#[test]
fn bad_inputs_are_errors_naming_the_layer() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new()
        .add(Conv2d::new(1, 16, 3, &mut rng).unwrap())
        .add(
            Conv2dSettings::new(16, 32, 3)
                .padding(1)
                .build(&mut rng)
                .unwrap(),
        );
    // A channel count that does not fit the layer it reaches.
    let mut conv = Conv2dSettings::new(16, 32, 3)
        .padding(1)
        .build(&mut rng)
        .unwrap();
    let err = conv
        .forward(Tensor::zeros(vec![64, 3, 28, 28]).view(), Mode::Train)
        .unwrap_err();
    assert_eq!(
        err.clone().at(3).to_string(),
        "conv2d[3]: expected [batch, 16, h, w], found shape [64, 3, 28, 28]"
    );
    assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[64, 3, 28, 28]));
    // Inside a model, the error names the layer's index.
    let err = model
        .forward(Tensor::zeros(vec![2, 3, 8, 8]).view(), Mode::Eval)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d[0]: expected [batch, 1, h, w], found shape [2, 3, 8, 8]"
    );
    // Not 4-D, and an empty image.
    for shape in [
        &[64, 784][..],
        &[2, 1, 28],
        &[2, 1, 28, 28, 1],
        &[2, 1, 0, 5],
    ] {
        let err = model.forward(Tensor::zeros(shape.to_vec()).view(), Mode::Eval);
        assert!(
            matches!(err, Err(Error::ShapeMismatch { ref layer, .. }) if layer == "conv2d[0]"),
            "{shape:?}"
        );
    }
    // The kernel (reach d·(k − 1) + 1 = 5 with dilation 2) larger than the padded input.
    let mut dilated = Conv2dSettings::new(1, 1, 3)
        .dilation(2)
        .unwrap()
        .padding(1)
        .build(&mut rng)
        .unwrap();
    let err = dilated
        .forward(Tensor::zeros(vec![1, 1, 2, 9]).view(), Mode::Eval)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: expected [batch, 1, h, w] at least as large as the kernel's reach 5x5 once padded (padded size 4x11), found shape [1, 1, 2, 9]"
    );
    assert!(dilated.output_shape(&[1, 1, 2, 9]).is_err());
    // Backward: before any forward, after an eval forward, and with a wrongly shaped gradient.
    let mut fresh = Conv2d::new(1, 2, 3, &mut rng).unwrap();
    assert!(matches!(
        fresh.backward(Tensor::zeros(vec![1, 2, 3, 3]).view()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    fresh
        .forward(Tensor::zeros(vec![1, 1, 5, 5]).view(), Mode::Eval)
        .unwrap();
    assert!(matches!(
        fresh.backward_params(Tensor::zeros(vec![1, 2, 3, 3]).view()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    fresh
        .forward(Tensor::zeros(vec![1, 1, 5, 5]).view(), Mode::Train)
        .unwrap();
    let err = fresh
        .backward(Tensor::zeros(vec![1, 2, 3, 4]).view())
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[1, 2, 3, 4]));
    // A parameter replaced by one of another shape.
    fresh.weight_mut().value = Tensor::zeros(vec![2, 1, 3]);
    assert!(matches!(
        fresh.forward(Tensor::zeros(vec![1, 1, 5, 5]).view(), Mode::Eval),
        Err(Error::ShapeMismatch { .. })
    ));
    // The references check shapes too.
    let conv = Conv2d::new(1, 2, 3, &mut rng).unwrap();
    assert!(
        conv.forward_reference(Tensor::zeros(vec![1, 2, 5, 5]).view())
            .is_err()
    );
    let x = Tensor::zeros(vec![1, 1, 5, 5]);
    assert!(
        conv.backward_reference(x.view(), Tensor::zeros(vec![1, 2, 3, 2]).view())
            .is_err()
    );
}

#[test]
fn bad_settings_are_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let invalid = |r: Result<Conv2d, Error>, parameter: &str| match r {
        Err(Error::InvalidConfig { parameter: p, .. }) => assert_eq!(p, parameter),
        other => panic!("expected InvalidConfig for {parameter}, got {other:?}"),
    };
    assert!(matches!(
        Conv2dSettings::new(1, 1, 3).stride(0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        Conv2dSettings::new(1, 1, 3).stride((1, 0)),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        Conv2dSettings::new(1, 1, 3).dilation(0),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        Conv2dSettings::new(1, 1, 3).groups(0),
        Err(Error::InvalidConfig { .. })
    ));
    invalid(
        Conv2dSettings::new(3, 4, 3)
            .groups(2)
            .unwrap()
            .build(&mut rng),
        "groups",
    );
    invalid(
        Conv2dSettings::new(4, 3, 3)
            .groups(2)
            .unwrap()
            .build(&mut rng),
        "groups",
    );
    invalid(Conv2d::new(0, 4, 3, &mut rng), "in_channels/out_channels");
    invalid(Conv2d::new(1, 0, 3, &mut rng), "in_channels/out_channels");
    invalid(Conv2d::new(1, 4, (3, 0), &mut rng), "kernel_size");
    let strided_same = Conv2dSettings::new(1, 1, 3)
        .stride(2)
        .unwrap()
        .padding(Padding::Same);
    let err = strided_same.build(&mut rng).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: invalid padding: \"same\" needs stride 1, found stride (2, 2)"
    );
    // Settings written as a struct are checked at build too.
    let zero_stride = Conv2dSettings {
        stride: Size2d { h: 0, w: 1 },
        ..Conv2dSettings::new(1, 1, 3)
    };
    invalid(zero_stride.build(&mut rng), "stride");
    // Given parameters: shapes, and a bias exactly when the settings want one.
    let s = Conv2dSettings::new(2, 4, 3).groups(2).unwrap();
    assert!(matches!(
        s.with_params(
            Tensor::zeros(vec![4, 2, 3, 3]),
            Some(Tensor::zeros(vec![4]))
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        s.with_params(
            Tensor::zeros(vec![4, 1, 3, 3]),
            Some(Tensor::zeros(vec![3]))
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    invalid(s.with_params(Tensor::zeros(vec![4, 1, 3, 3]), None), "bias");
    invalid(
        s.bias(false).with_params(
            Tensor::zeros(vec![4, 1, 3, 3]),
            Some(Tensor::zeros(vec![4])),
        ),
        "bias",
    );
    assert!(
        s.bias(false)
            .with_params(Tensor::zeros(vec![4, 1, 3, 3]), None)
            .is_ok()
    );
}

#[test]
fn two_backwards_double_the_gradients_and_backward_params_matches() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut a = Conv2dSettings::new(2, 3, 3)
        .padding(1)
        .build(&mut rng)
        .unwrap();
    let mut b = a.clone();
    let x = random_input(&[3, 2, 6, 5], &mut rng);
    let g = random_input(&[3, 3, 6, 5], &mut rng);
    a.forward(x.view(), Mode::Train).unwrap();
    a.backward(g.view()).unwrap();
    b.forward(x.view(), Mode::Train).unwrap();
    b.backward_params(g.view()).unwrap();
    assert_eq!(a.weight().grad, b.weight().grad);
    assert_eq!(a.bias().unwrap().grad, b.bias().unwrap().grad);
    let once = a.weight().grad.clone();
    a.backward(g.view()).unwrap();
    for (twice, once) in a.weight().grad.iter().zip(&once) {
        assert!((twice - 2.0 * once).abs() <= 1e-5 * once.abs().max(1.0));
    }
}
