//! Introspection: what the emulator stored, for the conformance suite's
//! `introspect` capability. Emulator-only and never reachable over the network: the
//! embedded emulator hands an [`Introspector`] to the suite through the library API
//! ([`crate::Emulator::introspector`]). It reports, per object and per part, the SSE
//! mode, algorithm, master-key version or CMK id and whether (a hash of) a KMS context is
//! bound — never key material — and scans the whole data directory for plaintext windows
//! and secrets ([`scan`]). It also disables and re-enables CMKs for the `kms-admin` cases.
//!
//! [`lies`] holds the test-only switches that make the emulator break a promise the wire
//! cannot show, so the mutation harness can prove this oracle catches them.

pub mod lies;
pub mod scan;

use std::path::PathBuf;
use std::sync::Arc;

use cos_emulator_crypto::{EncryptionRecord, KeyRecord, Keys};
use sha2::{Digest, Sha256};

use crate::store::{BodyFormat, Store};

pub use lies::Lies;
pub use scan::{ScanHit, ScanRequest};

/// The protection of one stored object or part, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSse {
    /// `none`, `sse-cos`, `sse-kms` or `sse-c`.
    pub mode: &'static str,
    /// `AES256` or `SM4` (`None` for plain).
    pub algorithm: Option<&'static str>,
    /// SSE-COS: the master-key version that seals the data key.
    pub master_key_version: Option<u32>,
    /// SSE-KMS: the CMK id that seals the data key.
    pub cmk: Option<String>,
    /// SSE-KMS: SHA-256 (hex) of the bound encryption context as canonical JSON; `None`
    /// when no context is bound.
    pub context_hash: Option<String>,
}

impl StoredSse {
    fn of(record: Option<&EncryptionRecord>) -> StoredSse {
        let Some(r) = record else {
            return StoredSse {
                mode: "none",
                algorithm: None,
                master_key_version: None,
                cmk: None,
                context_hash: None,
            };
        };
        let mut s = StoredSse {
            mode: "",
            algorithm: Some(r.algorithm.as_str()),
            master_key_version: None,
            cmk: None,
            context_hash: None,
        };
        match &r.key {
            KeyRecord::Cos {
                master_key_version, ..
            } => {
                s.mode = "sse-cos";
                s.master_key_version = Some(*master_key_version);
            }
            KeyRecord::Kms {
                key_id, context, ..
            } => {
                s.mode = "sse-kms";
                s.cmk = Some(key_id.clone());
                if !context.is_empty() {
                    // BTreeMap serialises in key order: a canonical form.
                    let json = serde_json::to_vec(context).unwrap_or_default();
                    s.context_hash = Some(hex::encode(Sha256::digest(json)));
                }
            }
            KeyRecord::Customer { .. } => s.mode = "sse-c",
        }
        s
    }
}

/// What is stored for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's own record (for a multipart object: as Initiate decided).
    pub sse: StoredSse,
    /// `plain`, `chunked` (sealed chunks) or `parts`.
    pub body_format: &'static str,
    /// Each part of a completed multipart object, in order (empty otherwise).
    pub parts: Vec<StoredSse>,
    /// SHA-256 (hex) of the stored body bytes: two writes of the same plaintext must not
    /// store the same bytes (UNIQUE-KEY).
    pub stored_sha256: String,
}

/// An introspection failure (store or file system), as text for the suite's report.
pub type IntrospectError = String;

/// Read access to what a running emulator stored.
#[derive(Clone)]
pub struct Introspector {
    store: Arc<dyn Store>,
    keys: Arc<Keys>,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Introspector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Introspector")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Introspector {
    /// An introspector over a running emulator's store, keys and data directory.
    pub fn new(store: Arc<dyn Store>, keys: Arc<Keys>, data_dir: PathBuf) -> Self {
        Introspector {
            store,
            keys,
            data_dir,
        }
    }

    /// What is stored for `key` in `bucket` (`None`: no such object).
    pub fn object(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, IntrospectError> {
        let found = self
            .store
            .open_object(bucket, key)
            .map_err(|e| format!("reading the record of {bucket}/{key}: {e}"))?;
        let Some((r, mut body)) = found else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        std::io::copy(&mut body, &mut hasher)
            .map_err(|e| format!("reading the stored body of {bucket}/{key}: {e}"))?;
        let stored_sha256 = hex::encode(hasher.finalize());
        Ok(Some({
            let (body_format, parts) = match &r.body.format {
                BodyFormat::Plain => ("plain", Vec::new()),
                BodyFormat::Chunked { .. } => ("chunked", Vec::new()),
                BodyFormat::Parts { parts } => (
                    "parts",
                    parts
                        .iter()
                        .map(|p| StoredSse::of(p.sse.as_ref()))
                        .collect(),
                ),
            };
            StoredObject {
                sse: StoredSse::of(r.meta.sse.as_ref()),
                body_format,
                parts,
                stored_sha256,
            }
        }))
    }

    /// The bucket's stored default encryption (PUT Bucket encryption) as a protection:
    /// mode `none` when none is set, else `sse-cos` with its algorithm or `sse-kms` with
    /// its KMS algorithm (AES256 when none was sent) and the CMK it names (`None`: the
    /// account's default CMK). Lets cases see that PUT stored, and DELETE removed, what
    /// GET answers (BUCKET-ENC-FORMAT, BUCKET-ENC-REPLACE, BUCKET-ENC-DELETE).
    pub fn bucket_encryption(&self, bucket: &str) -> Result<StoredSse, IntrospectError> {
        use crate::store::DefaultSse;
        let record = self
            .store
            .bucket(bucket)
            .map_err(|e| format!("reading the record of bucket {bucket}: {e}"))?
            .ok_or_else(|| format!("no bucket {bucket}"))?;
        let mut s = StoredSse::of(None);
        if let Some(config) = record.encryption {
            let (mode, algorithm) = match config.sse_algorithm {
                DefaultSse::Aes256 => ("sse-cos", "AES256"),
                DefaultSse::Sm4 => ("sse-cos", "SM4"),
                DefaultSse::Kms => (
                    "sse-kms",
                    config
                        .kms_algorithm
                        .map_or("AES256", cos_emulator_crypto::Algorithm::as_str),
                ),
            };
            s.mode = mode;
            s.algorithm = Some(algorithm);
            s.cmk = config.kms_master_key_id;
        }
        Ok(s)
    }

    /// Scans the whole data directory (objects, parts, uploads, key files, temporary
    /// files) for the request's secrets and plaintext windows. Writes nothing.
    pub fn scan(&self, request: &ScanRequest) -> Result<Vec<ScanHit>, IntrospectError> {
        scan::scan(&self.data_dir, request)
            .map_err(|e| format!("scanning {}: {e}", self.data_dir.display()))
    }

    /// Disables a CMK (KMS-KEY-ID: objects sealed under it no longer open).
    pub fn disable_kms_key(&self, appid: &str, key_id: &str) -> Result<(), IntrospectError> {
        self.keys
            .kms()
            .disable_key(appid, key_id)
            .map_err(|e| format!("disabling CMK {key_id}: {e}"))
    }

    /// Enables a CMK again.
    pub fn enable_kms_key(&self, appid: &str, key_id: &str) -> Result<(), IntrospectError> {
        self.keys
            .kms()
            .enable_key(appid, key_id)
            .map_err(|e| format!("enabling CMK {key_id}: {e}"))
    }

    /// Rotates the SSE-COS master key (what `cos-emulator rotate-master-key` does): new
    /// SSE-COS objects are sealed under the returned version, older ones keep theirs.
    pub fn rotate_master_key(&self) -> Result<u32, IntrospectError> {
        self.keys
            .rotate_master_key()
            .map_err(|e| format!("rotating the master key: {e}"))
    }

    /// Creates a CMK (for a case that must own the key it disables).
    pub fn create_kms_key(
        &self,
        appid: &str,
        description: &str,
    ) -> Result<String, IntrospectError> {
        self.keys
            .kms()
            .create_key(appid, description)
            .map(|k| k.key_id)
            .map_err(|e| format!("creating a CMK: {e}"))
    }
}
