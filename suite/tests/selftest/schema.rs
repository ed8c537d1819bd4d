//! Schema errors name the file, line and column (snapshots of the messages).

use std::path::Path;

use cos_suite::case::{parse_case, LoadContext};

use super::fake::{catalog, keys};

fn error(text: &str) -> String {
    let (catalog, keys) = (catalog(), keys());
    match parse_case(
        Path::new("cases/sse-c/t.yaml"),
        text,
        &LoadContext {
            catalog: &catalog,
            keys: &keys,
        },
    ) {
        Ok(_) => panic!("expected a load error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "id: sse-c/t\nrules: [T-RULE]\ntitle: t\npolarity: negative\n";

#[test]
fn unknown_field_in_a_step() {
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - put:\n      key: k\n      bdy: x\n"
    )));
}

#[test]
fn unknown_top_level_field() {
    insta::assert_snapshot!(error(&format!("{HEAD}stpes: []\n")));
}

#[test]
fn bad_template() {
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - get:\n      key: \"{{{{case}}/o\"\n"
    )));
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - get:\n      key: \"{{{{nope}}}}\"\n"
    )));
}

#[test]
fn unknown_rule_id() {
    insta::assert_snapshot!(error("id: sse-c/t\nrules: [T-RULE, NO-SUCH-RULE]\ntitle: t\npolarity: negative\nsteps:\n  - get: {key: k}\n"));
}

#[test]
fn step_reference_to_a_later_or_missing_step() {
    let later = format!("{HEAD}steps:\n  - get: {{key: k}}\n    expect: {{body: {{step: up}}}}\n  - name: up\n    put: {{key: k}}\n");
    insta::assert_snapshot!(error(&later));
    let missing = format!("{HEAD}steps:\n  - get:\n      key: \"{{{{steps.7.status}}}}\"\n");
    insta::assert_snapshot!(error(&missing));
}

#[test]
fn unknown_key_name() {
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - put:\n      key: k\n      sse_c: no_such_key\n"
    )));
}

#[test]
fn a_step_with_two_kinds_or_a_field_its_kind_does_not_take() {
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - get: {{key: k}}\n    put: {{key: k}}\n"
    )));
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - get:\n      key: k\n      body: x\n"
    )));
}

#[test]
fn bad_status_and_unknown_behaviour() {
    insta::assert_snapshot!(error(&format!(
        "{HEAD}steps:\n  - get: {{key: k}}\n    expect: {{status: 4xy}}\n"
    )));
    insta::assert_snapshot!(error(&format!("{HEAD}steps:\n  - get: {{key: k}}\n    expect_if:\n      - when: {{T-SWITCH: maybe}}\n        expect: {{status: 200}}\n")));
}

#[test]
fn id_must_match_the_file() {
    insta::assert_snapshot!(error("id: sse-c/other\nrules: [T-RULE]\ntitle: t\npolarity: negative\nsteps:\n  - get: {key: k}\n"));
}

#[test]
fn the_shipped_catalog_loads() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../cases"));
    let loaded = cos_suite::app::load(dir).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    assert!(!loaded.cases.is_empty());
    for p in [
        "emulator.yaml",
        "emulator-alternate.yaml",
        "tencent-cos.example.yaml",
    ] {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/profiles")).join(p);
        let profile = cos_suite::profile::Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        profile
            .check_behaviours(&loaded.catalog)
            .unwrap_or_else(|e| panic!("{p}: {e}"));
    }
}
