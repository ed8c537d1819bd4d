//! The x-amz SSE headers on the same engine (AMZ-SSE-HEADERS): the one table that names
//! each SSE header in both dialects, and the translation of a request's x-amz SSE headers
//! onto the `x-cos-*` names every SSE rule reads (so `sse::parse` and the operations know
//! one spelling), and of a response's `x-cos-*` echoes back to `x-amz-*` for S3-signed
//! requests (`crate::amz` applies both, beside the non-SSE headers).
//!
//! Decisions:
//!
//! - `x-amz-server-side-encryption: aws:kms` is SSE-KMS (`cos/kms`); `AES256` is SSE-COS;
//!   the emulator's own `SM4` passes through. `cos/kms` under the x-amz name is refused
//!   (400 InvalidArgument): S3's values are `AES256`, `aws:kms` and `aws:kms:dsse`, and an
//!   S3 client never sends COS's spelling. The echo to an S3-signed request says `aws:kms`.
//! - `x-amz-server-side-encryption-aws-kms-key-id` is COS's `-cos-kms-key-id`; the context
//!   and the SSE-C and copy-source SSE-C headers keep their suffixes.
//! - `x-amz-server-side-encryption-bucket-key-enabled` (AMZ-BUCKET-KEY): accepted with
//!   SSE-KMS, as `true` or `false`, and then dropped — S3 Bucket Keys only spare KMS
//!   calls, the emulator derives one data key per object either way, so the stored object
//!   is the same; it is never echoed (an echo of `true` would claim a bucket key the
//!   emulator does not use). Any other value, or the header without SSE-KMS, is refused
//!   with 400 InvalidArgument, as S3 refuses it.
//! - A header sent under both names (`x-cos-…` and its `x-amz-…` twin) is refused with
//!   400 InvalidArgument: two spellings of one setting cannot both be honoured.
//! - AMZ-SSE-ON-COS (`unspecified`, switch): on a COS-signed request the x-amz SSE headers
//!   are honoured (the default), ignored (dropped) or refused (400 InvalidArgument).

use http::{HeaderMap, HeaderName, HeaderValue};

use super::names;
use crate::behaviour::{AmzSseOnCos, Behaviours};
use crate::dialect::Dialect;
use crate::error::{Error, ErrorCode};

/// The SSE header table: (`x-cos-*` name, `x-amz-*` name), lower-case.
pub const SSE_NAMES: &[(&str, &str)] = &[
    (names::SSE, "x-amz-server-side-encryption"),
    (
        names::KMS_KEY_ID,
        "x-amz-server-side-encryption-aws-kms-key-id",
    ),
    (names::KMS_CONTEXT, "x-amz-server-side-encryption-context"),
    (
        names::CUSTOMER_ALGORITHM,
        "x-amz-server-side-encryption-customer-algorithm",
    ),
    (
        names::CUSTOMER_KEY,
        "x-amz-server-side-encryption-customer-key",
    ),
    (
        names::CUSTOMER_KEY_MD5,
        "x-amz-server-side-encryption-customer-key-md5",
    ),
    (
        names::COPY_SOURCE_CUSTOMER_ALGORITHM,
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
    ),
    (
        names::COPY_SOURCE_CUSTOMER_KEY,
        "x-amz-copy-source-server-side-encryption-customer-key",
    ),
    (
        names::COPY_SOURCE_CUSTOMER_KEY_MD5,
        "x-amz-copy-source-server-side-encryption-customer-key-md5",
    ),
];

/// AMZ-BUCKET-KEY: S3's bucket-key switch, accepted with SSE-KMS and dropped.
pub const BUCKET_KEY_ENABLED: &str = "x-amz-server-side-encryption-bucket-key-enabled";

/// S3's name for SSE-KMS in `x-amz-server-side-encryption`.
pub const AWS_KMS: &str = "aws:kms";

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

/// Moves every value of header `from` to `to` (repeats kept, so that SSE parsing still
/// refuses a repeated header), mapping each value through `map`. Refuses a request that
/// sent both names.
pub(crate) fn rename(
    headers: &mut HeaderMap,
    from: &str,
    to: &'static str,
    map: impl Fn(&HeaderValue) -> Result<HeaderValue, Error>,
) -> Result<(), Error> {
    if !headers.contains_key(from) {
        return Ok(());
    }
    if headers.contains_key(to) {
        return Err(invalid(format!(
            "{from} and {to} name the same setting; send one of them"
        )));
    }
    let values: Vec<HeaderValue> = headers.get_all(from).iter().cloned().collect();
    headers.remove(from);
    let to = HeaderName::from_static(to);
    for v in &values {
        headers.append(to.clone(), map(v)?);
    }
    Ok(())
}

/// The request value of `x-amz-server-side-encryption` as the COS rules read it.
fn mode_value(v: &HeaderValue) -> Result<HeaderValue, Error> {
    if v.as_bytes() == AWS_KMS.as_bytes() {
        Ok(HeaderValue::from_static(super::cos::KMS_VALUE))
    } else if v.as_bytes() == super::cos::KMS_VALUE.as_bytes() {
        Err(invalid(format!(
            "x-amz-server-side-encryption {} is COS's spelling; S3 names SSE-KMS {AWS_KMS}",
            super::cos::KMS_VALUE
        )))
    } else {
        Ok(v.clone())
    }
}

/// Translates a request's x-amz SSE headers onto the `x-cos-*` names (AMZ-SSE-HEADERS),
/// after its signature has been verified over the headers as sent. On a COS-signed request
/// AMZ-SSE-ON-COS decides whether they are honoured, dropped or refused.
pub fn normalize_request(
    headers: &mut HeaderMap,
    dialect: Dialect,
    behaviours: &Behaviours,
) -> Result<(), Error> {
    let present = SSE_NAMES
        .iter()
        .map(|(_, amz)| *amz)
        .chain([BUCKET_KEY_ENABLED])
        .find(|amz| headers.contains_key(*amz));
    let Some(first) = present else {
        return Ok(());
    };
    if dialect == Dialect::Cos {
        match behaviours.amz_sse_on_cos {
            AmzSseOnCos::Honoured => {}
            AmzSseOnCos::Ignored => {
                for (_, amz) in SSE_NAMES {
                    headers.remove(*amz);
                }
                headers.remove(BUCKET_KEY_ENABLED);
                return Ok(());
            }
            AmzSseOnCos::Refused => {
                return Err(invalid(format!(
                    "{first} is an S3 header; a COS-signed request sets SSE with the \
                     x-cos-server-side-encryption headers (AMZ-SSE-ON-COS)"
                )))
            }
        }
    }
    check_bucket_key(headers)?;
    for (cos, amz) in SSE_NAMES {
        if *cos == names::SSE {
            rename(headers, amz, cos, mode_value)?;
        } else {
            rename(headers, amz, cos, |v| Ok(v.clone()))?;
        }
    }
    Ok(())
}

/// AMZ-BUCKET-KEY: `true` or `false`, with `x-amz-server-side-encryption: aws:kms`; then
/// dropped.
fn check_bucket_key(headers: &mut HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(BUCKET_KEY_ENABLED) else {
        return Ok(());
    };
    let value = value.as_bytes().to_ascii_lowercase();
    if value != b"true" && value != b"false" {
        return Err(invalid(format!(
            "{BUCKET_KEY_ENABLED} must be true or false"
        )));
    }
    let kms = headers
        .get("x-amz-server-side-encryption")
        .is_some_and(|v| v.as_bytes() == AWS_KMS.as_bytes());
    if !kms {
        return Err(invalid(format!(
            "{BUCKET_KEY_ENABLED} applies only with x-amz-server-side-encryption: {AWS_KMS}"
        )));
    }
    headers.remove(BUCKET_KEY_ENABLED);
    Ok(())
}

/// Renames a response's SSE echoes to their x-amz names for an S3-signed request, with
/// `cos/kms` said as `aws:kms` (AMZ-SSE-HEADERS: the echo is in the request's dialect).
pub fn echo_response(headers: &mut HeaderMap) {
    for (cos, amz) in SSE_NAMES {
        let values: Vec<HeaderValue> = headers.get_all(*cos).iter().cloned().collect();
        if values.is_empty() {
            continue;
        }
        headers.remove(*cos);
        let name = HeaderName::from_static(amz);
        for v in values {
            let v = if *cos == names::SSE && v.as_bytes() == super::cos::KMS_VALUE.as_bytes() {
                HeaderValue::from_static(AWS_KMS)
            } else {
                v
            };
            headers.append(name.clone(), v);
        }
    }
}

/// A refusal's message with every SSE header and value in S3's spelling, for an S3-signed
/// request (the SSE rules name the `x-cos-*` header at fault).
pub fn s3_message(message: &str) -> String {
    let mut rows: Vec<&(&str, &str)> = SSE_NAMES.iter().collect();
    // Longest first: a replaced name starts with x-amz-, so a shorter x-cos- name that is
    // its prefix can no longer match inside it.
    rows.sort_by_key(|(cos, _)| std::cmp::Reverse(cos.len()));
    let mut out = message.to_string();
    for (cos, amz) in rows {
        out = out.replace(cos, amz);
    }
    out.replace(super::cos::KMS_VALUE, AWS_KMS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::try_from(*n).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn s3_names_map_onto_cos_names() {
        let mut h = headers(&[
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "k1"),
            ("x-amz-server-side-encryption-context", "e30="),
            ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
        ]);
        normalize_request(&mut h, Dialect::S3, &Behaviours::default()).unwrap();
        assert_eq!(h.get(names::SSE).unwrap(), "cos/kms");
        assert_eq!(h.get(names::KMS_KEY_ID).unwrap(), "k1");
        assert_eq!(h.get(names::KMS_CONTEXT).unwrap(), "e30=");
        assert!(h.keys().all(|n| !n.as_str().starts_with("x-amz-")), "{h:?}");
    }

    #[test]
    fn repeats_survive_and_both_spellings_are_refused() {
        let mut h = headers(&[
            ("x-amz-server-side-encryption-customer-key", "a"),
            ("x-amz-server-side-encryption-customer-key", "b"),
        ]);
        normalize_request(&mut h, Dialect::S3, &Behaviours::default()).unwrap();
        assert_eq!(h.get_all(names::CUSTOMER_KEY).iter().count(), 2);
        let mut h = headers(&[
            ("x-amz-server-side-encryption", "AES256"),
            (names::SSE, "AES256"),
        ]);
        let e = normalize_request(&mut h, Dialect::S3, &Behaviours::default()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn cos_spelling_and_bad_bucket_keys_are_refused() {
        for pairs in [
            &[("x-amz-server-side-encryption", "cos/kms")][..],
            &[
                ("x-amz-server-side-encryption", "AES256"),
                ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
            ][..],
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-bucket-key-enabled", "yes"),
            ][..],
        ] {
            let mut h = headers(pairs);
            let e = normalize_request(&mut h, Dialect::S3, &Behaviours::default()).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{pairs:?}");
        }
    }

    #[test]
    fn amz_sse_on_cos_has_three_behaviours() {
        let pairs = [("x-amz-server-side-encryption", "AES256")];
        let mut b = Behaviours::default();
        let mut h = headers(&pairs);
        normalize_request(&mut h, Dialect::Cos, &b).unwrap();
        assert_eq!(h.get(names::SSE).unwrap(), "AES256", "honoured by default");
        b.amz_sse_on_cos = AmzSseOnCos::Ignored;
        let mut h = headers(&pairs);
        normalize_request(&mut h, Dialect::Cos, &b).unwrap();
        assert!(h.is_empty(), "ignored: dropped");
        b.amz_sse_on_cos = AmzSseOnCos::Refused;
        let mut h = headers(&pairs);
        let e = normalize_request(&mut h, Dialect::Cos, &b).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("AMZ-SSE-ON-COS"));
        // An S3-signed request's x-amz headers are its own: always honoured.
        let mut h = headers(&pairs);
        normalize_request(&mut h, Dialect::S3, &b).unwrap();
        assert_eq!(h.get(names::SSE).unwrap(), "AES256");
    }

    #[test]
    fn echoes_and_messages_speak_s3() {
        let mut h = headers(&[
            (names::SSE, "cos/kms"),
            (names::KMS_KEY_ID, "k1"),
            ("etag", "\"x\""),
        ]);
        echo_response(&mut h);
        assert_eq!(h.get("x-amz-server-side-encryption").unwrap(), "aws:kms");
        assert_eq!(
            h.get("x-amz-server-side-encryption-aws-kms-key-id")
                .unwrap(),
            "k1"
        );
        assert!(h.get(names::SSE).is_none() && h.get("etag").is_some());
        assert_eq!(
            s3_message("x-cos-server-side-encryption-customer-key-md5 does not match; x-cos-server-side-encryption must be cos/kms"),
            "x-amz-server-side-encryption-customer-key-md5 does not match; x-amz-server-side-encryption must be aws:kms"
        );
    }
}
