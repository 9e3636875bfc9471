//! The HTML report: every section, layer and warning is on the page, the heatmap's data says
//! which unit is dead from which epoch, the page references nothing outside itself, a large run
//! stays under 5 MB, and a run stopped by a non-finite value still gets its report.
//!
//! The page is read with html5gum, a WHATWG-compliant tokenizer, into a small element tree
//! (`Page`, in `common/html.rs`): enough to find elements by attribute and read their text.

mod common;

use common::{Page, SECTIONS};
use lazarus_train::Error;
use lazarus_train::report::{Comparison, RunGroup, render_comparison};
use lazarus_train::report::{
    EpochCurves, EpochValue, GradientNorms, LayerActivity, ParamNorms, ReportData, ReportWarning,
    Setting, SlopeHistory, SlopeValues, UnitKind, UnitState, UpdateRatios, render_report,
    write_report,
};
use rand::{Rng, SeedableRng, rngs::StdRng};

use UnitState::{Active as A, Dead as D, Inactive as I};

/// A tiny run: a ReLU layer of 4 features and a PReLU layer of 3 channels (after a
/// convolution), 3 epochs. ReLU unit 2 is dead by construction from epoch 0 (a bias below any
/// input); unit 1 dies after epoch 1 and a hand-set weight revives it after epoch 2.
fn tiny_run() -> ReportData {
    let mut data = ReportData::new("tiny run <two layers>");
    data.model_summary = "0 linear [4, 2]\n1 relu\n2 conv2d [3, 1, 3, 3]\n3 prelu (3)".into();
    data.settings = vec![
        Setting::new("optimizer", "SGD lr=0.1"),
        Setting::new("note", "\"quoted\" & <b>bold</b>"),
    ];
    data.epochs = (1..=3)
        .map(|epoch| EpochCurves {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_accuracy: Some(0.5 + 0.1 * epoch as f64),
            val_loss: Some(1.2 / epoch as f64),
            val_accuracy: Some(0.45 + 0.1 * epoch as f64),
            lr: 0.1,
        })
        .collect();
    let mut relu = LayerActivity::new("1", "relu", UnitKind::Feature, 4);
    relu.push_probe(0, vec![0.5, 0.25, 0.0, 0.75], vec![A, A, D, A])
        .unwrap();
    relu.push_probe(1, vec![0.5, 0.0, 0.0, 0.75], vec![A, D, D, A])
        .unwrap();
    relu.push_probe(2, vec![0.5, 0.125, 0.0, 0.5], vec![A, A, D, A])
        .unwrap();
    relu.push_probe(3, vec![0.375, 0.25, 0.0, 0.5], vec![A, A, D, A])
        .unwrap();
    let mut prelu = LayerActivity::new("3", "prelu", UnitKind::Channel, 3);
    for epoch in 0..=3 {
        let silent = if epoch >= 2 { I } else { A };
        let fraction = if epoch >= 2 { 0.0 } else { 0.25 };
        prelu
            .push_probe(epoch, vec![0.5, 0.625, fraction], vec![A, A, silent])
            .unwrap();
    }
    data.layers = vec![relu, prelu];
    data.slopes = vec![SlopeHistory {
        param: "3.weight".into(),
        layer: "prelu[3]".into(),
        epochs: (0..=3)
            .map(|epoch| SlopeValues {
                epoch,
                values: vec![0.25, 0.25 + 0.05 * epoch as f32, 0.2],
            })
            .collect(),
    }];
    let steps = 12;
    let norm = |scale: f64| {
        (0..steps)
            .map(|s| scale * (1.0 + s as f64 % 3.0))
            .collect::<Vec<_>>()
    };
    data.gradient_norms = Some(GradientNorms {
        params: vec![
            ParamNorms {
                param: "0.weight".into(),
                norms: norm(1.0),
            },
            ParamNorms {
                param: "3.weight".into(),
                norms: norm(0.1),
            },
        ],
        total: norm(1.005),
        clipped: vec![2, 5, 8, 11],
        max_norm: Some(2.5),
        steps_per_epoch: Some(4),
    });
    data.update_ratios = ["0.weight", "3.weight"]
        .iter()
        .map(|p| UpdateRatios {
            param: p.to_string(),
            epochs: (1..=3)
                .map(|epoch| EpochValue {
                    epoch,
                    value: 1e-3 / epoch as f64,
                })
                .collect(),
        })
        .collect();
    data.warnings = vec![
        ReportWarning::new(
            "born_dead",
            0,
            "relu[1]: 1 of 4 units silent on every probe input",
        )
        .about("relu[1]", Some(0.25)),
        ReportWarning {
            kind: "gradient_spike".into(),
            epoch: 2,
            subject: Some("0.weight".into()),
            value: Some(3.0),
            message: "0.weight: gradient norm 3 > 2 × median <script>alert(1)</script>".into(),
        },
    ];
    data
}

#[test]
fn every_section_layer_chart_and_warning_is_on_the_page() {
    let data = tiny_run();
    let html = render_report(&data).unwrap();
    let page = Page::parse(&html);
    for id in SECTIONS {
        assert_eq!(page.find("section", "id", id).len(), 1, "section #{id}");
    }
    let heatmaps = page.find("section", "id", "heatmaps")[0];
    for layer in &data.layers {
        let svg = page.find("svg", "data-layer", &layer.label());
        assert_eq!(svg.len(), 1, "{}'s heatmap", layer.label());
        assert!(page.is_inside(svg[0], heatmaps));
        let rows = page
            .within(svg[0], "rect")
            .into_iter()
            .filter(|&r| page.attr(r, "class") == "row");
        assert_eq!(
            rows.count(),
            layer.units,
            "one row per unit when nothing is binned"
        );
    }
    let charts = [
        "loss",
        "accuracy",
        "slopes:3.weight",
        "grad-norm:total",
        "grad-norm:0.weight",
        "grad-norm:3.weight",
        "update-ratio",
    ];
    for chart in charts {
        let div = page.find("div", "data-chart", chart);
        assert_eq!(div.len(), 1, "chart {chart}");
        assert_eq!(
            page.within(div[0], "svg").len(),
            1,
            "chart {chart} holds its SVG"
        );
    }
    let rows = page.find("tr", "class", "warning");
    assert_eq!(rows.len(), data.warnings.len());
    for (row, warning) in rows.iter().zip(&data.warnings) {
        let cells: Vec<String> = page
            .within(*row, "td")
            .into_iter()
            .map(|c| page.text(c))
            .collect();
        assert_eq!(cells[0], warning.epoch.to_string());
        assert_eq!(cells[1], warning.kind);
        assert_eq!(&cells[2], warning.subject.as_ref().unwrap());
        assert_eq!(
            cells[4], warning.message,
            "the message, unescaped by the parser: it was text"
        );
    }
    // Text from the data is escaped: it reads back as text, and makes no element.
    assert_eq!(page.find("", "id", "stopped-early").len(), 0);
    assert_eq!(
        page.elements.iter().filter(|e| e.name == "script").count(),
        1,
        "only the page's own script"
    );
    assert!(
        page.elements.iter().all(|e| e.name != "b"),
        "<b> in a setting stays text"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;"),
        "escaped, not dropped"
    );
    let title = page
        .elements
        .iter()
        .position(|e| e.name == "title")
        .unwrap();
    assert_eq!(page.text(title), data.title);
}

#[test]
fn the_heatmap_data_shows_the_unit_dead_from_epoch_0_and_the_revival() {
    let page = Page::parse(&render_report(&tiny_run()).unwrap());
    let row = |layer: &str, unit: &str| {
        let svg = page.find("svg", "data-layer", layer)[0];
        let row = page
            .within(svg, "rect")
            .into_iter()
            .find(|&r| page.attr(r, "data-units") == unit);
        let row = row.unwrap_or_else(|| panic!("{layer} unit {unit} has a row"));
        (
            page.attr(row, "data-states").to_string(),
            page.attr(row, "data-fractions").to_string(),
            page.text(row),
        )
    };
    let (states, fractions, title) = row("relu[1]", "2");
    assert_eq!(
        states, "DDDD",
        "dead by construction: dead at initialization and after"
    );
    assert_eq!(fractions, "0.000 0.000 0.000 0.000");
    assert!(
        title.starts_with("unit 2, went silent at epoch 0."),
        "{title}"
    );
    let (states, fractions, _) = row("relu[1]", "1");
    assert_eq!(states, "ADAA", "dies after epoch 1, revived after epoch 2");
    assert_eq!(fractions, "0.250 0.000 0.125 0.250");
    let (states, _, _) = row("prelu[3]", "2");
    assert_eq!(
        states, "AAII",
        "PReLU's silent channel is inactive, not dead"
    );
    // Units are ordered by the epoch they went silent: 2 (epoch 0), 1 (epoch 1), then the rest.
    let svg = page.find("svg", "data-layer", "relu[1]")[0];
    let order: Vec<&str> = page
        .within(svg, "rect")
        .into_iter()
        .map(|r| page.attr(r, "data-units"))
        .filter(|u| !u.is_empty())
        .collect();
    assert_eq!(
        order,
        ["2", "1", "0", "3"],
        "never-silent units least active first"
    );
    let legend = page.text(page.find("div", "id", "heatmap-legend")[0]);
    assert!(
        legend.contains("Dead")
            && legend.contains("Inactive")
            && legend.contains("no gradient reaches it"),
        "{legend}"
    );
}

#[test]
fn the_page_references_nothing_outside_itself() {
    common::assert_self_contained(&render_report(&tiny_run()).unwrap());
}

/// 4 layers of 1,024 units, 50 epochs, 94,000 steps of 8 parameters: random fractions (the
/// worst case for the heatmaps' runs of one colour), a third of the units dying on the way.
fn large_run() -> ReportData {
    let mut rng = StdRng::seed_from_u64(5);
    let (units, epochs, steps) = (1024, 50, 94_000);
    let mut data = ReportData::new("4 × 1,024 units, 50 epochs");
    data.epochs = (1..=epochs)
        .map(|epoch| EpochCurves {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_accuracy: Some(0.9),
            val_loss: Some(1.1 / epoch as f64),
            val_accuracy: Some(0.88),
            lr: 0.1,
        })
        .collect();
    for l in 0..4 {
        let mut layer =
            LayerActivity::new(format!("{}", 2 * l + 1), "relu", UnitKind::Feature, units);
        let dies: Vec<usize> = (0..units)
            .map(|_| {
                if rng.random_bool(0.3) {
                    rng.random_range(0..=epochs)
                } else {
                    usize::MAX
                }
            })
            .collect();
        for epoch in 0..=epochs {
            let (f, s) = dies
                .iter()
                .map(|&d| {
                    if epoch >= d {
                        (0.0, D)
                    } else {
                        (rng.random_range(0.001..1.0), A)
                    }
                })
                .unzip();
            layer.push_probe(epoch, f, s).unwrap();
        }
        data.layers.push(layer);
    }
    let params = (0..8).map(|p| ParamNorms {
        param: format!("{}.weight", 2 * p),
        norms: (0..steps).map(|_| rng.random_range(0.1..10.0)).collect(),
    });
    let params: Vec<_> = params.collect();
    let total: Vec<f64> = (0..steps)
        .map(|s| {
            params
                .iter()
                .map(|p| p.norms[s].powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    data.gradient_norms = Some(GradientNorms {
        clipped: (0..steps).filter(|&s| total[s] > 16.0).collect(),
        params,
        total,
        max_norm: Some(16.0),
        steps_per_epoch: Some(steps / epochs),
    });
    data.update_ratios = (0..8)
        .map(|p| UpdateRatios {
            param: format!("{}.weight", 2 * p),
            epochs: (1..=epochs)
                .map(|epoch| EpochValue {
                    epoch,
                    value: 1e-3 * rng.random_range(0.5..2.0),
                })
                .collect(),
        })
        .collect();
    data.warnings = (1..=epochs)
        .map(|epoch| ReportWarning::new("dead_units", epoch, "relu[1]: half the units are dead"))
        .collect();
    data
}

#[test]
fn a_large_run_is_binned_and_its_page_stays_under_5_mb() {
    let data = large_run();
    let html = render_report(&data).unwrap();
    assert!(html.len() < 5_000_000, "the page is {} bytes", html.len());
    let page = Page::parse(&html);
    for layer in &data.layers {
        let svg = page.find("svg", "data-layer", &layer.label())[0];
        let rows: Vec<usize> = page
            .within(svg, "rect")
            .into_iter()
            .filter(|&r| page.attr(r, "class") == "row")
            .collect();
        assert_eq!(rows.len(), 256, "1,024 units in 256 rows of 4");
        assert!(
            rows.iter()
                .all(|&r| page.attr(r, "data-units").split(' ').count() == 4)
        );
        assert_eq!(
            page.attr(rows[0], "data-states").len(),
            51,
            "every epoch and initialization"
        );
        let figure = page.find("figure", "data-layer", &layer.label())[0];
        assert!(
            page.text(figure).contains("Binned to fit the screen"),
            "the page says it is binned"
        );
    }
    let gradients = page.text(page.find("section", "id", "gradients")[0]);
    assert!(
        gradients.contains("Downsampled: 94000 steps"),
        "the page says steps are thinned"
    );
    let total = page.find("div", "data-chart", "grad-norm:total")[0];
    let polylines = page.within(total, "polyline").into_iter();
    let points = polylines
        .map(|p| page.attr(p, "points").split_whitespace().count())
        .max()
        .unwrap();
    assert!(
        (500..=1000).contains(&points),
        "{points} points for 94,000 steps"
    );
    let clipped = page.within(total, "circle").len();
    assert!(
        (1..=501).contains(&clipped),
        "{clipped} clipped markers, at most one per bin (and the legend's)"
    );
}

#[test]
fn a_run_stopped_by_a_non_finite_value_still_gets_its_report() {
    let mut data = tiny_run();
    data.epochs[2].train_loss = f64::NAN;
    data.epochs[2].val_loss = Some(f64::INFINITY);
    let norms = data.gradient_norms.as_mut().unwrap();
    norms.total[11] = f64::INFINITY;
    norms.params[0].norms[11] = f64::NAN;
    data.stopped_early = Some(
        "non-finite loss (NaN) at epoch 3, step 12; first non-finite output at linear[0]".into(),
    );
    let path = std::env::temp_dir().join(format!(
        "lazarus-report-stopped-{}.html",
        std::process::id()
    ));
    write_report(&data, &path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let page = Page::parse(&html);
    let banner = page.find("div", "id", "stopped-early");
    assert_eq!(banner.len(), 1);
    assert!(
        page.text(banner[0])
            .contains("non-finite loss (NaN) at epoch 3")
    );
    for id in SECTIONS {
        assert_eq!(page.find("section", "id", id).len(), 1, "section #{id}");
    }
    assert_eq!(
        page.find("div", "data-chart", "loss").len(),
        1,
        "the finite epochs are drawn"
    );
    // The data survives a JSON round trip, NaN and infinities included (as "NaN", "inf").
    let json = serde_json::to_string(&data).unwrap();
    let back: ReportData = serde_json::from_str(&json).unwrap();
    assert!(back.epochs[2].train_loss.is_nan());
    assert_eq!(
        back.gradient_norms.as_ref().unwrap().total[11],
        f64::INFINITY
    );
    assert_eq!(back.layers, data.layers);
}

#[test]
fn inconsistent_data_is_a_typed_error_naming_the_field() {
    let expect = |data: ReportData, field: &str| {
        let err = render_report(&data).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { parameter, .. } if parameter == field),
            "{field}: {err}"
        );
    };
    let mut data = tiny_run();
    data.layers[1].probes[2].state.pop();
    expect(data, "prelu[3].probes[2]");
    let mut data = tiny_run();
    data.layers[0].probes[1].active_fraction[0] = 1.5;
    expect(data, "relu[1].probes[1]");
    let mut data = tiny_run();
    data.layers[0].probes[3].epoch = 1;
    expect(data, "relu[1].probes[3]");
    let mut data = tiny_run();
    data.gradient_norms.as_mut().unwrap().params[1].norms.pop();
    expect(data, "gradient_norms.params[3.weight]");
    let mut data = tiny_run();
    data.gradient_norms.as_mut().unwrap().clipped.push(12);
    expect(data, "gradient_norms.clipped");
    let mut layer = LayerActivity::new("0", "relu", UnitKind::Feature, 2);
    let err = layer
        .push_probe(0, vec![0.5, f32::NAN], vec![A, A])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("unit 1 must be in [0, 1], found NaN"),
        "{err}"
    );
    assert!(layer.probes.is_empty(), "a refused probe is not kept");
}

#[test]
fn an_empty_report_says_what_is_missing() {
    let page = Page::parse(&render_report(&ReportData::new("nothing yet")).unwrap());
    for id in SECTIONS {
        let section = page.find("section", "id", id);
        assert_eq!(section.len(), 1, "section #{id}");
        let empty = page
            .within(section[0], "p")
            .into_iter()
            .any(|p| page.attr(p, "class") == "empty");
        assert!(empty, "section #{id} says it has nothing to show");
    }
}

/// Several runs side by side: a group per setting, a column per run with a heatmap per layer,
/// a summary row and the warnings of every run, self-contained like the page of one run.
#[test]
fn a_comparison_puts_every_run_of_every_group_on_one_page() {
    let run = |title: &str| ReportData {
        title: title.into(),
        ..tiny_run()
    };
    let mut stopped = run("elu");
    stopped.stopped_early = Some("epoch 2, batch 3: non-finite loss".into());
    let groups = vec![
        RunGroup {
            name: "harsh".into(),
            description: "Adam lr 0.02".into(),
            runs: vec![run("relu"), run("prelu")],
        },
        RunGroup {
            name: "gentle".into(),
            description: "SGD lr 0.05".into(),
            runs: vec![run("relu"), stopped],
        },
    ];
    let comparison = Comparison {
        title: "lab <side by side>".into(),
        intro: "what to look for".into(),
        settings: vec![Setting::new("epochs", 3)],
        groups,
    };
    let html = render_comparison(&comparison).unwrap();
    common::assert_self_contained(&html);
    let page = Page::parse(&html);
    for id in ["summary", "heatmaps", "slopes", "gradients", "warnings"] {
        assert_eq!(page.find("section", "id", id).len(), 1, "section #{id}");
    }
    for group in &comparison.groups {
        let block = page.find("div", "data-group", &group.name);
        assert_eq!(block.len(), 1, "{}", group.name);
        for r in &group.runs {
            let key = format!("{}/{}", group.name, r.title);
            assert_eq!(
                page.find("tr", "data-run", &key).len(),
                1,
                "summary of {key}"
            );
            let column = page.find("div", "data-run", &key);
            assert_eq!(column.len(), 1, "column of {key}");
            assert!(page.is_inside(column[0], block[0]));
            let heatmaps = (page.within(column[0], "svg").into_iter())
                .filter(|&s| page.attr(s, "class") == "heatmap")
                .count();
            assert_eq!(heatmaps, r.layers.len(), "{key}");
        }
    }
    let warnings = page.find("tr", "class", "warning");
    assert_eq!(warnings.len(), 4 * tiny_run().warnings.len());
    assert!(html.contains("lab &lt;side by side&gt;"));
    assert!(html.contains("Stopped early: epoch 2, batch 3: non-finite loss"));
    // ReLU's unit 2 is dead from epoch 0 to the end: 1 of 4 features, the summary says so.
    let row = page.find("tr", "data-run", "harsh/relu")[0];
    let cells: Vec<String> = (page.within(row, "td").into_iter())
        .map(|c| page.text(c))
        .collect();
    assert_eq!(cells[4], "25 → 25% dead", "{cells:?}");
}
