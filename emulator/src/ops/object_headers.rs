//! The headers an object keeps: Content-Type, the other standard entity headers,
//! `x-cos-meta-*` (METADATA-CLEAR: stored and returned in clear, also for encrypted
//! objects) and `x-cos-storage-class`; and how they are written back on GET/HEAD, with the
//! `response-*` query overrides.

use std::collections::BTreeMap;

use crate::error::{Error, ErrorCode};
use crate::request::{Query, Request};
use crate::response::Response;
use crate::store::ObjectMeta;

/// Standard headers stored with an object and returned on GET/HEAD.
pub const STORED: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// Storage classes COS accepts on upload.
pub const STORAGE_CLASSES: [&str; 9] = [
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "MAZ_STANDARD",
    "MAZ_STANDARD_IA",
    "MAZ_INTELLIGENT_TIERING",
    "MAZ_ARCHIVE",
];

/// COS's limit on the total size of user metadata (names and values), in bytes.
pub const MAX_USER_META: usize = 2048;

/// The headers of an upload that are stored with the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHeaders {
    /// Content-Type (default `application/octet-stream`).
    pub content_type: String,
    /// Other standard headers, lower-case name → value.
    pub headers: BTreeMap<String, String>,
    /// `x-cos-meta-*`, lower-case full name → value.
    pub user_meta: BTreeMap<String, String>,
    /// `x-cos-storage-class` (default STANDARD).
    pub storage_class: String,
}

impl StoredHeaders {
    /// Reads them from an upload request.
    pub fn from_request(req: &Request) -> Result<Self, Error> {
        let content_type = req
            .header("content-type")?
            .unwrap_or("application/octet-stream")
            .to_string();
        let mut headers = BTreeMap::new();
        for name in STORED {
            if let Some(v) = req.header(name)? {
                headers.insert(name.to_string(), v.to_string());
            }
        }
        let mut user_meta = BTreeMap::new();
        let mut total = 0;
        for (name, value) in &req.headers {
            if let Some(suffix) = name.as_str().strip_prefix("x-cos-meta-") {
                let v = req.header(name.as_str())?.unwrap_or_default();
                total += suffix.len() + v.len();
                user_meta.insert(name.as_str().to_string(), v.to_string());
                let _ = value;
            }
        }
        if total > MAX_USER_META {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "x-cos-meta-* headers total {total} bytes; at most {MAX_USER_META} are allowed"
                ),
            ));
        }
        let storage_class = match req.header("x-cos-storage-class")? {
            None => "STANDARD".to_string(),
            Some(v) if STORAGE_CLASSES.contains(&v) => v.to_string(),
            Some(v) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("x-cos-storage-class {v:?} is not a storage class"),
                ))
            }
        };
        Ok(StoredHeaders {
            content_type,
            headers,
            user_meta,
            storage_class,
        })
    }
}

/// Whether a storage class keeps objects offline until restored.
pub fn is_archive(storage_class: &str) -> bool {
    matches!(storage_class, "ARCHIVE" | "DEEP_ARCHIVE" | "MAZ_ARCHIVE")
}

/// The `response-*` query parameters and the headers they override on GET/HEAD.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Writes an object's stored headers, ETag, Last-Modified and CRC-64 onto a GET/HEAD
/// response, then applies the `response-*` overrides.
pub fn write(resp: &mut Response, meta: &ObjectMeta, query: &Query) {
    resp.set("content-type", &meta.content_type);
    for (name, value) in meta.headers.iter().chain(meta.user_meta.iter()) {
        resp.set(name, value);
    }
    write_identity(resp, meta);
    resp.set("last-modified", &super::http_date(meta.modified_ms));
    resp.set("accept-ranges", "bytes");
    if meta.storage_class != "STANDARD" {
        resp.set("x-cos-storage-class", &meta.storage_class);
    }
    for (param, header) in OVERRIDES {
        if let Some(v) = query.get(param) {
            resp.set(header, v);
        }
    }
}

/// ETag and `x-cos-hash-crc64ecma` (PUT, GET and HEAD responses).
pub fn write_identity(resp: &mut Response, meta: &ObjectMeta) {
    resp.set("etag", &format!("\"{}\"", meta.etag));
    resp.set("x-cos-hash-crc64ecma", &meta.crc64.to_string());
}
