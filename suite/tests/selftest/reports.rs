//! Report writers: snapshots of every format for one fixed report, and the JUnit XML
//! checked for well-formedness and the attributes CI plugins need.

use std::collections::BTreeMap;

use cos_suite::case::Polarity;
use cos_suite::outcome::{CaseResult, FailureDump, Mismatch, Outcome, RuleQuote};
use cos_suite::report::{html, junit, markdown, merge, Report, RunMeta};
use quick_xml::events::Event;

fn sample() -> Report {
    let case = |id: &str, outcome: Outcome, reason: Option<&str>, failure: Option<FailureDump>| {
        CaseResult {
            id: id.into(),
            title: format!("title of {id}"),
            family: id.split('/').next().unwrap_or_default().into(),
            rules: vec!["SSEC-WRONG-KEY".into()],
            polarity: Polarity::Negative,
            repetition: 1,
            outcome,
            reason: reason.map(Into::into),
            region: Some("ap-beijing".into()),
            duration_ms: 12,
            warnings: vec![],
            failure,
            evidence: Default::default(),
            exchanges: Vec::new(),
        }
    };
    let dump = FailureDump {
        step: 1,
        step_label: "get {{case}}/obj".into(),
        rules: vec![RuleQuote {
            id: "SSEC-WRONG-KEY".into(),
            title: "wrong key refused".into(),
            quote: "000.txt (SSE-C): \"<quoted> & kept\"".into(),
        }],
        mismatches: vec![Mismatch {
            field: "status".into(),
            expected: "403".into(),
            got: "200".into(),
        }],
        curl: "curl -sS -i 'https://b.cos.ap-beijing.myqcloud.com/k'".into(),
        response: "HTTP/1.1 200\n\nplain\u{1}text".into(),
    };
    let cases = vec![
        case("sse-c/get-wrong-key", Outcome::Fail, None, Some(dump)),
        case("sse-c/put-ok", Outcome::Pass, None, None),
        case(
            "region/edge",
            Outcome::NotApplicable,
            Some("the profile has no region ap-chengdu"),
            None,
        ),
        case(
            "copy/x",
            Outcome::Error,
            Some("step 0: cannot connect to 127.0.0.1:1: refused"),
            None,
        ),
        case(
            "sse-kms/y",
            Outcome::ExpectedFail,
            Some("known deviation: vendor X"),
            None,
        ),
        case(
            "sse-kms/z",
            Outcome::UnexpectedPass,
            Some("listed as a known deviation"),
            None,
        ),
    ];
    let catalog = cos_suite::rules::Catalog::parse(
        "rules.yaml",
        "rules:\n  - id: SSEC-WRONG-KEY\n    family: sse-c\n    title: wrong key refused\n    status: documented\n    s3: applies\n    sources: [{seed: 000.txt, section: SSE-C, quote: \"<quoted> & kept\"}]\n    operations: [GetObject, HeadObject]\n    untestable: {HeadObject: {negative: \"a HEAD has no body | nothing to refuse\"}}\n  - id: UNCOVERED\n    family: sse-c\n    title: no case\n    status: inferred\n    s3: applies\n  - id: SWITCH\n    family: sse-c\n    title: switchable\n    status: unspecified\n    s3: applies\n    behaviours: [{name: refused, default: true}, {name: accepted}]\n",
    )
    .expect("rules");
    let meta = RunMeta {
        suite_version: "0.1.0".into(),
        catalog_revision: "0123456789ab".into(),
        endpoint: "embedded emulator".into(),
        profile: "emulator".into(),
        seed: 7,
        strict: true.into(),
        started_at: "2026-11-23T09:00:00Z".into(),
        duration_ms: 1500,
    };
    let behaviour = |rule: &str| (rule == "SWITCH").then(|| "accepted".to_string());
    Report::build(
        meta,
        &catalog,
        &[],
        cases,
        vec!["cleanup: one warning".into()],
        &behaviour,
    )
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(markdown::render(&sample()));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(junit::render(&sample()));
}

#[test]
fn html_snapshot() {
    insta::assert_snapshot!(html::render(&sample()));
}

#[test]
fn json_round_trips() {
    let r = sample();
    let back: Report = serde_json::from_str(&r.to_json()).expect("the JSON reads back");
    assert_eq!(back.cases.len(), r.cases.len());
    assert_eq!(back.rules[0].outcome, Some(Outcome::Fail));
    assert_eq!(
        back.rules[1].outcome, None,
        "a rule without cases is a hole, not a pass"
    );
    insta::assert_snapshot!(r.to_json());
}

#[test]
fn html_is_self_contained() {
    let page = html::render(&sample());
    for external in ["src=\"http", "href=\"http", "<link", "@import"] {
        assert!(!page.contains(external), "external asset: {external}");
    }
    assert!(page.contains("id=\"only-failing\""));
    assert!(
        page.contains("&lt;quoted&gt; &amp; kept"),
        "rule text quoted and escaped"
    );
}

/// Well-formed, one testsuite per family, every testcase with name and classname, and
/// each outcome in its JUnit element.
#[test]
fn junit_is_well_formed_with_required_attributes() {
    let xml = junit::render(&sample());
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut suites = Vec::new();
    let mut elements: BTreeMap<String, usize> = BTreeMap::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let attrs: BTreeMap<String, String> = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            a.unescape_value().expect("value").into_owned(),
                        )
                    })
                    .collect();
                if name == "testcase" {
                    assert!(
                        attrs.contains_key("name") && attrs.contains_key("classname"),
                        "{attrs:?}"
                    );
                }
                if name == "testsuite" {
                    suites.push(attrs["name"].clone());
                }
                *elements.entry(name).or_default() += 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(suites, ["copy", "region", "sse-c", "sse-kms"]);
    assert_eq!(elements.get("testcase"), Some(&6));
    assert_eq!(
        elements.get("failure"),
        Some(&2),
        "fail and unexpected-pass"
    );
    assert_eq!(elements.get("error"), Some(&1));
    assert_eq!(elements.get("skipped"), Some(&1));
}

#[test]
fn merged_matrix_has_a_column_per_endpoint() {
    let a = sample();
    let mut b = sample();
    b.meta.profile = "vendor".into();
    b.rules[0].outcome = Some(Outcome::Pass);
    let m = merge::matrix(&[a, b]);
    assert_eq!(m.columns.len(), 2);
    assert_eq!(
        m.rows[0].cells,
        vec!["fail".to_string(), "pass".to_string()]
    );
    insta::assert_snapshot!(merge::markdown(&m));
    assert!(merge::html(&m).contains("<td class=\"pass\">pass</td>"));
}

/// Rule verdicts say what was proven: both polarities for `pass`, else
/// `partial` with the reason; `observable: false` rules pass on "wire evidence only" with
/// their caveat, unless a case rests on introspection; every format shows it.
#[test]
fn rule_verdicts_say_what_was_proven() {
    use cos_suite::outcome::Evidence;
    let catalog = cos_suite::rules::Catalog::parse(
        "rules.yaml",
        "rules:
  - {id: R-FULL, family: sse-c, title: t, status: documented, s3: applies}
  - {id: R-PARTIAL, family: sse-c, title: t, status: documented, s3: applies}
  - {id: R-NEG-ONLY, family: sse-c, title: t, status: documented, s3: applies}
  - {id: R-WIRE, family: sse-c, title: t, status: documented, s3: applies, observable: false, caveat: the disk is not on the wire}
  - {id: R-INTRO, family: sse-c, title: t, status: documented, s3: applies, observable: false, caveat: the disk is not on the wire}
",
    )
    .expect("rules");
    let case = |id: &str, rule: &str, polarity: Polarity, outcome: Outcome, evidence: Evidence| {
        CaseResult {
            id: id.into(),
            title: id.into(),
            family: "sse-c".into(),
            rules: vec![rule.into()],
            polarity,
            repetition: 1,
            outcome,
            reason: (outcome == Outcome::NotApplicable)
                .then(|| "the profile lacks the capability `http`".into()),
            region: None,
            duration_ms: 1,
            warnings: vec![],
            failure: None,
            evidence,
            exchanges: Vec::new(),
        }
    };
    use Outcome::{NotApplicable as Na, Pass};
    use Polarity::{Negative as Neg, Positive as Pos};
    let w = Evidence::Wire;
    let results = vec![
        case("sse-c/a", "R-FULL", Pos, Pass, w),
        case("sse-c/b", "R-FULL", Neg, Pass, w),
        case("sse-c/c", "R-PARTIAL", Pos, Pass, w),
        case("sse-c/d", "R-PARTIAL", Neg, Na, w),
        case("sse-c/e", "R-NEG-ONLY", Neg, Pass, w),
        case("sse-c/f", "R-WIRE", Pos, Pass, w),
        case("sse-c/g", "R-INTRO", Pos, Pass, Evidence::Introspection),
    ];
    let meta = sample().meta;
    let r = Report::build(meta, &catalog, &[], results, vec![], &|_| None);
    let verdicts: Vec<(&str, &str, Option<&str>)> = r
        .rules
        .iter()
        .map(|v| (v.id.as_str(), v.verdict.as_str(), v.partial.as_deref()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("R-FULL", "pass", None),
            (
                "R-PARTIAL",
                "partial",
                Some("negative cases not applicable: the profile lacks the capability `http`")
            ),
            ("R-NEG-ONLY", "partial", Some("no positive case checks it")),
            ("R-WIRE", "pass — wire evidence only", None),
            ("R-INTRO", "pass", None),
        ]
    );
    assert_eq!(r.rules[4].evidence, Evidence::Introspection);
    let json = r.to_json();
    assert!(
        json.contains("\"caveat\": \"the disk is not on the wire\""),
        "{json}"
    );
    assert!(json.contains("\"evidence\": \"introspection\""), "{json}");
    let md = markdown::render(&r);
    assert!(
        md.contains("| `R-PARTIAL` | documented | 0 (0/0) | partial |  | partial: negative cases not applicable: the profile lacks the capability `http` |"),
        "{md}"
    );
    assert!(
        md.contains("| `R-WIRE` | documented | 0 (0/0) | pass — wire evidence only |  | caveat: the disk is not on the wire |"),
        "{md}"
    );
    let page = html::render(&r);
    assert!(page.contains("<td class=\"pass-wire\">pass — wire evidence only<div class=\"notes\">caveat: the disk is not on the wire</div></td>"), "{page}");
    let xml = junit::render(&r);
    assert!(
        xml.contains("<property name=\"rule R-WIRE\" value=\"pass — wire evidence only; caveat: the disk is not on the wire\"/>"),
        "{xml}"
    );
    let m = merge::matrix(std::slice::from_ref(&r));
    assert!(merge::markdown(&m).contains(
        "| `R-WIRE` | documented | pass — wire evidence only | the disk is not on the wire |"
    ));
}

/// docs/peers.md's table and README's summary are the committed peers run's figures
/// (reports/peers/): recomputed here from each endpoint's report.json, so a regenerated
/// run with other figures fails until the documents follow it.
#[test]
fn the_peers_documents_give_the_committed_runs_figures() {
    use cos_suite::outcome::Outcome;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/peers.md")).expect("docs/peers.md");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for (name, label) in [
        ("emulator", "| emulator (embedded) |"),
        ("emulator-s3", "| emulator (embedded, S3 dialect) |"),
        ("seaweedfs", "| SeaweedFS 4.48 |"),
        ("moto", "| moto 5.2.5 |"),
    ] {
        let report = cos_suite::report::Report::load(
            &root.join(format!("reports/peers/{name}/report.json")),
        )
        .expect("a committed report");
        let rules =
            |pred: &dyn Fn(&str) -> bool| report.rules.iter().filter(|r| pred(&r.verdict)).count();
        let pass = rules(&|v| v == "pass");
        let amber = rules(&|v| v == "partial" || v == cos_suite::verdict::WIRE_ONLY);
        let fail = rules(&|v| v == "fail" || v == "error");
        let na = rules(&|v| v == "not-applicable");
        let cases = |o: Outcome| report.cases.iter().filter(|c| c.outcome == o).count();
        let row = doc
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("docs/peers.md has no row {label}"));
        let want = format!(
            "| {pass} | {amber} | {fail} | {na} | {} / {} / {} |",
            cases(Outcome::Pass),
            cases(Outcome::Fail),
            cases(Outcome::NotApplicable)
        );
        assert!(row.ends_with(&want), "{row}\nwant …{want}");
        if name == "emulator-s3" {
            assert_eq!(fail, 0, "the S3 reference column has a failing rule");
        } else if name != "emulator" {
            let applicable = report.rules.len() - na;
            assert!(
                readme.contains(&format!("of the {applicable} that apply")),
                "README: {applicable} applicable rules"
            );
            let says = match name {
                "seaweedfs" => format!("SeaweedFS fails {fail} "),
                _ => format!("moto {fail} of the"),
            };
            assert!(readme.contains(&says), "README: `{says}`");
        }
    }
}
