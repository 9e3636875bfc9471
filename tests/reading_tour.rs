//! The README's reading tour and the guide `how_it_works` stay true: every file they name
//! exists, every function the guide names as an answer is still defined in its file, no file
//! on the tour holds the speed plumbing (SIMD intrinsics, `target_feature`, the thread pool),
//! which belongs in the `kernels` modules, every file on it is short, and the crate page
//! (`src/lib.rs`, what `cargo doc` shows) gives the same tour, word for word.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `crates/...rs` path in backticks in `text`.
fn paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("crates/") && s.ends_with(".rs"))
        .map(String::from)
        .collect()
}

/// The README's tour section.
fn tour() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("## A reading tour for learners")
        .expect("the tour");
    let end = readme[start + 3..]
        .find("\n## ")
        .map_or(readme.len(), |e| start + 3 + e);
    readme[start..end].to_string()
}

#[test]
fn every_file_on_the_tour_exists_and_keeps_the_kernels_out() {
    let files = paths(&tour());
    assert!(files.len() >= 10, "the tour names {files:?}");
    for file in files {
        let text = std::fs::read_to_string(root().join(&file))
            .unwrap_or_else(|e| panic!("the tour names {file}: {e}"));
        for plumbing in [
            "target_feature",
            "core::arch",
            "_mm256_",
            "_mm_",
            "parallel_for(",
            "parallel_zip(",
            "with_simd(",
        ] {
            assert!(
                !text.contains(plumbing),
                "{file} is on the reading tour but contains `{plumbing}`: move it to a kernels module"
            );
        }
    }
}

/// Files on the tour may be this long at most, tests included: a learner reads a file whole.
const MAX_LINES: usize = 300;

#[test]
fn every_file_on_the_tour_is_short() {
    for file in paths(&tour()) {
        let lines = std::fs::read_to_string(root().join(&file))
            .unwrap_or_else(|e| panic!("the tour names {file}: {e}"))
            .lines()
            .count();
        assert!(
            lines <= MAX_LINES,
            "{file} is on the reading tour and has {lines} lines (at most {MAX_LINES}): split it by concept"
        );
    }
}

#[test]
fn the_crate_page_gives_the_readme_tour_word_for_word() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let docs: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = docs
        .iter()
        .position(|l| *l == "# A reading tour for learners")
        .expect("src/lib.rs has the tour");
    // The crate page's one line of its own, then the README's words.
    let on_crate_page = docs[start + 3..].join("\n");
    let readme = tour();
    let in_readme = readme
        .split_once('\n')
        .expect("a heading line")
        .1
        .trim_end();
    assert_eq!(on_crate_page.trim(), in_readme.trim());
}

#[test]
fn every_answer_of_the_guide_names_a_function_that_exists() {
    let guide = std::fs::read_to_string(root().join("src/guide/how_it_works.rs")).unwrap();
    // Answers are written "`<file>`, function `<name>`" or "`<file>`, `<name>`".
    let mut checked = 0;
    for (i, part) in guide.split('`').enumerate() {
        if i % 2 == 0 || !part.starts_with("crates/") || !part.ends_with(".rs") {
            continue;
        }
        let file = part;
        let text = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|e| panic!("the guide names {file}: {e}"));
        let rest: Vec<&str> = guide.split('`').skip(i + 1).take(2).collect();
        let [between, name] = rest[..] else { continue };
        let between = between.trim();
        if !(between == "," || between == ", function") {
            continue;
        }
        let defined = ["fn ", "struct ", "trait ", "enum "]
            .iter()
            .any(|kind| text.contains(&format!("{kind}{name}")));
        assert!(
            defined,
            "the guide says {file} holds `{name}`, which it does not define"
        );
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} answers checked");
}
