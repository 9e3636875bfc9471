//! Every activation and its derivative, drawn from the very functions the layers run.
//!
//! ```sh
//! cargo run --release --example activations                 # plots into lab_out/activations/
//! cargo run --release --example activations -- --out DIR
//! ```
//!
//! What you will see: a table of properties per activation (bounded below/above, smooth,
//! monotonic, mean output for a standard-normal input, the derivative at x = -2, and where the
//! derivative is exactly zero: the dead region), all measured numerically from
//! `lazarus_activations::functional`; and two SVG files: `article.svg` (ReLU, LeakyReLU, PReLU,
//! ELU and their derivatives over [-5, 5]) and `all.svg` (a grid with every activation).

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::Output;
use lazarus::activations::ACTIVATION_NAMES;
use lazarus::activations::functional as f;
use lazarus::train::plot::{Chart, Series, write_svg};

/// Plot every activation and its derivative, and print a table of their properties.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Folder for article.svg and all.svg.
    #[arg(long, default_value = "lab_out/activations")]
    out: PathBuf,
}

/// A scalar function.
type Scalar = Box<dyn Fn(f32) -> f32>;

/// `(f, f')` for an activation name, with PyTorch's default hyper-parameters (RReLU in
/// evaluation mode: the mean slope (1/8 + 1/3)/2).
fn curves(name: &str) -> (Scalar, Scalar) {
    const RRELU_SLOPE: f32 = (1.0 / 8.0 + 1.0 / 3.0) / 2.0;
    match name {
        "relu" => (Box::new(f::relu), Box::new(f::relu_grad)),
        "leaky_relu" => (
            Box::new(|x| f::leaky_relu(x, 0.01)),
            Box::new(|x| f::leaky_relu_grad(x, 0.01)),
        ),
        "prelu" => (
            Box::new(|x| f::prelu(x, 0.25)),
            Box::new(|x| f::prelu_grad(x, 0.25)),
        ),
        "elu" => (
            Box::new(|x| f::elu(x, 1.0)),
            Box::new(|x| f::elu_grad(x, 1.0)),
        ),
        "selu" => (Box::new(f::selu), Box::new(f::selu_grad)),
        "celu" => (
            Box::new(|x| f::celu(x, 1.0)),
            Box::new(|x| f::celu_grad(x, 1.0)),
        ),
        "gelu" => (Box::new(f::gelu), Box::new(f::gelu_grad)),
        "gelu_tanh" => (Box::new(f::gelu_tanh), Box::new(f::gelu_tanh_grad)),
        "silu" => (Box::new(f::silu), Box::new(f::silu_grad)),
        "mish" => (Box::new(f::mish), Box::new(f::mish_grad)),
        "softplus" => (
            Box::new(|x| f::softplus(x, 1.0, 20.0)),
            Box::new(|x| f::softplus_grad(x, 1.0, 20.0)),
        ),
        "sigmoid" => (Box::new(f::sigmoid), Box::new(f::sigmoid_grad)),
        "tanh" => (Box::new(f::tanh), Box::new(f::tanh_grad)),
        "relu6" => (Box::new(f::relu6), Box::new(f::relu6_grad)),
        "hardtanh" => (
            Box::new(|x| f::hardtanh(x, -1.0, 1.0)),
            Box::new(|x| f::hardtanh_grad(x, -1.0, 1.0)),
        ),
        "hardsigmoid" => (Box::new(f::hardsigmoid), Box::new(f::hardsigmoid_grad)),
        "hardswish" => (Box::new(f::hardswish), Box::new(f::hardswish_grad)),
        "log_sigmoid" => (Box::new(f::log_sigmoid), Box::new(f::log_sigmoid_grad)),
        "softsign" => (Box::new(f::softsign), Box::new(f::softsign_grad)),
        "rrelu" => (
            Box::new(|x| f::rrelu(x, RRELU_SLOPE)),
            Box::new(|x| f::rrelu_grad(x, RRELU_SLOPE)),
        ),
        other => unreachable!("{other} is in ACTIVATION_NAMES but has no curve here"),
    }
}

/// Points `(x, g(x))` for x on a grid of `n` steps over `[lo, hi]`.
fn sample(g: &dyn Fn(f32) -> f32, lo: f64, hi: f64, n: usize) -> Vec<(f64, f64)> {
    (0..=n)
        .map(|i| {
            let x = lo + (hi - lo) * i as f64 / n as f64;
            (x, f64::from(g(x as f32)))
        })
        .collect()
}

/// The properties the table prints, measured numerically.
struct Properties {
    bounded_below: bool,
    bounded_above: bool,
    smooth: bool,
    monotonic: bool,
    normal_mean: f64,
    grad_at_minus_2: f64,
    dead_region: String,
}

fn properties(value: &dyn Fn(f32) -> f32, grad: &dyn Fn(f32) -> f32) -> Properties {
    // Bounded: the value stops changing far out (unbounded ones keep growing, even LeakyReLU's
    // slope of 0.01 moves it by 90 between -1e3 and -1e4).
    let bounded_below = value(-1e4) - value(-1e3) > -1.0;
    let bounded_above = value(1e4) - value(1e3) < 1.0;
    // Smooth (continuously differentiable): no jump in f' between neighbours 1e-3 apart.
    let fine = sample(grad, -10.0, 10.0, 20_000);
    let smooth = fine.windows(2).all(|w| (w[1].1 - w[0].1).abs() < 0.05);
    let monotonic = sample(value, -10.0, 10.0, 20_000)
        .windows(2)
        .all(|w| w[1].1 >= w[0].1 - 1e-7);
    // E[f(Z)] for Z ~ N(0, 1), by the midpoint rule on [-8, 8].
    let n = 16_000;
    let h = 16.0 / n as f64;
    let normal_mean = (0..n)
        .map(|i| {
            let z = -8.0 + (i as f64 + 0.5) * h;
            f64::from(value(z as f32)) * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
                * h
        })
        .sum();
    // Where the derivative is exactly zero, as intervals of the grid on [-10, 10]. A true dead
    // region starts with a jump in f' (ReLU: from 1 to 0); a run that f' fades into smoothly is
    // only f32 rounding a tiny derivative (tanh beyond ±9) and is reported as such. Single points
    // (Hardswish's minimum at -1.5) are not regions.
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let mut current: Option<(f64, f64)> = None;
    for &(x, d) in &fine {
        match (d == 0.0, current.as_mut()) {
            (true, Some(run)) => run.1 = x,
            (true, None) => current = Some((x, x)),
            (false, Some(_)) => runs.extend(current.take()),
            (false, None) => {}
        }
    }
    runs.extend(current);
    let step = 20.0 / 20_000.0;
    let jump_at = |x: f64| f64::from(grad(x as f32)).abs() > 1e-3;
    type Runs = Vec<(f64, f64)>;
    let (runs, rounded): (Runs, Runs) = runs
        .into_iter()
        .filter(|(a, b)| b > a)
        .partition(|&(a, b)| (a > -10.0 && jump_at(a - step)) || (b < 10.0 && jump_at(b + step)));
    let dead_region = if runs.is_empty() {
        if rounded.is_empty() {
            "none".to_string()
        } else {
            "none (f32 rounds the tail's tiny f' to 0)".to_string()
        }
    } else {
        runs.iter()
            .map(|&(a, b)| match (a <= -10.0, b >= 10.0) {
                (true, true) => "everywhere".to_string(),
                (true, false) => format!("x <= {b:.0}"),
                (false, true) => format!("x >= {a:.0}"),
                (false, false) => format!("[{a:.1}, {b:.1}]"),
            })
            .collect::<Vec<_>>()
            .join(" and ")
    };
    Properties {
        bounded_below,
        bounded_above,
        smooth,
        monotonic,
        normal_mean,
        grad_at_minus_2: f64::from(grad(-2.0)),
        dead_region,
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = Output::default();
    let yes = |b: bool| if b { "yes" } else { "no" };
    out.line(format_args!(
        "{:<12} {:>8} {:>8} {:>7} {:>10} {:>12} {:>9}  dead region (f' = 0 exactly)",
        "activation", "bounded<", "bounded>", "smooth", "monotonic", "E[f(Z)]", "f'(-2)"
    ));
    let mut grid = Vec::new();
    for name in ACTIVATION_NAMES {
        let (value, grad) = curves(name);
        let p = properties(&value, &grad);
        out.line(format_args!(
            "{:<12} {:>8} {:>8} {:>7} {:>10} {:>12.4} {:>9.4}  {}",
            name,
            yes(p.bounded_below),
            yes(p.bounded_above),
            yes(p.smooth),
            yes(p.monotonic),
            p.normal_mean,
            p.grad_at_minus_2,
            p.dead_region
        ));
        grid.push(Chart {
            title: (*name).into(),
            x_label: "x".into(),
            y_label: String::new(),
            series: vec![
                Series::new("f(x)", sample(&value, -5.0, 5.0, 400)),
                Series::new("f'(x)", sample(&grad, -5.0, 5.0, 400)),
            ],
        });
    }
    out.line(format_args!(
        "\nE[f(Z)] is the mean output for a standard-normal input: ReLU's is far from 0 (about 0.40),\n\
         ELU and SELU pull it towards 0, the \"reduced bias shift\" of the article. f'(-2) is the\n\
         gradient a unit with a negative input passes back: 0 for ReLU (it can die), small for the\n\
         leaky variants (it can recover)."
    ));
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    // The article's four, values and derivatives. LeakyReLU's slope is drawn at 0.1 so that it
    // can be told from ReLU (PyTorch's default, 0.01, is the one in the table).
    let article: [(&str, Scalar, Scalar); 4] = [
        ("ReLU", Box::new(f::relu), Box::new(f::relu_grad)),
        (
            "LeakyReLU (slope 0.1 here; default 0.01)",
            Box::new(|x| f::leaky_relu(x, 0.1)),
            Box::new(|x| f::leaky_relu_grad(x, 0.1)),
        ),
        (
            "PReLU (alpha 0.25, learned)",
            Box::new(|x| f::prelu(x, 0.25)),
            Box::new(|x| f::prelu_grad(x, 0.25)),
        ),
        (
            "ELU (alpha 1)",
            Box::new(|x| f::elu(x, 1.0)),
            Box::new(|x| f::elu_grad(x, 1.0)),
        ),
    ];
    let values = Chart {
        title: "The article's four: f(x)".into(),
        x_label: "x".into(),
        y_label: "f(x)".into(),
        series: article
            .iter()
            .map(|(n, v, _)| Series::new(*n, sample(v, -5.0, 5.0, 400)))
            .collect(),
    };
    let derivatives = Chart {
        title: "Their derivatives: ReLU's is 0 for every x <= 0".into(),
        x_label: "x".into(),
        y_label: "f'(x)".into(),
        series: article
            .iter()
            .map(|(n, _, d)| Series::new(*n, sample(d, -5.0, 5.0, 400)))
            .collect(),
    };
    write_svg(args.out.join("article.svg"), &[values, derivatives], 2)?;
    write_svg(args.out.join("all.svg"), &grid, 4)?;
    out.line(format_args!(
        "\nPlots: {}/{{article,all}}.svg",
        args.out.display()
    ));
    Ok(out.finish()?)
}

fn main() -> ExitCode {
    common::main_with_args(|args: Args| run(&args))
}
