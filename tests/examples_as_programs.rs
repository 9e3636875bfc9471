//! The examples run as programs, where things fail:
//!
//! * standard output on `/dev/full` (every write fails with "No space left on device"): exit
//!   code 1, one line on stderr naming stdout, no panic, and the files the run was asked for
//!   still written;
//! * a file size limit (`ulimit -f`) that stops `--metrics-out` mid-write: the previous file is
//!   intact, and the next run removes the temporary file the failed one left.
//!
//! The examples are built first with the cargo that runs this test (in the same profile and
//! target folder, so usually nothing is left to build), then run from `target/<profile>/examples`.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The folder of the built examples, after building them once for all the tests.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs as target/<profile>/deps/examples_as_programs-<hash>.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    })
}

/// `/dev/full` opened for writing, or `None` (with a note) where it does not exist.
fn dev_full() -> Option<File> {
    match OpenOptions::new().write(true).open("/dev/full") {
        Ok(file) => Some(file),
        Err(e) => {
            println!("skipped: /dev/full cannot be opened here ({e})");
            None
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lazarus-stdout-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tiny run of the MNIST example (synthetic digits: 300 to train on, 100 to test, one hidden
/// layer of 16) for `epochs` epochs, writing its metrics to `metrics`.
fn tiny_mnist<'a>(epochs: &'a str, metrics: &'a Path) -> [&'a str; 10] {
    [
        "--epochs",
        epochs,
        "--train-samples",
        "300",
        "--test-samples",
        "100",
        "--hidden",
        "16",
        "--metrics-out",
        metrics.to_str().unwrap(),
    ]
}

/// Run example `name` with `args`, stdout on `full`; its output (stdout empty).
fn run_on_full(full: File, name: &str, args: &[&str]) -> Output {
    Command::new(examples_dir().join(name))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{name} runs: {e}"))
}

/// Exit code 1 and exactly `error: writing to stdout failed: ...` on stderr.
fn assert_clean_failure(name: &str, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
    assert!(
        stderr.starts_with("error: writing to stdout failed: No space left on device"),
        "{name}: {stderr}"
    );
}

#[test]
fn mnist_quiet_on_a_full_stdout_fails_cleanly_and_still_writes_its_metrics() {
    let Some(full) = dev_full() else { return };
    let dir = temp_dir("mnist-quiet");
    let metrics = dir.join("m.json");
    let args = [&["--quiet"][..], &tiny_mnist("1", &metrics)].concat();
    let output = run_on_full(full, "mnist", &args);
    assert_clean_failure("mnist --quiet", &output);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(json["final"]["epochs"], 1);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn mnist_with_progress_on_a_full_stdout_fails_cleanly_and_still_writes_its_metrics() {
    let Some(full) = dev_full() else { return };
    let dir = temp_dir("mnist-verbose");
    let metrics = dir.join("m.json");
    let args = [
        &tiny_mnist("2", &metrics)[..],
        &["--plot", dir.to_str().unwrap()],
    ]
    .concat();
    let output = run_on_full(full, "mnist", &args);
    assert_clean_failure("mnist", &output);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(json["history"]["epochs"].as_array().unwrap().len(), 2);
    assert!(dir.join("training.svg").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_dying_relu_lab_on_a_full_stdout_fails_cleanly_and_still_writes_its_json() {
    let Some(full) = dev_full() else { return };
    let dir = temp_dir("lab");
    let json = dir.join("lab.json");
    let report = dir.join("lab.html");
    let output = run_on_full(
        full,
        "dying_relu",
        &[
            "--epochs",
            "1",
            "--train-samples",
            "60",
            "--test-samples",
            "20",
            "--hidden",
            "8,8",
            "--batch-size",
            "20",
            "--out",
            dir.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_clean_failure("dying_relu", &output);
    let lab: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        lab["rows"].as_array().unwrap().len(),
        4 * 3,
        "4 activations x 3 settings (gentle, harsh, harsh+bn)"
    );
    assert!(dir.join("loss.svg").exists());
    assert!(
        report.exists(),
        "the report is written before stdout is tried"
    );

    for command in [
        &["init-probe", "--depth", "3", "--width", "8", "--batch", "8"][..],
        &[
            "born-dead",
            "--widths",
            "2",
            "--max-depth",
            "3",
            "--networks",
            "10",
        ],
    ] {
        let full = dev_full().unwrap();
        let json = dir.join(format!("{}.json", command[0]));
        let mut args = command.to_vec();
        args.extend(["--json", json.to_str().unwrap()]);
        let output = run_on_full(full, "dying_relu", &args);
        assert_clean_failure(command[0], &output);
        assert!(json.exists(), "{}: the JSON is written", command[0]);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_other_examples_on_a_full_stdout_fail_cleanly() {
    let Some(_) = dev_full() else { return };
    let dir = temp_dir("others");
    let png = dir.join("digits.png");
    let plots = dir.join("plots");
    let runs: [(&str, Vec<&str>); 6] = [
        ("xor", vec![]),
        ("activations", vec!["--out", plots.to_str().unwrap()]),
        (
            "digits_preview",
            vec!["--out", png.to_str().unwrap(), "--cols", "2"],
        ),
        (
            "bench_mlp",
            vec!["--epochs", "2", "--samples", "64", "--batch-size", "32"],
        ),
        (
            "bench_cnn",
            vec!["--epochs", "2", "--samples", "64", "--model", "cnn-bn"],
        ),
        ("mnist", vec!["--help"]),
    ];
    for (name, args) in runs {
        let output = run_on_full(dev_full().unwrap(), name, &args);
        assert_clean_failure(name, &output);
    }
    assert!(
        png.exists() && plots.join("article.svg").exists(),
        "files still written"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[cfg(unix)]
#[test]
fn a_metrics_file_cut_short_by_a_file_size_limit_leaves_the_previous_one_intact() {
    let dir = temp_dir("ulimit");
    let metrics = dir.join("m.json");
    std::fs::write(&metrics, "{\"previous\": true}").unwrap();
    let mnist = examples_dir().join("mnist");
    let args = [&["--quiet"][..], &tiny_mnist("1", &metrics)].concat();
    // At most 1 block (512 or 1024 bytes) per file: the metrics (several KB) cannot be written.
    // The kernel stops the write with SIGXFSZ, which ends the process like a kill.
    let limited = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 1 && exec \"$0\" \"$@\"")
        .arg(&mnist)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!limited.status.success(), "{limited:?}");
    assert_eq!(
        std::fs::read_to_string(&metrics).unwrap(),
        "{\"previous\": true}",
        "the previous file is intact"
    );
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(&dir).len(),
        2,
        "the cut temporary is left behind: {:?}",
        names(&dir)
    );

    // File times can be coarse: let the next save start strictly later than the cut write.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let status = Command::new(&mnist)
        .args(&args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    assert_eq!(json["final"]["epochs"], 1);
    assert_eq!(
        names(&dir),
        ["m.json"],
        "the next save removed the abandoned temporary"
    );
    std::fs::remove_dir_all(dir).ok();
}
