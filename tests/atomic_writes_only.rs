//! Every file the project writes goes through `lazarus_train::atomic_file`, so that a failed or
//! killed write never destroys the previous file (`std::fs::write` truncates the file first: a
//! full disk or `ulimit -f` then leaves it cut).
//!
//! The rule this test enforces, on every `.rs` file under `crates/*/src`, `src`, `examples` and
//! `benches`:
//!
//! * none of [`FORBIDDEN`] (`fs::write`, `File::create`, `OpenOptions`, ...: every std and
//!   plotters call that creates or writes a file by path) appears in code,
//! * except in `crates/lazarus-train/src/atomic_file.rs`, the one writer;
//! * comment lines (`//`, so `///` and `//!` doc examples too, which may write fixtures) and
//!   items under `#[cfg(test)]` (unit tests writing fixtures; the item runs from the attribute
//!   to its closing brace, counted naively: braces inside strings would fool it) are not
//!   checked;
//! * test code under `tests/` and `crates/*/tests` is not scanned: fixtures are its business.
//!
//! Reading (`File::open`, `fs::read`) and creating folders (`fs::create_dir_all`) are fine.

use std::path::{Path, PathBuf};

/// What writing a file by path looks like.
const FORBIDDEN: [&str; 8] = [
    "fs::write(",
    "File::create",
    "File::options(",
    "OpenOptions",
    "fs::copy(",
    "fs::hard_link(",
    "SVGBackend::new(",
    "BitMapBackend::new(",
];

/// The one file allowed to write.
const WRITER: &str = "crates/lazarus-train/src/atomic_file.rs";

/// `(line number from 1, line)` of every forbidden use in `source`.
fn violations(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // Inside a `#[cfg(test)]` item: its brace depth so far, and whether it has opened.
    let mut test_item: Option<(i64, bool)> = None;
    for (i, line) in source.lines().enumerate() {
        let code = line.trim();
        if let Some((depth, opened)) = &mut test_item {
            *depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
            *opened |= code.contains('{');
            let closed = (*opened && *depth <= 0) || (!*opened && code.ends_with(';'));
            if closed {
                test_item = None;
            }
            continue;
        }
        if code.starts_with("#[cfg(test)]") {
            test_item = Some((0, false));
            // `#[cfg(test)] mod tests {` on one line.
            let rest = code.trim_start_matches("#[cfg(test)]");
            if !rest.trim().is_empty() {
                let depth = rest.matches('{').count() as i64 - rest.matches('}').count() as i64;
                test_item = (depth > 0).then_some((depth, true));
            }
            continue;
        }
        if code.starts_with("//") {
            continue;
        }
        if FORBIDDEN.iter().any(|f| code.contains(f)) {
            found.push((i + 1, code.to_string()));
        }
    }
    found
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_file_is_written_through_the_atomic_writer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "examples", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        rust_files(&krate.unwrap().path().join("src"), &mut files);
    }
    assert!(
        files.iter().any(|f| f.ends_with(WRITER)),
        "the writer itself is found: the scan covers the crates"
    );
    let mut report = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).unwrap();
        if relative == Path::new(WRITER) {
            continue;
        }
        let source = std::fs::read_to_string(file).unwrap();
        for (line, code) in violations(&source) {
            report.push(format!("{}:{line}: {code}", relative.display()));
        }
    }
    assert!(
        report.is_empty(),
        "write files with lazarus_train::atomic_file::write_atomically instead:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_scan_finds_writes_in_code_and_skips_comments_and_test_items() {
    let source = r#"
use std::fs;
/// fs::write(&path, b"fixture").unwrap();
fn save(path: &Path) {
    fs::write(path, b"x").unwrap(); // line 5
    // File::create(path)
    let f = std::fs::OpenOptions::new().append(true).open(path); // line 7
}
#[cfg(test)]
mod tests {
    fn fixture() {
        std::fs::write("a", "b").unwrap();
    }
}
#[cfg(test)]
use std::fs::File::create;
fn later() { let _ = std::fs::File::create("c"); } // line 17
"#;
    let lines: Vec<usize> = violations(source).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [5, 7, 17]);
    assert!(
        violations("#[cfg(test)] mod t { fn f() { fs::write(a, b); } }\nfs::copy(a, b);\n")
            .iter()
            .map(|(l, _)| *l)
            .eq([2])
    );
}
