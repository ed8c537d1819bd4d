//! The S3 dialect's header names (AMZ-HEADERS): an S3-signed request says `x-amz-acl`,
//! `x-amz-copy-source`, `x-amz-meta-*` where a COS one says `x-cos-*`. The one place both
//! directions are translated, run once per request by `service.rs`:
//!
//! - [`normalize_request`], after the signature is verified over the headers as sent:
//!   an S3-signed request's x-amz headers move to their `x-cos-*` names, so that every
//!   operation and rule reads one spelling; the SSE headers go through
//!   [`crate::sse::dialect`] (which also applies AMZ-SSE-ON-COS to COS-signed requests);
//! - [`translate_response`]: an S3-signed request's response says `x-amz-*`;
//! - [`translate_error`]: an S3-signed request's refusal names the headers it sent.
//!
//! Headers without an `x-cos-*` twin (`x-amz-date`, `x-amz-content-sha256`,
//! `x-amz-checksum-*`, `x-amz-decoded-content-length`…) belong to the signature and the
//! body and stay as they are.

use http::{HeaderMap, HeaderName};

use crate::behaviour::Behaviours;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::sse::dialect as sse_dialect;

/// The non-SSE headers both dialects have, by their suffix after `x-cos-` / `x-amz-`.
pub const SHARED_SUFFIXES: &[&str] = &[
    "acl",
    "grant-read",
    "grant-write",
    "grant-read-acp",
    "grant-write-acp",
    "grant-full-control",
    "storage-class",
    "copy-source",
    "copy-source-range",
    "copy-source-if-match",
    "copy-source-if-none-match",
    "copy-source-if-modified-since",
    "copy-source-if-unmodified-since",
    "metadata-directive",
    "restore",
    "version-id",
];

/// User metadata, by prefix.
const META: &str = "meta-";

fn shared(name: &str) -> bool {
    SHARED_SUFFIXES.contains(&name) || (name.starts_with(META) && name.len() > META.len())
}

/// Every `x-amz-<suffix>` header of `headers` whose suffix is shared, as (amz, cos) names.
fn renames(headers: &HeaderMap, from: &str, to: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .keys()
        .filter_map(|n| {
            let suffix = n.as_str().strip_prefix(from)?;
            shared(suffix).then(|| (n.as_str().to_string(), format!("{to}{suffix}")))
        })
        .collect();
    out.dedup();
    out
}

fn move_all(headers: &mut HeaderMap, pairs: Vec<(String, String)>) -> Result<(), Error> {
    for (from, to) in pairs {
        let Ok(to) = HeaderName::try_from(to) else {
            continue;
        };
        if headers.contains_key(&to) {
            return Err(Error::new(
                crate::error::ErrorCode::InvalidArgument,
                format!("{from} and {to} name the same setting; send one of them"),
            ));
        }
        let values: Vec<_> = headers.get_all(from.as_str()).iter().cloned().collect();
        headers.remove(from.as_str());
        for v in values {
            headers.append(to.clone(), v);
        }
    }
    Ok(())
}

/// Translates a verified request's headers to the `x-cos-*` names (AMZ-HEADERS,
/// AMZ-SSE-HEADERS, AMZ-SSE-ON-COS).
pub fn normalize_request(
    headers: &mut HeaderMap,
    dialect: Dialect,
    behaviours: &Behaviours,
) -> Result<(), Error> {
    sse_dialect::normalize_request(headers, dialect, behaviours)?;
    if dialect == Dialect::S3 {
        let pairs = renames(headers, "x-amz-", "x-cos-");
        move_all(headers, pairs)?;
    }
    Ok(())
}

/// The response headers of an S3-signed request in S3's names: SSE echoes
/// (`aws:kms`), user metadata, storage class, and `x-amz-request-id` beside COS's id.
pub fn translate_response(headers: &mut HeaderMap, dialect: Dialect) {
    if dialect == Dialect::Cos {
        return;
    }
    sse_dialect::echo_response(headers);
    let pairs = renames(headers, "x-cos-", "x-amz-");
    // A response never carries both names, so the move cannot refuse.
    let _ = move_all(headers, pairs);
}

/// A refusal for a request of `dialect`: to an S3-signed request, the message names the
/// x-amz headers it sent (the rules name the `x-cos-*` twins they read).
pub fn translate_error(err: Error, dialect: Dialect) -> Error {
    if dialect == Dialect::Cos {
        return err;
    }
    let mut message = sse_dialect::s3_message(&err.message);
    for suffix in SHARED_SUFFIXES.iter().rev() {
        message = message.replace(&format!("x-cos-{suffix}"), &format!("x-amz-{suffix}"));
    }
    Error {
        message: message.replace("x-cos-meta-", "x-amz-meta-"),
        ..err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn shared_headers_translate_both_ways() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-copy-source", HeaderValue::from_static("b/k"));
        h.insert("x-amz-meta-note", HeaderValue::from_static("n"));
        h.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
        h.insert(
            "x-amz-meta-",
            HeaderValue::from_static("empty suffix stays"),
        );
        normalize_request(&mut h, Dialect::S3, &Behaviours::default()).unwrap();
        assert_eq!(h.get("x-cos-copy-source").unwrap(), "b/k");
        assert_eq!(h.get("x-cos-meta-note").unwrap(), "n");
        assert!(h.contains_key("x-amz-date") && h.contains_key("x-amz-meta-"));

        let mut cos = HeaderMap::new();
        cos.insert("x-amz-acl", HeaderValue::from_static("public-read"));
        normalize_request(&mut cos, Dialect::Cos, &Behaviours::default()).unwrap();
        assert!(
            cos.contains_key("x-amz-acl"),
            "COS requests keep their headers"
        );

        let mut r = HeaderMap::new();
        r.insert("x-cos-meta-note", HeaderValue::from_static("n"));
        r.insert("x-cos-hash-crc64ecma", HeaderValue::from_static("1"));
        translate_response(&mut r, Dialect::S3);
        assert!(r.contains_key("x-amz-meta-note") && r.contains_key("x-cos-hash-crc64ecma"));
    }

    #[test]
    fn both_spellings_are_refused() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-acl", HeaderValue::from_static("private"));
        h.insert("x-cos-acl", HeaderValue::from_static("private"));
        assert!(normalize_request(&mut h, Dialect::S3, &Behaviours::default()).is_err());
    }

    #[test]
    fn s3_errors_name_s3_headers() {
        let e = Error::new(
            crate::error::ErrorCode::InvalidArgument,
            "x-cos-copy-source-range bad; x-cos-copy-source bad; x-cos-server-side-encryption bad",
        );
        assert_eq!(
            translate_error(e, Dialect::S3).message,
            "x-amz-copy-source-range bad; x-amz-copy-source bad; x-amz-server-side-encryption bad"
        );
    }
}
