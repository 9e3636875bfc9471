//! The initializers: fans and gains as PyTorch's `torch.nn.init`, spreads that match their
//! formulas, same seed same weights, and errors for bad arguments.

use lazarus_core::init::*;
use lazarus_core::{Error, Tensor};
use rand::{SeedableRng, rngs::StdRng};

fn std_of(t: &Tensor) -> f32 {
    let n = t.len() as f32;
    let mean = t.sum() / n;
    (t.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt()
}

#[test]
fn fans_follow_pytorch() {
    assert_eq!(fans(&[256, 784]).unwrap(), (784, 256));
    assert_eq!(fans(&[16, 3, 5, 5]).unwrap(), (75, 400));
    assert!(matches!(fans(&[5]), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn gains_match_pytorch_table() {
    assert_eq!(calculate_gain(Nonlinearity::Linear), 1.0);
    assert_eq!(calculate_gain(Nonlinearity::Sigmoid), 1.0);
    assert_eq!(calculate_gain(Nonlinearity::Selu), 0.75);
    // PReLU at its init slope 0.25: √(2 / 1.0625).
    let g = calculate_gain(Nonlinearity::LeakyRelu(Some(0.25)));
    assert!((g - (2.0f32 / 1.0625).sqrt()).abs() < 1e-7);
}

#[test]
fn spreads_match_their_formulas() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut w = Tensor::zeros(vec![400, 500]);
    kaiming_normal(&mut w, FanMode::FanIn, Nonlinearity::Relu, &mut rng).unwrap();
    assert!((std_of(&w) / (2.0f32 / 500.0).sqrt() - 1.0).abs() < 0.01);
    kaiming_normal(&mut w, FanMode::FanOut, Nonlinearity::Relu, &mut rng).unwrap();
    assert!((std_of(&w) / (2.0f32 / 400.0).sqrt() - 1.0).abs() < 0.01);
    xavier_uniform(&mut w, 1.0, &mut rng).unwrap();
    // U(-b, b) has std b/√3.
    let b = (6.0f32 / 900.0).sqrt();
    assert!((std_of(&w) / (b / 3f32.sqrt()) - 1.0).abs() < 0.01);
    xavier_normal(&mut w, 2.0, &mut rng).unwrap();
    assert!((std_of(&w) / (2.0 * (2.0f32 / 900.0).sqrt()) - 1.0).abs() < 0.01);
    lecun_normal(&mut w, &mut rng).unwrap();
    assert!((std_of(&w) / (1.0f32 / 500.0).sqrt() - 1.0).abs() < 0.01);
    kaiming_uniform(
        &mut w,
        FanMode::FanIn,
        Nonlinearity::LeakyRelu(Some(5f32.sqrt())),
        &mut rng,
    )
    .unwrap();
    let bound = 1.0 / 500f32.sqrt();
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!((std_of(&w) / (bound / 3f32.sqrt()) - 1.0).abs() < 0.01);
}

#[test]
fn same_seed_same_weights() {
    let draw = || {
        let mut w = Tensor::zeros(vec![3, 4]);
        kaiming_uniform(
            &mut w,
            FanMode::FanIn,
            Nonlinearity::Relu,
            &mut StdRng::seed_from_u64(7),
        )
        .unwrap();
        w
    };
    assert_eq!(draw(), draw());
}

#[test]
fn bad_arguments_are_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut w = Tensor::zeros(vec![2, 2]);
    assert!(matches!(
        normal(&mut w, 0.0, -1.0, &mut rng),
        Err(Error::InvalidConfig { .. })
    ));
    for (low, high) in [(1.0, 0.0), (-f32::MAX, f32::MAX), (0.0, f32::NAN)] {
        assert!(matches!(
            uniform(&mut w, low, high, &mut rng),
            Err(Error::InvalidConfig { .. })
        ));
    }
    assert!(matches!(
        kaiming_uniform(
            &mut Tensor::zeros(vec![0, 3]),
            FanMode::FanOut,
            Nonlinearity::Relu,
            &mut rng
        ),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn printed_spreads_are_what_the_fills_draw() {
    // A 256×784 weight: fan_in 784, fan_out 256.
    let gain = calculate_gain(Nonlinearity::Relu);
    assert_eq!(
        kaiming_normal_std(784, gain).unwrap(),
        gain / 28.0,
        "gain / √fan_in"
    );
    let mut w = Tensor::zeros(vec![256, 784]);
    let bound = kaiming_uniform_bound(784, gain).unwrap();
    kaiming_uniform(
        &mut w,
        FanMode::FanIn,
        Nonlinearity::Relu,
        &mut StdRng::seed_from_u64(0),
    )
    .unwrap();
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(w.iter().any(|v| v.abs() > 0.99 * bound));
    let bound = xavier_uniform_bound(784, 256, 1.0).unwrap();
    xavier_uniform(&mut w, 1.0, &mut StdRng::seed_from_u64(0)).unwrap();
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(w.iter().any(|v| v.abs() > 0.99 * bound));
    assert_eq!(
        xavier_normal_std(784, 256, 2.0).unwrap(),
        2.0 * (2.0f32 / 1040.0).sqrt()
    );
    assert_eq!(
        lecun_normal_std(784).unwrap(),
        kaiming_normal_std(784, 1.0).unwrap()
    );
    for err in [
        kaiming_normal_std(0, gain),
        kaiming_uniform_bound(0, gain),
        xavier_normal_std(0, 0, 1.0),
        xavier_uniform_bound(0, 0, 1.0),
        lecun_normal_std(0),
    ] {
        assert!(matches!(err, Err(Error::InvalidConfig { .. })));
    }
}
