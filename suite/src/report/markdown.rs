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
    grid_section(&mut out, report);
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

/// The rule × operation grid (`crate::grid`): a row per rule that lists operations, a
/// column per operation some rule lists; each cell `+-`, `+.`, `.-`, `u` for an untestable
/// side, `..` empty; then the untestable reasons.
fn grid_section(out: &mut String, report: &Report) {
    let rows: Vec<crate::grid::Row> = report
        .rules
        .iter()
        .filter(|r| !r.grid.is_empty())
        .map(|r| crate::grid::Row {
            rule: r.id.clone(),
            cells: r.grid.clone(),
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let mut columns: Vec<&str> = Vec::new();
    for op in crate::grid::OPERATIONS.iter().copied().chain(
        rows.iter()
            .flat_map(|r| r.cells.iter().map(|c| c.operation.as_str())),
    ) {
        let listed = rows
            .iter()
            .any(|r| r.cells.iter().any(|c| c.operation == op));
        if listed && !columns.contains(&op) {
            columns.push(op);
        }
    }
    out.push_str("\n## Rule × operation grid\n\n`+-` both sides shown by a case of this run, `+.` positive only, `.-` negative only, `u` a side the rule says cannot be tested there, `..` empty.\n\n| rule |");
    for op in &columns {
        let _ = write!(out, " {op} |");
    }
    out.push_str("\n|---|");
    out.push_str(&":-:|".repeat(columns.len()));
    out.push('\n');
    for row in &rows {
        let _ = write!(out, "| `{}` |", row.rule);
        for op in &columns {
            let sym = row
                .cells
                .iter()
                .find(|c| c.operation == *op)
                .map(|c| format!("`{}`", c.symbol()))
                .unwrap_or_default();
            let _ = write!(out, " {sym} |");
        }
        out.push('\n');
    }
    let (cells, full, empty) = crate::grid::totals(&rows);
    let _ = writeln!(
        out,
        "\n{cells} cells, {full} with both sides shown or untestable, {empty} empty side(s)."
    );
    for row in &rows {
        for cell in &row.cells {
            for (side, s) in [("positive", &cell.positive), ("negative", &cell.negative)] {
                if let crate::grid::Side::Untestable(reason) = s {
                    let _ = writeln!(
                        out,
                        "- `{}` on {} ({side}): {}",
                        row.rule,
                        cell.operation,
                        reason.replace('|', "\\|")
                    );
                }
            }
        }
    }
}
