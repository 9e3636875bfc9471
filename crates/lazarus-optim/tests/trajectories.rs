//! 10-step trajectories on f(w) = ½ Σ aᵢwᵢ² + Σ bᵢwᵢ for every optimizer and option:
//! (1) against a second, straightforward f64 implementation of PyTorch's documented update
//! written here (independent of the crate's code), within 1e-5 relative;
//! (2) against literal trajectories produced by running PyTorch 2.15 (float32, CPU).

mod common;

use common::{A, B, W0, assert_close, sgd_nesterov_wd, trajectory};
use lazarus_optim::{
    Adadelta, AdadeltaConfig, Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, GroupedOptimizer,
    RmsProp, RmsPropConfig, Sgd, SgdConfig, UpdateRule,
};

const STEPS: usize = 10;

/// Each variant's trajectory against `reference`, the reference loop run with its settings.
fn matches_reference<R: UpdateRule>(
    optimizer: &str,
    variants: Vec<(&str, GroupedOptimizer<R>)>,
    reference: impl Fn(R) -> Vec<Vec<f64>>,
) {
    for (name, mut opt) in variants {
        let want = reference(*opt.config());
        assert_close(
            &trajectory(&mut opt, STEPS),
            &want,
            REL,
            &format!("{optimizer} {name}"),
        );
    }
}

/// Run a reference update `step(t, w, g)` (t from 1) on the quadratic in f64.
fn reference(mut step: impl FnMut(u64, &mut [f64; 4], [f64; 4])) -> Vec<Vec<f64>> {
    let mut w = W0.map(f64::from);
    (1..=STEPS as u64)
        .map(|t| {
            let g = std::array::from_fn(|i| f64::from(A[i]) * w[i] + f64::from(B[i]));
            step(t, &mut w, g);
            w.to_vec()
        })
        .collect()
}

fn sign(maximize: bool) -> f64 {
    if maximize { -1.0 } else { 1.0 }
}

fn sgd_reference(c: SgdConfig) -> Vec<Vec<f64>> {
    let mut buf = [0.0f64; 4];
    reference(move |t, w, g| {
        for i in 0..4 {
            let mut d = sign(c.maximize) * g[i] + c.weight_decay * w[i];
            if c.momentum != 0.0 {
                buf[i] = if t == 1 {
                    d
                } else {
                    c.momentum * buf[i] + (1.0 - c.dampening) * d
                };
                d = if c.nesterov {
                    d + c.momentum * buf[i]
                } else {
                    buf[i]
                };
            }
            w[i] -= f64::from(c.lr) * d;
        }
    })
}

fn adam_reference<const DECOUPLED: bool>(c: AdamConfig<DECOUPLED>) -> Vec<Vec<f64>> {
    let (mut m, mut v, mut vmax) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4]);
    let lr = f64::from(c.lr);
    let (b1, b2) = c.betas;
    reference(move |t, w, g| {
        for i in 0..4 {
            let mut g = sign(c.maximize) * g[i];
            if DECOUPLED {
                w[i] *= 1.0 - lr * c.weight_decay;
            } else {
                g += c.weight_decay * w[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            vmax[i] = vmax[i].max(v[i]);
            let m_hat = m[i] / (1.0 - b1.powi(t as i32));
            let v_used = if c.amsgrad { vmax[i] } else { v[i] };
            let v_hat = v_used / (1.0 - b2.powi(t as i32));
            w[i] -= lr * m_hat / (v_hat.sqrt() + c.eps);
        }
    })
}

fn rmsprop_reference(c: RmsPropConfig) -> Vec<Vec<f64>> {
    let (mut v, mut gavg, mut buf) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4]);
    reference(move |_, w, g| {
        for i in 0..4 {
            let g = sign(c.maximize) * g[i] + c.weight_decay * w[i];
            v[i] = c.alpha * v[i] + (1.0 - c.alpha) * g * g;
            let mut var = v[i];
            if c.centered {
                gavg[i] = c.alpha * gavg[i] + (1.0 - c.alpha) * g;
                var -= gavg[i] * gavg[i];
            }
            let d = var.sqrt() + c.eps;
            if c.momentum > 0.0 {
                buf[i] = c.momentum * buf[i] + g / d;
                w[i] -= f64::from(c.lr) * buf[i];
            } else {
                w[i] -= f64::from(c.lr) * g / d;
            }
        }
    })
}

fn adagrad_reference(c: AdagradConfig) -> Vec<Vec<f64>> {
    let mut sum = [c.initial_accumulator_value; 4];
    reference(move |t, w, g| {
        let clr = f64::from(c.lr) / (1.0 + (t - 1) as f64 * c.lr_decay);
        for i in 0..4 {
            let g = sign(c.maximize) * g[i] + c.weight_decay * w[i];
            sum[i] += g * g;
            w[i] -= clr * g / (sum[i].sqrt() + c.eps);
        }
    })
}

fn adadelta_reference(c: AdadeltaConfig) -> Vec<Vec<f64>> {
    let (mut v, mut u) = ([0.0f64; 4], [0.0f64; 4]);
    reference(move |_, w, g| {
        for i in 0..4 {
            let g = sign(c.maximize) * g[i] + c.weight_decay * w[i];
            v[i] = c.rho * v[i] + (1.0 - c.rho) * g * g;
            let delta = (u[i] + c.eps).sqrt() / (v[i] + c.eps).sqrt() * g;
            u[i] = c.rho * u[i] + (1.0 - c.rho) * delta * delta;
            w[i] -= f64::from(c.lr) * delta;
        }
    })
}

const REL: f64 = 1e-5;

#[test]
fn sgd_every_option_matches_the_reference_loop() {
    let variants: Vec<(&str, Sgd)> = vec![
        ("plain", Sgd::new(0.1).unwrap()),
        ("momentum", Sgd::new(0.1).unwrap().momentum(0.9).unwrap()),
        (
            "dampening",
            Sgd::new(0.1)
                .unwrap()
                .momentum(0.9)
                .unwrap()
                .dampening(0.3)
                .unwrap(),
        ),
        (
            "nesterov",
            Sgd::new(0.05)
                .unwrap()
                .momentum(0.8)
                .unwrap()
                .nesterov(true)
                .unwrap(),
        ),
        (
            "weight_decay",
            Sgd::new(0.1).unwrap().weight_decay(0.1).unwrap(),
        ),
        (
            "momentum+weight_decay",
            Sgd::new(0.1)
                .unwrap()
                .momentum(0.5)
                .unwrap()
                .weight_decay(0.05)
                .unwrap(),
        ),
        (
            "maximize",
            Sgd::new(0.01)
                .unwrap()
                .momentum(0.9)
                .unwrap()
                .maximize(true),
        ),
    ];
    matches_reference("SGD", variants, sgd_reference);
}

#[test]
fn adam_and_adamw_every_option_match_the_reference_loop() {
    let adam: Vec<(&str, Adam)> = vec![
        ("default", Adam::new(0.1).unwrap()),
        (
            "weight_decay",
            Adam::new(0.1).unwrap().weight_decay(0.1).unwrap(),
        ),
        ("amsgrad", Adam::new(0.1).unwrap().amsgrad(true)),
        (
            "betas+eps",
            Adam::new(0.05)
                .unwrap()
                .betas((0.5, 0.9))
                .unwrap()
                .eps(1e-3)
                .unwrap(),
        ),
        ("maximize", Adam::new(0.01).unwrap().maximize(true)),
    ];
    matches_reference("Adam", adam, adam_reference);
    let adamw: Vec<(&str, AdamW)> = vec![
        ("default", AdamW::new(0.1).unwrap()),
        (
            "strong decay",
            AdamW::new(0.1).unwrap().weight_decay(0.5).unwrap(),
        ),
        ("amsgrad", AdamW::new(0.1).unwrap().amsgrad(true)),
        (
            "betas",
            AdamW::new(0.1).unwrap().betas((0.8, 0.99)).unwrap(),
        ),
    ];
    matches_reference("AdamW", adamw, adam_reference);
}

#[test]
fn rmsprop_every_option_matches_the_reference_loop() {
    let variants: Vec<(&str, RmsProp)> = vec![
        ("default", RmsProp::new(0.01).unwrap()),
        ("alpha", RmsProp::new(0.01).unwrap().alpha(0.9).unwrap()),
        (
            "momentum",
            RmsProp::new(0.01).unwrap().momentum(0.9).unwrap(),
        ),
        ("centered", RmsProp::new(0.01).unwrap().centered(true)),
        (
            "centered+momentum+wd",
            RmsProp::new(0.01)
                .unwrap()
                .centered(true)
                .momentum(0.5)
                .unwrap()
                .weight_decay(0.1)
                .unwrap(),
        ),
        (
            "eps+maximize",
            RmsProp::new(0.01)
                .unwrap()
                .eps(1e-2)
                .unwrap()
                .maximize(true),
        ),
    ];
    matches_reference("RMSprop", variants, rmsprop_reference);
}

#[test]
fn adagrad_every_option_matches_the_reference_loop() {
    let variants: Vec<(&str, Adagrad)> = vec![
        ("default", Adagrad::new(0.1).unwrap()),
        (
            "lr_decay",
            Adagrad::new(0.1).unwrap().lr_decay(0.1).unwrap(),
        ),
        (
            "initial_accumulator_value",
            Adagrad::new(0.1)
                .unwrap()
                .initial_accumulator_value(0.5)
                .unwrap(),
        ),
        (
            "weight_decay+eps",
            Adagrad::new(0.1)
                .unwrap()
                .weight_decay(0.1)
                .unwrap()
                .eps(1e-3)
                .unwrap(),
        ),
        ("maximize", Adagrad::new(0.01).unwrap().maximize(true)),
    ];
    matches_reference("Adagrad", variants, adagrad_reference);
}

#[test]
fn adadelta_every_option_matches_the_reference_loop() {
    let variants: Vec<(&str, Adadelta)> = vec![
        ("default", Adadelta::default_lr().unwrap()),
        ("rho", Adadelta::new(1.0).unwrap().rho(0.5).unwrap()),
        ("lr+eps", Adadelta::new(0.5).unwrap().eps(1e-3).unwrap()),
        (
            "weight_decay",
            Adadelta::new(1.0).unwrap().weight_decay(0.1).unwrap(),
        ),
        ("maximize", Adadelta::new(1.0).unwrap().maximize(true)),
    ];
    matches_reference("Adadelta", variants, adadelta_reference);
}

// ---------------------------------------------------------------------------------------------
// PyTorch literals. Produced by (torch 2.15.0, CPU, float32):
//
// import torch
// a = torch.tensor([1.0, 2.0, 0.5, 3.0]); b = torch.tensor([-1.0, 0.5, 2.0, -0.25])
// def run(make, steps=10):
//     w = torch.tensor([1.5, -2.0, 0.75, 1.0], requires_grad=True)
//     opt = make([w])
//     out = []
//     for _ in range(steps):
//         w.grad = a * w.detach() + b
//         opt.step()
//         out.append(w.detach().tolist())
//     return out
// print(run(<make>))     # <make> given above each constant
// ---------------------------------------------------------------------------------------------

/// PyTorch agrees to the last bits except where its vectorised kernels use fused multiply-adds.
const PYTORCH_REL: f64 = 2e-6;

fn literal(rows: &[[f64; 4]]) -> Vec<Vec<f64>> {
    rows.iter().map(|r| r.to_vec()).collect()
}

// lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
const TORCH_SGD_NESTEROV_WD: [[f64; 4]; 10] = [
    [
        1.40215003490448,
        -1.3312000036239624,
        0.2973250448703766,
        0.475600004196167,
    ],
    [
        1.2813624143600464,
        -0.6326947212219238,
        -0.3044683039188385,
        0.027544349431991577,
    ],
    [
        1.1542155742645264,
        -0.05322793871164322,
        -1.002932071685791,
        -0.23761826753616333,
    ],
    [
        1.0347652435302734,
        0.32416537404060364,
        -1.748340368270874,
        -0.3079089820384979,
    ],
    [
        0.933606743812561,
        0.4803916811943054,
        -2.495828151702881,
        -0.23444826900959015,
    ],
    [
        0.8574651479721069,
        0.4461752772331238,
        -3.20697021484375,
        -0.09266519546508789,
    ],
    [
        0.8092550039291382,
        0.28188902139663696,
        -3.8508012294769287,
        0.04942275583744049,
    ],
    [
        0.7885134220123291,
        0.05709107965230942,
        -4.404306411743164,
        0.1489340364933014,
    ],
    [
        0.7920915484428406,
        -0.16603641211986542,
        -4.85243558883667,
        0.19170743227005005,
    ],
    [
        0.8149853348731995,
        -0.34311407804489136,
        -5.187708377838135,
        0.18591223657131195,
    ],
];

// lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)
const TORCH_SGD_DAMPENING: [[f64; 4]; 10] = [
    [
        1.4500000476837158,
        -1.649999976158142,
        0.512499988079071,
        0.7250000238418579,
    ],
    [
        1.3825000524520874,
        -1.1950000524520874,
        0.18593747913837433,
        0.3812500238418579,
    ],
    [
        1.302625060081482,
        -0.6910000443458557,
        -0.2126171886920929,
        0.027187509462237358,
    ],
    [
        1.2156063318252563,
        -0.1933000683784485,
        -0.6660009026527405,
        -0.2830468714237213,
    ],
    [
        1.126509189605713,
        0.24895991384983063,
        -1.1573961973190308,
        -0.5073007941246033,
    ],
    [
        1.0399962663650513,
        0.5970979332923889,
        -1.6707171201705933,
        -0.6205341815948486,
    ],
    [
        0.9601348042488098,
        0.8257123231887817,
        -2.1909379959106445,
        -0.6168640851974487,
    ],
    [
        0.8902527689933777,
        0.9238940477371216,
        -2.7043633460998535,
        -0.508531391620636,
    ],
    [
        0.8328462839126587,
        0.8948681950569153,
        -3.1988370418548584,
        -0.3222522735595703,
    ],
    [
        0.7895381450653076,
        0.7542580962181091,
        -3.6638925075531006,
        -0.09376320242881775,
    ],
];

// lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01, amsgrad=True)
const TORCH_ADAM_AMSGRAD_WD: [[f64; 4]; 10] = [
    [
        1.399999976158142,
        -1.899999976158142,
        0.6499999761581421,
        0.9000000357627869,
    ],
    [
        1.3011493682861328,
        -1.8001962900161743,
        0.5500622391700745,
        0.8004661202430725,
    ],
    [
        1.2047027349472046,
        -1.700737714767456,
        0.4502300024032593,
        0.7018032073974609,
    ],
    [
        1.1124365329742432,
        -1.6017874479293823,
        0.35054779052734375,
        0.6045028567314148,
    ],
    [
        1.026723861694336,
        -1.5035240650177002,
        0.2510612905025482,
        0.5091555714607239,
    ],
    [
        0.9504347443580627,
        -1.406141757965088,
        0.1518172323703766,
        0.4164606034755707,
    ],
    [
        0.8865249752998352,
        -1.3098512887954712,
        0.05286335200071335,
        0.3272290825843811,
    ],
    [
        0.8373457789421082,
        -1.2148796319961548,
        -0.04575171321630478,
        0.24237611889839172,
    ],
    [
        0.8040110468864441,
        -1.1214702129364014,
        -0.1439785659313202,
        0.16289633512496948,
    ],
    [
        0.7862191200256348,
        -1.0298821926116943,
        -0.24176710844039917,
        0.08981875330209732,
    ],
];

// lambda p: torch.optim.AdamW(p, lr=0.1)
const TORCH_ADAMW: [[f64; 4]; 10] = [
    [
        1.3984999656677246,
        -1.8980000019073486,
        0.6492500305175781,
        0.8990000486373901,
    ],
    [
        1.298318862915039,
        -1.7963035106658936,
        0.5486624240875244,
        0.7985739707946777,
    ],
    [
        1.2008044719696045,
        -1.6950628757476807,
        0.4482797384262085,
        0.6991325616836548,
    ],
    [
        1.1078815460205078,
        -1.5944454669952393,
        0.34814560413360596,
        0.6011740565299988,
    ],
    [
        1.0221260786056519,
        -1.4946340322494507,
        0.24830472469329834,
        0.5052969455718994,
    ],
    [
        0.9466207027435303,
        -1.3958276510238647,
        0.14880266785621643,
        0.41220927238464355,
    ],
    [
        0.8844398856163025,
        -1.2982419729232788,
        0.04968584328889847,
        0.3227314352989197,
    ],
    [
        0.8378521800041199,
        -1.2021093368530273,
        -0.04899865761399269,
        0.23778706789016724,
    ],
    [
        0.8076856732368469,
        -1.1076785326004028,
        -0.14720308780670166,
        0.15837708115577698,
    ],
    [
        0.7932707667350769,
        -1.015214204788208,
        -0.24487918615341187,
        0.08553216606378555,
    ],
];

// lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)
const TORCH_RMSPROP_CENTERED_MOMENTUM_WD: [[f64; 4]; 10] = [
    [
        1.3994961977005005,
        -1.8994961977005005,
        0.6494961977005005,
        0.8994961977005005,
    ],
    [
        1.2456178665161133,
        -1.739574670791626,
        0.48821768164634705,
        0.7416861653327942,
    ],
    [
        1.0699578523635864,
        -1.5418907403945923,
        0.2859916388988495,
        0.551387369632721,
    ],
    [
        0.9002456068992615,
        -1.321222186088562,
        0.055570006370544434,
        0.3473201394081116,
    ],
    [
        0.7605000138282776,
        -1.0888246297836304,
        -0.19395121932029724,
        0.1453086882829666,
    ],
    [
        0.6662454009056091,
        -0.8538094758987427,
        -0.4557223320007324,
        -0.04084523394703865,
    ],
    [
        0.6220568418502808,
        -0.6238194108009338,
        -0.7244161367416382,
        -0.19974519312381744,
    ],
    [
        0.6243164539337158,
        -0.405362606048584,
        -0.99580317735672,
        -0.32339149713516235,
    ],
    [
        0.6650597453117371,
        -0.2039409875869751,
        -1.2664791345596313,
        -0.40785470604896545,
    ],
    [
        0.7344399094581604,
        -0.02404393069446087,
        -1.5336792469024658,
        -0.4530336558818817,
    ],
];

// lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01)
const TORCH_ADAGRAD: [[f64; 4]; 10] = [
    [
        1.4147828817367554,
        -1.9004011154174805,
        0.6508693695068359,
        0.9006499648094177,
    ],
    [
        1.3574771881103516,
        -1.8326133489608765,
        0.5819230079650879,
        0.8349970579147339,
    ],
    [
        1.3135844469070435,
        -1.7788059711456299,
        0.5264711380004883,
        0.7839515209197998,
    ],
    [
        1.2779779434204102,
        -1.733327865600586,
        0.4791214168071747,
        0.7415615916252136,
    ],
    [
        1.2481441497802734,
        -1.693542242050171,
        0.4373360276222229,
        0.7050693035125732,
    ],
    [
        1.2226253747940063,
        -1.6579675674438477,
        0.3996817469596863,
        0.6729303598403931,
    ],
    [
        1.2004834413528442,
        -1.6256728172302246,
        0.3652549386024475,
        0.6441760659217834,
    ],
    [
        1.18107008934021,
        -1.5960274934768677,
        0.3334420323371887,
        0.6181508898735046,
    ],
    [
        1.163913607597351,
        -1.5685806274414062,
        0.30380362272262573,
        0.5943862795829773,
    ],
    [
        1.1486570835113525,
        -1.5429964065551758,
        0.2760119140148163,
        0.5725330710411072,
    ],
];

// lambda p: torch.optim.Adadelta(p, weight_decay=0.01)
const TORCH_ADADELTA_WD: [[f64; 4]; 10] = [
    [
        1.4968377351760864,
        -1.9968377351760864,
        0.7468377351760864,
        0.9968377351760864,
    ],
    [
        1.493602991104126,
        -1.993596076965332,
        0.7435943484306335,
        0.9935986399650574,
    ],
    [
        1.4903252124786377,
        -1.9903019666671753,
        0.7402960658073425,
        0.990310549736023,
    ],
    [
        1.4870191812515259,
        -1.9869685173034668,
        0.7369557023048401,
        0.986987292766571,
    ],
    [
        1.4836937189102173,
        -1.9836037158966064,
        0.7335808277130127,
        0.9836371541023254,
    ],
    [
        1.4803546667099,
        -1.980212688446045,
        0.7301765084266663,
        0.9802654981613159,
    ],
    [
        1.4770063161849976,
        -1.9767991304397583,
        0.7267462611198425,
        0.9768762588500977,
    ],
    [
        1.473651647567749,
        -1.9733657836914062,
        0.7232927083969116,
        0.9734722971916199,
    ],
    [
        1.4702931642532349,
        -1.9699146747589111,
        0.7198178172111511,
        0.9700558185577393,
    ],
    [
        1.4669328927993774,
        -1.9664475917816162,
        0.71632319688797,
        0.9666286110877991,
    ],
];

#[test]
fn pytorch_sgd_literals() {
    let mut opt = sgd_nesterov_wd(0.1);
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_SGD_NESTEROV_WD),
        PYTORCH_REL,
        "SGD nesterov",
    );
    let mut opt = Sgd::new(0.1)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .dampening(0.5)
        .unwrap();
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_SGD_DAMPENING),
        PYTORCH_REL,
        "SGD dampening",
    );
}

#[test]
fn pytorch_adam_and_adamw_literals() {
    let mut opt = Adam::new(0.1)
        .unwrap()
        .weight_decay(0.01)
        .unwrap()
        .amsgrad(true);
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_ADAM_AMSGRAD_WD),
        PYTORCH_REL,
        "Adam",
    );
    let mut opt = AdamW::new(0.1).unwrap();
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_ADAMW),
        PYTORCH_REL,
        "AdamW",
    );
}

#[test]
fn pytorch_rmsprop_adagrad_adadelta_literals() {
    let mut opt = RmsProp::new(0.01)
        .unwrap()
        .momentum(0.9)
        .unwrap()
        .centered(true)
        .weight_decay(0.01)
        .unwrap();
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_RMSPROP_CENTERED_MOMENTUM_WD),
        PYTORCH_REL,
        "RMSprop",
    );
    let mut opt = Adagrad::new(0.1)
        .unwrap()
        .lr_decay(0.01)
        .unwrap()
        .initial_accumulator_value(0.1)
        .unwrap()
        .weight_decay(0.01)
        .unwrap();
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_ADAGRAD),
        PYTORCH_REL,
        "Adagrad",
    );
    let mut opt = Adadelta::default_lr().unwrap().weight_decay(0.01).unwrap();
    assert_close(
        &trajectory(&mut opt, STEPS),
        &literal(&TORCH_ADADELTA_WD),
        PYTORCH_REL,
        "Adadelta",
    );
}
