//! What the endpoint offers: one probe per capability of a profile (`capabilities:` and,
//! per region, the SSE modes and SM4), each a small real request or a few, decided by what
//! the endpoint answered. Nothing assumes the endpoint is the emulator; every probe writes
//! under its own case prefix and the runner deletes what it wrote.

use std::collections::{BTreeMap, BTreeSet};

use crate::app::{Endpoint, Loaded};
use crate::dialect::Dialect;
use crate::outcome::StepExchange;
use crate::profile::{Profile, Region};
use crate::rules::REGION_CAPABILITIES;

use super::probe::{self, answer_line, Probe, Seen};

/// Capabilities no request can show: the embedded emulator's library API (introspection,
/// KMS and master-key administration) and its second account. Kept from the given profile
/// when the run is embedded, dropped otherwise (as `cos-suite run` drops them).
pub const NOT_PROBED: &[&str] = &[
    "introspect",
    "kms-admin",
    "master-key-admin",
    "other-account",
];

/// The endpoint-wide capabilities probed, in the order the draft lists them.
pub const PROBED: &[&str] = &[
    "https",
    "http",
    "presign",
    "post-object",
    "multipart",
    "anonymous",
    "archive",
    "restore",
    "kms-custom-keys",
];

/// One capability's finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The capability.
    pub name: String,
    /// Whether the endpoint offers it.
    pub offered: bool,
    /// Why, in one line.
    pub why: String,
    /// The exchange that decided it (none when the probe did not run).
    pub exchange: Option<StepExchange>,
}

/// One SSE mode × algorithm probe in one region.
#[derive(Debug, Clone)]
pub struct ModeProbe {
    /// `sse-cos`, `sse-c` or `sse-kms`.
    pub mode: &'static str,
    /// `AES256` or `SM4`.
    pub algorithm: &'static str,
    /// Whether the endpoint took it.
    pub offered: bool,
    /// What it answered, in one line.
    pub why: String,
}

/// One region's finding.
#[derive(Debug, Clone)]
pub struct RegionFinding {
    /// The region.
    pub name: String,
    /// The profile's `sse:` list for it, in the vocabulary's order.
    pub sse: Vec<String>,
    /// Every mode × algorithm probe.
    pub probes: Vec<ModeProbe>,
}

/// Everything the capability probes found.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Per endpoint-wide capability, in [`PROBED`] order.
    pub capabilities: Vec<Finding>,
    /// Capabilities kept from the given profile without a probe ([`NOT_PROBED`]).
    pub kept: Vec<String>,
    /// Per region of the given profile, in its order.
    pub regions: Vec<RegionFinding>,
    /// Notes on what was not probed and why (one line each).
    pub notes: Vec<String>,
}

impl Findings {
    /// The `capabilities:` set these findings give.
    pub fn capability_set(&self) -> BTreeSet<String> {
        self.capabilities
            .iter()
            .filter(|f| f.offered)
            .map(|f| f.name.clone())
            .chain(self.kept.iter().cloned())
            .collect()
    }

    /// The `regions:` list these findings give.
    pub fn region_list(&self) -> Vec<Region> {
        self.regions
            .iter()
            .map(|r| Region {
                name: r.name.clone(),
                sse: r.sse.clone(),
            })
            .collect()
    }
}

const MODES: &[(&str, &str, &str, &str)] = &[
    // mode, algorithm, rule the probe is filed under, the SSE field of its PUT
    ("sse-cos", "AES256", "COS-ALG", "sse_cos: AES256"),
    ("sse-cos", "SM4", "COS-ALG", "sse_cos: SM4"),
    ("sse-c", "AES256", "SSEC-ROUNDTRIP", "sse_c: py_1"),
    (
        "sse-c",
        "SM4",
        "SSEC-ROUNDTRIP",
        "sse_c: {key: py_1, algorithm: SM4}",
    ),
    ("sse-kms", "AES256", "KMS-TRANSPARENT", "sse_kms: {}"),
    (
        "sse-kms",
        "SM4",
        "KMS-TRANSPARENT",
        "sse_kms: {algorithm: SM4}",
    ),
];

/// The endpoint-wide probes: capability, rules, steps. Each passes only when the
/// capability works end to end (what is written reads back).
fn endpoint_probes(with_kms_keys: bool) -> Vec<(&'static str, Probe)> {
    let p = |cap: &'static str, family: &str, rules: &'static str, body: &str| {
        (
            cap,
            Probe {
                id: format!("{family}/discover-{cap}"),
                rules,
                body: body.to_string(),
            },
        )
    };
    let mut out = vec![
        p(
            "https",
            "properties",
            "COS-TRANSPARENT",
            "steps:\n  - name: upload\n    put: {key: \"{{case}}/obj\", body: {random: 64}, scheme: https}\n  - get: {key: \"{{case}}/obj\", scheme: https}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
        p(
            "http",
            "properties",
            "SSE-HTTP",
            "steps:\n  - name: upload\n    put: {key: \"{{case}}/obj\", body: {random: 64}, scheme: http}\n  - get: {key: \"{{case}}/obj\", scheme: http}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
        p(
            "presign",
            "presign",
            "PRESIGN-GET",
            "steps:\n  - name: upload\n    put: {key: \"{{case}}/obj\", body: {random: 64}}\n  - get: {key: \"{{case}}/obj\", auth: presigned}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
        p(
            "post-object",
            "post",
            "POST-FORM",
            "steps:\n  - name: upload\n    post: {key: \"{{case}}/obj\", body: {random: 64}}\n    expect: {status: [200, 201, 204]}\n  - get: {key: \"{{case}}/obj\"}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
        p(
            "multipart",
            "multipart",
            "MPU-SSE",
            "steps:\n  - name: source\n    put: {key: \"{{case}}/src\", body: {random: 4096}}\n  - name: init\n    initiate: {key: \"{{case}}/obj\"}\n  - upload_part_copy: {key: \"{{case}}/obj\", upload_id: \"{{steps.init.xml.UploadId}}\", part: 1, source: {key: \"{{case}}/src\"}}\n  - complete: {key: \"{{case}}/obj\", upload_id: \"{{steps.init.xml.UploadId}}\"}\n  - get: {key: \"{{case}}/obj\"}\n    expect: {status: 200, body: {step: source}}\n",
        ),
        p(
            "anonymous",
            "anonymous",
            "COS-ANON",
            "steps:\n  - name: upload\n    put: {key: \"{{case}}/obj\", body: {random: 64}, acl: public-read}\n  - get: {key: \"{{case}}/obj\", auth: anonymous}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
        p(
            "archive",
            "properties",
            "SIZE-UNCHANGED",
            "steps:\n  - put: {key: \"{{case}}/obj\", body: {random: 64}, storage_class: ARCHIVE}\n  - head: {key: \"{{case}}/obj\"}\n    expect: {status: 200, headers: {x-cos-storage-class: ARCHIVE}}\n",
        ),
        p(
            "restore",
            "properties",
            "SIZE-UNCHANGED",
            "steps:\n  - name: upload\n    put: {key: \"{{case}}/obj\", body: {random: 64}, storage_class: ARCHIVE}\n  - restore: {key: \"{{case}}/obj\", days: 1, tier: Expedited}\n    expect: {status: [200, 202]}\n  - wait_restored: {key: \"{{case}}/obj\", timeout_secs: 300}\n  - get: {key: \"{{case}}/obj\"}\n    expect: {status: 200, body: {step: upload}}\n",
        ),
    ];
    if with_kms_keys {
        out.push(p(
            "kms-custom-keys",
            "sse-kms",
            "KMS-KEY-ID",
            "steps:\n  - put: {key: \"{{case}}/a\", body: {random: 64}, sse_kms: {key_id: \"{{kms.enabled}}\"}}\n    expect: {status: 200, headers: {x-cos-server-side-encryption-cos-kms-key-id: {present: true}}}\n  - put: {key: \"{{case}}/b\", body: {random: 64}, sse_kms: {key_id: \"{{kms.disabled}}\"}}\n    expect: {status: 4xx}\n",
        ));
    }
    out
}

/// A region's mode probes: one PUT each (its outcome is not the decision: the status is,
/// see [`mode_offered`]).
fn region_probes(region: &str, index: usize, dialect: Dialect) -> Vec<(usize, Probe)> {
    MODES
        .iter()
        .enumerate()
        // S3 has no SM4: the runner plans a case naming it away in the S3 dialect.
        .filter(|(_, (_, alg, _, _))| dialect == Dialect::Cos || *alg != "SM4")
        .map(|(m, (mode, alg, rules, sse))| {
            let family = match *mode {
                "sse-cos" => "sse-cos",
                "sse-c" => "sse-c",
                _ => "sse-kms",
            };
            (
                m,
                Probe {
                    id: format!(
                        "{family}/discover-r{index}-{}",
                        alg.to_ascii_lowercase()
                    ),
                    rules,
                    body: format!(
                        "region: {region}\nsteps:\n  - put: {{key: \"{{{{case}}}}/obj\", body: {{random: 64}}, {sse}}}\n"
                    ),
                },
            )
        })
        .collect()
}

/// A mode is offered when the PUT is stored (2xx), and also when the endpoint fails it
/// with a server error other than 501 NotImplemented: it took the mode and broke, which
/// the catalog's cases should show as failures rather than plan away. A refusal (4xx) or
/// 501 means the mode is not offered there.
fn mode_offered(x: Option<&StepExchange>) -> bool {
    match x.and_then(|x| x.status) {
        Some(s) => (200..300).contains(&s) || ((500..600).contains(&s) && s != 501),
        None => false,
    }
}

/// Runs every capability probe and returns the findings. `given` is the profile the run
/// started from: its regions are the ones probed, its `http_endpoint` the plain-HTTP one,
/// its `kms_keys` the CMKs of the `kms-custom-keys` probe.
pub async fn probe(
    loaded: &Loaded,
    endpoint: &mut Endpoint,
    given: &Profile,
    jobs: usize,
    seed: u64,
) -> Result<Findings, String> {
    let dialect = given.dialect;
    let embedded = endpoint.embedded.is_some();
    let with_kms_keys =
        endpoint.kms.contains_key("enabled") && endpoint.kms.contains_key("disabled");
    let mut notes = Vec::new();
    // The probes' profile claims everything, so none is planned away for a missing
    // capability; what they answer decides.
    let mut claim = endpoint.profile.clone();
    claim.capabilities = PROBED.iter().map(|s| s.to_string()).collect();
    claim.capabilities.extend(
        given
            .capabilities
            .iter()
            .filter(|c| NOT_PROBED.contains(&c.as_str()))
            .cloned(),
    );
    for r in &mut claim.regions {
        r.sse = REGION_CAPABILITIES.iter().map(|s| s.to_string()).collect();
        if dialect == Dialect::S3 {
            r.sse.retain(|c| c != "sm4");
        }
    }
    claim.behaviour.clear();
    let mut probes: Vec<Probe> = Vec::new();
    let wide = endpoint_probes(with_kms_keys);
    for (cap, p) in &wide {
        if *cap == "http" && given.http_endpoint.is_none() {
            continue;
        }
        probes.push(p.clone());
    }
    let mut per_region = Vec::new();
    for (i, r) in given.regions.iter().enumerate() {
        let rp = region_probes(&r.name, i, dialect);
        probes.extend(rp.iter().map(|(_, p)| p.clone()));
        per_region.push(rp);
    }
    let seen: BTreeMap<String, Seen> =
        probe::run(loaded, endpoint, claim, &probes, jobs, seed).await?;
    let mut capabilities = Vec::new();
    for cap in PROBED {
        let found = wide.iter().find(|(c, _)| c == cap);
        let finding = match found.and_then(|(_, p)| seen.get(&p.id)) {
            Some(s) => Finding {
                name: cap.to_string(),
                offered: s.passed(),
                why: if s.passed() {
                    s.deciding().map(answer_line).unwrap_or_default()
                } else {
                    s.why()
                },
                exchange: s.deciding().cloned(),
            },
            None => Finding {
                name: cap.to_string(),
                offered: false,
                why: match *cap {
                    "http" => "not probed: the given profile has no `http_endpoint`".into(),
                    "kms-custom-keys" => "not probed: the given profile's `kms_keys` name no `enabled` and `disabled` CMK".into(),
                    _ => "not probed".into(),
                },
                exchange: None,
            },
        };
        capabilities.push(finding);
    }
    let kept: Vec<String> = if embedded {
        given
            .capabilities
            .iter()
            .filter(|c| NOT_PROBED.contains(&c.as_str()))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    if !kept.is_empty() {
        notes.push(format!(
            "kept from the given profile, not probed (the embedded emulator's library API, no request shows them): {}",
            kept.join(", ")
        ));
    }
    if dialect == Dialect::S3 {
        notes.push(
            "SM4 not probed: S3 has no SM4 (cases naming it are judged in the COS dialect only)"
                .into(),
        );
    }
    let mut regions = Vec::new();
    for (r, rp) in given.regions.iter().zip(per_region) {
        let mut modes = Vec::new();
        for (m, p) in rp {
            let (mode, alg, _, _) = MODES[m];
            let s = seen.get(&p.id);
            let x = s.and_then(|s| s.result.exchanges.first());
            let offered = mode_offered(x);
            modes.push(ModeProbe {
                mode,
                algorithm: alg,
                offered,
                why: match (x, s) {
                    (Some(x), _) => answer_line(x),
                    (None, Some(s)) => s.why(),
                    (None, None) => "not run".into(),
                },
            });
        }
        let mut sse: Vec<String> = Vec::new();
        for mode in ["sse-cos", "sse-c", "sse-kms"] {
            if modes.iter().any(|p| p.mode == mode && p.offered) {
                sse.push(mode.to_string());
            }
        }
        // SM4 is offered "wherever the mode itself is": one mode taking it is enough.
        if modes
            .iter()
            .any(|p| p.algorithm == "SM4" && p.offered && sse.iter().any(|m| m == p.mode))
        {
            sse.push("sm4".into());
        }
        regions.push(RegionFinding {
            name: r.name.clone(),
            sse,
            probes: modes,
        });
    }
    Ok(Findings {
        capabilities,
        kept,
        regions,
        notes,
    })
}
