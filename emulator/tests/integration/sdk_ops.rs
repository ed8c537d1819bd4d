//! Delete Multiple Objects, GET Bucket location and ACL grants: what the official SDKs call
//! in ordinary code. [`exercise`] writes through one server and checks through another, so
//! the gateway tests run it over two gateways on one object store (`gateways.rs`) and the
//! test here over one local store.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::common::*;
use crate::ops_common::*;

const ALL_USERS: &str = "http://cam.qcloud.com/groups/global/AllUsers";

/// OTHER's canonical id.
pub fn other_id() -> String {
    "qcs::cam::uin/1250000001:uin/1250000001".into()
}

/// A `Delete` document for `keys`.
pub fn delete_doc(keys: &[&str], quiet: bool) -> String {
    let mut doc = format!("<Delete><Quiet>{quiet}</Quiet>");
    for k in keys {
        doc.push_str(&format!("<Object><Key>{k}</Key></Object>"));
    }
    doc.push_str("</Delete>");
    doc
}

/// POST /?delete with the document's Content-MD5.
pub fn delete_objects(bucket: &str, doc: &str) -> Req {
    let md5 = STANDARD.encode(hex::decode(md5_hex(doc.as_bytes())).unwrap());
    Req::new("POST", bucket, "")
        .bare("delete")
        .header("Content-MD5", &md5)
        .header("Content-Type", "application/xml")
        .body(doc.as_bytes())
}

async fn status(s: &Server, req: Req) -> u16 {
    s.send_tls(&req).await.status
}

/// The three operations, written through `a` and checked through `b`.
pub async fn exercise(a: &Server, b: &Server, name: &str) {
    let bucket = a.bucket(name).await;

    // GET Bucket location, bare and as the SDKs send it (`?location=`).
    for req in [
        Req::new("GET", &bucket, "").bare("location"),
        Req::new("GET", &bucket, "").query("location", ""),
    ] {
        let r = b.send(&req).await;
        assert_eq!(r.status, 200, "location: {}", r.text());
        assert_eq!(xml(&r, "LocationConstraint").as_deref(), Some(REGION));
    }
    let r = b
        .send(
            &Req::new("GET", &bucket, "")
                .bare("location")
                .auth(Auth::Header(OTHER)),
        )
        .await;
    r.assert_error(403, "AccessDenied");

    // Delete Multiple Objects: verbose, an SSE-C object without its key, a missing key.
    for (key, mode) in [
        ("p1", Mode::Plain),
        ("p2", Mode::Plain),
        ("c1", Mode::C(K1)),
    ] {
        let r = a
            .send_tls(&mode.upload(Req::new("PUT", &bucket, key).body(b"body")))
            .await;
        assert_eq!(r.status, 200, "put {key}: {}", r.text());
    }
    let doc = delete_doc(&["p1", "c1", "missing"], false);
    let r = b.send(&delete_objects(&bucket, &doc)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml_all(&r, "Key"), vec!["p1", "c1", "missing"]);
    assert!(!r.text().contains("<Error>"), "{}", r.text());
    assert_eq!(status(a, Req::new("HEAD", &bucket, "p1")).await, 404);
    assert_eq!(
        status(a, with_key(Req::new("HEAD", &bucket, "c1"), K1)).await,
        404
    );

    // Content-MD5: required, and must be the body's; a refusal deletes nothing.
    let doc = delete_doc(&["p2"], true);
    let mut missing = delete_objects(&bucket, &doc);
    missing.headers.retain(|(n, _)| n != "Content-MD5");
    b.send(&missing).await.assert_error(400, "InvalidRequest");
    let mut wrong = missing.clone();
    wrong = wrong.header("Content-MD5", &md5_b64(b"another body"));
    b.send(&wrong).await.assert_error(400, "BadDigest");
    assert_eq!(status(a, Req::new("HEAD", &bucket, "p2")).await, 200);

    // Per-key errors: another account may not write the bucket.
    let r = b
        .send(&delete_objects(&bucket, &doc).auth(Auth::Header(OTHER)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml(&r, "Code").as_deref(), Some("AccessDenied"));
    assert_eq!(status(a, Req::new("HEAD", &bucket, "p2")).await, 200);

    // Quiet: only errors are listed.
    let r = b.send(&delete_objects(&bucket, &doc)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(xml_all(&r, "Key").is_empty(), "{}", r.text());
    assert_eq!(status(a, Req::new("HEAD", &bucket, "p2")).await, 404);

    // More than 1,000 keys.
    let keys: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let r = b
        .send(&delete_objects(&bucket, &delete_doc(&refs, true)))
        .await;
    r.assert_error(400, "MalformedXML");

    // Object grants: an SSE-KMS object granted READ to OTHER is readable by OTHER with its
    // own signature, still refused anonymously (KMS-ANON).
    let r = a
        .send_tls(&Mode::Kms.upload(Req::new("PUT", &bucket, "kms").body(b"kms body")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let other_get = || Req::new("GET", &bucket, "kms").auth(Auth::Header(OTHER));
    assert_eq!(status(b, other_get()).await, 403);
    let r = a
        .send(
            &Req::new("PUT", &bucket, "kms")
                .bare("acl")
                .header("x-cos-grant-read", &format!("id=\"{}\"", other_id()))
                .header("x-cos-grant-read-acp", &format!("uri=\"{ALL_USERS}\"")),
        )
        .await;
    assert_eq!(r.status, 200, "put object acl: {}", r.text());
    let r = b.send_tls(&other_get()).await;
    assert_eq!(r.status, 200, "granted read: {}", r.text());
    assert_eq!(r.body, b"kms body");
    let r = b
        .send_tls(&Req::new("GET", &bucket, "kms").auth(Auth::Anonymous))
        .await;
    assert_eq!(r.status, 403, "anonymous: {}", r.text());
    // GET ?acl returns what was set (READ_ACP for everyone lets anyone read it).
    let r = b
        .send(
            &Req::new("GET", &bucket, "kms")
                .bare("acl")
                .auth(Auth::Anonymous),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(xml_all(&r, "ID").contains(&other_id()), "{}", r.text());
    assert!(
        xml_all(&r, "URI").contains(&ALL_USERS.to_string()),
        "{}",
        r.text()
    );
    let perms = xml_all(&r, "Permission");
    assert_eq!(
        perms,
        vec!["FULL_CONTROL", "READ", "READ_ACP"],
        "{}",
        r.text()
    );
    // ... but not write it.
    let r = b
        .send(
            &Req::new("PUT", &bucket, "kms")
                .bare("acl")
                .header("x-cos-acl", "public-read")
                .auth(Auth::Anonymous),
        )
        .await;
    r.assert_error(403, "AccessDenied");

    // Bucket grants through the AccessControlPolicy document: WRITE to OTHER.
    let policy = format!(
        "<AccessControlPolicy><Owner><ID>qcs::cam::uin/{APPID}:uin/{APPID}</ID></Owner>\
         <AccessControlList><Grant><Grantee><ID>{}</ID></Grantee><Permission>WRITE</Permission>\
         </Grant></AccessControlList></AccessControlPolicy>",
        other_id()
    );
    let put_by_other = || {
        Req::new("PUT", &bucket, "by-other")
            .auth(Auth::Header(OTHER))
            .body(b"x")
    };
    assert_eq!(status(b, put_by_other()).await, 403);
    let r = a
        .send(
            &Req::new("PUT", &bucket, "")
                .bare("acl")
                .body(policy.as_bytes()),
        )
        .await;
    assert_eq!(r.status, 200, "put bucket acl: {}", r.text());
    assert_eq!(status(b, put_by_other()).await, 200);
    let r = b.send(&Req::new("GET", &bucket, "").bare("acl")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml_all(&r, "Permission"), vec!["FULL_CONTROL", "WRITE"]);
    assert!(xml_all(&r, "ID").contains(&other_id()), "{}", r.text());
    // A grant to no valid account is refused and changes nothing.
    let r = a
        .send(
            &Req::new("PUT", &bucket, "")
                .bare("acl")
                .header("x-cos-grant-read", "id=\"anyone\""),
        )
        .await;
    r.assert_error(400, "InvalidArgument");
    assert_eq!(status(b, put_by_other()).await, 200);
}

#[tokio::test]
async fn multi_delete_location_and_grants_on_the_local_store() {
    let s = Server::start().await;
    exercise(&s, &s, "sdkops").await;
}

/// A key with spaces at either end is deleted exactly, not its trimmed neighbour.
#[tokio::test]
async fn multi_delete_deletes_the_key_as_named() {
    let s = Server::start().await;
    let b = s.bucket("exact").await;
    s.put(&b, "a", b"1").await;
    s.put(&b, " a ", b"2").await;
    let r = s
        .send(&delete_objects(&b, &delete_doc(&[" a "], false)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.send(&Req::new("HEAD", &b, "a")).await.status, 200);
    assert_eq!(s.send(&Req::new("HEAD", &b, " a ")).await.status, 404);
}

/// Grants given at upload (`x-cos-grant-*` on PUT Object, PUT Object - Copy, Initiate
/// Multipart Upload, and as POST Object form fields) are kept with the object, not dropped.
#[tokio::test]
async fn grants_given_at_upload_are_kept() {
    let s = Server::start().await;
    let b = s.bucket("upgrants").await;
    let grant = format!("id=\"{}\"", other_id());
    let r = s
        .send(
            &Req::new("PUT", &b, "put")
                .header("x-cos-grant-read", &grant)
                .body(b"put body"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s
        .send(
            &Req::new("PUT", &b, "copy")
                .header("x-cos-copy-source", &source(&b, "put"))
                .header("x-cos-grant-read", &grant),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s
        .send(
            &Req::new("POST", &b, "mpu")
                .bare("uploads")
                .header("x-cos-grant-read", &grant),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = xml(&r, "UploadId").unwrap();
    let p = s.send(&part(&b, "mpu", &id, 1, b"part body")).await;
    let etag = p.header("etag").unwrap().to_string();
    let c = s.send(&complete(&b, "mpu", &id, &[(1, etag)])).await;
    assert_eq!(c.status, 200, "{}", c.text());
    let grant_field = grant.clone();
    let r = s
        .send(&crate::post::signed(
            &b,
            "up/post",
            &[("x-cos-grant-read", &grant_field)],
            b"post body",
        ))
        .await;
    assert!(r.status < 300, "{}", r.text());
    s.put(&b, "ungranted", b"x").await;
    for key in ["put", "copy", "mpu", "up/post"] {
        let r = s
            .send(&Req::new("GET", &b, key).auth(Auth::Header(OTHER)))
            .await;
        assert_eq!(r.status, 200, "{key}: {}", r.text());
    }
    let r = s
        .send(&Req::new("GET", &b, "ungranted").auth(Auth::Header(OTHER)))
        .await;
    r.assert_error(403, "AccessDenied");
}
