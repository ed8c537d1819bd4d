//! The vendor's own error codes (`ERROR-CODES.md`): one test per code the
//! emulator used to answer differently, each against the raw HTTP API and naming its row.

use crate::common::*;
use crate::ops_common::{complete, initiate, part, Mode, KMS_ID, SSE};

/// Row 6a: SSE-KMS naming a key that does not exist → 400 KmsKeyNotExist; nothing stored.
#[tokio::test]
async fn kms_key_not_exist() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    let put = Req::new("PUT", &b, "k")
        .header(SSE, "cos/kms")
        .header(KMS_ID, "no-such-key")
        .body(b"secret body");
    s.send(&put).await.assert_error(400, "KmsKeyNotExist");
    s.send(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");
}

/// Row 6b: SSE-KMS naming a disabled key → 400 KmsKeyDisabled (not 403
/// KMS.DisabledException, the AWS spelling).
#[tokio::test]
async fn kms_key_disabled() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    let id = s.emu.create_kms_key(APPID, "soon-disabled").unwrap();
    s.emu.disable_kms_key(APPID, &id).unwrap();
    let put = Req::new("PUT", &b, "k")
        .header(SSE, "cos/kms")
        .header(KMS_ID, &id)
        .body(b"secret body");
    s.send(&put).await.assert_error(400, "KmsKeyDisabled");
}

/// Row 11: `x-cos-server-side-encryption` on GET → 400 SSEHeaderNotAllowed; on HEAD the
/// same status (a HEAD answer has no body to carry the code).
#[tokio::test]
async fn sse_header_not_allowed_on_get_and_head() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    let r = s
        .send(&Req::new("PUT", &b, "k").header(SSE, "AES256").body(b"x"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.send(&Req::new("GET", &b, "k").header(SSE, "AES256"))
        .await
        .assert_error(400, "SSEHeaderNotAllowed");
    let r = s
        .send(&Req::new("HEAD", &b, "k").header(SSE, "AES256"))
        .await;
    assert_eq!(r.status, 400);
}

/// Row 8c: POST ?restore of a STANDARD object → 405 RestoreNonArchiveObject.
#[tokio::test]
async fn restore_non_archive_object() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    assert_eq!(s.put(&b, "k", b"standard").await.status, 200);
    let restore = Req::new("POST", &b, "k")
        .bare("restore")
        .body(b"<RestoreRequest><Days>1</Days></RestoreRequest>");
    s.send(&restore)
        .await
        .assert_error(405, "RestoreNonArchiveObject");
}

/// Row 13d: a q-sign-time starting more than 15 minutes ahead → 403 RequestTimeTooSkewed;
/// 5 minutes ahead is within the tolerated skew and is served.
#[tokio::test]
async fn request_time_too_skewed() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    assert_eq!(s.put(&b, "k", b"x").await.status, 200);
    let mut req = Req::new("GET", &b, "k");
    req.window = Some((now() + 16 * 60, now() + 3600));
    s.send(&req).await.assert_error(403, "RequestTimeTooSkewed");
    let mut req = Req::new("GET", &b, "k");
    req.window = Some((now() + 5 * 60, now() + 3600));
    let r = s.send(&req).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Row 13f: a malformed Authorization header → 403 InvalidSecurity (the 2018 COS list's
/// "Signature string is invalid"), never the S3-only AuthorizationHeaderMalformed.
#[tokio::test]
async fn malformed_authorization_is_invalid_security() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    let mut req = Req::new("GET", &b, "");
    req.raw_authorization = Some("q-sign-algorithm=sha1&q-ak=a".into());
    s.send(&req).await.assert_error(403, "InvalidSecurity");
}

/// Row 15c: Complete listing parts 1 and 3 (2 uploaded but left out) → 400 InvalidPart,
/// and no object is created.
#[tokio::test]
async fn complete_with_non_contiguous_parts_is_invalid_part() {
    let s = Server::start().await;
    let b = s.bucket("codes").await;
    let id = initiate(&s, &b, "k", Mode::Plain).await;
    let mut listed = Vec::new();
    let parts = [
        pattern(1024 * 1024, 1),
        pattern(1024 * 1024, 2),
        pattern(10, 3),
    ];
    for (n, body) in parts.iter().enumerate() {
        let n = n as u32 + 1;
        let r = s.send(&part(&b, "k", &id, n, body)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        listed.push((n, r.header("etag").unwrap().to_string()));
    }
    listed.remove(1);
    s.send(&complete(&b, "k", &id, &listed))
        .await
        .assert_error(400, "InvalidPart");
    s.send(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");
}
