//! The S3 dialect's side of turning a step into a request: the COS-terms draft's header
//! names and values mapped (`crate::dialect`), the bucket put in the path (path-style
//! addressing), `x-amz-date` and `x-amz-content-sha256` added, and the SigV4 signature
//! (header or presigned query) made by `crate::client::sigv4`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use md5::{Digest as _, Md5};

use crate::case::Auth;
use crate::client::sigv4::{self, Input};
use crate::client::{sign, Credentials, Request, Scheme};
use crate::dialect::{self, Addressing};

use super::env::Env;

/// Where a request goes (the fields of the runner's target this module needs).
pub struct Dest<'a> {
    /// Scheme.
    pub scheme: Scheme,
    /// URL authority.
    pub authority: &'a str,
    /// Bucket.
    pub bucket: &'a str,
    /// Region (the SigV4 credential scope's).
    pub region: &'a str,
}

/// A request before its S3 form: method, decoded path after the bucket, decoded query
/// pairs (`None`: a bare name) and body.
pub struct Draft {
    /// Method.
    pub method: String,
    /// Decoded path (`/key`, `/` for the bucket).
    pub path: String,
    /// Query.
    pub query: Vec<(String, Option<String>)>,
    /// Body.
    pub body: Bytes,
}

/// How long a presigned URL of a case is valid.
const PRESIGN_EXPIRES: u64 = 3600;

/// The decoded path of a request: the bucket first under path-style addressing.
pub fn s3_path(env: &Env, bucket: &str, sign_path: &str) -> String {
    match env.profile.addressing {
        Addressing::Virtual => sign_path.to_string(),
        Addressing::Path if sign_path == "/" || sign_path.is_empty() => format!("/{bucket}"),
        Addressing::Path => format!("/{bucket}{sign_path}"),
    }
}

/// `x-amz-copy-source`: `/bucket/key`, the key URL-encoded (S3's CopyObject).
pub fn copy_source(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", sigv4::encode_path(key))
}

/// A query string: SigV4's encoding, a bare name without `=`.
pub fn encode_query(q: &[(String, Option<String>)]) -> String {
    q.iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{}={}", sigv4::encode(k), sigv4::encode(v)),
            None => sigv4::encode(k),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What [`finish`] needs besides the draft.
pub struct Signing<'a> {
    /// Now, in Unix seconds.
    pub now: i64,
    /// The step's `auth:`.
    pub auth: Auth,
    /// The credentials that sign.
    pub creds: &'a Credentials,
    /// `unsigned_query`, appended after signing.
    pub unsigned: Vec<(String, Option<String>)>,
}

/// The request of a draft whose `headers` (COS terms, Host and Content-Length included)
/// are final: names and values mapped, signed as `auth` says (an input the signer refuses
/// is the harness's error, named).
pub fn finish(
    env: &Env,
    d: Draft,
    headers: Vec<(String, String)>,
    target: &Dest<'_>,
    s: Signing<'_>,
) -> Result<Request, String> {
    let mut headers = dialect::to_s3_headers(&headers);
    // A bucket encryption document names SSE-KMS as S3 does; its length (and an MD5
    // that was the COS document's) follow the new body.
    let mut d = d;
    if dialect::is_bucket_encryption(d.query.iter().map(|(k, _)| k.as_str())) {
        if let Some(body) = dialect::to_s3_body(&d.body) {
            let md5 = |b: &[u8]| STANDARD.encode(Md5::digest(b));
            let (old_md5, new_md5) = (md5(&d.body), md5(&body));
            for (k, v) in headers.iter_mut() {
                if k.eq_ignore_ascii_case("content-length") {
                    *v = body.len().to_string();
                } else if k.eq_ignore_ascii_case("content-md5") && *v == old_md5 {
                    *v = new_md5.clone();
                }
            }
            d.body = body.into();
        }
    }
    let path = s3_path(env, target.bucket, &d.path);
    let params: Vec<(String, String)> = d
        .query
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect();
    let now = s.now;
    let mut query = d.query.clone();
    match s.auth {
        // An unsigned request says it is S3's with `x-amz-content-sha256: UNSIGNED-PAYLOAD`
        // (any S3 endpoint accepts it): an endpoint serving both dialects, as the emulator
        // does, has nothing else to tell an anonymous S3 client from a COS one by, and
        // answers it in x-amz names.
        Auth::Anonymous => {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-amz-content-sha256"))
            {
                headers.push((
                    "x-amz-content-sha256".to_owned(),
                    ::sigv4::payload::UNSIGNED_PAYLOAD.to_owned(),
                ));
            }
        }
        Auth::Signed | Auth::OtherAccount | Auth::BadSignature => {
            let ts = sigv4::timestamp(now);
            let hash = sigv4::payload_hash(&d.body);
            let added = sigv4::sign_headers(
                s.creds,
                &Input {
                    method: &d.method,
                    path: &path,
                    query: &params,
                    headers: &headers,
                    timestamp: &ts,
                    region: target.region,
                },
                &hash,
            )?;
            for (k, mut v) in added {
                if s.auth == Auth::BadSignature && k == "authorization" {
                    v = sign::corrupt(&v);
                }
                headers.push((k, v));
            }
        }
        // A presigned URL signs the host only (as the SDKs' generate_presigned_url); with
        // `presigned-headers` the host and every x-amz-* header; `expired` is a URL whose
        // X-Amz-Expires ended an hour ago, every header signed (AUTH-SIGNED in S3 terms:
        // header signatures have no expiry, only a clock-skew window).
        Auth::Presigned | Auth::PresignedHeaders | Auth::Expired => {
            let (ts, signed): (String, Vec<(String, String)>) = match s.auth {
                Auth::Presigned => (
                    sigv4::timestamp(now),
                    headers
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
                        .cloned()
                        .collect(),
                ),
                Auth::PresignedHeaders => (
                    sigv4::timestamp(now),
                    headers
                        .iter()
                        .filter(|(k, _)| {
                            k.eq_ignore_ascii_case("host")
                                || k.to_ascii_lowercase().starts_with("x-amz-")
                        })
                        .cloned()
                        .collect(),
                ),
                _ => (sigv4::timestamp(now - 7200), headers.clone()),
            };
            let pairs = sigv4::presign(
                s.creds,
                &Input {
                    method: &d.method,
                    path: &path,
                    query: &params,
                    headers: &signed,
                    timestamp: &ts,
                    region: target.region,
                },
                PRESIGN_EXPIRES,
            )?;
            query.extend(pairs.into_iter().map(|(k, v)| (k, Some(v))));
        }
    }
    query.extend(s.unsigned);
    let mut url = sigv4::encode_path(&path);
    if !query.is_empty() {
        url = format!("{url}?{}", encode_query(&query));
    }
    Ok(Request {
        method: d.method,
        scheme: target.scheme,
        authority: target.authority.to_string(),
        target: url,
        headers,
        body: d.body,
    })
}

/// A header-signed request outside any case (bucket set-up, the pre-flight): `path` is
/// after the bucket (`/` for the bucket itself).
#[allow(clippy::too_many_arguments)]
pub fn signed(
    env: &Env,
    creds: &Credentials,
    now: i64,
    target: &Dest<'_>,
    d: Draft,
    extra: Vec<(String, String)>,
) -> Result<Request, String> {
    let mut headers = vec![("host".to_string(), target.authority.to_string())];
    let (method, body) = (d.method.as_str(), &d.body);
    if method == "PUT" || !body.is_empty() {
        headers.push(("content-length".into(), body.len().to_string()));
    }
    headers.extend(extra);
    finish(
        env,
        d,
        headers,
        target,
        Signing {
            now,
            auth: Auth::Signed,
            creds,
            unsigned: Vec::new(),
        },
    )
}

/// The body of CreateBucket: a LocationConstraint outside us-east-1 (S3 refuses one there).
pub fn create_bucket_body(region: &str) -> Bytes {
    if region == "us-east-1" {
        Bytes::new()
    } else {
        Bytes::from(format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            crate::xml::escape(region)
        ))
    }
}
