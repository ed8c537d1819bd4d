//! Hostile input, fuzzed: the YAML case loader. Every real case file, mutated
//! (bytes deleted, inserted, lines swapped, YAML pieces spliced in), goes through
//! `parse_case` with the real rule catalog and keys: it must never panic, and every refusal
//! must name a line inside the file (or 0 when the YAML parser knows none) and say what is
//! wrong. `COS_FUZZ_CASES=1000000` for the long run; each run prints its input count.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cos_suite::case::{case_files, parse_case, parse_case_file, LoadContext, SizeSets};
use cos_suite::keys::KeyRing;
use cos_suite::rules::Catalog;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("COS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One edit of a case text.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    SwapLines(usize, usize),
}

const PIECES: &[&str] = &[
    "\n",
    ": ",
    "- ",
    "  ",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "&a ",
    "*a",
    "!!binary ",
    "~",
    "null",
    "{{case}}",
    "{{steps.x.status}}",
    "{{keys.nope.base64}}",
    "expect_if:",
    "when:",
    "status: 999",
    "put:",
    "get:",
    "copy:",
    "body: {random: 18446744073709551616}",
    "sse_c: py_1",
    "rules: [NOPE]",
    "\t",
    "\u{feff}",
    "é",
    "<<: *a",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(PIECES).prop_map(str::to_string),
                ".{0,12}"
            ]
        )
            .prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t = text.to_string();
    for e in edits {
        let at = |i: usize, t: &str| {
            let mut i = if t.is_empty() { 0 } else { i % (t.len() + 1) };
            while !t.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match e {
            Edit::Delete(a, n) => {
                let s = at(*a, &t);
                let e = at(s + n, &t).max(s);
                t.replace_range(s..e, "");
            }
            Edit::Insert(a, s) => {
                let i = at(*a, &t);
                t.insert_str(i, s);
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<&str> = t.lines().collect();
                if !lines.is_empty() {
                    let (x, y) = (a % lines.len(), b % lines.len());
                    lines.swap(x, y);
                }
                t = lines.join("\n");
            }
        }
    }
    t
}

/// The number of lines as YAML counts them (CRLF, CR and LF each end a line), plus one for
/// an error at the end of the stream. (The long run found `str::lines` too narrow: a lone
/// CR, which YAML and most editors treat as a line break, made a correct line look out of
/// range.)
fn yaml_lines(text: &str) -> usize {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .count()
        + 1
}

/// The shipped rule catalog and key ring every loader test parses against.
fn catalog_and_keys(root: &Path) -> (Catalog, KeyRing) {
    let catalog = Catalog::load(&root.join("cases/rules.yaml")).expect("catalog");
    let keys = KeyRing::load(&root.join("fixtures/keys.yaml")).expect("keys");
    (catalog, keys)
}

#[test]
fn fuzz_case_loader() {
    let root = root();
    let (catalog, keys) = catalog_and_keys(&root);
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    let files: Vec<(PathBuf, String)> = case_files(&root.join("cases"))
        .expect("case files")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p.strip_prefix(&root).unwrap().to_path_buf();
            (rel, text)
        })
        .collect();
    assert!(!files.is_empty());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let runs = AtomicU64::new(0);
    let start = Instant::now();
    let strategy = (0..files.len(), prop::collection::vec(edit(), 1..6));
    let result = runner.run(&strategy, |(i, edits)| {
        runs.fetch_add(1, Ordering::Relaxed);
        let (file, text) = &files[i];
        let mutated = apply(text, &edits);
        if let Err(e) = parse_case(file, &mutated, &ctx) {
            let lines = yaml_lines(&mutated);
            prop_assert!(e.line <= lines, "line {} of {lines}: {e}", e.line);
            prop_assert!(!e.message.is_empty());
            prop_assert_eq!(&e.file, file);
        }
        Ok(())
    });
    println!(
        "fuzz case loader: {} inputs in {:.1} s, {}",
        runs.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        if result.is_ok() {
            "0 panics, every refusal names its file and a line"
        } else {
            "FAILED"
        }
    );
    if let Err(e) = result {
        panic!("fuzz target case loader: {e}");
    }
}

/// The long run's finding, kept: a lone CR inside a quoted scalar that never closes; the
/// refusal names a line within the file as YAML counts lines.
#[test]
fn corpus_lone_cr_line_numbers() {
    let root = root();
    let (catalog, keys) = catalog_and_keys(&root);
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    let text = "id: x/y\r\"rules: [A]\ntitle: t\r\nsteps: []\n";
    let e = parse_case(Path::new("cases/x/y.yaml"), text, &ctx).unwrap_err();
    assert!(e.line >= 1 && e.line <= yaml_lines(text), "{e}");
    assert!(!e.message.is_empty());
}

/// Found by the 10^6 run: YAML also breaks lines at NEL, LS and PS (and the parser counts
/// the end of stream after a final newline as one more line), so its line number could
/// point past the file's last line ("line 23 of 22").
#[test]
fn corpus_unicode_line_breaks_and_eof_stay_inside_the_file() {
    let root = root();
    let (catalog, keys) = catalog_and_keys(&root);
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    for text in [
        "id: x/y\ntitle: \"a\u{85}b\u{2028}c\u{2029}d\n",
        "id: x/y\nrules: [A]\ntitle: \"unterminated\n\n\n",
        "id: x/y\ntitle: 'a\u{85}\u{85}\u{85}\n",
    ] {
        let e = parse_case(Path::new("cases/x/y.yaml"), text, &ctx).unwrap_err();
        assert!(
            e.line >= 1 && e.line <= yaml_lines(text),
            "{text:?}: line {} of {}: {e}",
            e.line,
            yaml_lines(text)
        );
    }
}

/// Every unmutated case still loads (the fuzz target's control).
#[test]
fn corpus_real_cases_load() {
    let root = root();
    let (catalog, keys) = catalog_and_keys(&root);
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    let sets = SizeSets::load(&root.join("cases")).unwrap();
    for p in case_files(&root.join("cases")).unwrap() {
        let text = std::fs::read_to_string(&p).unwrap();
        let rel = p.strip_prefix(&root).unwrap();
        parse_case_file(rel, &text, &sets, &ctx).unwrap_or_else(|e| panic!("{e}"));
    }
}
