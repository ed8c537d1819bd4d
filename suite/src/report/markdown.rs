//! The Markdown report: summary, rule matrix (rule, status, cases, outcome), failures.

use std::fmt::Write;

use super::{case_label, repeated, rule_notes, rule_outcome, rule_status, Report};
use crate::codes::CodeCheck;
use crate::outcome::Outcome;

/// Renders the report as Markdown.
pub fn render(report: &Report) -> String {
    let m = &report.meta;
    let mut out = String::from("# cos-suite report\n\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| endpoint | `{}` |", m.endpoint);
    let _ = writeln!(out, "| profile | `{}` |", m.profile);
    let _ = writeln!(
        out,
        "| suite | {} (catalog {}) |",
        m.suite_version, m.catalog_revision
    );
    let _ = writeln!(out, "| seed | {} |", m.seed);
    let _ = writeln!(out, "| strict | {} |", m.strict);
    let _ = writeln!(out, "| started | {} |\n", m.started_at);
    out.push_str("## Summary\n\n| outcome | cases |\n|---|---:|\n");
    for o in Outcome::ALL {
        let _ = writeln!(
            out,
            "| {} | {} |",
            o.as_str(),
            report.summary.get(&o).copied().unwrap_or(0)
        );
    }
    out.push_str(
        "\n## Rules\n\n| rule | status | cases (+/−) | verdict | codes (confidence) | notes |\n|---|---|---:|---|---|---|\n",
    );
    for r in &report.rules {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} ({}/{}) | {} | {} | {} |",
            r.id,
            rule_status(r),
            r.cases.len(),
            r.positive,
            r.negative,
            rule_outcome(r),
            codes_cell(&r.codes),
            rule_notes(r).join("<br>").replace('|', "\\|")
        );
    }
    let rep = repeated(report);
    let notable: Vec<_> = report
        .cases
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Pass))
        .collect();
    if !notable.is_empty() {
        out.push_str("\n## Cases that did not pass\n");
        for c in notable {
            let _ = writeln!(
                out,
                "\n### `{}`: {}\n\n{}",
                case_label(c, rep),
                c.outcome.as_str(),
                c.title
            );
            if let Some(reason) = &c.reason {
                let _ = writeln!(out, "\n{reason}");
            }
            if let Some(f) = &c.failure {
                let _ = writeln!(out, "\n```text\n{}```", f.to_text());
            }
        }
    }
    if !report.warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for w in &report.warnings {
            let _ = writeln!(out, "- {w}");
        }
    }
    out
}

/// The Markdown report's "codes" cell of a rule.
fn codes_cell(checks: &[CodeCheck]) -> String {
    checks
        .iter()
        .map(|c| format!("`{}` ({})", c.code, c.label()))
        .collect::<Vec<_>>()
        .join("<br>")
}
