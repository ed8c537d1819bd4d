//! AWS Signature V4 beside COS v5 signatures (SIGV4-AUTH): the emulator's one contact with
//! the `sigv4` crate for verification. The same SecretId/SecretKey pairs are the access key
//! and secret.
//!
//! A request signed in the `Authorization` header (`AWS4-HMAC-SHA256 Credential=…,
//! SignedHeaders=…, Signature=…`) or with a presigned query (`X-Amz-Algorithm`, …) is
//! verified in this order, each failure its own refusal:
//!
//! 1. the header or query parses (else 400 `AuthorizationHeaderMalformed` /
//!    `AuthorizationQueryParametersError`; a presign valid for more than seven days is the
//!    latter), the scope names service `s3` and the day of the request's time stamp;
//! 2. SIGV4-SCOPE-REGION (`unspecified`, switch): by default the scope's region must be the
//!    bucket's (400 `AuthorizationHeaderMalformed`, "the region … is wrong; expecting …",
//!    as S3 answers); `ignored` accepts any region;
//! 3. the access key is an account's SecretId (403 `InvalidAccessKeyId`);
//! 4. the time: `x-amz-date` (or `Date`) within [`MAX_CLOCK_SKEW_SECS`] of the server's
//!    clock, as COS allows its `q-sign-time` (403 `RequestTimeTooSkewed`); a presign past
//!    `X-Amz-Date` + `X-Amz-Expires` is 403 `AccessDenied` "Request has expired";
//! 5. the signature (403 `SignatureDoesNotMatch`; a signed header absent from the request
//!    is the same refusal). A SigV4 signature covers the whole query (the canonical query
//!    lists every parameter), so an appended sub-resource breaks it: UNSIGNED-SUBRESOURCE
//!    holds by construction. A presign's unsigned grant headers are refused by the same
//!    check as COS presigns (PRESIGN-UNSIGNED-HEADERS, [`super::check_unsigned_grants`]);
//!    both forms must sign every `x-amz-*` header the request carries, the header form
//!    `host` too (403 AccessDenied otherwise, as S3 answers).
//!
//! The payload (SIGV4-PAYLOAD): `x-amz-content-sha256` is required in the header form; a
//! hex hash is checked against the body, `UNSIGNED-PAYLOAD` is not, and the
//! `STREAMING-*` values make the body aws-chunked (`Content-Length` is then
//! `x-amz-decoded-content-length`), each chunk signature and the trailing
//! `x-amz-checksum-*` verified. What the body must prove is returned as a
//! [`PayloadCheck`] that `service.rs` wraps around the body stream.

use sigv4::{
    payload, Authorization, ChecksumAlgorithm, ChunkSigning, ChunkedDecoder, Credential,
    PathOptions, Presigned,
};

use super::signature::MAX_CLOCK_SKEW_SECS;
use super::{Authn, Principal};
use crate::behaviour::Behaviours;
use crate::body::PayloadCheck;
use crate::config::Account;
use crate::dialect::Dialect;
use crate::error::{Error, ErrorCode};
use crate::request::Request;

/// Whether the request carries a SigV4 signature (header or presigned query).
pub fn is_signed(req: &Request) -> bool {
    let header = req
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(Authorization::is_sigv4);
    header || req.query.has("X-Amz-Algorithm")
}

/// The signature as found: header or presigned, with what the verification needs.
struct Found {
    credential: Credential,
    timestamp: String,
    signed_headers: Vec<String>,
    signature: String,
    presigned: Option<u64>,
}

fn malformed(presigned: bool, detail: impl std::fmt::Display) -> Error {
    if presigned {
        Error::new(
            ErrorCode::AuthorizationQueryMalformed,
            format!("Error parsing the X-Amz-Credential parameter: {detail}"),
        )
    } else {
        Error::new(ErrorCode::AuthorizationMalformed, detail.to_string())
    }
}

/// The decoded query as (name, value) pairs (a bare name has the empty value).
fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.query
        .params
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect()
}

/// Every header as sent, for the canonical request (values as text; a value that is not
/// text is signed as its lossy text, which cannot match a real signature over it).
fn header_pairs(req: &Request) -> Vec<(String, String)> {
    req.headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The request time stamp of the header form: `x-amz-date`, or `Date` (RFC 1123) when it
/// is absent, as `YYYYMMDD'T'HHMMSS'Z'`.
fn header_timestamp(req: &Request) -> Result<String, Error> {
    if let Some(v) = req.header("x-amz-date")? {
        sigv4::time::parse_timestamp(v).map_err(|e| malformed(false, e))?;
        return Ok(v.to_string());
    }
    let date = req.header("date")?.ok_or_else(|| {
        Error::new(
            ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    })?;
    let t = httpdate::parse_http_date(date).map_err(|_| {
        Error::new(
            ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        )
    })?;
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| malformed(false, "the Date header is before 1970"))?
        .as_secs();
    Ok(sigv4::time::format_timestamp(secs))
}

fn find(req: &Request) -> Result<Found, Error> {
    if let Some(value) = req.header("authorization")? {
        let auth = Authorization::parse(value).map_err(|e| malformed(false, e))?;
        return Ok(Found {
            credential: auth.credential,
            timestamp: header_timestamp(req)?,
            signed_headers: auth.signed_headers,
            signature: auth.signature,
            presigned: None,
        });
    }
    let presigned = Presigned::parse(&query_pairs(req))
        .map_err(|e| malformed(true, e))?
        .ok_or_else(|| malformed(true, "X-Amz-Algorithm is missing"))?;
    Ok(Found {
        credential: presigned.credential,
        timestamp: presigned.timestamp,
        signed_headers: presigned.signed_headers,
        signature: presigned.signature,
        presigned: Some(presigned.expires),
    })
}

/// Step 4: the time stamp against the server's clock.
fn check_time(found: &Found, now: i64) -> Result<(), Error> {
    let t = sigv4::time::parse_timestamp(&found.timestamp)
        .map_err(|e| malformed(found.presigned.is_some(), e))? as i64;
    if let Some(expires) = found.presigned {
        let end = t.saturating_add(expires as i64);
        if now > end {
            return Err(Error::new(
                ErrorCode::RequestExpired,
                format!("Request has expired: X-Amz-Date + X-Amz-Expires is {end}, now is {now}"),
            ));
        }
        if t - now > MAX_CLOCK_SKEW_SECS {
            return Err(skewed(t, now));
        }
        return Ok(());
    }
    if (t - now).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(skewed(t, now));
    }
    Ok(())
}

fn skewed(t: i64, now: i64) -> Error {
    Error::new(
        ErrorCode::RequestTimeTooSkewed,
        format!(
            "The difference between the request time and the server's time is too large: \
             the request was signed at {t}, now is {now} (tolerated: {MAX_CLOCK_SKEW_SECS} s)"
        ),
    )
}

/// The checks of a credential scope, the same wherever a SigV4 signature travels (header,
/// presigned query, POST form): service `s3`, the day of the time stamp, and under
/// SIGV4-SCOPE-REGION `checked` the bucket's region. `malformed` words the first two
/// refusals as the signature's carrier answers them.
pub fn check_scope(
    scope: &sigv4::Scope,
    timestamp: &str,
    region: Option<&str>,
    behaviours: &Behaviours,
    malformed: impl Fn(String) -> Error,
) -> Result<(), Error> {
    if scope.service != "s3" {
        return Err(malformed(format!(
            "the credential scope names service {:?}, not s3",
            scope.service
        )));
    }
    if !timestamp.starts_with(&scope.date) {
        return Err(malformed(
            "the credential scope's date is not the day of the request's time stamp".into(),
        ));
    }
    if let (Some(expected), false) = (region, behaviours.sigv4_scope_region_ignored) {
        if scope.region != expected {
            return Err(Error::new(
                ErrorCode::ScopeRegionMismatch,
                format!(
                    "The authorization header is malformed; the region '{}' is wrong; \
                     expecting '{expected}'",
                    scope.region
                ),
            ));
        }
    }
    Ok(())
}

/// Verifies a SigV4-signed request against `accounts` at `now` (Unix seconds). `region`:
/// the region the credential scope must name (the bucket's), `None` when the request
/// addresses no bucket. Returns who signed and what the body must prove.
pub fn authenticate(
    req: &Request,
    region: Option<&str>,
    accounts: &[Account],
    behaviours: &Behaviours,
    now: i64,
) -> Result<(Authn, PayloadCheck), Error> {
    let found = find(req)?;
    let presigned = found.presigned.is_some();
    check_scope(
        &found.credential.scope,
        &found.timestamp,
        region,
        behaviours,
        |detail| malformed(presigned, detail),
    )?;
    let account = super::account(accounts, &found.credential.access_key, Dialect::S3)?;
    check_time(&found, now)?;
    let payload_hash = if presigned {
        payload::UNSIGNED_PAYLOAD.to_string()
    } else {
        req.header("x-amz-content-sha256")?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidRequest,
                    "Missing required header for this request: x-amz-content-sha256",
                )
            })?
            .to_string()
    };
    let query = query_pairs(req);
    let headers = header_pairs(req);
    let request = sigv4::Request {
        method: req.method.as_str(),
        path: &req.raw_path,
        query: &query,
        headers: &headers,
    };
    let (expected, key) = sigv4::auth::expected_signature(
        &request,
        &found.credential,
        &found.timestamp,
        &found.signed_headers,
        &payload_hash,
        &account.secret_key,
        PathOptions::S3,
    )
    .map_err(|e| match e {
        sigv4::Error::MissingSignedHeader(name) => Error::new(
            ErrorCode::SignedHeaderMissing,
            format!("header {name} is in SignedHeaders but not in the request"),
        ),
        other => malformed(presigned, other),
    })?;
    if !sigv4::signatures_equal(&expected, &found.signature) {
        // Names what was signed, never a value (signed headers carry SSE-C keys).
        return Err(Error::new(
            ErrorCode::SignatureDoesNotMatch,
            format!(
                "The request signature we calculated does not match the signature you \
                 provided. Check your key and signing method. Signed headers: [{}].",
                found.signed_headers.join(";")
            ),
        ));
    }
    if presigned {
        // S3 asks the same of a presign as of the header form (AWS, "Authenticating
        // Requests: Using Query Parameters": X-Amz-SignedHeaders must list "any x-amz-*
        // headers that you plan to add to the request"), so in this dialect no holder of
        // a URL can add an x-amz-* header, whatever PRESIGN-UNSIGNED-HEADERS chooses for
        // COS's x-cos-* ones.
        if !behaviours.presign_unsigned_headers_accepted {
            super::check_unsigned_grants(req, &found.signed_headers, "X-Amz-SignedHeaders")?;
        }
        check_amz_headers_signed(req, &found.signed_headers)?;
    } else {
        check_header_form_signs(req, &found.signed_headers)?;
    }
    let signing = ChunkSigning {
        key,
        scope: found.credential.scope.clone(),
        timestamp: found.timestamp.clone(),
        seed_signature: found.signature.clone(),
    };
    let check = payload_check(req, &payload_hash, Some(signing))?;
    Ok((
        Authn {
            principal: Principal::Account(account.clone()),
            presigned,
        },
        check,
    ))
}

/// The header form must sign `host` and every `x-amz-*` header it sends (S3's rule for
/// Signature V4 in the `Authorization` header; the AWS SDKs sign them all): otherwise an
/// `Authorization` value seen once could be replayed, within the clock skew, with an added
/// `x-amz-copy-source`, `x-amz-acl` or SSE header its signer never meant. 403 AccessDenied,
/// naming the header (never its value).
fn check_header_form_signs(req: &Request, signed: &[String]) -> Result<(), Error> {
    if !signed.iter().any(|s| s == "host") {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            "the Host header must be signed (it is not in SignedHeaders)",
        ));
    }
    check_amz_headers_signed(req, signed)
}

/// Every `x-amz-*` header the request carries is in `signed` (403 AccessDenied naming the
/// first that is not, never its value).
fn check_amz_headers_signed(req: &Request, signed: &[String]) -> Result<(), Error> {
    let unsigned = req
        .headers
        .keys()
        .map(|n| n.as_str())
        .find(|n| n.starts_with("x-amz-") && !signed.iter().any(|s| s == n));
    match unsigned {
        None => Ok(()),
        Some(name) => Err(Error::new(
            ErrorCode::AccessDenied,
            format!("There were headers present in the request which were not signed: {name}"),
        )),
    }
}

/// What the body of an S3 request must prove, from its `x-amz-content-sha256`
/// (SIGV4-PAYLOAD); `signing` continues the chunk-signature chain of a signed request
/// (`None` for an anonymous one, which cannot send signed chunks).
pub fn payload_check(
    req: &Request,
    payload_hash: &str,
    signing: Option<ChunkSigning>,
) -> Result<PayloadCheck, Error> {
    if sigv4::auth::is_body_hash(payload_hash) {
        return Ok(PayloadCheck::Sha256(payload_hash.to_ascii_lowercase()));
    }
    let (signed, trailer) = match payload_hash {
        payload::UNSIGNED_PAYLOAD => return Ok(PayloadCheck::None),
        payload::STREAMING_SIGNED => (true, false),
        payload::STREAMING_SIGNED_TRAILER => (true, true),
        payload::STREAMING_UNSIGNED_TRAILER => (false, true),
        other => {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "x-amz-content-sha256 must be the SHA-256 of the body or one of \
                     UNSIGNED-PAYLOAD, {}, {}, {} ({} bytes given)",
                    payload::STREAMING_SIGNED,
                    payload::STREAMING_SIGNED_TRAILER,
                    payload::STREAMING_UNSIGNED_TRAILER,
                    other.len()
                ),
            ))
        }
    };
    let trailer = if trailer {
        let name = req.header("x-amz-trailer")?.ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidRequest,
                "a trailing-checksum body needs x-amz-trailer naming its checksum",
            )
        })?;
        Some(ChecksumAlgorithm::from_header_name(name.trim()).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "x-amz-trailer must name x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1 or -sha256",
            )
        })?)
    } else {
        None
    };
    let decoder = match (signed, signing) {
        (true, Some(signing)) => ChunkedDecoder::signed(signing, trailer),
        (true, None) => {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "signed aws-chunked bodies need a signed request",
            ))
        }
        (false, _) => ChunkedDecoder::unsigned(trailer),
    };
    let decoded_length = req
        .header("x-amz-decoded-content-length")?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::MissingContentLength,
                "an aws-chunked body needs x-amz-decoded-content-length",
            )
        })?
        .trim()
        .parse::<u64>()
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                "x-amz-decoded-content-length is not a number",
            )
        })?;
    Ok(PayloadCheck::Chunked {
        decoder: Box::new(decoder),
        decoded_length,
    })
}

/// An `x-amz-checksum-<alg>` request header (not a trailer), to verify on the payload.
pub fn header_checksum(req: &Request) -> Result<Option<(ChecksumAlgorithm, String)>, Error> {
    for alg in ChecksumAlgorithm::ALL {
        if let Some(v) = req.header(alg.header_name())? {
            return Ok(Some((alg, v.trim().to_string())));
        }
    }
    Ok(None)
}

/// The headers of an aws-chunked request as operations must read them: `Content-Length`
/// is the payload's (`x-amz-decoded-content-length`), and `aws-chunked` leaves
/// `Content-Encoding` (it describes the transfer, not the object).
pub fn unframe_headers(headers: &mut http::HeaderMap) {
    if let Some(decoded) = headers.get("x-amz-decoded-content-length").cloned() {
        headers.insert(http::header::CONTENT_LENGTH, decoded);
    }
    let Some(encoding) = headers.get(http::header::CONTENT_ENCODING) else {
        return;
    };
    let rest: Vec<String> = String::from_utf8_lossy(encoding.as_bytes())
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .map(str::to_string)
        .collect();
    match http::HeaderValue::from_str(&rest.join(",")) {
        Ok(v) if !rest.is_empty() => {
            headers.insert(http::header::CONTENT_ENCODING, v);
        }
        _ => {
            headers.remove(http::header::CONTENT_ENCODING);
        }
    }
}
