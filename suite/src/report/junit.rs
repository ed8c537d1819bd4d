//! JUnit XML for CI: a `testsuite` per rule family, a `testcase` per case with `name` and
//! `classname`; assertion failures are `<failure>`, transport and harness problems
//! `<error>`, not-applicable `<skipped>` (h2spec mixed these up and broke CI plugins).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{case_label, repeated, rule_notes, rule_outcome, Report};
use crate::outcome::{CaseResult, Outcome};
use crate::xml::escape;

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let rep = repeated(report);
    let mut families: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for c in &report.cases {
        families.entry(c.family.as_str()).or_default().push(c);
    }
    let count =
        |cs: &[&CaseResult], f: fn(Outcome) -> bool| cs.iter().filter(|c| f(c.outcome)).count();
    let all: Vec<&CaseResult> = report.cases.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cos-suite\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        all.len(),
        count(&all, is_failure),
        count(&all, |o| o == Outcome::Error),
        count(&all, |o| o == Outcome::NotApplicable),
        secs(report.meta.duration_ms)
    );
    for (family, cases) in &families {
        let time: u64 = cases.iter().map(|c| c.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(family),
            cases.len(),
            count(cases, is_failure),
            count(cases, |o| o == Outcome::Error),
            count(cases, |o| o == Outcome::NotApplicable),
            secs(time)
        );
        // Rule verdicts of the family (with partial reasons and caveats) as properties:
        // a case's `ok` does not say what the rule it checks has proven.
        let rules: Vec<_> = report
            .rules
            .iter()
            .filter(|r| r.family == *family)
            .collect();
        if !rules.is_empty() {
            out.push_str("    <properties>\n");
            for r in rules {
                let mut value = rule_outcome(r);
                for n in rule_notes(r) {
                    value.push_str(&format!("; {n}"));
                }
                let _ = writeln!(
                    out,
                    "      <property name=\"rule {}\" value=\"{}\"/>",
                    escape(&r.id),
                    escape(&value)
                );
            }
            out.push_str("    </properties>\n");
        }
        for c in cases {
            testcase(&mut out, c, rep);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn is_failure(o: Outcome) -> bool {
    matches!(o, Outcome::Fail | Outcome::UnexpectedPass)
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn testcase(out: &mut String, c: &CaseResult, rep: bool) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"cos-suite.{}\" time=\"{}\"",
        escape(&case_label(c, rep)),
        escape(&c.family),
        secs(c.duration_ms)
    );
    let dump = c.failure.as_ref().map(|f| f.to_text()).unwrap_or_default();
    let reason = c.reason.clone().unwrap_or_default();
    match c.outcome {
        Outcome::Pass => out.push_str("/>\n"),
        Outcome::ExpectedFail => {
            let _ = write!(
                out,
                ">\n      <system-out>{}\n{}</system-out>\n    </testcase>\n",
                escape(&reason),
                escape(&dump)
            );
        }
        Outcome::Fail => {
            let first = c
                .failure
                .as_ref()
                .and_then(|f| f.mismatches.first())
                .map(|m| format!("{}: expected {}, got {}", m.field, m.expected, m.got))
                .unwrap_or_else(|| "expectation failed".into());
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>\n",
                escape(&first),
                escape(&dump)
            );
        }
        Outcome::UnexpectedPass => {
            let _ = write!(
                out,
                ">\n      <failure message=\"{}\" type=\"unexpected-pass\"/>\n    </testcase>\n",
                escape(&reason)
            );
        }
        Outcome::NotApplicable => {
            let _ = write!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(&reason)
            );
        }
        Outcome::Error => {
            let _ = write!(
                out,
                ">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>\n",
                escape(&reason),
                escape(&dump)
            );
        }
    }
}
