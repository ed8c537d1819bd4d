//! Concurrency: 16 clients doing 1,000 interleaved PUT/GET/HEAD/DELETE on the
//! same few keys in every SSE mode (SSE-COS AES256 and SM4, SSE-KMS, SSE-C). Every body
//! PUT is distinct (seeded by client and sequence); every GET must return exactly one of
//! the bodies PUT to that key, whole (never a mix of two writes), every HEAD a length one
//! of them has; no answer is a 5xx; the run is bounded, so a deadlock fails the test.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::ops_common::{with_key, K1, SSE};

const CLIENTS: usize = 16;
const OPS: usize = 1_000;
/// Keys per SSE mode; every client uses every key.
const KEYS_PER_MODE: usize = 2;
const BOUND: Duration = Duration::from_secs(300);

/// The SSE modes, each with its own keys (a key is always written in its mode, so reads
/// carry the right headers and any refusal is a defect).
const MODES: [&str; 4] = ["AES256", "SM4", "cos/kms", "SSE-C"];

/// A distinct body per (client, sequence), 0 to ~140 KB (up to three 64 KiB chunks).
fn body(client: usize, seq: usize) -> Vec<u8> {
    let seed = (client as u64) << 32 | seq as u64;
    let len = (seed.wrapping_mul(0x9E37_79B9) % 140_000) as usize;
    let mut x = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as u8
        })
        .collect()
}

/// Per key, the (MD5 hex, length) of every body ever PUT to it.
type Written = Arc<Mutex<HashMap<String, HashSet<(String, usize)>>>>;

#[derive(Default)]
struct Tally {
    puts: u64,
    gets_verified: u64,
    gets_absent: u64,
    heads: u64,
    deletes: u64,
    server_errors: Vec<String>,
    mixed_or_foreign: Vec<String>,
}

async fn call(s: &Server, mode: &str, req: Req) -> Resp {
    if mode == "SSE-C" {
        s.send_tls(&with_key(req, K1)).await
    } else {
        s.send(&req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_never_see_a_mixed_body_a_5xx_or_a_hang() {
    let s = Arc::new(Server::start().await);
    let b = s.bucket("concurrency").await;
    let keys: Vec<(String, &'static str)> = MODES
        .iter()
        .flat_map(|m| (0..KEYS_PER_MODE).map(move |k| (format!("shared/{k}-{m}"), *m)))
        .collect();
    // MD5 (hex) and length of every body ever PUT to each key, registered before the PUT.
    let written: Written = Arc::default();
    let tally: Arc<Mutex<Tally>> = Arc::default();
    let started = Instant::now();
    let clients = (0..CLIENTS).map(|c| {
        let (s, b, keys, written, tally) = (
            s.clone(),
            b.clone(),
            keys.clone(),
            written.clone(),
            tally.clone(),
        );
        tokio::spawn(async move {
            let mut x = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let ops = OPS / CLIENTS + usize::from(c < OPS % CLIENTS);
            for seq in 0..ops {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let (key, mode) = &keys[(x % keys.len() as u64) as usize];
                let op = (x >> 20) % 10;
                let r = match op {
                    // PUT 40%, GET 30%, HEAD 20%, DELETE 10%: keys keep bodies to read.
                    0..=3 => {
                        let data = body(c, seq);
                        written
                            .lock()
                            .unwrap()
                            .entry(key.clone())
                            .or_default()
                            .insert((md5_hex(&data), data.len()));
                        let req = Req::new("PUT", &b, key).body(&data);
                        let req = match *mode {
                            "SSE-C" => req,
                            m => req.header(SSE, m),
                        };
                        let r = call(&s, mode, req).await;
                        if r.status == 200 {
                            tally.lock().unwrap().puts += 1;
                        }
                        r
                    }
                    4..=6 => {
                        let r = call(&s, mode, Req::new("GET", &b, key)).await;
                        let mut t = tally.lock().unwrap();
                        match r.status {
                            200 => {
                                let seen = (md5_hex(&r.body), r.body.len());
                                let known = written
                                    .lock()
                                    .unwrap()
                                    .get(key)
                                    .is_some_and(|w| w.contains(&seen));
                                if known {
                                    t.gets_verified += 1;
                                } else {
                                    t.mixed_or_foreign
                                        .push(format!("GET {key}: {} bytes, none PUT", seen.1));
                                }
                            }
                            404 => t.gets_absent += 1,
                            _ => {}
                        }
                        drop(t);
                        r
                    }
                    7 | 8 => {
                        let r = call(&s, mode, Req::new("HEAD", &b, key)).await;
                        if r.status == 200 {
                            let len: usize = r.header("content-length").unwrap().parse().unwrap();
                            let known = written
                                .lock()
                                .unwrap()
                                .get(key)
                                .is_some_and(|w| w.iter().any(|(_, l)| *l == len));
                            let mut t = tally.lock().unwrap();
                            t.heads += 1;
                            if !known {
                                t.mixed_or_foreign
                                    .push(format!("HEAD {key}: length {len}, none PUT"));
                            }
                        }
                        r
                    }
                    _ => {
                        let r = s.send(&Req::new("DELETE", &b, key)).await;
                        if r.status == 204 {
                            tally.lock().unwrap().deletes += 1;
                        }
                        r
                    }
                };
                let expected: &[u16] = match op {
                    0..=3 => &[200],
                    4..=8 => &[200, 404],
                    _ => &[204],
                };
                if !expected.contains(&r.status) {
                    tally.lock().unwrap().server_errors.push(format!(
                        "op {op} on {key}: {} {}",
                        r.status,
                        r.text()
                    ));
                }
            }
        })
    });
    let all = futures_join(clients.collect());
    tokio::time::timeout(BOUND, all)
        .await
        .expect("16 clients on the same keys did not finish in the bound: deadlock or hang");
    let t = tally.lock().unwrap();
    println!(
        "concurrency: {CLIENTS} clients, {OPS} ops on {} keys in {} SSE modes: PUT {}, GET \
         verified {}, GET absent {}, HEAD {}, DELETE {}, unexpected answers {}, mixed or \
         foreign bodies {} ({:.1}s)",
        keys.len(),
        MODES.len(),
        t.puts,
        t.gets_verified,
        t.gets_absent,
        t.heads,
        t.deletes,
        t.server_errors.len(),
        t.mixed_or_foreign.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(t.server_errors.is_empty(), "{:?}", t.server_errors);
    assert!(t.mixed_or_foreign.is_empty(), "{:?}", t.mixed_or_foreign);
    assert!(t.gets_verified > 0 && t.puts > 0);
}

/// Waits for every client; a panicking client fails the test.
async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        h.await.expect("a client panicked");
    }
}
