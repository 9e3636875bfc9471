//! The README's reading tour and the guide `how_it_works` stay true: every file they name
//! exists, every function the guide names as an answer is still defined in its file, and no
//! file on the tour holds the speed plumbing (SIMD intrinsics, `target_feature`, the thread
//! pool), which belongs in the `kernels` modules.

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
