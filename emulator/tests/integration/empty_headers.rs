//! The empty-header rule (`request::EMPTY_IS_ABSENT`): an empty value of a header the
//! official SDKs send empty on purpose is the header's absence; an empty value of any other
//! header the emulator reads is refused where it is malformed. One test per header.

use crate::common::*;
use crate::ops_common::*;

/// Uploads `body` with one extra header and returns the HEAD of the object.
async fn put_then_head(s: &Server, bucket: &str, name: &str, value: &str) -> Resp {
    let r = s
        .send(
            &Req::new("PUT", bucket, "k")
                .header(name, value)
                .body(b"abc"),
        )
        .await;
    assert_eq!(r.status, 200, "PUT with {name}: {:?}: {}", value, r.text());
    s.send(&Req::new("HEAD", bucket, "k")).await
}

/// Cache-Control (cos-nodejs-sdk-v5 putObject), and the other stored entity headers:
/// empty is not stored, so HEAD returns none of them.
#[tokio::test]
async fn empty_stored_entity_headers_are_not_stored() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    for name in [
        "Cache-Control",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Expires",
    ] {
        let head = put_then_head(&s, &b, name, "").await;
        assert_eq!(head.status, 200);
        assert_eq!(head.header(name), None, "{name} was stored empty");
        let head = put_then_head(&s, &b, name, "x-set").await;
        assert_eq!(head.header(name), Some("x-set"), "{name} set");
    }
}

/// Content-Type on PUT and on Initiate Multipart Upload (cos-nodejs-sdk-v5 multipartInit):
/// empty is absent, so the object gets the default type.
#[tokio::test]
async fn empty_content_type_is_the_default() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    let head = put_then_head(&s, &b, "Content-Type", "").await;
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );

    let r = s
        .send(
            &Req::new("POST", &b, "m")
                .bare("uploads")
                .header("Content-Type", "")
                .header("Cache-Control", ""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = xml(&r, "UploadId").unwrap();
    let p = s.send(&part(&b, "m", &id, 1, b"part")).await;
    assert_eq!(p.status, 200, "{}", p.text());
    let etag = p.header("etag").unwrap().to_string();
    let c = s.send(&complete(&b, "m", &id, &[(1, etag)])).await;
    assert_eq!(c.status, 200, "{}", c.text());
    let head = s.send(&Req::new("HEAD", &b, "m")).await;
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(head.header("cache-control"), None);
}

/// x-cos-copy-source-range (cos-python-sdk-v5 upload_part_copy without CopySourceRange):
/// empty is absent, so the part is the whole source.
#[tokio::test]
async fn empty_copy_source_range_copies_the_whole_source() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    s.put(&b, "src", b"whole source").await;
    let r = s.send(&Req::new("POST", &b, "dst").bare("uploads")).await;
    let id = xml(&r, "UploadId").unwrap();
    let r = s
        .send(
            &Req::new("PUT", &b, "dst")
                .query("partNumber", "1")
                .query("uploadId", &id)
                .header("x-cos-copy-source", &source(&b, "src"))
                .header("x-cos-copy-source-range", ""),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        xml(&r, "ETag").unwrap(),
        format!("\"{}\"", md5_hex(b"whole source"))
    );
}

/// Authorization (cos-python-sdk-v5 with `CosConfig(Anonymous=True)`): empty is an
/// anonymous request, which may read a public-read object and nothing private.
#[tokio::test]
async fn empty_authorization_is_anonymous() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "pub")
                .header("x-cos-acl", "public-read")
                .body(b"open"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.put(&b, "priv", b"closed").await;
    let anon = |key: &str| {
        Req::new("GET", &b, key)
            .auth(Auth::Anonymous)
            .header("Authorization", "")
    };
    let r = s.send(&anon("pub")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, b"open");
    s.send(&anon("priv"))
        .await
        .assert_error(403, "AccessDenied");
}

/// Headers whose empty value is malformed are refused, and nothing is written.
#[tokio::test]
async fn empty_malformed_headers_are_refused() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    for (name, code) in [
        ("x-cos-acl", "InvalidArgument"),
        ("x-cos-storage-class", "InvalidArgument"),
        ("Content-MD5", "InvalidDigest"),
        ("x-cos-server-side-encryption", "InvalidArgument"),
        ("x-cos-copy-source", "InvalidArgument"),
    ] {
        let r = s
            .send(&Req::new("PUT", &b, "k").header(name, "").body(b"abc"))
            .await;
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some(code), "{name}: {}", r.text());
        let head = s.send(&Req::new("HEAD", &b, "k")).await;
        assert_eq!(head.status, 404, "{name} wrote the object");
    }
    s.put(&b, "src", b"abc").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "copy")
                .header("x-cos-copy-source", &source(&b, "src"))
                .header("x-cos-metadata-directive", ""),
        )
        .await;
    r.assert_error(400, "InvalidArgument");
}

/// `q-ak=<SecretId> `: the SecretId is compared as sent, so a trailing space names an
/// unknown SecretId.
#[tokio::test]
async fn secret_id_with_trailing_space_is_unknown() {
    let s = Server::start().await;
    let b = s.bucket("empty").await;
    let signed = Req::new("GET", &b, "");
    let auth = String::from_utf8(signed.to_bytes())
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Authorization: ").map(str::to_string))
        .unwrap();
    let spaced = auth.replace(
        &format!("q-ak={}&", OWNER.id),
        &format!("q-ak={} &", OWNER.id),
    );
    assert_ne!(spaced, auth);
    let mut req = Req::new("GET", &b, "");
    req.raw_authorization = Some(spaced);
    s.send(&req).await.assert_error(403, "InvalidAccessKeyId");
    let mut req = Req::new("GET", &b, "");
    req.raw_authorization = Some(auth);
    assert_eq!(s.send(&req).await.status, 200);
}
