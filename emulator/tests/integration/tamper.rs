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
