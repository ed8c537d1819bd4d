//! End-to-end throughput of the emulator over loopback HTTP: PUT and GET of one object,
//! plain vs SSE-COS AES256 vs SSE-COS SM4, measured in one run and reported as ratios to
//! the plain figures (DESIGN.md: "Benchmarks report ratios taken in one run").
//!
//! `cargo bench -p cos-emulator --bench throughput` (optionally `-- <MiB>`, default 64).
//! The server runs in-process on a multi-threaded runtime; the client is a raw HTTP/1.1
//! writer/reader that streams the body and counts the response bytes, so the figures are
//! the emulator's (MD5, CRC-64, cipher, fsync), not a client library's.

use std::time::Instant;

use cos_emulator::{Account, EmulatorConfig};
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ID: &str = "AKIDBENCH";
const SECRET: &str = "bench-secret";
const BUCKET: &str = "bench-1250000000";
const HOST: &str = "bench-1250000000.cos.ap-beijing.myqcloud.com";

fn hmac_hex(key: &[u8], msg: &str) -> String {
    let mut m = Hmac::<Sha1>::new_from_slice(key).expect("any key length");
    m.update(msg.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// A COS v5 Authorization signing only `host` (enough for the emulator; the bench measures
/// bodies, not signatures).
fn authorization(method: &str, path: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let time = format!("{};{}", now - 60, now + 3600);
    let http_string = format!("{}\n{path}\n\nhost={HOST}\n", method.to_lowercase());
    let sts = format!(
        "sha1\n{time}\n{}\n",
        hex::encode(Sha1::digest(http_string.as_bytes()))
    );
    let sig = hmac_hex(hmac_hex(SECRET.as_bytes(), &time).as_bytes(), &sts);
    format!("q-sign-algorithm=sha1&q-ak={ID}&q-sign-time={time}&q-key-time={time}&q-header-list=host&q-url-param-list=&q-signature={sig}")
}

async fn exchange(addr: std::net::SocketAddr, head: String, body_len: usize) -> (String, u64) {
    let mut t = tokio::net::TcpStream::connect(addr).await.expect("connect");
    t.write_all(head.as_bytes()).await.expect("write head");
    let chunk = vec![0x5a_u8; 1 << 20];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        t.write_all(&chunk[..n]).await.expect("write body");
        left -= n;
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut head_text = String::new();
    let mut total = 0u64;
    loop {
        let n = t.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        if head_text.is_empty() {
            head_text = String::from_utf8_lossy(&buf[..n.min(64)]).into_owned();
        }
        total += n as u64;
    }
    (head_text, total)
}

async fn put(addr: std::net::SocketAddr, key: &str, sse: Option<&str>, len: usize) {
    let path = format!("/{key}");
    let sse = sse
        .map(|v| format!("x-cos-server-side-encryption: {v}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len}\r\n{sse}Authorization: {}\r\nConnection: close\r\n\r\n",
        authorization("PUT", &path)
    );
    let (status, _) = exchange(addr, head, len).await;
    assert!(status.starts_with("HTTP/1.1 200"), "PUT {key}: {status}");
}

async fn get(addr: std::net::SocketAddr, key: &str, len: usize) {
    let path = format!("/{key}");
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        authorization("GET", &path)
    );
    let (status, total) = exchange(addr, head, 0).await;
    assert!(status.starts_with("HTTP/1.1 200"), "GET {key}: {status}");
    assert!(total >= len as u64, "GET {key}: {total} bytes");
}

fn main() {
    let mib: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(64);
    let len = mib << 20;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = EmulatorConfig {
            data_dir: dir.path().to_owned(),
            http: Some("127.0.0.1:0".parse().expect("addr")),
            https: None,
            accounts: vec![Account { secret_id: ID.into(), secret_key: SECRET.into(), appid: "1250000000".into() }],
            ..EmulatorConfig::default()
        };
        let emu = cos_emulator::start(config).await.expect("emulator");
        let addr = emu.http_addr().expect("http");
        let head = format!(
            "PUT / HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 0\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            authorization("PUT", "/")
        );
        exchange(addr, head, 0).await;
        println!("{BUCKET}: {mib} MiB per object over loopback HTTP, one stream");
        let mut baseline = (0.0, 0.0);
        for (name, sse) in [("plain", None), ("SSE-COS AES256", Some("AES256")), ("SSE-COS SM4", Some("SM4"))] {
            let key = name.replace(' ', "-");
            let t = Instant::now();
            put(addr, &key, sse, len).await;
            let put_mbs = mib as f64 / t.elapsed().as_secs_f64();
            let t = Instant::now();
            get(addr, &key, len).await;
            let get_mbs = mib as f64 / t.elapsed().as_secs_f64();
            if sse.is_none() {
                baseline = (put_mbs, get_mbs);
            }
            println!(
                "{name:>15}: PUT {put_mbs:7.1} MiB/s ({:.2}x plain)   GET {get_mbs:7.1} MiB/s ({:.2}x plain)",
                put_mbs / baseline.0,
                get_mbs / baseline.1
            );
        }
        emu.shutdown().await;
    });
}
