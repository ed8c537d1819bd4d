//! The mutation harness: the suite must notice every way a server can
//! get SSE wrong. Each mutation breaks ONE behaviour — in a loopback proxy between the
//! suite and the embedded emulator ([`proxy`], [`response`]), as a behaviour switch
//! flipped on the emulator while the profile keeps the default, or as a test-only lie of
//! the emulator that only introspection can see — and runs the cases of the families its
//! rules belong to (computed from the rule catalog, never a hand-picked list) in
//! `--strict`. A mutation is *killed* when at least one case fails. The score and every
//! survivor are computed from the runs ([`Score`]).

mod catalog;
mod proxy;
mod response;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub use catalog::{all, quick};

use crate::app::{self, EnvOptions, Loaded};
use crate::case::Case;
use crate::client::{Client, ClientConfig};
use crate::embedded::Embedded;
use crate::outcome::Outcome;
use crate::profile::Profile;
use crate::rules::RuleStatus;
use crate::runner::{run_all, Quiet, RunOptions};

/// The operation a proxy break targets, as the proxy classifies requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// PUT Object.
    Put,
    /// GET Object without Range.
    Get,
    /// GET Object with Range.
    GetRange,
    /// HEAD Object.
    Head,
    /// POST Object (form upload).
    PostObject,
    /// Initiate Multipart Upload.
    Initiate,
    /// Upload Part.
    UploadPart,
    /// Upload Part - Copy.
    UploadPartCopy,
    /// Complete Multipart Upload.
    Complete,
    /// PUT Object - Copy.
    Copy,
    /// GET Bucket (listing).
    List,
    /// Anything else.
    Other,
}

impl Op {
    /// Requests that create an object or a part (and may carry SSE settings).
    pub fn is_upload(self) -> bool {
        matches!(
            self,
            Op::Put | Op::PostObject | Op::Initiate | Op::Copy | Op::UploadPart
        )
    }
}

/// One broken behaviour of the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// Every `x-cos-server-side-encryption*` header removed from 2xx answers of the op.
    DropEcho(Op),
    /// The SSE echo values changed (AES256↔SM4, key id and key MD5 altered).
    AlterEcho(Op),
    /// Every 400 becomes 403.
    Status400To403,
    /// Every 403 becomes 400.
    Status403To400,
    /// Every answer with this status becomes an empty 200.
    RefusalTo200(u16),
    /// Every 404 becomes an empty 200.
    NotFoundTo200,
    /// One body byte flipped on 2xx answers of the op.
    BodyFlip(Op),
    /// The body rotated by one byte.
    BodyShift(Op),
    /// The body's last byte dropped.
    BodyTruncate(Op),
    /// The ETag (header and XML) changed on 2xx answers of the op.
    WrongEtag(Op),
    /// `x-cos-hash-crc64ecma` changed on 2xx answers of the op.
    WrongCrc(Op),
    /// A refusal quotes the request's SSE-C key in its message.
    QuoteKeyInRefusal,
    /// A refusal quotes the object's (or the request's) plaintext in its message.
    QuotePlaintextInRefusal,
    /// Every SSE upload refused (an endpoint without SSE).
    RefuseEverySseUpload,
    /// A wrong SSE-C key on this op (Get, Head) replaced by the right one.
    RightSseCKey(Op),
    /// A wrong copy-source SSE-C key replaced by the right one.
    RightCopySourceKey,
    /// SSE-C over plain HTTP forwarded over HTTPS.
    SseCOverHttpForwarded,
    /// SSE-C (the request's key or the copy source's) over plain HTTP forwarded over HTTPS
    /// on every operation but PUT Object: a server that checks SSEC-HTTPS on PUT only.
    SseCOverHttpForwardedButPut,
    /// SSE headers removed from Initiate Multipart Upload and PUT Object - Copy, the echo
    /// forged: what a server answers that checks the region limits on PUT only.
    RegionLimitPutOnly,
    /// SSE-COS/SSE-KMS over plain HTTP forwarded over HTTPS.
    SseHttpForwarded,
    /// Anonymous requests signed with the account's credentials.
    SignAnonymous,
    /// SSE headers removed from presigned uploads.
    StripSsePresigned,
    /// SSE headers removed from ARCHIVE/DEEP_ARCHIVE uploads (the echo forged).
    StripSseArchive,
    /// SSE-KMS uploads sent as SSE-COS, the KMS echoes forged on the upload and its reads.
    KmsDowngraded,
    /// The encryption context header removed.
    KmsContextStripped,
    /// Content-MD5 removed.
    ContentMd5Stripped,
    /// A wrong SSE-C key MD5 replaced by the right one.
    SseCMd5Recomputed,
    /// A customer key (or copy-source key) that is not 32 bytes zero-padded or cut to 32
    /// bytes, its MD5 recomputed, on every operation but PUT Object and PUT Object - Copy:
    /// a server that checks SSEC-KEY on the single-request writes only.
    SseCKeyLengthPutCopyOnly,
    /// SSE-COS/SSE-KMS headers dropped when SSE-C headers come too (a conflict resolved
    /// silently instead of refused).
    ConflictResolved,
    /// KMS key id and context headers dropped when the request is not SSE-KMS.
    KmsHeadersWithoutKmsDropped,
    /// Nothing broken (the baseline).
    Identity,
}

/// How a mutation breaks the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Through the proxy.
    Proxy(Break),
    /// A behaviour switch flipped on the emulator; the profile keeps the default.
    Switch {
        /// The rule id.
        rule: &'static str,
        /// The behaviour the emulator is given.
        behaviour: &'static str,
    },
    /// A test-only lie of the emulator (`cos_emulator::introspect::lies`, by rule id).
    Lie(&'static str),
}

/// One mutation.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Stable name (`drop-echo-put`).
    pub name: &'static str,
    /// The rules it breaks (their families select the cases that run).
    pub breaks: &'static [&'static str],
    /// How.
    pub how: How,
}

/// The result of one mutation.
#[derive(Debug, Clone)]
pub struct Run {
    /// The mutation's name.
    pub name: String,
    /// The rules it breaks.
    pub breaks: Vec<String>,
    /// Whether one of those rules is `documented`.
    pub documented: bool,
    /// Cases run.
    pub ran: usize,
    /// Cases that failed: the mutation is killed when this is not empty.
    pub failed: Vec<String>,
    /// Cases that ended in an error (a timeout, a broken connection), with the reason:
    /// not a kill, since a loaded machine can cause them without any mutation.
    pub errored: Vec<String>,
    /// The first mismatch of each failed case (`id: field: expected … got …`).
    pub why: Vec<String>,
    /// Why it could not run (setup failure); such a mutation counts as not killed.
    pub error: Option<String>,
}

impl Run {
    /// Killed: at least one case noticed.
    pub fn killed(&self) -> bool {
        self.error.is_none() && !self.failed.is_empty()
    }
}

/// The families of the rules a mutation breaks (from the catalog); unknown rule ids are
/// an error so a typo never selects nothing.
pub fn families(loaded: &Loaded, m: &Mutation) -> Result<BTreeSet<String>, String> {
    m.breaks
        .iter()
        .map(|id| {
            loaded
                .catalog
                .get(id)
                .map(|r| r.family.clone())
                .ok_or_else(|| format!("mutation {}: unknown rule {id}", m.name))
        })
        .collect()
}

/// The cases a mutation runs: every case of the broken rules' families, and every case
/// that names one of the broken rules.
pub fn relevant_cases(loaded: &Loaded, m: &Mutation) -> Result<Vec<Case>, String> {
    let fams = families(loaded, m)?;
    Ok(loaded
        .cases
        .iter()
        .filter(|c| {
            fams.contains(c.family()) || c.rules.iter().any(|r| m.breaks.contains(&r.as_str()))
        })
        .cloned()
        .collect())
}

fn documented(loaded: &Loaded, m: &Mutation) -> bool {
    m.breaks.iter().any(|id| {
        loaded
            .catalog
            .get(id)
            .is_some_and(|r| r.status == RuleStatus::Documented)
    })
}

/// Runs `cases` against a fresh embedded emulator broken as `m` says.
pub async fn run_one(
    loaded: &Loaded,
    profile: &Profile,
    m: &Mutation,
    cases: Vec<Case>,
    jobs: usize,
) -> Run {
    let mut run = Run {
        name: m.name.to_string(),
        breaks: m.breaks.iter().map(|s| s.to_string()).collect(),
        documented: documented(loaded, m),
        ran: cases.len(),
        failed: Vec::new(),
        errored: Vec::new(),
        why: Vec::new(),
        error: None,
    };
    match execute(loaded, profile, m, cases, jobs).await {
        Ok(results) => {
            for r in results {
                match r.outcome {
                    Outcome::Fail => {
                        let first = r
                            .failure
                            .as_ref()
                            .and_then(|f| f.mismatches.first())
                            .map(|m| format!("{}: expected {}, got {}", m.field, m.expected, m.got))
                            .unwrap_or_default();
                        run.why.push(format!("{}: {first}", r.id));
                        run.failed.push(r.id);
                    }
                    Outcome::Error => {
                        run.errored
                            .push(format!("{}: {}", r.id, r.reason.unwrap_or_default()))
                    }
                    _ => {}
                }
            }
        }
        Err(e) => run.error = Some(e),
    }
    run
}

async fn execute(
    loaded: &Loaded,
    profile: &Profile,
    m: &Mutation,
    cases: Vec<Case>,
    jobs: usize,
) -> Result<Vec<crate::outcome::CaseResult>, String> {
    let mut emulator_profile = profile.clone();
    let mut lies = cos_emulator::introspect::Lies::default();
    match m.how {
        How::Switch { rule, behaviour } => {
            emulator_profile
                .behaviour
                .insert(rule.to_string(), behaviour.to_string());
        }
        How::Lie(rule) => {
            lies = cos_emulator::introspect::Lies::named(rule)
                .ok_or_else(|| format!("the emulator has no lie for {rule}"))?;
        }
        How::Proxy(_) => {}
    }
    let emu = Embedded::start_lying(&mut emulator_profile, lies).await?;
    // The profile keeps its own behaviour map: a flipped switch is a server that does
    // not do what the profile says.
    let mut endpoint_profile = emulator_profile.clone();
    endpoint_profile.behaviour = profile.behaviour.clone();
    let mut proxy = None;
    if let How::Proxy(brk) = m.how {
        let ca = endpoint_profile
            .tls
            .ca_file
            .clone()
            .ok_or("the embedded emulator has no certificate")?;
        let upstream = Client::new(ClientConfig {
            ca_file: Some(ca.clone()),
            insecure: false,
            timeout: Duration::from_secs(endpoint_profile.request_timeout_secs),
            connect_https: endpoint_profile.connect.https,
            connect_http: endpoint_profile.connect.http,
        })?;
        let p = proxy::start(brk, upstream, emu.creds.clone(), &ca).await?;
        endpoint_profile.connect.https = Some(p.https);
        endpoint_profile.connect.http = Some(p.http);
        proxy = Some(p);
    }
    let endpoint = app::Endpoint {
        profile: endpoint_profile,
        creds: emu.creds.clone(),
        kms: emu.kms.clone(),
        kms_failures: emu.kms_failures.clone(),
        label: format!("mutation {}", m.name),
        embedded: Some(emu),
        warnings: Vec::new(),
    };
    let env = app::make_env(
        loaded,
        &endpoint,
        &EnvOptions {
            seed: 1,
            strict: true.into(),
        },
    )?;
    let (results, _warnings) =
        run_all(env, cases, RunOptions { jobs, repeat: 1 }, Arc::new(Quiet)).await;
    drop(proxy);
    if let Some(e) = endpoint.embedded {
        e.shutdown().await;
    }
    Ok(results)
}

/// The score of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    /// Mutations killed.
    pub killed: usize,
    /// Mutations run.
    pub total: usize,
    /// Of those breaking a `documented` rule: killed.
    pub documented_killed: usize,
    /// Of those breaking a `documented` rule: run.
    pub documented_total: usize,
}

impl Score {
    /// Computes the score of `runs`.
    pub fn of(runs: &[Run]) -> Score {
        let doc: Vec<&Run> = runs.iter().filter(|r| r.documented).collect();
        Score {
            killed: runs.iter().filter(|r| r.killed()).count(),
            total: runs.len(),
            documented_killed: doc.iter().filter(|r| r.killed()).count(),
            documented_total: doc.len(),
        }
    }

    /// Killed / total in percent (100 for no mutation).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.killed as f64 * 100.0 / self.total as f64
        }
    }
}

/// The baseline: the same cases through an identity proxy must all pass, else a kill
/// could be the proxy's own fault.
pub fn identity() -> Mutation {
    Mutation {
        name: "identity (baseline)",
        breaks: &[],
        how: How::Proxy(Break::Identity),
    }
}
