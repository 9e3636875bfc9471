//! LogSoftmax and NllLoss: PyTorch's numbers (extreme logits, 4-D input, class weights,
//! `ignore_index`, mean and sum), finite-difference checks, the kernel against the reference
//! bit for bit on 1 to 3 threads, `nll(log_softmax(z)) = cross_entropy(z)`, and errors.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::loss::{CrossEntropyLoss, Loss, NllLoss, Reduction, Target};
use lazarus_core::{Error, Layer, Linear, LogSoftmax, Mode, Sequential, Tensor, set_num_threads};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn tensor(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_shape_vec(shape.to_vec(), values.to_vec()).unwrap()
}

/// Within 1e-6 + 1e-5·|torch| of PyTorch's values.
fn assert_close(what: &str, ours: &Tensor, torch: &[f32]) {
    assert_eq!(ours.len(), torch.len(), "{what}: length");
    for (i, (&a, &b)) in ours.iter().zip(torch).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6 + 1e-5 * b.abs(),
            "{what}[{i}]: ours {a}, torch {b}"
        );
    }
}

// PyTorch's values, printed by this script (torch 2.15.0, CPU, float32):
//
// import torch, numpy as np
// import torch.nn as nn
// torch.set_num_threads(1)
// def lit(v):
//     s = repr(np.float32(v)).replace("np.float32(", "").rstrip(")")
//     if "." not in s and "e" not in s: s += ".0"
//     return s
// def arr(t): return "&[" + ", ".join(lit(v) for v in t.detach().reshape(-1).tolist()) + "]"
// gen = torch.Generator().manual_seed(0)
// # LogSoftmax over dim 1 of [3, 5] (the last row with logits ±1000) and of [2, 3, 2, 2].
// for tag, z in (("LSM_2D", torch.randn(3, 5, generator=gen) * 3), ("LSM_4D", torch.randn(2, 3, 2, 2, generator=gen) * 3)):
//     if tag == "LSM_2D":
//         z[2] = torch.tensor([1000.0, 0.0, -1000.0, 5.0, 5.0])
//     z.requires_grad_(True)
//     y = nn.LogSoftmax(dim=1)(z)
//     g = torch.randn(y.shape, generator=gen)
//     y.backward(g)
//     for n, t in (("X", z), ("G", g), ("Y", y), ("DX", z.grad)):
//         print(f"const {tag}_{n}: &[f32] = {arr(t)};")
// # NLLLoss on log-probabilities [6, 4], class weights, ignore_index 255 (sample 3), mean and sum.
// logp = torch.log_softmax(torch.randn(6, 4, generator=gen), dim=1)
// print(f"const NLL_X: &[f32] = {arr(logp)};")
// t = torch.tensor([0, 3, 1, 255, 3, 2])
// w = torch.tensor([1.0, 2.0, 0.5, 3.0])
// for tag, reduction in (("NLL_MEAN", "mean"), ("NLL_SUM", "sum")):
//     x = logp.clone().requires_grad_(True)
//     loss = nn.NLLLoss(weight=w, ignore_index=255, reduction=reduction)(x, t)
//     loss.backward()
//     print(f"const {tag}: f32 = {lit(loss.item())};")
//     print(f"const {tag}_DX: &[f32] = {arr(x.grad)};")

#[rustfmt::skip]
mod torch {
    pub const LSM_2D_X: &[f32] = &[4.622988, -0.8802867, -6.5363684, 1.7052938, -3.2535672, -4.1957865, 1.2100406, 2.514079, -2.1577728, -1.2100306, 1000.0, 0.0, -1000.0, 5.0, 5.0];
    pub const LSM_2D_G: &[f32] = &[0.12270124, -1.0297022, -0.5007584, 0.27336773, -0.9181, -0.040421087, 0.2881168, -0.007537308, -0.91449547, -1.0885837, -0.26659632, 0.18942346, -0.21902281, 2.0575912, -0.03542188];
    pub const LSM_2D_Y: &[f32] = &[-0.056876734, -5.5601516, -11.216234, -2.9745712, -7.933432, -6.976943, -1.5711161, -0.26707757, -4.9389296, -3.991187, 0.0, -1000.0, -2000.0, -995.0, -995.0];
    pub const LSM_2D_DX: &[f32] = &[2.0617115, -1.0218039, -0.5007308, 0.3781871, -0.91736406, -0.038776014, 0.65447485, 1.342179, -0.901869, -1.0560088, -1.9925699, 0.18942346, -0.21902281, 2.0575912, -0.03542188];
    pub const LSM_4D_X: &[f32] = &[-1.8407493, 0.094778225, -1.4780309, 0.74524426, 1.3190875, 0.33723354, 1.9223771, 1.3234688, 0.616577, -1.3509892, -1.7192312, -1.6660752, 1.7829691, 4.625828, 1.5220032, -1.7730994, -3.975978, 0.5656607, -0.20721805, -1.484776, -4.487745, -0.5815114, 1.3365365, 3.9758244];
    pub const LSM_4D_G: &[f32] = &[-2.6133225, -1.6964744, -0.22824179, 0.279955, 0.07324605, 1.1133184, 0.28226724, 0.43422565, 0.09295023, -0.6660997, 0.6080472, -0.73001987, -0.88337576, -0.41891348, -0.8048265, 0.56560963, 0.18036698, 0.10833187, -0.75482327, 0.24431853, -0.077325754, 0.11639865, -0.5939908, -1.2439282];
    pub const LSM_4D_Y: &[f32] = &[-3.590172, -0.9202586, -3.458271, -1.0552061, -0.4303352, -0.6778033, -0.057863012, -0.47698152, -1.1328456, -2.366026, -3.6994712, -3.4665256, -0.0050326097, -0.022468057, -0.69720846, -5.7563334, -5.7639794, -4.0826354, -2.4264297, -5.46801, -6.2757463, -5.2298074, -0.8826751, -0.0074097095];
    pub const LSM_4D_DX: &[f32] = &[-2.5457976, -1.198751, -0.24908657, 0.28546897, 1.6645904, 1.7476045, -0.34258318, 0.44405633, 0.8812071, -0.5488534, 0.59166974, -0.72952527, -0.10695848, -0.22904477, 0.26762936, 0.56698227, 0.18281613, 0.11160637, -0.56454545, 0.24614985, -0.07585765, 0.11743841, 0.296916, -0.8131321];
    pub const NLL_X: &[f32] = &[-3.108769, -1.7143682, -0.42672598, -2.09863, -2.1124783, -1.7344997, -1.6088774, -0.6882361, -0.9918566, -2.489028, -1.2292023, -1.3720124, -2.6370673, -2.525461, -0.4217854, -1.6474876, -1.265823, -2.0304961, -0.7109775, -2.3480153, -1.677314, -0.68614036, -3.186038, -1.3157473];
    pub const NLL_MEAN: f32 = 1.9777471;
    pub const NLL_MEAN_DX: &[f32] = &[-0.10526316, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.31578946, 0.0, -0.21052632, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.31578946, 0.0, 0.0, -0.05263158, 0.0];
    pub const NLL_SUM: f32 = 18.788597;
    pub const NLL_SUM_DX: &[f32] = &[-1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.0, 0.0, -2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, -0.5, 0.0];
}
use torch::*;

#[test]
fn log_softmax_matches_pytorch_on_2d_and_4d() {
    for (shape, x, g, y, dx) in [
        (&[3, 5][..], LSM_2D_X, LSM_2D_G, LSM_2D_Y, LSM_2D_DX),
        (&[2, 3, 2, 2][..], LSM_4D_X, LSM_4D_G, LSM_4D_Y, LSM_4D_DX),
    ] {
        let mut layer = LogSoftmax::new();
        let out = layer
            .forward(tensor(shape, x).view(), Mode::Train)
            .unwrap()
            .to_owned();
        assert_close("log_softmax y", &out, y);
        let grad = layer.backward(tensor(shape, g).view()).unwrap().to_owned();
        assert_close("log_softmax dx", &grad, dx);
    }
}

#[test]
fn nll_matches_pytorch_with_weights_and_ignore_index() {
    let x = tensor(&[6, 4], NLL_X);
    let targets = [0, 3, 1, 255, 3, 2];
    for (reduction, value, dx) in [
        (Reduction::Mean, NLL_MEAN, NLL_MEAN_DX),
        (Reduction::Sum, NLL_SUM, NLL_SUM_DX),
    ] {
        let mut loss = NllLoss::new()
            .weight(vec![1.0, 2.0, 0.5, 3.0])
            .unwrap()
            .ignore_index(255)
            .reduction(reduction);
        let l = loss.forward(x.view(), Target::Classes(&targets)).unwrap();
        assert!(
            (l - value).abs() <= 1e-5 * value.abs(),
            "{reduction:?}: {l} vs {value}"
        );
        assert_close("nll dx", &loss.input_grad().unwrap().to_owned(), dx);
    }
}

#[test]
fn nll_of_log_softmax_is_cross_entropy() {
    let mut rng = StdRng::seed_from_u64(0);
    let z = random_input(&[16, 10], &mut rng) * 4.0;
    let targets: Vec<usize> = (0..16).map(|_| rng.random_range(0..10)).collect();
    for reduction in [Reduction::Mean, Reduction::Sum] {
        // nll(log_softmax(z)), its gradient taken back through the layer ...
        let mut layer = LogSoftmax::new();
        let log_p = layer.forward(z.view(), Mode::Train).unwrap().to_owned();
        let mut nll = NllLoss::new().reduction(reduction);
        let l = nll
            .forward(log_p.view(), Target::Classes(&targets))
            .unwrap();
        let dz = layer
            .backward(nll.input_grad().unwrap())
            .unwrap()
            .to_owned();
        // ... against cross_entropy(z) and its gradient.
        let mut ce = CrossEntropyLoss::new().reduction(reduction);
        let expected = ce.forward(z.view(), Target::Classes(&targets)).unwrap();
        assert!(
            (l - expected).abs() <= 1e-5 * expected.abs(),
            "{l} vs {expected}"
        );
        let ce_grad = ce.input_grad().unwrap().to_owned();
        for (a, b) in dz.iter().zip(&ce_grad) {
            assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
        }
    }
}

#[test]
fn gradcheck_log_softmax() {
    let mut rng = StdRng::seed_from_u64(1);
    for shape in [&[4, 6][..], &[2, 3, 2, 3]] {
        let x = random_input(shape, &mut rng) * 2.0;
        let report = GradCheck::default()
            .check_layer(&mut LogSoftmax::new(), &x, &mut rng)
            .unwrap();
        assert!(report.passed(), "{report}");
    }
}

#[test]
fn gradcheck_nll_with_weights_and_ignore_index() {
    let mut rng = StdRng::seed_from_u64(2);
    let x = random_input(&[5, 4], &mut rng);
    let targets = [3, 0, 7, 2, 0];
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let mut loss = NllLoss::new()
            .weight(vec![0.5, 1.0, 2.0, 3.0])
            .unwrap()
            .ignore_index(7)
            .reduction(reduction);
        let report = GradCheck::default()
            .check_loss(&mut loss, &x, Target::Classes(&targets))
            .unwrap();
        assert!(report.passed(), "{report}");
    }
}

#[test]
fn log_softmax_kernel_matches_reference_for_any_thread_count() {
    let mut rng = StdRng::seed_from_u64(3);
    // Small shapes, and one large enough to be cut over the threads.
    let shapes = [
        vec![0, 3],
        vec![1, 1],
        vec![5, 7],
        vec![3, 4, 5],
        vec![2, 3, 4, 5],
        vec![64, 10, 8, 8],
    ];
    for shape in shapes {
        let x = random_input(&shape, &mut rng) * 10.0;
        let g = random_input(&shape, &mut rng);
        let layer = LogSoftmax::new();
        let y_ref = layer.forward_reference(x.view()).unwrap();
        let dx_ref = layer.backward_reference(y_ref.view(), g.view()).unwrap();
        for threads in [1, 2, 3] {
            set_num_threads(threads);
            let mut layer = LogSoftmax::new();
            let y = layer.forward(x.view(), Mode::Train).unwrap().to_owned();
            let dx = layer.backward(g.view()).unwrap().to_owned();
            let bits = |t: &Tensor| t.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&y), bits(&y_ref), "{shape:?}, {threads} threads");
            assert_eq!(bits(&dx), bits(&dx_ref), "{shape:?}, {threads} threads");
        }
    }
    set_num_threads(0);
}

#[test]
fn log_softmax_is_stable_and_sums_to_one() {
    let z = tensor(&[2, 3], &[1000.0, 0.0, -1000.0, -50.0, -50.0, -50.0]);
    let mut layer = LogSoftmax::new();
    let y = layer.forward(z.view(), Mode::Eval).unwrap().to_owned();
    assert_eq!(y.as_slice().unwrap()[..3], [0.0, -1000.0, -2000.0]);
    for row in y.rows() {
        let total: f32 = row.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6);
    }
    // Evaluation keeps nothing for backward.
    assert!(matches!(
        layer.backward(z.view()),
        Err(Error::BackwardBeforeForward { .. })
    ));
    assert_eq!(layer.describe(), "LogSoftmax(dim=1)");
    assert_eq!(layer.output_shape(&[8, 10]).unwrap(), [8, 10]);
}

#[test]
fn log_softmax_errors() {
    let mut layer = LogSoftmax::new();
    let err = layer
        .forward(Tensor::zeros(vec![5]).view(), Mode::Train)
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { ref found, .. } if found == &[5]));
    layer
        .forward(Tensor::zeros(vec![2, 3]).view(), Mode::Train)
        .unwrap();
    assert!(matches!(
        layer.backward(Tensor::zeros(vec![3, 2]).view()),
        Err(Error::ShapeMismatch { .. })
    ));
    // Inside a model, the error names the layer's index.
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new()
        .add(Linear::new(4, 3, &mut rng).unwrap())
        .add(LogSoftmax::new());
    model
        .forward(Tensor::zeros(vec![2, 4]).view(), Mode::Train)
        .unwrap();
    let err = model
        .backward(Tensor::zeros(vec![2, 4]).view())
        .unwrap_err();
    assert!(err.to_string().starts_with("log_softmax[1]: "), "{err}");
}

#[test]
fn nll_errors() {
    let x = Tensor::zeros(vec![3, 4]);
    let mut loss = NllLoss::new().ignore_index(9);
    // Every target ignored: PyTorch's mean is NaN; ours is an error.
    let err = loss
        .forward(x.view(), Target::Classes(&[9, 9, 9]))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTarget { .. }), "{err}");
    assert!(err.to_string().contains("3 of 3 targets ignored"), "{err}");
    // ... but the sum over nothing is 0.
    let mut sum = NllLoss::new().ignore_index(9).reduction(Reduction::Sum);
    assert_eq!(
        sum.forward(x.view(), Target::Classes(&[9, 9, 9])).unwrap(),
        0.0
    );
    assert!(sum.input_grad().unwrap().iter().all(|&g| g == 0.0));
    // Counted targets whose weights sum to 0.
    let mut zero = NllLoss::new().weight(vec![0.0, 1.0, 1.0, 1.0]).unwrap();
    assert!(matches!(
        zero.forward(x.view(), Target::Classes(&[0, 0, 0])),
        Err(Error::InvalidTarget { .. })
    ));
    // A class out of range (ignore_index may be out of range; others may not).
    let err = loss
        .forward(x.view(), Target::Classes(&[9, 4, 0]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nll_loss: invalid target: sample 1 has class 4, but there are 4 classes"
    );
    // Wrong counts, wrong kinds, bad weights.
    assert!(matches!(
        loss.forward(x.view(), Target::Classes(&[0, 1])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        loss.forward(x.view(), Target::Values(x.view())),
        Err(Error::InvalidTarget { .. })
    ));
    let mut three = NllLoss::new().weight(vec![1.0; 3]).unwrap();
    assert!(matches!(
        three.forward(x.view(), Target::Classes(&[0, 1, 2])),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        NllLoss::new().weight(vec![1.0, f32::NAN]),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(
        NllLoss::new().input_grad(),
        Err(Error::BackwardBeforeForward { .. })
    ));
    assert!(matches!(
        loss.forward(
            Tensor::zeros(vec![3, 4, 2]).view(),
            Target::Classes(&[0, 1, 2])
        ),
        Err(Error::ShapeMismatch { .. })
    ));
}
