//! Who is asking: COS v5 signature verification ([`signature`]) turns a request into a
//! [`Principal`]; [`acl`] decides what that principal may do.
//!
//! A request with neither an `Authorization` header nor presigned query fields is
//! anonymous and gets only what ACLs grant. A request that carries a signature gets
//! verified, and every failure is its own refusal (AUTH-SIGNED): malformed fields
//! (403 `InvalidSecurity`, ERROR-CODES.md row 13f), unknown SecretId (`InvalidAccessKeyId`),
//! outside the `q-sign-time` or `q-key-time` window (`AccessDenied`, "Request has expired")
//! or starting more than 15 minutes ahead (`RequestTimeTooSkewed`, row 13d), a listed header or parameter
//! missing, or a signature that does not match (`SignatureDoesNotMatch`).
//!
//! A presigned URL grants what was signed (PRESIGN-UNSIGNED-HEADERS): by default a header
//! that widens the request (copy another object, set an ACL or a storage class) must be in
//! `q-header-list`, or the holder of an upload URL could turn it into a public copy of any
//! object the signer can read.
//!
//! A signature grants only the query it covers (AUTH-SIGNED): every query parameter of a
//! signed request must be named in `q-url-param-list` (a presigned URL's own `q-*` fields
//! and `x-cos-security-token` excepted), or the holder of a URL (or of an `Authorization`
//! value a server computed for a browser) could add a sub-resource the signer never meant —
//! `?acl` turns an upload URL into a public-read ACL write. Such a request is refused with
//! 403 `AccessDenied`, like an unsigned grant header: the signature is valid for what it
//! covers, the request asks for more.
//!
//! A path-style request (`/<bucket>/<key>`, Host an IP or a name without the bucket) is
//! verified against the path as sent only: a signature over `/<key>` names no bucket, so
//! it would be valid for the same key in every bucket of the account. Virtual-host requests
//! sign `/<key>` and carry the bucket in the Host they sign, as COS's SDKs do.

pub mod acl;
pub mod signature;
pub mod sigv4;

use crate::behaviour::Behaviours;
use crate::config::Account;
use crate::dialect::Dialect;
use crate::error::{Error, ErrorCode};
use crate::request::{strip_port, Request};
use signature::{check_key_time, check_window, same_signature, SignatureFields, Signed};

/// The caller, as authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No signature.
    Anonymous,
    /// A verified signature of this account.
    Account(Account),
}

impl Principal {
    /// The caller's appid, if signed.
    pub fn appid(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => None,
            Principal::Account(a) => Some(&a.appid),
        }
    }
}

/// How the request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authn {
    /// Who.
    pub principal: Principal,
    /// Signed through presigned query parameters (PRESIGN-NO-SSE-COS needs to know).
    pub presigned: bool,
}

/// Query fields that mark a presigned request.
const PRESIGN_MARKERS: [&str; 3] = ["q-sign-algorithm", "q-ak", "q-signature"];

/// Whether a presigned URL carries this query parameter besides what it signs: its own
/// signature fields, and the temporary credential's token, which the SDKs append unsigned.
fn is_presign_field(name: &str) -> bool {
    signature::SIGNATURE_FIELDS.contains(&name) || name == "x-cos-security-token"
}

/// The path a signature must cover: `/` + key for a virtual-host request (the signed Host
/// names the bucket), the full decoded request path `/<bucket>/<key>` for a path-style one,
/// so that a signature for one bucket never authorizes another.
#[derive(Debug, Clone)]
pub struct SignedPaths {
    /// The one path the signature is verified against.
    pub path: String,
    /// The region a SigV4 credential scope must name (SIGV4-SCOPE-REGION): the bucket's;
    /// `None` when the request addresses no bucket. COS v5 signatures name no region.
    pub scope_region: Option<String>,
}

impl SignedPaths {
    /// The signed path of a routed request.
    pub fn of(target: &crate::router::Target) -> Self {
        SignedPaths {
            path: if target.path_style {
                target.decoded_path.clone()
            } else {
                target.key_path()
            },
            scope_region: target.bucket.as_ref().and_then(|_| target.region.clone()),
        }
    }
}

/// Verifies the request's signature of either kind (SIGV4-AUTH beside AUTH-SIGNED) and
/// says what its body must prove: a SigV4-signed request goes to [`sigv4`], any other to
/// [`authenticate`]; an anonymous S3 request's `x-amz-content-sha256` is checked too.
pub fn authenticate_any(
    req: &Request,
    paths: &SignedPaths,
    accounts: &[Account],
    behaviours: &Behaviours,
    now: i64,
) -> Result<(Authn, crate::body::PayloadCheck), Error> {
    if sigv4::is_signed(req) {
        return sigv4::authenticate(
            req,
            paths.scope_region.as_deref(),
            accounts,
            behaviours,
            now,
        );
    }
    let authn = authenticate(req, paths, accounts, behaviours, now)?;
    let check = match (req.dialect, req.header("x-amz-content-sha256")?) {
        (crate::dialect::Dialect::S3, Some(hash)) => sigv4::payload_check(req, hash, None)?,
        _ => crate::body::PayloadCheck::None,
    };
    Ok((authn, check))
}

/// Verifies the request's COS v5 signature, if any, against `accounts` at time `now` (Unix
/// seconds); `behaviours` decides PRESIGN-UNSIGNED-HEADERS and UNSIGNED-SUBRESOURCE.
pub fn authenticate(
    req: &Request,
    paths: &SignedPaths,
    accounts: &[Account],
    behaviours: &Behaviours,
    now: i64,
) -> Result<Authn, Error> {
    let (fields, presigned) = match req.header("authorization")? {
        Some(h) => (SignatureFields::from_header(h)?, false),
        None if PRESIGN_MARKERS.iter().any(|m| req.query.has(m)) => {
            let pairs = req
                .query
                .params
                .iter()
                .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or("")));
            (SignatureFields::from_pairs(pairs)?, true)
        }
        None => {
            return Ok(Authn {
                principal: Principal::Anonymous,
                presigned: false,
            })
        }
    };
    let account = account(accounts, &fields.secret_id, Dialect::Cos)?;
    check_window(&fields, now)?;
    check_key_time(&fields, now)?;
    verify(req, paths, &fields, &account.secret_key)?;
    if !behaviours.unsigned_subresources_accepted {
        check_unsigned_params(req, &fields, presigned)?;
    }
    if presigned && !behaviours.presign_unsigned_headers_accepted {
        check_unsigned_grants(req, &fields.header_list, "q-header-list")?;
    }
    Ok(Authn {
        principal: Principal::Account(account.clone()),
        presigned,
    })
}

/// Whether a request header widens what the request does beyond writing or reading the
/// signed object (PRESIGN-UNSIGNED-HEADERS): a copy source, an ACL or grant, a storage
/// class — under its COS name or its S3 twin (`x-amz-copy-source`, `x-amz-acl`…).
pub fn is_grant_header(name: &str) -> bool {
    let Some(suffix) = name
        .strip_prefix("x-cos-")
        .or_else(|| name.strip_prefix("x-amz-"))
    else {
        return false;
    };
    suffix == "copy-source"
        || suffix == "storage-class"
        || suffix.starts_with("acl")
        || suffix.starts_with("grant-")
}

/// PRESIGN-UNSIGNED-HEADERS `refused` (default): a presigned request carrying a grant header
/// its signed-header list (`list`: `q-header-list`, or a SigV4 presign's
/// `X-Amz-SignedHeaders`) does not name is refused with 403 AccessDenied — the URL's signer
/// never granted it, which is an authorization failure (not a malformed or mismatched
/// signature: the signature itself is valid for what it covers).
fn check_unsigned_grants(req: &Request, signed: &[String], list: &str) -> Result<(), Error> {
    let unsigned = req
        .headers
        .keys()
        .map(|n| n.as_str())
        .find(|n| is_grant_header(n) && !signed.iter().any(|s| s == n));
    match unsigned {
        None => Ok(()),
        Some(name) => Err(Error::new(
            ErrorCode::AccessDenied,
            format!(
                "header {name} is not in {list}: a presigned URL grants only what it \
                 signed (PRESIGN-UNSIGNED-HEADERS)"
            ),
        )),
    }
}

/// UNSIGNED-SUBRESOURCE (`refused`, the default): a sub-resource (a query parameter that
/// selects the operation, such as `?acl`: [`crate::router::IMPLEMENTED`] and
/// [`crate::router::UNIMPLEMENTED`]) that the signature does not list is refused with 403
/// AccessDenied, before the operation is chosen from it, so a presigned upload URL cannot
/// be turned into an ACL change. Other parameters may go unlisted: the official Python
/// SDK's `list_buckets` sends `marker` outside `q-url-param-list`. A presigned URL's own
/// fields ([`is_presign_field`]) are not part of what it signs. The message names the
/// parameter, never its value.
fn check_unsigned_params(
    req: &Request,
    fields: &SignatureFields,
    presigned: bool,
) -> Result<(), Error> {
    let unsigned = req.query.params.iter().find(|p| {
        let sub_resource = crate::router::IMPLEMENTED.contains(&p.name.as_str())
            || crate::router::UNIMPLEMENTED.contains(&p.name.as_str());
        let listed = signature::cos_encode(&p.name).to_ascii_lowercase();
        let own_field = presigned && is_presign_field(&p.name);
        sub_resource && !own_field && !fields.param_list.contains(&listed)
    });
    match unsigned {
        None => Ok(()),
        Some(p) => Err(Error::new(
            ErrorCode::UnsignedParam,
            format!(
                "sub-resource {} is not in q-url-param-list: a signature grants only the \
                 sub-resources it covers",
                signature::cos_encode(&p.name)
            ),
        )),
    }
}

fn signed_headers(req: &Request, fields: &SignatureFields) -> Result<Vec<(String, String)>, Error> {
    fields
        .header_list
        .iter()
        .map(|name| {
            let value = req.headers.get(name.as_str()).ok_or_else(|| {
                Error::new(
                    ErrorCode::SignedHeaderMissing,
                    format!("header {name} is in q-header-list but not in the request"),
                )
            })?;
            Ok((
                name.clone(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ))
        })
        .collect()
}

fn signed_params(req: &Request, fields: &SignatureFields) -> Result<Vec<(String, String)>, Error> {
    fields
        .param_list
        .iter()
        .map(|name| {
            let p = req
                .query
                .params
                .iter()
                .find(|p| signature::cos_encode(&p.name).eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::SignedParamMissing,
                        format!("parameter {name} is in q-url-param-list but not in the request"),
                    )
                })?;
            Ok((p.name.clone(), p.value.clone().unwrap_or_default()))
        })
        .collect()
}

fn verify(
    req: &Request,
    paths: &SignedPaths,
    fields: &SignatureFields,
    secret_key: &str,
) -> Result<(), Error> {
    let headers = signed_headers(req, fields)?;
    let params = signed_params(req, fields)?;
    // SDKs differ on the signed Host: as sent, or without the port (the Python SDK signs
    // the URL's host without port while its HTTP client sends the port).
    let mut header_sets = vec![headers.clone()];
    if let Some(i) = headers.iter().position(|(n, _)| n == "host") {
        let stripped = strip_port(&headers[i].1).to_string();
        if stripped != headers[i].1 {
            let mut alt = headers.clone();
            alt[i].1 = stripped;
            header_sets.push(alt);
        }
    }
    let mut first = None;
    for hs in &header_sets {
        let signed = Signed {
            method: req.method.as_str(),
            path: &paths.path,
            params: params.clone(),
            headers: hs.clone(),
        };
        if same_signature(
            &signature::signature(secret_key, fields, &signed),
            &fields.signature,
        ) {
            return Ok(());
        }
        first.get_or_insert_with(|| signed_names(&signed));
    }
    // The message names what was signed, never a value: signed headers carry SSE-C keys,
    // key MD5s and KMS contexts, which must not leave the server.
    Err(Error::new(
        ErrorCode::SignatureDoesNotMatch,
        format!(
            "The Signature you specified is invalid. {}",
            first.unwrap_or_default()
        ),
    ))
}

/// The names (never the values) of the parameters and headers a signature covered.
fn signed_names(signed: &Signed<'_>) -> String {
    let names = |pairs: &[(String, String)]| {
        pairs
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(";")
    };
    format!(
        "Signed parameters: [{}]; signed headers: [{}].",
        names(&signed.params),
        names(&signed.headers)
    )
}

/// The account a SecretId names: the COS signature's and POST form's `q-ak`, the SigV4
/// access key (header, presigned query, POST form). Every path looks an account up here,
/// so none can match differently; 403 InvalidAccessKeyId otherwise, in the words of the
/// request's dialect (COS names the SecretId, S3 answers its fixed sentence).
pub fn account<'a>(
    accounts: &'a [Account],
    secret_id: &str,
    dialect: Dialect,
) -> Result<&'a Account, Error> {
    accounts
        .iter()
        .find(|a| a.secret_id == secret_id)
        .ok_or_else(|| {
            let message = match dialect {
                Dialect::Cos => format!("the SecretId {secret_id} does not exist"),
                Dialect::S3 => {
                    "The AWS Access Key Id you provided does not exist in our records.".into()
                }
            };
            Error::new(ErrorCode::InvalidAccessKeyId, message)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("a.b:9000"), "a.b");
        assert_eq!(strip_port("a.b"), "a.b");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("127.0.0.1:1"), "127.0.0.1");
    }

    #[test]
    fn grant_headers() {
        for g in [
            "x-cos-copy-source",
            "x-cos-acl",
            "x-cos-grant-read",
            "x-cos-grant-full-control",
            "x-cos-storage-class",
        ] {
            assert!(is_grant_header(g), "{g}");
        }
        assert!(is_grant_header("x-amz-copy-source") && is_grant_header("x-amz-grant-read"));
        for n in [
            "x-amz-copy-source-if-match",
            "x-amz-date",
            "x-cos-copy-source-if-match",
            "x-cos-meta-a",
            "x-cos-server-side-encryption",
            "content-type",
        ] {
            assert!(!is_grant_header(n), "{n}");
        }
    }
}
