//! The dying-ReLU lab end to end on tiny sizes: its core is `examples/dying_relu/lab.rs`,
//! included here as a module, so the test runs the very code the example runs.

#[allow(dead_code)]
#[path = "../examples/dying_relu/lab.rs"]
mod lab;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-lab-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tiny(out: Option<std::path::PathBuf>, clip: Option<f32>) -> lab::LabConfig {
    lab::LabConfig {
        seed: 3,
        epochs: 2,
        train_samples: 120,
        test_samples: 40,
        hidden: vec![12, 8],
        batch_size: 30,
        activations: ["relu", "leaky_relu", "prelu", "elu", "tanh"]
            .map(String::from)
            .to_vec(),
        gentle_lr: 0.05,
        harsh_lr: 0.02,
        harsh_bias: None,
        explosive_lr: 0.5,
        momentum: 0.9,
        clip_norm: clip,
        out,
        report: None,
    }
}

#[test]
fn the_lab_has_a_row_for_every_activation_and_setting_and_writes_its_plots() {
    let dir = temp_dir("plots");
    let out = lab::run_lab(&tiny(Some(dir.clone()), Some(1.0))).unwrap();
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5 * 5);
    for setting in ["gentle", "harsh", "harsh+bn", "explosive", "explosive+clip"] {
        for activation in ["relu", "leaky_relu", "prelu", "elu", "tanh"] {
            let row = rows
                .iter()
                .find(|r| r["setting"] == setting && r["activation"] == activation)
                .unwrap_or_else(|| panic!("no row for {activation} / {setting}"));
            let kind = match activation {
                "relu" => "dead",
                "tanh" => "-",
                _ => "inactive",
            };
            assert_eq!(row["kind"], kind, "{activation}");
            assert_eq!(row["silent_at_init_pct"].as_array().unwrap().len(), 2);
            for key in [
                "train_accuracy",
                "test_accuracy",
                "died",
                "revived",
                "max_grad_norm",
                "epochs",
            ] {
                assert!(row.get(key).is_some(), "{activation}/{setting}: {key}");
            }
            let slopes = row["prelu_slopes"].as_array().unwrap();
            assert_eq!(
                slopes.len(),
                if activation == "prelu" { 2 } else { 0 },
                "{activation}"
            );
            assert_eq!(row["clipped_steps"].is_null(), setting != "explosive+clip");
        }
    }
    let prelu = rows
        .iter()
        .find(|r| r["activation"] == "prelu" && r["setting"] == "gentle")
        .unwrap();
    let first = &prelu["prelu_slopes"][0];
    assert_eq!(first["layer"], "1");
    assert_eq!(
        first["values"].as_array().unwrap().len(),
        12,
        "one slope per unit"
    );
    assert!(first["min"].as_f64().unwrap() <= first["mean"].as_f64().unwrap());
    for file in ["silent_units.svg", "loss.svg", "prelu_slopes.svg"] {
        let svg = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(svg.contains("<svg"), "{file}");
    }
    // Deterministic for the seed.
    let again = lab::run_lab(&tiny(None, Some(1.0))).unwrap();
    assert_eq!(out["rows"], again["rows"]);
    std::fs::remove_dir_all(dir).ok();
}

/// The lab's one page: every setting a group, every activation a run in it, with its heatmaps;
/// and the numbers behind it are the probe's: epoch 0 is the same measurement as epoch k.
#[test]
fn the_lab_puts_its_runs_side_by_side_on_one_page_and_measures_on_the_probe_set() {
    let dir = temp_dir("report");
    let page = dir.join("lab.html");
    let config = lab::LabConfig {
        report: Some(page.clone()),
        activations: ["relu", "leaky_relu", "prelu", "elu"]
            .map(String::from)
            .to_vec(),
        ..tiny(None, None)
    };
    let out = lab::run_lab(&config).unwrap();
    assert_eq!(
        out["config"]["probe_samples"], 120,
        "the whole set when it is smaller"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    for setting in ["gentle", "harsh", "harsh+bn"] {
        assert!(
            html.contains(&format!("data-group=\"{setting}\"")),
            "{setting}"
        );
        for activation in ["relu", "leaky_relu", "prelu", "elu"] {
            let run = format!("data-run=\"{setting}/{activation}\"");
            assert_eq!(
                html.matches(&run).count(),
                2,
                "summary row and heatmaps of {run}"
            );
        }
    }
    // harsh+bn's ReLU sits after its BatchNorm: path 2, not 1.
    assert!(html.contains("data-layer=\"relu[1]\"") && html.contains("data-layer=\"relu[2]\""));
    // Every epoch's silent percentages come from the probe: per hidden layer, epoch 0 included.
    for row in out["rows"].as_array().unwrap() {
        let epochs = row["epochs"].as_array().unwrap();
        assert_eq!(epochs.len(), 2);
        assert!(
            epochs
                .iter()
                .all(|e| e["silent_pct"].as_array().unwrap().len() == 2)
        );
        let last = &epochs[1]["silent_pct"];
        assert_eq!(
            last, &row["silent_at_end_pct"],
            "the table's end is the last probe"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn born_dead_on_tiny_sizes_follows_the_paper() {
    let out = lab::born_dead(&lab::BornDeadConfig {
        widths: vec![2, 10],
        max_depth: 12,
        networks: 300,
        grid: 11,
        seed: 1,
        shown_depths: vec![1, 12],
    })
    .unwrap();
    let p = |act: &str, w: &str, key: &str| -> Vec<f64> {
        out["probabilities"][act][w][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    for key in ["hidden_layer_zero", "constant_output"] {
        let narrow = p("relu", "2", key);
        let wide = p("relu", "10", key);
        assert_eq!(narrow.len(), 12);
        // Non-decreasing in depth, high for a deep narrow net, lower for a wider one.
        assert!(narrow.windows(2).all(|w| w[0] <= w[1]), "{key}: {narrow:?}");
        assert!(narrow[11] > 0.5, "{key}: {narrow:?}");
        assert!(wide[11] < narrow[11], "{key}: {wide:?} vs {narrow:?}");
        for act in ["leaky_relu", "elu"] {
            assert!(p(act, "2", key).iter().all(|&v| v == 0.0), "{act} {key}");
        }
    }
}

#[test]
fn init_probe_shows_xavier_shrinking_relu_signals_and_he_keeping_them() {
    let out = lab::init_probe(&lab::InitProbeConfig {
        depth: 10,
        width: 64,
        batch: 128,
        seed: 0,
    })
    .unwrap();
    let column = |act: &str, init: &str| -> Vec<f64> {
        let c = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["activation"] == act && c["init"] == init)
            .unwrap();
        c["std"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let xavier = column("relu", "xavier");
    let he = column("relu", "he");
    assert_eq!(xavier.len(), 10);
    // ~√2 per layer: over 9 layers a factor 2^4.5 ≈ 22.6.
    let shrink = xavier[0] / xavier[9];
    assert!((10.0..50.0).contains(&shrink), "xavier shrink {shrink}");
    let drift = he[0] / he[9];
    assert!((0.5..2.0).contains(&drift), "he drift {drift}");
    let selu = column("selu", "lecun");
    assert!((0.7..1.3).contains(&selu[9]), "selu {selu:?}");
}
