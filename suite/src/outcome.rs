//! What a run produced: one record per case (and repetition), with its outcome, its
//! mismatches and its failure dump. The records the execution layer writes; the verdicts
//! over them are `crate::verdict`.

use serde::{Deserialize, Serialize};

use crate::case::Polarity;

/// The outcome of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// An expectation did not hold.
    Fail,
    /// Failed, and the profile lists it as a known deviation.
    ExpectedFail,
    /// Passed although the profile lists it as a known deviation: shrink the list.
    UnexpectedPass,
    /// The profile lacks a capability or region the case needs (with the reason).
    NotApplicable,
    /// Could not run: network, TLS, bad profile, harness problem.
    Error,
}

impl Outcome {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::ExpectedFail => "expected-fail",
            Outcome::UnexpectedPass => "unexpected-pass",
            Outcome::NotApplicable => "not-applicable",
            Outcome::Error => "error",
        }
    }

    /// Whether this outcome is what the profile predicted (exit code 0).
    pub fn as_expected(self) -> bool {
        matches!(
            self,
            Outcome::Pass | Outcome::ExpectedFail | Outcome::NotApplicable
        )
    }

    /// Every outcome, in report order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::ExpectedFail,
        Outcome::UnexpectedPass,
        Outcome::NotApplicable,
        Outcome::Error,
    ];
}

/// What kind of evidence a verdict rests on. Every case produces wire evidence (the
/// responses); an emulator-only introspection of what the server stored is stronger, and
/// upgrades an `observable: false` rule from "pass — wire evidence only" to "pass".
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Only what the endpoint answered on the wire.
    #[default]
    Wire,
    /// The wire, and the server's stored state inspected after the case.
    Introspection,
}

impl Evidence {
    /// The kebab-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Wire => "wire",
            Evidence::Introspection => "introspection",
        }
    }

    /// Whether this is plain wire evidence (the default, not written in JSON).
    pub fn is_wire(&self) -> bool {
        *self == Evidence::Wire
    }
}

/// One field that did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// What was checked (`status`, `header x-cos-server-side-encryption`, `xml Code`).
    pub field: String,
    /// What the case expected.
    pub expected: String,
    /// What the endpoint answered.
    pub got: String,
}

/// A rule a failing case checks, with its quoted source text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleQuote {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// The quoted source sentences.
    pub quote: String,
}

/// Everything needed to understand and replay a failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureDump {
    /// 0-based index of the failing step.
    pub step: usize,
    /// The step as written (`get: {{case}}/obj`).
    pub step_label: String,
    /// The rules the case checks, quoted.
    pub rules: Vec<RuleQuote>,
    /// Expected vs got, field by field.
    pub mismatches: Vec<Mismatch>,
    /// The request as a `curl` command (secrets redacted).
    pub curl: String,
    /// The response head and first bytes.
    pub response: String,
}

impl FailureDump {
    /// The dump as plain text, as printed on the terminal and in reports.
    pub fn to_text(&self) -> String {
        let mut out = format!("step {} ({})\n", self.step, self.step_label);
        for r in &self.rules {
            out.push_str(&format!("rule {}: {}\n", r.id, r.title));
            for line in r.quote.lines() {
                out.push_str(&format!("  > {line}\n"));
            }
        }
        for m in &self.mismatches {
            out.push_str(&format!(
                "{}:\n  expected: {}\n  got:      {}\n",
                m.field, m.expected, m.got
            ));
        }
        if !self.curl.is_empty() {
            out.push_str(&format!("request:\n{}\n", self.curl));
        }
        if !self.response.is_empty() {
            out.push_str(&format!("response:\n{}\n", self.response));
        }
        out
    }
}

/// The record of one case run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Case title.
    pub title: String,
    /// Rule family.
    pub family: String,
    /// Rules it checks.
    pub rules: Vec<String>,
    /// Positive or negative.
    pub polarity: Polarity,
    /// 1-based repetition (`--repeat`).
    pub repetition: u32,
    /// The outcome.
    pub outcome: Outcome,
    /// Why: not-applicable reason, error message, or known-deviation reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The region it ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Non-fatal findings (error-code differences without `--strict`, cleanup problems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The failure, for fail / expected-fail / error outcomes with an exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureDump>,
    /// What the outcome rests on: the wire, or (set by an introspection check that ran
    /// and held) the server's stored state too.
    #[serde(default, skip_serializing_if = "Evidence::is_wire")]
    pub evidence: Evidence,
    /// Every step's exchange, redacted, in order (the steps that ran). Not written to the
    /// reports: `cos-suite discover` reads it to say which code the endpoint answered in a
    /// situation of `cases/codes.yaml`, and what a capability probe saw.
    #[serde(skip)]
    pub exchanges: Vec<StepExchange>,
}

/// One step's exchange as the endpoint answered it (secrets redacted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepExchange {
    /// 0-based index of the step.
    pub step: usize,
    /// The step as written (`get: {{case}}/obj`).
    pub label: String,
    /// The COS codes the step's expectation (or its `expect_if` alternative) names, as the
    /// case writes them (before the S3 dialect's mapping).
    pub expected_codes: Vec<String>,
    /// The answered status; `None` when no answer came (transport error, unbuildable step).
    pub status: Option<u16>,
    /// The error document's `Code`, when the answer has one.
    pub code: Option<String>,
    /// The response headers as they were on the wire (values redacted).
    pub headers: Vec<(String, String)>,
    /// The request as a `curl` command (secrets redacted).
    pub request: String,
    /// The response head and first bytes.
    pub response: String,
    /// Why no answer came.
    pub error: Option<String>,
    /// Whether the step's expectation held (`false` also when it had no answer).
    pub held: bool,
}

/// How the libtest-mimic conformance harness reports a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HarnessVerdict {
    /// `ok`: the case came out as the profile predicts and ran.
    Ok,
    /// `ignored`: the case could not run here (not-applicable), with the reason; never `ok`.
    Ignored(String),
    /// `FAILED`, with the message (outcome, reason, failure dump).
    Failed(String),
}

impl CaseResult {
    /// The harness verdict of this record.
    pub fn harness_verdict(&self) -> HarnessVerdict {
        match self.outcome {
            Outcome::NotApplicable => {
                HarnessVerdict::Ignored(self.reason.clone().unwrap_or_default())
            }
            o if o.as_expected() => HarnessVerdict::Ok,
            o => {
                let mut msg = format!("{}: {}\n", o.as_str(), self.reason.as_deref().unwrap_or(""));
                if let Some(f) = &self.failure {
                    msg.push_str(&f.to_text());
                }
                HarnessVerdict::Failed(msg)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_not_applicable_case_is_ignored_by_the_harness_never_ok() {
        let mut r = CaseResult {
            id: "x/y".into(),
            title: "t".into(),
            family: "x".into(),
            rules: vec![],
            polarity: Polarity::Negative,
            repetition: 1,
            outcome: Outcome::NotApplicable,
            reason: Some("the profile lacks the capability `http`".into()),
            region: None,
            duration_ms: 0,
            warnings: vec![],
            failure: None,
            evidence: Evidence::Wire,
            exchanges: Vec::new(),
        };
        assert_eq!(
            r.harness_verdict(),
            HarnessVerdict::Ignored("the profile lacks the capability `http`".into())
        );
        r.outcome = Outcome::Pass;
        assert_eq!(r.harness_verdict(), HarnessVerdict::Ok);
        r.outcome = Outcome::ExpectedFail;
        assert_eq!(r.harness_verdict(), HarnessVerdict::Ok);
        r.outcome = Outcome::Error;
        assert!(
            matches!(r.harness_verdict(), HarnessVerdict::Failed(m) if m.starts_with("error: "))
        );
    }
}
