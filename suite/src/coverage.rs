//! Catalog coverage: which rules the cases check, and the holes. A rule with no case is a
//! hole in the suite; a rule without both a positive case (the documented success) and a
//! negative case (the refusal or failure it guards against) is half-checked; and the
//! catalog as a whole must have at least two cases per rule. (A case naming an unknown rule
//! is already a load error with file and line, see `case`.)
//!
//! `cos-suite check` fails on any gap and `cos-suite rules` shows the counts.

use std::fmt;

use crate::case::{Case, Polarity};
use crate::rules::Rule;

/// How many cases of each polarity name one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCoverage {
    /// The rule id.
    pub rule: String,
    /// Cases that show the rule holding.
    pub positive: usize,
    /// Cases that show the refusal or failure it guards against.
    pub negative: usize,
}

/// One hole in the catalog's coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// No case names the rule.
    NoCase(String),
    /// Only negative cases name the rule.
    NoPositive(String),
    /// Only positive cases name the rule.
    NoNegative(String),
    /// Fewer than two cases per rule in all.
    TooFewCases {
        /// Cases in the catalog.
        cases: usize,
        /// Rules in the catalog.
        rules: usize,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::NoCase(rule) => write!(f, "rule {rule} has no case"),
            Gap::NoPositive(rule) => write!(
                f,
                "rule {rule} has no positive case (one showing the rule holding)"
            ),
            Gap::NoNegative(rule) => write!(
                f,
                "rule {rule} has no negative case (one showing the refusal or failure it guards against)"
            ),
            Gap::TooFewCases { cases, rules } => write!(
                f,
                "{cases} cases for {rules} rules: the catalog needs at least {} (two per rule)",
                rules * 2
            ),
        }
    }
}

/// Counts, for every rule in catalog order, the cases of each polarity that name it.
pub fn per_rule(rules: &[Rule], cases: &[Case]) -> Vec<RuleCoverage> {
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let named: Vec<(&[String], Polarity)> = cases
        .iter()
        .map(|c| (c.rules.as_slice(), c.polarity))
        .collect();
    count(&ids, &named)
}

/// [`per_rule`] over plain data: rule ids, and each case's rule ids and polarity.
pub fn count(rule_ids: &[&str], cases: &[(&[String], Polarity)]) -> Vec<RuleCoverage> {
    rule_ids
        .iter()
        .map(|id| {
            let naming = cases
                .iter()
                .filter(|(rules, _)| rules.iter().any(|r| r == id));
            let (positive, negative) =
                naming.fold((0, 0), |(p, n), (_, polarity)| match polarity {
                    Polarity::Positive => (p + 1, n),
                    Polarity::Negative => (p, n + 1),
                });
            RuleCoverage {
                rule: (*id).to_string(),
                positive,
                negative,
            }
        })
        .collect()
}

/// Every gap in `coverage`, given the total number of cases.
pub fn gaps(coverage: &[RuleCoverage], case_count: usize) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = coverage
        .iter()
        .filter_map(|c| match (c.positive, c.negative) {
            (0, 0) => Some(Gap::NoCase(c.rule.clone())),
            (0, _) => Some(Gap::NoPositive(c.rule.clone())),
            (_, 0) => Some(Gap::NoNegative(c.rule.clone())),
            _ => None,
        })
        .collect();
    if case_count < coverage.len() * 2 {
        gaps.push(Gap::TooFewCases {
            cases: case_count,
            rules: coverage.len(),
        });
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_rule_needs_a_positive_and_a_negative_case() {
        let a = rules(&["A"]);
        let ab = rules(&["A", "B"]);
        let c = rules(&["C"]);
        let cases = [
            (a.as_slice(), Polarity::Positive),
            (ab.as_slice(), Polarity::Negative),
            (c.as_slice(), Polarity::Positive),
            (c.as_slice(), Polarity::Positive),
        ];
        let coverage = count(&["A", "B", "C", "D"], &cases);
        assert_eq!(
            coverage[0],
            RuleCoverage {
                rule: "A".into(),
                positive: 1,
                negative: 1
            }
        );
        assert_eq!(
            gaps(&coverage, cases.len()),
            vec![
                Gap::NoPositive("B".into()),
                Gap::NoNegative("C".into()),
                Gap::NoCase("D".into()),
                Gap::TooFewCases { cases: 4, rules: 4 },
            ]
        );
    }

    #[test]
    fn a_fully_covered_catalog_has_no_gap() {
        let a = rules(&["A"]);
        let cases = [
            (a.as_slice(), Polarity::Positive),
            (a.as_slice(), Polarity::Negative),
        ];
        assert!(gaps(&count(&["A"], &cases), cases.len()).is_empty());
    }

    #[test]
    fn gaps_explain_themselves() {
        assert_eq!(
            Gap::NoNegative("SSEC-KEY".into()).to_string(),
            "rule SSEC-KEY has no negative case (one showing the refusal or failure it guards against)"
        );
        assert_eq!(
            Gap::TooFewCases { cases: 3, rules: 2 }.to_string(),
            "3 cases for 2 rules: the catalog needs at least 4 (two per rule)"
        );
    }
}
