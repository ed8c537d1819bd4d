//! The `cos-emulator serve` binary: start-up lines, the development-credentials warning,
//! a 64 MiB body streamed in bounded memory, and a clean exit 0 on SIGTERM / SIGINT.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::common::*;

struct Running {
    child: Child,
    http: SocketAddr,
    https: SocketAddr,
    cert: String,
    _dir: tempfile::TempDir,
}

fn spawn(extra: &[&str], env_credentials: bool) -> (Running, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cos-emulator"));
    cmd.args(["serve", "--data"])
        .arg(dir.path())
        .args(["--http", "127.0.0.1:0", "--https", "127.0.0.1:0"])
        .args(extra)
        .env_remove("COS_SECRET_ID")
        .env_remove("COS_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if env_credentials {
        cmd.env("COS_SECRET_ID", OWNER.id)
            .env("COS_SECRET_KEY", OWNER.key);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    while lines.len() < 3 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("emulator exited early; stdout so far: {lines:?}");
        }
        lines.push(line.trim().to_string());
    }
    let addr = |prefix: &str| -> SocketAddr {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {lines:?}"))
            .parse()
            .unwrap()
    };
    let running = Running {
        http: addr("listening http://"),
        https: addr("listening https://"),
        cert: lines
            .iter()
            .find_map(|l| l.strip_prefix("certificate "))
            .unwrap()
            .to_string(),
        child,
        _dir: dir,
    };
    (running, lines)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    panic!("the emulator did not exit after the signal");
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn serve_prints_listeners_and_exits_zero_on_sigterm() {
    let (mut run, lines) = spawn(&["--secret-id", OWNER.id, "--secret-key", OWNER.key], false);
    assert!(
        lines[0].starts_with("listening http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("listening https://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(run.cert.ends_with("tls/cert.pem"), "{lines:?}");
    let b = format!("cli-{APPID}");
    let r = send(run.http, &Req::new("PUT", &b, "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send_tls(
        run.https,
        std::path::Path::new(&run.cert),
        &Req::new("HEAD", &b, ""),
    )
    .await;
    assert_eq!(r.status, 200);
    signal(&run.child, "-TERM");
    assert_eq!(wait_exit(&mut run.child).code(), Some(0));
}

#[tokio::test]
async fn development_credentials_with_warning_and_sigint() {
    let (mut run, _) = spawn(&[], false);
    let dev = Creds {
        id: "AKIDCOSEMULATORDEVELOPMENT0000000000",
        key: "cos-emulator-development-secret-key",
    };
    let r = send(
        run.http,
        &Req::new("PUT", "dev-1250000000", "").auth(Auth::Header(dev)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    signal(&run.child, "-INT");
    assert_eq!(wait_exit(&mut run.child).code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(run.child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("warning") && err.contains("AKIDCOSEMULATORDEVELOPMENT0000000000"),
        "{err}"
    );
}

#[tokio::test]
async fn credentials_from_environment_and_bad_arguments() {
    let (mut run, _) = spawn(&[], true);
    let r = send(run.http, &Req::new("PUT", "env-1250000000", "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    signal(&run.child, "-TERM");
    assert_eq!(wait_exit(&mut run.child).code(), Some(0));
    let out = Command::new(env!("CARGO_BIN_EXE_cos-emulator"))
        .args(["serve", "--http", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "behaviour:\n  REGION-SSE: sometimes\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cos-emulator"))
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--https",
            "off",
            "--config",
        ])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REGION-SSE"));
}

/// A 64 MiB PUT and GET through the real binary; its peak RSS stays far below the body size.
#[tokio::test]
async fn large_body_streams_in_bounded_memory() {
    const SIZE: usize = 64 * 1024 * 1024;
    const CHUNK: usize = 1024 * 1024;
    let (mut run, _) = spawn(&["--secret-id", OWNER.id, "--secret-key", OWNER.key], false);
    let b = format!("big-{APPID}");
    assert_eq!(send(run.http, &Req::new("PUT", &b, "")).await.status, 200);
    let before = peak_rss_kib(run.child.id());

    let head = Req::new("PUT", &b, "big")
        .header("Content-Length", &SIZE.to_string())
        .to_bytes();
    let mut t = tokio::net::TcpStream::connect(run.http).await.unwrap();
    t.write_all(&head).await.unwrap();
    let mut md5 = md5::Md5::default();
    for i in 0..SIZE / CHUNK {
        let chunk = pattern(CHUNK, i as u8);
        md5::Digest::update(&mut md5, &chunk);
        t.write_all(&chunk).await.unwrap();
    }
    let r = read_response(&mut t).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = format!("\"{}\"", hex::encode(md5::Digest::finalize(md5)));
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    let r = send(run.http, &Req::new("GET", &b, "big")).await;
    assert_eq!(r.body.len(), SIZE);
    assert_eq!(format!("\"{}\"", md5_hex(&r.body)), etag);
    let peak = peak_rss_kib(run.child.id());
    eprintln!("emulator peak RSS: {before} KiB before, {peak} KiB after a 64 MiB PUT + GET");
    assert!(peak < 40 * 1024, "peak RSS {peak} KiB grows with the body");
    signal(&run.child, "-TERM");
    assert_eq!(wait_exit(&mut run.child).code(), Some(0));
}
