//! Crash harness: runs the real `cos-emulator serve` binary, drives PUT (plain,
//! SSE-COS AES256 and SM4, SSE-KMS, SSE-C), multipart Complete, copy and delete from
//! several tasks, SIGKILLs the process at random moments, restarts it on the same data
//! directory and checks every key against what was acknowledged:
//!
//! - a key reads as exactly one of the bodies written to it whose write was acknowledged
//!   last or was in flight at the kill — complete, never torn;
//! - an acknowledged delete stays deleted unless a write to the key was in flight;
//! - after the restart's recovery no body file is left that no object names, and `tmp/`
//!   is empty.
//!
//! Each key belongs to one task, so its writes are ordered; the tasks run concurrently.
//! `cargo test -p cos-emulator --test crash` runs the short variant (10 kills); the long
//! run is `CRASH_KILLS=100 cargo test -p cos-emulator --release --test crash -- --nocapture`
//! (`CRASH_SEED` repeats a run). SIGKILL ends the process, not the machine: the page cache
//! survives, so this proves the ordering against process crashes; the fsyncs that carry
//! the same ordering to a power cut are in `emulator/src/store/local.rs`.

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "integration/ops_common.rs"]
mod ops_common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use ops_common::{complete, source, with_key, with_source_key, xml, K1, SSE};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const BUCKET: &str = "crash-1250000000";
/// Concurrent client tasks.
const TASKS: usize = 4;
/// Keys per task (each key is written by its task only).
const KEYS_PER_TASK: usize = 3;
/// Bound on one request, so a hung server fails the run instead of blocking it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// xorshift64*: reproducible from the printed seed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The body written by write number `id`: its length and bytes follow from `id`, so a body
/// read back names the write it came from, and a mix of two writes matches neither.
fn body_of(id: u64) -> Vec<u8> {
    // Sizes from empty to past two 64 KiB chunks.
    let len = (id.wrapping_mul(7919) % 150_001) as usize;
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// How a write stores its object.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Plain,
    CosAes,
    CosSm4,
    Kms,
    Customer,
}

const MODES: [Mode; 5] = [
    Mode::Plain,
    Mode::CosAes,
    Mode::CosSm4,
    Mode::Kms,
    Mode::Customer,
];

impl Mode {
    fn upload(self, req: Req) -> Req {
        match self {
            Mode::Plain => req,
            Mode::CosAes => req.header(SSE, "AES256"),
            Mode::CosSm4 => req.header(SSE, "SM4"),
            Mode::Kms => req.header(SSE, "cos/kms"),
            Mode::Customer => with_key(req, K1),
        }
    }
}

/// What a key holds: the write it shows, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Absent,
    /// The body of write `id`; `customer` when reading it needs the SSE-C key.
    Body {
        id: u64,
        customer: bool,
    },
}

/// One key's history as the client saw it.
#[derive(Debug, Clone)]
struct KeyState {
    /// The state the last acknowledged write left.
    acked: Version,
    /// The state a write sent but not answered at the kill may have left.
    in_flight: Option<Version>,
}

/// What the run counted.
#[derive(Debug, Default)]
struct Counts {
    acknowledged: u64,
    in_flight_at_kill: u64,
    kills: u64,
    checked: u64,
    torn_or_lost: u64,
    orphans: u64,
    errors: Vec<String>,
}

/// A running `cos-emulator serve`.
struct Process {
    child: Child,
    https: SocketAddr,
    cert: PathBuf,
}

fn start(data: &Path) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cos-emulator"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--http", "off", "--https", "127.0.0.1:0"])
        .args(["--secret-id", OWNER.id, "--secret-key", OWNER.key])
        .args(["--appid", APPID])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cos-emulator serve");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut https, mut cert) = (None, None);
    while https.is_none() || cert.is_none() {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!(
                "the emulator exited at start-up ({status}) on {}",
                data.display()
            );
        }
        let line = line.trim();
        if let Some(a) = line.strip_prefix("listening https://") {
            https = Some(a.parse().unwrap());
        } else if let Some(c) = line.strip_prefix("certificate ") {
            cert = Some(PathBuf::from(c));
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Process {
        child,
        https: https.unwrap(),
        cert: cert.unwrap(),
    }
}

/// The answer to a request, or why there was none.
enum Sent {
    /// Answered.
    Answer(Resp),
    /// The connection could not be made: the request never reached the server.
    Unreached,
    /// Sent, but the answer did not arrive whole: the server may or may not have acted.
    Lost,
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, req: &Req) -> Option<Resp> {
    s.write_all(&req.to_bytes()).await.ok()?;
    s.flush().await.ok()?;
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(_) => return None,
    }
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let resp = parse_response(&raw);
    let length: usize = resp.header("content-length")?.parse().ok()?;
    (raw.len() - end - 4 == length).then_some(resp)
}

async fn send(p: &(SocketAddr, PathBuf), req: &Req) -> Sent {
    let Ok(tcp) = TcpStream::connect(p.0).await else {
        return Sent::Unreached;
    };
    let name = req.host.split(':').next().unwrap().to_string();
    let server_name = rustls::pki_types::ServerName::try_from(name).unwrap();
    let work = async {
        // A handshake cut by the kill: the request itself was never sent.
        let Ok(tls) = tls_connector(&p.1).connect(server_name, tcp).await else {
            return Sent::Unreached;
        };
        match exchange(tls, req).await {
            Some(r) => Sent::Answer(r),
            None => Sent::Lost,
        }
    };
    tokio::time::timeout(REQUEST_TIMEOUT, work)
        .await
        .expect("a request got no answer within the bound: the server hangs")
}

/// One task's loop: random writes to its own keys until the server goes away. Returns
/// the keys' states and the number of acknowledged writes.
async fn drive(
    server: Arc<(SocketAddr, PathBuf)>,
    mut keys: BTreeMap<String, KeyState>,
    mut rng: Rng,
    next_id: Arc<std::sync::atomic::AtomicU64>,
) -> (BTreeMap<String, KeyState>, u64, Vec<String>) {
    let names: Vec<String> = keys.keys().cloned().collect();
    let mut acked = 0u64;
    let mut errors = Vec::new();
    loop {
        let key = names[rng.below(names.len() as u64) as usize].clone();
        let mode = MODES[rng.below(MODES.len() as u64) as usize];
        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let written = Version::Body {
            id,
            customer: matches!(mode, Mode::Customer),
        };
        let op = rng.below(10);
        // The request that changes the key, and the state it leaves.
        let (req, after, what) = match op {
            0..=4 => (
                mode.upload(Req::new("PUT", BUCKET, &key))
                    .body(&body_of(id)),
                written,
                "PUT",
            ),
            5 => (Req::new("DELETE", BUCKET, &key), Version::Absent, "DELETE"),
            6 | 7 => {
                // Copy another of this task's keys here, as SSE-COS.
                let from = names[rng.below(names.len() as u64) as usize].clone();
                if from == key {
                    continue;
                }
                let Version::Body {
                    id: src,
                    customer: src_customer,
                } = keys[&from].acked
                else {
                    continue;
                };
                let mut req = Req::new("PUT", BUCKET, &key)
                    .header("x-cos-copy-source", &source(BUCKET, &from))
                    .header(SSE, "AES256");
                if src_customer {
                    req = with_source_key(req, K1);
                }
                let after = Version::Body {
                    id: src,
                    customer: false,
                };
                (req, after, "copy")
            }
            _ => {
                // Multipart: Initiate and one part change nothing visible; Complete does.
                let init = mode.upload(Req::new("POST", BUCKET, &key).bare("uploads"));
                let upload_id = match send(&server, &init).await {
                    Sent::Answer(r) if r.status == 200 => xml(&r, "UploadId").unwrap(),
                    Sent::Answer(r) => {
                        errors.push(format!("initiate {key}: {} {}", r.status, r.text()));
                        continue;
                    }
                    Sent::Unreached | Sent::Lost => break,
                };
                let mut part = Req::new("PUT", BUCKET, &key)
                    .query("partNumber", "1")
                    .query("uploadId", &upload_id)
                    .body(&body_of(id));
                if matches!(mode, Mode::Customer) {
                    part = with_key(part, K1);
                }
                let etag = match send(&server, &part).await {
                    Sent::Answer(r) if r.status == 200 => r.header("etag").unwrap().to_string(),
                    Sent::Answer(r) => {
                        errors.push(format!("part {key}: {} {}", r.status, r.text()));
                        continue;
                    }
                    Sent::Unreached | Sent::Lost => break,
                };
                (
                    complete(BUCKET, &key, &upload_id, &[(1, etag)]),
                    written,
                    "Complete",
                )
            }
        };
        let state = keys.get_mut(&key).unwrap();
        state.in_flight = Some(after);
        match send(&server, &req).await {
            Sent::Answer(r) if (200..300).contains(&r.status) => {
                state.acked = after;
                state.in_flight = None;
                acked += 1;
            }
            Sent::Answer(r) => {
                errors.push(format!("{what} {key}: {} {}", r.status, r.text()));
                // Refused: nothing happened.
                state.in_flight = None;
            }
            Sent::Unreached => {
                state.in_flight = None;
                break;
            }
            // The kill came while this write was in flight: it may or may not have landed.
            Sent::Lost => break,
        }
    }
    (keys, acked, errors)
}

/// Reads every key after a restart and compares it with what the client knows; returns
/// the keys with their observed (now acknowledged) state.
async fn check(
    server: &(SocketAddr, PathBuf),
    keys: BTreeMap<String, KeyState>,
    counts: &mut Counts,
) -> BTreeMap<String, KeyState> {
    let mut out = BTreeMap::new();
    for (key, state) in keys {
        let observed = read_back(server, &key, &state).await;
        counts.checked += 1;
        let allowed = |v: Version| v == state.acked || Some(v) == state.in_flight;
        let now = match observed {
            Some(v) if allowed(v) => v,
            other => {
                counts.torn_or_lost += 1;
                counts.errors.push(format!(
                    "{key}: read {other:?}; acknowledged {:?}, in flight {:?}",
                    state.acked, state.in_flight
                ));
                state.acked
            }
        };
        out.insert(
            key,
            KeyState {
                acked: now,
                in_flight: None,
            },
        );
    }
    out
}

/// The version a key shows: `None` when the body matches no write it may hold (torn,
/// lost, or an error answer).
async fn read_back(server: &(SocketAddr, PathBuf), key: &str, state: &KeyState) -> Option<Version> {
    let candidates: Vec<Version> = std::iter::once(state.acked)
        .chain(state.in_flight)
        .collect();
    for customer in [false, true] {
        let mut req = Req::new("GET", BUCKET, key);
        if customer {
            req = with_key(req, K1);
        }
        let Sent::Answer(r) = send(server, &req).await else {
            return None;
        };
        match r.status {
            404 => return Some(Version::Absent),
            200 => {
                return candidates.into_iter().find(|v| match *v {
                    Version::Body { id, customer: c } => c == customer && r.body == body_of(id),
                    Version::Absent => false,
                });
            }
            // An SSE-C object read without its key: read it again with the key.
            400 if !customer => continue,
            _ => return None,
        }
    }
    None
}

/// Body files no object names, and leftovers in `tmp/`, after recovery.
fn orphans(data: &Path, present: usize) -> u64 {
    let bodies = files_under(&data.join("buckets").join(BUCKET).join("data")).len();
    let tmp = files_under(&data.join("tmp")).len();
    (bodies.saturating_sub(present) + tmp) as u64
}

fn run(kills: u64, seed: u64) -> Counts {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let mut rng = Rng(seed | 1);
    let next_id = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let mut counts = Counts::default();
    let mut keys: Vec<BTreeMap<String, KeyState>> = (0..TASKS)
        .map(|t| {
            (0..KEYS_PER_TASK)
                .map(|k| {
                    let state = KeyState {
                        acked: Version::Absent,
                        in_flight: None,
                    };
                    (format!("t{t}/k{k}"), state)
                })
                .collect()
        })
        .collect();
    let mut process = start(&data);
    runtime.block_on(async {
        let server = (process.https, process.cert.clone());
        match send(&server, &Req::new("PUT", BUCKET, "")).await {
            Sent::Answer(r) if r.status == 200 => {}
            _ => panic!("cannot create the bucket"),
        }
    });
    while counts.kills < kills {
        let server = Arc::new((process.https, process.cert.clone()));
        let tasks: Vec<_> = keys
            .drain(..)
            .map(|k| {
                let task_rng = Rng(rng.next() | 1);
                runtime.spawn(drive(server.clone(), k, task_rng, next_id.clone()))
            })
            .collect();
        // Kill at a random moment, 20 ms to 0.8 s into the load.
        std::thread::sleep(Duration::from_millis(20 + rng.below(780)));
        process.child.kill().unwrap();
        process.child.wait().unwrap();
        counts.kills += 1;
        for t in tasks {
            let (k, acked, errors) = runtime.block_on(t).unwrap();
            counts.in_flight_at_kill += k.values().filter(|s| s.in_flight.is_some()).count() as u64;
            counts.acknowledged += acked;
            counts.errors.extend(errors);
            keys.push(k);
        }
        process = start(&data);
        let server = (process.https, process.cert.clone());
        let checked = runtime.block_on(async {
            let mut out = Vec::new();
            for k in keys.drain(..) {
                out.push(check(&server, k, &mut counts).await);
            }
            out
        });
        keys = checked;
        let present = keys
            .iter()
            .flat_map(|k| k.values())
            .filter(|s| s.acked != Version::Absent)
            .count();
        counts.orphans += orphans(&data, present);
    }
    let _ = process.child.kill();
    let _ = process.child.wait();
    counts
}

#[test]
fn sigkill_at_random_moments_tears_and_loses_nothing() {
    let kills = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let started = Instant::now();
    let c = run(kills, seed);
    println!(
        "crash harness (seed {seed}): writes acknowledged {}, in flight at a kill {}, kills {}, \
         objects checked {}, torn or lost {}, orphan files after recovery {}, error answers {} \
         ({:.1}s)",
        c.acknowledged,
        c.in_flight_at_kill,
        c.kills,
        c.checked,
        c.torn_or_lost,
        c.orphans,
        c.errors.len(),
        started.elapsed().as_secs_f64()
    );
    for e in c.errors.iter().take(20) {
        println!("  {e}");
    }
    assert_eq!(c.kills, kills);
    assert!(c.acknowledged > 0, "no write was acknowledged");
    assert_eq!(c.torn_or_lost, 0, "{:?}", c.errors);
    assert_eq!(c.orphans, 0, "recovery left unreferenced files");
    assert!(c.errors.is_empty(), "error answers: {:?}", c.errors);
}
