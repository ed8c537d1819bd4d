//! Helpers of the SSE, multipart, copy, POST and archive tests: SSE modes as headers, XML
//! fields of responses, and multipart steps.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::common::*;

pub const SSE: &str = "x-cos-server-side-encryption";
pub const C_ALG: &str = "x-cos-server-side-encryption-customer-algorithm";
pub const C_KEY: &str = "x-cos-server-side-encryption-customer-key";
pub const C_MD5: &str = "x-cos-server-side-encryption-customer-key-MD5";
pub const KMS_ID: &str = "x-cos-server-side-encryption-cos-kms-key-id";

/// Seed 004's keys (`ssec_secret`, `dest_ssec_secret`).
pub const K1: &[u8; 32] = b"00000000000000000000000000000001";
pub const K2: &[u8; 32] = b"00000000000000000000000000000002";

pub fn md5_b64(b: &[u8]) -> String {
    STANDARD.encode(hex::decode(md5_hex(b)).unwrap())
}

/// An object's encryption as a test names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Plain,
    Cos,
    Kms,
    C(&'static [u8; 32]),
}

impl Mode {
    /// Every mode the copy matrix covers.
    pub const ALL: [Mode; 5] = [Mode::Plain, Mode::Cos, Mode::Kms, Mode::C(K1), Mode::C(K2)];

    pub fn name(self) -> String {
        match self {
            Mode::Plain => "plain".into(),
            Mode::Cos => "sse-cos".into(),
            Mode::Kms => "sse-kms".into(),
            Mode::C(k) if k == K1 => "sse-c-k1".into(),
            Mode::C(_) => "sse-c-k2".into(),
        }
    }

    /// The upload headers of this mode.
    pub fn upload(self, req: Req) -> Req {
        match self {
            Mode::Plain => req,
            Mode::Cos => req.header(SSE, "AES256"),
            Mode::Kms => req.header(SSE, "cos/kms"),
            Mode::C(k) => with_key(req, k),
        }
    }

    /// The read headers of this mode (only SSE-C sends any).
    pub fn read(self, req: Req) -> Req {
        match self {
            Mode::C(k) => with_key(req, k),
            _ => req,
        }
    }
}

/// Adds the three SSE-C headers for a raw key.
pub fn with_key(req: Req, key: &[u8]) -> Req {
    req.header(C_ALG, "AES256")
        .header(C_KEY, &STANDARD.encode(key))
        .header(C_MD5, &md5_b64(key))
}

/// Adds the three copy-source SSE-C headers for a raw key.
pub fn with_source_key(req: Req, key: &[u8]) -> Req {
    req.header(
        "x-cos-copy-source-server-side-encryption-customer-algorithm",
        "AES256",
    )
    .header(
        "x-cos-copy-source-server-side-encryption-customer-key",
        &STANDARD.encode(key),
    )
    .header(
        "x-cos-copy-source-server-side-encryption-customer-key-MD5",
        &md5_b64(key),
    )
}

/// The text of the first `<tag>` in a response body.
pub fn xml(r: &Resp, tag: &str) -> Option<String> {
    let t = r.text();
    let open = format!("<{tag}>");
    let s = t.find(&open)? + open.len();
    let e = t[s..].find(&format!("</{tag}>"))? + s;
    Some(unescape(&t[s..e]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<tag>` text in a response body.
pub fn xml_all(r: &Resp, tag: &str) -> Vec<String> {
    let t = r.text();
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = t.as_str();
    while let Some(s) = rest.find(&open) {
        let after = &rest[s + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(unescape(&after[..e]));
        rest = &after[e..];
    }
    out
}

/// The `x-cos-copy-source` value the Python SDK sends for `key` in `bucket`.
pub fn source(bucket: &str, key: &str) -> String {
    format!("{}/{}", vhost(bucket), enc_path(key))
}

/// CRC-64/XZ as `x-cos-hash-crc64ecma` reports it.
pub fn crc64(b: &[u8]) -> String {
    let mut d = crc64fast::Digest::new();
    d.write(b);
    d.sum64().to_string()
}

/// Whether `needle` occurs in any file of the data directory.
pub fn on_disk(s: &Server, needle: &[u8]) -> bool {
    s.files().iter().any(|p| {
        std::fs::read(p)
            .map(|b| b.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

/// Initiates an upload with `mode`, asserting success; returns the upload id.
pub async fn initiate(s: &Server, bucket: &str, key: &str, mode: Mode) -> String {
    let r = s
        .send_tls(&mode.upload(Req::new("POST", bucket, key).bare("uploads")))
        .await;
    assert_eq!(r.status, 200, "initiate: {}", r.text());
    xml(&r, "UploadId").expect("UploadId")
}

/// Upload Part request.
pub fn part(bucket: &str, key: &str, id: &str, n: u32, body: &[u8]) -> Req {
    Req::new("PUT", bucket, key)
        .query("partNumber", &n.to_string())
        .query("uploadId", id)
        .body(body)
}

/// The Complete request for `(part, etag)` pairs.
pub fn complete(bucket: &str, key: &str, id: &str, parts: &[(u32, String)]) -> Req {
    let mut doc = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        doc.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    doc.push_str("</CompleteMultipartUpload>");
    Req::new("POST", bucket, key)
        .query("uploadId", id)
        .header("Content-Type", "application/xml")
        .body(doc.as_bytes())
}
