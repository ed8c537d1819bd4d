//! The servers under test, each a real process on loopback ports with a temporary data
//! directory: the `cos-emulator` binary of this build here, and SeaweedFS's `weed server -s3`
//! through the harness the tests share (`tests/support/seaweedfs.rs`), whose HTTPS listener
//! gets a certificate made here ([`generate_certificate`]). Both are killed when dropped. Peak RSS is read from `/proc/PID/status` (`VmHWM`) and reset between phases
//! through `/proc/PID/clear_refs`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context as _};

/// A server process the bench started.
pub struct Process {
    child: Child,
}

impl Process {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Peak resident set size of process `pid` since the last [`reset_peak`], in MiB.
pub fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no VmHWM in {path}"))?;
    Ok(kib / 1024.0)
}

/// Resets the peak RSS of process `pid` to its current RSS (Linux: `5` to `clear_refs`).
pub fn reset_peak(pid: u32) -> anyhow::Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").with_context(|| format!("writing {path}"))
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulator, listening on HTTP and HTTPS.
pub struct Emulator {
    pub process: Process,
    pub http: SocketAddr,
    pub https: SocketAddr,
    /// The generated CA that signs its TLS certificate.
    pub ca: PathBuf,
}

impl Emulator {
    /// Starts `binary serve` on ports picked by the OS, with the given credentials and
    /// `extra` arguments (e.g. `--store`, `--store-option`, `--master-key-file` for a
    /// gateway). Its stderr goes to `DATA.stderr.log`, whose tail a failed start reports.
    pub fn start(
        binary: &Path,
        data: &Path,
        id: &str,
        secret: &str,
        extra: &[OsString],
    ) -> anyhow::Result<Self> {
        let log_path = data.with_extension("stderr.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = Command::new(binary)
            .args(["serve", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .args(["--secret-id", id, "--secret-key", secret])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("emulator stdout")?;
        let process = Process { child };
        let mut lines = BufReader::new(stdout).lines();
        let log_tail = || {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        };
        let mut addr = |prefix: &str| -> anyhow::Result<SocketAddr> {
            let line = match lines.next() {
                Some(line) => line?,
                None => bail!(
                    "cos-emulator exited before it listened; stderr ({}):\n{}",
                    log_path.display(),
                    log_tail()
                ),
            };
            line.strip_prefix(prefix)
                .and_then(|a| a.parse().ok())
                .with_context(|| format!("unexpected first lines of cos-emulator: {line:?}"))
        };
        let http = addr("listening http://")?;
        let https = addr("listening https://")?;
        // Keep reading: a closed pipe would fail the emulator's next line of output.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Emulator {
            process,
            http,
            https,
            ca: data.join("tls").join("ca.pem"),
        })
    }
}

/// PEM files of a generated certificate: a private CA, and a server certificate it signed.
pub struct Certificate {
    /// The CA certificate, for clients to trust.
    pub ca: PathBuf,
    /// The server certificate followed by the CA.
    pub chain: PathBuf,
    /// The server's private key (PKCS#8, mode 0600).
    pub key: PathBuf,
}

/// Generates, under `dir`, a private CA and a certificate it signs for `127.0.0.1` (IP SAN:
/// the client connects by address) with the emulator's own generator
/// (`cos_emulator::tls::generate_certificate`), so both servers' TLS is set up alike: ECDSA
/// P-256, the chain's leaf first.
pub fn generate_certificate(dir: &Path, name: &str) -> anyhow::Result<Certificate> {
    let generated = cos_emulator::tls::generate_certificate(
        &format!("{name} bench CA"),
        name,
        &["127.0.0.1".to_string()],
    )?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = Certificate {
        ca: dir.join("ca.pem"),
        chain: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let write = |path: &Path, text: String, mode: u32| -> anyhow::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))
    };
    write(&out.ca, generated.ca, 0o644)?;
    write(&out.chain, generated.chain, 0o644)?;
    write(&out.key, generated.key, 0o600)?;
    Ok(out)
}
