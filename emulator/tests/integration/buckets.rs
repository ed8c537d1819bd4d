//! PUT/HEAD/DELETE Bucket, GET Service, GET Bucket (listing) and bucket ACLs.

use crate::common::*;

#[tokio::test]
async fn create_head_delete_and_service() {
    let s = Server::start().await;
    let b = s.bucket("life").await;
    let r = s.send(&Req::new("PUT", &b, "")).await;
    r.assert_error(409, "BucketAlreadyOwnedByYou");
    let r = s.send(&Req::new("HEAD", &b, "")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-cos-bucket-region"), Some(REGION));
    assert!(r.header("x-cos-request-id").is_some());
    // GET Service lists the caller's buckets only.
    let other = Req::new("PUT", "theirs-1250000001", "").auth(Auth::Header(OTHER));
    assert_eq!(s.send(&other).await.status, 200);
    let r = s.send(&Req::new("GET", "", "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains("<Name>life-1250000000</Name>") && t.contains("<Location>ap-beijing</Location>"),
        "{t}"
    );
    assert!(!t.contains("theirs-1250000001"), "{t}");
    let r = s
        .send(&Req::new("GET", "", "").host("service.cos.myqcloud.com"))
        .await;
    assert!(r.text().contains("life-1250000000"));
    let r = s
        .send(&Req::new("GET", "", "").host("cos.ap-shanghai.myqcloud.com"))
        .await;
    assert!(!r.text().contains("life-1250000000"), "region filter");
    s.send(&Req::new("GET", "", "").auth(Auth::Anonymous))
        .await
        .assert_error(403, "AccessDenied");
    // Not empty, then empty.
    s.put(&b, "k", b"x").await;
    s.send(&Req::new("DELETE", &b, ""))
        .await
        .assert_error(409, "BucketNotEmpty");
    assert_eq!(s.send(&Req::new("DELETE", &b, "k")).await.status, 204);
    assert_eq!(s.send(&Req::new("DELETE", &b, "")).await.status, 204);
    assert_eq!(s.send(&Req::new("HEAD", &b, "")).await.status, 404);
    s.send(&Req::new("GET", &b, ""))
        .await
        .assert_error(404, "NoSuchBucket");
}

#[tokio::test]
async fn create_refusals() {
    let s = Server::start().await;
    for bad in [
        "Upper-1250000000",
        "noappid",
        "a_b-1250000000",
        "-x-1250000000",
    ] {
        let mut req = Req::new("PUT", bad, "");
        req.host = s.http.to_string();
        req.raw_path = Some(format!("/{bad}"));
        s.send(&req).await.assert_error(400, "InvalidBucketName");
    }
    // Someone else's appid.
    s.send(&Req::new("PUT", "x-1250000001", ""))
        .await
        .assert_error(403, "AccessDenied");
    // Unknown region.
    let r = s
        .send(&Req::new("PUT", "x-1250000000", "").host("x-1250000000.cos.mars-1.myqcloud.com"))
        .await;
    r.assert_error(400, "InvalidRegionName");
    // Malformed configuration document; nothing created.
    let r = s
        .send(&Req::new("PUT", "x-1250000000", "").body(b"<CreateBucketConfiguration><oops>"))
        .await;
    r.assert_error(400, "MalformedXML");
    assert_eq!(
        s.send(&Req::new("HEAD", "x-1250000000", "")).await.status,
        404
    );
    let ok = Req::new("PUT", "x-1250000000", "").body(b"<CreateBucketConfiguration/>");
    assert_eq!(s.send(&ok).await.status, 200);
}

#[tokio::test]
async fn path_style_bucket_gets_default_region() {
    let s = Server::start().await;
    let mut req = Req::new("PUT", "p-1250000000", "").host(&s.http.to_string());
    req.raw_path = Some("/p-1250000000".into());
    // Path style signs the path as sent, bucket included (AUTH-SIGNED).
    req.key_path = "/p-1250000000".into();
    assert_eq!(s.send(&req).await.status, 200);
    let r = s.send(&Req::new("HEAD", "p-1250000000", "")).await;
    assert_eq!(r.header("x-cos-bucket-region"), Some(REGION));
}

async fn listing(s: &Server, b: &str, q: &[(&str, &str)]) -> String {
    let mut req = Req::new("GET", b, "");
    for (n, v) in q {
        req = req.query(n, v);
    }
    let r = s.send(&req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn keys(xml: &str) -> Vec<String> {
    xml.split("<Key>")
        .skip(1)
        .map(|p| p[..p.find("</Key>").unwrap()].to_string())
        .collect()
}

fn prefixes(xml: &str) -> Vec<String> {
    xml.split("<CommonPrefixes><Prefix>")
        .skip(1)
        .map(|p| p[..p.find("</Prefix>").unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn list_objects_parameters() {
    let s = Server::start().await;
    let b = s.bucket("list").await;
    for k in ["a/1", "a/2", "a/b/3", "b", "c d", "é"] {
        s.put(&b, k, k.as_bytes()).await;
    }
    let all = listing(&s, &b, &[]).await;
    assert_eq!(keys(&all), ["a/1", "a/2", "a/b/3", "b", "c d", "é"]);
    assert!(
        all.contains("<Size>3</Size>")
            && all.contains(&format!("<ETag>&quot;{}&quot;</ETag>", md5_hex(b"a/1")))
            || all.contains(&format!("<ETag>\"{}\"</ETag>", md5_hex(b"a/1"))),
        "{all}"
    );
    assert!(all.contains("<IsTruncated>false</IsTruncated>"));
    assert!(all.contains("<StorageClass>STANDARD</StorageClass>"));

    assert_eq!(
        keys(&listing(&s, &b, &[("prefix", "a/")]).await),
        ["a/1", "a/2", "a/b/3"]
    );
    let d = listing(&s, &b, &[("delimiter", "/")]).await;
    assert_eq!(keys(&d), ["b", "c d", "é"]);
    assert_eq!(prefixes(&d), ["a/"]);
    let d = listing(&s, &b, &[("prefix", "a/"), ("delimiter", "/")]).await;
    assert_eq!(
        (keys(&d), prefixes(&d)),
        (
            vec!["a/1".to_string(), "a/2".into()],
            vec!["a/b/".to_string()]
        )
    );
    assert_eq!(
        keys(&listing(&s, &b, &[("marker", "a/2")]).await),
        ["a/b/3", "b", "c d", "é"]
    );

    // Paging with max-keys follows NextMarker to the end, common prefixes counted once.
    let mut marker = String::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = listing(
            &s,
            &b,
            &[("max-keys", "2"), ("delimiter", "/"), ("marker", &marker)],
        )
        .await;
        seen.extend(keys(&page));
        seen.extend(prefixes(&page));
        if page.contains("<IsTruncated>false</IsTruncated>") {
            break;
        }
        let m = page.split("<NextMarker>").nth(1).unwrap();
        marker = m[..m.find("</NextMarker>").unwrap()].to_string();
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c d", "é"]);

    let enc = listing(&s, &b, &[("encoding-type", "url"), ("prefix", "c")]).await;
    assert_eq!(keys(&enc), ["c%20d"]);
    assert!(enc.contains("<EncodingType>url</EncodingType>"));
    let r = s
        .send(&Req::new("GET", &b, "").query("max-keys", "lots"))
        .await;
    r.assert_error(400, "InvalidArgument");
    let r = s
        .send(&Req::new("GET", &b, "").query("encoding-type", "base64"))
        .await;
    r.assert_error(400, "InvalidArgument");
    assert_eq!(keys(&listing(&s, &b, &[("max-keys", "0")]).await).len(), 0);
}

#[tokio::test]
async fn bucket_acl_round_trip_and_refusals() {
    let s = Server::start().await;
    let b = s.bucket("acl").await;
    let r = s.send(&Req::new("GET", &b, "").bare("acl")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("FULL_CONTROL") && !r.text().contains("AllUsers"),
        "{}",
        r.text()
    );
    let doc = r.text().replace(
        "</AccessControlList>",
        "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList>",
    );
    let r = s
        .send(&Req::new("PUT", &b, "").bare("acl").body(doc.as_bytes()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send(&Req::new("GET", &b, "").bare("acl")).await;
    assert!(r.text().contains("AllUsers"));
    assert_eq!(r.header("x-cos-acl"), Some("public-read"));
    s.send(
        &Req::new("PUT", &b, "")
            .bare("acl")
            .body(b"<AccessControlPolicy><broken>"),
    )
    .await
    .assert_error(400, "MalformedXML");
    s.send(
        &Req::new("PUT", &b, "")
            .bare("acl")
            .header("x-cos-acl", "everyone"),
    )
    .await
    .assert_error(400, "InvalidArgument");
    s.send(&Req::new("GET", &b, "").bare("acl").auth(Auth::Anonymous))
        .await
        .assert_error(403, "AccessDenied");
    s.send(
        &Req::new("PUT", &b, "")
            .bare("acl")
            .header("x-cos-acl", "private")
            .auth(Auth::Header(OTHER)),
    )
    .await
    .assert_error(403, "AccessDenied");
}

#[tokio::test]
async fn unknown_sub_resources_are_not_implemented() {
    let s = Server::start().await;
    let b = s.bucket("ni").await;
    s.put(&b, "k", b"x").await;
    for (m, key, q) in [
        ("GET", "", "tagging"),
        ("PUT", "", "versioning"),
        ("GET", "k", "torrent"),
        ("GET", "k", "tagging"),
        ("PUT", "k", "frobnicate"),
        ("PUT", "", "lifecycle"),
    ] {
        let r = s.send(&Req::new(m, &b, key).bare(q)).await;
        r.assert_error(501, "NotImplemented");
    }
}
