//! The shared SeaweedFS harness (`tests/support/seaweedfs.rs`) against a real `weed`: auth
//! is on (unsigned requests refused, SigV4 with the generated keys served), buckets made
//! through the filer serve at once, and instances started together do not collide.
//! `COS_WEED` names the binary, else `scripts/setup-seaweedfs.sh` installs it;
//! `COS_SKIP_SEAWEEDFS=1` skips these tests (anything else failing to start is a failure).

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::seaweedfs::{find_weed, http_request, HttpReply, SeaweedFs};

/// The `weed` binary, or `None` (with a message) when `COS_SKIP_SEAWEEDFS=1`.
fn weed(test: &str) -> Option<PathBuf> {
    if std::env::var("COS_SKIP_SEAWEEDFS").as_deref() == Ok("1") {
        eprintln!("{test}: skipped, COS_SKIP_SEAWEEDFS=1");
        return None;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Some(find_weed(&repo).expect("SeaweedFS's weed (COS_WEED or scripts/setup-seaweedfs.sh)"))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A path-style S3 request signed with SigV4 (header form, `UNSIGNED-PAYLOAD`), written
/// here independently of any client the tests exercise.
fn signed(sw: &SeaweedFs, method: &str, path: &str, body: &[u8]) -> HttpReply {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let amz_date = time::OffsetDateTime::now_utc().format(&fmt).unwrap();
    let day = &amz_date[..8];
    let host = sw.s3_addr().to_string();
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical = format!(
        "{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\
         x-amz-date:{amz_date}\n\n{signed_headers}\nUNSIGNED-PAYLOAD"
    );
    let scope = format!("{day}/{}/s3/aws4_request", sw.region());
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", sw.secret_key()).as_bytes(), day);
    for part in [sw.region(), "s3", "aws4_request"] {
        key = hmac(&key, part);
    }
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
        sw.access_key(),
        hex::encode(hmac(&key, &to_sign))
    );
    http_request(
        sw.s3_addr(),
        method,
        path,
        &[
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-date", &amz_date),
            ("Authorization", &authorization),
        ],
        body,
    )
    .unwrap()
}

fn text(r: &HttpReply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Creates `bucket` and checks a signed PUT and GET round-trip in it.
fn round_trip(sw: &SeaweedFs, bucket: &str) {
    sw.create_bucket(bucket).unwrap();
    let path = format!("/{bucket}/harness-object");
    let put = signed(sw, "PUT", &path, b"harness body");
    assert_eq!(put.status, 200, "signed PUT: {}", text(&put));
    let get = signed(sw, "GET", &path, b"");
    assert_eq!(get.status, 200, "signed GET: {}", text(&get));
    assert_eq!(get.body, b"harness body");
}

#[test]
fn seaweedfs_refuses_unsigned_and_serves_signed_requests() {
    let Some(weed) = weed("seaweedfs_refuses_unsigned_and_serves_signed_requests") else {
        return;
    };
    let sw = SeaweedFs::start(&weed).unwrap();
    assert!(sw.endpoint().starts_with("http://127.0.0.1:"));
    assert_eq!(sw.region(), "us-east-1");
    assert!(sw.log_path().is_file());
    round_trip(&sw, "harness-one");

    let unsigned = http_request(
        sw.s3_addr(),
        "PUT",
        "/harness-one/unsigned",
        &[],
        b"no signature",
    )
    .unwrap();
    assert_eq!(unsigned.status, 403, "unsigned PUT: {}", text(&unsigned));
    assert!(text(&unsigned).contains("<Code>AccessDenied</Code>"));

    // A bucket the harness did not create does not exist (no auto-creation on write).
    let missing = signed(&sw, "PUT", "/harness-missing/k", b"x");
    assert_eq!(
        missing.status,
        404,
        "PUT to a missing bucket: {}",
        text(&missing)
    );
    assert!(text(&missing).contains("<Code>NoSuchBucket</Code>"));
    assert!(sw.create_bucket("harness-one").is_err(), "created twice");
    assert!(
        sw.create_bucket("Bad_Name").is_err(),
        "invalid name accepted"
    );

    // What was written is at rest under the data directory.
    assert!(std::fs::read_dir(sw.data_dir())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".dat")));
}

#[test]
fn seaweedfs_instances_started_together_get_their_own_ports() {
    let Some(weed) = weed("seaweedfs_instances_started_together_get_their_own_ports") else {
        return;
    };
    let (mut a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| SeaweedFs::start(&weed));
        let b = s.spawn(|| SeaweedFs::start(&weed));
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert_ne!(a.endpoint(), b.endpoint());
    assert_ne!(a.filer_addr(), b.filer_addr());
    assert_ne!(a.master_addr(), b.master_addr());
    assert_ne!(a.data_dir(), b.data_dir());
    assert_ne!(a.access_key(), b.access_key());
    round_trip(&a, "harness-a");
    round_trip(&b, "harness-b");

    // Killed: the process is gone; dropped: so is its directory.
    let (pid, dir) = (a.pid(), a.data_dir());
    a.kill();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(http_request(a.s3_addr(), "GET", "/healthz", &[], b"").is_err());
    drop(a);
    assert!(!dir.exists());
    round_trip(&b, "harness-b-after");
}
