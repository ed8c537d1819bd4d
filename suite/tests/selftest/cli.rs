//! The command line's designed exit codes and error messages: 0 as expected, 2 usage or
//! configuration error (with file and line), 3 the filter matched no case.

use std::path::Path;
use std::process::Command;

fn suite() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cos-suite"))
}

fn cases_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../cases").to_string()
}

#[test]
fn check_accepts_the_shipped_catalog_and_profiles() {
    let profiles = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/profiles"));
    let out = suite()
        .args(["check", "--cases", &cases_dir(), "--profile"])
        .arg(profiles.join("emulator.yaml"))
        .arg("--profile")
        .arg(profiles.join("tencent-cos.example.yaml"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
}

#[test]
fn a_broken_case_is_a_configuration_error_with_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("cases/sse-c")).expect("mkdir");
    std::fs::create_dir_all(root.join("fixtures")).expect("mkdir");
    std::fs::write(root.join("cases/rules.yaml"), super::fake::RULES).expect("write");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys.yaml"),
        root.join("fixtures/keys.yaml"),
    )
    .expect("copy");
    std::fs::write(
        root.join("cases/sse-c/t.yaml"),
        "id: sse-c/t\nrules: [T-RULE]\ntitle: t\npolarity: negative\nsteps:\n  - get: {key: k, sse_c: nope}\n",
    )
    .expect("write");
    let out = suite()
        .arg("check")
        .arg("--cases")
        .arg(root.join("cases"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t.yaml:6:"), "{err}");
    assert!(err.contains("unknown key name `nope`"), "{err}");
}

#[test]
fn a_filter_matching_nothing_exits_3() {
    for cmd in ["list", "run"] {
        let out = suite()
            .args([cmd, "--cases", &cases_dir(), "--filter", "no-such-case"])
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(3),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The emulator speaks both dialects, so an S3 profile passes the pre-flight and its cases
/// run (the wrong-dialect line itself is `preflight::an_s3_profile_against_a_cos_endpoint_names_the_dialect_to_set`,
/// against an endpoint that speaks COS only).
#[test]
fn an_s3_profile_against_the_emulator_passes_the_pre_flight_and_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let profile = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/profiles/emulator-s3.yaml");
    let out = suite()
        .args([
            "run",
            "--cases",
            &cases_dir(),
            "--filter",
            "sse-c",
            "--embedded",
            "--report-dir",
        ])
        .arg(tmp.path().join("reports"))
        .arg("--profile")
        .arg(&profile)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("wrong dialect"), "{err}");
    assert!(
        tmp.path().join("reports/report.json").exists(),
        "the cases ran"
    );
}

/// A rule the wire cannot show (KMS-CONTEXT) rests on introspection when its case's
/// `introspect:` checks ran against the embedded emulator: report.json says so, and the
/// verdict is a plain pass rather than "wire evidence only".
#[test]
fn an_introspected_rule_reports_its_evidence() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = suite()
        .args(["run", "--cases", &cases_dir(), "--filter"])
        .arg("sse-kms/introspect-context-bound")
        .arg("--report-dir")
        .arg(tmp.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("report.json")).expect("report"))
            .expect("json");
    let rule = json["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["id"] == "KMS-CONTEXT")
        .expect("KMS-CONTEXT in the report");
    assert_eq!(rule["evidence"], "introspection", "{rule}");
    assert_eq!(rule["verdict"], "pass", "{rule}");
}

#[test]
fn check_names_the_rules_line_for_an_empty_cell_of_the_rule_operation_grid() {
    // A rule listing UploadPart that no case sends a part for: `check` fails with the
    // line of its `operations:`, and passes once the rule says why it cannot be tested.
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("cases/sse-c")).expect("mkdir");
    std::fs::create_dir_all(root.join("fixtures")).expect("mkdir");
    let rules = "rules:\n  - id: T-RULE\n    family: sse-c\n    title: a test rule\n    status: documented\n    operations: [GetObject, UploadPart]\n    s3: applies\n";
    std::fs::write(root.join("cases/rules.yaml"), rules).expect("write");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/keys.yaml"),
        root.join("fixtures/keys.yaml"),
    )
    .expect("copy");
    std::fs::write(root.join("cases/codes.yaml"), "sources: {}\ncodes: {}\n").expect("write");
    std::fs::write(
        root.join("cases/sse-c/p.yaml"),
        "id: sse-c/p\nrules: [T-RULE]\ntitle: t\npolarity: positive\nsteps:\n  - get: {key: k}\n",
    )
    .expect("write");
    std::fs::write(
        root.join("cases/sse-c/n.yaml"),
        "id: sse-c/n\nrules: [T-RULE]\ntitle: t\npolarity: negative\nsteps:\n  - get: {key: k}\n    expect: {status: 403}\n",
    )
    .expect("write");
    let check = || {
        suite()
            .arg("check")
            .arg("--cases")
            .arg(root.join("cases"))
            .output()
            .expect("runs")
    };
    let out = check();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rules.yaml:6: rule T-RULE on UploadPart: no positive case"),
        "{err}"
    );
    assert!(
        err.contains("rules.yaml:6: rule T-RULE on UploadPart: no negative case"),
        "{err}"
    );
    assert!(!err.contains("on GetObject"), "{err}");
    let reasons =
        "    untestable:\n      UploadPart: {positive: \"why not\", negative: \"why not\"}\n";
    std::fs::write(root.join("cases/rules.yaml"), format!("{rules}{reasons}")).expect("write");
    let out = check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cos-suite discover --embedded` with a given profile; the draft and the codes file.
fn discover(
    given: &Path,
    dir: &Path,
    read_codes: bool,
) -> (
    cos_suite::profile::Profile,
    String,
    Option<serde_norway::Value>,
) {
    let draft = dir.join("draft.yaml");
    let codes = dir.join("codes.yaml");
    let mut cmd = suite();
    cmd.args([
        "discover",
        "--embedded",
        "--cases",
        &cases_dir(),
        "--profile",
    ])
    .arg(given)
    .arg("--out")
    .arg(&draft);
    if read_codes {
        cmd.arg("--codes-out").arg(&codes);
    } else {
        cmd.arg("--no-codes");
    }
    let out = cmd.output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        given.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&draft).expect("the draft");
    let profile = cos_suite::profile::Profile::load(&draft).expect("the draft loads");
    let codes = read_codes.then(|| {
        serde_norway::from_str(&std::fs::read_to_string(&codes).expect("the codes file"))
            .expect("the codes file is YAML")
    });
    (profile, text, codes)
}

/// The draft's capabilities and regions (each region's SSE modes and SM4) equal the
/// profile the embedded emulator was started with.
fn assert_same_capabilities(
    name: &str,
    found: &cos_suite::profile::Profile,
    want: &cos_suite::profile::Profile,
) {
    assert_eq!(
        found.capabilities, want.capabilities,
        "{name}: capabilities"
    );
    let regions =
        |p: &cos_suite::profile::Profile| -> Vec<(String, std::collections::BTreeSet<String>)> {
            p.regions
                .iter()
                .map(|r| (r.name.clone(), r.sse.iter().cloned().collect()))
                .collect()
        };
    assert_eq!(regions(found), regions(want), "{name}: regions");
}

/// Every situation the codes file says was reached answered the code cases/codes.yaml
/// expects there (the emulator is the table's reference), and most situations were
/// reached; the unreached ones carry a reason.
fn assert_codes_agree(
    name: &str,
    codes: &serde_norway::Value,
    min_reached: usize,
    known: &[(&str, &str)],
) {
    let situations = codes["situations"].as_sequence().expect("situations");
    let mut reached = 0;
    for s in situations {
        let verdict = s["verdict"].as_str().expect("verdict");
        let what = format!(
            "{name}: {} row {}",
            s["code"].as_str().unwrap_or_default(),
            s["row"].as_str().unwrap_or_default()
        );
        match verdict {
            "agrees" => {
                reached += 1;
                let exchange = &s["exchange"];
                assert!(
                    exchange["request"]
                        .as_str()
                        .is_some_and(|r| r.contains("curl -sS -i")),
                    "{what}: no exchange"
                );
                assert_eq!(
                    exchange["code"].as_str(),
                    s["expected"][0].as_str(),
                    "{what}: the exchange shows the expected code"
                );
            }
            "not-reached" => assert!(
                s["reason"].as_str().is_some_and(|r| !r.is_empty()),
                "{what}: not reached without a reason"
            ),
            "differs"
                if known.contains(&(
                    s["code"].as_str().unwrap_or_default(),
                    s["row"].as_str().unwrap_or_default(),
                )) =>
            {
                reached += 1
            }
            other => panic!("{what}: {other}: {:?}", s["reason"]),
        }
    }
    assert!(
        reached >= min_reached,
        "{name}: only {reached} situations reached"
    );
}

/// `cos-suite discover` finds, from the wire alone, the behaviours the embedded emulator
/// was started with: with the default profile (here) and the alternate one (below), its
/// draft's `behaviour:` map equals the profile's (it starts from every rule's default,
/// ignoring the map it is given); its probed capabilities and regions equal the profile's
/// too, and every error code it read agrees with cases/codes.yaml.
#[test]
fn discover_finds_the_behaviours_of_the_default_profile() {
    discover_finds_the_profile("emulator", true);
}

/// The same with the alternate behaviours; the codes are read once, above (they are the
/// longest phase: a whole catalog run), so this one checks `--no-codes` too.
#[test]
fn discover_finds_the_behaviours_of_the_alternate_profile() {
    discover_finds_the_profile("emulator-alternate", false);
}

fn discover_finds_the_profile(name: &str, read_codes: bool) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().expect("tempdir");
    let given = root.join(format!("fixtures/profiles/{name}.yaml"));
    let (found, text, codes) = discover(&given, tmp.path(), read_codes);
    let want = cos_suite::profile::Profile::load(&given).expect("the profile loads");
    assert!(!want.behaviour.is_empty());
    assert_eq!(found.behaviour, want.behaviour, "{name}");
    assert_same_capabilities(name, &found, &want);
    match codes {
        Some(codes) => assert_codes_agree(name, &codes, 40, &[]),
        None => assert!(
            text.contains("error codes not read (--no-codes)"),
            "{name}: {text}"
        ),
    }
    // Each capability's finding is preceded by the exchange that decided it.
    assert!(
        text.contains("  # presign: offered: ") && text.contains("#     curl -sS -i"),
        "{name}: {text}"
    );
}

/// In the S3 dialect the probes find what `emulator-s3.yaml` claims (no SM4 anywhere),
/// and the codes it reads are compared with the situations' `s3:` answers.
#[test]
fn discover_probes_the_emulator_in_the_s3_dialect() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().expect("tempdir");
    let given = root.join("fixtures/profiles/emulator-s3.yaml");
    let (found, _, codes) = discover(&given, tmp.path(), true);
    let codes = codes.expect("codes were read");
    let want = cos_suite::profile::Profile::load(&given).expect("the profile loads");
    assert_same_capabilities("emulator-s3", &found, &want);
    assert_eq!(codes["dialect"].as_str(), Some("s3"));
    assert_codes_agree("emulator-s3", &codes, 20, &[]);
}
