//! A write lands whole or not at all: truncated and refused uploads leave nothing behind,
//! a failed replacement keeps the old version, concurrent PUT/GET of one key give every GET
//! one complete version.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::common::*;

/// Files holding object bodies or in-progress writes.
fn body_files(s: &Server) -> Vec<std::path::PathBuf> {
    s.files()
        .into_iter()
        .filter(|p| {
            let rel = p.strip_prefix(s.dir.path()).unwrap();
            rel.starts_with("tmp") || rel.components().any(|c| c.as_os_str() == "data")
        })
        .collect()
}

async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn truncated_body_leaves_nothing() {
    let s = Server::start().await;
    let b = s.bucket("trunc").await;
    let mut req = Req::new("PUT", &b, "k")
        .header("Content-Length", "100000")
        .body(&pattern(40_000, 1));
    req.headers.retain(|_| true);
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(&req.to_bytes()).await.unwrap();
    t.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(t); // the client goes away mid-body
    assert!(
        eventually(|| body_files(&s).is_empty()).await,
        "left behind: {:?}",
        body_files(&s)
    );
    s.send(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");
    let list = s.send(&Req::new("GET", &b, "")).await.text();
    assert!(!list.contains("<Key>"), "{list}");
}

#[tokio::test]
async fn bad_content_md5_is_bad_digest_and_keeps_old_version() {
    let s = Server::start().await;
    let b = s.bucket("digest").await;
    s.put(&b, "k", b"old version").await;
    use base64::Engine;
    let wrong = base64::engine::general_purpose::STANDARD
        .encode(hex::decode(md5_hex(b"something else")).unwrap());
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header("Content-MD5", &wrong)
                .body(b"new version"),
        )
        .await;
    r.assert_error(400, "BadDigest");
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.body, b"old version");
    let r = s
        .send(
            &Req::new("PUT", &b, "fresh")
                .header("Content-MD5", &wrong)
                .body(b"new version"),
        )
        .await;
    r.assert_error(400, "BadDigest");
    s.send(&Req::new("GET", &b, "fresh"))
        .await
        .assert_error(404, "NoSuchKey");
    assert!(
        eventually(|| body_files(&s).len() == 1).await,
        "only the old body remains: {:?}",
        body_files(&s)
    );
}

#[tokio::test]
async fn missing_content_length_is_refused() {
    let s = Server::start().await;
    let b = s.bucket("len").await;
    let req = Req::new("PUT", &b, "k");
    let bytes = String::from_utf8(req.to_bytes())
        .unwrap()
        .replace("Content-Length: 0\r\n", "");
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(bytes.as_bytes()).await.unwrap();
    let r = read_response(&mut t).await;
    // The signature named content-length, so either refusal is right; nothing is stored.
    assert!(r.status == 411 || r.status == 403, "{}", r.text());
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.status, 404);
}

#[tokio::test]
async fn concurrent_put_and_get_of_one_key() {
    let s = std::sync::Arc::new(Server::start().await);
    let b = s.bucket("race").await;
    let versions: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![b'a' + i; 300_000 + usize::from(i) * 50_000])
        .collect();
    s.put(&b, "k", &versions[0]).await;
    let mut tasks = Vec::new();
    for w in 0..3 {
        let (s, b, body) = (s.clone(), b.clone(), versions[w % 3].clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..8 {
                s.put(&b, "k", &body).await;
            }
        }));
    }
    for _ in 0..3 {
        let (s, b, versions) = (s.clone(), b.clone(), versions.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..12 {
                let r = s.send(&Req::new("GET", &b, "k")).await;
                assert_eq!(r.status, 200);
                assert!(
                    versions.contains(&r.body),
                    "a GET saw a mix or a partial body ({} bytes)",
                    r.body.len()
                );
                assert_eq!(
                    r.header("etag").unwrap(),
                    format!("\"{}\"", md5_hex(&r.body))
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        eventually(|| body_files(&s).len() == 1).await,
        "replaced bodies are removed: {:?}",
        body_files(&s)
    );
}
