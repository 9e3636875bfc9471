//! The losses: the finite-difference check of each gradient, PyTorch's values, stability at
//! extreme logits, and errors for bad targets and settings.

use lazarus_core::gradcheck::{GradCheck, random_input};
use lazarus_core::loss::{
    BceWithLogitsLoss, CrossEntropyLoss, HuberLoss, Loss, MseLoss, Reduction, Target,
};
use lazarus_core::{Error, Tensor};
use ndarray::{Axis, array};
use rand::{SeedableRng, rngs::StdRng};

/// `loss`'s gradient with respect to `x` passes the finite-difference check.
fn assert_gradcheck(loss: &mut dyn Loss, x: &Tensor, target: Target<'_>) {
    let report = GradCheck::default().check_loss(loss, x, target).unwrap();
    assert!(report.passed(), "{report}");
}

// MSE
#[test]
fn gradcheck_mse() {
    let mut rng = StdRng::seed_from_u64(0);
    let x = random_input(&[3, 4], &mut rng);
    let t = random_input(&[3, 4], &mut rng);
    for reduction in [Reduction::Mean, Reduction::Sum] {
        let mut loss = MseLoss::new().reduction(reduction);
        assert_gradcheck(&mut loss, &x, Target::Values(t.view()));
    }
}

#[test]
fn wrong_target_shape_is_an_error() {
    let mut loss = MseLoss::new();
    let x = Tensor::zeros(vec![3, 4]);
    let t = Tensor::zeros(vec![4, 3]);
    assert!(matches!(
        loss.forward(x.view(), Target::Values(t.view())),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        loss.forward(x.view(), Target::Classes(&[0, 1, 2])),
        Err(Error::InvalidTarget { .. })
    ));
    assert!(matches!(
        MseLoss::new().input_grad(),
        Err(Error::BackwardBeforeForward { .. })
    ));
}

// Huber
#[test]
fn gradcheck_huber_both_regions() {
    let mut rng = StdRng::seed_from_u64(1);
    let x = random_input(&[4, 5], &mut rng) * 2.0;
    let t = random_input(&[4, 5], &mut rng);
    let mut loss = HuberLoss::new(0.7).unwrap();
    assert_gradcheck(&mut loss, &x, Target::Values(t.view()));
}

#[test]
fn matches_pytorch() {
    // torch 2.15: F.huber_loss(torch.tensor([-2., .3, 1.5]), torch.zeros(3), delta=1.0)
    //   -> 0.8483333587646484; x.grad -> [-0.3333333432674408, 0.10000000894069672, 0.3333333432674408]
    let mut loss = HuberLoss::new(1.0).unwrap();
    let x = array![-2.0f32, 0.3, 1.5].into_dyn();
    let l = loss
        .forward(
            x.view(),
            Target::Values(array![0.0f32, 0.0, 0.0].into_dyn().view()),
        )
        .unwrap();
    approx::assert_abs_diff_eq!(l, 0.848_333_3, epsilon = 1e-6);
    let expected = array![-1.0f32 / 3.0, 0.1, 1.0 / 3.0].into_dyn();
    approx::assert_abs_diff_eq!(
        loss.input_grad().unwrap().to_owned(),
        expected,
        epsilon = 1e-6
    );
    assert!(matches!(
        HuberLoss::new(0.0),
        Err(Error::InvalidConfig { .. })
    ));
}

// BCE with logits
#[test]
fn gradcheck_bce() {
    let mut rng = StdRng::seed_from_u64(2);
    let x = random_input(&[3, 4], &mut rng) * 3.0;
    let t = random_input(&[3, 4], &mut rng).mapv(|v| (v + 1.5) / 3.0);
    let mut loss = BceWithLogitsLoss::new();
    assert_gradcheck(&mut loss, &x, Target::Values(t.view()));
}

#[test]
fn matches_pytorch_and_stays_finite() {
    // torch 2.15: F.binary_cross_entropy_with_logits(torch.tensor([-100., -1., 0., 2., 100.]),
    //                 torch.tensor([1., 0., .5, 1., 0.]))  -> 40.22666549682617
    let mut loss = BceWithLogitsLoss::new();
    let x = array![-100.0f32, -1.0, 0.0, 2.0, 100.0].into_dyn();
    let t = array![1.0f32, 0.0, 0.5, 1.0, 0.0].into_dyn();
    let l = loss.forward(x.view(), Target::Values(t.view())).unwrap();
    approx::assert_relative_eq!(l, 40.226_665, max_relative = 1e-6);
    // x.grad -> [-0.2, 0.053788285702466965, 0.0, -0.02384059503674507, 0.2]
    let expected = array![-0.2f32, 0.053_788_3, 0.0, -0.023_840_6, 0.2].into_dyn();
    approx::assert_abs_diff_eq!(
        loss.input_grad().unwrap().to_owned(),
        expected,
        epsilon = 1e-6
    );
}

// Cross-entropy
#[test]
fn gradcheck_classes_smoothing_and_probabilities() {
    let mut rng = StdRng::seed_from_u64(5);
    let x = random_input(&[4, 5], &mut rng) * 2.0;
    for eps in [0.0, 0.1] {
        let mut loss = CrossEntropyLoss::new().label_smoothing(eps).unwrap();
        assert_gradcheck(&mut loss, &x, Target::Classes(&[0, 4, 2, 2]));
    }
    let p = random_input(&[4, 5], &mut rng).mapv(f32::abs);
    let p = &p / &p.sum_axis(Axis(1)).insert_axis(Axis(1));
    let mut loss = CrossEntropyLoss::new().reduction(Reduction::Sum);
    assert_gradcheck(&mut loss, &x, Target::Values(p.view()));
}

#[test]
fn matches_formula_values_and_is_stable() {
    // torch 2.15: F.cross_entropy(torch.tensor([[1., 2., 3.], [1000., 0., -1000.]]),
    //                 torch.tensor([2, 1]), label_smoothing=0.1)  -> 500.2537841796875
    let z = array![[1.0f32, 2.0, 3.0], [1000.0, 0.0, -1000.0]].into_dyn();
    let mut loss = CrossEntropyLoss::new().label_smoothing(0.1).unwrap();
    let l = loss.forward(z.view(), Target::Classes(&[2, 1])).unwrap();
    // Row 0: lse = 3.40760596; -Σq log p with q = [0.0333, 0.0333, 0.9333].
    let lse0 = 3.407_606_f64;
    let row0 = -(0.1 / 3.0 * ((1.0 - lse0) + (2.0 - lse0)) + (0.9 + 0.1 / 3.0) * (3.0 - lse0));
    // Row 1: log p = [0, -1000, -2000].
    let row1 = -(0.1 / 3.0 * (0.0 - 1000.0 - 2000.0) + 0.9 * -1000.0);
    approx::assert_relative_eq!(f64::from(l), (row0 + row1) / 2.0, max_relative = 1e-6);
    approx::assert_relative_eq!(l, 500.253_78, max_relative = 1e-6);
    assert!(loss.input_grad().unwrap().iter().all(|g| g.is_finite()));
}

#[test]
fn target_errors() {
    let mut loss = CrossEntropyLoss::new();
    let z = Tensor::zeros(vec![2, 3]);
    assert!(matches!(
        loss.forward(z.view(), Target::Classes(&[0])),
        Err(Error::ShapeMismatch { .. })
    ));
    let err = loss
        .forward(z.view(), Target::Classes(&[0, 3]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cross_entropy: invalid target: sample 1 has class 3, but there are 3 classes"
    );
    let wrong = Tensor::zeros(vec![2, 4]);
    assert!(matches!(
        loss.forward(z.view(), Target::Values(wrong.view())),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        CrossEntropyLoss::new().label_smoothing(1.5),
        Err(Error::InvalidConfig { .. })
    ));
}
