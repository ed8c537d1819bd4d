//! `cos-suite report merge`: several JSON reports side by side, a column per endpoint,
//! like test262.fyi.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{escape, html::STYLE, rule_outcome, Report};

/// A cross-endpoint matrix.
pub struct Matrix {
    /// Column headers: profile and endpoint of each report.
    pub columns: Vec<String>,
    /// Rows: rule id, status, title, then one outcome per column.
    pub rows: Vec<(String, String, String, Vec<String>)>,
}

/// Builds the matrix; rules are listed in the first report's order, then any others.
pub fn matrix(reports: &[Report]) -> Matrix {
    let columns = reports
        .iter()
        .map(|r| format!("{} ({})", r.meta.profile, r.meta.endpoint))
        .collect();
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut cells: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, report) in reports.iter().enumerate() {
        for rule in &report.rules {
            let row = cells.entry(rule.id.clone()).or_insert_with(|| {
                order.push((rule.id.clone(), rule.status.clone(), rule.title.clone()));
                vec!["—".to_string(); reports.len()]
            });
            row[i] = match &rule.behaviour {
                Some(b) => format!("{} ({b})", rule_outcome(rule)),
                None => rule_outcome(rule).to_string(),
            };
        }
    }
    let rows = order
        .into_iter()
        .map(|(id, status, title)| {
            let c = cells.remove(&id).unwrap_or_default();
            (id, status, title, c)
        })
        .collect();
    Matrix { columns, rows }
}

/// The matrix as Markdown.
pub fn markdown(m: &Matrix) -> String {
    let mut out = String::from("# cos-suite: rules across endpoints\n\n| rule | status |");
    for c in &m.columns {
        let _ = write!(out, " {} |", c.replace('|', "\\|"));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(m.columns.len()));
    out.push('\n');
    for (id, status, _, cells) in &m.rows {
        let _ = write!(out, "| `{id}` | {status} |");
        for c in cells {
            let _ = write!(out, " {c} |");
        }
        out.push('\n');
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
    out.push_str("</tr>\n");
    for (id, status, title, cells) in &m.rows {
        let _ = write!(
            out,
            "<tr><td><code>{}</code><br>{}</td><td>{}</td>",
            escape(id),
            escape(title),
            escape(status)
        );
        for c in cells {
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                // The verdict colours the cell; a switchable rule's cell adds the
                // behaviour checked, e.g. "pass (refused)".
                escape(c.split_whitespace().next().unwrap_or_default()),
                escape(c)
            );
        }
        out.push_str("</tr>\n");
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
            rows: vec![(
                "REGION-SSE".into(),
                "unspecified".into(),
                "t".into(),
                vec!["pass (enforced)".into(), "fail (all-regions)".into()],
            )],
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
    }
}
