//! Which error code the endpoint answers in every situation of `cases/codes.yaml`: the
//! whole catalog runs once, at the capabilities and behaviours found, and every step whose
//! expectation names a code is an observation of the situations that code has for the
//! case's rules (`CodeTable::resolve`, as `--strict` reads them). A situation no such step
//! reached is listed with the reason.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::{Endpoint, Loaded};
use crate::codes::Situation;
use crate::dialect::Dialect;
use crate::outcome::{CaseResult, Outcome, StepExchange};

/// One step that showed what the endpoint answers in a situation.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    /// The case.
    pub case: String,
    /// The step index and label.
    pub step: String,
    /// The answered status (none: no answer).
    pub status: Option<u16>,
    /// The answered code (none: the answer had no error document).
    pub code: Option<String>,
    /// The request as `curl`, secrets redacted.
    pub request: String,
    /// The response head and first bytes.
    pub response: String,
}

/// One situation of `cases/codes.yaml` and what the endpoint answered there.
#[derive(Debug, Clone, Serialize)]
pub struct SituationFinding {
    /// The COS code of the table entry.
    pub code: String,
    /// The `ERROR-CODES.md` row.
    pub row: String,
    /// The rules of the situation.
    pub rules: Vec<String>,
    /// The table's confidence for this dialect's answer.
    pub confidence: String,
    /// What the table expects in this dialect: code and status (none: the situation cannot
    /// arise in this dialect).
    pub expected: Option<(String, u16)>,
    /// Every distinct answer with how many steps gave it: `(status, code, count)`.
    pub answered: Vec<(Option<u16>, Option<String>, usize)>,
    /// `agrees` (every answer is the expected code), `differs`, or `not-reached`.
    pub verdict: String,
    /// Why it was not reached, or what differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The first observation (the exchange that shows the answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Observation>,
}

/// Every situation's finding, in table order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Findings {
    /// The dialect the codes were read in.
    pub dialect: String,
    /// Per situation.
    pub situations: Vec<SituationFinding>,
}

impl Findings {
    /// How many situations some step reached, and how many of those agree.
    pub fn counts(&self) -> (usize, usize, usize) {
        let reached = self
            .situations
            .iter()
            .filter(|s| s.verdict != "not-reached")
            .count();
        let agree = self
            .situations
            .iter()
            .filter(|s| s.verdict == "agrees")
            .count();
        (self.situations.len(), reached, agree)
    }

    /// Whether the codes were read (`--no-codes` leaves no situation).
    pub fn were_read(&self) -> bool {
        !self.situations.is_empty()
    }

    /// "N of M code situations reached, K agree with cases/codes.yaml", or that the codes
    /// were not read.
    pub fn summary(&self) -> String {
        if !self.were_read() {
            return "error codes not read (--no-codes)".to_string();
        }
        let (total, reached, agree) = self.counts();
        format!("{reached} of {total} code situations reached, {agree} agree with cases/codes.yaml")
    }
}

/// Runs the catalog once with `endpoint.profile` as found and reads the codes.
pub async fn observe(
    loaded: &Loaded,
    endpoint: &Endpoint,
    jobs: usize,
    seed: u64,
) -> Result<(Findings, Vec<CaseResult>), String> {
    let results = super::run_quietly(loaded, endpoint, loaded.cases.clone(), jobs, seed).await?;
    Ok((read(loaded, endpoint.profile.dialect, &results), results))
}

/// The dialect's expected answer of a situation: the COS code and status, or its `s3:`.
fn expected_of(code: &str, status: u16, s: &Situation, dialect: Dialect) -> Option<(String, u16)> {
    match dialect {
        Dialect::Cos => Some((code.to_string(), status)),
        Dialect::S3 => {
            s.s3.as_ref()
                .and_then(|a| a.answer())
                .map(|(c, st, _)| (c.to_string(), st))
        }
    }
}

/// Attributes each coded step of `results` to its situations and judges each situation.
pub fn read(loaded: &Loaded, dialect: Dialect, results: &[CaseResult]) -> Findings {
    let table = &loaded.codes;
    // Every situation, with its table position as identity.
    let all: Vec<(&str, u16, &Situation)> = table
        .codes
        .iter()
        .flat_map(|(code, e)| {
            e.situations
                .iter()
                .map(move |s| (code.as_str(), e.status, s))
        })
        .collect();
    let index_of = |s: &Situation| all.iter().position(|(_, _, t)| std::ptr::eq(*t, s));
    let mut seen: BTreeMap<usize, Vec<Observation>> = BTreeMap::new();
    // Why a case did not reach its coded steps: not applicable, or stopped before.
    let mut missed: BTreeMap<&str, String> = BTreeMap::new();
    for r in results {
        let rules = &r.rules;
        if r.outcome == Outcome::NotApplicable {
            missed.insert(
                &r.id,
                format!(
                    "{} not applicable: {}",
                    r.id,
                    r.reason.clone().unwrap_or_default()
                ),
            );
            continue;
        }
        for x in r.exchanges.iter().filter(|x| !x.expected_codes.is_empty()) {
            let candidates: Vec<(usize, Option<String>)> = x
                .expected_codes
                .iter()
                .filter_map(|c| table.resolve(c, rules).ok())
                .flat_map(|res| res.situations)
                .filter_map(|s| {
                    let i = index_of(s)?;
                    let (code, status, _) = all[i];
                    Some((i, expected_of(code, status, s, dialect).map(|e| e.0)))
                })
                .collect();
            // An answer among the expected codes tells which of them it was; otherwise
            // every situation the step stood for saw it.
            let matching: Vec<usize> = candidates
                .iter()
                .filter(|(_, e)| e.is_some() && *e == x.code)
                .map(|(i, _)| *i)
                .collect();
            let targets = if matching.is_empty() {
                candidates.iter().map(|(i, _)| *i).collect()
            } else {
                matching
            };
            for i in targets {
                let list = seen.entry(i).or_default();
                if !list
                    .iter()
                    .any(|o| o.case == r.id && o.step == step_name(x))
                {
                    list.push(observation(&r.id, x));
                }
            }
        }
        if let Some(f) = &r.failure {
            missed.insert(
                &r.id,
                format!("{} stopped at step {} ({})", r.id, f.step, f.step_label),
            );
        }
    }
    let mut situations = Vec::new();
    for (i, (code, status, s)) in all.iter().enumerate() {
        let expected = expected_of(code, *status, s, dialect);
        let confidence = match dialect {
            Dialect::Cos => Some(s.confidence),
            Dialect::S3 => s.s3.as_ref().and_then(|a| a.confidence),
        }
        .map_or("not-applicable".to_string(), |c| c.as_str().to_string());
        let obs = seen.remove(&i).unwrap_or_default();
        let mut answered: Vec<(Option<u16>, Option<String>, usize)> = Vec::new();
        for o in &obs {
            match answered
                .iter_mut()
                .find(|(st, c, _)| *st == o.status && *c == o.code)
            {
                Some(a) => a.2 += 1,
                None => answered.push((o.status, o.code.clone(), 1)),
            }
        }
        answered.sort_by_key(|a| std::cmp::Reverse(a.2));
        let (verdict, reason) = if obs.is_empty() {
            let why = if expected.is_none() {
                format!(
                    "cannot arise in the {} dialect: {}",
                    dialect.as_str(),
                    s.s3.as_ref()
                        .and_then(|a| a.not_applicable.clone())
                        .unwrap_or_default()
                )
            } else {
                let expecting: Vec<&str> = loaded
                    .cases
                    .iter()
                    .filter(|c| expects(c, code, s, table))
                    .map(|c| c.id.as_str())
                    .collect();
                if expecting.is_empty() {
                    "no case of the catalog expects it for these rules".to_string()
                } else {
                    expecting
                        .iter()
                        .find_map(|id| missed.get(id).cloned())
                        .unwrap_or_else(|| {
                            format!(
                                "its cases ({}) expect it only under a behaviour (expect_if) this endpoint does not have",
                                expecting.join(", ")
                            )
                        })
                }
            };
            ("not-reached", Some(why))
        } else {
            let want = expected.as_ref().map(|e| e.0.clone());
            let agrees = answered.iter().all(|(_, c, _)| c.is_some() && *c == want);
            if agrees {
                ("agrees", None)
            } else {
                let list: Vec<String> = answered.iter().map(describe).collect();
                (
                    "differs",
                    Some(format!(
                        "expected {}, answered {}",
                        want.unwrap_or_else(|| "nothing".into()),
                        list.join(", ")
                    )),
                )
            }
        };
        situations.push(SituationFinding {
            code: code.to_string(),
            row: s.row.clone(),
            rules: s.rules.clone(),
            confidence,
            expected,
            answered,
            verdict: verdict.to_string(),
            reason,
            exchange: obs.into_iter().next(),
        });
    }
    Findings {
        dialect: dialect.as_str().to_string(),
        situations,
    }
}

/// Whether some expectation of `case` (steps and cleanup, `expect` and every `expect_if`
/// alternative) names `code` in situation `s`.
fn expects(
    case: &crate::case::Case,
    code: &str,
    s: &Situation,
    table: &crate::codes::CodeTable,
) -> bool {
    let names = case
        .steps
        .iter()
        .chain(&case.cleanup)
        .flat_map(|st| {
            st.expect
                .iter()
                .chain(st.expect_if.iter().map(|a| &a.expect))
        })
        .filter_map(|e| e.code.as_ref())
        .any(|c| c.0.iter().any(|c| c == code));
    names
        && table
            .resolve(code, &case.rules)
            .is_ok_and(|r| r.situations.iter().any(|t| std::ptr::eq(*t, s)))
}

/// `400 InvalidArgument in 3 step(s)`.
pub fn describe(a: &(Option<u16>, Option<String>, usize)) -> String {
    let status = a.0.map_or("no answer".to_string(), |s| s.to_string());
    match &a.1 {
        Some(c) => format!("{status} {c} in {} step(s)", a.2),
        None => format!("{status} without an error code in {} step(s)", a.2),
    }
}

fn step_name(x: &StepExchange) -> String {
    format!("{} ({})", x.step, x.label)
}

fn observation(case: &str, x: &StepExchange) -> Observation {
    Observation {
        case: case.to_string(),
        step: step_name(x),
        status: x.status,
        code: x.code.clone(),
        request: x.request.clone(),
        response: x.response.clone(),
    }
}
