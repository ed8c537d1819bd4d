//! Which behaviour the endpoint has for every `unspecified` and `superseded` rule: the
//! rule's cases run once per behaviour it lists (the other rules at what was found so far),
//! until nothing changes; the one behaviour under which all of them pass is the endpoint's.
//! The cases are planned against the capabilities the probes found, so a case needing
//! something the endpoint lacks is not-applicable instead of a failure under every
//! behaviour.

use std::collections::{BTreeMap, BTreeSet};

use crate::app::{Endpoint, Loaded};
use crate::outcome::Outcome;

/// What the cases of one rule showed under one behaviour.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The behaviour tried.
    pub behaviour: String,
    /// Cases that passed.
    pub passed: Vec<String>,
    /// Cases that failed or could not run, each with its first mismatch or error.
    pub failed: Vec<(String, String)>,
    /// Cases not applicable here, each with the reason.
    pub not_applicable: Vec<(String, String)>,
}

/// Every rule's finding.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Rule id → the behaviour found (decided rules only).
    pub found: BTreeMap<String, String>,
    /// Rule id → its trials in the last round it ran.
    pub evidence: BTreeMap<String, Vec<Trial>>,
    /// The rules with behaviours, in catalog order.
    pub rules: Vec<String>,
}

impl Findings {
    /// Why a rule stays undecided, in one line (none when it is decided).
    pub fn why_undecided(&self, rule: &str) -> Option<String> {
        if self.found.contains_key(rule) {
            return None;
        }
        let Some(trials) = self.evidence.get(rule) else {
            return Some("no case of the catalog checks it".into());
        };
        let ran = trials
            .iter()
            .any(|t| !t.passed.is_empty() || !t.failed.is_empty());
        if !ran {
            let reason = trials
                .iter()
                .flat_map(|t| t.not_applicable.iter())
                .map(|(id, why)| format!("{id}: {why}"))
                .next()
                .unwrap_or_default();
            return Some(format!(
                "no case of it applies to this endpoint (e.g. {reason})"
            ));
        }
        let fitting: Vec<&str> = trials
            .iter()
            .filter(|t| t.failed.is_empty() && !t.passed.is_empty())
            .map(|t| t.behaviour.as_str())
            .collect();
        if fitting.len() > 1 {
            return Some(format!(
                "its cases pass under {} alike: none of the cases that run here tells them apart",
                fitting.join(" and ")
            ));
        }
        let each: Vec<String> = trials
            .iter()
            .map(|t| match t.failed.first() {
                Some((id, why)) => format!(
                    "{} fails {} case(s), e.g. {id}: {why}",
                    t.behaviour,
                    t.failed.len()
                ),
                None => format!("{} runs no case", t.behaviour),
            })
            .collect();
        Some(format!(
            "no behaviour passes all of its cases ({})",
            each.join("; ")
        ))
    }
}

/// Runs the search (at most four rounds: a case of two switched rules needs the other's
/// finding first). `endpoint.profile` carries the probed capabilities; its `behaviour:` map
/// is what was found when this returns.
pub async fn find(
    loaded: &Loaded,
    endpoint: &mut Endpoint,
    jobs: usize,
    seed: u64,
) -> Result<Findings, String> {
    let rules: Vec<_> = loaded
        .catalog
        .rules()
        .iter()
        .filter(|r| r.behaviours.len() > 1)
        .cloned()
        .collect();
    let mut found: BTreeMap<String, String> = BTreeMap::new();
    let mut evidence: BTreeMap<String, Vec<Trial>> = BTreeMap::new();
    let mut decided = BTreeSet::new();
    for _round in 0..4 {
        let mut changed = false;
        for rule in &rules {
            let cases: Vec<_> = loaded
                .cases
                .iter()
                .filter(|c| c.rules.iter().any(|r| r == &rule.id))
                .cloned()
                .collect();
            if cases.is_empty() {
                continue;
            }
            let mut trials = Vec::new();
            for b in &rule.behaviours {
                let mut guess = found.clone();
                guess.insert(rule.id.clone(), b.name.clone());
                endpoint.profile.behaviour = guess;
                let results =
                    super::run_quietly(loaded, endpoint, cases.clone(), jobs, seed).await?;
                let mut trial = Trial {
                    behaviour: b.name.clone(),
                    passed: Vec::new(),
                    failed: Vec::new(),
                    not_applicable: Vec::new(),
                };
                for r in results {
                    match r.outcome {
                        Outcome::Pass => trial.passed.push(r.id),
                        Outcome::Fail | Outcome::Error => {
                            let why = r
                                .failure
                                .as_ref()
                                .and_then(|f| f.mismatches.first())
                                .map(|m| {
                                    format!("{} expected {}, got {}", m.field, m.expected, m.got)
                                })
                                .or(r.reason.clone())
                                .unwrap_or_default();
                            trial.failed.push((r.id, one_line(&why)));
                        }
                        Outcome::NotApplicable => trial
                            .not_applicable
                            .push((r.id, r.reason.unwrap_or_default())),
                        Outcome::ExpectedFail | Outcome::UnexpectedPass => {}
                    }
                }
                trials.push(trial);
            }
            let fitting: Vec<&Trial> = trials
                .iter()
                .filter(|t| t.failed.is_empty() && !t.passed.is_empty())
                .collect();
            // One behaviour under which every case passes decides the rule. Failing that,
            // the one with the fewest failures is kept as a working guess: a case of two
            // switched rules fits only once the other rule is guessed too.
            let fewest = trials.iter().map(|t| t.failed.len()).min().unwrap_or(0);
            let least: Vec<&Trial> = trials.iter().filter(|t| t.failed.len() == fewest).collect();
            let pick = match (fitting.as_slice(), least.as_slice()) {
                ([only], _) => {
                    decided.insert(rule.id.clone());
                    Some(only.behaviour.clone())
                }
                (_, [best]) => {
                    decided.remove(&rule.id);
                    Some(best.behaviour.clone())
                }
                _ => {
                    decided.remove(&rule.id);
                    None
                }
            };
            if let Some(b) = pick {
                if found.get(&rule.id) != Some(&b) {
                    found.insert(rule.id.clone(), b);
                    changed = true;
                }
            }
            evidence.insert(rule.id.clone(), trials);
        }
        if !changed {
            break;
        }
    }
    found.retain(|rule, _| decided.contains(rule));
    endpoint.profile.behaviour = found.clone();
    Ok(Findings {
        found,
        evidence,
        rules: rules.iter().map(|r| r.id.clone()).collect(),
    })
}

/// A mismatch as one short line (draft comments are one line each).
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 160 {
        format!("{}…", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}
