//! Every signature refusal is its own COS error, anonymous requests get only what ACLs
//! grant, and presigned URLs work.

use crate::common::*;

#[tokio::test]
async fn bad_signature_is_signature_does_not_match() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    s.put(&b, "k", b"secret").await;
    let mut req = Req::new("GET", &b, "k");
    req.wrong_secret = true;
    let r = s.send(&req).await;
    r.assert_error(403, "SignatureDoesNotMatch");
    assert!(
        !r.text().contains("secret<"),
        "no object bytes in the refusal"
    );
}

#[tokio::test]
async fn signature_over_other_bytes_does_not_match() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    // Signed for key "k", sent for key "other".
    let mut req = Req::new("PUT", &b, "k").body(b"x");
    req.raw_path = Some("/other".into());
    s.send(&req)
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    // A signed header changed after signing.
    let signed = Req::new("PUT", &b, "k")
        .header("x-cos-meta-a", "1")
        .body(b"x");
    let bytes = String::from_utf8(signed.to_bytes())
        .unwrap()
        .replace("x-cos-meta-a: 1", "x-cos-meta-a: 2");
    let r = raw(&s, bytes.as_bytes()).await;
    r.assert_error(403, "SignatureDoesNotMatch");
    s.send(&Req::new("HEAD", &b, "k")).await;
    assert_eq!(
        s.send(&Req::new("GET", &b, "k")).await.status,
        404,
        "refused PUT stored nothing"
    );
}

async fn raw(s: &Server, bytes: &[u8]) -> Resp {
    use tokio::io::AsyncWriteExt;
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(bytes).await.unwrap();
    read_response(&mut t).await
}

#[tokio::test]
async fn expired_and_not_yet_valid() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    let mut req = Req::new("GET", &b, "");
    req.window = Some((now() - 7200, now() - 3600));
    let r = s.send(&req).await;
    r.assert_error(403, "AccessDenied");
    assert!(r.text().contains("Request has expired"), "{}", r.text());
    // Starting beyond the tolerated clock skew: ERROR-CODES.md row 13d.
    req.window = Some((now() + 3600, now() + 7200));
    s.send(&req).await.assert_error(403, "RequestTimeTooSkewed");
}

#[tokio::test]
async fn unknown_secret_id() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    let req = Req::new("GET", &b, "").auth(Auth::Header(Creds {
        id: "AKIDnobody",
        key: "x",
    }));
    s.send(&req).await.assert_error(403, "InvalidAccessKeyId");
}

#[tokio::test]
async fn malformed_authorization() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    for bad in [
        "garbage",
        "q-sign-algorithm=md5&q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
        "q-sign-algorithm=sha1&q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=",
        "q-sign-algorithm=sha1&q-ak=a&q-sign-time=oops&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
    ] {
        let mut req = Req::new("GET", &b, "");
        req.raw_authorization = Some(bad.into());
        s.send(&req).await.assert_error(403, "InvalidSecurity");
    }
}

#[tokio::test]
async fn missing_signed_header() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    let mut req = Req::new("PUT", &b, "k").body(b"x");
    req.phantom_signed = vec!["x-cos-meta-absent".into()];
    let r = s.send(&req).await;
    r.assert_error(403, "SignatureDoesNotMatch");
    assert!(
        r.text().contains("x-cos-meta-absent"),
        "message names the header: {}",
        r.text()
    );
}

#[tokio::test]
async fn wrong_region_is_no_such_bucket() {
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    s.put(&b, "k", b"x").await;
    let req = Req::new("GET", &b, "k").host(&format!("{b}.cos.ap-shanghai.myqcloud.com"));
    let r = s.send(&req).await;
    r.assert_error(404, "NoSuchBucket");
    assert!(r.text().contains("ap-beijing"), "{}", r.text());
}

#[tokio::test]
async fn anonymous_gets_only_what_acls_grant() {
    let s = Server::start().await;
    let b = s.bucket("anon").await;
    s.put(&b, "private", b"p").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "public")
                .header("x-cos-acl", "public-read")
                .body(b"pub"),
        )
        .await;
    assert_eq!(r.status, 200);
    let anon = |m: &str, k: &str| Req::new(m, &b, k).auth(Auth::Anonymous);
    s.send(&anon("GET", "private"))
        .await
        .assert_error(403, "AccessDenied");
    s.send(&anon("GET", "missing"))
        .await
        .assert_error(403, "AccessDenied");
    let r = s.send(&anon("GET", "public")).await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"pub"[..]));
    s.send(&anon("GET", ""))
        .await
        .assert_error(403, "AccessDenied");
    s.send(&anon("PUT", "new").body(b"x"))
        .await
        .assert_error(403, "AccessDenied");
    s.send(&anon("DELETE", "public"))
        .await
        .assert_error(403, "AccessDenied");
    // Another account is no better than anonymous on a private bucket.
    let other = Req::new("GET", &b, "private").auth(Auth::Header(OTHER));
    s.send(&other).await.assert_error(403, "AccessDenied");
    // A public-read bucket lists anonymously and serves `default`-ACL objects.
    let r = s
        .send(
            &Req::new("PUT", &b, "")
                .bare("acl")
                .header("x-cos-acl", "public-read"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.send(&anon("GET", "")).await.status, 200);
    assert_eq!(s.send(&anon("GET", "private")).await.status, 200);
    assert_eq!(s.send(&anon("GET", "missing")).await.status, 404);
    s.send(&anon("PUT", "new").body(b"x"))
        .await
        .assert_error(403, "AccessDenied");
    // public-read-write lets anyone write.
    s.send(
        &Req::new("PUT", &b, "")
            .bare("acl")
            .header("x-cos-acl", "public-read-write"),
    )
    .await;
    assert_eq!(s.send(&anon("PUT", "new").body(b"x")).await.status, 200);
}

#[tokio::test]
async fn presigned_get_and_put() {
    let s = Server::start().await;
    let b = s.bucket("pre").await;
    let put = Req::new("PUT", &b, "dir/a b+c.txt")
        .body(b"presigned body")
        .auth(Auth::Presigned(OWNER));
    let r = s.send(&put).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let get = Req::new("GET", &b, "dir/a b+c.txt").auth(Auth::Presigned(OWNER));
    let r = s.send(&get).await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"presigned body"[..]));
    let mut bad = get.clone();
    bad.wrong_secret = true;
    s.send(&bad)
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    let mut expired = get.clone();
    expired.window = Some((now() - 100, now() - 10));
    s.send(&expired).await.assert_error(403, "AccessDenied");
}

/// A path-style request (Host 127.0.0.1:PORT, path `/<bucket>/<key>`) is signed over the
/// path as sent, bucket included.
#[tokio::test]
async fn path_style_with_ip_host_and_signed_port() {
    let s = Server::start().await;
    let b = s.bucket("path").await;
    let host = s.http.to_string();
    let path_style = |method: &str| {
        let mut req = Req::new(method, &b, "").host(&host);
        req.key_path = format!("/{b}/x/y");
        req.raw_path = Some(format!("/{b}/x/y"));
        req
    };
    let r = s.send(&path_style("PUT").body(b"via path")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.send(&path_style("GET")).await.body, b"via path");
}

/// Regression: a path-style signature over `/<key>` alone named no bucket, so one signed
/// for bucket A read the same key in every other bucket of the account.
#[tokio::test]
async fn path_style_signature_for_one_bucket_does_not_open_another() {
    let s = Server::start().await;
    let a = s.bucket("patha").await;
    let other = s.bucket("pathb").await;
    s.put(&a, "k", b"bucket a").await;
    s.put(&other, "k", b"bucket b secret").await;
    let host = s.http.to_string();
    // Signed over "/k" (what a virtual-host request signs), sent path style to each bucket.
    for bucket in [&a, &other] {
        let mut req = Req::new("GET", bucket, "k").host(&host);
        req.raw_path = Some(format!("/{bucket}/k"));
        let r = s.send(&req).await;
        r.assert_error(403, "SignatureDoesNotMatch");
        assert!(!r.text().contains("secret"), "{}", r.text());
    }
    // Signed over "/<a>/k", sent for "/<b>/k".
    let mut req = Req::new("GET", &a, "").host(&host);
    req.key_path = format!("/{a}/k");
    req.raw_path = Some(format!("/{other}/k"));
    s.send(&req)
        .await
        .assert_error(403, "SignatureDoesNotMatch");
}

/// Regression: a presigned upload URL took an unsigned `?acl` sub-resource, so its holder
/// could PUT a public-read ACL on the object (200), which then read anonymously. Every
/// query parameter must be signed (AUTH-SIGNED); the same `?acl` signed is accepted.
#[tokio::test]
async fn presigned_upload_url_cannot_add_an_unsigned_subresource() {
    let s = Server::start().await;
    let b = s.bucket("presub").await;
    s.put(&b, "k", b"private bytes").await;
    let acl = s.send(&Req::new("GET", &b, "k").bare("acl")).await;
    assert_eq!(acl.status, 200, "{}", acl.text());
    let public = acl.text().replace(
        "</AccessControlList>",
        "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList>",
    );
    let upload_url = Req::new("PUT", &b, "k")
        .body(public.as_bytes())
        .auth(Auth::Presigned(OWNER));
    let bytes =
        String::from_utf8(upload_url.to_bytes())
            .unwrap()
            .replacen("PUT /k?", "PUT /k?acl&", 1);
    let r = raw(&s, bytes.as_bytes()).await;
    r.assert_error(403, "AccessDenied");
    assert!(r.text().contains("acl"), "{}", r.text());
    let anonymous = Req::new("GET", &b, "k").auth(Auth::Anonymous);
    s.send(&anonymous).await.assert_error(403, "AccessDenied");
    let r = s.send(&Req::new("GET", &b, "k")).await;
    assert_eq!(
        r.body, b"private bytes",
        "the refused request wrote nothing"
    );
    // Signed, the sub-resource is granted.
    let signed = Req::new("PUT", &b, "k")
        .bare("acl")
        .body(public.as_bytes())
        .auth(Auth::Presigned(OWNER));
    let r = s.send(&signed).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.send(&anonymous).await.body, b"private bytes");
}

/// Regression: a header-signed request whose `q-url-param-list` omits a parameter it
/// carries was served; a browser given a server-computed `Authorization` for a GET could
/// turn it into `?acl` or any other sub-resource.
#[tokio::test]
async fn header_signature_covers_every_query_parameter() {
    let s = Server::start().await;
    let b = s.bucket("hdrsub").await;
    s.put(&b, "k", b"x").await;
    let bytes = String::from_utf8(Req::new("GET", &b, "k").to_bytes())
        .unwrap()
        .replacen("GET /k ", "GET /k?acl ", 1);
    let r = raw(&s, bytes.as_bytes()).await;
    r.assert_error(403, "AccessDenied");
    assert!(!r.text().contains("AccessControlPolicy"), "{}", r.text());
    // One signed parameter and one not: still refused.
    let bytes = String::from_utf8(Req::new("GET", &b, "").query("prefix", "k").to_bytes())
        .unwrap()
        .replacen("?prefix=k ", "?prefix=k&acl ", 1);
    raw(&s, bytes.as_bytes())
        .await
        .assert_error(403, "AccessDenied");
    assert_eq!(
        s.send(&Req::new("GET", &b, "k").bare("acl")).await.status,
        200,
        "signed, the sub-resource is served"
    );
}

/// Regression: the official Python SDK's `list_buckets` sends `marker` outside
/// `q-url-param-list`; only sub-resources must be signed (UNSIGNED-SUBRESOURCE), so an
/// unlisted ordinary parameter is served.
#[tokio::test]
async fn an_unlisted_ordinary_parameter_is_served() {
    let s = Server::start().await;
    let b = s.bucket("plainparam").await;
    s.put(&b, "k", b"x").await;
    let bytes = String::from_utf8(Req::new("GET", &b, "").to_bytes())
        .unwrap()
        .replacen("GET / ", "GET /?marker= ", 1);
    let r = raw(&s, bytes.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("ListBucketResult"), "{}", r.text());
}

/// A refusal answered before the body is read still reaches the client: the unread body
/// is drained, so the socket is not reset under the response (regression: the Python SDK
/// saw "Remote end closed connection without response" for SSE-C over HTTP).
#[tokio::test]
async fn refusal_before_reading_the_body_reaches_the_client() {
    let s = Server::start().await;
    let b = s.bucket("drain").await;
    for _ in 0..20 {
        let mut req = Req::new("PUT", &b, "k").body(&pattern(300_000, 2));
        req.wrong_secret = true;
        s.send(&req)
            .await
            .assert_error(403, "SignatureDoesNotMatch");
    }
}

/// Regression: the SignatureDoesNotMatch message once quoted the computed
/// HttpString, with every signed header's value, so a wrong-signature SSE-C request got
/// its customer key and key MD5 back.
#[tokio::test]
async fn signature_refusal_never_quotes_signed_values() {
    use crate::ops_common::{md5_b64, with_key};
    use base64::{engine::general_purpose::STANDARD, Engine};
    let s = Server::start().await;
    let b = s.bucket("auth").await;
    let key = [7u8; 32];
    let mut req =
        with_key(Req::new("GET", &b, "k"), &key).header("x-cos-meta-note", "sekrit-value");
    req.wrong_secret = true;
    let r = s.send_tls(&req).await;
    r.assert_error(403, "SignatureDoesNotMatch");
    let text = r.text();
    for secret in [
        STANDARD.encode(key),
        md5_b64(&key),
        "sekrit-value".to_string(),
    ] {
        assert!(!text.contains(&secret), "refusal quotes {secret}: {text}");
    }
    assert!(
        text.contains("x-cos-server-side-encryption-customer-key"),
        "the message still names the signed headers: {text}"
    );
}
