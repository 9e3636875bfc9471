//! OneCycleLR cycles the optimizer's momentum (SGD, RMSprop) or β₁ (Adam), as PyTorch does:
//! 10-step trajectories on the quadratic f(w) = ½ Σ aᵢwᵢ² + Σ bᵢwᵢ of the other tests, against
//! PyTorch 2.15 (float32, CPU): the lr and momentum each step used, and w after it.

mod common;

use common::{Values, quadratic, set_quadratic_grad};
use lazarus_optim::{
    Adadelta, Adagrad, Adam, Error, LrScheduler, OneCycleLr, Optimizer, RmsProp, Sgd,
};

/// The lr and the momentum (or β₁) a step used, and w after it.
type Row = (f64, f64, [f64; 4]);

/// PyTorch agrees to the last bits except where its vectorised kernels use fused multiply-adds.
const PYTORCH_REL: f64 = 2e-6;

/// 10 steps of `opt` under `sched`, driven as a training loop does (and as PyTorch's
/// OneCycleLR does by itself): the schedule's lr and momentum given to the optimizer at the
/// start and after every step.
fn run(mut opt: impl Optimizer, mut sched: OneCycleLr) -> Vec<Row> {
    let mut model = quadratic();
    opt.set_lr(sched.lr());
    opt.set_momentum(sched.momentum().unwrap()).unwrap();
    (0..10)
        .map(|_| {
            let used = (f64::from(opt.lr()), opt.cycled_momentum().unwrap());
            set_quadratic_grad(&mut model);
            opt.step(&mut model).unwrap();
            opt.set_lr(sched.step(None));
            opt.set_momentum(sched.momentum().unwrap()).unwrap();
            let w = model.values().remove(0);
            (used.0, used.1, std::array::from_fn(|i| f64::from(w[i])))
        })
        .collect()
}

/// The lr within an `f32` rounding (PyTorch's `max_lr=0.01` is the f64 0.01, ours the f32
/// 0.01), the momentum exactly (the same f64 formula on the same f64 range), w within
/// [`PYTORCH_REL`].
fn assert_matches(got: &[Row], want: &[Row], what: &str) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        let step = t + 1;
        assert!(
            (g.0 - w.0).abs() <= 1.2e-7 * w.0,
            "{what}: lr of step {step}"
        );
        assert_eq!(g.1, w.1, "{what}: momentum of step {step}");
        for i in 0..4 {
            let err = (g.2[i] - w.2[i]).abs();
            assert!(
                err <= PYTORCH_REL * w.2[i].abs() + 1e-7,
                "{what}: step {step}, w[{i}] = {}, expected {}",
                g.2[i],
                w.2[i]
            );
        }
    }
    assert_eq!(got.len(), want.len(), "{what}: steps");
}

fn one_cycle(max_lr: f32) -> OneCycleLr {
    OneCycleLr::new(max_lr, 10).unwrap()
}

#[test]
fn sgd_momentum_cycles_as_in_pytorch() {
    let opt = Sgd::new(0.1).unwrap().momentum(0.9).unwrap();
    assert_matches(&run(opt, one_cycle(0.1)), &TORCH_SGD, "SGD momentum 0.9");
}

#[test]
fn sgd_built_without_momentum_gets_it_as_in_pytorch() {
    // PyTorch turns momentum on (dampening and nesterov untouched): the buffer starts as the
    // first gradient, exactly as for SGD built with momentum.
    let opt = Sgd::new(0.1).unwrap();
    assert_matches(&run(opt, one_cycle(0.1)), &TORCH_SGD, "SGD momentum 0");
}

#[test]
fn adam_beta1_cycles_as_in_pytorch() {
    let opt = Adam::new(0.1).unwrap();
    assert_matches(&run(opt, one_cycle(0.1)), &TORCH_ADAM, "Adam");
}

#[test]
fn rmsprop_built_without_momentum_gets_a_buffer_as_in_pytorch() {
    let opt = RmsProp::new(0.01).unwrap();
    assert_matches(
        &run(opt, one_cycle(0.01)),
        &TORCH_RMSPROP_MOMENTUM_0,
        "RMSprop",
    );
}

#[test]
fn a_momentum_buffer_survives_a_step_at_momentum_0_as_in_pytorch() {
    // base_momentum = 0: the peak step (step 3) runs plain SGD; PyTorch keeps the buffer and
    // step 4 takes it up again (not a fresh one), dampening included.
    let opt = Sgd::new(0.1)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .dampening(0.5)
        .unwrap();
    let sched = one_cycle(0.1).momentum_range(0.0, 0.9).unwrap();
    let got = run(opt, sched);
    assert_eq!(got[2].1, 0.0, "the peak step has momentum 0");
    assert_matches(
        &got,
        &TORCH_SGD_DAMPENING_MOMENTUM_DOWN_TO_0,
        "SGD to momentum 0",
    );
}

#[test]
fn every_group_gets_the_cycled_momentum_as_in_pytorch() {
    // PyTorch writes β₁ into every parameter group, whatever the group said, from the first
    // step on.
    let mut opt = Adam::new(0.1).unwrap();
    opt.group("w").set(|c| c.betas.0 = 0.5).unwrap();
    assert_matches(&run(opt, one_cycle(0.1)), &TORCH_ADAM, "Adam with a group");
}

#[test]
fn adagrad_and_adadelta_have_no_momentum_to_cycle() {
    let mut adagrad = Adagrad::new(0.1).unwrap();
    let mut adadelta = Adadelta::new(1.0).unwrap();
    assert_eq!(adagrad.cycled_momentum(), None);
    assert_eq!(adadelta.cycled_momentum(), None);
    let err = adagrad.set_momentum(0.9).unwrap_err();
    assert_eq!(
        err,
        Error::NoMomentum {
            optimizer: "Adagrad"
        }
    );
    assert!(
        err.to_string()
            .starts_with("Adagrad: has no momentum or betas[0]")
    );
    assert_eq!(
        adadelta.set_momentum(0.9).unwrap_err(),
        Error::NoMomentum {
            optimizer: "Adadelta"
        }
    );
    // Without cycling, the schedule asks for nothing.
    assert_eq!(one_cycle(0.1).cycle_momentum(false).momentum(), None);
}

#[test]
fn an_invalid_momentum_is_reported_by_the_next_step_as_an_invalid_lr_is() {
    let mut model = quadratic();
    let mut opt = Sgd::new(0.1).unwrap();
    opt.set_momentum(1.5).unwrap();
    set_quadratic_grad(&mut model);
    let before = model.values();
    let err = opt.step(&mut model).unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: invalid momentum = 1.5: expected 0 <= momentum < 1"
    );
    assert_eq!(model.values(), before, "nothing updated");
    opt.set_momentum(0.9).unwrap();
    opt.step(&mut model).unwrap();
}

// ---------------------------------------------------------------------------------------------
// PyTorch literals. Produced by (torch 2.15.0, CPU, float32):
//
// import torch
// a = torch.tensor([1.0, 2.0, 0.5, 3.0]); b = torch.tensor([-1.0, 0.5, 2.0, -0.25])
// def run(opt, sched, steps=10):
//     w = torch.tensor([1.5, -2.0, 0.75, 1.0], requires_grad=True)
//     opt = opt([w]); sched = sched(opt)
//     g = opt.param_groups[0]
//     out = []
//     for _ in range(steps):
//         lr, m = g["lr"], g["betas"][0] if "betas" in g else g["momentum"]
//         w.grad = a * w.detach() + b
//         opt.step()
//         sched.step()
//         out.append((lr, m, w.detach().tolist()))
//     return out
// print(run(opt, sched))     # opt, sched given above each constant
// ---------------------------------------------------------------------------------------------

// opt = lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)
// (and the same, to the last bit, for lambda p: torch.optim.SGD(p, lr=0.1): the schedule sets
// momentum 0.95 in the constructor, before the first step, so what SGD was built with is lost)
// sched = lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10)
const TORCH_SGD: [Row; 10] = [
    (
        0.0040000000000000036,
        0.95,
        [
            1.4980000257492065,
            -1.9859999418258667,
            0.7404999732971191,
            0.9890000224113464,
        ],
    ),
    (
        0.052000000000000005,
        0.8999999999999999,
        [
            1.4487040042877197,
            -1.6416559219360352,
            0.5060969591140747,
            0.7190160155296326,
        ],
    ),
    (
        0.1,
        0.85,
        [
            1.3232536315917969,
            -0.8004546761512756,
            -0.1023666262626648,
            0.08699124306440353,
        ],
    ),
    (
        0.09504846320134738,
        0.854951556604879,
        [
            1.1905856132507324,
            -0.012239400297403336,
            -0.7820473313331604,
            -0.4276467561721802,
        ],
    ),
    (
        0.0811745653949763,
        0.8688255099070633,
        [
            1.076674461364746,
            0.5340208411216736,
            -1.4169824123382568,
            -0.6850754618644714,
        ],
    ),
    (
        0.06112620219362893,
        0.8888739533021842,
        [
            0.9957422018051147,
            0.8038069009780884,
            -1.9209157228469849,
            -0.716473400592804,
        ],
    ),
    (
        0.03887419780637107,
        0.9111260466978157,
        [
            0.9490118622779846,
            0.8782013654708862,
            -2.253328800201416,
            -0.6413912177085876,
        ],
    ),
    (
        0.0188258346050237,
        0.9311744900929366,
        [
            0.9288989305496216,
            0.8692705631256104,
            -2.419670343399048,
            -0.5666026473045349,
        ],
    ),
    (
        0.004951936798652629,
        0.945048443395121,
        [
            0.9242512583732605,
            0.8559653759002686,
            -2.464933156967163,
            -0.5383560061454773,
        ],
    ),
    (
        4e-07,
        0.95,
        [
            0.9242509603500366,
            0.8559634685516357,
            -2.4649369716644287,
            -0.5383530855178833,
        ],
    ),
];

// opt = lambda p: torch.optim.Adam(p, lr=0.1)
// sched = lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10)
const TORCH_ADAM: [Row; 10] = [
    (
        0.0040000000000000036,
        0.95,
        [
            1.496000051498413,
            -1.996000051498413,
            0.7459999918937683,
            0.9959999918937683,
        ],
    ),
    (
        0.052000000000000005,
        0.8999999999999999,
        [
            1.456376552581787,
            -1.956333041191101,
            0.7063221335411072,
            0.9563487768173218,
        ],
    ),
    (
        0.1,
        0.85,
        [
            1.38698148727417,
            -1.8859047889709473,
            0.6356489658355713,
            0.8862842321395874,
        ],
    ),
    (
        0.09504846320134738,
        0.854951556604879,
        [
            1.3131903409957886,
            -1.8095002174377441,
            0.5586805939674377,
            0.8107571601867676,
        ],
    ),
    (
        0.0811745653949763,
        0.8688255099070633,
        [
            1.2445712089538574,
            -1.7367411851882935,
            0.48512619733810425,
            0.7393103241920471,
        ],
    ),
    (
        0.06112620219362893,
        0.8888739533021842,
        [
            1.1879528760910034,
            -1.6752338409423828,
            0.4228007197380066,
            0.6792510151863098,
        ],
    ),
    (
        0.03887419780637107,
        0.9111260466978157,
        [
            1.1475648880004883,
            -1.6304513216018677,
            0.37739625573158264,
            0.6356693506240845,
        ],
    ),
    (
        0.0188258346050237,
        0.9311744900929366,
        [
            1.125135064125061,
            -1.6052360534667969,
            0.35186058282852173,
            0.6111454367637634,
        ],
    ),
    (
        0.004951936798652629,
        0.945048443395121,
        [
            1.1184858083724976,
            -1.5977038145065308,
            0.34424906969070435,
            0.6038097739219666,
        ],
    ),
    (
        4e-07,
        0.95,
        [
            1.1184852123260498,
            -1.597703218460083,
            0.3442484438419342,
            0.6038091778755188,
        ],
    ),
];

// opt = lambda p: torch.optim.RMSprop(p, lr=0.01)
// sched = lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=10)
const TORCH_RMSPROP_MOMENTUM_0: [Row; 10] = [
    (
        0.0003999999999999993,
        0.95,
        [
            1.496000051498413,
            -1.996000051498413,
            0.7459999918937683,
            0.9959999918937683,
        ],
    ),
    (
        0.0052,
        0.8999999999999999,
        [
            1.4124858379364014,
            -1.9123802185058594,
            0.6623536348342896,
            0.9124184846878052,
        ],
    ),
    (
        0.01,
        0.85,
        [
            1.2251496315002441,
            -1.7196012735366821,
            0.46829965710639954,
            0.7215444445610046,
        ],
    ),
    (
        0.009504846320134737,
        0.854951556604879,
        [
            1.047390341758728,
            -1.5205490589141846,
            0.26466473937034607,
            0.5296523571014404,
        ],
    ),
    (
        0.008117456539497631,
        0.8688255099070633,
        [
            0.9108874797821045,
            -1.3435158729553223,
            0.0794207826256752,
            0.36596131324768066,
        ],
    ),
    (
        0.0061126202193628925,
        0.8888739533021842,
        [
            0.8260356187820435,
            -1.2067826986312866,
            -0.06748712807893753,
            0.24632486701011658,
        ],
    ),
    (
        0.003887419780637108,
        0.9111260466978157,
        [
            0.7848259806632996,
            -1.1176878213882446,
            -0.16588391363620758,
            0.17330652475357056,
        ],
    ),
    (
        0.00188258346050237,
        0.9311744900929366,
        [
            0.770885169506073,
            -1.0732684135437012,
            -0.21622803807258606,
            0.13938772678375244,
        ],
    ),
    (
        0.0004951936798652628,
        0.945048443395121,
        [
            0.7686832547187805,
            -1.0611859560012817,
            -0.2302291840314865,
            0.13079281151294708,
        ],
    ),
    (
        4e-08,
        0.95,
        [
            0.7686831951141357,
            -1.0611850023269653,
            -0.23023037612438202,
            0.13079214096069336,
        ],
    ),
];

// opt = lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)
// sched = lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, base_momentum=0.0, max_momentum=0.9)
const TORCH_SGD_DAMPENING_MOMENTUM_DOWN_TO_0: [Row; 10] = [
    (
        0.0040000000000000036,
        0.9,
        [
            1.4980000257492065,
            -1.9859999418258667,
            0.7404999732971191,
            0.9890000224113464,
        ],
    ),
    (
        0.052000000000000005,
        0.45,
        [
            1.473352074623108,
            -1.8138279914855957,
            0.6232984662055969,
            0.8540080189704895,
        ],
    ),
    (
        0.1,
        0.0,
        [
            1.4260168075561523,
            -1.5010623931884766,
            0.39213353395462036,
            0.6228055953979492,
        ],
    ),
    (
        0.09504846320134738,
        0.04456400944391148,
        [
            1.403762936592102,
            -1.3681262731552124,
            0.2782203257083893,
            0.5348955988883972,
        ],
    ),
    (
        0.0811745653949763,
        0.16942958916356987,
        [
            1.3841551542282104,
            -1.258127212524414,
            0.1749165803194046,
            0.4671920835971832,
        ],
    ),
    (
        0.06112620219362893,
        0.3498655797196586,
        [
            1.3672484159469604,
            -1.1675242185592651,
            0.08390135318040848,
            0.4141594171524048,
        ],
    ),
    (
        0.03887419780637107,
        0.5501344202803415,
        [
            1.3541951179504395,
            -1.1001572608947754,
            0.012368541210889816,
            0.3763141334056854,
        ],
    ),
    (
        0.0188258346050237,
        0.7305704108364302,
        [
            1.346242904663086,
            -1.060318112373352,
            -0.031823642551898956,
            0.35465115308761597,
        ],
    ),
    (
        0.004951936798652629,
        0.8554359905560885,
        [
            1.3435962200164795,
            -1.0473411083221436,
            -0.046680014580488205,
            0.3477613627910614,
        ],
    ),
    (
        4e-07,
        0.9,
        [
            1.3435959815979004,
            -1.0473397970199585,
            -0.046681489795446396,
            0.34776070713996887,
        ],
    ),
];
