//! Turning a step into the exact request it means: the shorthand's method, path and query,
//! the SSE headers of PROTOCOL.md, the case's header overrides, then the signature.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use percent_encoding::{
    percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC,
};

use crate::case::{
    Auth, BodySpec, KmsContext, RegionSpec, RequestFields, Scheme as CaseScheme, SseC, Step,
};
use crate::client::sign::{self, cos_encode, SignInput};
use crate::client::{Request, Scheme};

use super::bodies::{make_body, BodySeed};
use super::plan::pick_region;
use super::state::CaseState;

/// Object keys in URLs: everything but unreserved characters and `/` is escaped, as the
/// Python SDK's `quote(key, '/-_.~')` does.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Raw `request` paths: only what cannot appear in a request line is escaped; `%` stays,
/// so a case can send any pre-encoded bytes.
const RAW_PATH_ENCODE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');

/// Why a step could not be turned into a request.
#[derive(Debug, Clone)]
pub enum StepError {
    /// The endpoint's earlier answer lacks what this step needs (a failure of the case).
    Fail(String),
    /// The harness or the profile cannot do it (an error of the case).
    Harness(String),
}

/// Where a request goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// Scheme.
    pub scheme: Scheme,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// URL authority.
    pub authority: String,
}

/// A request ready to send, and what the step counts as its body.
#[derive(Debug, Clone)]
pub struct Built {
    /// The request.
    pub request: Request,
    /// The step's body (uploads).
    pub body: Option<Bytes>,
    /// Where it went.
    pub target: Target,
    /// The object key, for object-level requests.
    pub key: Option<String>,
}

/// The pieces of a request before the signature.
pub struct Draft {
    /// Method.
    pub method: String,
    /// Decoded path for the signature (`/key`).
    pub sign_path: String,
    /// Encoded path for the URL.
    pub url_path: String,
    /// Query parameters (`None`: a bare name such as `uploads`).
    pub query: Vec<(String, Option<String>)>,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

fn fail(e: String) -> StepError {
    StepError::Fail(e)
}

impl CaseState<'_> {
    /// Renders a required template (a load-time check guarantees presence).
    pub fn need(&self, t: Option<&crate::case::Template>, what: &str) -> Result<String, StepError> {
        match t {
            Some(t) => self.render_template(t).map_err(fail),
            None => Err(StepError::Harness(format!("missing `{what}`"))),
        }
    }

    /// The scheme, bucket, region and authority of a step.
    pub fn target(&self, fields: &RequestFields) -> Result<Target, StepError> {
        let scheme = match fields.scheme {
            Some(CaseScheme::Http) => Scheme::Http,
            Some(CaseScheme::Https) => Scheme::Https,
            None => self.env.default_scheme(),
        };
        let (region, bucket) = match &fields.region {
            None => (self.region.clone(), self.bucket.clone()),
            Some(spec) => self.region_bucket(spec)?,
        };
        self.target_for(scheme, bucket, region)
    }

    pub(crate) fn target_for(
        &self,
        scheme: Scheme,
        bucket: String,
        region: String,
    ) -> Result<Target, StepError> {
        let authority = self
            .env
            .authority(scheme, &bucket, &region)
            .ok_or_else(|| {
                StepError::Harness(format!("the profile has no {} endpoint", scheme.as_str()))
            })?;
        Ok(Target {
            scheme,
            bucket,
            region,
            authority,
        })
    }

    /// The region and bucket a step-level region spec names (resolved when the case was
    /// planned, so the bucket exists).
    pub fn region_bucket(&self, spec: &RegionSpec) -> Result<(String, String), StepError> {
        let region = pick_region(&self.env.profile, Some(spec), &[]).map_err(StepError::Harness)?;
        let bucket = self
            .region_buckets
            .get(&region)
            .cloned()
            .ok_or_else(|| StepError::Harness(format!("no bucket for region {region}")))?;
        Ok((region, bucket))
    }

    /// The SSE headers of a step (PROTOCOL.md, "SSE headers").
    pub fn sse_headers(
        &self,
        fields: &RequestFields,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), StepError> {
        if let Some(v) = &fields.sse_cos {
            out.push((
                "x-cos-server-side-encryption".into(),
                self.render_template(v).map_err(fail)?,
            ));
        }
        if let Some(kms) = &fields.sse_kms {
            out.push(("x-cos-server-side-encryption".into(), "cos/kms".into()));
            if let Some(id) = &kms.key_id {
                out.push((
                    "x-cos-server-side-encryption-cos-kms-key-id".into(),
                    self.render_template(id).map_err(fail)?,
                ));
            }
            if let Some(ctx) = &kms.context {
                let value = match ctx {
                    // KMS-CONTEXT: base64 of a JSON object of string pairs.
                    KmsContext::Pairs(m) => {
                        STANDARD.encode(serde_json::to_string(m).unwrap_or_default())
                    }
                    KmsContext::Raw(t) => self.render_template(t).map_err(fail)?,
                };
                out.push(("x-cos-server-side-encryption-context".into(), value));
            }
            if let Some(alg) = &kms.algorithm {
                out.push((
                    "x-cos-server-side-encryption-cos-kms-algorithm".into(),
                    alg.clone(),
                ));
            }
        }
        if let Some(c) = &fields.sse_c {
            self.customer_headers("x-cos-server-side-encryption-customer", c, out)?;
        }
        if let Some(c) = &fields.copy_source_sse_c {
            self.customer_headers("x-cos-copy-source-server-side-encryption-customer", c, out)?;
        }
        Ok(())
    }

    fn customer_headers(
        &self,
        prefix: &str,
        c: &SseC,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), StepError> {
        let key = self
            .env
            .keys
            .get(&c.key.0)
            .ok_or_else(|| StepError::Harness(format!("unknown key `{}`", c.key.0)))?;
        self.key_used(&c.key.0);
        out.push((format!("{prefix}-algorithm"), c.algorithm.clone()));
        let encoded = if c.unpadded {
            key.base64_unpadded()
        } else {
            key.base64()
        };
        out.push((format!("{prefix}-key"), encoded));
        out.push((format!("{prefix}-key-MD5"), key.md5()));
        Ok(())
    }

    /// Common object headers: storage class, ACL, content type, metadata.
    pub fn object_headers(
        &self,
        f: &RequestFields,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), StepError> {
        if let Some(v) = self.render_opt(f.content_type.as_ref()).map_err(fail)? {
            out.push(("content-type".into(), v));
        }
        if let Some(v) = self.render_opt(f.storage_class.as_ref()).map_err(fail)? {
            out.push(("x-cos-storage-class".into(), v));
        }
        if let Some(v) = self.render_opt(f.acl.as_ref()).map_err(fail)? {
            out.push(("x-cos-acl".into(), v));
        }
        for (name, value) in &f.meta {
            out.push((
                format!("x-cos-meta-{name}"),
                self.render_template(value).map_err(fail)?,
            ));
        }
        Ok(())
    }

    /// Materialises a body.
    pub fn body(
        &self,
        spec: Option<&BodySpec>,
        step: usize,
        part: usize,
    ) -> Result<Bytes, StepError> {
        let Some(spec) = spec else {
            return Ok(Bytes::new());
        };
        let literal = match spec {
            BodySpec::Literal(t) => Some(self.render_template(t).map_err(fail)?),
            _ => None,
        };
        let seed = BodySeed {
            run: self.env.seed,
            case: &self.case.id,
            step,
            part,
        };
        make_body(spec, literal, seed, &self.env.root).map_err(StepError::Harness)
    }

    /// A draft for an object-level request.
    pub fn object_draft(&self, method: &str, key: &str) -> Draft {
        Draft {
            method: method.into(),
            sign_path: format!("/{key}"),
            url_path: format!("/{}", utf8_percent_encode(key, KEY_ENCODE)),
            query: Vec::new(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A draft for a raw `request` path (which may carry its own query).
    pub fn raw_draft(&self, method: &str, path: &str) -> Draft {
        let (p, q) = path
            .split_once('?')
            .map_or((path, None), |(p, q)| (p, Some(q)));
        let query = q
            .map(|q| {
                q.split('&')
                    .filter(|s| !s.is_empty())
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (decode(k), Some(decode(v))),
                        None => (decode(kv), None),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Draft {
            method: method.into(),
            sign_path: decode(p),
            url_path: utf8_percent_encode(p, RAW_PATH_ENCODE).to_string(),
            query,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Applies the step's `query:` and `headers:` overrides, adds Host and Content-Length,
    /// signs as `auth` says, and returns the request.
    pub fn finish(&self, mut d: Draft, step: &Step, target: &Target) -> Result<Request, StepError> {
        let f = &step.fields;
        for (k, v) in &f.query {
            d.query.retain(|(name, _)| name != k);
            d.query
                .push((k.clone(), self.render_opt(v.as_ref()).map_err(fail)?));
        }
        let mut headers = vec![("host".to_string(), target.authority.clone())];
        let needs_length = !d.body.is_empty() || matches!(d.method.as_str(), "PUT" | "POST");
        if needs_length {
            headers.push(("content-length".into(), d.body.len().to_string()));
        }
        headers.append(&mut d.headers);
        for (name, value) in &f.headers {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            if let Some(v) = value {
                headers.push((name.clone(), self.render_template(v).map_err(fail)?));
            }
        }
        let auth = f.auth.unwrap_or_default();
        let mut target_path = d.url_path.clone();
        let query_string = encode_query(&d.query);
        let params: Vec<(String, String)> = d
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
            .collect();
        let now = unix_now();
        let (start, end) = match auth {
            Auth::Expired => (now - 7200, now - 3600),
            _ => (now - 60, now + 3600),
        };
        let host_only: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
            .cloned()
            .collect();
        let creds = match (auth, &self.env.other) {
            (Auth::OtherAccount, Some(other)) => &other.creds,
            (Auth::OtherAccount, None) => {
                return Err(StepError::Harness(
                    "auth: other-account, but the run has no second account".into(),
                ))
            }
            _ => &self.env.creds,
        };
        if self.env.profile.dialect == crate::dialect::Dialect::S3 {
            let mut unsigned = Vec::new();
            for (k, v) in &f.unsigned_query {
                unsigned.push((k.clone(), self.render_opt(v.as_ref()).map_err(fail)?));
            }
            let draft = super::s3::Draft {
                method: d.method,
                path: d.sign_path,
                query: d.query,
                body: d.body,
            };
            let dest = super::s3::Dest {
                scheme: target.scheme,
                authority: &target.authority,
                bucket: &target.bucket,
                region: &target.region,
            };
            let signing = super::s3::Signing {
                now,
                auth,
                creds,
                unsigned,
            };
            return super::s3::finish(self.env, draft, headers, &dest, signing)
                .map_err(StepError::Harness);
        }
        let sign_input = |hs: &'_ [(String, String)]| {
            sign::sign(
                creds,
                &SignInput {
                    method: &d.method,
                    path: &d.sign_path,
                    params: &params,
                    headers: hs,
                    start,
                    end,
                },
            )
        };
        let mut query_parts = Vec::new();
        if !query_string.is_empty() {
            query_parts.push(query_string);
        }
        // `unsigned_query`: parameters added after signing, so no signature lists them in
        // q-url-param-list (a holder of a presigned URL appending `?acl`, say).
        let mut unsigned = Vec::new();
        for (k, v) in &f.unsigned_query {
            unsigned.push((k.clone(), self.render_opt(v.as_ref()).map_err(fail)?));
        }
        match auth {
            Auth::Anonymous => {}
            Auth::Signed | Auth::Expired | Auth::OtherAccount => {
                headers.push(("authorization".into(), sign_input(&headers).authorization))
            }
            Auth::BadSignature => headers.push((
                "authorization".into(),
                sign::corrupt(&sign_input(&headers).authorization),
            )),
            // A presigned URL signs the host only, as the SDKs' get_presigned_url does.
            Auth::Presigned => query_parts.push(sign_input(&host_only).authorization),
            Auth::PresignedHeaders => {
                let signed: Vec<(String, String)> = headers
                    .iter()
                    .filter(|(k, _)| {
                        k.eq_ignore_ascii_case("host")
                            || k.to_ascii_lowercase().starts_with("x-cos-")
                    })
                    .cloned()
                    .collect();
                query_parts.push(sign_input(&signed).authorization)
            }
        }
        if !unsigned.is_empty() {
            query_parts.push(encode_query(&unsigned));
        }
        if !query_parts.is_empty() {
            target_path = format!("{target_path}?{}", query_parts.join("&"));
        }
        Ok(Request {
            method: d.method,
            scheme: target.scheme,
            authority: target.authority.clone(),
            target: target_path,
            headers,
            body: d.body,
        })
    }

    /// `x-cos-copy-source` for a source key in a bucket and region (S3: `/bucket/key`).
    pub fn copy_source(&self, bucket: &str, region: &str, key: &str) -> String {
        if self.env.profile.dialect == crate::dialect::Dialect::S3 {
            return super::s3::copy_source(bucket, key);
        }
        let host = self
            .env
            .authority(Scheme::Https, bucket, region)
            .unwrap_or_else(|| format!("{bucket}.cos.{region}.myqcloud.com"));
        let host = host.split(':').next().unwrap_or(&host).to_string();
        format!("{host}/{}", utf8_percent_encode(key, KEY_ENCODE))
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn encode_query(q: &[(String, Option<String>)]) -> String {
    q.iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{}={}", cos_encode(k), cos_encode(v)),
            None => cos_encode(k),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
