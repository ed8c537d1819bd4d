//! The records the store keeps as JSON next to each bucket and object: everything but the
//! body bytes. SSE metadata travels here as the crypto crate's [`EncryptionRecord`]
//! (never key material in clear).

use std::collections::BTreeMap;

use cos_emulator_crypto::EncryptionRecord;
use serde::{Deserialize, Serialize};

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
