//! The verdict layer: each rule's verdict over the case records that check it (the worst
//! outcome wins; a pass is `partial` without both polarities, or "wire evidence only" when
//! the wire cannot show the promise). It reads the model and the run's records; the report
//! formats read it.

use serde::{Deserialize, Serialize};

use crate::codes::CodeCheck;
use crate::outcome::{Evidence, Outcome};

/// A rule's verdict over all the cases that check it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleVerdict {
    /// Rule id.
    pub id: String,
    /// Family.
    pub family: String,
    /// Title.
    pub title: String,
    /// Status (`documented`, ...).
    pub status: String,
    /// For `unspecified` / `superseded` rules: the behaviour the profile declares (or the
    /// rule's default), which the cases were checked against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<String>,
    /// Quoted source text.
    pub quote: String,
    /// Cases checking it (ids).
    pub cases: Vec<String>,
    /// Count of positive and negative cases.
    pub positive: usize,
    /// Count of negative cases.
    pub negative: usize,
    /// The aggregate outcome; `None` when no case ran it (a hole in the suite).
    pub outcome: Option<Outcome>,
    /// The error codes its cases expect, each with its confidence and whether this run's
    /// `--strict` level checked it ([`crate::codes::CodePolicy::per_rule`]).
    #[serde(default)]
    pub codes: Vec<CodeCheck>,
    /// The verdict as reported: the outcome's name, or `partial`, or
    /// `pass — wire evidence only` (see [`rule_verdict`]).
    #[serde(default)]
    pub verdict: String,
    /// Why an all-pass rule is only `partial`: which polarity did not run, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    /// `false` when the wire cannot show the rule's promise (rules.yaml `observable`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub observable: bool,
    /// What the wire cannot show, for `observable: false` rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// What a pass rests on: `introspection` when a passing case of the rule had its
    /// stored state inspected, else `wire`.
    #[serde(default)]
    pub evidence: Evidence,
    /// Why the rule is not applicable here, when no case of it ran: its cases' reasons (a
    /// COS-only rule in the S3 dialect, a capability the profile lacks). Every report
    /// format prints it, so a not-applicable cell always says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// The rule × operation grid row: for each operation the rule lists, the cases of this
    /// run that show each side there, or the rule's `untestable:` reason (`crate::grid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grid: Vec<crate::grid::Cell>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The verdict text of a rule: `partial` when it passed without both polarities proven,
/// `pass — wire evidence only` when the wire cannot show its promise and nothing else was
/// looked at, else the aggregate outcome (`no case` when nothing ran it).
pub fn rule_verdict(
    outcome: Option<Outcome>,
    partial: bool,
    observable: bool,
    evidence: Evidence,
) -> String {
    match outcome {
        None => "no case".into(),
        Some(Outcome::Pass) if partial => "partial".into(),
        Some(Outcome::Pass) if !observable && evidence == Evidence::Wire => WIRE_ONLY.into(),
        Some(o) => o.as_str().into(),
    }
}

/// The verdict of a passing `observable: false` rule with wire evidence only.
pub const WIRE_ONLY: &str = "pass — wire evidence only";

/// Aggregates case outcomes into one: the worst wins (error and fail over the rest).
pub fn aggregate(outcomes: impl IntoIterator<Item = Outcome>) -> Option<Outcome> {
    let rank = |o: Outcome| match o {
        Outcome::Fail => 6,
        Outcome::Error => 5,
        Outcome::UnexpectedPass => 4,
        Outcome::ExpectedFail => 3,
        Outcome::Pass => 2,
        Outcome::NotApplicable => 1,
    };
    let all: Vec<Outcome> = outcomes.into_iter().collect();
    let worst = all.iter().copied().max_by_key(|o| rank(*o))?;
    // A rule passes only when some case ran it; all not-applicable stays not-applicable.
    Some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_what_was_proven() {
        let pass = Some(Outcome::Pass);
        assert_eq!(rule_verdict(pass, false, true, Evidence::Wire), "pass");
        assert_eq!(rule_verdict(pass, true, true, Evidence::Wire), "partial");
        assert_eq!(rule_verdict(pass, true, false, Evidence::Wire), "partial");
        assert_eq!(rule_verdict(pass, false, false, Evidence::Wire), WIRE_ONLY);
        assert_eq!(
            rule_verdict(pass, false, false, Evidence::Introspection),
            "pass"
        );
        assert_eq!(
            rule_verdict(Some(Outcome::Fail), false, false, Evidence::Wire),
            "fail"
        );
        assert_eq!(rule_verdict(None, false, true, Evidence::Wire), "no case");
    }

    #[test]
    fn worst_outcome_wins() {
        assert_eq!(
            aggregate([Outcome::Pass, Outcome::Fail, Outcome::Error]),
            Some(Outcome::Fail)
        );
        assert_eq!(
            aggregate([Outcome::Pass, Outcome::NotApplicable]),
            Some(Outcome::Pass)
        );
        assert_eq!(
            aggregate([Outcome::NotApplicable]),
            Some(Outcome::NotApplicable)
        );
        assert_eq!(aggregate([]), None);
    }
}
