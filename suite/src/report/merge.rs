//! `cos-suite report merge`: several JSON reports side by side, a column per endpoint,
//! like test262.fyi.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{html::STYLE, rule_outcome, verdict_class, Report};
use crate::xml::escape;

/// A cross-endpoint matrix.
pub struct Matrix {
    /// Column headers: profile and endpoint of each report.
    pub columns: Vec<String>,
    /// One row per rule.
    pub rows: Vec<Row>,
}

/// One rule across the endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Rule id.
    pub id: String,
    /// Status.
    pub status: String,
    /// Title.
    pub title: String,
    /// For `observable: false` rules: what the wire cannot show (from any report).
    pub caveat: Option<String>,
    /// One verdict per column (`—` where that report lacks the rule).
    pub cells: Vec<String>,
}

/// Builds the matrix; rules are listed in the first report's order, then any others.
pub fn matrix(reports: &[Report]) -> Matrix {
    let columns = reports
        .iter()
        .map(|r| format!("{} ({})", r.meta.profile, r.meta.endpoint))
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (i, report) in reports.iter().enumerate() {
        for rule in &report.rules {
            let at = *index.entry(rule.id.clone()).or_insert_with(|| {
                rows.push(Row {
                    id: rule.id.clone(),
                    status: rule.status.clone(),
                    title: rule.title.clone(),
                    caveat: None,
                    cells: vec!["—".to_string(); reports.len()],
                });
                rows.len() - 1
            });
            let row = &mut rows[at];
            if row.caveat.is_none() {
                row.caveat = rule.caveat.clone();
            }
            row.cells[i] = match &rule.behaviour {
                Some(b) => format!("{} ({b})", rule_outcome(rule)),
                None => rule_outcome(rule),
            };
        }
    }
    Matrix { columns, rows }
}

/// The matrix as Markdown.
pub fn markdown(m: &Matrix) -> String {
    let mut out = String::from("# cos-suite: rules across endpoints\n\n| rule | status |");
    for c in &m.columns {
        let _ = write!(out, " {} |", c.replace('|', "\\|"));
    }
    out.push_str(" caveat |\n|---|---|");
    out.push_str(&"---|".repeat(m.columns.len() + 1));
    out.push('\n');
    for row in &m.rows {
        let _ = write!(out, "| `{}` | {} |", row.id, row.status);
        for c in &row.cells {
            let _ = write!(out, " {c} |");
        }
        let caveat = row.caveat.as_deref().unwrap_or("").replace('|', "\\|");
        let _ = writeln!(out, " {caveat} |");
    }
    out
}

/// The matrix as one self-contained HTML page.
pub fn html(m: &Matrix) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cos-suite: rules across endpoints</title><style>{STYLE}</style></head><body>\n<h1>Rules across endpoints</h1>\n<table><tr><th>rule</th><th>status</th>"
    );
    for c in &m.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("<th>caveat</th></tr>\n");
    for row in &m.rows {
        let _ = write!(
            out,
            "<tr><td><code>{}</code><br>{}</td><td>{}</td>",
            escape(&row.id),
            escape(&row.title),
            escape(&row.status)
        );
        for c in &row.cells {
            // The verdict colours the cell; a switchable rule's cell adds the behaviour
            // checked, e.g. "pass (refused)".
            let verdict = c.split(" (").next().unwrap_or_default();
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                escape(&verdict_class(verdict)),
                escape(c)
            );
        }
        let _ = writeln!(
            out,
            "<td class=\"notes\">{}</td></tr>",
            escape(row.caveat.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_coloured_by_verdict_even_with_the_behaviour_checked() {
        let m = Matrix {
            columns: vec!["a (x)".into(), "b (y)".into()],
            rows: vec![
                Row {
                    id: "REGION-SSE".into(),
                    status: "unspecified".into(),
                    title: "t".into(),
                    caveat: None,
                    cells: vec!["pass (enforced)".into(), "fail (all-regions)".into()],
                },
                Row {
                    id: "AT-REST".into(),
                    status: "documented".into(),
                    title: "t".into(),
                    caveat: Some("the disk is not on the wire".into()),
                    cells: vec![crate::verdict::WIRE_ONLY.into(), "partial".into()],
                },
            ],
        };
        let page = html(&m);
        assert!(
            page.contains("<td class=\"pass\">pass (enforced)</td>"),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"fail\">fail (all-regions)</td>"),
            "{page}"
        );
        assert!(
            page.contains("<td class=\"pass-wire\">pass — wire evidence only</td><td class=\"partial\">partial</td><td class=\"notes\">the disk is not on the wire</td>"),
            "{page}"
        );
        assert!(
            markdown(&m).contains("| `AT-REST` | documented | pass — wire evidence only | partial | the disk is not on the wire |"),
            "{}",
            markdown(&m)
        );
    }
}
