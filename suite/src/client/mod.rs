//! The suite's HTTP client: one connection per exchange (hyper 1 over tokio, TLS by
//! tokio-rustls), sending exactly the method, path, headers and body a case means.
//!
//! It connects to the profile's `connect` address when one is given (like the Python
//! SDK's `IP=`) while the Host header and the TLS SNI stay the virtual-host name.

pub mod dump;
pub mod sign;
pub mod sigv4;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub use sign::Credentials;

/// `https` or `http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// TLS.
    Https,
    /// Plain text.
    Http,
}

impl Scheme {
    /// `https` / `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
    fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

/// One request, fully formed: nothing is added on the way out.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, sent as given.
    pub method: String,
    /// Scheme.
    pub scheme: Scheme,
    /// The URL authority (`bucket-appid.cos.region.myqcloud.com[:port]`).
    pub authority: String,
    /// Origin-form target: path and query, already encoded.
    pub target: String,
    /// Headers in order, including Host and Content-Length when they are to be sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Request {
    /// The target's query string, still encoded (empty without one).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The query's parameters in order, still encoded: `(name, value)`, with no value for
    /// a bare name (`?uploads`).
    pub fn query_params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.query()
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (kv, None),
            })
    }

    /// The first value of the query parameter `name`, percent-decoded (`None` when absent
    /// or bare).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_params().find_map(|(n, value)| {
            value.filter(|_| n == name).map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }

    /// The URL as a person would type it.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority,
            self.target
        )
    }
}

/// A captured response.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
}

impl Response {
    /// The first header of that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why an exchange produced no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// TCP connect failed (retried).
    #[error("cannot connect to {addr}: {message}")]
    Connect {
        /// Where.
        addr: String,
        /// Why.
        message: String,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake with {host} failed: {message}")]
    Tls {
        /// SNI name.
        host: String,
        /// Why.
        message: String,
    },
    /// No complete response within the per-request timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The request cannot be expressed (e.g. a header value with a line break).
    #[error("cannot send this request: {0}")]
    Request(String),
    /// The connection broke before any response arrived (e.g. the server closed it while
    /// the body was still being written). Retried, like a failed connect.
    #[error("connection lost before a response: {0}")]
    Interrupted(String),
    /// The response was not HTTP, or broke off after it began.
    #[error("HTTP exchange failed: {0}")]
    Http(String),
}

/// Client settings from the profile and the command line.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// PEM CA file.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Connect address for HTTPS.
    pub connect_https: Option<SocketAddr>,
    /// Connect address for HTTP.
    pub connect_http: Option<SocketAddr>,
}

/// The HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    tls: TlsConnector,
    config: Arc<ClientConfig>,
}

/// Connection attempts before giving up (only connection errors are retried).
const CONNECT_ATTEMPTS: u32 = 3;

impl Client {
    /// A client with the given trust and addresses.
    pub fn new(config: ClientConfig) -> Result<Self, String> {
        let tls = tls::client_config(config.ca_file.as_deref(), config.insecure)?;
        Ok(Self {
            tls: TlsConnector::from(Arc::new(tls)),
            config: Arc::new(config),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends one request and reads the whole response, within the timeout (per attempt).
    /// Only connection errors are retried (a failed connect, or a connection lost before
    /// any response); a response, whatever it says, is never retried.
    pub async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        let timeout = self.config.timeout;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match tokio::time::timeout(timeout, self.exchange(req)).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout(timeout)),
            };
            match result {
                Err(TransportError::Interrupted(_)) if attempt < CONNECT_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    async fn exchange(&self, req: &Request) -> Result<Response, TransportError> {
        let (host, port) = split_authority(&req.authority, req.scheme.default_port());
        let stream = self.connect(req.scheme, &host, port).await?;
        let http_req = build(req)?;
        match req.scheme {
            Scheme::Http => roundtrip(stream, http_req).await,
            Scheme::Https => {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| TransportError::Request(format!("bad TLS name {host}: {e}")))?;
                let tls =
                    self.tls
                        .connect(name, stream)
                        .await
                        .map_err(|e| TransportError::Tls {
                            host: host.clone(),
                            message: e.to_string(),
                        })?;
                roundtrip(tls, http_req).await
            }
        }
    }

    async fn connect(
        &self,
        scheme: Scheme,
        host: &str,
        port: u16,
    ) -> Result<TcpStream, TransportError> {
        let fixed = match scheme {
            Scheme::Https => self.config.connect_https,
            Scheme::Http => self.config.connect_http,
        };
        let target = fixed.map_or_else(|| format!("{host}:{port}"), |a| a.to_string());
        let mut last = String::new();
        for attempt in 0..CONNECT_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * 3u64.pow(attempt - 1))).await;
            }
            match TcpStream::connect(&target).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(TransportError::Connect {
            addr: target,
            message: last,
        })
    }
}

fn split_authority(authority: &str, default: u16) -> (String, u16) {
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
            Ok(port) => (h.trim_matches(['[', ']']).to_string(), port),
            Err(_) => (authority.to_string(), default),
        },
        _ => (authority.to_string(), default),
    }
}

fn build(req: &Request) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let method = hyper::Method::from_bytes(req.method.as_bytes())
        .map_err(|e| TransportError::Request(format!("method {}: {e}", req.method)))?;
    let mut builder = hyper::Request::builder().method(method).uri(&req.target);
    for (k, v) in &req.headers {
        let name = hyper::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| TransportError::Request(format!("header name {k:?}: {e}")))?;
        let value = hyper::header::HeaderValue::from_bytes(v.as_bytes())
            .map_err(|e| TransportError::Request(format!("header {k} value {v:?}: {e}")))?;
        builder = builder.header(name, value);
    }
    builder
        .body(Full::new(req.body.clone()))
        .map_err(|e| TransportError::Request(e.to_string()))
}

async fn roundtrip<S>(
    stream: S,
    req: hyper::Request<Full<Bytes>>,
) -> Result<Response, TransportError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| TransportError::Http(e.to_string()))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = async {
        let resp = sender.send_request(req).await.map_err(|e| {
            // A malformed response or a request hyper refuses is an answer, not a lost
            // connection: never retried.
            if e.is_parse() || e.is_user() {
                TransportError::Http(e.to_string())
            } else {
                TransportError::Interrupted(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| TransportError::Http(format!("reading the body: {e}")))?
            .to_bytes();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_split() {
        assert_eq!(split_authority("a.b:9443", 443), ("a.b".into(), 9443));
        assert_eq!(split_authority("a.b", 443), ("a.b".into(), 443));
        assert_eq!(split_authority("[::1]:80", 443), ("::1".into(), 80));
    }
}

#[cfg(test)]
mod early_response {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An endpoint may refuse a large upload as soon as it has read the headers and close
    /// the connection; the refusal must still be captured (it is the answer the case checks).
    #[tokio::test]
    async fn a_refusal_before_the_body_is_read_is_captured() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = "<Error><Code>InvalidRequest</Code></Error>";
            let resp = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
            let _ = s.shutdown().await;
        });
        let client = Client::new(ClientConfig {
            ca_file: None,
            insecure: true,
            timeout: Duration::from_secs(10),
            connect_https: None,
            connect_http: Some(addr),
        })
        .unwrap();
        let req = Request {
            method: "PUT".into(),
            scheme: Scheme::Http,
            authority: "b-1.cos.ap-beijing.myqcloud.com".into(),
            target: "/k".into(),
            headers: vec![
                ("host".into(), "b-1.cos.ap-beijing.myqcloud.com".into()),
                ("content-length".into(), (32 << 20).to_string()),
            ],
            body: Bytes::from(vec![7u8; 32 << 20]),
        };
        let resp = client.send(&req).await;
        assert_eq!(resp.map(|r| r.status).map_err(|e| e.to_string()), Ok(400));
    }
}
