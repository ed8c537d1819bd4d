//! The table of expected codes (`cases/codes.yaml`). The loader refuses a code
//! the table does not have, with file, line and column; the confidence a code has in the
//! table decides what each `--strict` level checks; a profile's `codes:` override is
//! checked and reported as such.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use cos_suite::codes::{CodePolicy, CodeTable, Confidence, Strictness, PROFILE_OVERRIDE};
use cos_suite::outcome::{CaseResult, Outcome};
use cos_suite::runner::run_case;

use super::fake::{case, catalog, env, start, Canned, Handler};

/// A table where `InvalidArgument` has `confidence` for T-RULE; `NoSuchKey` is vendor-doc.
fn table(confidence: &str) -> Arc<CodeTable> {
    let text = format!(
        "sources:
  S8: {{title: an SDK test, url: \"https://example.invalid/s8\"}}
codes:
  InvalidArgument:
    status: 400
    situations:
      - {{row: \"5\", rules: [T-RULE], confidence: {confidence}, sources: [S8], s3: {{code: InvalidEncryptionAlgorithmError, status: 400, confidence: {confidence}, sources: [S8]}}}}
  NoSuchKey:
    status: 404
    situations:
      - {{row: list, rules: [\"*\"], confidence: vendor-doc, sources: [S8], s3: {{code: NoSuchKey, status: 404, confidence: vendor-doc, sources: [S8]}}}}
"
    );
    Arc::new(CodeTable::parse("codes.yaml", &text, &catalog()).expect("test table"))
}

const WRONG_CODE: &str = "steps:
  - get: {key: \"{{case}}/o\", scheme: http}
    expect: {status: 400, code: InvalidArgument}
";

/// Runs [`WRONG_CODE`] against a fake that answers 400 InvalidRequest.
fn run_wrong_code(policy: CodePolicy) -> CaseResult {
    let handler: Handler = Arc::new(|_, _| Canned::error(400, "InvalidRequest"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let fake = start(handler).await;
        let mut env = env(&fake, false, &[]);
        env.strict = policy;
        run_case(&env, &case(WRONG_CODE), 1).await
    })
}

fn policy(level: Strictness, confidence: &str, overrides: &[(&str, &str)]) -> CodePolicy {
    let overrides: BTreeMap<String, String> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    CodePolicy::new(level, table(confidence), &overrides, "fake").expect("policy")
}

const CONFIDENCES: [&str; 6] = [
    "vendor-doc",
    "sdk-test",
    "vendor-list",
    "s3-analogue",
    "emulator-choice",
    "unknown",
];

/// Whether the wrong code failed the case (else it passed with a warning naming it).
fn fails(level: Strictness, confidence: &str) -> bool {
    let r = run_wrong_code(policy(level, confidence, &[]));
    match r.outcome {
        Outcome::Fail => {
            let f = r.failure.expect("a failure carries a dump");
            assert_eq!(f.mismatches[0].field, "code");
            true
        }
        Outcome::Pass => {
            assert!(
                r.warnings.iter().any(|w| w.contains("InvalidArgument")),
                "{confidence}: {:?}",
                r.warnings
            );
            false
        }
        other => panic!("{confidence}: unexpected outcome {other:?}: {:?}", r.reason),
    }
}

#[test]
fn without_strict_a_wrong_code_is_a_warning_at_any_confidence() {
    for c in CONFIDENCES {
        assert!(!fails(Strictness::Off, c), "{c}");
    }
}

#[test]
fn strict_checks_only_vendor_sourced_codes() {
    let checked: Vec<&str> = CONFIDENCES
        .into_iter()
        .filter(|c| fails(Strictness::Vendor, c))
        .collect();
    assert_eq!(checked, ["vendor-doc", "sdk-test", "vendor-list"]);
}

#[test]
fn strict_all_checks_every_code() {
    for c in CONFIDENCES {
        assert!(fails(Strictness::All, c), "{c}");
    }
}

#[test]
fn a_profile_override_is_expected_checked_and_reported() {
    // The vendor answers InvalidRequest on purpose: the case passes without a warning...
    for key in ["InvalidArgument", "5"] {
        let r = run_wrong_code(policy(
            Strictness::Vendor,
            "unknown",
            &[(key, "InvalidRequest")],
        ));
        assert_eq!(r.outcome, Outcome::Pass, "{key}: {:?}", r.failure);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }
    // ...and another code fails it even though the table's confidence is only unknown.
    let r = run_wrong_code(policy(
        Strictness::Vendor,
        "unknown",
        &[("InvalidArgument", "KmsException")],
    ));
    assert_eq!(r.outcome, Outcome::Fail);
    let p = policy(
        Strictness::Vendor,
        "unknown",
        &[("InvalidArgument", "KmsException")],
    );
    let per_rule = p.per_rule(&[case(WRONG_CODE)]);
    let check = &per_rule["T-RULE"][0];
    assert_eq!(
        (
            check.code.as_str(),
            check.overrides.as_deref(),
            check.confidence.as_str(),
            check.checked
        ),
        (
            "KmsException",
            Some("InvalidArgument"),
            PROFILE_OVERRIDE,
            true
        )
    );
    let err = CodePolicy::new(
        Strictness::Vendor,
        table("unknown"),
        &BTreeMap::from([("Nope".to_string(), "X".to_string())]),
        "fake",
    )
    .unwrap_err();
    assert!(
        err.contains("`Nope` is neither a code nor a situation row"),
        "{err}"
    );
}

#[test]
fn report_data_names_confidence_checked_and_source_per_rule() {
    for (level, confidence, checked) in [
        (Strictness::Vendor, "sdk-test", true),
        (Strictness::Vendor, "s3-analogue", false),
        (Strictness::All, "s3-analogue", true),
        (Strictness::Off, "vendor-doc", false),
    ] {
        let per_rule = policy(level, confidence, &[]).per_rule(&[case(WRONG_CODE)]);
        let checks = &per_rule["T-RULE"];
        assert_eq!(checks.len(), 1);
        let c = &checks[0];
        assert_eq!(
            (c.code.as_str(), c.confidence.as_str(), c.checked),
            ("InvalidArgument", confidence, checked)
        );
        assert_eq!(c.rows, ["5"]);
        assert_eq!(
            c.sources[0].url.as_deref(),
            Some("https://example.invalid/s8")
        );
        let html = cos_suite::report::html::codes_cell(checks);
        assert!(
            html.contains("<a href=\"https://example.invalid/s8\">S8</a>"),
            "{html}"
        );
    }
}

#[test]
fn a_case_with_several_rules_gets_the_weakest_confidence() {
    let text = "sources: {S: {title: s}}
codes:
  InvalidArgument:
    status: 400
    situations:
      - {row: \"5\", rules: [T-RULE], confidence: sdk-test, sources: [S], s3: {not-applicable: r}}
      - {row: \"4a\", rules: [T-SWITCH], confidence: s3-analogue, sources: [S], s3: {not-applicable: r}}
";
    let t = CodeTable::parse("codes.yaml", text, &catalog()).unwrap();
    let one = t.resolve("InvalidArgument", &["T-RULE".into()]).unwrap();
    assert_eq!(one.confidence, Confidence::SdkTest);
    let both = t
        .resolve("InvalidArgument", &["T-RULE".into(), "T-SWITCH".into()])
        .unwrap();
    assert_eq!(both.confidence, Confidence::S3Analogue);
    assert!(t.resolve("InvalidArgument", &["OTHER".into()]).is_err());
}

/// A minimal repository (the real rules.yaml and keys.yaml, a two-code table) with one
/// case, loaded by the real loader; the errors with the temp dir replaced by `<root>`.
fn load_errors(case_text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cases = dir.path().join("cases");
    std::fs::create_dir_all(cases.join("sse-kms")).unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
    std::fs::copy(real.join("cases/rules.yaml"), cases.join("rules.yaml")).unwrap();
    std::fs::copy(
        real.join("fixtures/keys.yaml"),
        dir.path().join("fixtures/keys.yaml"),
    )
    .unwrap();
    std::fs::write(
        cases.join("codes.yaml"),
        "sources: {S2: {title: the COS list}}
codes:
  KmsKeyNotExist:
    status: 400
    situations:
      - {row: 6a, rules: [KMS-KEY-ID], confidence: vendor-list, sources: [S2], s3: {not-applicable: r}}
  NoSuchKey:
    status: 404
    situations:
      - {row: list, rules: [\"*\"], confidence: vendor-list, sources: [S2], s3: {not-applicable: r}}
",
    )
    .unwrap();
    std::fs::write(cases.join("sse-kms/t.yaml"), case_text).unwrap();
    let errors = match cos_suite::app::load(&cases) {
        Ok(_) => return "loaded".into(),
        Err(e) => e,
    };
    errors
        .join("\n")
        .replace(&dir.path().display().to_string(), "<root>")
}

#[test]
fn loader_refuses_a_code_not_in_the_table() {
    insta::assert_snapshot!(load_errors(
        "id: sse-kms/t
rules: [KMS-KEY-ID]
title: t
polarity: negative
steps:
  - put: {key: \"{{case}}/o\", body: x, sse_kms: {}}
    expect: {status: 400, code: KMS.DisabledException}
  - get: {key: \"{{case}}/o\"}
    expect: {status: 404, code: NoSuchKey}
"
    ));
}

#[test]
fn loader_refuses_a_code_without_a_situation_for_the_rules() {
    insta::assert_snapshot!(load_errors(
        "id: sse-kms/t
rules: [KMS-CONTEXT]
title: t
polarity: negative
steps:
  - put: {key: \"{{case}}/o\", body: x, sse_kms: {}}
    expect:
      status: 400
      code: [KmsKeyNotExist]
"
    ));
    assert_eq!(
        load_errors(
            "id: sse-kms/t
rules: [KMS-KEY-ID]
title: t
polarity: negative
steps:
  - put: {key: \"{{case}}/o\", body: x, sse_kms: {}}
    expect: {status: 400, code: KmsKeyNotExist}
"
        ),
        "loaded"
    );
}

#[test]
fn the_catalog_table_loads_and_covers_every_case() {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let loaded = cos_suite::app::load(&real).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    // The seven contradictions of ERROR-CODES.md are in the table at the vendor's status.
    for (code, status) in [
        ("KmsKeyNotExist", 400),
        ("KmsKeyDisabled", 400),
        ("SSEHeaderNotAllowed", 400),
        ("RestoreNonArchiveObject", 405),
        ("RequestTimeTooSkewed", 403),
        ("InvalidSecurity", 403),
        ("InvalidPart", 400),
    ] {
        assert_eq!(loaded.codes.codes[code].status, status, "{code}");
    }
}

#[test]
fn strict_takes_an_optional_level() {
    let run = |strict: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cos-suite"))
            .args(["run", strict, "--filter", "no-such-case", "--cases"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases"))
            .output()
            .expect("runs")
    };
    // Parsed: the filter then matches nothing (exit 3).
    for ok in ["--strict", "--strict=vendor", "--strict=all"] {
        assert_eq!(run(ok).status.code(), Some(3), "{ok}");
    }
    let out = run("--strict=some");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--strict takes `vendor`"), "{err}");
}

/// The S3 dialect checks each expected code as its situation's `s3:` answer, at that
/// answer's own confidence: the case's COS `InvalidArgument` is `InvalidEncryptionAlgorithmError`
/// against an S3 endpoint, and a wrong code fails under `--strict` only when the S3 answer
/// is vendor-backed.
#[test]
fn the_s3_dialect_expects_the_s3_answer_at_its_own_confidence() {
    use cos_suite::dialect::Dialect;
    let case = case(WRONG_CODE);
    let (expect, strict) = policy(Strictness::Vendor, "vendor-doc", &[])
        .for_dialect(Dialect::S3)
        .apply(&case, case.steps[0].expect.clone().expect("expect"));
    assert_eq!(
        expect.code.map(|c| c.0),
        Some(vec!["InvalidEncryptionAlgorithmError".to_string()])
    );
    assert!(strict);
    let (_, strict) = policy(Strictness::Vendor, "s3-analogue", &[])
        .for_dialect(Dialect::S3)
        .apply(&case, case.steps[0].expect.clone().expect("expect"));
    assert!(
        !strict,
        "an s3-analogue S3 answer is a warning under --strict"
    );
    // The COS dialect is unchanged.
    let (expect, _) = policy(Strictness::Vendor, "vendor-doc", &[])
        .apply(&case, case.steps[0].expect.clone().expect("expect"));
    assert_eq!(
        expect.code.map(|c| c.0),
        Some(vec!["InvalidArgument".to_string()])
    );
}

/// A situation without its `s3:` answer is refused at load, naming the code's line.
#[test]
fn every_situation_needs_its_s3_answer() {
    let text = "sources: {S: {title: s}}
codes:
  InvalidArgument:
    status: 400
    situations:
      - {row: \"5\", rules: [T-RULE], confidence: sdk-test, sources: [S]}
";
    let err = CodeTable::parse("codes.yaml", text, &catalog())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("codes.yaml:3:"), "{err}");
    assert!(err.contains("no `s3:` answer"), "{err}");
    for (bad, why) in [
        (
            "s3: {code: X, status: 400, confidence: vendor-doc, sources: [NOPE]}",
            "`NOPE`",
        ),
        (
            "s3: {code: X, status: 200, confidence: vendor-doc, sources: [S]}",
            "not an error status",
        ),
        ("s3: {code: X, sources: [S]}", "give `code`"),
        ("s3: {not-applicable: r, code: X}", "nothing else"),
    ] {
        let text = text.replace("sources: [S]}\n", &format!("sources: [S], {bad}}}\n"));
        let err = CodeTable::parse("codes.yaml", &text, &catalog())
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
}
