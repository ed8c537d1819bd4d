//! The records the store keeps as JSON next to each bucket and object: everything but the
//! body bytes. SSE metadata travels here as the crypto crate's [`EncryptionRecord`]
//! (never key material in clear).
//!
//! Object records are authenticated ([`RecordKey`]; emulator hardening, not a rule of the
//! catalog): whoever can write the data directory or the backing object store must not be
//! able to widen an object's ACL, or move one object's record under another key, unnoticed.

use std::collections::BTreeMap;

use cos_emulator_crypto::EncryptionRecord;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::StoreError;

/// A canned ACL (`x-cos-acl`), the only ACL form the emulator stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Acl {
    /// Only the owner.
    #[default]
    Private,
    /// Everyone may read.
    PublicRead,
    /// Everyone may read and write.
    PublicReadWrite,
    /// Objects only: inherit the bucket's ACL.
    Default,
}

impl Acl {
    /// Parses an `x-cos-acl` value; `default` only where `object` is true.
    pub fn parse(value: &str, object: bool) -> Option<Acl> {
        match value {
            "private" => Some(Acl::Private),
            "public-read" => Some(Acl::PublicRead),
            "public-read-write" => Some(Acl::PublicReadWrite),
            "default" if object => Some(Acl::Default),
            _ => None,
        }
    }

    /// The `x-cos-acl` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Acl::Private => "private",
            Acl::PublicRead => "public-read",
            Acl::PublicReadWrite => "public-read-write",
            Acl::Default => "default",
        }
    }
}

/// Whom an explicit ACL grant names (`x-cos-grant-*` headers, `Grant` elements).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Grantee {
    /// An account, by its canonical id (`qcs::cam::uin/<owner>:uin/<sub>`).
    Account(String),
    /// Everyone, signed or not (`http://cam.qcloud.com/groups/global/AllUsers`).
    AllUsers,
}

/// What an explicit ACL grant allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    /// Read (list a bucket; GET/HEAD an object).
    Read,
    /// Write (create, replace and delete a bucket's objects).
    Write,
    /// Everything the other four allow.
    FullControl,
    /// Read the ACL (and the bucket's location).
    ReadAcp,
    /// Replace the ACL.
    WriteAcp,
}

impl Permission {
    /// Every permission, with its COS spelling in `Permission` elements.
    pub const ALL: [(Permission, &'static str); 5] = [
        (Permission::Read, "READ"),
        (Permission::Write, "WRITE"),
        (Permission::FullControl, "FULL_CONTROL"),
        (Permission::ReadAcp, "READ_ACP"),
        (Permission::WriteAcp, "WRITE_ACP"),
    ];

    /// The COS spelling (`READ`, `FULL_CONTROL`, …).
    pub fn as_str(self) -> &'static str {
        Permission::ALL
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("READ", |(_, s)| s)
    }

    /// Parses the COS spelling.
    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(p, _)| *p)
    }
}

/// One explicit ACL grant, kept beside the canned ACL of a bucket or object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Whom.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
}

/// A bucket: its full name (`<name>-<appid>`), owner, region and ACL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRecord {
    /// `<name>-<appid>`.
    pub name: String,
    /// Owning account's appid.
    pub appid: String,
    /// Region recorded at creation; requests naming another region are refused.
    pub region: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// The bucket ACL.
    pub acl: Acl,
    /// The bucket's CORS rules (PUT Bucket cors), in order; empty when none are set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors: Vec<CorsRule>,
    /// Explicit grants beside the canned ACL (PUT Bucket acl); empty when none are set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// The bucket's default encryption (PUT Bucket encryption, BUCKET-ENC-FORMAT); `None`
    /// when none is set. Kept in the bucket record so both stores make it as durable as
    /// the bucket's ACL and CORS rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<BucketEncryption>,
}

/// A bucket's default encryption as PUT Bucket encryption set it (BUCKET-ENC-FORMAT):
/// the `SSEAlgorithm` and, for `KMS`, the CMK and the KMS algorithm exactly as sent, so GET
/// can answer them back (BUCKET-ENC-KMS-ALG-GET decides whether `KMSAlgorithm` is echoed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketEncryption {
    /// `AES256`, `SM4` or `KMS`.
    pub sse_algorithm: DefaultSse,
    /// `KMSMasterKeyID` (KMS only); `None`: the account's default CMK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    /// `KMSAlgorithm` (KMS only) as sent; `None`: not sent (AES256 applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_algorithm: Option<cos_emulator_crypto::Algorithm>,
}

/// The `SSEAlgorithm` of a bucket's default encryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultSse {
    /// SSE-COS with AES256.
    #[serde(rename = "AES256")]
    Aes256,
    /// SSE-COS with SM4 (D2: "SM4 代表使用 SSE-COS 模式，加密算法为 SM4").
    #[serde(rename = "SM4")]
    Sm4,
    /// SSE-KMS.
    #[serde(rename = "KMS")]
    Kms,
}

impl DefaultSse {
    /// The wire spelling of `SSEAlgorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefaultSse::Aes256 => "AES256",
            DefaultSse::Sm4 => "SM4",
            DefaultSse::Kms => "KMS",
        }
    }

    /// Parses the exact wire spelling (case-sensitive, like the object headers).
    pub fn from_wire(value: &str) -> Option<Self> {
        match value {
            "AES256" => Some(DefaultSse::Aes256),
            "SM4" => Some(DefaultSse::Sm4),
            "KMS" => Some(DefaultSse::Kms),
            _ => None,
        }
    }
}

/// One `CORSRule` of a bucket's CORS configuration (`ops::cors` matches and writes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CorsRule {
    /// `ID`, if the rule was given one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `AllowedOrigin`s; each may hold one `*` wildcard.
    pub allowed_origins: Vec<String>,
    /// `AllowedMethod`s (`GET`, `PUT`, `POST`, `DELETE`, `HEAD`).
    pub allowed_methods: Vec<String>,
    /// `AllowedHeader`s a preflight may ask for; each may hold one `*` wildcard.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// `ExposeHeader`s a browser may read from the actual response.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds` a browser may cache the preflight answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
}

/// How the stored body bytes encode the object's plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BodyFormat {
    /// The stored bytes are the plaintext (unencrypted objects; COS stores them so too).
    #[default]
    Plain,
    /// The chunked AEAD format of `cos-emulator-crypto` (64 KiB plaintext chunks, a tag
    /// each); the keys and nonce prefix are in the object's [`EncryptionRecord`].
    Chunked {
        /// Format version of the chunk layout.
        version: u8,
    },
    /// A completed multipart object: the parts' stored bytes back to back, each part plain
    /// or its own chunked AEAD stream under its own data key (`store::parts`).
    Parts {
        /// The parts, in order.
        parts: Vec<PartLayout>,
    },
}

/// One part of a completed multipart object, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartLayout {
    /// Plaintext length.
    pub size: u64,
    /// Stored length (its place in the object's body follows from the parts before it).
    pub stored_len: u64,
    /// The part's write id, bound into its data key's sealing AAD.
    pub write_id: String,
    /// The part's encryption record; `None` for a plain part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<EncryptionRecord>,
}

/// What an operation decides about an object: everything but where its body lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The object key (any UTF-8; never used as a path).
    pub key: String,
    /// Plaintext length (SIZE-UNCHANGED).
    pub size: u64,
    /// Hex MD5 of the plaintext (the ETag without quotes).
    pub etag: String,
    /// CRC-64/XZ of the plaintext.
    pub crc64: u64,
    /// Last-Modified, Unix milliseconds.
    pub modified_ms: i64,
    /// Content-Type as uploaded.
    pub content_type: String,
    /// Other stored standard headers (lower-case name → value): cache-control,
    /// content-disposition, content-encoding, content-language, expires.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `x-cos-meta-*` headers (lower-case full name → value), stored in clear (METADATA-CLEAR).
    #[serde(default)]
    pub user_meta: BTreeMap<String, String>,
    /// `x-cos-storage-class`.
    pub storage_class: String,
    /// Object ACL.
    pub acl: Acl,
    /// Explicit grants beside the canned ACL (PUT Object acl); empty when none are set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Owner's appid.
    pub owner: String,
    /// Names this write of the object (random per PUT); bound into the sealing AAD of the
    /// data key, so a sealed key copied from another write does not open.
    pub write_id: String,
    /// SSE metadata: algorithm, nonce prefix and the sealed data key with what opens it
    /// (never the key in clear, never the SSE-C key or its MD5: SSEC-NOT-STORED); `None`
    /// for plain objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<EncryptionRecord>,
    /// The record's MAC (hex HMAC-SHA256, see [`RecordKey`]); set by the store when the
    /// record is written, empty in metadata an operation builds.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
}

/// Where and how the body is stored; decided by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyRef {
    /// Store-internal name of the body file (random, never derived from the key).
    pub file: String,
    /// How the stored bytes encode the plaintext.
    pub format: BodyFormat,
    /// Length of the stored bytes.
    pub stored_len: u64,
    /// Object-store backend, completed multipart object: the stored bytes are these part
    /// bodies back to back (Complete writes this manifest instead of copying them), and
    /// `file` names nothing. Empty everywhere else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<BodySegment>,
}

impl BodyRef {
    /// A body stored as one file (or backend object) named `file`.
    pub fn one_file(file: String, format: BodyFormat, stored_len: u64) -> Self {
        BodyRef {
            file,
            format,
            stored_len,
            segments: Vec::new(),
        }
    }
}

/// One stored body among those a [`BodyRef`] is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodySegment {
    /// Store-internal name of the body.
    pub file: String,
    /// Its stored length.
    pub stored_len: u64,
}

/// An object as recorded: metadata plus body reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// Metadata.
    #[serde(flatten)]
    pub meta: ObjectMeta,
    /// Body reference.
    pub body: BodyRef,
}

/// The key that authenticates object records, derived from the SSE-COS master key
/// (`MasterKeyring::record_mac_key`).
///
/// Record authentication: an object record's MAC is HMAC-SHA256 over a label, the bucket,
/// the key the record is stored under, and the record's metadata as JSON with the MAC left
/// out — which carries the key name again, the write id (bound into the sealed data key),
/// the ACL, owner, sizes, digests and the SSE record. A record whose MAC does not verify, or whose
/// key is not the key it was looked up under, is never served: the store answers
/// [`StoreError::CorruptRecord`] (a 500 on the wire). So an ACL edited on disk, or one
/// object's record copied over another key's, fails instead of serving data.
///
/// The body reference is outside the MAC (the store chooses it after the metadata is
/// sealed): an encrypted body is authenticated by its own AEAD under the data key the MACed
/// record seals, so a swapped body fails its tag check, and a format edited to `plain`
/// serves ciphertext, never plaintext. A plain object's body swapped for another is served
/// as it is: the MAC protects who may read what, not the integrity of unencrypted bytes.
///
/// Data directories written before records were authenticated have records without a
/// MAC. They are refused like any other unauthenticated record, with a message saying so:
/// accepting them (or migrating them on the fly) would let anyone strip a MAC to have a
/// forged record accepted. Such a directory is re-created by copying its objects through
/// the API of the emulator version that wrote it.
pub struct RecordKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordKey(..)")
    }
}

/// Label of the record MAC's input, versioned with the input's layout.
const RECORD_MAC_LABEL: &[u8] = b"cos-emulator/object-record/v1";

impl RecordKey {
    /// A record key from the master key's derivation.
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        RecordKey { key }
    }

    /// The MAC state over a record's input, ready to finalize or verify.
    fn mac(&self, bucket: &str, key: &str, meta: &ObjectMeta) -> Result<Hmac<Sha256>, StoreError> {
        let mut unsealed = meta.clone();
        unsealed.mac.clear();
        let json = serde_json::to_vec(&unsealed).map_err(|e| StoreError::CorruptRecord {
            path: format!("{bucket}/{key}"),
            detail: e.to_string(),
        })?;
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key[..]).unwrap_or_else(|_| unreachable!());
        // Each field length-prefixed: no two (bucket, key, metadata) share an input.
        for field in [RECORD_MAC_LABEL, bucket.as_bytes(), key.as_bytes(), &json] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        Ok(mac)
    }

    /// Sets `meta.mac` for a record of `bucket` stored under `meta.key`.
    pub fn seal(&self, bucket: &str, meta: &mut ObjectMeta) -> Result<(), StoreError> {
        meta.mac = hex::encode(self.mac(bucket, &meta.key, meta)?.finalize().into_bytes());
        Ok(())
    }

    /// Checks that `meta` is the record of `bucket`/`key` the store wrote (record authentication).
    pub fn verify(&self, bucket: &str, key: &str, meta: &ObjectMeta) -> Result<(), StoreError> {
        let refuse = |detail: &str| {
            Err(StoreError::CorruptRecord {
                path: format!("{bucket}/{key}"),
                detail: detail.into(),
            })
        };
        if meta.mac.is_empty() {
            return refuse(
                "the record has no MAC (written before records were authenticated, or \
                 stripped): it is not served",
            );
        }
        let Ok(given) = hex::decode(&meta.mac) else {
            return refuse("the record's MAC is not hex");
        };
        // `verify_slice` compares in constant time.
        if self.mac(bucket, key, meta)?.verify_slice(&given).is_err() {
            return refuse("the record's MAC does not verify (edited, or moved from another key)");
        }
        if meta.key != key {
            return refuse("the record names another key");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 1,
            etag: "e".into(),
            crc64: 0,
            modified_ms: 0,
            content_type: "t".into(),
            headers: BTreeMap::new(),
            user_meta: BTreeMap::new(),
            storage_class: "STANDARD".into(),
            acl: Acl::Private,
            owner: "1250000000".into(),
            write_id: "w1".into(),
            sse: None,
            grants: Vec::new(),
            mac: String::new(),
        }
    }

    /// Record authentication: a sealed record verifies where it was written and nowhere else, and
    /// any change to it (ACL, write id, a stripped MAC) is refused.
    #[test]
    fn record_mac_binds_bucket_key_and_content() {
        let k = RecordKey::new(Zeroizing::new([7; 32]));
        let mut m = meta("a");
        k.seal("b-1", &mut m).unwrap();
        assert_eq!(m.mac.len(), 64);
        k.verify("b-1", "a", &m).unwrap();
        assert!(k.verify("b-2", "a", &m).is_err(), "other bucket");
        assert!(k.verify("b-1", "b", &m).is_err(), "other key");
        let other = RecordKey::new(Zeroizing::new([8; 32]));
        assert!(other.verify("b-1", "a", &m).is_err(), "other master key");
        let mut acl = m.clone();
        acl.acl = Acl::PublicRead;
        assert!(k.verify("b-1", "a", &acl).is_err(), "acl edited");
        let mut write = m.clone();
        write.write_id = "w2".into();
        assert!(k.verify("b-1", "a", &write).is_err(), "write id edited");
        let mut stripped = m.clone();
        stripped.mac.clear();
        assert!(k.verify("b-1", "a", &stripped).is_err(), "no MAC");
        // Sealing is a function of the content: sealing twice gives the same MAC.
        let mut again = m.clone();
        k.seal("b-1", &mut again).unwrap();
        assert_eq!(again.mac, m.mac);
    }
}
