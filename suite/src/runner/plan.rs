//! Before a case runs: which region it runs in, and whether the profile can run it at all.
//! A case the profile cannot run is not-applicable *with the reason* (never skipped).

use std::collections::BTreeSet;

use crate::case::{Auth, BodySpec, Case, Parts, RegionSpec, Scheme, Step, StepKind, Var};
use crate::dialect::{Dialect, COS_ONLY_HEADERS, S3_MIN_PART};
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
    // A COS-only rule (its `s3: {not-applicable}`): the case says nothing about an S3
    // endpoint, and the report says why.
    for id in &case.rules {
        if let Some(why) = env
            .catalog
            .get(id)
            .and_then(|r| r.not_applicable_in(env.profile.dialect))
        {
            return Err(Skip::NotApplicable(format!(
                "{id} does not apply in the {} dialect: {why}",
                env.profile.dialect.as_str()
            )));
        }
    }
    if env.profile.dialect == Dialect::S3 {
        if let Some(why) = s3_cannot_judge(&env.profile, case) {
            return Err(Skip::NotApplicable(why));
        }
    }
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

/// What in a case (written in COS terms) an S3 endpoint cannot be judged by, though its
/// rules apply: SM4 named as a literal header or form value (not through a shorthand the
/// region capabilities see), an expected COS-only header, a part below S3's minimum.
fn s3_cannot_judge(profile: &Profile, case: &Case) -> Option<String> {
    let steps: Vec<&Step> = case.steps.iter().chain(&case.cleanup).collect();
    let sm4_offered = profile
        .regions
        .iter()
        .any(|r| r.sse.iter().any(|c| c == "sm4"));
    for step in &steps {
        let f = &step.fields;
        let sm4 = f.headers.iter().chain(&f.fields).any(|(_, v)| {
            v.as_ref()
                .is_some_and(|t| t.source().eq_ignore_ascii_case("SM4"))
        });
        // A COS configuration document (bucket encryption) naming SM4 as an algorithm.
        let sm4_body = matches!(&f.body, Some(BodySpec::Literal(t))
            if t.source().contains(">SM4<"));
        // KMSAlgorithm is an element of COS's bucket encryption document only.
        if matches!(&f.body, Some(BodySpec::Literal(t)) if t.source().contains("<KMSAlgorithm>")) {
            return Some(format!(
                "step `{}` sends KMSAlgorithm, an element of COS's bucket encryption document that S3's has not",
                step.label()
            ));
        }
        if (sm4 || sm4_body) && !sm4_offered {
            return Some(format!(
                "step `{}` names SM4 in a header, form field or body: no region of the profile offers sm4",
                step.label()
            ));
        }
        let expects = step
            .expect
            .iter()
            .chain(step.expect_if.iter().map(|a| &a.expect));
        // S3 requires every x-amz-* header of a presigned request to be signed ("Any
        // x-amz-* headers that you plan to add to the request", AWS: Authenticating
        // Requests: Using Query Parameters); COS lets a presign's holder add metadata
        // unsigned, which in S3 is x-amz-meta-* and refused.
        if f.auth == Some(Auth::Presigned) && !f.meta.is_empty() {
            let succeeds = step
                .expect
                .as_ref()
                .and_then(|e| e.status.as_ref())
                .is_some_and(|s| s.accepts(200));
            if succeeds {
                return Some(format!(
                    "step `{}` expects a presigned request with unsigned x-cos-meta-* to succeed: S3 requires every x-amz-* header of a presigned request to be signed",
                    step.label()
                ));
            }
        }
        for e in expects {
            if let Some(h) = e
                .headers
                .keys()
                .find(|h| COS_ONLY_HEADERS.contains(&h.to_ascii_lowercase().as_str()))
            {
                return Some(format!(
                    "step `{}` expects {h}, which S3 has no counterpart of",
                    step.label()
                ));
            }
        }
    }
    small_part(&steps).map(|(label, size)| {
        format!(
            "step `{label}` uploads a part of {size} bytes before the last: S3's smallest is {S3_MIN_PART} bytes (COS's 1 MiB)"
        )
    })
}

/// A part smaller than S3's minimum that is not its upload's last: a `multipart` step's
/// body, or an `upload_part` / `upload_part_copy` below the case's highest part number.
fn small_part(steps: &[&Step]) -> Option<(String, u64)> {
    let size = |b: &BodySpec| match b {
        BodySpec::Random(n) => Some(*n),
        BodySpec::Repeat { text, times } => Some(text.len() as u64 * times),
        _ => None,
    };
    let highest = steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::UploadPart | StepKind::UploadPartCopy))
        .map(|s| s.fields.part.unwrap_or(1))
        .max()
        .unwrap_or(0);
    for step in steps {
        let f = &step.fields;
        let small = match step.kind {
            StepKind::Multipart => match &f.parts {
                Some(Parts::Bodies(bodies)) if bodies.len() > 1 => bodies[..bodies.len() - 1]
                    .iter()
                    .filter_map(size)
                    .find(|n| *n < S3_MIN_PART),
                _ => None,
            },
            StepKind::UploadPart if f.part.unwrap_or(1) < highest => {
                f.body.as_ref().and_then(size).filter(|n| *n < S3_MIN_PART)
            }
            StepKind::UploadPartCopy if f.part.unwrap_or(1) < highest => f
                .range
                .as_ref()
                .and_then(|r| range_len(r.source()))
                .filter(|n| *n < S3_MIN_PART),
            _ => None,
        };
        if let Some(n) = small {
            return Some((step.label(), n));
        }
    }
    None
}

/// The length of `bytes=A-B`.
fn range_len(range: &str) -> Option<u64> {
    let (a, b) = range.strip_prefix("bytes=")?.split_once('-')?;
    let (a, b) = (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?);
    (b >= a).then(|| b - a + 1)
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
