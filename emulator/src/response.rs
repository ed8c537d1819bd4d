//! The response as operations build it; `service.rs` turns it into HTTP.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;

use crate::dialect::Dialect;
use crate::error::Error;
use crate::request::BodyStream;

/// A response body.
pub enum ResponseBody {
    /// No body (Content-Length 0, or HEAD).
    Empty,
    /// A body in memory (XML documents).
    Full(Bytes),
    /// A streamed body of exactly `len` bytes.
    Stream {
        /// The chunks.
        stream: BodyStream,
        /// Total length (sent as Content-Length).
        len: u64,
    },
    /// HEAD: no body, but Content-Length describes the object.
    Head {
        /// The length a GET would send.
        len: u64,
    },
}

/// Status, headers and body of a reply.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers (besides those every response gets, see `service.rs`).
    pub headers: HeaderMap,
    /// Body.
    pub body: ResponseBody,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: HeaderMap::new(),
            body: ResponseBody::Empty,
        }
    }

    /// A 200 response carrying an XML document.
    pub fn xml(doc: String) -> Self {
        let mut r = Response::new(200);
        r.set("content-type", "application/xml");
        r.body = ResponseBody::Full(Bytes::from(doc));
        r
    }

    /// The COS error response for `err` (status from the table, XML body).
    pub fn error(err: &Error, resource: &str, request_id: &str) -> Self {
        Self::error_in(Dialect::Cos, err, resource, request_id)
    }

    /// The error response for `err` to a request of `dialect`: status and code from
    /// [`crate::error::ErrorCode::wire`], the document from [`crate::xml::error_document_in`].
    pub fn error_in(dialect: Dialect, err: &Error, resource: &str, request_id: &str) -> Self {
        let status = err.code.wire(dialect).0;
        let mut r = Response::new(status);
        if status != 304 {
            r.set("content-type", "application/xml");
            r.body = ResponseBody::Full(Bytes::from(crate::xml::error_document_in(
                dialect, err, resource, request_id,
            )));
        }
        r
    }

    /// Sets a header; values that cannot be sent (control characters) are dropped with a
    /// warning rather than corrupting the response.
    pub fn set(&mut self, name: &str, value: &str) {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
            }
            _ => tracing::warn!(name, "response header not representable; dropped"),
        }
    }
}
