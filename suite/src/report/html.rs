//! One self-contained HTML page: the rule matrix with status and quoted rule text, a
//! filter for failing rules, and expandable failure dumps. No external assets.

use std::fmt::Write;

use super::{case_label, repeated, rule_notes, rule_outcome, rule_status, verdict_class, Report};
use crate::codes::CodeCheck;
use crate::outcome::Outcome;
use crate::xml::escape;

/// Shared page style (also used by the merged matrix).
pub(crate) const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}\
th{background:#f2f2f2}.pass{background:#e3f6e3}.fail,.unexpected-pass{background:#fbe0e0}.error{background:#fdebd0}\
.expected-fail{background:#efe6f9}.not-applicable,.no-case{background:#eee;color:#555}\
.partial,.pass-wire{background:#fff4cc}.notes{font-size:92%;color:#444}\
pre{white-space:pre-wrap;background:#f7f7f7;padding:.6em;border:1px solid #ddd;max-width:110ch}\
details summary{cursor:pointer}blockquote{margin:.3em 0 .3em 1em;color:#444}code{font-size:92%}";

/// Renders the report as HTML.
pub fn render(report: &Report) -> String {
    let m = &report.meta;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cos-suite report: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&m.profile)
    );
    let _ = writeln!(
        out,
        "<h1>cos-suite report</h1>\n<p>endpoint <code>{}</code> · profile <code>{}</code> · suite {} · catalog {} · seed {} · strict {} · {}</p>",
        escape(&m.endpoint),
        escape(&m.profile),
        escape(&m.suite_version),
        escape(&m.catalog_revision),
        m.seed,
        m.strict,
        escape(&m.started_at)
    );
    out.push_str("<table><tr>");
    for o in Outcome::ALL {
        let _ = write!(out, "<th class=\"{0}\">{0}</th>", o.as_str());
    }
    out.push_str("</tr><tr>");
    for o in Outcome::ALL {
        let _ = write!(
            out,
            "<td>{}</td>",
            report.summary.get(&o).copied().unwrap_or(0)
        );
    }
    out.push_str("</tr></table>\n");
    out.push_str("<h2>Rules</h2>\n<label><input type=\"checkbox\" id=\"only-failing\"> only rules that did not pass</label>\n");
    out.push_str("<table id=\"rules\"><tr><th>rule</th><th>status</th><th>cases (+/−)</th><th>verdict</th><th>codes (confidence)</th></tr>\n");
    for r in &report.rules {
        let outcome = rule_outcome(r);
        let class = verdict_class(&outcome);
        let notes: String = rule_notes(r)
            .iter()
            .map(|n| format!("<div class=\"notes\">{}</div>", escape(n)))
            .collect();
        let _ = writeln!(
            out,
            "<tr class=\"rule\" data-outcome=\"{class}\"><td><details><summary><code>{}</code> {}</summary><blockquote>{}</blockquote></details></td><td>{}</td><td>{} ({}/{})</td><td class=\"{class}\">{}{notes}</td><td>{}</td></tr>",
            escape(&r.id),
            escape(&r.title),
            escape(&r.quote).replace('\n', "<br>"),
            escape(&rule_status(r)),
            r.cases.len(),
            r.positive,
            r.negative,
            escape(&outcome),
            codes_cell(&r.codes)
        );
    }
    out.push_str(
        "</table>\n<h2>Cases</h2>\n<table><tr><th>case</th><th>outcome</th><th>details</th></tr>\n",
    );
    let rep = repeated(report);
    for c in &report.cases {
        let mut details = c.reason.as_deref().map(escape).unwrap_or_default();
        if let Some(f) = &c.failure {
            let _ = write!(
                details,
                "<details><summary>failure dump</summary><pre>{}</pre></details>",
                escape(&f.to_text())
            );
        }
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code><br>{}</td><td class=\"{}\">{}</td><td>{details}</td></tr>",
            escape(&case_label(c, rep)),
            escape(&c.title),
            c.outcome.as_str(),
            c.outcome.as_str()
        );
    }
    out.push_str("</table>\n");
    out.push_str("<script>document.getElementById('only-failing').addEventListener('change',function(e){for(const r of document.querySelectorAll('tr.rule')){const o=r.dataset.outcome;r.style.display=(e.target.checked&&(o==='pass'||o==='expected-fail'||o==='not-applicable'))?'none':'';}});</script>\n");
    out.push_str("</body></html>\n");
    out
}

/// The HTML report's "codes" cell of a rule: each code with its confidence and rows,
/// linked to its sources.
pub fn codes_cell(checks: &[CodeCheck]) -> String {
    checks
        .iter()
        .map(|c| {
            let sources: Vec<String> = c
                .sources
                .iter()
                .map(|s| match &s.url {
                    Some(url) => format!("<a href=\"{}\">{}</a>", escape(url), escape(&s.id)),
                    None => escape(&s.id),
                })
                .collect();
            format!(
                "<code>{}</code> ({}; {})",
                escape(&c.code),
                escape(&c.label()),
                sources.join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}
