//! Archive storage classes and restore: ARCHIVE-GET-BEFORE-RESTORE, POST
//! ?restore and `x-cos-restore`, SSEC-RESTORE, ARCHIVE-NO-ENCRYPT, ARCHIVE-AFTER-RESTORE.

use std::time::Duration;

use crate::common::*;
use crate::ops_common::*;

fn restore_request(days: u32) -> Vec<u8> {
    format!("<RestoreRequest><Days>{days}</Days><CASJobParameters><Tier>Expedited</Tier></CASJobParameters></RestoreRequest>").into_bytes()
}

fn restore(b: &str, key: &str) -> Req {
    Req::new("POST", b, key)
        .bare("restore")
        .body(&restore_request(1))
}

async fn start(delay: Duration) -> Server {
    Server::start_with(tempfile::tempdir().unwrap(), |c| c.restore_delay = delay).await
}

#[tokio::test]
async fn archived_objects_read_only_after_restore() {
    let s = start(Duration::from_millis(300)).await;
    let b = s.bucket("arch").await;
    let body = pattern(70_000, 6);
    let r = s
        .send(
            &Req::new("PUT", &b, "obj")
                .header("x-cos-storage-class", "ARCHIVE")
                .body(&body),
        )
        .await;
    assert_eq!(r.status, 200);
    s.send(&Req::new("GET", &b, "obj"))
        .await
        .assert_error(403, "InvalidObjectState");
    let r = s.send(&Req::new("HEAD", &b, "obj")).await;
    assert_eq!(r.header("x-cos-storage-class"), Some("ARCHIVE"));
    assert_eq!(r.header("x-cos-restore"), None);

    assert_eq!(s.send(&restore(&b, "obj")).await.status, 202);
    s.send(&restore(&b, "obj"))
        .await
        .assert_error(409, "RestoreAlreadyInProgress");
    let r = s.send(&Req::new("HEAD", &b, "obj")).await;
    assert_eq!(r.header("x-cos-restore"), Some("ongoing-request=\"true\""));
    s.send(&Req::new("GET", &b, "obj"))
        .await
        .assert_error(403, "InvalidObjectState");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = s.send(&Req::new("HEAD", &b, "obj")).await;
    let restored = r.header("x-cos-restore").unwrap();
    assert!(
        restored.starts_with("ongoing-request=\"false\", expiry-date=\""),
        "{restored}"
    );
    let r = s.send(&Req::new("GET", &b, "obj")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    // Renewing a restored object: 200.
    assert_eq!(s.send(&restore(&b, "obj")).await.status, 200);

    // A new write of the key is not restored.
    let r = s
        .send(
            &Req::new("PUT", &b, "obj")
                .header("x-cos-storage-class", "ARCHIVE")
                .body(b"new"),
        )
        .await;
    assert_eq!(r.status, 200);
    s.send(&Req::new("GET", &b, "obj"))
        .await
        .assert_error(403, "InvalidObjectState");

    s.put(&b, "standard", b"x").await;
    s.send(&restore(&b, "standard"))
        .await
        .assert_error(405, "RestoreNonArchiveObject");
    s.send(&restore(&b, "missing"))
        .await
        .assert_error(404, "NoSuchKey");
    let r = s
        .send(&Req::new("POST", &b, "obj").bare("restore").body(b"<Nope/>"))
        .await;
    r.assert_error(400, "MalformedXML");
}

/// Restore of an SSE-C archived object (SSEC-RESTORE).
#[tokio::test]
async fn sse_c_archive_restores_only_with_its_key() {
    let s = start(Duration::ZERO).await;
    let b = s.bucket("archssec").await;
    let r = s
        .send_tls(&with_key(
            Req::new("PUT", &b, "sdk-sse-c")
                .header("x-cos-storage-class", "ARCHIVE")
                .body(b"00000"),
            K1,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.send_tls(&restore(&b, "sdk-sse-c"))
        .await
        .assert_error(400, "InvalidRequest");
    s.send_tls(&with_key(restore(&b, "sdk-sse-c"), K2))
        .await
        .assert_error(403, "AccessDenied");
    s.send(&with_key(restore(&b, "sdk-sse-c"), K1))
        .await
        .assert_error(400, "InvalidRequest");
    let r = s
        .send_tls(&with_key(Req::new("HEAD", &b, "sdk-sse-c"), K1))
        .await;
    assert_eq!(r.header("x-cos-restore"), None, "nothing started");
    s.send_tls(&with_key(Req::new("GET", &b, "sdk-sse-c"), K1))
        .await
        .assert_error(403, "InvalidObjectState");

    let r = s.send_tls(&with_key(restore(&b, "sdk-sse-c"), K1)).await;
    assert_eq!(r.status, 202, "{}", r.text());
    let r = s
        .send_tls(&with_key(Req::new("HEAD", &b, "sdk-sse-c"), K1))
        .await;
    assert!(r
        .header("x-cos-restore")
        .unwrap()
        .starts_with("ongoing-request=\"false\""));
    let r = s
        .send_tls(&with_key(Req::new("GET", &b, "sdk-sse-c"), K1))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"00000");
    s.send_tls(&with_key(Req::new("GET", &b, "sdk-sse-c"), K2))
        .await
        .assert_error(403, "AccessDenied");
}

/// ARCHIVE-NO-ENCRYPT and ARCHIVE-AFTER-RESTORE (seed 002's path).
#[tokio::test]
async fn encryption_on_archived_objects_only_after_restore_and_class_change() {
    let s = start(Duration::ZERO).await;
    let b = s.bucket("archenc").await;
    let body = pattern(98_304, 8);
    let r = s
        .send(
            &Req::new("PUT", &b, "obj")
                .header("x-cos-storage-class", "DEEP_ARCHIVE")
                .body(&body),
        )
        .await;
    assert_eq!(r.status, 200);
    let self_copy = |class: &str| {
        Req::new("PUT", &b, "obj")
            .header("x-cos-copy-source", &source(&b, "obj"))
            .header("x-cos-storage-class", class)
    };
    for class in ["DEEP_ARCHIVE", "STANDARD"] {
        let r = s.send(&self_copy(class).header(SSE, "AES256")).await;
        r.assert_error(403, "InvalidObjectState");
        assert!(!r.body.windows(64).any(|w| w == &body[..64]));
    }
    let r = s.send_tls(&with_key(self_copy("DEEP_ARCHIVE"), K1)).await;
    r.assert_error(403, "InvalidObjectState");

    assert_eq!(s.send(&restore(&b, "obj")).await.status, 202);
    let r = s
        .send(&self_copy("DEEP_ARCHIVE").header(SSE, "cos/kms"))
        .await;
    r.assert_error(403, "InvalidObjectState");
    let r = s.send(&Req::new("HEAD", &b, "obj")).await;
    assert_eq!(r.header("x-cos-storage-class"), Some("DEEP_ARCHIVE"));
    assert_eq!(r.header(SSE), None, "unchanged");

    let r = s.send(&self_copy("STANDARD").header(SSE, "AES256")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), Some("AES256"));
    let r = s.send(&Req::new("GET", &b, "obj")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header(SSE), Some("AES256"));
    assert_eq!(r.header("x-cos-storage-class"), None, "STANDARD");
}
