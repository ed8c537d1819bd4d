//! Throughput of the real `cos-emulator` binary over loopback HTTP and HTTPS, every SSE
//! mode and algorithm against plain, with SeaweedFS (`weed server -s3`) as a peer over HTTP
//! and HTTPS too, all through one client and measured in one run (DESIGN.md: "Benchmarks
//! report ratios taken in one run").
//!
//! ```text
//! cargo bench -p cos-emulator --bench compare -- [--quick] [--sizes 1M,64M,1G]
//!     [--reps 3] [--parts 100] [--clients 4] [--modes plain,sse-c-aes256,...]
//!     [--transports http,https] [--no-seaweed] [--gateways] [--weed PATH] [--dir DIR]
//! ```
//!
//! `weed` is `--weed PATH`, else `$COS_WEED`, else what `scripts/setup-seaweedfs.sh`
//! installs; SeaweedFS runs through the tests' harness (`tests/support/seaweedfs.rs`), with
//! its S3 gateway anonymous, serving HTTP and, in the same process, HTTPS with a
//! certificate this bench generates (a private CA the client trusts, as it trusts the
//! emulator's). SeaweedFS is measured plain and SSE-C AES256 on both transports; the
//! emulator refuses SSE-C over HTTP (SSEC-HTTPS), so its SSE-C rows are HTTPS only.
//!
//! Per server, transport, size and mode: PUT and GET in MB/s, a 1-byte Range GET in the
//! middle (ms; the median of 7 per round), Complete Multipart Upload of `--parts` parts
//! of the server's minimum part size (ms), each the median of `--reps` interleaved
//! repetitions (every row once per round) with its spread, and the ratio to plain of the
//! same round's server and transport. After the table, the emulator against SeaweedFS on
//! the same transport, size and mode (SSE-C AES256, and plain for context), as medians of
//! per-round ratios. Then the peak RSS of each server while `--clients` clients PUT the
//! largest size at once. Also printed: the machine, its load, MD5 on one core, the
//! in-memory cipher throughput and, after the targets, the store's disk writing and
//! fsyncing each large size (`disk_bound`), so the figures can be read against their
//! bounds.
//!
//! `--modes` and `--transports` make targeted runs cheap: only the rows of these modes
//! (names as the table prints them, any case, spaces or hyphens: `plain`, `sse-cos-aes256`,
//! `sse-cos-sm4`, `sse-kms-aes256`, `sse-kms-sm4`, `sse-c-aes256`, `sse-c-sm4`) and
//! transports, plus plain of every server and transport that keeps a row, since every
//! ratio is to plain of the same round. SeaweedFS is not started when none of its rows
//! are left.
//!
//! `--gateways` (opt-in: at the default 1 GiB it would double the run and the disk) adds a
//! second table, what the object-store backend costs: a second SeaweedFS with S3 auth
//! (generated keys) holds one backend bucket, and two `cos-emulator serve --store
//! s3://BUCKET/bench` gateways (A, B) share it and one `--master-key-file` in the bench's
//! temporary directory (A creates it). PUT, GET and the Range GET are measured in the same
//! rounds as the main table, plain, SSE-COS AES256 and SSE-KMS AES256 over HTTP and plain
//! and SSE-C AES256 over HTTPS, through the local store (the main table's rows), gateway A
//! alone, and A+B (the PUT through one gateway, GET and Range through the other, swapped
//! every round). Each row's ratio to the local store's same transport, size and mode, to
//! SeaweedFS direct (the main table's SeaweedFS row: the backend's own speed) and to plain
//! through the same gateway, is the median of the per-round ratios. After the rounds a
//! gateway C behind a counting proxy does each operation once, and the backend requests
//! (and round trips) per client request are printed ([`backend_requests`]); the gateway
//! targets are in [`gateway_targets`].

mod backend_requests;
mod client;
mod disk_bound;
/// The counting proxy in front of gateway C (the tests' fault proxy, forwarding everything).
#[allow(dead_code)]
#[path = "../../tests/support/fault_proxy.rs"]
mod fault_proxy;
mod gateway_targets;
/// The SeaweedFS harness shared with the tests.
#[path = "../../tests/support/seaweedfs.rs"]
mod seaweedfs;
mod servers;
mod sm4_targets;
mod sse_targets;
mod table;
mod verdict;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use base64::Engine as _;
use md5::{Digest as _, Md5};

use client::{Auth, Body, Client, Reply};
use table::Row;

const ID: &str = "AKIDBENCHCOMPARE";
const SECRET: &str = "bench-compare-secret";
const BUCKET: &str = "bench-1250000000";
const COS_HOST: &str = "bench-1250000000.cos.ap-beijing.myqcloud.com";
const S3_BUCKET: &str = "bench";
/// The gateways' bucket in their SeaweedFS, and the names of their rows.
const GATEWAY_BACKEND: &str = "cos-gateway-bench";
const GATEWAY_A: &str = "gateway A";
const GATEWAY_B: &str = "gateway B";
const GATEWAYS_AB: &str = "gateways A+B";
/// The gateway whose backend requests are counted (behind a proxy; no timed rows).
const GATEWAY_C: &str = "gateway C";
/// The SSE-C key every SSE-C request carries (32 bytes).
const CUSTOMER_KEY: [u8; 32] = *b"cos-sse-conformance-bench-key-32";

/// What `--help` prints; the top of this file says more.
const USAGE: &str = "\
usage: cargo bench -p cos-emulator --bench compare -- [OPTIONS]
  --quick                 sizes 1M,8M and --parts 10
  --sizes 1M,64M,1G       object sizes (K, M, G)
  --reps 3                interleaved rounds; medians over them
  --parts 100             parts of the timed Complete Multipart Upload
  --clients 4             concurrent PUTs of the peak-RSS phase
  --modes a,b,...         only these modes (plus plain): plain, sse-cos-aes256, sse-cos-sm4,
                          sse-kms-aes256, sse-kms-sm4, sse-c-aes256, sse-c-sm4
  --transports http,https only these transports
  --no-seaweed            without the SeaweedFS rows
  --gateways              add the object-store gateway table (a second SeaweedFS)
  --weed PATH             the weed binary (else $COS_WEED, else scripts/setup-seaweedfs.sh)
  --dir DIR               where the servers keep their data (else the temp dir)
environment: COS_WEED (the weed binary), COS_BENCH_EMULATOR (the cos-emulator binary
measured, else the one built with the bench)";

/// The `cos-emulator` binary measured: `$COS_BENCH_EMULATOR` when set (another build,
/// for a before/after comparison in one bench build), else the one cargo built with the
/// bench.
fn emulator_binary() -> PathBuf {
    std::env::var_os("COS_BENCH_EMULATOR")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_cos-emulator")),
            PathBuf::from,
        )
}

/// Options of one run.
struct Options {
    sizes: Vec<u64>,
    reps: usize,
    parts: usize,
    clients: usize,
    filter: Filter,
    seaweed: bool,
    gateways: bool,
    weed: Option<PathBuf>,
    dir: Option<PathBuf>,
}

fn parse_size(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .with_context(|| format!("size {s:?}: expected e.g. 1M, 64M, 1G"))?;
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        other => bail!("size {s:?}: unknown unit {other:?} (K, M or G)"),
    };
    Ok(n << shift)
}

fn parse_args() -> anyhow::Result<Options> {
    let mut o = Options {
        sizes: vec![1 << 20, 64 << 20, 1 << 30],
        reps: 3,
        parts: 100,
        clients: 4,
        filter: Filter::default(),
        seaweed: true,
        gateways: false,
        weed: None,
        dir: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            "--quick" => {
                o.sizes = vec![1 << 20, 8 << 20];
                o.parts = 10;
            }
            "--sizes" => {
                o.sizes = value("--sizes")?
                    .split(',')
                    .map(parse_size)
                    .collect::<anyhow::Result<_>>()?;
            }
            "--reps" => o.reps = value("--reps")?.parse().context("--reps")?,
            "--parts" => o.parts = value("--parts")?.parse().context("--parts")?,
            "--clients" => o.clients = value("--clients")?.parse().context("--clients")?,
            "--modes" => o.filter.modes = Some(parse_modes(&value("--modes")?)?),
            "--transports" => o.filter.transports = parse_transports(&value("--transports")?)?,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--no-seaweed" => o.seaweed = false,
            "--gateways" => o.gateways = true,
            "--weed" => o.weed = Some(value("--weed")?.into()),
            "--dir" => o.dir = Some(value("--dir")?.into()),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    if o.sizes.is_empty() || o.reps == 0 || o.clients == 0 || !(1..=10_000).contains(&o.parts) {
        bail!("--sizes, --reps and --clients must be non-empty/positive, --parts 1..=10000");
    }
    Ok(o)
}

/// A mode's name as `--modes` spells it: the table's, lower case, spaces as hyphens.
fn mode_key(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace([' ', '_'], "-")
}

/// `--modes`: names of [`Mode::ALL`] (any case; spaces, hyphens or underscores).
fn parse_modes(list: &str) -> anyhow::Result<Vec<String>> {
    let mut valid: Vec<String> = Vec::new();
    for key in Mode::ALL.iter().map(|m| mode_key(m.name())) {
        if !valid.contains(&key) {
            valid.push(key);
        }
    }
    let mut out = Vec::new();
    for name in list.split(',').map(mode_key) {
        if !valid.contains(&name) {
            bail!(
                "--modes: unknown mode {name:?}; valid: {}",
                valid.join(", ")
            );
        }
        out.push(name);
    }
    Ok(out)
}

/// `--transports`: `http`, `https` or both.
fn parse_transports(list: &str) -> anyhow::Result<Vec<&'static str>> {
    let mut out = Vec::new();
    for name in list.split(',').map(|t| t.trim().to_ascii_lowercase()) {
        out.push(match name.as_str() {
            "http" => "http",
            "https" => "https",
            _ => bail!("--transports: unknown transport {name:?}; valid: http, https"),
        });
    }
    Ok(out)
}

/// Which rows a run measures (`--modes`, `--transports`).
struct Filter {
    /// Mode names ([`mode_key`]); `None`: all.
    modes: Option<Vec<String>>,
    transports: Vec<&'static str>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            modes: None,
            transports: vec!["http", "https"],
        }
    }
}

impl Filter {
    /// The modes of `all` a target on `scheme` measures: none when the transport is not
    /// selected, else the selected ones, with plain (when `all` has it) whenever any is
    /// measured, since every ratio is to plain of the same round. In `all`'s order.
    fn select(&self, scheme: &str, all: &[Mode]) -> Vec<Mode> {
        if !self.transports.contains(&scheme) {
            return vec![];
        }
        let Some(names) = &self.modes else {
            return all.to_vec();
        };
        let chosen = |m: &Mode| names.contains(&mode_key(m.name()));
        if !all.iter().any(chosen) {
            return vec![];
        }
        all.iter()
            .copied()
            .filter(|m| *m == Mode::Plain || chosen(m))
            .collect()
    }
}

/// What a request asks of the server's encryption.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    CosAes,
    CosSm4,
    KmsAes,
    KmsSm4,
    CustomerAes,
    CustomerSm4,
    /// SSE-C as S3 spells it (SeaweedFS).
    S3Customer,
}

impl Mode {
    /// Every mode, in the table's order.
    const ALL: [Mode; 8] = [
        Mode::Plain,
        Mode::CosAes,
        Mode::CosSm4,
        Mode::KmsAes,
        Mode::KmsSm4,
        Mode::CustomerAes,
        Mode::CustomerSm4,
        Mode::S3Customer,
    ];

    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::CosAes => "SSE-COS AES256",
            Mode::CosSm4 => "SSE-COS SM4",
            Mode::KmsAes => "SSE-KMS AES256",
            Mode::KmsSm4 => "SSE-KMS SM4",
            Mode::CustomerAes => "SSE-C AES256",
            Mode::CustomerSm4 => "SSE-C SM4",
            Mode::S3Customer => "SSE-C AES256",
        }
    }

    fn customer(self) -> bool {
        matches!(
            self,
            Mode::CustomerAes | Mode::CustomerSm4 | Mode::S3Customer
        )
    }

    /// Headers of an upload (PUT, Initiate).
    fn upload_headers(self) -> Vec<(String, String)> {
        let h = |k: &str, v: &str| (k.to_string(), v.to_string());
        match self {
            Mode::Plain => vec![],
            Mode::CosAes => vec![h("x-cos-server-side-encryption", "AES256")],
            Mode::CosSm4 => vec![h("x-cos-server-side-encryption", "SM4")],
            Mode::KmsAes => vec![h("x-cos-server-side-encryption", "cos/kms")],
            Mode::KmsSm4 => vec![
                h("x-cos-server-side-encryption", "cos/kms"),
                h("x-cos-server-side-encryption-cos-kms-algorithm", "SM4"),
            ],
            Mode::CustomerAes | Mode::CustomerSm4 | Mode::S3Customer => self.key_headers(),
        }
    }

    /// Headers every request on an SSE-C object carries (GET, Upload Part).
    fn key_headers(self) -> Vec<(String, String)> {
        let (prefix, alg) = match self {
            Mode::CustomerAes => ("x-cos", "AES256"),
            Mode::CustomerSm4 => ("x-cos", "SM4"),
            Mode::S3Customer => ("x-amz", "AES256"),
            _ => return vec![],
        };
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        vec![
            (
                format!("{prefix}-server-side-encryption-customer-algorithm"),
                alg.into(),
            ),
            (
                format!("{prefix}-server-side-encryption-customer-key"),
                b64(&CUSTOMER_KEY),
            ),
            (
                format!("{prefix}-server-side-encryption-customer-key-MD5"),
                b64(&Md5::digest(CUSTOMER_KEY)),
            ),
        ]
    }
}

/// One server on one transport, with the modes it is measured in.
struct Target {
    server: &'static str,
    client: Client,
    bucket: &'static str,
    modes: Vec<Mode>,
    /// The server's smallest part but the last: COS 1 MiB, S3 5 MiB.
    part_size: u64,
    /// Prefix of its object keys (targets sharing one store keep apart).
    prefix: &'static str,
    /// A+B: the index of the other gateway's target; the PUT goes through one and GET
    /// and Range through the other, swapped every round.
    reader: Option<usize>,
}

impl Target {
    /// Whether its rows belong to the gateway table.
    fn gateway(&self) -> bool {
        [GATEWAY_A, GATEWAY_B, GATEWAYS_AB].contains(&self.server)
    }

    fn path(&self, key: &str) -> String {
        match self.server {
            "SeaweedFS" => format!("/{}/{key}", self.bucket),
            _ => format!("/{key}"),
        }
    }
}

fn expect(reply: &Reply, ok: u16, what: &str) -> anyhow::Result<()> {
    if reply.status != ok {
        bail!(
            "{what}: HTTP {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    Ok(())
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

async fn put(t: &Target, key: &str, mode: Mode, size: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    let r = t
        .client
        .send(
            "PUT",
            &t.path(key),
            &mode.upload_headers(),
            Body::Pattern(size),
            true,
        )
        .await?;
    let secs = start.elapsed().as_secs_f64();
    expect(&r, 200, &format!("{} PUT {key}", t.server))?;
    Ok(mbps(size, secs))
}

async fn get(t: &Target, key: &str, mode: Mode, size: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    let r = t
        .client
        .send(
            "GET",
            &t.path(key),
            &mode.key_headers(),
            Body::Bytes(&[]),
            false,
        )
        .await?;
    let secs = start.elapsed().as_secs_f64();
    if r.status != 200 || r.body_len != size {
        bail!(
            "{} GET {key}: HTTP {}, {} of {size} bytes",
            t.server,
            r.status,
            r.body_len
        );
    }
    Ok(mbps(size, secs))
}

/// 1-byte Range GETs in a round: one request takes about a millisecond, so a single one
/// per round was mostly scheduling noise (spreads of ±100–300%).
const RANGE_SAMPLES: usize = 7;

/// A 1-byte Range GET in the middle, [`RANGE_SAMPLES`] times (each checks its byte);
/// returns the median in milliseconds.
async fn range_get(
    t: &Target,
    key: &str,
    mode: Mode,
    size: u64,
    pattern: &[u8],
) -> anyhow::Result<f64> {
    let mut ms = Vec::with_capacity(RANGE_SAMPLES);
    for _ in 0..RANGE_SAMPLES {
        ms.push(range_get_once(t, key, mode, size, pattern).await?);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms[RANGE_SAMPLES / 2])
}

/// One 1-byte Range GET in the middle; checks the byte. Returns milliseconds.
async fn range_get_once(
    t: &Target,
    key: &str,
    mode: Mode,
    size: u64,
    pattern: &[u8],
) -> anyhow::Result<f64> {
    let mid = size / 2;
    let mut headers = mode.key_headers();
    headers.push(("Range".into(), format!("bytes={mid}-{mid}")));
    let start = Instant::now();
    let r = t
        .client
        .send("GET", &t.path(key), &headers, Body::Bytes(&[]), true)
        .await?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    expect(&r, 206, &format!("{} Range GET {key}", t.server))?;
    if r.body != [client::pattern_byte(pattern, mid)] {
        bail!(
            "{} Range GET {key} bytes={mid}-{mid}: wrong byte {:?}",
            t.server,
            r.body
        );
    }
    Ok(ms)
}

fn xml_value(body: &[u8], tag: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = text[start..].find(&format!("</{tag}>"))? + start;
    Some(text[start..end].to_string())
}

/// Initiates a multipart upload of `key` in `mode`; returns its upload id.
async fn initiate(t: &Target, key: &str, mode: Mode) -> anyhow::Result<String> {
    let r = t
        .client
        .send(
            "POST",
            &format!("{}?uploads", t.path(key)),
            &mode.upload_headers(),
            Body::Bytes(&[]),
            true,
        )
        .await?;
    expect(&r, 200, &format!("{} Initiate {key}", t.server))?;
    xml_value(&r.body, "UploadId").context("no UploadId")
}

/// Initiates, uploads `parts` parts of the server's minimum part size and times Complete. Returns milliseconds.
async fn multipart(t: &Target, key: &str, mode: Mode, parts: usize) -> anyhow::Result<f64> {
    let path = t.path(key);
    let upload = initiate(t, key, mode).await?;
    let mut list = String::from("<CompleteMultipartUpload>");
    for n in 1..=parts {
        let target = format!("{path}?partNumber={n}&uploadId={upload}");
        let r = t
            .client
            .send(
                "PUT",
                &target,
                &mode.key_headers(),
                Body::Pattern(t.part_size),
                true,
            )
            .await?;
        expect(&r, 200, &format!("{} Upload Part {n} of {key}", t.server))?;
        let etag = r.header("etag").context("part without ETag")?.to_string();
        list.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    list.push_str("</CompleteMultipartUpload>");
    let start = Instant::now();
    let r = t
        .client
        .send(
            "POST",
            &format!("{path}?uploadId={upload}"),
            &mode.key_headers(),
            Body::Bytes(list.as_bytes()),
            true,
        )
        .await?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    expect(&r, 200, &format!("{} Complete {key}", t.server))?;
    if String::from_utf8_lossy(&r.body).contains("<Error>") {
        bail!(
            "{} Complete {key}: {}",
            t.server,
            String::from_utf8_lossy(&r.body)
        );
    }
    Ok(ms)
}

/// Peak RSS (MiB) of process `pid` while `clients` clients PUT `size` bytes at once.
async fn rss_under_load(
    t: &Target,
    pid: u32,
    mode: Mode,
    size: u64,
    clients: usize,
) -> anyhow::Result<f64> {
    servers::reset_peak(pid)?;
    let keys: Vec<String> = (0..clients).map(|i| format!("rss-{i}")).collect();
    let puts = keys.iter().map(|k| put(t, k, mode, size));
    for r in futures_util::future::join_all(puts).await {
        r?;
    }
    servers::peak_rss_mib(pid)
}

fn md5_gbps() -> f64 {
    let data = client::make_pattern();
    let start = Instant::now();
    let mut h = Md5::new();
    for _ in 0..256 {
        h.update(&data);
    }
    std::hint::black_box(h.finalize());
    (256u64 << 20) as f64 / 1e9 / start.elapsed().as_secs_f64()
}

fn cipher_gbps(alg: cos_emulator_crypto::Algorithm) -> anyhow::Result<(f64, f64)> {
    use cos_emulator_crypto::{DataKey, Decryptor, Encryptor, NoncePrefix, RangePlan};
    let data = client::make_pattern();
    let rounds = 64u64;
    let key = DataKey::generate()?;
    let prefix = NoncePrefix::generate()?;
    let mut enc = Encryptor::new(alg, &key, prefix);
    let mut stored = Vec::with_capacity(((rounds << 20) + (rounds << 20) / 4096) as usize);
    let start = Instant::now();
    for _ in 0..rounds {
        let mut input = &data[..];
        while let Some(frames) = enc.push(&mut input)? {
            stored.extend_from_slice(frames);
        }
    }
    stored.extend_from_slice(enc.finish()?);
    let e = (rounds << 20) as f64 / 1e9 / start.elapsed().as_secs_f64();
    let mut dec = Decryptor::new(alg, &key, prefix, RangePlan::whole(rounds << 20)?);
    let start = Instant::now();
    let mut n = 0;
    for piece in stored.chunks(256 << 10) {
        let mut input = piece;
        while let Some(plain) = dec.push(&mut input)? {
            n += plain.len();
        }
    }
    dec.finish()?;
    let d = n as f64 / 1e9 / start.elapsed().as_secs_f64();
    Ok((e, d))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cores} cores available")
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn human(size: u64) -> String {
    match size {
        s if s >= 1 << 30 && s % (1 << 30) == 0 => format!("{} GiB", s >> 30),
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("{} MiB", s >> 20),
        s => format!("{s} B"),
    }
}

async fn create_bucket(t: &Target) -> anyhow::Result<()> {
    let path = match t.server {
        "SeaweedFS" => format!("/{}", t.bucket),
        _ => "/".to_string(),
    };
    // A server just started may still be settling: retry for a while.
    let mut last = None;
    for _ in 0..50 {
        match t
            .client
            .send("PUT", &path, &[], Body::Bytes(&[]), true)
            .await
        {
            Ok(r) if r.status == 200 => return Ok(()),
            // The emulator's HTTP and HTTPS targets share one bucket.
            Ok(r) if String::from_utf8_lossy(&r.body).contains("BucketAlreadyOwnedByYou") => {
                return Ok(())
            }
            Ok(r) => {
                last = Some(format!(
                    "HTTP {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                ))
            }
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    bail!("{} PUT Bucket: {}", t.server, last.unwrap_or_default())
}

async fn run(o: Options) -> anyhow::Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = match &o.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let pattern = Arc::new(client::make_pattern());
    let started = time::OffsetDateTime::now_utc();
    println!("# cos-emulator vs SeaweedFS, {}", started.date());
    println!("machine: {}; load average at start: {}", machine(), load());
    let md5 = md5_gbps();
    println!(
        "MD5 on one core: {:.3} GB/s (a plain PUT's bound: 0.8x = {:.0} MB/s)",
        md5,
        md5 * 800.0
    );
    for alg in [
        cos_emulator_crypto::Algorithm::Aes256,
        cos_emulator_crypto::Algorithm::Sm4,
    ] {
        let (e, d) = cipher_gbps(alg)?;
        println!("in-memory {alg:<6} encrypt {e:.3} GB/s, decrypt {d:.3} GB/s (64 MiB, all cores)");
    }

    let emu = servers::Emulator::start(
        &emulator_binary(),
        &tmp.path().join("emulator"),
        ID,
        SECRET,
        &[],
    )?;
    let auth = Auth::Cos {
        id: ID.into(),
        secret: SECRET.into(),
    };
    let cos_modes = [
        Mode::Plain,
        Mode::CosAes,
        Mode::CosSm4,
        Mode::KmsAes,
        Mode::KmsSm4,
    ];
    let filter = &o.filter;
    let mut targets = vec![
        Target {
            server: "cos-emulator",
            client: Client::new(emu.http, None, COS_HOST, auth.clone(), pattern.clone())?,
            bucket: BUCKET,
            modes: filter.select("http", &cos_modes),
            part_size: 1 << 20,
            prefix: "",
            reader: None,
        },
        Target {
            server: "cos-emulator",
            client: Client::new(emu.https, Some(&emu.ca), COS_HOST, auth, pattern.clone())?,
            bucket: BUCKET,
            // SSE-C is refused over plain HTTP (SSEC-HTTPS), so it is measured here only.
            modes: filter.select(
                "https",
                &[&cos_modes[..], &[Mode::CustomerAes, Mode::CustomerSm4]].concat(),
            ),
            part_size: 1 << 20,
            prefix: "",
            reader: None,
        },
    ];
    let seaweed_modes = [Mode::Plain, Mode::S3Customer];
    let seaweed_wanted = o.seaweed
        && ["http", "https"]
            .iter()
            .any(|scheme| !filter.select(scheme, &seaweed_modes).is_empty());
    let weed = match (&o.weed, seaweed_wanted || o.gateways) {
        (_, false) => None,
        (Some(p), true) => Some(p.clone()),
        (None, true) => Some(seaweedfs::find_weed(&repo)?),
    };
    let seaweed = if let (true, Some(weed)) = (seaweed_wanted, &weed) {
        // Anonymous: the client signs COS v5 only, and the peer column measured unsigned.
        // One process serves S3 over HTTP and, with a certificate generated here, HTTPS.
        let cert = servers::generate_certificate(&tmp.path().join("seaweedfs-tls"), "SeaweedFS")?;
        let tls = seaweedfs::Tls {
            cert: cert.chain.clone(),
            key: cert.key.clone(),
        };
        let sw = seaweedfs::SeaweedFs::start_https_in(
            weed,
            seaweedfs::Auth::Anonymous,
            tmp.path(),
            &tls,
        )?;
        let https = sw
            .s3_https_addr()
            .context("SeaweedFS started without HTTPS")?;
        for (addr, ca) in [(sw.s3_addr(), None), (https, Some(cert.ca.as_path()))] {
            let client = Client::new(
                addr,
                ca,
                &format!("127.0.0.1:{}", addr.port()),
                Auth::Anonymous,
                pattern.clone(),
            )?;
            targets.push(Target {
                server: "SeaweedFS",
                modes: filter.select(client.scheme(), &seaweed_modes),
                client,
                bucket: S3_BUCKET,
                part_size: 5 << 20,
                prefix: "",
                reader: None,
            });
        }
        Some(sw)
    } else {
        None
    };
    let gateways = match (o.gateways, &weed) {
        (true, Some(weed)) => Some(start_gateways(
            weed,
            tmp.path(),
            &mut targets,
            &pattern,
            filter,
        )?),
        _ => None,
    };
    // Once per server and bucket (a server's transports share its bucket), and only where
    // rows are measured.
    let mut created: Vec<(&str, &str)> = Vec::new();
    for t in targets.iter().filter(|t| !t.modes.is_empty()) {
        if !created.contains(&(t.server, t.bucket)) {
            create_bucket(t).await?;
            created.push((t.server, t.bucket));
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    for &size in &o.sizes {
        for (ti, t) in targets.iter().enumerate() {
            for (mi, &mode) in t.modes.iter().enumerate() {
                rows.push(Row::new(
                    t.server,
                    t.client.scheme(),
                    human(size),
                    mode.name(),
                    (ti, mi),
                    size,
                ));
            }
        }
    }
    // One unmeasured PUT per target and mode first, of the smallest size: SeaweedFS grows
    // volumes on a bucket's first write (a 1 MiB PUT then takes some 200 ms), which would
    // otherwise land in round 1 of its first row.
    let warm_size = o.sizes.iter().copied().min().unwrap_or(1);
    for t in &targets {
        for &mode in &t.modes {
            let key = format!("{}warm-up-{}", t.prefix, mode_key(mode.name()));
            put(t, &key, mode, warm_size).await?;
        }
    }
    // Interleaved: every round measures every row once, so load drifts hit all alike.
    // MD5 on one core once per round too, the bound of that round's plain PUTs.
    let mut md5_rounds = Vec::new();
    // And the store's disk, written and fsynced as a PUT stores a body, per large size.
    let mut disk_rounds: Vec<disk_bound::DiskRounds> = o
        .sizes
        .iter()
        .filter(|&&size| size >= 64 << 20)
        .map(|&size| disk_bound::DiskRounds {
            size,
            mbps: Vec::new(),
        })
        .collect();
    for rep in 0..o.reps {
        eprintln!("round {}/{}", rep + 1, o.reps);
        md5_rounds.push(md5_gbps());
        for d in disk_rounds.iter_mut() {
            let dir = tmp.path().join("emulator");
            d.mbps
                .push(disk_bound::write_and_fsync_mbps(&dir, d.size, &pattern)?);
        }
        for row in rows.iter_mut() {
            let t = &targets[row.at.0];
            let mode = t.modes[row.at.1];
            let (writer, reader) = match t.reader {
                None => (t, t),
                Some(other) if rep % 2 == 0 => (t, &targets[other]),
                Some(other) => (&targets[other], t),
            };
            let key = format!(
                "{}obj-{}-{}",
                t.prefix,
                row.mode.replace(' ', "-"),
                row.size
            );
            row.put.push(put(writer, &key, mode, row.size).await?);
            row.get.push(get(reader, &key, mode, row.size).await?);
            row.range
                .push(range_get(reader, &key, mode, row.size, &pattern).await?);
        }
        // Multipart once per server, transport and mode per round (its size is fixed).
        for row in rows
            .iter_mut()
            .filter(|r| r.size == o.sizes[0] && !targets[r.at.0].gateway())
        {
            let t = &targets[row.at.0];
            let mode = t.modes[row.at.1];
            let key = format!("mpu-{}", row.mode.replace(' ', "-"));
            row.complete.push(multipart(t, &key, mode, o.parts).await?);
        }
    }
    // Peak RSS: each server and mode once, at the largest size: SSE-C over HTTPS when that
    // is measured (the emulator has it there only), every other mode on the server's first
    // transport.
    let largest = o.sizes.iter().copied().max().unwrap_or(1 << 20);
    let mut rss: Vec<(String, String, f64)> = Vec::new();
    for (ti, t) in targets.iter().enumerate() {
        if t.gateway() {
            continue;
        }
        let pid = if t.server == "SeaweedFS" {
            match &seaweed {
                Some(s) => s.pid(),
                None => continue,
            }
        } else {
            emu.process.pid()
        };
        for &mode in &t.modes {
            let same = |u: &Target| u.server == t.server && u.modes.contains(&mode);
            let first = targets.iter().position(same);
            let https = targets
                .iter()
                .position(|u| same(u) && u.client.scheme() == "https");
            let measured_on = match (mode.customer(), https) {
                (true, Some(i)) => Some(i),
                _ => first,
            };
            if measured_on != Some(ti) {
                continue;
            }
            let mib = rss_under_load(t, pid, mode, largest, o.clients).await?;
            rss.push((
                format!("{} ({})", t.server, t.client.scheme()),
                mode.name().to_string(),
                mib,
            ));
        }
    }
    // Untimed, after the rounds: requests to the backend per client request.
    let counted = match &gateways {
        Some(g) => {
            let like: Vec<&Target> = targets
                .iter()
                .filter(|t| t.server == GATEWAY_A && !t.modes.is_empty())
                .collect();
            let parts = o.parts.min(3);
            let counted = backend_requests::count(
                g.backend.s3_addr(),
                &g.args,
                tmp.path(),
                &like,
                &o.sizes,
                parts,
                &pattern,
            )
            .await?;
            Some((counted, parts))
        }
        None => None,
    };
    drop(seaweed);
    drop(gateways);
    println!("load average at end: {}", load());
    println!();
    let (gateway_rows, rows): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| targets[r.at.0].gateway());
    table::print(&rows, o.reps, o.parts);
    println!();
    println!(
        "Peak RSS while {} clients PUT {} each at once:",
        o.clients,
        human(largest)
    );
    println!();
    println!("| server | mode | peak RSS |");
    println!("|---|---|---:|");
    for (server, mode, mib) in &rss {
        println!("| {server} | {mode} | {mib:.1} MiB |");
    }
    if o.gateways {
        println!();
        table::print_gateways(&gateway_rows, &rows, o.reps);
        if let Some((counted, parts)) = &counted {
            println!();
            backend_requests::print(counted, *parts);
        }
    }
    // Every target with the figure this run computed for it and its verdict.
    let mut targets = table::peer_targets(&rows);
    targets.extend(sm4_targets::sm4_targets(&rows));
    targets.extend(gateway_targets::targets(&gateway_rows, &rows));
    // The emulator's memory stays bounded whatever the object size: its peak RSS while
    // the clients PUT the largest size at once, in every mode.
    targets.extend(
        rss.iter()
            .filter(|(server, _, _)| server.starts_with("cos-emulator"))
            .map(|(server, mode, mib)| {
                verdict::Target::new(
                    format!(
                        "{server} peak RSS, {} × {} {mode} PUTs at once",
                        o.clients,
                        human(largest)
                    ),
                    "MiB",
                    verdict::Bound::AtMost(64.0),
                    Some(*mib),
                )
            }),
    );
    targets.extend(sse_targets::targets(&rows, &md5_rounds));
    println!();
    verdict::print(&targets);
    let disk = disk_bound::lines(&rows, &disk_rounds, &md5_rounds);
    if !disk.is_empty() {
        println!();
        for line in disk {
            println!("{line}  ");
        }
    }
    Ok(())
}

/// What `--gateways` keeps running: the backend SeaweedFS and the two gateways (dropped,
/// and so killed, gateways first).
struct Gateways {
    _a: servers::Emulator,
    _b: servers::Emulator,
    backend: seaweedfs::SeaweedFs,
    /// The gateways' arguments (store, options, master key file), for gateway C.
    args: Vec<OsString>,
}

/// Starts a SeaweedFS with S3 auth, a backend bucket in it and two gateways A and B over
/// it sharing one master key file (A creates it, so A starts first), and adds their targets:
/// gateway A over HTTP and HTTPS with the modes measured, gateway B (no rows of its own),
/// and A+B, whose rows read through B when A writes and the other way round.
fn start_gateways(
    weed: &Path,
    tmp: &Path,
    targets: &mut Vec<Target>,
    pattern: &Arc<Vec<u8>>,
    filter: &Filter,
) -> anyhow::Result<Gateways> {
    let backend = seaweedfs::SeaweedFs::start_in(weed, seaweedfs::Auth::Generated, tmp)?;
    backend.create_bucket(GATEWAY_BACKEND)?;
    let mut args: Vec<OsString> = vec![
        "--store".into(),
        format!("s3://{GATEWAY_BACKEND}/bench").into(),
        "--master-key-file".into(),
        tmp.join("gateway-keys").join("master.json").into(),
    ];
    for (k, v) in backend.store_options() {
        args.push("--store-option".into());
        args.push(format!("{k}={v}").into());
    }
    let binary = &emulator_binary();
    let a = servers::Emulator::start(binary, &tmp.join("gateway-a"), ID, SECRET, &args)?;
    let b = servers::Emulator::start(binary, &tmp.join("gateway-b"), ID, SECRET, &args)?;
    let auth = Auth::Cos {
        id: ID.into(),
        secret: SECRET.into(),
    };
    let http_modes = vec![Mode::Plain, Mode::CosAes, Mode::KmsAes];
    // SSE-C is refused over plain HTTP (SSEC-HTTPS).
    let https_modes = vec![Mode::Plain, Mode::CustomerAes];
    let first = targets.len();
    for (server, emu, modes) in [(GATEWAY_A, &a, true), (GATEWAY_B, &b, false)] {
        for (addr, ca, m) in [
            (emu.http, None, &http_modes),
            (emu.https, Some(emu.ca.as_path()), &https_modes),
        ] {
            let client = Client::new(addr, ca, COS_HOST, auth.clone(), pattern.clone())?;
            targets.push(Target {
                server,
                modes: if modes {
                    filter.select(client.scheme(), m)
                } else {
                    vec![]
                },
                client,
                bucket: BUCKET,
                part_size: 1 << 20,
                prefix: "a-",
                reader: None,
            });
        }
    }
    // A+B over HTTP and HTTPS: A's clients, reading through B's (targets first + 2, + 3).
    for i in 0..2 {
        let a = &targets[first + i];
        targets.push(Target {
            server: GATEWAYS_AB,
            client: a.client.clone(),
            bucket: BUCKET,
            modes: a.modes.clone(),
            part_size: 1 << 20,
            prefix: "ab-",
            reader: Some(first + 2 + i),
        });
    }
    Ok(Gateways {
        _a: a,
        _b: b,
        backend,
        args,
    })
}

fn main() -> std::process::ExitCode {
    let result = parse_args().and_then(|o| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run(o))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compare: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
