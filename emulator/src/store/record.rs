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
        parts: Vec<super::parts::PartLayout>,
    },
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
