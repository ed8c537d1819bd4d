//! The HTTP boundary: turns a hyper request into a [`Request`], runs routing,
//! authentication and the operation, and turns the [`Response`] back into HTTP. The only
//! module besides `server.rs` that sees hyper types.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use rand::RngCore;

use crate::amz;
use crate::auth::{self, SignedPaths};
use crate::config::ConnectionLimits;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::ops::{self, Call, Context};
use crate::request::{Query, Request, Scheme};
use crate::response::{Response, ResponseBody};
use crate::router;

/// The body type the server sends.
pub type OutBody = BoxBody<Bytes, std::io::Error>;

/// A fresh `x-cos-request-id`.
fn request_id() -> String {
    let mut b = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn now_secs() -> i64 {
    ops::now_ms() / 1000
}

/// Serves one HTTP request; `limits` bounds how long its body may stall.
pub async fn respond(
    ctx: Arc<Context>,
    scheme: Scheme,
    spelling: Arc<http::Extensions>,
    limits: ConnectionLimits,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<OutBody>, Infallible> {
    let id = request_id();
    let (parts, body) = req.into_parts();
    let resource = parts.uri.path().to_string();
    let method = parts.method.clone();
    let mut headers = parts.headers;
    // HTTP/2 carries the host as :authority; give operations one place to look.
    if !headers.contains_key(http::header::HOST) {
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
        {
            headers.insert(http::header::HOST, v);
        }
    }
    let body = Arc::new(tokio::sync::Mutex::new(body));
    // A client waiting for `100 Continue` has sent no body; reading would only invite it.
    let expects_continue = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    // CORS: a request from a browser page (an `Origin`) gets the bucket's Access-Control-*
    // headers on whatever it is answered, refusals included (`ops::cors`).
    let cors = ops::cors::ActualRequest::of(&method, &headers, &resource);
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    let names: Vec<&str> = match &query {
        Ok(q) => q.params.iter().map(|p| p.name.as_str()).collect(),
        Err(_) => Vec::new(),
    };
    // DIALECT-BY-SIGNATURE: decided before anything can refuse, so every answer speaks it.
    let dialect = Dialect::of(&headers, &names);
    drop(names);
    let mut response = match query {
        Err(e) => Response::error_in(dialect, &amz::translate_error(e, dialect), &resource, &id),
        Ok(query) => {
            let request = Request {
                id: id.clone(),
                method: parts.method,
                scheme,
                raw_path: resource.clone(),
                query,
                headers,
                body: shared_stream(body.clone(), limits.body_progress_timeout),
                dialect,
            };
            // TRACE only: the whole request, secret header values redacted (redact.rs).
            tracing::trace!(?request, "request");
            match handle(&ctx, request).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(code = %e.code, message = %e.message, "refused");
                    Response::error_in(dialect, &amz::translate_error(e, dialect), &resource, &id)
                }
            }
        }
    };
    amz::translate_response(&mut response.headers, dialect);
    if let Some(cors) = cors {
        cors.decorate(ctx.store.clone(), &mut response).await;
    }
    tracing::info!(%method, path = %resource, status = response.status, request_id = %id);
    if !expects_continue {
        drain(&body).await;
    }
    let mut out = to_http(response, &id, dialect);
    // Header names as COS spells them (see `header_case.rs`).
    *out.extensions_mut() = (*spelling).clone();
    Ok(out)
}

/// Request bytes read and discarded after a refusal that did not read the body.
const DRAIN_LIMIT: usize = 1024 * 1024;
/// How long draining may take in all (a client trickling bytes must not hold the
/// response back: each piece within the time is not enough).
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// The request body as the operations' stream, while `service` keeps a handle on it. A
/// client that sends nothing for `stall` while its body is being read ends the stream
/// with a `TimedOut` error (the operation refuses the request, nothing is written), so a
/// stalled upload does not hold its connection, its buffers and its writer forever.
fn shared_stream(
    body: Arc<tokio::sync::Mutex<Incoming>>,
    stall: std::time::Duration,
) -> crate::request::BodyStream {
    Box::pin(futures_util::stream::unfold(body, move |body| async move {
        loop {
            let frame = {
                let mut guard = body.lock().await;
                match tokio::time::timeout(stall, guard.frame()).await {
                    Ok(frame) => frame,
                    Err(_) => {
                        let e = std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("the client sent no body bytes for {} s", stall.as_secs()),
                        );
                        return Some((Err(e), body.clone()));
                    }
                }
            };
            match frame {
                None => return None,
                Some(Err(e)) => return Some((Err(std::io::Error::other(e)), body)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Some((Ok(data), body));
                    }
                    // Trailers carry nothing the emulator uses.
                }
            }
        }
    }))
}

/// Reads what is left of a request body (a refusal answered before reading it), up to
/// [`DRAIN_LIMIT`] bytes and [`DRAIN_TIME`] in all: closing a socket with unread input
/// makes the kernel send a reset, which can destroy the response before the client reads
/// it (the SDKs then report "connection aborted" instead of the COS error).
async fn drain(body: &tokio::sync::Mutex<Incoming>) {
    let mut body = body.lock().await;
    let mut read = 0;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read < DRAIN_LIMIT {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    })
    .await;
}

/// Routing, authentication, operation.
async fn handle(ctx: &Context, mut req: Request) -> Result<Response, Error> {
    crate::request::check_header_limits(&req.headers)?;
    let target = router::target(req.header("host")?, &req.raw_path)?;
    let mut paths = SignedPaths::of(&target);
    if paths.scope_region.is_none() && auth::sigv4::is_signed(&req) {
        paths.scope_region = bucket_region(ctx, &target).await?;
    }
    let (authn, check) =
        auth::authenticate_any(&req, &paths, &ctx.accounts, &ctx.behaviours, now_secs())?;
    // After the signature (which covers the headers as sent), before any rule reads them.
    amz::normalize_request(&mut req.headers, req.dialect, &ctx.behaviours)?;
    if req.dialect == Dialect::S3 {
        // SIGV4-PAYLOAD: the body as the operations read it, checked as it streams.
        let checksum = auth::sigv4::header_checksum(&req)?;
        if matches!(check, crate::body::PayloadCheck::Chunked { .. }) {
            auth::sigv4::unframe_headers(&mut req.headers);
        }
        let body = std::mem::replace(&mut req.body, Box::pin(futures_util::stream::empty()));
        req.body = crate::body::verify_payload(body, check, checksum);
    }
    let copy = req.headers.contains_key("x-cos-copy-source");
    let op = router::route_in(req.dialect, &req.method, &target, &req.query, copy)?;
    ops::dispatch(ctx, op, Call { target, authn, req }).await
}

/// The region a SigV4 scope must name when the Host names none (an IP, path style): the
/// bucket's as stored; `None` when no bucket is addressed (GET Service) or the bucket does
/// not exist yet (PUT Bucket creates it in the region its `LocationConstraint` names).
async fn bucket_region(ctx: &Context, target: &router::Target) -> Result<Option<String>, Error> {
    let Some(name) = target.bucket.clone() else {
        return Ok(None);
    };
    let store = ctx.store.clone();
    let record =
        crate::body::blocking(move || store.bucket(&name).map_err(crate::body::store_error))
            .await?;
    Ok(record.map(|b| b.region))
}

fn to_http(r: Response, id: &str, dialect: Dialect) -> hyper::Response<OutBody> {
    let (len, body): (Option<u64>, OutBody) = match r.body {
        ResponseBody::Empty => (Some(0), Empty::new().map_err(|e| match e {}).boxed()),
        ResponseBody::Full(b) => (
            Some(b.len() as u64),
            Full::new(b).map_err(|e| match e {}).boxed(),
        ),
        ResponseBody::Stream { stream, len } => (
            Some(len),
            BodyExt::boxed(StreamBody::new(stream.map_ok(Frame::data))),
        ),
        ResponseBody::Head { len } => (Some(len), Empty::new().map_err(|e| match e {}).boxed()),
    };
    let mut out = hyper::Response::new(body);
    *out.status_mut() =
        http::StatusCode::from_u16(r.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *out.headers_mut() = r.headers;
    let h = out.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(id) {
        if dialect == Dialect::S3 {
            h.insert("x-amz-request-id", v.clone());
        }
        h.insert("x-cos-request-id", v);
    }
    h.insert(
        http::header::SERVER,
        http::HeaderValue::from_static("tencent-cos"),
    );
    if let Ok(v) =
        http::HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
    {
        h.insert(http::header::DATE, v);
    }
    if let Some(n) = len.filter(|_| r.status != 304 && r.status != 204) {
        h.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
    }
    out
}
