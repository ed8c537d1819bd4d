//! Before a case runs: which region it runs in, and whether the profile can run it at all.
//! A case the profile cannot run is not-applicable *with the reason* (never skipped).

use std::collections::BTreeSet;

use crate::case::{Case, RegionSpec, Scheme, Step, StepKind, Var};
use crate::profile::Profile;
use crate::rules::REGION_CAPABILITIES;

use super::env::Env;

/// Where a case runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The case's region.
    pub region: String,
    /// Every region it uses (its own, steps' and copy sources').
    pub regions: BTreeSet<String>,
}

/// The region a spec names: a literal (which the profile must list), the first region
/// with and without the given capabilities, or (no spec) the first region that has every
/// capability in `needed`. The reason when there is none.
pub fn pick_region(
    profile: &Profile,
    spec: Option<&RegionSpec>,
    needed: &[String],
) -> Result<String, String> {
    let has_all = |caps: &[String], want: &[String]| want.iter().all(|w| caps.contains(w));
    match spec {
        // A literal region is used as named, whatever it offers: region-edge cases send
        // SSE where it is not offered on purpose (REGION-SSE, REGION-KMS).
        Some(RegionSpec::Literal(name)) => profile
            .region(name)
            .map(|r| r.name.clone())
            .ok_or_else(|| format!("the profile has no region {name}")),
        Some(RegionSpec::Choice { with, without }) => profile
            .regions
            .iter()
            .find(|r| has_all(&r.sse, with) && !without.iter().any(|w| r.sse.contains(w)))
            .map(|r| r.name.clone())
            .ok_or_else(|| {
                format!(
                    "the profile has no region with [{}] and without [{}]",
                    with.join(", "),
                    without.join(", ")
                )
            }),
        None => profile
            .regions
            .iter()
            .find(|r| has_all(&r.sse, needed))
            .map(|r| r.name.clone())
            .ok_or_else(|| format!("the profile has no region with [{}]", needed.join(", "))),
    }
}

/// The region capabilities a case's steps use (sse-cos, sse-kms, sse-c, sm4).
pub fn region_needs(case: &Case) -> Vec<String> {
    let mut caps: BTreeSet<&str> = BTreeSet::new();
    for step in case.steps.iter().chain(&case.cleanup) {
        step_needs(step, &mut caps);
    }
    caps.into_iter().map(str::to_string).collect()
}

fn step_needs(step: &Step, caps: &mut BTreeSet<&str>) {
    let f = &step.fields;
    let sm4 = |s: &str| s.eq_ignore_ascii_case("SM4");
    if let Some(v) = &f.sse_cos {
        caps.insert("sse-cos");
        if sm4(v.source()) {
            caps.insert("sm4");
        }
    }
    if let Some(k) = &f.sse_kms {
        caps.insert("sse-kms");
        if k.algorithm.as_deref().is_some_and(sm4) {
            caps.insert("sm4");
        }
    }
    for c in [&f.sse_c, &f.copy_source_sse_c].into_iter().flatten() {
        caps.insert("sse-c");
        if sm4(&c.algorithm) {
            caps.insert("sm4");
        }
    }
}

/// Why a case does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The profile lacks what the case needs.
    NotApplicable(String),
    /// The profile promises it, but it could not be set up.
    Error(String),
}

/// Decides where a case runs, or why it cannot run here.
pub fn plan(env: &Env, case: &Case) -> Result<Plan, Skip> {
    let steps: Vec<&Step> = case.steps.iter().chain(&case.cleanup).collect();
    for step in &steps {
        for name in kms_names(step) {
            if let Some(why) = env.kms_failures.get(&name) {
                return Err(Skip::Error(why.clone()));
            }
            if !env.kms.contains_key(&name) {
                return Err(Skip::NotApplicable(format!(
                    "the profile has no kms_keys.{name}"
                )));
            }
        }
    }
    place(&env.profile, case, &steps).map_err(Skip::NotApplicable)
}

fn place(profile: &Profile, case: &Case, steps: &[&Step]) -> Result<Plan, String> {
    for r in &case.requires {
        if !REGION_CAPABILITIES.contains(&r.as_str()) && !profile.capabilities.contains(r) {
            return Err(format!("the profile lacks the capability `{r}`"));
        }
    }
    for step in steps {
        implied_requirements(profile, step)?;
    }
    let needed = region_needs(case);
    let region = pick_region(profile, case.region.as_ref(), &needed)?;
    // A region capability in `requires` is endpoint-wide ("SM4 is offered"): some region
    // must have it. Where the case runs comes from its `region` or its steps.
    let lacking: Vec<&str> = case
        .requires
        .iter()
        .filter(|r| REGION_CAPABILITIES.contains(&r.as_str()))
        .filter(|r| !profile.regions.iter().any(|reg| reg.sse.contains(r)))
        .map(String::as_str)
        .collect();
    if !lacking.is_empty() {
        return Err(format!(
            "no region of the profile offers {}",
            lacking.join(", ")
        ));
    }
    let mut regions = BTreeSet::from([region.clone()]);
    for step in steps {
        if let Some(spec) = &step.fields.region {
            regions.insert(pick_region(profile, Some(spec), &[])?);
        }
        if let Some(spec) = step.fields.source.as_ref().and_then(|s| s.region.as_ref()) {
            regions.insert(pick_region(profile, Some(spec), &[])?);
        }
    }
    Ok(Plan { region, regions })
}

fn implied_requirements(profile: &Profile, step: &Step) -> Result<(), String> {
    if step.fields.scheme == Some(Scheme::Http) && profile.http_endpoint.is_none() {
        return Err("the profile has no plain-HTTP endpoint (http_endpoint)".into());
    }
    if step.fields.scheme == Some(Scheme::Http) && !profile.capabilities.contains("http") {
        return Err("the profile lacks the capability `http`".into());
    }
    let implied = match step.kind {
        StepKind::Post => Some("post-object"),
        StepKind::Restore | StepKind::WaitRestored => Some("restore"),
        _ => None,
    };
    match implied {
        Some(cap) if !profile.capabilities.contains(cap) => Err(format!(
            "the profile lacks the capability `{cap}` ({} step)",
            step.kind.name()
        )),
        _ => Ok(()),
    }
}

/// Every `{{kms.NAME}}` a step uses.
fn kms_names(step: &Step) -> Vec<String> {
    let mut out = Vec::new();
    let f = &step.fields;
    let mut templates: Vec<&crate::case::Template> = Vec::new();
    if let Some(k) = &f.sse_kms {
        templates.extend(k.key_id.iter());
    }
    templates.extend(f.headers.values().flatten());
    for t in templates {
        for v in t.vars() {
            if let Var::Kms(n) = v {
                out.push(n.clone());
            }
        }
    }
    out
}
