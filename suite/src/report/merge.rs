//! `cos-suite report merge`: several JSON reports side by side, a column per endpoint,
//! like test262.fyi.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use super::{html::STYLE, rule_outcome, verdict_class, Report};
use crate::outcome::Outcome;
use crate::xml::escape;

/// A cross-endpoint matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// Column headers: profile and endpoint of each report.
    pub columns: Vec<String>,
    /// Per column, where that endpoint's own reports are (relative to the matrix), when
    /// the caller wrote them (`cos-suite peers`).
    pub links: Vec<Option<String>>,
    /// One row per rule.
    pub rows: Vec<Row>,
}

/// What a cell needs besides its verdict: why it is not applicable, and for a red or amber
/// cell the exchanges that made it so (each failing case's dump: request, response,
/// mismatches).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CellDetail {
    /// Why the rule did not apply there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// `(case id, its failure dump or reason)` of each case that did not pass.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<(String, String)>,
}

/// One rule across the endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// One detail per column (empty where there is nothing to add).
    pub details: Vec<CellDetail>,
}

/// Builds the matrix; rules are listed in the first report's order, then any others.
pub fn matrix(reports: &[Report]) -> Matrix {
    let columns = reports
        .iter()
        .map(|r| format!("{} ({})", r.meta.profile, r.meta.endpoint))
        .collect();
    let links = vec![None; reports.len()];
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
                    details: vec![CellDetail::default(); reports.len()],
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
            // Red and amber cells only: a passing rule's cell needs no evidence.
            let red = !matches!(
                rule.outcome,
                None | Some(Outcome::Pass | Outcome::NotApplicable)
            );
            let exchanges = report
                .cases
                .iter()
                .filter(|_| red)
                .filter(|c| c.rules.contains(&rule.id))
                .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::NotApplicable))
                .map(|c| {
                    let text = match &c.failure {
                        Some(f) => f.to_text(),
                        None => c.reason.clone().unwrap_or_default(),
                    };
                    (format!("{} ({})", c.id, c.outcome.as_str()), text)
                })
                .collect();
            row.details[i] = CellDetail {
                not_applicable: rule.not_applicable.clone(),
                exchanges,
            };
        }
    }
    Matrix {
        columns,
        links,
        rows,
    }
}

/// The matrix as JSON (the source of truth of `reports/peers/`).
pub fn json(m: &Matrix) -> String {
    serde_json::to_string_pretty(m).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
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
        for (i, c) in row.cells.iter().enumerate() {
            let detail = row.details.get(i).cloned().unwrap_or_default();
            let mut cell = c.clone();
            if let Some(why) = &detail.not_applicable {
                cell.push_str(&format!(": {why}"));
            }
            if !detail.exchanges.is_empty() {
                let cases: Vec<&str> = detail.exchanges.iter().map(|(c, _)| c.as_str()).collect();
                let link = m.links.get(i).cloned().flatten();
                match link {
                    Some(l) => cell.push_str(&format!(" ([exchanges]({l}): {})", cases.join(", "))),
                    None => cell.push_str(&format!(" ({})", cases.join(", "))),
                }
            }
            let _ = write!(out, " {} |", cell.replace('|', "\\|").replace('\n', " "));
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
    for (i, c) in m.columns.iter().enumerate() {
        match m.links.get(i).cloned().flatten() {
            Some(l) => {
                let _ = write!(out, "<th><a href=\"{}\">{}</a></th>", escape(&l), escape(c));
            }
            None => {
                let _ = write!(out, "<th>{}</th>", escape(c));
            }
        }
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
        for (i, c) in row.cells.iter().enumerate() {
            // The verdict colours the cell; a switchable rule's cell adds the behaviour
            // checked, e.g. "pass (refused)".
            let verdict = c.split(" (").next().unwrap_or_default();
            let detail = row.details.get(i).cloned().unwrap_or_default();
            let mut extra = String::new();
            if let Some(why) = &detail.not_applicable {
                let _ = write!(extra, "<div class=\"notes\">{}</div>", escape(why));
            }
            for (case, text) in &detail.exchanges {
                let _ = write!(
                    extra,
                    "<details><summary>{}</summary><pre>{}</pre></details>",
                    escape(case),
                    escape(text)
                );
            }
            let _ = write!(
                out,
                "<td class=\"{}\">{}{extra}</td>",
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
            links: vec![None, None],
            rows: vec![
                Row {
                    id: "REGION-SSE".into(),
                    status: "unspecified".into(),
                    title: "t".into(),
                    caveat: None,
                    cells: vec!["pass (enforced)".into(), "fail (all-regions)".into()],
                    details: vec![CellDetail::default(), CellDetail::default()],
                },
                Row {
                    id: "AT-REST".into(),
                    status: "documented".into(),
                    title: "t".into(),
                    caveat: Some("the disk is not on the wire".into()),
                    cells: vec![crate::verdict::WIRE_ONLY.into(), "partial".into()],
                    details: vec![CellDetail::default(), CellDetail::default()],
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

    /// A not-applicable cell says why and a red cell carries its exchanges, in every
    /// format of the matrix.
    #[test]
    fn not_applicable_cells_say_why_and_red_cells_carry_the_exchange() {
        let m = Matrix {
            columns: vec!["emulator (x)".into(), "seaweedfs (y)".into()],
            links: vec![None, Some("seaweedfs/report.html".into())],
            rows: vec![Row {
                id: "KMS-ALG".into(),
                status: "documented".into(),
                title: "t".into(),
                caveat: None,
                cells: vec!["not-applicable".into(), "fail".into()],
                details: vec![
                    CellDetail {
                        not_applicable: Some("SM4 is COS-only".into()),
                        exchanges: vec![],
                    },
                    CellDetail {
                        not_applicable: None,
                        exchanges: vec![(
                            "sse-kms/x (fail)".into(),
                            "request:\ncurl -X PUT <&>\nresponse:\nHTTP/1.1 500".into(),
                        )],
                    },
                ],
            }],
        };
        let md = markdown(&m);
        assert!(md.contains("| not-applicable: SM4 is COS-only |"), "{md}");
        assert!(
            md.contains("| fail ([exchanges](seaweedfs/report.html): sse-kms/x (fail)) |"),
            "{md}"
        );
        let page = html(&m);
        assert!(
            page.contains("<div class=\"notes\">SM4 is COS-only</div>"),
            "{page}"
        );
        assert!(
            page.contains("<details><summary>sse-kms/x (fail)</summary><pre>request:\ncurl -X PUT &lt;&amp;&gt;"),
            "{page}"
        );
        let js: serde_json::Value = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(
            js["rows"][0]["details"][0]["not_applicable"],
            "SM4 is COS-only"
        );
        assert_eq!(
            js["rows"][0]["details"][1]["exchanges"][0][0],
            "sse-kms/x (fail)"
        );
    }
}
