//! The one HTTP client of the comparison: raw HTTP/1.1 over TCP or TLS, one connection per
//! request, the body streamed from a reused buffer and the response counted, so what is
//! timed is the server (MD5, CRC-64, cipher, fsync), not a client library. Requests are
//! signed with COS v5 for the emulator and sent anonymously to SeaweedFS (its S3 gateway
//! runs without identities).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// A byte stream a request can go over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How requests are authorised.
#[derive(Clone)]
pub enum Auth {
    /// COS v5 (`q-sign-algorithm=sha1`) signing `host`.
    Cos { id: String, secret: String },
    /// No Authorization header.
    Anonymous,
}

/// One server endpoint: address, transport, host name and authorisation.
#[derive(Clone)]
pub struct Client {
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsConnector>,
    host: String,
    auth: Auth,
    /// The body pattern PUT sends over and over (1 MiB).
    pattern: Arc<Vec<u8>>,
}

/// A response: status, headers (lower-case names) and, when kept, the body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body_len: u64,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Bytes of the PUT body pattern.
pub const PATTERN_LEN: usize = 1 << 20;

/// The byte at `offset` of every object the bench writes.
pub fn pattern_byte(pattern: &[u8], offset: u64) -> u8 {
    pattern[(offset % PATTERN_LEN as u64) as usize]
}

/// The body pattern: not constant, so no layer can shortcut it.
pub fn make_pattern() -> Vec<u8> {
    (0..PATTERN_LEN)
        .map(|i| (i as u8).wrapping_mul(31) ^ (i >> 11) as u8)
        .collect()
}

impl Client {
    /// A client of `addr`; `ca` (a PEM file) makes it speak TLS to `127.0.0.1`.
    pub fn new(
        addr: SocketAddr,
        ca: Option<&Path>,
        host: &str,
        auth: Auth,
        pattern: Arc<Vec<u8>>,
    ) -> anyhow::Result<Self> {
        let tls = match ca {
            None => None,
            Some(ca) => {
                let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
                let mut roots = RootCertStore::empty();
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    roots.add(cert.context("CA certificate")?)?;
                }
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
            }
        };
        Ok(Client {
            addr,
            tls,
            host: host.to_string(),
            auth,
            pattern,
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    fn authorization(&self, method: &str, target: &str) -> Option<String> {
        let Auth::Cos { id, secret } = &self.auth else {
            return None;
        };
        // The query's parameters are signed too: the emulator refuses a sub-resource
        // (`?uploads`, `?uploadId=`) that q-url-param-list does not cover.
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (cos_encode(&k.to_lowercase()), cos_encode(v))
            })
            .collect();
        params.sort();
        let param_list = params
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let param_string = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let time = format!("{};{}", now - 60, now + 3600);
        let http_string = format!(
            "{}\n{path}\n{param_string}\nhost={}\n",
            method.to_lowercase(),
            self.host
        );
        let sts = format!(
            "sha1\n{time}\n{}\n",
            hex::encode(Sha1::digest(http_string.as_bytes()))
        );
        let sig = hmac_hex(hmac_hex(secret.as_bytes(), &time).as_bytes(), &sts);
        Some(format!(
            "q-sign-algorithm=sha1&q-ak={id}&q-sign-time={time}&q-key-time={time}\
             &q-header-list=host&q-url-param-list={param_list}&q-signature={sig}"
        ))
    }

    async fn connect(&self) -> anyhow::Result<Box<dyn Io>> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        tcp.set_nodelay(true)?;
        Ok(match &self.tls {
            None => Box::new(tcp),
            Some(connector) => {
                let name = ServerName::from(self.addr.ip());
                Box::new(
                    connector
                        .connect(name, tcp)
                        .await
                        .context("TLS handshake")?,
                )
            }
        })
    }

    /// Sends one request: `target` is path and query, `body` either bytes or a length of
    /// pattern to stream. Keeps the response body when `keep_body` (small replies).
    pub async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(String, String)],
        body: Body<'_>,
        keep_body: bool,
    ) -> anyhow::Result<Reply> {
        let len = match body {
            Body::Bytes(b) => b.len() as u64,
            Body::Pattern(n) => n,
        };
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {len}\r\nConnection: close\r\n",
            self.host
        );
        if let Some(a) = self.authorization(method, target) {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut io = self.connect().await?;
        io.write_all(head.as_bytes()).await?;
        match body {
            Body::Bytes(b) => io.write_all(b).await?,
            Body::Pattern(mut left) => {
                while left > 0 {
                    let n = left.min(PATTERN_LEN as u64) as usize;
                    io.write_all(&self.pattern[..n]).await?;
                    left -= n as u64;
                }
            }
        }
        io.flush().await?;
        read_reply(&mut io, keep_body).await
    }
}

/// A request body.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// These bytes.
    Bytes(&'a [u8]),
    /// This many bytes of the pattern.
    Pattern(u64),
}

async fn read_reply(io: &mut Box<dyn Io>, keep_body: bool) -> anyhow::Result<Reply> {
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    let mut body_len = 0u64;
    let mut body = Vec::new();
    let mut in_body = false;
    loop {
        let n = match io.read(&mut buf).await {
            Ok(n) => n,
            // A TLS peer that closes without close_notify after the whole reply.
            Err(e) if in_body && e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            break;
        }
        let mut piece = &buf[..n];
        if !in_body {
            head.extend_from_slice(piece);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let rest = head.split_off(end + 4);
            in_body = true;
            body_len += rest.len() as u64;
            if keep_body {
                body.extend_from_slice(&rest);
            }
            piece = &[];
        }
        body_len += piece.len() as u64;
        if keep_body {
            body.extend_from_slice(piece);
        }
    }
    if !in_body {
        bail!("the connection closed before a whole response head arrived");
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body_len,
        body,
    })
}

/// COS v5's encoding of a query key or value: every byte but the unreserved ones
/// (`A-Z a-z 0-9 - _ . ~`) as `%XX`.
fn cos_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hmac_hex(key: &[u8], msg: &str) -> String {
    let mut m = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}
