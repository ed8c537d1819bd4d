//! The shipped catalog (`cases/`) is whole: it loads, every rule has a positive and a
//! negative case, and there are at least two cases per rule: a rule checked by one case
//! rests on that case alone.

use std::path::PathBuf;

use cos_suite::coverage::{gaps, per_rule};

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../cases")
}

#[test]
fn every_rule_has_a_positive_and_a_negative_case() {
    let loaded = cos_suite::app::load(&cases_dir())
        .unwrap_or_else(|errors| panic!("the catalog does not load:\n{}", errors.join("\n")));
    assert!(!loaded.catalog.rules().is_empty(), "rules.yaml has no rule");
    let coverage = per_rule(loaded.catalog.rules(), &loaded.cases);
    let holes: Vec<String> = gaps(&coverage, loaded.cases.len())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(holes.is_empty(), "coverage gaps:\n{}", holes.join("\n"));
}

#[test]
fn every_case_names_only_catalog_rules() {
    // The loader refuses unknown rule ids with file and line; this pins that the shipped
    // cases pass that check rather than relying on a lenient load.
    let loaded = cos_suite::app::load(&cases_dir()).expect("catalog loads");
    for case in &loaded.cases {
        for rule in &case.rules {
            assert!(
                loaded.catalog.rules().iter().any(|r| &r.id == rule),
                "{} names unknown rule {rule}",
                case.id
            );
        }
    }
}
