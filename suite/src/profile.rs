//! Endpoint profiles (`fixtures/profiles/*.yaml`): what an endpoint is, what it offers,
//! how it behaves where the documents leave a choice, and which deviations are known.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::{Catalog, CAPABILITIES, REGION_CAPABILITIES};

/// The default profile: the embedded emulator's, compiled in so `cos-suite run` works
/// from any directory.
pub const EMULATOR_PROFILE: &str = include_str!("../../fixtures/profiles/emulator.yaml");

pub use crate::dialect::{Addressing, Dialect};

/// One region the endpoint serves and the SSE modes it offers there.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region name, e.g. `ap-beijing`.
    pub name: String,
    /// Which of `sse-cos`, `sse-c`, `sse-kms`, `sm4` it offers.
    #[serde(default)]
    pub sse: Vec<String>,
}

/// Where the TCP connection goes instead of resolving the host (like the Python SDK's
/// `IP=`); the Host header and TLS SNI stay the virtual-host name.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// Address for HTTPS requests.
    pub https: Option<SocketAddr>,
    /// Address for plain-HTTP requests.
    pub http: Option<SocketAddr>,
}

/// Names of the environment variables holding the credentials.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Variable with the SecretId.
    #[serde(default = "default_id_env")]
    pub secret_id_env: String,
    /// Variable with the SecretKey.
    #[serde(default = "default_key_env")]
    pub secret_key_env: String,
}

fn default_id_env() -> String {
    "COS_SECRET_ID".into()
}
fn default_key_env() -> String {
    "COS_SECRET_KEY".into()
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            secret_id_env: default_id_env(),
            secret_key_env: default_key_env(),
        }
    }
}

/// TLS trust.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// PEM file of certificates to trust (in addition to none: there is no system store).
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate. For development only.
    #[serde(default)]
    pub insecure: bool,
}

/// A named KMS key: an existing CMK id, or (embedded emulator only) one to create.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum KmsKey {
    /// An existing CMK id.
    Id(String),
    /// Create it when the embedded emulator starts; `enabled: false` disables it after.
    Create {
        /// Whether it stays enabled.
        enabled: bool,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawKmsKey {
    Id(String),
    Create { create: KmsState },
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum KmsState {
    Enabled,
    Disabled,
}

/// A known deviation: the case still runs; a failure is expected-fail, a pass is
/// reported as unexpected-pass so the list shrinks.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The case id.
    pub case: String,
    /// Why the endpoint deviates.
    pub reason: String,
}

/// Buckets: created by the suite, or given per region.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Buckets {
    /// The suite may create (and afterwards delete) one bucket per region it uses.
    pub create: bool,
    /// Name prefix of created buckets (the appid is appended).
    pub prefix: String,
    /// Existing bucket (full name, `<name>-<appid>`) per region.
    pub by_region: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default = "default_dialect")]
    dialect: Dialect,
    #[serde(default)]
    addressing: Addressing,
    endpoint: String,
    http_endpoint: Option<String>,
    #[serde(default)]
    connect: Connect,
    #[serde(default)]
    appid: String,
    buckets: BTreeMap<String, serde_norway::Value>,
    #[serde(default)]
    credentials: Credentials,
    #[serde(default)]
    tls: Tls,
    #[serde(default)]
    capabilities: Vec<String>,
    regions: Vec<Region>,
    #[serde(default)]
    behaviour: BTreeMap<String, String>,
    #[serde(default)]
    kms_keys: BTreeMap<String, RawKmsKey>,
    #[serde(default)]
    known_deviations: Vec<Deviation>,
    #[serde(default)]
    codes: BTreeMap<String, String>,
    #[serde(default = "default_timeout")]
    request_timeout_secs: u64,
}

fn default_dialect() -> Dialect {
    Dialect::Cos
}
fn default_timeout() -> u64 {
    60
}

/// A loaded, checked profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    /// Short name, shown in reports (`emulator`, `tencent-cos`).
    pub name: String,
    /// Protocol family: `cos` (the default) or `s3` (SigV4, `x-amz-*`, S3 codes).
    pub dialect: Dialect,
    /// S3 dialect: virtual-host (`{bucket}` in the endpoint's host) or path-style addressing.
    pub addressing: Addressing,
    /// HTTPS endpoint template with `{bucket}` and `{region}`.
    pub endpoint: String,
    /// Plain-HTTP endpoint template, if the endpoint serves HTTP.
    pub http_endpoint: Option<String>,
    /// Connect addresses.
    pub connect: Connect,
    /// The account's appid (COS: required; S3: none, buckets have no `-<appid>` suffix).
    pub appid: String,
    /// Buckets.
    pub buckets: Buckets,
    /// Credential variable names.
    pub credentials: Credentials,
    /// TLS trust.
    pub tls: Tls,
    /// Endpoint-wide capabilities.
    pub capabilities: BTreeSet<String>,
    /// Regions, in preference order.
    pub regions: Vec<Region>,
    /// Behaviour per `unspecified` / `superseded` rule (unlisted: the rule's default).
    pub behaviour: BTreeMap<String, String>,
    /// Named KMS keys for `{{kms.NAME}}`.
    pub kms_keys: BTreeMap<String, KmsKey>,
    /// Known deviations.
    pub known_deviations: Vec<Deviation>,
    /// A code or an ERROR-CODES.md row of `cases/codes.yaml` → the code this
    /// endpoint answers on purpose instead (reported as a profile override).
    pub codes: BTreeMap<String, String>,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: u64,
}

/// Why a profile cannot be used.
pub type ProfileError = crate::file_error::FileError;

impl Profile {
    /// Loads a profile file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let text = ProfileError::read_text(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The built-in emulator profile.
    pub fn emulator() -> Result<Self, ProfileError> {
        Self::parse(
            "fixtures/profiles/emulator.yaml (built in)",
            EMULATOR_PROFILE,
        )
    }

    /// Parses a profile's text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, ProfileError> {
        let raw: RawProfile = ProfileError::parse_yaml(path, text)?;
        let invalid = |needle: &str, message: String| ProfileError::Invalid {
            path: path.to_string(),
            line: crate::file_error::line_of(text, needle),
            message,
        };
        from_raw(raw).map_err(|(needle, m)| invalid(needle, m))
    }

    /// Checks the behaviour map against the catalog: known rules, known behaviour names.
    pub fn check_behaviours(&self, catalog: &Catalog) -> Result<(), String> {
        for (rule, value) in &self.behaviour {
            let r = catalog
                .get(rule)
                .ok_or_else(|| format!("behaviour: unknown rule id `{rule}`"))?;
            if !r.behaviours.iter().any(|b| &b.name == value) {
                let names: Vec<&str> = r.behaviours.iter().map(|b| b.name.as_str()).collect();
                return Err(format!(
                    "behaviour: rule `{rule}` has no behaviour `{value}` (one of: {})",
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The endpoint's behaviour for `rule`: the profile's choice, else the rule's default.
    pub fn behaviour_of<'a>(&'a self, rule: &str, catalog: &'a Catalog) -> Option<&'a str> {
        self.behaviour
            .get(rule)
            .map(String::as_str)
            .or_else(|| catalog.get(rule).and_then(|r| r.default_behaviour()))
    }

    /// The region entry called `name`.
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// The known deviation for a case, if any.
    pub fn deviation(&self, case: &str) -> Option<&Deviation> {
        self.known_deviations.iter().find(|d| d.case == case)
    }
}

type Needle = &'static str;

fn from_raw(raw: RawProfile) -> Result<Profile, (Needle, String)> {
    if raw.dialect == Dialect::Cos && raw.addressing == Addressing::Path {
        return Err((
            "addressing",
            "addressing: path is for dialect: s3 (COS addresses buckets virtual-host style)".into(),
        ));
    }
    check_template(&raw.endpoint, "https://", raw.addressing).map_err(|m| ("endpoint", m))?;
    if let Some(h) = &raw.http_endpoint {
        check_template(h, "http://", raw.addressing).map_err(|m| ("http_endpoint", m))?;
    }
    let digits = !raw.appid.is_empty() && raw.appid.bytes().all(|b| b.is_ascii_digit());
    // COS needs its appid; an S3 store has none (its bucket names then have no
    // `-<appid>` suffix), but may be given one (the embedded emulator's accounts).
    let required = raw.dialect == Dialect::Cos || !raw.appid.is_empty();
    if required && !digits {
        return Err(("appid", format!("appid `{}` must be digits", raw.appid)));
    }
    let buckets = parse_buckets(raw.buckets, &raw.appid).map_err(|m| ("buckets", m))?;
    for c in &raw.capabilities {
        if !CAPABILITIES.contains(&c.as_str()) {
            return Err((
                "capabilities",
                format!(
                    "unknown capability `{c}` (one of: {})",
                    CAPABILITIES.join(", ")
                ),
            ));
        }
    }
    if raw.regions.is_empty() {
        return Err(("regions", "`regions` is empty: list at least one".into()));
    }
    for r in &raw.regions {
        for c in &r.sse {
            if !REGION_CAPABILITIES.contains(&c.as_str()) {
                return Err((
                    "sse:",
                    format!(
                        "region `{}`: unknown capability `{c}` (one of: {})",
                        r.name,
                        REGION_CAPABILITIES.join(", ")
                    ),
                ));
            }
        }
        if !buckets.create && !buckets.by_region.contains_key(&r.name) {
            return Err((
                "buckets",
                format!(
                    "region `{}` has no bucket and `buckets: {{create: true}}` is not set",
                    r.name
                ),
            ));
        }
    }
    let kms_keys = raw
        .kms_keys
        .into_iter()
        .map(|(name, k)| {
            let key = match k {
                RawKmsKey::Id(id) => KmsKey::Id(id),
                RawKmsKey::Create { create } => KmsKey::Create {
                    enabled: matches!(create, KmsState::Enabled),
                },
            };
            (name, key)
        })
        .collect();
    if raw.request_timeout_secs == 0 {
        return Err((
            "request_timeout_secs",
            "request_timeout_secs must be at least 1".into(),
        ));
    }
    Ok(Profile {
        name: raw.name,
        dialect: raw.dialect,
        addressing: raw.addressing,
        endpoint: raw.endpoint,
        http_endpoint: raw.http_endpoint,
        connect: raw.connect,
        appid: raw.appid,
        buckets,
        credentials: raw.credentials,
        tls: raw.tls,
        capabilities: raw.capabilities.into_iter().collect(),
        regions: raw.regions,
        behaviour: raw.behaviour,
        kms_keys,
        known_deviations: raw.known_deviations,
        codes: raw.codes,
        request_timeout_secs: raw.request_timeout_secs,
    })
}

fn check_template(t: &str, scheme: &str, addressing: Addressing) -> Result<(), String> {
    if !t.starts_with(scheme) {
        return Err(format!("endpoint `{t}` must start with `{scheme}`"));
    }
    match addressing {
        Addressing::Virtual if !t.contains("{bucket}") => Err(format!(
            "endpoint `{t}` has no `{{bucket}}`: with virtual-host addressing the bucket is in the host (or set `addressing: path`, S3 dialect)"
        )),
        Addressing::Path if t.contains("{bucket}") => Err(format!(
            "endpoint `{t}` has `{{bucket}}`, but `addressing: path` puts the bucket in the path"
        )),
        _ => Ok(()),
    }
}

fn parse_buckets(
    map: BTreeMap<String, serde_norway::Value>,
    appid: &str,
) -> Result<Buckets, String> {
    let mut b = Buckets {
        prefix: "cos-suite".into(),
        ..Buckets::default()
    };
    for (k, v) in map {
        match (k.as_str(), v) {
            ("create", serde_norway::Value::Bool(c)) => b.create = c,
            ("prefix", serde_norway::Value::String(p)) => b.prefix = p,
            ("create" | "prefix", other) => {
                return Err(format!("buckets.{k}: unexpected value {other:?}"))
            }
            (region, serde_norway::Value::String(name)) => {
                if !appid.is_empty() && !name.ends_with(&format!("-{appid}")) {
                    return Err(format!(
                        "buckets.{region}: `{name}` must end with `-{appid}` (COS bucket names are <name>-<appid>)"
                    ));
                }
                b.by_region.insert(region.to_string(), name);
            }
            (region, other) => {
                return Err(format!(
                    "buckets.{region}: expected a bucket name, got {other:?}"
                ))
            }
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_emulator_profile_loads() {
        let p = Profile::emulator().unwrap();
        assert!(p.buckets.create);
        assert!(p
            .region("ap-beijing")
            .unwrap()
            .sse
            .contains(&"sse-c".to_string()));
    }

    #[test]
    fn s3_profiles_may_have_no_appid_and_may_be_path_style() {
        let text = EMULATOR_PROFILE.replace("dialect: cos", "dialect: s3");
        assert_eq!(Profile::parse("p.yaml", &text).unwrap().appid, "1250000000");
        let text = text
            .replace("appid: \"1250000000\"\n", "")
            .replace(
                "\"https://{bucket}.cos.{region}.myqcloud.com\"",
                "\"https://127.0.0.1:1\"",
            )
            .replace(
                "\"http://{bucket}.cos.{region}.myqcloud.com\"",
                "\"http://127.0.0.1:2\"",
            );
        let err = Profile::parse("p.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("addressing: path"), "{err}");
        let p = Profile::parse(
            "p.yaml",
            &text.replace("dialect: s3", "dialect: s3\naddressing: path"),
        )
        .unwrap();
        assert_eq!((p.dialect, p.addressing), (Dialect::S3, Addressing::Path));
        assert_eq!(p.appid, "");
        // COS needs its appid; path-style is S3's only.
        let err = Profile::parse(
            "p.yaml",
            &EMULATOR_PROFILE.replace("appid: \"1250000000\"\n", ""),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("must be digits"), "{err}");
        let err = Profile::parse(
            "p.yaml",
            &EMULATOR_PROFILE.replace("dialect: cos", "dialect: cos\naddressing: path"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is for dialect: s3"), "{err}");
    }

    #[test]
    fn unknown_field_has_its_line() {
        let text = format!("{EMULATOR_PROFILE}\nbogus: 1\n");
        let err = Profile::parse("p.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
        assert!(!err.starts_with("p.yaml:0:"), "{err}");
    }
}
