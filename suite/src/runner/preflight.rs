//! The pre-flight request: one signed request before any case runs, so a profile that
//! does not fit its endpoint fails in one line that says why (wrong dialect, wrong
//! signature version, clock skew, TLS trust, nothing listening, credentials refused)
//! instead of as hundreds of red cases.
//!
//! The request is a signed listing of one object in the profile's bucket of its first
//! region (a bucket the suite would create need not exist: `NoSuchBucket` shows the
//! signature was accepted). A refusal of the signature is retried once in the other
//! dialect: if that one is accepted, the profile names the wrong dialect.

use bytes::Bytes;

use crate::client::sign::{self, SignInput};
use crate::client::{Request, Response, TransportError};
use crate::dialect::Dialect;
use crate::xml::CosError;

use super::env::Env;
use super::request::unix_now;

/// Codes that mean "the signature or the credentials were refused" in either dialect
/// (S3 answers a COS `q-sign` Authorization with InvalidArgument or
/// AuthorizationHeaderMalformed; COS a SigV4 one with InvalidSecurity or AccessDenied).
const AUTH_REFUSALS: &[&str] = &[
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "AuthorizationHeaderMalformed",
    "InvalidSecurity",
    "InvalidArgument",
    "InvalidRequest",
    "AccessDenied",
    "MissingSecurityHeader",
];

/// How far the endpoint's clock may be from ours before signatures start to fail (COS
/// and S3 both refuse requests more than 15 minutes off; 5 minutes warns in time).
pub const MAX_SKEW_SECS: i64 = 300;

/// What the pre-flight saw when the profile fits: a line for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit(pub String);

/// Runs the pre-flight: `Ok` with a summary line, or the one line that says what is wrong.
pub async fn preflight(env: &Env) -> Result<Fit, String> {
    let dialect = env.profile.dialect;
    let resp = send(env, dialect).await.map_err(|e| transport(env, &e))?;
    if let Some(skew) = clock_skew(&resp) {
        if skew.abs() > MAX_SKEW_SECS {
            return Err(skew_line(skew));
        }
    }
    let error = CosError::parse(&resp.body);
    let code = error.as_ref().map(|e| e.code.as_str()).unwrap_or("");
    if code == "RequestTimeTooSkewed" {
        return Err(format!(
            "clock skew: the endpoint refuses this machine's time ({code}); fix the clock (NTP)"
        ));
    }
    let refused = resp.status == 400 || resp.status == 403;
    if !(refused && AUTH_REFUSALS.contains(&code)) && resp.status < 500 {
        return Ok(Fit(format!(
            "pre-flight: the endpoint accepts {} (status {}{})",
            describe(dialect),
            resp.status,
            if code.is_empty() {
                String::new()
            } else {
                format!(", {code}")
            }
        )));
    }
    let other = match dialect {
        Dialect::Cos => Dialect::S3,
        Dialect::S3 => Dialect::Cos,
    };
    let message = error.as_ref().map(|e| e.message.as_str()).unwrap_or("");
    if let Ok(alt) = send(env, other).await {
        let alt_code = CosError::parse(&alt.body)
            .map(|e| e.code)
            .unwrap_or_default();
        let alt_refused =
            (alt.status == 400 || alt.status == 403) && AUTH_REFUSALS.contains(&alt_code.as_str());
        if !alt_refused && alt.status < 500 {
            return Err(format!(
                "wrong dialect: the endpoint refuses {} ({} {code}) but accepts {} (status {}): set `dialect: {}` in the profile",
                describe(dialect),
                resp.status,
                describe(other),
                alt.status,
                other.as_str()
            ));
        }
    }
    if resp.status >= 500 {
        return Err(format!(
            "the endpoint fails the pre-flight request with {} {code} {message}: it is not ready",
            resp.status
        ));
    }
    let hint = match speaks(&resp) {
        Some(d) if d != dialect => format!(
            " (its answer carries {} headers: is `dialect: {}` right?)",
            d.as_str(),
            dialect.as_str()
        ),
        _ => String::new(),
    };
    Err(format!(
        "credentials refused: {} {code} {message}{hint}; check {} and {}",
        resp.status, env.profile.credentials.secret_id_env, env.profile.credentials.secret_key_env
    ))
}

/// `COS v5 (q-sign)` / `SigV4 (S3)`.
fn describe(d: Dialect) -> &'static str {
    match d {
        Dialect::Cos => "COS v5 (q-sign) signatures",
        Dialect::S3 => "SigV4 (S3) signatures",
    }
}

/// Which dialect an answer's request-id header says the endpoint speaks.
fn speaks(resp: &Response) -> Option<Dialect> {
    if resp.header("x-cos-request-id").is_some() {
        Some(Dialect::Cos)
    } else if resp.header("x-amz-request-id").is_some() {
        Some(Dialect::S3)
    } else {
        None
    }
}

/// Seconds the endpoint's `Date` is ahead of this machine (negative: behind).
fn clock_skew(resp: &Response) -> Option<i64> {
    let date = httpdate::parse_http_date(resp.header("date")?).ok()?;
    let theirs = date.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(i64::try_from(theirs).ok()? - unix_now())
}

fn skew_line(skew: i64) -> String {
    let (n, way) = if skew > 0 {
        (skew, "ahead of")
    } else {
        (-skew, "behind")
    };
    format!(
        "clock skew: the endpoint's clock is {n} s {way} this machine's (its Date header); signatures fail beyond 15 minutes: fix the clock (NTP)"
    )
}

fn transport(env: &Env, e: &TransportError) -> String {
    match e {
        TransportError::Tls { host, message } => format!(
            "TLS trust: the handshake with {host} failed ({message}): give the endpoint's CA in the profile's tls.ca_file or --ca-file{}",
            env.profile
                .tls
                .ca_file
                .as_ref()
                .map(|f| format!(" (now {})", f.display()))
                .unwrap_or_default()
        ),
        TransportError::Connect { addr, message } => format!(
            "nothing answers at {addr} ({message}): is the endpoint running, and are the profile's endpoint and connect addresses right?"
        ),
        other => format!("the endpoint did not answer the pre-flight request: {other}"),
    }
}

/// The pre-flight request in `dialect`, sent.
async fn send(env: &Env, dialect: Dialect) -> Result<Response, TransportError> {
    let req =
        request(env, dialect).map_err(|m| TransportError::Request(format!("pre-flight: {m}")))?;
    env.client.send(&req).await
}

/// A signed `GET /?max-keys=1` on the first region's bucket.
pub fn request(env: &Env, dialect: Dialect) -> Result<Request, String> {
    let p = &env.profile;
    let region = p
        .regions
        .first()
        .map(|r| r.name.clone())
        .ok_or("the profile has no region")?;
    let bucket = p
        .buckets
        .by_region
        .get(&region)
        .cloned()
        .unwrap_or_else(|| {
            if p.appid.is_empty() {
                format!("{}-preflight", p.buckets.prefix)
            } else {
                format!("{}-preflight-{}", p.buckets.prefix, p.appid)
            }
        });
    let scheme = env.default_scheme();
    let authority = env
        .authority(scheme, &bucket, &region)
        .ok_or("the profile has no endpoint for its default scheme")?;
    let now = unix_now();
    let query = vec![("max-keys".to_string(), Some("1".to_string()))];
    match dialect {
        Dialect::S3 => {
            let dest = super::s3::Dest {
                scheme,
                authority: &authority,
                bucket: &bucket,
                region: &region,
            };
            let draft = super::s3::Draft {
                method: "GET".into(),
                path: "/".into(),
                query,
                body: Bytes::new(),
            };
            super::s3::signed(env, &env.creds, now, &dest, draft, Vec::new())
        }
        Dialect::Cos => {
            let mut headers = vec![("host".to_string(), authority.clone())];
            let params = vec![("max-keys".to_string(), "1".to_string())];
            let sig = sign::sign(
                &env.creds,
                &SignInput {
                    method: "GET",
                    path: "/",
                    params: &params,
                    headers: &headers,
                    start: now - 60,
                    end: now + 3600,
                },
            );
            headers.push(("authorization".into(), sig.authorization));
            // Path-style (an S3 profile asked about COS) puts the bucket in the path.
            let target = match p.addressing {
                crate::dialect::Addressing::Virtual => "/?max-keys=1".to_string(),
                crate::dialect::Addressing::Path => format!("/{bucket}?max-keys=1"),
            };
            Ok(Request {
                method: "GET".into(),
                scheme,
                authority,
                target,
                headers,
                body: Bytes::new(),
            })
        }
    }
}
