//! One case from start to finish: plan, steps in order, the first mismatch stops it,
//! cleanup always, known deviations applied last.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use crate::case::{Case, StepKind};
use crate::client::dump::{curl, response_head};
use crate::expect::{check, CheckOptions};
use crate::leak::LeakIndex;
use crate::outcome::{
    CaseResult, Evidence, FailureDump, Mismatch, Outcome, RuleQuote, StepExchange,
};
use crate::redact::Secrets;

use super::cleanup::sweep;
use super::env::{effective_expect, Env};
use super::plan::{plan, Skip};
use super::state::CaseState;
use super::steps::{StepFailure, StepRun};

/// What went wrong in the steps, before deviations are applied.
enum Finding {
    Fail(FailureDump),
    Error(String, Option<FailureDump>),
}

/// Runs one case (one repetition) and returns its record.
pub async fn run_case(env: &Env, case: &Case, repetition: u32) -> CaseResult {
    let started = Instant::now();
    let mut result = CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        family: case.family().to_string(),
        rules: case.rules.clone(),
        polarity: case.polarity,
        repetition,
        outcome: Outcome::Pass,
        reason: None,
        region: None,
        duration_ms: 0,
        warnings: Vec::new(),
        failure: None,
        evidence: Evidence::Wire,
        exchanges: Vec::new(),
    };
    let planned = match plan(env, case) {
        Ok(p) => p,
        Err(Skip::NotApplicable(reason)) => {
            result.outcome = Outcome::NotApplicable;
            result.reason = Some(reason);
            return result;
        }
        Err(Skip::Error(reason)) => {
            result.outcome = Outcome::Error;
            result.reason = Some(reason);
            return result;
        }
    };
    result.region = Some(planned.region.clone());
    let buckets = match super::buckets::buckets_for(env, &planned.regions).await {
        Ok(b) => b,
        Err(e) => {
            result.outcome = Outcome::Error;
            result.reason = Some(e);
            return result;
        }
    };
    let mut state = CaseState {
        env,
        case,
        prefix: case_prefix(env, case, repetition),
        bucket: buckets.get(&planned.region).cloned().unwrap_or_default(),
        region: planned.region.clone(),
        region_buckets: buckets,
        steps: Vec::new(),
        objects: HashMap::new(),
        uploads: BTreeSet::new(),
        parts: HashMap::new(),
        touched: BTreeSet::new(),
        etags: HashMap::new(),
        opaque_uploads: BTreeSet::new(),
        leaks: LeakIndex::new(),
        used_keys: Mutex::new(BTreeSet::new()),
        rotated_master_key: Mutex::new(None),
        findings: Vec::new(),
        force_scan: false,
        explicit_body: false,
        wire: None,
        secrets: Secrets::for_run(&env.keys, &env.creds.secret_key),
    };
    if let Some(other) = &env.other {
        // `auth: other-account` signs with it: reports scrub it like the first account's.
        state.secrets.add(
            "second account's secret key",
            other.creds.secret_key.clone(),
        );
    }
    let mut finding = run_steps(
        &mut state,
        case,
        &mut result.warnings,
        &mut result.exchanges,
    )
    .await;
    for (i, step) in case.cleanup.iter().enumerate() {
        let index = case.steps.len() + i;
        if let StepRun::Broken { error, .. } = state.run_step(index, step).await {
            let m = match error {
                StepFailure::Fail(m) | StepFailure::Error(m) => m,
            };
            result.warnings.push(format!("cleanup step {i}: {m}"));
        }
        // A leak is a failure wherever it happens, cleanup included.
        let found = state.take_findings(index);
        if finding.is_none() && !found.is_empty() {
            finding = Some(Finding::Fail(FailureDump {
                step: index,
                step_label: format!("cleanup: {}", step.label()),
                rules: quotes(env, case),
                mismatches: found,
                curl: String::new(),
                response: String::new(),
            }));
        }
    }
    result.warnings.extend(crate::introspect::finish(&state));
    // The case's `introspect:` checks ran (the capability was there): what it proves rests
    // on what the emulator stored, not on the wire alone (the rule verdicts say so).
    if !case.introspect.is_empty() && env.introspector.is_some() {
        result.evidence = Evidence::Introspection;
    }
    result.warnings.extend(sweep(&mut state).await);
    match finding {
        None => {}
        Some(Finding::Fail(dump)) => {
            result.outcome = Outcome::Fail;
            result.failure = Some(dump);
        }
        Some(Finding::Error(m, dump)) => {
            result.outcome = Outcome::Error;
            result.reason = Some(m);
            result.failure = dump;
        }
    }
    apply_deviation(env, &mut result);
    state.secrets.scrub_result(&mut result);
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    result
}

/// `{{case}}`: unique per run, case and repetition.
fn case_prefix(env: &Env, case: &Case, repetition: u32) -> String {
    format!("cos-suite-{}/{}/r{repetition}", env.run_id, case.id)
}

async fn run_steps(
    state: &mut CaseState<'_>,
    case: &Case,
    warnings: &mut Vec<String>,
    exchanges: &mut Vec<StepExchange>,
) -> Option<Finding> {
    for (i, step) in case.steps.iter().enumerate() {
        let run = state.run_step(i, step).await;
        let expected_codes = effective_expect(state.env, step)
            .code
            .map(|c| c.0)
            .unwrap_or_default();
        let (request, response) = match run {
            StepRun::Answered {
                request, response, ..
            } => (request, response),
            StepRun::Broken { request, error } => {
                let req_text = request
                    .map(|r| curl(&r, state.env.client.config()))
                    .unwrap_or_default();
                exchanges.push(StepExchange {
                    step: i,
                    label: step.label(),
                    expected_codes,
                    request: req_text.clone(),
                    error: Some(match &error {
                        StepFailure::Fail(m) | StepFailure::Error(m) => m.clone(),
                    }),
                    ..StepExchange::default()
                });
                let dump = |mismatches| FailureDump {
                    step: i,
                    step_label: step.label(),
                    rules: quotes(state.env, case),
                    mismatches,
                    curl: req_text.clone(),
                    response: String::new(),
                };
                let mut found = state.take_findings(i);
                return Some(match error {
                    StepFailure::Fail(m) => Finding::Fail(dump({
                        found.insert(
                            0,
                            Mismatch {
                                field: "step".into(),
                                expected: "a request this step can send".into(),
                                got: m,
                            },
                        );
                        found
                    })),
                    StepFailure::Error(m) if !found.is_empty() => {
                        warnings.push(format!("step {i}: {m}"));
                        Finding::Fail(dump(found))
                    }
                    StepFailure::Error(m) => {
                        Finding::Error(format!("step {i}: {m}"), Some(dump(Vec::new())))
                    }
                });
            }
        };
        // The code's confidence (cases/codes.yaml) decides whether it is checked.
        let (expect, strict) = state
            .env
            .strict
            .apply(case, effective_expect(state.env, step));
        let opts = CheckOptions {
            strict,
            head: step.kind == StepKind::Head || request.method == "HEAD",
        };
        let mut verdict = check(&expect, &response, opts, &*state);
        verdict.mismatches.extend(state.take_findings(i));
        warnings.extend(verdict.warnings.iter().map(|w| format!("step {i}: {w}")));
        let mut mismatches = verdict.mismatches;
        if mismatches.is_empty() {
            // What the endpoint stored, where the case asks and the profile can tell.
            mismatches = crate::introspect::after_step(state, i).await;
        }
        exchanges.push(exchange(
            state,
            i,
            step.label(),
            expected_codes,
            &request,
            &response,
            mismatches.is_empty(),
        ));
        if !mismatches.is_empty() {
            return Some(Finding::Fail(FailureDump {
                step: i,
                step_label: step.label(),
                rules: quotes(state.env, case),
                mismatches,
                curl: curl(&request, state.env.client.config()),
                response: response_head(state.wire.as_ref().unwrap_or(&response)),
            }));
        }
    }
    None
}

/// The record of an answered step (the wire's answer in the S3 dialect: its own code and
/// `x-amz-*` headers).
fn exchange(
    state: &CaseState<'_>,
    step: usize,
    label: String,
    expected_codes: Vec<String>,
    request: &crate::client::Request,
    response: &crate::client::Response,
    held: bool,
) -> StepExchange {
    let wire = state.wire.as_ref().unwrap_or(response);
    StepExchange {
        step,
        label,
        expected_codes,
        status: Some(wire.status),
        code: crate::xml::CosError::parse(&wire.body).map(|e| e.code),
        headers: wire
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), crate::redact::header_value(k, v)))
            .collect(),
        request: curl(request, state.env.client.config()),
        response: response_head(wire),
        error: None,
        held,
    }
}

fn quotes(env: &Env, case: &Case) -> Vec<RuleQuote> {
    case.rules
        .iter()
        .filter_map(|id| env.catalog.get(id))
        .map(|r| RuleQuote {
            id: r.id.clone(),
            title: r.title.clone(),
            quote: r.quoted_sources(),
        })
        .collect()
}

/// Known deviations still run: a failure becomes expected-fail, a pass unexpected-pass.
fn apply_deviation(env: &Env, result: &mut CaseResult) {
    let Some(dev) = env.profile.deviation(&result.id) else {
        return;
    };
    match result.outcome {
        Outcome::Fail => {
            result.outcome = Outcome::ExpectedFail;
            result.reason = Some(format!("known deviation: {}", dev.reason));
        }
        Outcome::Pass => {
            result.outcome = Outcome::UnexpectedPass;
            result.reason = Some(format!(
                "listed as a known deviation ({}) but passed: remove it from the profile",
                dev.reason
            ));
        }
        _ => {}
    }
}
