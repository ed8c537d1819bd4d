//! Gateways under backend faults: several gateways over one SeaweedFS reached through a
//! fault-injecting proxy on loopback (`support/fault_proxy.rs`).
//!
//! - A hung backend costs a request a bounded wait (the backend limits), never minutes.
//! - The seeded workload: concurrent PUT, multipart (a part re-upload racing Complete),
//!   copy, delete and GET through three gateways while the proxy, by seed, delays
//!   answers, drops connections, answers 500/503, or answers 500 after forwarding (the
//!   write landed). Each key belongs to one task, so what it may read is known: the
//!   invariants are that every acknowledged write reads back whole, no 200 carries a
//!   short body, no acknowledged delete is undone, and every request is answered within
//!   a bound; then, faults off, that every key reads back through every gateway, and
//!   after `cos-emulator gc` no body is left that no object record, part record or claim
//!   names (read from SeaweedFS directly). It prints the operations, faults injected,
//!   the sweep's report, what is left and the invariant violations (0).
//! - The sweep aborts the backend multipart uploads a gateway killed mid-body leaves,
//!   once they are older than its grace period, and only those under its own prefix.
//!
//! `cargo test -p cos-emulator --test gateway_faults` runs a short seed set (well under a
//! minute). The long run (at least 10,000 operations with faults) is
//!
//! ```text
//! GATEWAY_FAULTS_OPS=10000 cargo test -p cos-emulator --test gateway_faults -- --nocapture
//! ```
//!
//! and `GATEWAY_FAULTS_SEED=N` repeats one seed. `COS_SKIP_SEAWEEDFS=1` skips them (they
//! say so); `COS_WEED` names the `weed` binary, else `scripts/setup-seaweedfs.sh` installs
//! the pinned one.

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/gateway_backend.rs"]
mod gateway_backend;
#[allow(dead_code)]
#[path = "integration/ops_common.rs"]
mod ops_common;
#[path = "support/seaweedfs.rs"]
mod seaweedfs;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use fault_proxy::FaultProxy;
use gateway_backend::GatewayBackend;
use ops_common::{complete, part, source, xml, xml_all};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const BACKEND: &str = "faults";

/// SeaweedFS, the proxy in front of it, and what the gateways share.
struct Rig {
    backend: GatewayBackend,
    proxy: FaultProxy,
}

impl Rig {
    /// `None` (with a message) when SeaweedFS tests are switched off.
    async fn start(test: &str, limits: &[(&str, &str)]) -> Option<Rig> {
        let backend = GatewayBackend::start(test, BACKEND)?;
        let proxy = FaultProxy::start(backend.sw.s3_addr()).await;
        let backend = backend.through(proxy.endpoint(), limits);
        Some(Rig { backend, proxy })
    }

    /// A gateway in this process over the backend, through the proxy.
    async fn gateway(&self) -> Server {
        self.backend.gateway().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hung_backend_fails_a_request_within_the_backend_limits() {
    // The gateway's default limits (10 s per request, 2 retries within 20 s), not
    // object_store's (30 s, 10 retries within 3 min: a request held about 181 s).
    let Some(rig) = Rig::start("hung", &[]).await else {
        return;
    };
    let a = rig.gateway().await;
    let bucket = a.bucket("hung").await;
    let body = pattern(10_000, 1);
    assert_eq!(a.put(&bucket, "k", &body).await.status, 200);

    rig.proxy.hang_all();
    let started = Instant::now();
    let r = a.send(&Req::new("GET", &bucket, "k")).await;
    let took = started.elapsed();
    assert_eq!(r.status, 500, "GET through a hung backend: {}", r.text());
    // About 20 s: attempts of 10 s until the 20 s retry budget is spent.
    assert!(took < Duration::from_secs(60), "answered after {took:?}");
    rig.proxy.pass();
    let got = a.send(&Req::new("GET", &bucket, "k")).await;
    assert!(got.status == 200 && got.body == body, "readable again");
    drop(rig);
}

/// Longest a request may take under faults: well above the backend limits' worst case
/// (a few backend calls of 3 attempts of 2 s within a 6 s budget), far below hanging.
const ANSWER_BOUND: Duration = Duration::from_secs(90);
/// Client tasks, each owning its keys (so its operations on them are ordered).
const TASKS: usize = 6;
/// GETs of a key before its 5xx counts as unreadable (faults hit 5% of backend requests,
/// and reads are retried by the backend client).
const READ_ATTEMPTS: usize = 5;
const KEYS_PER_TASK: usize = 3;

/// What a key may hold: the MD5s of bodies it may read as, `None` for absent.
type Possible = BTreeSet<Option<String>>;

/// Counts of one run.
#[derive(Debug, Default)]
struct Tally {
    ops: u64,
    acknowledged: u64,
    refused: u64,
    violations: Vec<String>,
}

/// Sends `req` to `addr`, answered within [`ANSWER_BOUND`]; `None` (a violation, noted)
/// when not answered.
async fn call(addr: SocketAddr, req: Req, tally: &Mutex<Tally>) -> Option<Resp> {
    let what = format!("{} {}", req.method, req.key_path);
    let started = Instant::now();
    let answer = tokio::time::timeout(
        ANSWER_BOUND,
        tokio::spawn(async move { send(addr, &req).await }),
    )
    .await;
    let mut t = tally.lock().unwrap();
    t.ops += 1;
    match answer {
        Ok(Ok(r)) => {
            if r.status < 300 {
                t.acknowledged += 1;
            } else {
                t.refused += 1;
            }
            Some(r)
        }
        Ok(Err(e)) => {
            t.violations.push(format!("{what}: no HTTP answer ({e})"));
            None
        }
        Err(_) => {
            t.violations
                .push(format!("{what}: no answer after {:?}", started.elapsed()));
            None
        }
    }
}

/// Checks a GET answer against what the key may hold.
fn check_read(key: &str, r: &Resp, possible: &Possible, tally: &Mutex<Tally>) {
    let problem = match r.status {
        200 => {
            let declared = r
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok());
            if declared != Some(r.body.len()) {
                Some(format!("200 with {} bytes of {declared:?}", r.body.len()))
            } else if !possible.contains(&Some(md5_hex(&r.body))) {
                Some("200 with a body never acknowledged nor in flight".to_string())
            } else {
                None
            }
        }
        404 if !possible.contains(&None) => Some("404 after an acknowledged write".into()),
        _ => None,
    };
    if let Some(p) = problem {
        tally
            .lock()
            .unwrap()
            .violations
            .push(format!("GET {key}: {p}"));
    }
}

/// One client task: random operations on its own keys through random gateways.
async fn client(
    seed: u64,
    task: usize,
    ops: usize,
    gateways: Arc<Vec<SocketAddr>>,
    bucket: String,
    tally: Arc<Mutex<Tally>>,
) -> BTreeMap<String, Possible> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(task as u64));
    let keys: Vec<String> = (0..KEYS_PER_TASK)
        .map(|k| format!("t{task}/k{k}"))
        .collect();
    let mut model: BTreeMap<String, Possible> = keys
        .iter()
        .map(|k| (k.clone(), Possible::from([None])))
        .collect();
    let mut counter = 0u32;
    let mut body = |rng: &mut StdRng, most: usize| {
        counter += 1;
        let len = rng.gen_range(1..most);
        let mut b = format!("seed {seed} task {task} write {counter} ").into_bytes();
        b.extend(pattern(len, rng.gen()));
        b
    };
    for _ in 0..ops {
        let key = keys[rng.gen_range(0..keys.len())].clone();
        let gw = |rng: &mut StdRng| gateways[rng.gen_range(0..gateways.len())];
        let roll = rng.gen_range(0..100);
        if roll < 35 {
            let b = body(&mut rng, 48 * 1024);
            let digest = Some(md5_hex(&b));
            let r = call(
                gw(&mut rng),
                Req::new("PUT", &bucket, &key).body(&b),
                &tally,
            )
            .await;
            let m = model.get_mut(&key).unwrap();
            if r.is_some_and(|r| r.status == 200) {
                *m = Possible::from([digest]);
            } else {
                m.insert(digest);
            }
        } else if roll < 55 {
            // A 5xx may be a fault; one that persists is a lost body.
            for attempt in 1..=READ_ATTEMPTS {
                let get = Req::new("GET", &bucket, &key);
                let Some(r) = call(gw(&mut rng), get, &tally).await else {
                    break;
                };
                check_read(&key, &r, &model[&key], &tally);
                if r.status < 500 {
                    break;
                }
                if attempt == READ_ATTEMPTS {
                    tally.lock().unwrap().violations.push(format!(
                        "GET {key}: {} in {READ_ATTEMPTS} attempts: {}",
                        r.status,
                        r.text()
                    ));
                }
            }
        } else if roll < 67 {
            let r = call(gw(&mut rng), Req::new("DELETE", &bucket, &key), &tally).await;
            let m = model.get_mut(&key).unwrap();
            if r.is_some_and(|r| r.status == 204) {
                *m = Possible::from([None]);
            } else {
                m.insert(None);
            }
        } else if roll < 80 {
            let from = keys[rng.gen_range(0..keys.len())].clone();
            if from == key {
                continue;
            }
            let copy =
                Req::new("PUT", &bucket, &key).header("x-cos-copy-source", &source(&bucket, &from));
            let r = call(gw(&mut rng), copy, &tally).await;
            let sources: Possible = model[&from]
                .iter()
                .filter(|d| d.is_some())
                .cloned()
                .collect();
            let m = model.get_mut(&key).unwrap();
            if r.is_some_and(|r| r.status == 200) {
                *m = sources;
            } else {
                m.extend(sources);
            }
        } else {
            let (first, second) = (body(&mut rng, 40 * 1024), body(&mut rng, 1000));
            multipart(
                &mut rng, &gateways, &bucket, &key, first, second, &mut model, &tally,
            )
            .await;
        }
    }
    model
}

/// Initiate, part 1, then a re-upload of part 1 racing Complete (listing the first part
/// 1's ETag) through other gateways; an upload left over is aborted.
#[allow(clippy::too_many_arguments)]
async fn multipart(
    rng: &mut StdRng,
    gateways: &[SocketAddr],
    bucket: &str,
    key: &str,
    first: Vec<u8>,
    second: Vec<u8>,
    model: &mut BTreeMap<String, Possible>,
    tally: &Arc<Mutex<Tally>>,
) {
    let mut gw = || gateways[rng.gen_range(0..gateways.len())];
    let Some(r) = call(gw(), Req::new("POST", bucket, key).bare("uploads"), tally).await else {
        return;
    };
    let Some(id) = (r.status == 200).then(|| xml(&r, "UploadId")).flatten() else {
        return;
    };
    let p1 = call(gw(), part(bucket, key, &id, 1, &first), tally).await;
    if let Some(etag) = p1
        .filter(|r| r.status == 200)
        .and_then(|r| r.header("etag").map(str::to_owned))
    {
        let (reupload, done) = tokio::join!(
            call(gw(), part(bucket, key, &id, 1, &second), tally),
            call(gw(), complete(bucket, key, &id, &[(1, etag)]), tally),
        );
        drop(reupload);
        let digest = Some(md5_hex(&first));
        let m = model.get_mut(key).unwrap();
        if done.is_some_and(|r| r.status == 200) {
            *m = Possible::from([digest]);
        } else {
            m.insert(digest);
        }
    }
    // Whatever is left of the upload goes (a completed one is gone already: 404).
    call(
        gw(),
        Req::new("DELETE", bucket, key).query("uploadId", &id),
        tally,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_aborts_the_backend_multipart_uploads_a_dead_gateway_left() {
    use object_store::{ObjectStore as _, PutPayload};
    let Some(rig) = Rig::start("abandoned", &[("sweep_interval", "off")]).await else {
        return;
    };
    let store = rig.backend.direct();
    // What a gateway killed in the middle of a large body leaves: a multipart upload under
    // the store's data/ with a part and no Complete.
    let start = |path: &str| {
        let path = object_store::path::Path::from(path);
        let store = &store;
        async move {
            let mut upload = store
                .put_multipart_opts(&path, Default::default())
                .await
                .unwrap();
            upload
                .put_part(PutPayload::from(vec![7u8; 1024]))
                .await
                .unwrap();
            upload
        }
    };
    let mut cut_short = start("abandoned/data/b/cut-short").await;
    // Another prefix belongs to another store (or to no gateway at all): left alone.
    let mut foreign = start("someone-else/data/b/in-progress").await;

    let kept = gc_with_grace(&rig, "abandoned", "1h");
    assert!(
        kept.contains(
            "backend multipart uploads 1 (abandoned: 0 aborted, 1 within the grace period)"
        ),
        "{kept}"
    );
    let swept = gc(&rig, "abandoned");
    assert!(
        swept.contains(
            "backend multipart uploads 1 (abandoned: 1 aborted, 0 within the grace period)"
        ),
        "{swept}"
    );
    assert!(
        cut_short.complete().await.is_err(),
        "the abandoned upload was aborted, so it cannot be completed"
    );
    foreign
        .complete()
        .await
        .expect("an upload under another prefix is untouched");
    let again = gc(&rig, "abandoned");
    assert!(again.contains("backend multipart uploads 0 "), "{again}");
}

/// The bodies under the store's `data/` that no object record, part record or claim
/// names, and the uploads left; read from the backend directly (not through a gateway).
async fn leftovers(rig: &Rig, prefix: &str) -> (Vec<String>, usize) {
    use futures_util::StreamExt as _;
    use object_store::{ObjectStore as _, ObjectStoreExt as _};
    let store = rig.backend.direct();
    let list = |rest: &str| {
        let path = object_store::path::Path::from(format!("{prefix}/{rest}"));
        store
            .list(Some(&path))
            .map(|m| m.unwrap().location.to_string())
            .collect::<Vec<_>>()
    };
    let json = |path: String| {
        let store = &store;
        async move {
            let path = object_store::path::Path::from(path);
            let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        }
    };
    // `PREFIX/<kind>/<bucket>/...`: the bucket's data path of a body file.
    let data_of = |path: &str, file: &str| {
        let bucket = path.split('/').nth(prefix.split('/').count() + 1).unwrap();
        format!("{prefix}/data/{bucket}/{file}")
    };
    let mut named = BTreeSet::new();
    for path in list("objects").await {
        let v = json(path.clone()).await;
        let body = &v["body"];
        if let Some(f) = body["file"].as_str().filter(|f| !f.is_empty()) {
            named.insert(data_of(&path, f));
        }
        for s in body["segments"].as_array().into_iter().flatten() {
            named.insert(data_of(&path, s["file"].as_str().unwrap()));
        }
    }
    let mut uploads = BTreeSet::new();
    for path in list("uploads").await {
        let name = path.rsplit('/').next().unwrap().to_owned();
        let dir = path.rsplit_once('/').unwrap().0.to_owned();
        uploads.insert(dir);
        let v = json(path.clone()).await;
        if name.starts_with("part-") {
            named.insert(data_of(&path, v["body"]["file"].as_str().unwrap()));
        } else if name == "claimed" {
            for f in v["adopted"].as_array().into_iter().flatten() {
                named.insert(data_of(&path, f.as_str().unwrap()));
            }
        }
    }
    let unnamed = list("data")
        .await
        .into_iter()
        .filter(|p| !named.contains(p))
        .collect();
    (unnamed, uploads.len())
}

/// `cos-emulator gc` against the store, directly (no proxy); its printed report.
fn gc(rig: &Rig, prefix: &str) -> String {
    gc_with_grace(rig, prefix, "0s")
}

/// `cos-emulator gc --grace <grace>`; its printed report.
fn gc_with_grace(rig: &Rig, prefix: &str, grace: &str) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cos-emulator"));
    cmd.args([
        "gc",
        "--grace",
        grace,
        "--store",
        &format!("s3://{BACKEND}/{prefix}"),
    ]);
    for (k, v) in rig.backend.sw.store_options() {
        cmd.arg("--store-option").arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("cos-emulator gc runs");
    assert!(
        out.status.success(),
        "gc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_seeded_workload_under_backend_faults_keeps_every_invariant() {
    let total: usize = std::env::var("GATEWAY_FAULTS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seeds: Vec<u64> = match std::env::var("GATEWAY_FAULTS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(seed) => vec![seed],
        None => vec![1, 2],
    };
    let limits = [
        ("timeout", "2s"),
        ("retries", "2"),
        ("retry_budget", "6s"),
        ("sweep_interval", "off"),
    ];
    let Some(rig) = Rig::start("workload", &limits).await else {
        return;
    };
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(rig.gateway().await);
    }
    let gateways = Arc::new(servers.iter().map(|s| s.http).collect::<Vec<_>>());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let per_task = (total / seeds.len() / TASKS).max(1);
    for &seed in &seeds {
        rig.proxy.pass();
        let bucket = servers[0].bucket(&format!("s{seed}")).await;
        rig.proxy.seeded(seed, 0.05, Duration::from_secs(3));
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            tasks.push(tokio::spawn(client(
                seed,
                task,
                per_task,
                gateways.clone(),
                bucket.clone(),
                tally.clone(),
            )));
        }
        let mut model = BTreeMap::new();
        for t in tasks {
            model.extend(t.await.expect("a client task"));
        }
        // Faults off: every key reads as what it may hold, through every gateway.
        rig.proxy.pass();
        for (key, possible) in &model {
            for &g in gateways.iter() {
                if let Some(r) = call(g, Req::new("GET", &bucket, key), &tally).await {
                    if r.status >= 500 {
                        tally
                            .lock()
                            .unwrap()
                            .violations
                            .push(format!("GET {key}: {} without faults", r.status));
                    }
                    check_read(key, &r, possible, &tally);
                }
            }
        }
        // Uploads a failed abort left go now.
        let listed = servers[0]
            .send(&Req::new("GET", &bucket, "").bare("uploads"))
            .await;
        let (keys, ids) = (xml_all(&listed, "Key"), xml_all(&listed, "UploadId"));
        for (key, id) in keys.iter().zip(&ids) {
            call(
                gateways[0],
                Req::new("DELETE", &bucket, key).query("uploadId", id),
                &tally,
            )
            .await;
        }
    }
    let swept = gc(&rig, "workload");
    let (unnamed, uploads) = leftovers(&rig, "workload").await;
    let (requests, faults) = rig.proxy.counts();
    let t = tally.lock().unwrap();
    println!(
        "gateway faults (seeds {seeds:?}): operations {} (acknowledged {}, refused {}), \
         backend requests {requests}, faults injected {faults:?}, gc {}, \
         unreferenced bodies after the sweep {}, uploads left {uploads}, invariant violations {}",
        t.ops,
        t.acknowledged,
        t.refused,
        swept.trim(),
        unnamed.len(),
        t.violations.len()
    );
    for v in &t.violations {
        println!("  violation: {v}");
    }
    assert!(
        t.violations.is_empty(),
        "{} invariant violations",
        t.violations.len()
    );
    assert!(
        unnamed.is_empty(),
        "unreferenced bodies after the sweep: {unnamed:?}"
    );
    drop(servers);
}
