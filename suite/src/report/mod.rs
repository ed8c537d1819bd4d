//! Reports. JSON is the source of truth; JUnit XML, Markdown and HTML are written from the
//! same [`Report`]. `merge` puts several JSON reports side by side, a column per endpoint.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::case::{Case, Polarity};
use crate::codes::CodePolicy;
use crate::outcome::{CaseResult, Outcome};
use crate::rules::Catalog;
use crate::verdict::{aggregate, rule_verdict, RuleVerdict};

/// Run metadata recorded in every report (like test262.fyi).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// The suite's version.
    pub suite_version: String,
    /// Hash of the cases directory (rules.yaml and every case file).
    pub catalog_revision: String,
    /// The endpoint template (or "embedded emulator").
    pub endpoint: String,
    /// The profile's name.
    pub profile: String,
    /// The run seed (`--seed` replays it).
    pub seed: u64,
    /// Which wrong error codes failed a case: `off`, `vendor` (`--strict`) or `all`.
    #[serde(deserialize_with = "crate::codes::Strictness::deserialize_compat")]
    pub strict: crate::codes::Strictness,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Metadata.
    pub meta: RunMeta,
    /// Count per outcome.
    pub summary: BTreeMap<Outcome, usize>,
    /// Per-rule verdicts, in catalog order.
    pub rules: Vec<RuleVerdict>,
    /// Per-case records.
    pub cases: Vec<CaseResult>,
    /// Run-level warnings (cleanup, bucket deletion).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl Report {
    /// Fills each rule's `codes` from the run's code policy (`cases/codes.yaml` and the
    /// `--strict` level), so every format prints the codes a rule was checked against.
    pub fn annotate_codes(&mut self, policy: &CodePolicy, cases: &[Case]) {
        let mut per_rule = policy.per_rule(cases);
        for rule in &mut self.rules {
            rule.codes = per_rule.remove(&rule.id).unwrap_or_default();
        }
    }

    /// Builds the report: per-rule verdicts over the results, counts from the catalog;
    /// `behaviour` gives the behaviour in effect for a switchable rule (the profile's).
    pub fn build(
        meta: RunMeta,
        catalog: &Catalog,
        cases: &[Case],
        results: Vec<CaseResult>,
        warnings: Vec<String>,
        behaviour: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let mut summary: BTreeMap<Outcome, usize> = BTreeMap::new();
        for r in &results {
            *summary.entry(r.outcome).or_default() += 1;
        }
        let mut grid = crate::grid::grid(catalog.rules(), cases).into_iter();
        let rules = catalog
            .rules()
            .iter()
            .map(|rule| {
                let naming: Vec<&Case> = cases
                    .iter()
                    .filter(|c| c.rules.contains(&rule.id))
                    .collect();
                let ran: Vec<&CaseResult> = results
                    .iter()
                    .filter(|r| r.rules.contains(&rule.id))
                    .collect();
                let outcome = aggregate(ran.iter().map(|r| r.outcome));
                let has_negatives = naming.iter().any(|c| c.polarity == Polarity::Negative)
                    || ran.iter().any(|r| r.polarity == Polarity::Negative);
                let partial = (outcome == Some(Outcome::Pass))
                    .then(|| unproven(&ran, has_negatives))
                    .flatten();
                // Introspection upgrades the evidence only when a case that passed used it.
                let evidence = ran
                    .iter()
                    .filter(|r| r.outcome == Outcome::Pass)
                    .map(|r| r.evidence)
                    .max()
                    .unwrap_or_default();
                RuleVerdict {
                    id: rule.id.clone(),
                    family: rule.family.clone(),
                    title: rule.title.clone(),
                    status: rule.status.as_str().to_string(),
                    behaviour: if rule.behaviours.is_empty() {
                        None
                    } else {
                        behaviour(&rule.id)
                    },
                    quote: rule.quoted_sources(),
                    cases: naming.iter().map(|c| c.id.clone()).collect(),
                    positive: naming
                        .iter()
                        .filter(|c| c.polarity == Polarity::Positive)
                        .count(),
                    negative: naming
                        .iter()
                        .filter(|c| c.polarity == Polarity::Negative)
                        .count(),
                    outcome,
                    verdict: rule_verdict(outcome, partial.is_some(), rule.observable, evidence),
                    partial,
                    observable: rule.observable,
                    caveat: rule.caveat.clone(),
                    evidence,
                    codes: Vec::new(),
                    not_applicable: (outcome == Some(Outcome::NotApplicable))
                        .then(|| na_reasons(&ran)),
                    grid: grid.next().map(|row| row.cells).unwrap_or_default(),
                }
            })
            .collect();
        Self {
            meta,
            summary,
            rules,
            cases: results,
            warnings,
        }
    }

    /// Whether every case came out as the profile predicted.
    pub fn all_as_expected(&self) -> bool {
        self.cases.iter().all(|c| c.outcome.as_expected())
    }

    /// Writes report.json, junit.xml, report.md and report.html into `dir`.
    pub fn write_all(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let files = [
            ("report.json", self.to_json()),
            ("junit.xml", junit::render(self)),
            ("report.md", markdown::render(self)),
            ("report.html", html::render(self)),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Reads a JSON report.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a cos-suite JSON report: {e}", path.display()))
    }
}

/// Why a rule whose cases all passed or did not apply is not proven: no positive case
/// passed, or (where it has negative cases) no negative case passed. `None`: proven.
fn unproven(ran: &[&CaseResult], has_negatives: bool) -> Option<String> {
    let mut why = Vec::new();
    for (polarity, needed, name) in [
        (Polarity::Positive, true, "positive"),
        (Polarity::Negative, has_negatives, "negative"),
    ] {
        let of: Vec<&&CaseResult> = ran.iter().filter(|r| r.polarity == polarity).collect();
        if !needed || of.iter().any(|r| r.outcome == Outcome::Pass) {
            continue;
        }
        if of.is_empty() {
            why.push(format!("no {name} case checks it"));
            continue;
        }
        let mut reasons: Vec<String> = of
            .iter()
            .filter(|r| r.outcome == Outcome::NotApplicable)
            .map(|r| r.reason.clone().unwrap_or_else(|| "no reason given".into()))
            .collect();
        reasons.sort();
        reasons.dedup();
        why.push(format!(
            "{name} cases not applicable: {}",
            reasons.join("; ")
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The distinct reasons of a rule's not-applicable cases, joined.
fn na_reasons(ran: &[&CaseResult]) -> String {
    let mut reasons: Vec<String> = ran
        .iter()
        .filter(|r| r.outcome == Outcome::NotApplicable)
        .map(|r| r.reason.clone().unwrap_or_else(|| "no reason given".into()))
        .collect();
    reasons.sort();
    reasons.dedup();
    reasons.join("; ")
}

/// Writes through a temporary file and a rename, so a reader never sees half a report.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Hash of every file under the cases directory (path and content), first 12 hex digits.
pub fn catalog_revision(dir: &Path) -> String {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for (rel, content) in files {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update((content.len() as u64).to_le_bytes());
        h.update(&content);
    }
    hex::encode(h.finalize())[..12].to_string()
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(content) = std::fs::read(&path) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, content));
        }
    }
}

/// `name` with the repetition when a case ran more than once.
pub(crate) fn case_label(r: &CaseResult, repeated: bool) -> String {
    if repeated {
        format!("{} #{}", r.id, r.repetition)
    } else {
        r.id.clone()
    }
}

/// Whether any case ran more than once.
pub(crate) fn repeated(report: &Report) -> bool {
    report.cases.iter().any(|c| c.repetition > 1)
}

/// The status cell of a rule: `unspecified (refused)` shows the behaviour checked.
pub(crate) fn rule_status(v: &RuleVerdict) -> String {
    match &v.behaviour {
        Some(b) => format!("{} ({b})", v.status),
        None => v.status.clone(),
    }
}

/// The verdict cell text of a rule, computed from its fields (so a report written before
/// verdicts existed reads the same).
pub(crate) fn rule_outcome(v: &RuleVerdict) -> String {
    rule_verdict(v.outcome, v.partial.is_some(), v.observable, v.evidence)
}

/// What a reader must know besides the verdict: why it is partial, what the wire cannot
/// show, and the evidence when it is more than the wire.
pub(crate) fn rule_notes(v: &RuleVerdict) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(p) = &v.partial {
        notes.push(format!("partial: {p}"));
    }
    if let Some(why) = &v.not_applicable {
        notes.push(format!("not applicable: {why}"));
    }
    if let Some(c) = &v.caveat {
        notes.push(format!("caveat: {c}"));
    }
    if !v.evidence.is_wire() {
        notes.push(format!("evidence: {}", v.evidence.as_str()));
    }
    notes
}

/// The CSS class of a verdict (`pass — wire evidence only` → `pass-wire`).
pub(crate) fn verdict_class(verdict: &str) -> String {
    if verdict == crate::verdict::WIRE_ONLY {
        "pass-wire".into()
    } else {
        verdict.replace(' ', "-")
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::Strictness;

    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(deserialize_with = "Strictness::deserialize_compat")]
        strict: Strictness,
    }

    /// A report names its strictness level (`--strict=all` is not `--strict`); reports
    /// written before the levels existed (`"strict": true`) still merge.
    #[test]
    fn strictness_is_a_level_and_old_booleans_still_read() {
        let level = |json: &str| serde_json::from_str::<Meta>(json).map(|m| m.strict);
        assert_eq!(level(r#"{"strict": "all"}"#).unwrap(), Strictness::All);
        assert_eq!(level(r#"{"strict": "off"}"#).unwrap(), Strictness::Off);
        assert_eq!(level(r#"{"strict": true}"#).unwrap(), Strictness::Vendor);
        assert_eq!(level(r#"{"strict": false}"#).unwrap(), Strictness::Off);
        assert!(level(r#"{"strict": "loose"}"#).is_err());
        assert_eq!(serde_json::to_string(&Strictness::All).unwrap(), r#""all""#);
    }
}
