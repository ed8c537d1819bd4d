//! The `introspect:` checks of a case, as loaded: what the endpoint must have *stored*
//! (AT-REST, UNIQUE-KEY, SSEC-NOT-STORED, COS-ALG, KMS-ALG, KMS-KEY-ID, KMS-CONTEXT, and a
//! bucket's default encryption: BUCKET-ENC-FORMAT, BUCKET-ENC-REPLACE, BUCKET-ENC-DELETE), and
//! the capabilities they need. Pure data, validated while the case loads; running them is
//! `crate::introspect`, in the execution layer.
//!
//! A case lists its checks under `introspect:` (after `steps:`); each runs right after the
//! step named by `after` (default: the last step). See cases/README.md, "Introspection".

use std::collections::BTreeSet;

use serde::{de, Deserialize, Deserializer};

use super::{KeyName, Template};

/// The profile capability that enables `introspect:` checks.
pub const CAPABILITY: &str = "introspect";
/// The profile capability that lets a check disable a CMK (`kms_disable`).
pub const KMS_ADMIN: &str = "kms-admin";
/// The profile capability that lets a check rotate the SSE-COS master key
/// (`rotate_master_key`).
pub const MASTER_KEY_ADMIN: &str = "master-key-admin";

/// A step reference (name or 0-based index), resolved to an earlier step while loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRef(pub usize);

impl<'de> Deserialize<'de> for StepRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Index(u64),
            Name(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Index(i) => i.to_string(),
            Raw::Name(n) => n,
        };
        super::scope::resolve_step(&text)
            .map(StepRef)
            .map_err(de::Error::custom)
    }
}

/// What a stored object (and each of its parts) must look like.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredExpect {
    /// `none`, `sse-cos`, `sse-kms` or `sse-c`.
    pub mode: Option<Mode>,
    /// `AES256` or `SM4` (COS-ALG, KMS-ALG, SSEC-ALG).
    pub algorithm: Option<AlgorithmName>,
    /// The CMK that seals the data key (KMS-KEY-ID), e.g. `"{{kms.enabled}}"`.
    pub cmk: Option<Template>,
    /// Whether an encryption context is bound to the data key (KMS-CONTEXT).
    pub context_bound: Option<bool>,
    /// Number of parts of a completed multipart object.
    pub parts: Option<usize>,
    /// Another object (same plaintext) whose stored bytes must differ (UNIQUE-KEY).
    pub stored_unlike: Option<Template>,
    /// SSE-COS: whether the data key is sealed under a master-key version older than the
    /// one the case's `rotate_master_key` made (`older`), or under that one (`rotated`).
    pub master_key: Option<MasterKeyAge>,
}

/// Which master-key version seals an SSE-COS object, relative to the case's rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MasterKeyAge {
    /// Sealed before the rotation: an older version (still readable).
    Older,
    /// Sealed after it: exactly the version the rotation made.
    Rotated,
}

/// A stored SSE mode as the introspector names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Not encrypted.
    None,
    /// SSE-COS.
    SseCos,
    /// SSE-KMS.
    SseKms,
    /// SSE-C.
    SseC,
}

impl Mode {
    /// The spelling the emulator reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::SseCos => "sse-cos",
            Mode::SseKms => "sse-kms",
            Mode::SseC => "sse-c",
        }
    }
}

/// A content algorithm as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AlgorithmName {
    /// AES-256-GCM.
    #[serde(rename = "AES256")]
    Aes256,
    /// SM4-GCM.
    #[serde(rename = "SM4")]
    Sm4,
}

impl AlgorithmName {
    /// The spelling the emulator reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AlgorithmName::Aes256 => "AES256",
            AlgorithmName::Sm4 => "SM4",
        }
    }
}

/// `scan:`: what the at-rest scan looks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSpec {
    /// Steps whose plaintext must not be stored (default: every upload step that asked
    /// for SSE: `put`, `post`, `upload_part`, `multipart` with an SSE shorthand).
    pub steps: Option<Vec<StepRef>>,
    /// Customer keys that must not be stored in any form (default: every key the case
    /// sends in `sse_c` or `copy_source_sse_c`).
    pub keys: Option<Vec<KeyName>>,
}

/// What a check does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Compare the stored record of `key` with `expect`.
    Object {
        /// The object key (templates allowed).
        key: Template,
        /// The expected stored protection.
        expect: StoredExpect,
    },
    /// Compare the bucket's stored default encryption (PUT Bucket encryption) with
    /// `expect` (`mode`, `algorithm`, `cmk`; mode `none`: no default stored).
    BucketEncryption(StoredExpect),
    /// Scan the data directory for plaintexts and customer keys.
    Scan(ScanSpec),
    /// Disable a CMK (re-enabled when the case ends). Needs `kms-admin`.
    KmsDisable(Template),
    /// Rotate the SSE-COS master key now. Needs `master-key-admin`.
    RotateMasterKey,
}

/// One `introspect:` entry.
#[derive(Debug, Clone)]
pub struct Check {
    /// Runs after this step (`None`: after the last).
    pub after: Option<StepRef>,
    /// What it does.
    pub action: Action,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    after: Option<StepRef>,
    object: Option<Template>,
    expect: Option<StoredExpect>,
    scan: Option<ScanSpec>,
    kms_disable: Option<Template>,
    rotate_master_key: Option<bool>,
    bucket_encryption: Option<StoredExpect>,
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawCheck::deserialize(d)?;
        let rotate = r.rotate_master_key == Some(true);
        if let Some(expect) = r.bucket_encryption {
            if r.object.is_some()
                || r.expect.is_some()
                || r.scan.is_some()
                || r.kms_disable.is_some()
                || rotate
            {
                return Err(de::Error::custom(
                    "an introspect check has exactly one of `object:` (with `expect:`), `scan:`, `kms_disable:`, `rotate_master_key: true`, `bucket_encryption:`",
                ));
            }
            if expect.context_bound.is_some()
                || expect.parts.is_some()
                || expect.stored_unlike.is_some()
                || expect.master_key.is_some()
            {
                return Err(de::Error::custom(
                    "`bucket_encryption:` checks only mode, algorithm and cmk",
                ));
            }
            return Ok(Check {
                after: r.after,
                action: Action::BucketEncryption(expect),
            });
        }
        let action = match (r.object, r.expect, r.scan, r.kms_disable, rotate) {
            (Some(key), Some(expect), None, None, false) => Action::Object { key, expect },
            (Some(_), None, None, None, false) => {
                return Err(de::Error::custom(
                    "`object:` needs `expect:` (mode, algorithm, cmk, context_bound, parts, master_key)",
                ))
            }
            (None, None, Some(spec), None, false) => Action::Scan(spec),
            (None, None, None, Some(key), false) => Action::KmsDisable(key),
            (None, None, None, None, true) => Action::RotateMasterKey,
            _ => {
                return Err(de::Error::custom(
                    "an introspect check has exactly one of `object:` (with `expect:`), `scan:`, `kms_disable:`, `rotate_master_key: true`",
                ))
            }
        };
        Ok(Check {
            after: r.after,
            action,
        })
    }
}

/// The capabilities a case's checks need beyond `introspect` (`kms-admin` for
/// `kms_disable`), for the load-time check that `requires:` names them.
pub fn needed_capabilities(checks: &[Check]) -> BTreeSet<&'static str> {
    let mut caps = BTreeSet::new();
    if !checks.is_empty() {
        caps.insert(CAPABILITY);
    }
    if checks
        .iter()
        .any(|c| matches!(c.action, Action::KmsDisable(_)))
    {
        caps.insert(KMS_ADMIN);
    }
    if checks
        .iter()
        .any(|c| matches!(c.action, Action::RotateMasterKey))
    {
        caps.insert(MASTER_KEY_ADMIN);
    }
    caps
}
