//! PUT Object - Copy and Upload Part - Copy: every pair of modes
//! (COPY-DIFFERENT-KEYS: the destination opens only as intended), the copy-source key
//! (COPY-SOURCE-KEY), in-place copies (COPY-IN-PLACE), the metadata directive, the source
//! forms and conditions, and ranged part copies of an SSE-C source (COPY-MULTIPART).

use crate::common::*;
use crate::ops_common::*;

/// Checks that `key` opens exactly as `mode` says and as nothing else.
async fn opens_only_as(s: &Server, b: &str, key: &str, mode: Mode, body: &[u8]) {
    let what = format!("{key} as {}", mode.name());
    let r = s.send_tls(&mode.read(Req::new("GET", b, key))).await;
    assert_eq!(r.status, 200, "{what}: {}", r.text());
    assert_eq!(r.body, body, "{what}");
    let r = s.send_tls(&mode.read(Req::new("HEAD", b, key))).await;
    match mode {
        Mode::Plain => assert_eq!(r.header(SSE), None, "{what}"),
        Mode::Cos => assert_eq!(r.header(SSE), Some("AES256"), "{what}"),
        Mode::Kms => {
            assert_eq!(r.header(SSE), Some("cos/kms"), "{what}");
            assert!(r.header(KMS_ID).is_some(), "{what}");
        }
        Mode::C(k) => {
            assert_eq!(r.header(C_ALG), Some("AES256"), "{what}");
            assert_eq!(
                r.header("x-cos-server-side-encryption-customer-key-md5"),
                Some(md5_b64(k).as_str()),
                "{what}"
            );
        }
    }
    match mode {
        Mode::C(k) => {
            let other = if k == K1 { K2 } else { K1 };
            let r = s.send_tls(&with_key(Req::new("GET", b, key), other)).await;
            r.assert_error(403, "AccessDenied");
            assert!(!r.text().contains("PLAIN"), "{what}");
            s.send_tls(&Req::new("GET", b, key))
                .await
                .assert_error(400, "InvalidRequest");
        }
        _ => {
            // SSEC-NOT-APPLICABLE: a key for an object that has none.
            s.send_tls(&with_key(Req::new("GET", b, key), K1))
                .await
                .assert_error(400, "InvalidRequest");
        }
    }
}

#[tokio::test]
async fn copy_every_mode_to_every_mode() {
    let s = Server::start().await;
    let b = s.bucket("copymatrix").await;
    let body = b"PLAINTEXT of the copy matrix ".repeat(2500); // 72500 bytes: two chunks
    for src in Mode::ALL {
        let src_key = format!("src-{}", src.name());
        let r = s
            .send_tls(&src.upload(Req::new("PUT", &b, &src_key).body(&body)))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        for dst in Mode::ALL {
            let dst_key = format!("dst-{}-to-{}", src.name(), dst.name());
            let mut req = dst.upload(
                Req::new("PUT", &b, &dst_key).header("x-cos-copy-source", &source(&b, &src_key)),
            );
            if let Mode::C(k) = src {
                req = with_source_key(req, k);
            }
            let r = s.send_tls(&req).await;
            assert_eq!(r.status, 200, "{src_key} -> {dst_key}: {}", r.text());
            let etag = format!("\"{}\"", md5_hex(&body));
            assert_eq!(xml(&r, "ETag").as_deref(), Some(etag.as_str()));
            assert!(xml(&r, "LastModified").is_some());
            if let Mode::C(k) = dst {
                assert_eq!(
                    r.header("x-cos-server-side-encryption-customer-key-md5"),
                    Some(md5_b64(k).as_str())
                );
            }
            opens_only_as(&s, &b, &dst_key, dst, &body).await;
        }
    }
}

#[tokio::test]
async fn copy_source_key_is_required_and_checked() {
    let s = Server::start().await;
    let b = s.bucket("copykey").await;
    let body = b"PLAINTEXT source".repeat(100);
    let r = s
        .send_tls(&with_key(Req::new("PUT", &b, "src").body(&body), K1))
        .await;
    assert_eq!(r.status, 200);
    s.put(&b, "plain", b"plain source").await;
    let copy = |dst: &str, src: &str| {
        Req::new("PUT", &b, dst).header("x-cos-copy-source", &source(&b, src))
    };

    let r = s.send_tls(&copy("d1", "src")).await;
    r.assert_error(400, "InvalidRequest");
    let r = s.send_tls(&with_source_key(copy("d1", "src"), K2)).await;
    r.assert_error(403, "AccessDenied");
    assert!(!r.text().contains("PLAINTEXT"));
    let r = s
        .send_tls(&copy("d1", "src").header(
            "x-cos-copy-source-server-side-encryption-customer-algorithm",
            "AES256",
        ))
        .await;
    r.assert_error(400, "InvalidRequest");
    let r = s.send(&with_source_key(copy("d1", "src"), K1)).await;
    r.assert_error(400, "InvalidRequest");
    let r = s.send_tls(&with_source_key(copy("d1", "plain"), K1)).await;
    r.assert_error(400, "InvalidRequest");
    assert_eq!(s.send_tls(&Req::new("HEAD", &b, "d1")).await.status, 404);
    // The destination takes the upload rules too.
    let r = s
        .send_tls(&with_source_key(copy("d1", "src"), K1).header(SSE, "DES"))
        .await;
    r.assert_error(400, "InvalidArgument");
    let r = s.send_tls(&copy("d1", "missing")).await;
    r.assert_error(404, "NoSuchKey");
}

#[tokio::test]
async fn in_place_copies_change_encryption_class_or_metadata() {
    let s = Server::start().await;
    let b = s.bucket("inplace").await;
    let body = pattern(70_000, 9);
    let r = s
        .send(
            &Req::new("PUT", &b, "obj")
                .header("x-cos-meta-colour", "blue")
                .header("Content-Type", "text/x-test")
                .body(&body),
        )
        .await;
    assert_eq!(r.status, 200);
    let self_copy = || Req::new("PUT", &b, "obj").header("x-cos-copy-source", &source(&b, "obj"));

    s.send(&self_copy())
        .await
        .assert_error(400, "InvalidRequest");
    let r = s.send(&self_copy().header(SSE, "AES256")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), Some("AES256"));
    let r = s.send(&Req::new("GET", &b, "obj")).await;
    assert_eq!(r.body, body);
    assert_eq!(r.header(SSE), Some("AES256"));
    assert_eq!(
        r.header("x-cos-meta-colour"),
        Some("blue"),
        "Copy keeps metadata"
    );
    assert_eq!(r.header("content-type"), Some("text/x-test"));

    // SSE-COS → SSE-C in place, then k1 → k2.
    let r = s.send_tls(&with_key(self_copy(), K1)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s
        .send_tls(&with_key(with_source_key(self_copy(), K1), K2))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send_tls(&with_key(Req::new("GET", &b, "obj"), K2)).await;
    assert_eq!(r.body, body);
    s.send_tls(&with_key(Req::new("GET", &b, "obj"), K1))
        .await
        .assert_error(403, "AccessDenied");

    // Replaced takes the request's metadata; the storage class may change alone.
    let r = s
        .send_tls(
            &with_source_key(self_copy(), K2)
                .header("x-cos-metadata-directive", "Replaced")
                .header("x-cos-meta-shape", "round")
                .header("x-cos-storage-class", "STANDARD_IA"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send(&Req::new("HEAD", &b, "obj")).await;
    assert_eq!(r.header("x-cos-meta-shape"), Some("round"));
    assert_eq!(r.header("x-cos-meta-colour"), None);
    assert_eq!(r.header("x-cos-storage-class"), Some("STANDARD_IA"));
    assert_eq!(r.header(SSE), None, "no destination SSE: stored plain");
    let r = s
        .send(&self_copy().header("x-cos-metadata-directive", "Sideways"))
        .await;
    r.assert_error(400, "InvalidArgument");
}

#[tokio::test]
async fn source_forms_versions_and_conditions() {
    let s = Server::start().await;
    let b = s.bucket("copyforms").await;
    let r = s.put(&b, "dir/a b+c.txt", b"source bytes").await;
    let etag = r.header("etag").unwrap().to_string();
    let copy = |src: String| Req::new("PUT", &b, "dst").header("x-cos-copy-source", &src);
    for src in [
        source(&b, "dir/a b+c.txt"),
        format!("{}?versionId=null", source(&b, "dir/a b+c.txt")),
        format!("/{b}/dir/a%20b%2Bc.txt"),
        format!("{b}/dir/a%20b%2Bc.txt"),
        format!("https://{}", source(&b, "dir/a b+c.txt")),
    ] {
        let r = s.send(&copy(src.clone())).await;
        assert_eq!(r.status, 200, "{src}: {}", r.text());
        assert_eq!(
            s.send(&Req::new("GET", &b, "dst")).await.body,
            b"source bytes"
        );
    }
    let other_region = format!("{b}.cos.ap-shanghai.myqcloud.com/k");
    s.send(&copy(other_region))
        .await
        .assert_error(404, "NoSuchBucket");
    s.send(&copy(format!(
        "{}?versionId=abc",
        source(&b, "dir/a b+c.txt")
    )))
    .await
    .assert_error(501, "NotImplemented");
    s.send(&copy("not a source".into()))
        .await
        .assert_error(400, "InvalidArgument");

    let src = source(&b, "dir/a b+c.txt");
    for (name, value, ok) in [
        ("x-cos-copy-source-If-Match", etag.clone(), true),
        ("x-cos-copy-source-If-Match", "\"0000\"".to_string(), false),
        ("x-cos-copy-source-If-None-Match", etag.clone(), false),
        (
            "x-cos-copy-source-If-None-Match",
            "\"0000\"".to_string(),
            true,
        ),
        (
            "x-cos-copy-source-If-Modified-Since",
            "Wed, 21 Oct 2099 07:28:00 GMT".into(),
            false,
        ),
        (
            "x-cos-copy-source-If-Unmodified-Since",
            "Wed, 21 Oct 2015 07:28:00 GMT".into(),
            false,
        ),
        (
            "x-cos-copy-source-If-Unmodified-Since",
            "Wed, 21 Oct 2099 07:28:00 GMT".into(),
            true,
        ),
    ] {
        let r = s.send(&copy(src.clone()).header(name, &value)).await;
        if ok {
            assert_eq!(r.status, 200, "{name}: {value}: {}", r.text());
        } else {
            r.assert_error(412, "PreconditionFailed");
        }
    }
}

/// Seed 004's multi-threaded `copy`: ranged part copies of an SSE-C k1 source into an
/// SSE-C k2 upload (COPY-MULTIPART, COPY-SOURCE-KEY, MPU-SSEC-PARTS).
#[tokio::test]
async fn part_copy_of_an_sse_c_source_with_a_range() {
    let s = Server::start().await;
    let b = s.bucket("partcopy").await;
    let body = pattern(2_097_252, 4);
    let r = s
        .send_tls(&with_key(Req::new("PUT", &b, "src").body(&body), K1))
        .await;
    assert_eq!(r.status, 200);
    let id = initiate(&s, &b, "dst", Mode::C(K2)).await;
    let part_copy = |n: u32, range: &str| {
        Req::new("PUT", &b, "dst")
            .query("partNumber", &n.to_string())
            .query("uploadId", &id)
            .header("x-cos-copy-source", &source(&b, "src"))
            .header("x-cos-copy-source-range", range)
    };

    let r = s
        .send_tls(&with_key(
            with_source_key(part_copy(1, "bytes=0-1048575"), K2),
            K2,
        ))
        .await;
    r.assert_error(403, "AccessDenied");
    let r = s
        .send_tls(&with_key(part_copy(1, "bytes=0-1048575"), K2))
        .await;
    r.assert_error(400, "InvalidRequest");
    let r = s
        .send_tls(&with_key(
            with_source_key(part_copy(1, "bytes=0-1048575"), K1),
            K1,
        ))
        .await;
    r.assert_error(403, "AccessDenied");
    let r = s
        .send_tls(&with_key(
            with_source_key(part_copy(1, "bytes=0-2097252"), K1),
            K2,
        ))
        .await;
    r.assert_error(400, "InvalidArgument");

    let mut etags = Vec::new();
    for (n, range) in [(1u32, "bytes=0-1048575"), (2, "bytes=1048576-2097251")] {
        let r = s
            .send_tls(&with_key(with_source_key(part_copy(n, range), K1), K2))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let etag = xml(&r, "ETag").expect("CopyPartResult/ETag");
        etags.push((n, etag));
    }
    assert_eq!(etags[0].1, format!("\"{}\"", md5_hex(&body[..1_048_576])));
    let r = s.send_tls(&complete(&b, "dst", &id, &etags)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send_tls(&with_key(Req::new("GET", &b, "dst"), K2)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header("content-length"), Some("2097252"));
    s.send_tls(&with_key(Req::new("GET", &b, "dst"), K1))
        .await
        .assert_error(403, "AccessDenied");
}
