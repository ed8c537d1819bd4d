//! Probes: small cases written here, not in `cases/`, run through the same runner as the
//! catalog (so they are signed, addressed, mapped to the S3 dialect, scanned for leaks and
//! cleaned up exactly as a case is), whose recorded exchanges decide a finding.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::app::{self, Loaded};
use crate::case::{parse_case, Case, LoadContext};
use crate::outcome::{CaseResult, Outcome, StepExchange};
use crate::profile::Profile;

/// One probe: a case of its own.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The case id, `<family>/discover-<name>` (the family must be a rule family).
    pub id: String,
    /// The rule ids it is filed under (catalog ids that apply in both dialects, so the
    /// runner plans it in either).
    pub rules: &'static str,
    /// The case's body after `polarity:` (`region:`, `steps:`).
    pub body: String,
}

impl Probe {
    /// The probe as a case of the catalog's schema (a load error is the suite's bug).
    fn case(&self, loaded: &Loaded) -> Result<Case, String> {
        let text = format!(
            "id: {}\nrules: [{}]\ntitle: discover probe\npolarity: positive\n{}",
            self.id, self.rules, self.body
        );
        let file = PathBuf::from(format!("discover/{}.yaml", self.id));
        parse_case(
            &file,
            &text,
            &LoadContext {
                catalog: &loaded.catalog,
                keys: &loaded.keys,
            },
        )
        .map_err(|e| format!("probe {}: {e}", self.id))
    }
}

/// What one probe showed.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Its record (outcome, reason, every step's exchange).
    pub result: CaseResult,
}

impl Seen {
    /// Whether every step answered as the probe expects.
    pub fn passed(&self) -> bool {
        self.result.outcome == Outcome::Pass
    }

    /// The exchange that decided it: the first step whose expectation did not hold, else
    /// the last step.
    pub fn deciding(&self) -> Option<&StepExchange> {
        self.result
            .exchanges
            .iter()
            .find(|x| !x.held)
            .or_else(|| self.result.exchanges.last())
    }

    /// Why the probe could not run or what failed, in one line.
    pub fn why(&self) -> String {
        if let Some(reason) = &self.result.reason {
            return reason.clone();
        }
        match self.deciding() {
            Some(x) => answer_line(x),
            None => self.result.outcome.as_str().to_string(),
        }
    }
}

/// `PUT https://host/key -> 400 InvalidArgument` for an exchange.
pub fn answer_line(x: &StepExchange) -> String {
    let target = x
        .request
        .lines()
        .last()
        .map(|l| l.trim().trim_matches('\''))
        .unwrap_or_default();
    let method = x
        .request
        .split_whitespace()
        .skip_while(|w| *w != "-X")
        .nth(1)
        .unwrap_or("GET");
    let answer = match (x.status, &x.code, &x.error) {
        (Some(s), Some(c), _) => format!("{s} {c}"),
        (Some(s), None, _) => s.to_string(),
        (None, _, Some(e)) => format!("no answer: {e}"),
        (None, _, None) => "no answer".to_string(),
    };
    format!("{} ({method} {target}) -> {answer}", x.label)
}

/// Runs the probes against the endpoint with `profile` (the capabilities and regions the
/// probes need claimed, so none is planned away) and returns what each showed, by id.
pub async fn run(
    loaded: &Loaded,
    endpoint: &mut app::Endpoint,
    profile: Profile,
    probes: &[Probe],
    jobs: usize,
    seed: u64,
) -> Result<BTreeMap<String, Seen>, String> {
    let cases = probes
        .iter()
        .map(|p| p.case(loaded))
        .collect::<Result<Vec<_>, _>>()?;
    let kept = std::mem::replace(&mut endpoint.profile, profile);
    let results = super::run_quietly(loaded, endpoint, cases, jobs, seed).await;
    endpoint.profile = kept;
    let results = results?;
    Ok(results
        .into_iter()
        .map(|r| (r.id.clone(), Seen { result: r }))
        .collect())
}
