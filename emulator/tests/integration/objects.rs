//! PUT/GET/HEAD/DELETE Object with the headers the SDKs rely on: ETag, CRC-64, metadata,
//! Content-Type and stored headers, storage class, Range, conditions, response-* overrides,
//! object ACLs.

use crate::common::*;

#[tokio::test]
async fn put_get_head_delete_round_trip() {
    let s = Server::start().await;
    let b = s.bucket("obj").await;
    let body = pattern(100_000, 7);
    let put = Req::new("PUT", &b, "dir/file.bin")
        .header("Content-Type", "application/x-test")
        .header("x-cos-meta-colour", "blue")
        .header("Cache-Control", "max-age=60")
        .header("Content-Disposition", "attachment; filename=\"f.bin\"")
        .header("Content-Encoding", "identity")
        .header("Expires", "Wed, 21 Oct 2035 07:28:00 GMT")
        .body(&body);
    let r = s.send(&put).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let crc = r.header("x-cos-hash-crc64ecma").unwrap().to_string();

    let r = s.send(&Req::new("GET", &b, "dir/file.bin")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("content-length"), Some("100000"));
    assert_eq!(r.header("content-type"), Some("application/x-test"));
    assert_eq!(r.header("x-cos-meta-colour"), Some("blue"));
    assert_eq!(r.header("cache-control"), Some("max-age=60"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"f.bin\"")
    );
    assert_eq!(r.header("expires"), Some("Wed, 21 Oct 2035 07:28:00 GMT"));
    assert_eq!(r.header("x-cos-hash-crc64ecma"), Some(crc.as_str()));
    assert!(r.header("last-modified").unwrap().ends_with("GMT"));
    assert!(r.header("x-cos-request-id").is_some());

    let r = s.send(&Req::new("HEAD", &b, "dir/file.bin")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), Some("100000"));
    assert_eq!(r.header("x-cos-meta-colour"), Some("blue"));
    assert_eq!(r.header("x-cos-hash-crc64ecma"), Some(crc.as_str()));

    assert_eq!(
        s.send(&Req::new("DELETE", &b, "dir/file.bin")).await.status,
        204
    );
    s.send(&Req::new("GET", &b, "dir/file.bin"))
        .await
        .assert_error(404, "NoSuchKey");
    assert_eq!(
        s.send(&Req::new("HEAD", &b, "dir/file.bin")).await.status,
        404
    );
    assert_eq!(
        s.send(&Req::new("DELETE", &b, "dir/file.bin")).await.status,
        204,
        "idempotent"
    );
}

#[tokio::test]
async fn crc64_matches_the_sdk_fixture() {
    let s = Server::start().await;
    let b = s.bucket("crc").await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/vectors/crc64.json"
    );
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for v in vectors.as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let body: Vec<u8> = match name {
            "empty" => vec![],
            "check" => b"123456789".to_vec(),
            "one-byte" => b"a".to_vec(),
            _ => (0..v["length"].as_u64().unwrap())
                .map(|i| (i % 251) as u8)
                .collect(),
        };
        let want = v["crc64ecma"].as_str().unwrap();
        let r = s.put(&b, name, &body).await;
        assert_eq!(r.header("x-cos-hash-crc64ecma"), Some(want), "{name} PUT");
        let r = s.send(&Req::new("GET", &b, name)).await;
        assert_eq!(r.header("x-cos-hash-crc64ecma"), Some(want), "{name} GET");
        assert_eq!(r.body, body);
    }
}

#[tokio::test]
async fn content_md5_and_storage_class() {
    let s = Server::start().await;
    let b = s.bucket("md5").await;
    use base64::Engine;
    let good =
        base64::engine::general_purpose::STANDARD.encode(hex::decode(md5_hex(b"hello")).unwrap());
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header("Content-MD5", &good)
                .body(b"hello"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.send(
        &Req::new("PUT", &b, "k")
            .header("Content-MD5", "not base64!")
            .body(b"x"),
    )
    .await
    .assert_error(400, "InvalidDigest");

    let r = s
        .send(
            &Req::new("PUT", &b, "ia")
                .header("x-cos-storage-class", "STANDARD_IA")
                .body(b"x"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s.send(&Req::new("HEAD", &b, "ia")).await;
    assert_eq!(r.header("x-cos-storage-class"), Some("STANDARD_IA"));
    let list = s.send(&Req::new("GET", &b, "")).await.text();
    assert!(
        list.contains("<StorageClass>STANDARD_IA</StorageClass>"),
        "{list}"
    );
    s.send(
        &Req::new("PUT", &b, "x")
            .header("x-cos-storage-class", "COLD")
            .body(b"x"),
    )
    .await
    .assert_error(400, "InvalidArgument");
    // Archived objects are offline until restored (ARCHIVE-GET-BEFORE-RESTORE); HEAD works.
    s.send(
        &Req::new("PUT", &b, "arc")
            .header("x-cos-storage-class", "ARCHIVE")
            .body(b"x"),
    )
    .await;
    s.send(&Req::new("GET", &b, "arc"))
        .await
        .assert_error(403, "InvalidObjectState");
    let r = s.send(&Req::new("HEAD", &b, "arc")).await;
    assert_eq!(
        (r.status, r.header("x-cos-storage-class")),
        (200, Some("ARCHIVE"))
    );
}

#[tokio::test]
async fn range_requests() {
    let s = Server::start().await;
    let b = s.bucket("range").await;
    let body = pattern(200_000, 3);
    s.put(&b, "k", &body).await;
    for (spec, start, end) in [
        ("bytes=0-0", 0, 1),
        ("bytes=10-99", 10, 100),
        ("bytes=199990-", 199_990, 200_000),
        ("bytes=-5", 199_995, 200_000),
        ("bytes=65530-131080", 65_530, 131_081),
    ] {
        let r = s
            .send(&Req::new("GET", &b, "k").header("Range", spec))
            .await;
        assert_eq!(r.status, 206, "{spec}");
        assert_eq!(r.body, &body[start..end], "{spec}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {}-{}/200000", start, end - 1).as_str())
        );
        assert_eq!(
            r.header("content-length"),
            Some((end - start).to_string().as_str())
        );
    }
    s.send(&Req::new("GET", &b, "k").header("Range", "bytes=200000-"))
        .await
        .assert_error(416, "InvalidRange");
    let r = s
        .send(&Req::new("GET", &b, "k").header("Range", "bytes=0-1,5-6"))
        .await;
    assert_eq!(
        (r.status, r.body.len()),
        (200, 200_000),
        "multi-range is ignored"
    );
}

#[tokio::test]
async fn conditional_requests() {
    let s = Server::start().await;
    let b = s.bucket("cond").await;
    let r = s.put(&b, "k", b"v1").await;
    let etag = r.header("etag").unwrap().to_string();
    let get = |n: &str, v: &str| Req::new("GET", &b, "k").header(n, v);
    assert_eq!(s.send(&get("If-Match", &etag)).await.status, 200);
    s.send(&get("If-Match", "\"0000\""))
        .await
        .assert_error(412, "PreconditionFailed");
    let r = s.send(&get("If-None-Match", &etag)).await;
    assert_eq!((r.status, r.body.len()), (304, 0));
    assert_eq!(s.send(&get("If-None-Match", "\"0000\"")).await.status, 200);
    let past = "Mon, 01 Jan 2001 00:00:00 GMT";
    let future = "Fri, 01 Jan 2100 00:00:00 GMT";
    assert_eq!(s.send(&get("If-Modified-Since", past)).await.status, 200);
    assert_eq!(s.send(&get("If-Modified-Since", future)).await.status, 304);
    assert_eq!(
        s.send(&get("If-Unmodified-Since", future)).await.status,
        200
    );
    s.send(&get("If-Unmodified-Since", past))
        .await
        .assert_error(412, "PreconditionFailed");
    let r = s
        .send(&Req::new("HEAD", &b, "k").header("If-Match", "\"0000\""))
        .await;
    assert_eq!(r.status, 412);
}

#[tokio::test]
async fn response_overrides() {
    let s = Server::start().await;
    let b = s.bucket("ovr").await;
    s.send(
        &Req::new("PUT", &b, "k")
            .header("Content-Type", "text/plain")
            .body(b"x"),
    )
    .await;
    let r = s
        .send(
            &Req::new("GET", &b, "k")
                .query("response-content-type", "application/json")
                .query(
                    "response-content-disposition",
                    "attachment; filename=a.json",
                )
                .query("response-cache-control", "no-cache")
                .query("response-content-language", "fr")
                .query("response-expires", "Thu, 01 Dec 2094 16:00:00 GMT")
                .query("response-content-encoding", "gzip"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=a.json")
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("content-language"), Some("fr"));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("expires"), Some("Thu, 01 Dec 2094 16:00:00 GMT"));
}

#[tokio::test]
async fn object_acl() {
    let s = Server::start().await;
    let b = s.bucket("oacl").await;
    s.put(&b, "k", b"x").await;
    let r = s.send(&Req::new("GET", &b, "k").bare("acl")).await;
    assert_eq!((r.status, r.header("x-cos-acl")), (200, Some("default")));
    assert_eq!(
        s.send(&Req::new("GET", &b, "k").auth(Auth::Anonymous))
            .await
            .status,
        403
    );
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .bare("acl")
                .header("x-cos-acl", "public-read"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        s.send(&Req::new("GET", &b, "k").auth(Auth::Anonymous))
            .await
            .status,
        200
    );
    let r = s.send(&Req::new("GET", &b, "k").bare("acl")).await;
    assert!(r.text().contains("AllUsers"));
    s.send(
        &Req::new("PUT", &b, "missing")
            .bare("acl")
            .header("x-cos-acl", "private"),
    )
    .await
    .assert_error(404, "NoSuchKey");
    s.send(&Req::new("GET", &b, "missing").bare("acl"))
        .await
        .assert_error(404, "NoSuchKey");
    s.send(
        &Req::new("PUT", &b, "k")
            .bare("acl")
            .body(b"<AccessControlPolicy>"),
    )
    .await
    .assert_error(400, "MalformedXML");
    // The body is kept by an ACL change.
    assert_eq!(s.send(&Req::new("GET", &b, "k")).await.body, b"x");
}

#[tokio::test]
async fn keys_of_any_utf8_and_limits() {
    let s = Server::start().await;
    let b = s.bucket("keys").await;
    for key in [
        "../../../etc/passwd",
        "a/./b/../c",
        "中文/键 名",
        "a+b=c&d?e#f;g",
        "  spaced  ",
        "%41",
    ] {
        s.put(&b, key, key.as_bytes()).await;
        let r = s.send(&Req::new("GET", &b, key)).await;
        assert_eq!(r.body, key.as_bytes(), "{key}");
    }
    assert!(!s.dir.path().join("etc").exists());
    let long = "k".repeat(851);
    s.send(&Req::new("PUT", &b, &long).body(b"x"))
        .await
        .assert_error(400, "KeyTooLong");
    s.put(&b, &"k".repeat(850), b"x").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "big-meta")
                .header("x-cos-meta-a", &"v".repeat(3000))
                .body(b"x"),
        )
        .await;
    r.assert_error(400, "InvalidArgument");
}

#[tokio::test]
async fn https_round_trip_with_generated_certificate() {
    let s = Server::start().await;
    let b = s.bucket("tls").await;
    let r = s
        .send_tls(&Req::new("PUT", &b, "k").body(b"over tls"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send_tls(&Req::new("GET", &b, "k")).await;
    assert_eq!(r.body, b"over tls");
    // The certificate also covers localhost and the tencentcos.cn names.
    let r = s
        .send_tls(&Req::new("GET", &b, "k").host(&format!("{b}.cos.{REGION}.tencentcos.cn")))
        .await;
    assert_eq!(r.body, b"over tls");
    let mut path_style = Req::new("HEAD", &b, "").host("localhost");
    path_style.raw_path = Some(format!("/{b}"));
    path_style.key_path = format!("/{b}");
    assert_eq!(
        s.send_tls(&path_style).await.status,
        200,
        "localhost: path style"
    );
}

/// The Python SDK indexes `head_object()` with exact keys ('ETag', 'Content-Length',
/// 'Last-Modified', 'x-cos-hash-crc64ecma'): header names go out as COS spells them.
#[tokio::test]
async fn header_names_are_spelled_as_cos_spells_them() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start().await;
    let b = s.bucket("case").await;
    s.put(&b, "k", b"x").await;
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(&Req::new("HEAD", &b, "k").to_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut t, &mut raw)
        .await
        .unwrap();
    let head = String::from_utf8(raw).unwrap();
    for name in [
        "ETag: ",
        "Content-Length: ",
        "Last-Modified: ",
        "Content-Type: ",
        "x-cos-hash-crc64ecma: ",
        "x-cos-request-id: ",
    ] {
        assert!(head.contains(&format!("\r\n{name}")), "{name:?} in {head}");
    }
}
