//! The loopback proxy of the mutation harness: HTTPS (the emulator's own certificate) and
//! plain HTTP listeners on 127.0.0.1, every request forwarded to the embedded emulator by
//! the suite's own client, with ONE behaviour broken on the way ([`super::Break`]).
//! Requests it rewrites are signed again with the embedded credentials (with the original
//! signature's key time), so the emulator judges the rewritten request, not a broken
//! signature; requests whose signature was deliberately wrong stay wrong.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::{Break, Op};
use crate::client::sign::{self, Credentials, SignInput};
use crate::client::{self, Client, Scheme};

const SSE: &str = "x-cos-server-side-encryption";
const SSEC_ALG: &str = "x-cos-server-side-encryption-customer-algorithm";
const SSEC_KEY: &str = "x-cos-server-side-encryption-customer-key";
const SSEC_MD5: &str = "x-cos-server-side-encryption-customer-key-md5";
const COPY_SSEC_PREFIX: &str = "x-cos-copy-source-server-side-encryption-customer-";
const KMS_KEY_ID: &str = "x-cos-server-side-encryption-cos-kms-key-id";
const KMS_CONTEXT: &str = "x-cos-server-side-encryption-context";
const KMS_ALG: &str = "x-cos-server-side-encryption-cos-kms-algorithm";

/// What the proxy remembers across requests (per object path), for the mutations that
/// need it: the SSE-C headers and body of the last successful upload, and which objects
/// it downgraded from SSE-KMS to SSE-COS.
#[derive(Default)]
struct Memory {
    ssec: HashMap<String, Vec<(String, String)>>,
    bodies: HashMap<String, Bytes>,
    downgraded: HashMap<String, String>,
}

struct Shared {
    brk: Break,
    upstream: Client,
    creds: Credentials,
    memory: Mutex<Memory>,
}

impl Shared {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running proxy; dropping it stops the listeners.
pub struct Proxy {
    /// The HTTPS listener.
    pub https: SocketAddr,
    /// The plain-HTTP listener.
    pub http: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn tls_acceptor(cert: &Path) -> Result<TlsAcceptor, String> {
    let dir = cert
        .parent()
        .ok_or("the emulator certificate has no directory")?;
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let certs = rustls_pemfile::certs(&mut read("cert.pem")?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cert.pem: {e}"))?;
    let key = rustls_pemfile::private_key(&mut read("key.pem")?.as_slice())
        .map_err(|e| format!("key.pem: {e}"))?
        .ok_or("key.pem holds no key")?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| e.to_string())?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Starts a proxy in front of `upstream` (a client of the emulator) that breaks `brk`.
/// `cert` is the emulator's certificate (its key lies next to it).
pub async fn start(
    brk: Break,
    upstream: Client,
    creds: Credentials,
    cert: &Path,
) -> Result<Proxy, String> {
    let acceptor = tls_acceptor(cert)?;
    let bind = || TcpListener::bind("127.0.0.1:0");
    let https = bind().await.map_err(|e| e.to_string())?;
    let http = bind().await.map_err(|e| e.to_string())?;
    let addrs = (
        https.local_addr().map_err(|e| e.to_string())?,
        http.local_addr().map_err(|e| e.to_string())?,
    );
    let shared = Arc::new(Shared {
        brk,
        upstream,
        creds,
        memory: Mutex::new(Memory::default()),
    });
    let serve = |listener: TcpListener, tls: Option<TlsAcceptor>, scheme: Scheme| {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (shared, tls) = (shared.clone(), tls.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let shared = shared.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(forward(&shared, scheme, req).await)
                        }
                    });
                    let builder = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        })
    };
    let tasks = vec![
        serve(https, Some(acceptor), Scheme::Https),
        serve(http, None, Scheme::Http),
    ];
    Ok(Proxy {
        https: addrs.0,
        http: addrs.1,
        tasks,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_string(), value.to_string()));
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// Classifies a request as the operation a mutation targets.
fn classify(method: &str, path: &str, query: &str, headers: &[(String, String)]) -> Op {
    let params: Vec<String> = query_pairs(query).into_iter().map(|(k, _)| k).collect();
    let has = |p: &str| params.iter().any(|k| k == p);
    let bucket_level = path == "/" || path.is_empty();
    match method {
        "PUT" if has("partNumber") && header(headers, "x-cos-copy-source").is_some() => {
            Op::UploadPartCopy
        }
        "PUT" if has("partNumber") => Op::UploadPart,
        "PUT" if has("acl") || bucket_level => Op::Other,
        "PUT" if header(headers, "x-cos-copy-source").is_some() => Op::Copy,
        "PUT" => Op::Put,
        "GET" if bucket_level && !has("uploads") => Op::List,
        "GET" if bucket_level || has("acl") || has("uploadId") => Op::Other,
        "GET" if header(headers, "range").is_some() => Op::GetRange,
        "GET" => Op::Get,
        "HEAD" if !bucket_level => Op::Head,
        "POST" if has("uploads") => Op::Initiate,
        "POST" if has("uploadId") => Op::Complete,
        "POST" if bucket_level => Op::PostObject,
        _ => Op::Other,
    }
}

/// The signed parts of an `Authorization` value: (key time, signature, header list).
fn parse_authorization(value: &str) -> Option<(String, String, Vec<String>)> {
    let pairs = query_pairs(value);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let list = get("q-header-list")?
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Some((get("q-sign-time")?, get("q-signature")?, list))
}

fn signature(
    creds: &Credentials,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    key_time: &str,
) -> Option<sign::Signature> {
    let (start, end) = key_time.split_once(';')?;
    let params: Vec<(String, String)> = query_pairs(query)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("q-"))
        .collect();
    let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
    Some(sign::sign(
        creds,
        &SignInput {
            method,
            path: &path,
            params: &params,
            headers,
            start: start.parse().ok()?,
            end: end.parse().ok()?,
        },
    ))
}

/// Whether the request's header signature is valid (so re-signing after a rewrite keeps
/// it valid; a deliberately wrong or absent one is left alone).
fn validly_signed(
    creds: &Credentials,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
) -> Option<(String, Vec<String>)> {
    let (key_time, sig, list) = parse_authorization(header(headers, "authorization")?)?;
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| list.contains(&k.to_ascii_lowercase()))
        .cloned()
        .collect();
    let again = signature(creds, method, path, query, &signed, &key_time)?;
    (again.signature == sig).then_some((key_time, list))
}

/// Signs `headers` again after a rewrite: the same key time, the originally signed
/// headers that remain plus any SSE header the mutation added.
fn resign(
    creds: &Credentials,
    method: &str,
    path: &str,
    query: &str,
    headers: &mut Vec<(String, String)>,
    key_time: &str,
    list: &[String],
) {
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "authorization" && (list.contains(&k) || k.starts_with("x-cos-"))
        })
        .cloned()
        .collect();
    if let Some(s) = signature(creds, method, path, query, &signed, key_time) {
        set_header(headers, "authorization", &s.authorization);
    }
}

/// What a request-side mutation changed, for the response side.
#[derive(Default)]
struct Rewrite {
    changed: bool,
    forged_kms_echo: Option<String>,
    forge_cos_echo: Option<String>,
}

fn rewrite_request(
    shared: &Shared,
    op: Op,
    arrived: Scheme,
    scheme: &mut Scheme,
    object: &str,
    query: &str,
    headers: &mut Vec<(String, String)>,
) -> Rewrite {
    // `object` is the request path: the memory key of what was uploaded there.
    let mut rw = Rewrite::default();
    let has_sse_c = header(headers, SSEC_KEY).is_some();
    let presigned = query.contains("q-signature=");
    let drop_sse = |headers: &mut Vec<(String, String)>| {
        let before = headers.len();
        headers.retain(|(k, _)| !k.to_ascii_lowercase().starts_with(SSE));
        before != headers.len()
    };
    match shared.brk {
        Break::SseCOverHttpForwarded if arrived == Scheme::Http && has_sse_c => {
            *scheme = Scheme::Https;
        }
        Break::SseCOverHttpForwardedButPut
            if arrived == Scheme::Http
                && op != Op::Put
                && (has_sse_c
                    || headers
                        .iter()
                        .any(|(k, _)| k.to_ascii_lowercase().starts_with(COPY_SSEC_PREFIX))) =>
        {
            *scheme = Scheme::Https;
        }
        Break::RegionLimitPutOnly
            if matches!(op, Op::Initiate | Op::Copy) && header(headers, SSE).is_some() =>
        {
            rw.forge_cos_echo = header(headers, SSE).map(str::to_string);
            rw.changed = drop_sse(headers);
        }
        Break::SseHttpForwarded if arrived == Scheme::Http && header(headers, SSE).is_some() => {
            *scheme = Scheme::Https;
        }
        Break::RightSseCKey(target) if target == op && has_sse_c => {
            let stored = shared.memory().ssec.get(object).cloned();
            if let Some(right) = stored {
                for (k, v) in right {
                    set_header(headers, &k, &v);
                }
                rw.changed = true;
            }
        }
        Break::RightCopySourceKey if op == Op::Copy || op == Op::UploadPartCopy => {
            let source = header(headers, "x-cos-copy-source").map(copy_source_object);
            let stored = source.and_then(|s| shared.memory().ssec.get(&s).cloned());
            if let Some(right) = stored {
                for (k, v) in right {
                    let name =
                        k.replace("x-cos-server-side-encryption-customer-", COPY_SSEC_PREFIX);
                    set_header(headers, &name, &v);
                }
                rw.changed = true;
            }
        }
        Break::SignAnonymous if header(headers, "authorization").is_none() && !presigned => {
            rw.changed = true;
        }
        Break::StripSsePresigned if presigned && op.is_upload() => {
            // A presigned URL signs the host only: removing headers needs no new signature.
            drop_sse(headers);
        }
        Break::StripSseArchive
            if op.is_upload()
                && header(headers, "x-cos-storage-class")
                    .is_some_and(|c| c.to_ascii_uppercase().contains("ARCHIVE")) =>
        {
            if let Some(v) = header(headers, SSE) {
                rw.forge_cos_echo = Some(v.to_string());
            }
            rw.changed = drop_sse(headers);
        }
        Break::KmsDowngraded if op.is_upload() && header(headers, SSE) == Some("cos/kms") => {
            rw.forged_kms_echo = Some(
                header(headers, KMS_KEY_ID)
                    .unwrap_or("forged-default-cmk")
                    .to_string(),
            );
            headers.retain(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k != KMS_KEY_ID && k != KMS_CONTEXT && k != KMS_ALG
            });
            set_header(headers, SSE, "AES256");
            rw.changed = true;
        }
        Break::ConflictResolved
            if has_sse_c
                && (header(headers, SSE).is_some() || header(headers, KMS_KEY_ID).is_some()) =>
        {
            headers.retain(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k != SSE && k != KMS_KEY_ID && k != KMS_CONTEXT && k != KMS_ALG
            });
            rw.changed = true;
        }
        Break::KmsHeadersWithoutKmsDropped
            if header(headers, SSE) != Some("cos/kms")
                && (header(headers, KMS_KEY_ID).is_some()
                    || header(headers, KMS_CONTEXT).is_some()
                    || header(headers, KMS_ALG).is_some()) =>
        {
            headers.retain(|(k, _)| {
                let k = k.to_ascii_lowercase();
                k != KMS_KEY_ID && k != KMS_CONTEXT && k != KMS_ALG
            });
            rw.changed = true;
        }
        Break::KmsContextStripped if header(headers, KMS_CONTEXT).is_some() => {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(KMS_CONTEXT));
            rw.changed = true;
        }
        Break::ContentMd5Stripped if header(headers, "content-md5").is_some() => {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-md5"));
            rw.changed = true;
        }
        Break::SseCKeyLengthPutCopyOnly if !matches!(op, Op::Put | Op::Copy) => {
            for (key_h, md5_h) in [
                (SSEC_KEY.to_string(), SSEC_MD5.to_string()),
                (
                    format!("{COPY_SSEC_PREFIX}key"),
                    format!("{COPY_SSEC_PREFIX}key-md5"),
                ),
            ] {
                let b64 = base64::engine::general_purpose::STANDARD;
                let raw = header(headers, &key_h).and_then(|k| b64.decode(k.trim()).ok());
                if let Some(mut raw) = raw.filter(|r| r.len() != 32) {
                    // What a server that never checks the length would key its cipher with.
                    raw.resize(32, 0);
                    set_header(headers, &key_h, &b64.encode(&raw));
                    set_header(headers, &md5_h, &b64.encode(Md5::digest(&raw)));
                    rw.changed = true;
                }
            }
        }
        Break::SseCMd5Recomputed => {
            for (key_h, md5_h) in [
                (SSEC_KEY.to_string(), SSEC_MD5.to_string()),
                (
                    format!("{COPY_SSEC_PREFIX}key"),
                    format!("{COPY_SSEC_PREFIX}key-md5"),
                ),
            ] {
                let b64 = base64::engine::general_purpose::STANDARD;
                let raw = header(headers, &key_h).and_then(|k| b64.decode(k.trim()).ok());
                if let Some(raw) = raw {
                    let md5 = b64.encode(Md5::digest(&raw));
                    if header(headers, &md5_h) != Some(md5.as_str()) {
                        set_header(headers, &md5_h, &md5);
                        rw.changed = true;
                    }
                }
            }
        }
        _ => {}
    }
    rw
}

/// `/bucket-host-relative/key?versionId=..` or `bucket.cos.region.myqcloud.com/key` → the
/// memory key of the copy source (`/key`).
fn copy_source_object(source: &str) -> String {
    let decoded = percent_decode_str(source).decode_utf8_lossy().into_owned();
    let no_query = decoded.split('?').next().unwrap_or_default();
    match no_query.split_once('/') {
        Some((_, key)) => format!("/{key}"),
        None => no_query.to_string(),
    }
}

async fn forward(
    shared: &Shared,
    arrived: Scheme,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let op = classify(&method, &path, &query, &headers);
    let host = header(&headers, "host").unwrap_or_default().to_string();
    let signed = validly_signed(&shared.creds, &method, &path, &query, &headers);
    let mut scheme = arrived;
    let sent_ssec: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == SSEC_ALG || k == SSEC_KEY || k == SSEC_MD5
        })
        .cloned()
        .collect();
    let rw = rewrite_request(
        shared,
        op,
        arrived,
        &mut scheme,
        &path,
        &query,
        &mut headers,
    );
    if rw.changed {
        match (&signed, shared.brk) {
            (Some((key_time, list)), _) => resign(
                &shared.creds,
                &method,
                &path,
                &query,
                &mut headers,
                key_time,
                list,
            ),
            (None, Break::SignAnonymous) => {
                let now = unix_now();
                let key_time = format!("{};{}", now - 60, now + 3600);
                let list = vec!["host".to_string()];
                resign(
                    &shared.creds,
                    &method,
                    &path,
                    &query,
                    &mut headers,
                    &key_time,
                    &list,
                );
            }
            _ => {}
        }
    }
    let request = client::Request {
        method: method.clone(),
        scheme,
        authority: host.clone(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        headers,
        body: body.clone(),
    };
    let mut resp = match shared.upstream.send(&request).await {
        Ok(r) => r,
        Err(e) => client::Response {
            status: 502,
            headers: vec![],
            body: Bytes::from(e.to_string()),
        },
    };
    {
        let mut memory = shared.memory();
        if resp.status / 100 == 2 && op.is_upload() {
            if sent_ssec.is_empty() {
                memory.ssec.remove(&path);
            } else {
                memory.ssec.insert(path.clone(), sent_ssec);
            }
            memory.bodies.insert(path.clone(), body.clone());
            match &rw.forged_kms_echo {
                Some(id) => {
                    memory.downgraded.insert(path.clone(), id.clone());
                }
                None => {
                    memory.downgraded.remove(&path);
                }
            }
        }
    }
    let (stored_body, downgraded) = {
        let memory = shared.memory();
        (
            memory.bodies.get(&path).cloned(),
            memory.downgraded.get(&path).cloned(),
        )
    };
    let seen = super::response::Seen {
        op,
        request: &request,
        forged_kms_echo: rw.forged_kms_echo.clone().or(match op {
            Op::Get | Op::GetRange | Op::Head => downgraded,
            _ => None,
        }),
        forged_cos_echo: rw.forge_cos_echo.clone(),
        stored_body,
    };
    super::response::mutate(shared.brk, &seen, &mut resp);
    let mut builder = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        // hyper computes the length of the (possibly changed) body, except for HEAD,
        // whose length is the object's.
        if (k == "content-length" && method != "HEAD") || k == "transfer-encoding" {
            continue;
        }
        builder = builder.header(k, v);
    }
    builder
        .body(Full::new(resp.body))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
