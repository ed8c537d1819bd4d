//! The servers under test, each a real process on loopback ports with a temporary data
//! directory: the `cos-emulator` binary of this build, and SeaweedFS's `weed server -s3`.
//! Both are killed when dropped. Peak RSS is read from `/proc/PID/status` (`VmHWM`) and
//! reset between phases through `/proc/PID/clear_refs`.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// A server process the bench started.
pub struct Process {
    child: Child,
    what: &'static str,
}

impl Process {
    /// Peak resident set size since the last [`Process::reset_peak`], in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no VmHWM in {path}"))?;
        Ok(kib / 1024.0)
    }

    /// Resets the peak RSS to the current RSS (Linux: `5` to `clear_refs`).
    pub fn reset_peak(&self) -> anyhow::Result<()> {
        let path = format!("/proc/{}/clear_refs", self.child.id());
        std::fs::write(&path, "5").with_context(|| format!("writing {path}"))
    }

    /// Fails when the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited during the benchmark: {status}", self.what);
        }
        Ok(())
    }
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
    /// Starts `binary serve` on ports picked by the OS, with the given credentials.
    pub fn start(binary: &Path, data: &Path, id: &str, secret: &str) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .args(["serve", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0"])
            .arg("--data")
            .arg(data)
            .args(["--secret-id", id, "--secret-key", secret])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("emulator stdout")?;
        let process = Process {
            child,
            what: "cos-emulator",
        };
        let mut lines = BufReader::new(stdout).lines();
        let mut addr = |prefix: &str| -> anyhow::Result<SocketAddr> {
            let line = lines
                .next()
                .context("cos-emulator exited before it listened")??;
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

/// `weed server` with its S3 gateway.
pub struct Seaweed {
    pub process: Process,
    pub s3: SocketAddr,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Seaweed {
    /// Starts master, volume, filer and S3 gateway in one process on free loopback ports,
    /// storing under `data`, and waits until the S3 port answers.
    pub fn start(weed: &Path, data: &Path, log: &Path) -> anyhow::Result<Self> {
        let (master, volume, filer, s3) = (free_port()?, free_port()?, free_port()?, free_port()?);
        // Each gRPC port is its HTTP port + 10000: keep those free too by staying low.
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(weed)
            .arg("server")
            .arg(format!("-dir={}", data.display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .arg(format!("-s3.port={s3}"))
            .arg("-volume.max=0")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", weed.display()))?;
        let mut process = Process {
            child,
            what: "weed server",
        };
        let s3: SocketAddr = ([127, 0, 0, 1], s3).into();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            process
                .check_alive()
                .with_context(|| format!("see {}", log.display()))?;
            if std::net::TcpStream::connect(s3).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "weed's S3 port {s3} did not open in 60 s; see {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(Seaweed { process, s3 })
    }
}

/// Where `weed` is: `--weed PATH`, else what `scripts/setup-seaweedfs.sh` installs (it
/// runs the script, which is offline once installed).
pub fn find_weed(given: Option<&Path>, repo: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_owned());
    }
    let script = repo.join("scripts").join("setup-seaweedfs.sh");
    let out = Command::new("bash")
        .arg(&script)
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
        .context("setup-seaweedfs.sh printed no path")?;
    Ok(PathBuf::from(path.trim()))
}
