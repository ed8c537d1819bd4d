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
//!   a bound. It prints the operations, faults injected and invariant violations (0).
//!
//! `cargo test -p cos-emulator --test gateway_faults` runs a short seed set (well under a
//! minute). The long run (at least 10,000 operations with faults) is
//!
//! ```text
//! GATEWAY_FAULTS_OPS=10000 cargo test -p cos-emulator --release --test gateway_faults -- --nocapture
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
#[allow(dead_code)]
#[path = "integration/ops_common.rs"]
mod ops_common;
#[path = "support/seaweedfs.rs"]
mod seaweedfs;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use cos_emulator::store::remote::StoreUrl;
use fault_proxy::FaultProxy;
use seaweedfs::{find_weed, SeaweedFs};

const BACKEND: &str = "faults";

/// SeaweedFS, the proxy in front of it, and what the gateways share.
struct Rig {
    sw: SeaweedFs,
    proxy: FaultProxy,
    keys: tempfile::TempDir,
    url: StoreUrl,
}

impl Rig {
    /// `None` (with a message) when SeaweedFS tests are switched off.
    async fn start(test: &str, limits: &[(&str, &str)]) -> Option<Rig> {
        if std::env::var("COS_SKIP_SEAWEEDFS").as_deref() == Ok("1") {
            eprintln!("{test}: skipped, COS_SKIP_SEAWEEDFS=1");
            return None;
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let weed = find_weed(&repo).expect("SeaweedFS's weed");
        let sw = SeaweedFs::start(&weed).expect("SeaweedFS starts");
        sw.create_bucket(BACKEND).expect("backend bucket");
        let proxy = FaultProxy::start(sw.s3_addr()).await;
        let mut options = sw.store_options();
        for (k, v) in &mut options {
            if k == "endpoint" {
                *v = proxy.endpoint();
            }
        }
        options.extend(limits.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let url = StoreUrl {
            url: format!("s3://{BACKEND}/{test}"),
            options,
        };
        Some(Rig {
            sw,
            proxy,
            keys: tempfile::tempdir().unwrap(),
            url,
        })
    }

    fn master_key_file(&self) -> PathBuf {
        self.keys.path().join("master.json")
    }

    /// A gateway in this process over the backend, through the proxy.
    async fn gateway(&self) -> Server {
        let url = self.url.clone();
        let master = self.master_key_file();
        Server::start_with(tempfile::tempdir().unwrap(), move |c| {
            c.store = Some(url);
            c.master_key_file = Some(master);
        })
        .await
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
    drop(rig.sw);
}
