//! The MNIST example's argument parsing and training path, on tiny sizes, checked through
//! `--metrics-out`; and a broken data folder gives the reader's typed error, not a panic.

#[allow(dead_code)]
#[path = "../examples/mnist.rs"]
mod mnist;

use std::path::PathBuf;

use clap::Parser;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lazarus-mnist-example-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The network of the run that saves a checkpoint and of the runs that resume from it.
const PRELU_NET: &[&str] = &[
    "--activation",
    "prelu",
    "--hidden",
    "32,16",
    "--optimizer",
    "sgd",
];

fn args(extra: &[&str]) -> mnist::Args {
    let mut argv = vec![
        "mnist",
        "--quiet",
        "--train-samples",
        "600",
        "--test-samples",
        "200",
        "--batch-size",
        "16",
    ];
    argv.extend_from_slice(extra);
    if !extra.contains(&"--epochs") {
        argv.extend(["--epochs", "1"]);
    }
    mnist::Args::try_parse_from(argv).expect("valid arguments")
}

#[test]
fn tiny_run_writes_metrics_and_a_checkpoint_that_resumes() {
    let dir = temp_dir("run");
    let metrics = dir.join("metrics.json");
    let checkpoint = dir.join("model.safetensors");
    let metrics_arg = metrics.to_str().unwrap();
    let checkpoint_arg = checkpoint.to_str().unwrap();
    let report = dir.join("report.html");
    let report_arg = report.to_str().unwrap();
    mnist::run(args(
        &[
            PRELU_NET,
            &[
                "--clip-norm",
                "5",
                "--schedule",
                "cosine",
                "--metrics-out",
                metrics_arg,
                "--save",
                checkpoint_arg,
                "--plot",
                dir.to_str().unwrap(),
                "--report",
                report_arg,
            ],
        ]
        .concat(),
    ))
    .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    let last = &json["final"];
    assert_eq!(last["epochs"], 1);
    let accuracy = last["test_accuracy"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&accuracy) && accuracy > 0.2,
        "accuracy {accuracy}"
    );
    assert!(last["test_loss"].as_f64().unwrap().is_finite());
    let epochs = json["history"]["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 1);
    assert!(
        epochs[0]["max_grad_norm"].as_f64().is_some(),
        "clipping records the norm"
    );
    assert!(epochs[0]["diagnostics"]["units"].as_array().unwrap().len() == 2);
    assert!(dir.join("training.svg").exists() && dir.join("dead_units.svg").exists());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("data-layer=\"prelu[1]\"") && html.contains("data-layer=\"prelu[3]\""));

    // Resume for a second epoch from the saved checkpoint. Without its schedule the
    // checkpoint's schedule state would be dropped: that is an error naming the schedule.
    let resumed_metrics = dir.join("resumed.json");
    let resume = |schedule: &[&str]| {
        let mut list = PRELU_NET.to_vec();
        list.extend([
            "--epochs",
            "2",
            "--resume",
            checkpoint_arg,
            "--metrics-out",
            resumed_metrics.to_str().unwrap(),
        ]);
        list.extend(schedule);
        mnist::run(args(&list))
    };
    let err = resume(&[]).unwrap_err().to_string();
    assert!(
        err.contains("CosineAnnealingLR") && err.contains("no schedule"),
        "{err}"
    );
    resume(&["--schedule", "cosine"]).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&resumed_metrics).unwrap()).unwrap();
    assert_eq!(json["final"]["epochs"], 2);
    assert_eq!(json["history"]["epochs"][0]["epoch"], 2);
}

/// `--model cnn-bn` on tiny synthetic digits: trains, writes metrics and plots, saves; a
/// second run resumes from the file, so the convolutions' weights and BatchNorm's running
/// statistics and counts round-trip (a missing or misshapen buffer would be an error).
#[test]
fn a_tiny_cnn_bn_run_saves_and_resumes() {
    let dir = temp_dir("cnn-bn");
    let (metrics, checkpoint) = (dir.join("metrics.json"), dir.join("cnn.safetensors"));
    let report = dir.join("cnn.html");
    let cnn_bn = [
        "--model",
        "cnn-bn",
        "--optimizer",
        "sgd",
        "--lr",
        "0.01",
        "--momentum",
        "0.5",
    ];
    let first = [
        &cnn_bn[..],
        &["--metrics-out", metrics.to_str().unwrap()],
        &["--save", checkpoint.to_str().unwrap()],
        &["--plot", dir.to_str().unwrap()],
        &["--report", report.to_str().unwrap()],
    ]
    .concat();
    mnist::run(args(&first)).unwrap();
    // The convolutions' ReLUs are drawn per channel, the BatchNorm network probed as it trains.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(" channels)"), "a heatmap of channels");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert!(json["final"]["test_loss"].as_f64().unwrap().is_finite());
    let units = &json["history"]["epochs"][0]["diagnostics"]["units"];
    assert_eq!(
        units.as_array().unwrap().len(),
        2,
        "one row per ReLU: {units}"
    );
    // Its convolutions have no bias for BatchNorm to cancel: no bias_before_norm warning.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(!text.contains("bias_before_norm"), "{text}");
    assert!(dir.join("training.svg").exists());

    let resumed = [
        &cnn_bn[..],
        &["--epochs", "2", "--resume", checkpoint.to_str().unwrap()],
        &["--metrics-out", metrics.to_str().unwrap()],
    ]
    .concat();
    mnist::run(args(&resumed)).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(json["final"]["epochs"], 2);
    assert_eq!(json["history"]["epochs"][0]["epoch"], 2);

    // The plain CNN's file lacks BatchNorm's layers: resuming cnn-bn from it is an error.
    let plain = dir.join("plain.safetensors");
    let cnn = ["--model", "cnn", "--optimizer", "sgd"];
    mnist::run(args(
        &[&cnn[..], &["--save", plain.to_str().unwrap()]].concat(),
    ))
    .unwrap();
    let mismatched = [&cnn_bn[..], &["--resume", plain.to_str().unwrap()]].concat();
    assert!(mnist::run(args(&mismatched)).is_err());
}

/// `--model cnn-bn --optimizer sgd` without `--lr` trains: SGD's default lr is 0.01 for cnn-bn
/// (0.05, the default of the other models, overshoots and kills the second ReLU's channels;
/// `crates/lazarus-train/tests/cnn_bn_sgd.rs` pins that against PyTorch). 40 steps of 64
/// synthetic digits: the loss falls well below chance (ln 10 ≈ 2.30), no channel dies; the same
/// run with `--lr 0.05` leaves most channels of relu[6] dead.
#[test]
fn cnn_bn_with_sgd_trains_at_its_default_lr() {
    let dir = temp_dir("cnn-bn-lr");
    let run = |lr: &[&str]| {
        let metrics = dir.join("metrics.json");
        let argv = [
            &[
                "mnist",
                "--quiet",
                "--model",
                "cnn-bn",
                "--optimizer",
                "sgd",
            ][..],
            &[
                "--batch-size",
                "64",
                "--epochs",
                "1",
                "--train-samples",
                "2560",
            ],
            &[
                "--test-samples",
                "200",
                "--metrics-out",
                metrics.to_str().unwrap(),
            ],
            lr,
        ]
        .concat();
        mnist::run(mnist::Args::try_parse_from(argv).unwrap()).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
        let epoch = json["history"]["epochs"][0].clone();
        let relu6 = epoch["diagnostics"]["units"][1].clone();
        assert_eq!(relu6["path"], "6", "{relu6}");
        (
            epoch["lr"].as_f64().unwrap(),
            epoch["train_loss"].as_f64().unwrap(),
            relu6["silent"].as_u64().unwrap(),
        )
    };
    let (lr, loss, dead) = run(&[]);
    assert!((lr - 0.01).abs() < 1e-9, "default lr {lr}");
    assert!(loss < 1.5 && dead == 0, "loss {loss}, {dead} dead channels");
    let (_, loss, dead) = run(&["--lr", "0.05"]);
    assert!(dead >= 16, "lr 0.05: loss {loss}, {dead} dead channels");
}

/// `--hidden` and `--dropout` shape the MLP: given with a CNN they are an error that says so,
/// before any data is loaded.
#[test]
fn mlp_flags_with_a_cnn_are_rejected_with_a_clear_message() {
    for (flag, value) in [("--hidden", "64"), ("--dropout", "0.1")] {
        for model in ["cnn", "cnn-bn"] {
            let message = mnist::run(args(&["--model", model, flag, value]))
                .unwrap_err()
                .to_string();
            assert_eq!(
                message,
                format!(
                    "{flag} is an MLP setting; --model {model} has fixed layers (use --model mlp)"
                )
            );
        }
    }
    assert!(mnist::Args::try_parse_from(["mnist", "--model", "resnet"]).is_err());
}

#[test]
fn bad_flags_are_rejected_by_the_parser() {
    assert!(mnist::Args::try_parse_from(["mnist", "--activation", "sigmoidal"]).is_err());
    assert!(mnist::Args::try_parse_from(["mnist", "--optimizer", "lbfgs"]).is_err());
    assert!(mnist::Args::try_parse_from(["mnist", "--hidden", "12,x"]).is_err());
}

#[test]
fn a_truncated_images_file_is_a_typed_error_and_a_failure_exit() {
    let dir = temp_dir("truncated");
    // A header that promises 60000 images of 28x28, followed by 100 bytes only.
    let mut images = vec![0u8, 0, 8, 3];
    for dim in [60_000u32, 28, 28] {
        images.extend(dim.to_be_bytes());
    }
    images.extend([0u8; 100]);
    let mut labels = vec![0u8, 0, 8, 1];
    labels.extend(60_000u32.to_be_bytes());
    labels.extend(vec![0u8; 60_000]);
    for prefix in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), &images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), &labels).unwrap();
    }
    let result = mnist::run(args(&["--data", dir.to_str().unwrap()]));
    let message = result.as_ref().unwrap_err().to_string();
    assert!(message.contains("train-images-idx3-ubyte"), "{message}");
    assert!(message.contains("truncated"), "{message}");
    assert_eq!(mnist::exit_code(result), std::process::ExitCode::FAILURE);

    let empty = temp_dir("empty");
    let message = mnist::run(args(&["--data", empty.to_str().unwrap()]))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("train-images-idx3-ubyte.gz"),
        "lists the names it tried: {message}"
    );
}
