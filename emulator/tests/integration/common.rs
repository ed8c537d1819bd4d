//! Test harness: an emulator on port 0 with its own temp data dir, a raw HTTP/1.1 client
//! (plain and TLS) that sends exactly the bytes a test builds, and an independent COS v5
//! signer (deliberately not the emulator's: a shared misreading would cancel out).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cos_emulator::{Account, Emulator, EmulatorConfig};
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub const APPID: &str = "1250000000";
pub const REGION: &str = "ap-beijing";

/// Credentials.
#[derive(Debug, Clone)]
pub struct Creds {
    pub id: &'static str,
    pub key: &'static str,
}

/// The owner of every test bucket.
pub const OWNER: Creds = Creds {
    id: "AKIDTESTOWNER000000000000000000000000",
    key: "test-owner-secret",
};
/// Another account (appid 1250000001).
pub const OTHER: Creds = Creds {
    id: "AKIDTESTOTHER000000000000000000000000",
    key: "test-other-secret",
};

pub fn accounts() -> Vec<Account> {
    vec![
        Account {
            secret_id: OWNER.id.into(),
            secret_key: OWNER.key.into(),
            appid: APPID.into(),
        },
        Account {
            secret_id: OTHER.id.into(),
            secret_key: OTHER.key.into(),
            appid: "1250000001".into(),
        },
    ]
}

/// A running emulator with its data dir.
pub struct Server {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub cert: PathBuf,
}

pub fn config(dir: &Path) -> EmulatorConfig {
    EmulatorConfig {
        data_dir: dir.to_owned(),
        http: Some("127.0.0.1:0".parse().unwrap()),
        https: Some("127.0.0.1:0".parse().unwrap()),
        accounts: accounts(),
        default_region: REGION.into(),
        ..EmulatorConfig::default()
    }
}

impl Server {
    pub async fn start() -> Server {
        Self::start_in(tempfile::tempdir().unwrap()).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Server {
        Self::start_with(dir, |_| {}).await
    }

    /// Starts with a changed configuration (behaviour switches, regions).
    pub async fn start_with(
        dir: tempfile::TempDir,
        change: impl FnOnce(&mut EmulatorConfig),
    ) -> Server {
        let mut cfg = config(dir.path());
        change(&mut cfg);
        let emu = cos_emulator::start(cfg).await.expect("emulator starts");
        Server {
            http: emu.http_addr().unwrap(),
            https: emu.https_addr().unwrap(),
            cert: emu.cert_path().to_owned(),
            emu,
            dir,
        }
    }

    /// Starts in a fresh data dir with one behaviour switch (`rule`, e.g. `SSEC-MD5-OLD`)
    /// set to `value`.
    pub async fn start_switched(rule: &str, value: &str) -> Server {
        Self::start_with(tempfile::tempdir().unwrap(), |c| {
            c.behaviour.insert(rule.into(), value.into());
        })
        .await
    }

    /// Shuts down and hands back the data dir (for restart tests).
    pub async fn stop(self) -> tempfile::TempDir {
        self.emu.shutdown().await;
        self.dir
    }

    pub async fn send(&self, req: &Req) -> Resp {
        send(self.http, req).await
    }

    pub async fn send_tls(&self, req: &Req) -> Resp {
        send_tls(self.https, &self.cert, req).await
    }

    /// Creates a bucket owned by OWNER and asserts success.
    pub async fn bucket(&self, name: &str) -> String {
        let bucket = format!("{name}-{APPID}");
        let r = self.send(&Req::new("PUT", &bucket, "")).await;
        assert_eq!(r.status, 200, "create bucket: {}", r.text());
        bucket
    }

    /// PUT of `body` at `key`, asserting success.
    pub async fn put(&self, bucket: &str, key: &str, body: &[u8]) -> Resp {
        let r = self.send(&Req::new("PUT", bucket, key).body(body)).await;
        assert_eq!(r.status, 200, "put {key}: {}", r.text());
        r
    }

    /// Every file under the data dir.
    pub fn files(&self) -> Vec<PathBuf> {
        files_under(self.dir.path())
    }
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// How a request is authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    Header(Creds),
    Presigned(Creds),
}

/// A request, as bytes-to-be.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub host: String,
    /// `/` + key, not encoded.
    pub key_path: String,
    /// Overrides the encoded request path (path-style tests).
    pub raw_path: Option<String>,
    /// Decoded query parameters; `None` value = bare name.
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub auth: Auth,
    /// Sign-time window; default now-60 .. now+3600.
    pub window: Option<(i64, i64)>,
    /// Headers to put in q-header-list that are not sent.
    pub phantom_signed: Vec<String>,
    /// Secret used to sign instead of the credential's own.
    pub wrong_secret: bool,
    /// Send this Authorization header verbatim.
    pub raw_authorization: Option<String>,
}

pub fn vhost(bucket: &str) -> String {
    format!("{bucket}.cos.{REGION}.myqcloud.com")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Req {
    /// A signed (OWNER) request to `bucket` (virtual host) and `key` ("" = bucket level).
    pub fn new(method: &str, bucket: &str, key: &str) -> Req {
        Req {
            method: method.into(),
            host: if bucket.is_empty() {
                format!("cos.{REGION}.myqcloud.com")
            } else {
                vhost(bucket)
            },
            key_path: format!("/{key}"),
            raw_path: None,
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            auth: Auth::Header(OWNER),
            window: None,
            phantom_signed: Vec::new(),
            wrong_secret: false,
            raw_authorization: None,
        }
    }

    /// The same request addressed to `bucket` in another region (virtual host).
    pub fn region(mut self, bucket: &str, region: &str) -> Req {
        self.host = format!("{bucket}.cos.{region}.myqcloud.com");
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Req {
        self.query.push((name.into(), Some(value.into())));
        self
    }

    pub fn bare(mut self, name: &str) -> Req {
        self.query.push((name.into(), None));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Req {
        self.body = body.to_vec();
        self
    }

    pub fn auth(mut self, auth: Auth) -> Req {
        self.auth = auth;
        self
    }

    pub fn host(mut self, host: &str) -> Req {
        self.host = host.into();
        self
    }

    fn all_headers(&self) -> Vec<(String, String)> {
        let mut h = vec![("Host".to_string(), self.host.clone())];
        h.extend(self.headers.iter().cloned());
        let has_len = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        if !has_len && (!self.body.is_empty() || self.method == "PUT" || self.method == "POST") {
            h.push(("Content-Length".into(), self.body.len().to_string()));
        }
        h
    }

    /// The signature fields for this request (header form: `a=b&c=d`).
    fn authorization(&self, creds: &Creds, headers: &[(String, String)]) -> String {
        let (t0, t1) = self.window.unwrap_or((now() - 60, now() + 3600));
        let mut signed: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .filter(|(n, _)| {
                n == "host"
                    || n.starts_with("x-cos-")
                    || n.starts_with("content-")
                    || n == "range"
                    || n.starts_with("if-")
            })
            .collect();
        for p in &self.phantom_signed {
            signed.push((p.clone(), "phantom".into()));
        }
        let params: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone().unwrap_or_default()))
            .collect();
        let key = if self.wrong_secret {
            "not-the-secret"
        } else {
            creds.key
        };
        sign(
            &self.method,
            &self.key_path,
            &params,
            &signed,
            creds.id,
            key,
            t0,
            t1,
        )
    }

    /// Request line, headers and body as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let headers = self.all_headers();
        let mut query: Vec<String> = self
            .query
            .iter()
            .map(|(n, v)| match v {
                Some(v) => format!("{}={}", enc(n), enc(v)),
                None => enc(n),
            })
            .collect();
        let mut extra_headers = Vec::new();
        match &self.auth {
            Auth::Anonymous => {}
            Auth::Header(c) => {
                let a = self
                    .raw_authorization
                    .clone()
                    .unwrap_or_else(|| self.authorization(c, &headers));
                extra_headers.push(("Authorization".to_string(), a));
            }
            Auth::Presigned(c) => {
                let a = self.authorization(c, &headers);
                for pair in a.split('&') {
                    let (n, v) = pair.split_once('=').unwrap();
                    query.push(format!("{n}={}", enc(v)));
                }
            }
        }
        let path = self
            .raw_path
            .clone()
            .unwrap_or_else(|| enc_path(&self.key_path));
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let mut out = format!("{} {}{} HTTP/1.1\r\n", self.method, path, q);
        for (n, v) in headers.iter().chain(extra_headers.iter()) {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Percent-encodes all but `A-Za-z0-9-_.~` (COS signing and query encoding).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a path, keeping `/`.
pub fn enc_path(p: &str) -> String {
    p.split('/').map(enc).collect::<Vec<_>>().join("/")
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<Sha1>::new_from_slice(key).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

/// An independent COS v5 signer (PROTOCOL.md).
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    key_path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    id: &str,
    secret: &str,
    t0: i64,
    t1: i64,
) -> String {
    let join = |pairs: &[(String, String)]| {
        let mut e: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (enc(n).to_lowercase(), enc(v)))
            .collect();
        e.sort();
        let list = e
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
            .join(";");
        let s = e
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        (list, s)
    };
    let (plist, pstr) = join(params);
    let (hlist, hstr) = join(headers);
    let http_string = format!(
        "{}\n{}\n{}\n{}\n",
        method.to_lowercase(),
        key_path,
        pstr,
        hstr
    );
    let time = format!("{t0};{t1}");
    let sts = format!(
        "sha1\n{time}\n{}\n",
        hex::encode(Sha1::digest(http_string.as_bytes()))
    );
    let sign_key = hmac_hex(secret.as_bytes(), time.as_bytes());
    let sig = hmac_hex(sign_key.as_bytes(), sts.as_bytes());
    format!(
        "q-sign-algorithm=sha1&q-ak={id}&q-sign-time={time}&q-key-time={time}&q-header-list={hlist}&q-url-param-list={plist}&q-signature={sig}"
    )
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status line and headers as received (names in their wire spelling).
    pub raw_head: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `<Code>` of an error document.
    pub fn code(&self) -> Option<String> {
        let t = self.text();
        let s = t.find("<Code>")? + 6;
        let e = t[s..].find("</Code>")? + s;
        Some(t[s..e].to_string())
    }

    /// Asserts an error status and code, and the COS error document shape.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status,
            status,
            "expected {status} {code}, got: {}",
            self.text()
        );
        assert_eq!(self.code().as_deref(), Some(code), "{}", self.text());
        assert!(self.text().contains("<RequestId>"), "{}", self.text());
        assert!(self.header("x-cos-request-id").is_some());
        assert_eq!(self.header("content-type"), Some("application/xml"));
    }
}

/// Reads a whole HTTP/1.1 response (the server closes the connection after it).
pub async fn read_response<S: AsyncRead + Unpin>(stream: &mut S) -> Resp {
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw).await {
        Ok(_) => {}
        // TLS peers may close without close_notify after a complete response.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) if !raw.is_empty() => eprintln!("read ended with {e}"),
        Err(e) => panic!("reading the response: {e}"),
    }
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")),
        "responses carry Content-Length"
    );
    Resp {
        raw_head: head.to_string(),
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, req: &Req) -> Resp {
    stream.write_all(&req.to_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    read_response(&mut stream).await
}

/// Sends over plain HTTP.
pub async fn send(addr: SocketAddr, req: &Req) -> Resp {
    exchange(TcpStream::connect(addr).await.unwrap(), req).await
}

/// A TLS connector trusting `cert` (the emulator's PEM).
pub fn tls_connector(cert: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(cert).unwrap();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Sends over HTTPS, verifying the certificate for the request's Host name.
pub async fn send_tls(addr: SocketAddr, cert: &Path, req: &Req) -> Resp {
    let name = req.host.split(':').next().unwrap().to_string();
    let server_name = rustls::pki_types::ServerName::try_from(name).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = tls_connector(cert)
        .connect(server_name, tcp)
        .await
        .expect("TLS handshake with the generated certificate");
    exchange(tls, req).await
}

/// MD5 hex.
pub fn md5_hex(b: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(b))
}

/// Deterministic pseudo-random bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64).wrapping_mul(2654435761) >> 13) as u8 ^ seed)
        .collect()
}
