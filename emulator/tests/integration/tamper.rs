//! AT-REST, tampering: an object of at most one chunk (64 KiB of plaintext) whose
//! stored bytes fail authentication is answered with a 500 InternalError before any status
//! line goes out, in every SSE mode and algorithm, for a whole GET and for a Range GET.
//! Larger objects are streamed: their status line goes out with the first chunk and the
//! body is cut at the first chunk that fails (`sse::flipped_byte_on_disk_fails_the_get`).

use crate::common::*;
use crate::ops_common::{with_key, K1, SSE};

/// One encrypted way to store an object: name, upload headers, whether it needs TLS.
type Mode = (&'static str, fn(Req) -> Req, bool);

/// Every encrypted way to store an object.
fn modes() -> Vec<Mode> {
    vec![
        ("sse-cos-aes256", |r| r.header(SSE, "AES256"), false),
        ("sse-cos-sm4", |r| r.header(SSE, "SM4"), false),
        ("sse-kms", |r| r.header(SSE, "cos/kms"), false),
        ("sse-c", |r| with_key(r, K1), true),
    ]
}

fn body_file(s: &Server, bucket: &str) -> std::path::PathBuf {
    let mut files = files_under(&s.dir.path().join("buckets").join(bucket).join("data"));
    assert_eq!(files.len(), 1, "{files:?}");
    files.pop().unwrap()
}

async fn send(s: &Server, req: Req, tls: bool) -> Resp {
    if tls {
        s.send_tls(&req).await
    } else {
        s.send(&req).await
    }
}

#[tokio::test]
async fn tampered_small_object_is_an_error_not_a_cut_200() {
    let s = Server::start().await;
    for (size, damage) in [(1_000usize, "flip"), (65_536, "flip"), (1_000, "truncate")] {
        for (name, upload, tls) in modes() {
            let b = s.bucket(&format!("tamper-{name}-{size}-{damage}")).await;
            let body = pattern(size, 7);
            let r = send(&s, upload(Req::new("PUT", &b, "k")).body(&body), tls).await;
            assert_eq!(r.status, 200, "{name}: {}", r.text());
            let read = |req: Req| if tls { with_key(req, K1) } else { req };
            let file = body_file(&s, &b);
            let mut stored = std::fs::read(&file).unwrap();
            match damage {
                "flip" => stored[size / 2] ^= 0x01,
                _ => stored.truncate(stored.len() - 1),
            }
            std::fs::write(&file, &stored).unwrap();
            for req in [
                read(Req::new("GET", &b, "k")),
                read(Req::new("GET", &b, "k")).header("Range", "bytes=0-9"),
            ] {
                let r = send(&s, req, tls).await;
                r.assert_error(500, "InternalError");
                assert!(
                    r.text().contains("failed authentication"),
                    "{name} {size} {damage}: {}",
                    r.text()
                );
                let sample = &body[size / 4..size / 4 + 16];
                assert!(
                    !r.body.windows(16).any(|w| w == sample),
                    "{name}: no plaintext in the error"
                );
            }
            // The object's metadata is intact: HEAD still answers.
            assert_eq!(
                send(&s, read(Req::new("HEAD", &b, "k")), tls).await.status,
                200
            );
        }
    }
}

/// An undamaged small object is still served whole and by range (the verification reads
/// it before the status line; nothing else changes).
#[tokio::test]
async fn intact_small_object_is_served_whole_and_by_range() {
    let s = Server::start().await;
    for (name, upload, tls) in modes() {
        let b = s.bucket(&format!("intact-{name}")).await;
        let body = pattern(65_536, 3);
        let r = send(&s, upload(Req::new("PUT", &b, "k")).body(&body), tls).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let read = |req: Req| if tls { with_key(req, K1) } else { req };
        let r = send(&s, read(Req::new("GET", &b, "k")), tls).await;
        assert_eq!((r.status, r.body.len()), (200, body.len()), "{name}");
        assert!(r.body == body, "{name}");
        let r = send(
            &s,
            read(Req::new("GET", &b, "k")).header("Range", "bytes=100-199"),
            tls,
        )
        .await;
        assert_eq!(r.status, 206, "{name}");
        assert_eq!(r.body, &body[100..200], "{name}");
    }
}

/// The record file of `key` in `bucket` (the local store names it by the key's SHA-256).
fn record_file(s: &Server, bucket: &str, key: &str) -> std::path::PathBuf {
    use sha2::Digest;
    let name = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    s.dir
        .path()
        .join("buckets")
        .join(bucket)
        .join("objects")
        .join(format!("{name}.json"))
}

/// Regression (record authentication): editing an SSE-COS object's ACL (default: the private
/// bucket's) to public-read in its record on disk made
/// its plaintext anonymously readable. The record's MAC no longer verifies, so the object
/// is answered with a 500 to everyone, never served.
#[tokio::test]
async fn acl_edited_on_disk_is_refused_not_served() {
    let s = Server::start().await;
    let b = s.bucket("recmac").await;
    let body = b"sse-cos plaintext under a private acl";
    let r = s
        .send(&Req::new("PUT", &b, "k").header(SSE, "AES256").body(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file = record_file(&s, &b, "k");
    let record = std::fs::read_to_string(&file).unwrap();
    assert!(record.contains("\"acl\": \"default\""), "{record}");
    std::fs::write(
        &file,
        record.replace("\"acl\": \"default\"", "\"acl\": \"public-read\""),
    )
    .unwrap();
    for req in [
        Req::new("GET", &b, "k").auth(Auth::Anonymous),
        Req::new("GET", &b, "k"),
        Req::new("HEAD", &b, "k"),
    ] {
        let r = s.send(&req).await;
        assert_eq!(r.status, 500, "{} {}", req.method, r.text());
        assert!(!r.body.windows(body.len()).any(|w| w == body));
    }
    // A record whose MAC was stripped is refused the same way.
    std::fs::write(&file, &record).unwrap();
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.body, body);
    let stripped: serde_json::Value = serde_json::from_str(&record).unwrap();
    let mut stripped = stripped.as_object().unwrap().clone();
    assert!(stripped.remove("mac").is_some(), "the record carries a MAC");
    std::fs::write(&file, serde_json::to_vec(&stripped).unwrap()).unwrap();
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.status, 500);
}

/// Regression (record authentication): one object's record copied over another key's served the
/// first object's data under the second key (the SSE key binding used the key name
/// stored in the record). The MAC binds the key the record is looked up under.
#[tokio::test]
async fn record_copied_over_another_key_is_refused() {
    let s = Server::start().await;
    let b = s.bucket("recmove").await;
    for (key, body) in [
        ("one", &b"first object"[..]),
        ("two", &b"second object"[..]),
    ] {
        let r = s
            .send(&Req::new("PUT", &b, key).header(SSE, "AES256").body(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    s.put(&b, "plain-one", b"plain first").await;
    s.put(&b, "plain-two", b"plain second").await;
    for (from, to) in [("one", "two"), ("plain-one", "plain-two")] {
        std::fs::copy(record_file(&s, &b, from), record_file(&s, &b, to)).unwrap();
        let r = s.send(&Req::new("GET", &b, to)).await;
        assert_eq!(r.status, 500, "{to}: {}", r.text());
        assert!(!r.text().contains("first"), "{}", r.text());
    }
    assert_eq!(
        s.send(&Req::new("GET", &b, "one")).await.body,
        b"first object"
    );
}
