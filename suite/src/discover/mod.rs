//! `cos-suite discover`: pointed at an endpoint (either dialect), what it offers, which
//! behaviour it has for every `unspecified` and `superseded` rule, and which error code it
//! answers in every situation of `cases/codes.yaml`, written as a draft profile with the
//! exchange behind each finding (secrets redacted).
//!
//! The findings come in order, each using the ones before:
//! - [`capabilities`]: one probe (a small case of its own, [`probe`]) per capability and
//!   per region × SSE mode × algorithm;
//! - [`behaviours`]: every rule with behaviours, its cases once per behaviour, planned
//!   against the probed capabilities;
//! - [`codes`]: the whole catalog once at those capabilities and behaviours, every step that
//!   expects a code read as an answer in its situations;
//! - [`draft`]: the draft profile and, for `--codes-out`, the codes as YAML.

pub mod behaviours;
pub mod capabilities;
pub mod codes;
pub mod draft;
mod probe;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::app::{self, EnvOptions, Loaded, Overrides};
use crate::case::Case;
use crate::codes::Strictness;
use crate::outcome::CaseResult;
use crate::profile::Profile;
use crate::runner::{run_all, Quiet, RunOptions, SharedEnv};

/// How a discovery runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Start the emulator in-process with the given profile's behaviours.
    pub embedded: bool,
    /// Cases in flight at once.
    pub jobs: usize,
    /// Seed of the random bodies.
    pub seed: u64,
    /// Whether to read the error codes (the last phase, a whole catalog run); without it
    /// the codes are empty and the draft says they were not read.
    pub read_codes: bool,
}

/// Everything discovered.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// How the endpoint was named.
    pub label: String,
    /// Its dialect.
    pub dialect: String,
    /// What it offers.
    pub capabilities: capabilities::Findings,
    /// Its behaviours.
    pub behaviours: behaviours::Findings,
    /// The codes it answered.
    pub codes: codes::Findings,
}

impl Discovery {
    /// The `capabilities:` set found.
    pub fn capability_set(&self) -> BTreeSet<String> {
        self.capabilities.capability_set()
    }
}

/// Runs a discovery against the endpoint `given` describes (its capabilities, regions'
/// modes and behaviours are not trusted: they are what is found; its regions are the ones
/// probed). `progress` is told each phase as it starts.
pub async fn discover(
    loaded: &Loaded,
    given: &Profile,
    opts: &Options,
    progress: &dyn Fn(&str),
) -> Result<Discovery, String> {
    let mut endpoint = app::prepare(given.clone(), opts.embedded, &Overrides::default()).await?;
    let result = phases(loaded, given, &mut endpoint, opts, progress).await;
    if let Some(emu) = endpoint.embedded.take() {
        emu.shutdown().await;
    }
    result
}

async fn phases(
    loaded: &Loaded,
    given: &Profile,
    endpoint: &mut app::Endpoint,
    opts: &Options,
    progress: &dyn Fn(&str),
) -> Result<Discovery, String> {
    // The given behaviours are not trusted either: every rule starts at its default.
    endpoint.profile.behaviour.clear();
    let env = env_for(loaded, endpoint, opts.seed)?;
    let fit = crate::runner::preflight(&env)
        .await
        .map_err(|line| format!("pre-flight: {line}"))?;
    progress(&fit.0);
    progress("probing capabilities");
    let caps = capabilities::probe(loaded, endpoint, given, opts.jobs, opts.seed).await?;
    endpoint.profile.capabilities = caps.capability_set();
    endpoint.profile.regions = caps.region_list();
    progress("finding behaviours");
    let behaviours = behaviours::find(loaded, endpoint, opts.jobs, opts.seed).await?;
    let codes = if opts.read_codes {
        progress("reading error codes");
        codes::observe(loaded, endpoint, opts.jobs, opts.seed)
            .await?
            .0
    } else {
        codes::Findings {
            dialect: given.dialect.as_str().to_string(),
            situations: Vec::new(),
        }
    };
    Ok(Discovery {
        label: endpoint.label.clone(),
        dialect: given.dialect.as_str().to_string(),
        capabilities: caps,
        behaviours,
        codes,
    })
}

/// The run environment of `endpoint` as its profile now stands. Codes are never strict:
/// discovery reads what is answered rather than judging it.
fn env_for(loaded: &Loaded, endpoint: &app::Endpoint, seed: u64) -> Result<SharedEnv, String> {
    app::make_env(
        loaded,
        endpoint,
        &EnvOptions {
            seed,
            strict: Strictness::Off,
        },
    )
}

/// Runs `cases` against `endpoint` as its profile now stands, `jobs` at a time, printing
/// nothing: every phase of a discovery (probes, behaviour trials, the codes run) runs so.
async fn run_quietly(
    loaded: &Loaded,
    endpoint: &app::Endpoint,
    cases: Vec<Case>,
    jobs: usize,
    seed: u64,
) -> Result<Vec<CaseResult>, String> {
    let env = env_for(loaded, endpoint, seed)?;
    let (results, _) = run_all(env, cases, RunOptions { jobs, repeat: 1 }, Arc::new(Quiet)).await;
    Ok(results)
}
