//! The request as operations see it: parsed from HTTP by `service.rs`, free of hyper types.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;

pub use crate::dialect::Dialect;
use crate::error::{Error, ErrorCode};

/// A request or response body: a stream of byte chunks. An `Err` item means the body could
/// not be completed (client went away, stored data failed authentication).
pub type BodyStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send + Sync>>;

/// Which listener the request came in on (SSEC-HTTPS needs to know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS (TLS terminated by the emulator).
    Https,
}

/// One query parameter, percent-decoded. `value` is `None` for a bare name (`?uploads`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Decoded name, as sent (case kept).
    pub name: String,
    /// Decoded value; `None` when the parameter had no `=`.
    pub value: Option<String>,
}

/// Strips `:port` from a host (`[::1]:80` → `[::1]`).
pub fn strip_port(host: &str) -> &str {
    match host.rfind(':') {
        Some(i)
            if !host[i..].contains(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            &host[..i]
        }
        _ => host,
    }
}

impl crate::redact::QueryParam for Param {
    fn name(&self) -> &str {
        &self.name
    }
    fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// The query string, decoded, in the order sent. Prints with its credentials redacted
/// (`redact::Params`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The parameters.
    pub params: Vec<Param>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("params", &crate::redact::Params(&self.params))
            .finish()
    }
}

fn decode(s: &str, what: &str) -> Result<String, Error> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("{what} {s:?} is not UTF-8 after percent-decoding"),
            )
        })
}

impl Query {
    /// Parses a raw query string (`a=1&b&c=%2F`). A `+` is a space, as HTML forms and the
    /// Python SDK's HTTP client (`requests`) encode it; a literal plus arrives as `%2B`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut params = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (part, None),
            };
            let form = |s: &str| s.replace('+', " ");
            params.push(Param {
                name: decode(&form(name), "query parameter")?,
                value: value.map(|v| decode(&form(v), "query value")).transpose()?,
            });
        }
        Ok(Query { params })
    }

    /// The value of the first parameter named `name` (`Some("")` for a bare name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_deref().unwrap_or(""))
    }

    /// Whether a parameter named `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }
}

/// Headers whose empty value means the header is absent, as COS's official SDKs send them
/// on purpose when the caller set none:
///
/// - `authorization`: cos-python-sdk-v5 (`CosS3Auth`) with `CosConfig(Anonymous=True)`
///   sends `Authorization:` empty on every anonymous request;
/// - `x-cos-copy-source-range`: cos-python-sdk-v5's `upload_part_copy` sends it empty when
///   no `CopySourceRange` is given (the whole source is the part);
/// - `cache-control`: cos-nodejs-sdk-v5 sends it empty on `putObject`, `putObjectCopy`,
///   `multipartInit` and `appendObject` so that a proxy cannot add one that COS would store;
/// - `content-type`: cos-nodejs-sdk-v5's `multipartInit` sends it empty for the same reason
///   (the object then gets the default, `application/octet-stream`);
/// - `content-disposition`, `content-encoding`, `content-language`, `expires`: stored with
///   the object beside `cache-control` (`ops::object_headers::STORED`); an empty one names
///   no value either, so it is not stored as `""`.
///
/// Every other header keeps its empty value, and its parser refuses it where an empty value
/// is malformed: `x-cos-acl`, `x-cos-storage-class`, `x-cos-metadata-directive`,
/// `x-cos-copy-source` (400 InvalidArgument), `Content-MD5` (400 InvalidDigest), the SSE
/// headers (400, as SSE parsing names them); `x-cos-meta-*` may be empty (an empty value is
/// a value). Applied by [`Request::header`] only.
pub const EMPTY_IS_ABSENT: [&str; 8] = [
    "authorization",
    "x-cos-copy-source-range",
    "cache-control",
    "content-type",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// Whether an empty value of header `name` (any case) is its absence ([`EMPTY_IS_ABSENT`]).
pub fn is_empty_absent(name: &str) -> bool {
    EMPTY_IS_ABSENT.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// An HTTP request, parsed just enough for routing, authentication and operations.
pub struct Request {
    /// The `x-cos-request-id` of this exchange.
    pub id: String,
    /// Method.
    pub method: Method,
    /// Listener scheme.
    pub scheme: Scheme,
    /// Path as sent (percent-encoded).
    pub raw_path: String,
    /// Query string, decoded.
    pub query: Query,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, streamed.
    pub body: BodyStream,
    /// COS or S3, from how the request is signed ([`Dialect::of`]).
    pub dialect: Dialect,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("raw_path", &self.raw_path)
            .field("query", &self.query)
            .field("headers", &crate::redact::Headers(&self.headers))
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A header's value as text; a value that is not visible ASCII is refused, naming it.
    /// The one place the empty-header rule is applied ([`EMPTY_IS_ABSENT`]): an empty value
    /// of one of those headers is `None`; any other header's empty value is returned as
    /// `Some("")` for its parser to refuse where an empty value is malformed. Every header an
    /// operation or authentication reads goes through here; only signature verification
    /// reads the raw map, because a signature covers the bytes as sent, empty values included.
    pub fn header(&self, name: &str) -> Result<Option<&str>, Error> {
        match self.headers.get(name) {
            None => Ok(None),
            Some(v) if v.is_empty() && is_empty_absent(name) => Ok(None),
            Some(v) => v.to_str().map(Some).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("header {name} is not visible ASCII"),
                )
            }),
        }
    }

    /// Content-Length, if sent; an unparsable value is refused.
    pub fn content_length(&self) -> Result<Option<u64>, Error> {
        self.header("content-length")?
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        format!("Content-Length {v:?} is not a number"),
                    )
                })
            })
            .transpose()
    }
}

/// The most request headers the emulator reads (docs/guarantees.md, "Limits"). A request with more is
/// refused with a COS error. Up to [`TRANSPORT_MAX_HEADERS`] the HTTP layer still parses
/// them so that this error can be written; beyond it the connection gets a bare `431`.
pub const MAX_HEADERS: usize = 100;

/// The most bytes of request headers (every name and value, plus `": "` and CRLF each)
/// the emulator reads; more is refused with a COS error, as long as the request head fits
/// hyper's read buffer (its default, 8 KiB + 400 KiB); beyond that hyper answers `431` and
/// closes the connection.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The HTTP layer's own cap on the number of headers: beyond it hyper answers
/// `431 Request Header Fields Too Large` and closes the connection (no COS body: the
/// request never reaches the emulator).
pub const TRANSPORT_MAX_HEADERS: usize = 4 * MAX_HEADERS;

/// Refuses a request over [`MAX_HEADERS`] headers or [`MAX_HEADER_BYTES`] bytes of headers
/// with 400 InvalidRequest, naming the limit (COS documents no code for it; S3 answers 400
/// `RequestHeaderSectionTooLarge`, which is not a COS code).
pub fn check_header_limits(headers: &HeaderMap) -> Result<(), Error> {
    let count = headers.len();
    if count > MAX_HEADERS {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            format!("the request has {count} headers; at most {MAX_HEADERS} are allowed"),
        ));
    }
    let bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(Error::new(
            ErrorCode::InvalidRequest,
            format!(
                "the request headers total {bytes} bytes; at most {MAX_HEADER_BYTES} are allowed"
            ),
        ));
    }
    Ok(())
}

/// Decodes a percent-encoded path segment to UTF-8 text.
pub fn decode_path(raw: &str) -> Result<String, Error> {
    decode(raw, "path")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parses_bare_names_and_decodes() {
        let q = Query::parse("prefix=x%2Fy&uploads&a+b=c+d&&e=&p=%2B").unwrap();
        assert_eq!(q.get("p"), Some("+"));
        assert_eq!(q.get("prefix"), Some("x/y"));
        assert_eq!(q.get("uploads"), Some(""));
        assert_eq!(q.params[1].value, None);
        assert_eq!(q.get("a b"), Some("c d"));
        assert_eq!(q.get("e"), Some(""));
        assert!(!q.has("f"));
    }

    #[test]
    fn header_limits() {
        let mut h = HeaderMap::new();
        for i in 0..MAX_HEADERS {
            h.insert(
                http::HeaderName::try_from(format!("x-h{i}")).unwrap(),
                http::HeaderValue::from_static("v"),
            );
        }
        assert!(check_header_limits(&h).is_ok());
        h.insert("x-one-more", http::HeaderValue::from_static("v"));
        assert_eq!(
            check_header_limits(&h).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let mut h = HeaderMap::new();
        let big = "a".repeat(MAX_HEADER_BYTES);
        h.insert("x-big", http::HeaderValue::from_str(&big).unwrap());
        assert_eq!(
            check_header_limits(&h).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn empty_value_is_absent_only_for_the_listed_headers() {
        let mut headers = HeaderMap::new();
        for name in [
            "cache-control",
            "Authorization",
            "x-cos-acl",
            "x-cos-meta-a",
        ] {
            headers.insert(
                http::HeaderName::try_from(name).unwrap(),
                http::HeaderValue::from_static(""),
            );
        }
        let req = Request {
            id: String::new(),
            method: Method::GET,
            scheme: Scheme::Http,
            raw_path: "/".into(),
            query: Query::default(),
            headers,
            body: Box::pin(futures_util::stream::empty()),
            dialect: Dialect::Cos,
        };
        assert_eq!(req.header("cache-control").unwrap(), None);
        assert_eq!(req.header("authorization").unwrap(), None);
        assert_eq!(req.header("x-cos-acl").unwrap(), Some(""));
        assert_eq!(req.header("x-cos-meta-a").unwrap(), Some(""));
        assert!(is_empty_absent("Content-Type"));
        assert!(!is_empty_absent("x-cos-storage-class"));
    }

    #[test]
    fn query_refuses_invalid_utf8() {
        assert_eq!(
            Query::parse("a=%ff").unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
