//! Gateways over one object store (a real SeaweedFS). An object written through
//! one gateway is read, copied, listed and deleted through the other in every mode;
//! multipart uploads move between them part by part; overwrites racing on two gateways
//! leave one whole version; a gateway killed with SIGKILL mid-write leaves nothing
//! half-visible; and SeaweedFS's own files hold no plaintext and no key.
//! `COS_SKIP_SEAWEEDFS=1` skips them (with a message), as the harness test does.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::common::*;
use crate::gateway_backend::GatewayBackend;
use crate::ops_common::*;

const BACKEND: &str = "gateways";

/// The shared SeaweedFS rig, with what only these tests need.
struct Backend(GatewayBackend);

impl std::ops::Deref for Backend {
    type Target = GatewayBackend;
    fn deref(&self) -> &GatewayBackend {
        &self.0
    }
}

impl Backend {
    fn start(test: &str) -> Option<Backend> {
        GatewayBackend::start(test, BACKEND).map(Backend)
    }

    /// A gateway as its own `cos-emulator serve` process (to be killed), and its HTTP port.
    fn gateway_process(&self, data: &Path) -> (Child, std::net::SocketAddr) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cos-emulator"));
        cmd.args(["serve", "--http", "127.0.0.1:0", "--https", "off"])
            .arg("--data")
            .arg(data)
            .arg("--master-key-file")
            .arg(self.master_key_file())
            .args(["--secret-id", OWNER.id, "--secret-key", OWNER.key])
            .args(["--appid", APPID])
            .args(["--store", &self.url.url]);
        for (k, v) in &self.url.options {
            cmd.arg("--store-option").arg(format!("{k}={v}"));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cos-emulator starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        let addr = first
            .strip_prefix("listening http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        std::thread::spawn(move || lines.for_each(drop));
        (child, addr)
    }

    /// How many objects the backend holds under `PREFIX/rest` (read with `object_store`
    /// itself, not through a gateway).
    async fn count_under(&self, rest: &str) -> usize {
        use futures_util::StreamExt as _;
        use object_store::ObjectStore as _;
        let path = object_store::path::Path::from(format!("{}/{rest}", self.prefix()));
        self.direct().list(Some(&path)).count().await
    }

    /// Every file under SeaweedFS's data directory, read whole, and every gzip member in
    /// them inflated (SeaweedFS gzips compressible uploads).
    fn files_at_rest(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for path in files_under(&self.sw.data_dir()) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for (at, inflated) in cos_emulator::introspect::scan::gzip_members(&bytes) {
                out.push((path.join(format!("gzip@{at}")), inflated));
            }
            out.push((path, bytes));
        }
        out
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn get(s: &Server, bucket: &str, key: &str, mode: Mode) -> Resp {
    s.send_tls(&mode.read(Req::new("GET", bucket, key))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_object_written_through_one_gateway_is_read_copied_and_deleted_through_the_other() {
    let Some(backend) = Backend::start("cross") else {
        return;
    };
    let a = backend.gateway().await;
    let b = backend.gateway().await;
    // The bucket made through A exists for B.
    let bucket = a.bucket("cross").await;
    let r = b.send(&Req::new("HEAD", &bucket, "")).await;
    assert_eq!(r.status, 200, "bucket through B");
    for (i, mode) in Mode::ALL.into_iter().enumerate() {
        let name = mode.name();
        let body = pattern(300 * 1024 + 7, i as u8 + 1);
        let key = format!("obj/{name}");
        let put = a
            .send_tls(&mode.upload(Req::new("PUT", &bucket, &key).body(&body)))
            .await;
        assert_eq!(put.status, 200, "{name}: put through A: {}", put.text());
        let got = get(&b, &bucket, &key, mode).await;
        assert_eq!(got.status, 200, "{name}: get through B: {}", got.text());
        assert!(got.body == body, "{name}: B read other bytes than A wrote");
        assert_eq!(got.header("etag"), put.header("etag"), "{name}: ETag");
        // A ranged read through B, across a chunk boundary.
        let ranged = b
            .send_tls(
                &mode.read(Req::new("GET", &bucket, &key).header("Range", "bytes=65530-65545")),
            )
            .await;
        assert_eq!(ranged.status, 206, "{name}: range through B");
        assert_eq!(ranged.body, &body[65530..65546], "{name}: range bytes");
        // Copy through B (same mode), read the copy through A.
        let copy_key = format!("copy/{name}");
        let mut copy = mode.upload(
            Req::new("PUT", &bucket, &copy_key).header("x-cos-copy-source", &source(&bucket, &key)),
        );
        if let Mode::C(k) = mode {
            copy = with_source_key(copy, k);
        }
        let r = b.send_tls(&copy).await;
        assert_eq!(r.status, 200, "{name}: copy through B: {}", r.text());
        let got = get(&a, &bucket, &copy_key, mode).await;
        assert!(
            got.status == 200 && got.body == body,
            "{name}: copy read through A"
        );
        // Delete through B: gone for A.
        for k in [&key, &copy_key] {
            let r = b.send(&Req::new("DELETE", &bucket, k)).await;
            assert_eq!(r.status, 204, "{name}: delete {k} through B");
            let r = get(&a, &bucket, k, mode).await;
            assert_eq!(r.status, 404, "{name}: {k} after delete, through A");
        }
    }

    // A multipart upload moving between gateways part by part (SSE-KMS: the default CMK
    // made by one gateway seals the other's parts).
    let key = "mp/kms";
    let id = initiate(&a, &bucket, key, Mode::Kms).await;
    let p1 = pattern(5 * 1024 * 1024 + 3, 9);
    let p2 = pattern(1024 * 1024 + 11, 10);
    let r1 = b.send_tls(&part(&bucket, key, &id, 1, &p1)).await;
    assert_eq!(r1.status, 200, "part 1 through B: {}", r1.text());
    let r2 = a.send_tls(&part(&bucket, key, &id, 2, &p2)).await;
    assert_eq!(r2.status, 200, "part 2 through A: {}", r2.text());
    let listed = b
        .send(&Req::new("GET", &bucket, key).query("uploadId", &id))
        .await;
    assert_eq!(
        xml_all(&listed, "PartNumber"),
        ["1", "2"],
        "parts through B"
    );
    let parts = [
        (1, r1.header("etag").unwrap().to_string()),
        (2, r2.header("etag").unwrap().to_string()),
    ];
    let done = b.send_tls(&complete(&bucket, key, &id, &parts)).await;
    assert_eq!(done.status, 200, "complete through B: {}", done.text());
    let got = a.send_tls(&Req::new("GET", &bucket, key)).await;
    assert_eq!(got.status, 200);
    assert!(
        got.body == [p1.as_slice(), p2.as_slice()].concat(),
        "completed bytes through A"
    );
    // The listing through A names it; the upload is gone through both.
    let list = a
        .send(&Req::new("GET", &bucket, "").query("prefix", "mp/"))
        .await;
    assert_eq!(xml_all(&list, "Key"), ["mp/kms"]);
    let uploads = b.send(&Req::new("GET", &bucket, "").bare("uploads")).await;
    assert!(
        xml_all(&uploads, "UploadId").is_empty(),
        "{}",
        uploads.text()
    );
}

/// Delete Multiple Objects, GET Bucket location and ACL grants written through one gateway
/// hold for the other (`sdk_ops::exercise`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multi_delete_location_and_grants_hold_across_gateways() {
    let Some(backend) = Backend::start("sdkops") else {
        return;
    };
    let a = backend.gateway().await;
    let b = backend.gateway().await;
    crate::sdk_ops::exercise(&a, &b, "sdkops").await;
}

/// A bucket's default encryption set through one gateway is answered and applied by the
/// other, and deleted through it (`bucket_encryption::exercise`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_default_encryption_holds_across_gateways() {
    let Some(backend) = Backend::start("bucketenc") else {
        return;
    };
    let a = backend.gateway().await;
    let b = backend.gateway().await;
    crate::bucket_encryption::exercise(&a, &b, "bucketenc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overwrites_racing_on_two_gateways_leave_one_whole_version_and_no_stray_body() {
    let Some(backend) = Backend::start("race") else {
        return;
    };
    let a = backend.gateway().await;
    let b = backend.gateway().await;
    let bucket = a.bucket("race").await;
    for round in 0..12u8 {
        let x = pattern(200 * 1024 + usize::from(round), round);
        let y = pattern(150 * 1024 + usize::from(round), round.wrapping_add(100));
        let put_x = Mode::Cos.upload(Req::new("PUT", &bucket, "k").body(&x));
        let put_y = Mode::Cos.upload(Req::new("PUT", &bucket, "k").body(&y));
        let (rx, ry) = tokio::join!(a.send_tls(&put_x), b.send_tls(&put_y));
        assert_eq!((rx.status, ry.status), (200, 200), "round {round}");
        for reader in [&a, &b] {
            let got = reader.send_tls(&Req::new("GET", &bucket, "k")).await;
            assert_eq!(got.status, 200, "round {round}: {}", got.text());
            assert!(
                got.body == x || got.body == y,
                "round {round}: the object is neither whole version ({} bytes)",
                got.body.len()
            );
        }
    }
    // Each writer removes exactly the body it replaced, after answering: one body left
    // soon after, no leak.
    let bucket_data = format!("data/{bucket}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut left = backend.count_under(&bucket_data).await;
    while left != 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        left = backend.count_under(&bucket_data).await;
    }
    assert_eq!(
        left, 1,
        "bodies left in {bucket_data} 10 s after the last write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_killed_mid_write_leaves_nothing_half_visible() {
    let Some(backend) = Backend::start("killed") else {
        return;
    };
    let a = backend.gateway().await;
    let bucket = a.bucket("killed").await;
    let old = pattern(64 * 1024, 1);
    a.send_tls(&Mode::Cos.upload(Req::new("PUT", &bucket, "over").body(&old)))
        .await;
    let upload = initiate(&a, &bucket, "mp", Mode::Cos).await;
    let one = pattern(5 * 1024 * 1024, 2);
    let r1 = a.send_tls(&part(&bucket, "mp", &upload, 1, &one)).await;
    assert_eq!(r1.status, 200);

    let data = tempfile::tempdir().unwrap();
    let (mut victim, addr) = backend.gateway_process(data.path());
    // Three writes cut by SIGKILL after 12 MiB of 24 (so the body is mid-way through a
    // backend multipart upload): a new key, an overwrite, and part 2 of the upload.
    let total = 24 * 1024 * 1024;
    let body = pattern(total, 3);
    let heads = [
        Mode::Cos.upload(Req::new("PUT", &bucket, "new").body(&body)),
        Mode::Cos.upload(Req::new("PUT", &bucket, "over").body(&body)),
        part(&bucket, "mp", &upload, 2, &body),
    ];
    let mut streams = Vec::new();
    for req in &heads {
        let bytes = req.to_bytes();
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let head_end = bytes.len() - total;
        s.write_all(&bytes[..head_end + total / 2]).unwrap();
        streams.push(s);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    victim.kill().unwrap();
    victim.wait().unwrap();
    drop(streams);

    let r = a.send_tls(&Req::new("GET", &bucket, "new")).await;
    assert_eq!(r.status, 404, "a write cut short is not visible");
    let r = a.send_tls(&Req::new("GET", &bucket, "over")).await;
    assert!(
        r.status == 200 && r.body == old,
        "the old version stays whole"
    );
    let list = a.send(&Req::new("GET", &bucket, "")).await;
    assert_eq!(xml_all(&list, "Key"), ["over"]);
    let parts = a
        .send(&Req::new("GET", &bucket, "mp").query("uploadId", &upload))
        .await;
    assert_eq!(
        xml_all(&parts, "PartNumber"),
        ["1"],
        "the cut part is not listed"
    );
    let done = a
        .send_tls(&complete(
            &bucket,
            "mp",
            &upload,
            &[(1, r1.header("etag").unwrap().into())],
        ))
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let got = a.send_tls(&Req::new("GET", &bucket, "mp")).await;
    assert!(got.body == one, "completed from the parts that were whole");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_files_hold_no_plaintext_and_no_key() {
    let Some(backend) = Backend::start("at-rest") else {
        return;
    };
    let a = backend.gateway().await;
    let bucket = a.bucket("rest").await;
    let marker = |tag: &str| {
        let mut m = format!("PLAINTEXT-MARKER-{tag}-").into_bytes();
        m.extend(pattern(4096, 7));
        m
    };
    for mode in [Mode::Cos, Mode::Kms, Mode::C(K1)] {
        let body = marker(&mode.name());
        let r = a
            .send_tls(&mode.upload(Req::new("PUT", &bucket, &mode.name()).body(&body)))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // A plain object: the positive control (the scan does see SeaweedFS's stored bytes).
    let plain = marker("plain");
    a.put(&bucket, "plain", &plain).await;
    // Let the volume server flush what it wrote.
    std::thread::sleep(std::time::Duration::from_millis(500));

    let files = backend.files_at_rest();
    assert!(!files.is_empty(), "SeaweedFS wrote no files?");
    let found = |needle: &[u8]| files.iter().any(|(_, b)| contains(b, needle));
    assert!(
        found(b"PLAINTEXT-MARKER-plain-"),
        "positive control: the plain object is on disk"
    );
    for tag in ["sse-cos", "sse-kms", "sse-c-k1"] {
        assert!(
            !found(format!("PLAINTEXT-MARKER-{tag}-").as_bytes()),
            "{tag} plaintext at rest"
        );
    }
    // No key: the SSE-C key (raw and base64), nor the master key's root bytes.
    assert!(!found(K1), "SSE-C key at rest");
    assert!(
        !found(STANDARD.encode(K1).as_bytes()),
        "SSE-C key (base64) at rest"
    );
    let master: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backend.master_key_file()).unwrap()).unwrap();
    let mut secrets = Vec::new();
    collect_strings(&master, &mut secrets);
    for s in secrets.iter().filter(|s| s.len() >= 40) {
        assert!(!found(s.as_bytes()), "master key material at rest");
        if let Ok(raw) = STANDARD.decode(s) {
            assert!(!found(&raw), "master key material (raw) at rest");
        }
    }
    // The KMS state is stored, but sealed: no CMK id's record in clear.
    assert!(!found(b"\"material\""), "KMS key material in clear at rest");
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}
