//! CORS as COS has it, over raw HTTP: PUT/GET/DELETE Bucket cors, OPTIONS Object
//! preflights answered from the bucket's rules (403 when none matches), and the
//! `Access-Control-*` headers on actual responses — successes and refusals alike.

use crate::common::*;

const ORIGIN: &str = "http://127.0.0.1:8080";

/// A rule a browser page uploading with SSE needs: its SSE headers allowed, and the
/// response headers it reads exposed.
const CONFIG: &str = "<CORSConfiguration><CORSRule><ID>page</ID>\
    <AllowedOrigin>http://127.0.0.1:8080</AllowedOrigin><AllowedOrigin>https://*.example.com</AllowedOrigin>\
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>\
    <AllowedHeader>authorization</AllowedHeader><AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-cos-*</AllowedHeader>\
    <ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-cos-server-side-encryption</ExposeHeader><ExposeHeader>x-cos-request-id</ExposeHeader>\
    <MaxAgeSeconds>300</MaxAgeSeconds></CORSRule></CORSConfiguration>";

fn md5_b64(b: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
}

fn put_cors(bucket: &str, doc: &str) -> Req {
    Req::new("PUT", bucket, "")
        .bare("cors")
        .header("Content-MD5", &md5_b64(doc.as_bytes()))
        .body(doc.as_bytes())
}

fn preflight(bucket: &str, key: &str, origin: &str, method: &str, headers: &str) -> Req {
    let mut r = Req::new("OPTIONS", bucket, key)
        .auth(Auth::Anonymous)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method);
    if !headers.is_empty() {
        r = r.header("Access-Control-Request-Headers", headers);
    }
    r
}

#[tokio::test]
async fn put_get_delete_bucket_cors() {
    let s = Server::start().await;
    let b = s.bucket("cors-api").await;
    s.send(&Req::new("GET", &b, "").bare("cors"))
        .await
        .assert_error(404, "NoSuchCORSConfiguration");
    let r = s.send(&put_cors(&b, CONFIG)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send(&Req::new("GET", &b, "").bare("cors")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    for part in [
        "<CORSConfiguration>",
        "<ID>page</ID>",
        "<AllowedOrigin>https://*.example.com</AllowedOrigin>",
        "<AllowedMethod>HEAD</AllowedMethod>",
        "<AllowedHeader>x-cos-*</AllowedHeader>",
        "<ExposeHeader>x-cos-request-id</ExposeHeader>",
        "<MaxAgeSeconds>300</MaxAgeSeconds>",
    ] {
        assert!(t.contains(part), "{part} missing from {t}");
    }
    // The rules survive a restart (kept in the bucket record).
    let dir = s.stop().await;
    let s = Server::start_in(dir).await;
    let r = s.send(&Req::new("GET", &b, "").bare("cors")).await;
    assert!(r.text().contains("<ID>page</ID>"), "{}", r.text());
    // Owner only: another account and anonymous callers are refused.
    s.send(
        &Req::new("GET", &b, "")
            .bare("cors")
            .auth(Auth::Header(OTHER)),
    )
    .await
    .assert_error(403, "AccessDenied");
    s.send(&put_cors(&b, CONFIG).auth(Auth::Anonymous))
        .await
        .assert_error(403, "AccessDenied");
    assert_eq!(
        s.send(&Req::new("DELETE", &b, "").bare("cors"))
            .await
            .status,
        204
    );
    s.send(&Req::new("GET", &b, "").bare("cors"))
        .await
        .assert_error(404, "NoSuchCORSConfiguration");
}

#[tokio::test]
async fn bad_configurations_are_refused_with_the_reason() {
    let s = Server::start().await;
    let b = s.bucket("cors-bad").await;
    let no_method = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>";
    let r = s.send(&put_cors(&b, no_method)).await;
    r.assert_error(400, "MalformedXML");
    assert!(r.text().contains("AllowedMethod"), "{}", r.text());
    let bad_method = CONFIG.replace(">HEAD<", ">PATCH<");
    let r = s.send(&put_cors(&b, &bad_method)).await;
    r.assert_error(400, "MalformedXML");
    assert!(r.text().contains("PATCH"), "{}", r.text());
    s.send(&put_cors(&b, "<CORSConfiguration>"))
        .await
        .assert_error(400, "MalformedXML");
    // A Content-MD5 that does not match the document.
    let wrong = Req::new("PUT", &b, "")
        .bare("cors")
        .header("Content-MD5", &md5_b64(b"something else"))
        .body(CONFIG.as_bytes());
    s.send(&wrong).await.assert_error(400, "BadDigest");
    // Nothing was stored by any of them.
    s.send(&Req::new("GET", &b, "").bare("cors"))
        .await
        .assert_error(404, "NoSuchCORSConfiguration");
}

#[tokio::test]
async fn preflight_answers_from_the_rules() {
    let s = Server::start().await;
    let b = s.bucket("cors-pre").await;
    // No configuration yet: 403.
    let r = s.send(&preflight(&b, "k", ORIGIN, "PUT", "")).await;
    r.assert_error(403, "AccessForbidden");
    assert!(r.text().contains("not enabled"), "{}", r.text());
    assert_eq!(s.send(&put_cors(&b, CONFIG)).await.status, 200);

    let ssec = "content-type,x-cos-server-side-encryption-customer-algorithm,\
                x-cos-server-side-encryption-customer-key,x-cos-server-side-encryption-customer-key-MD5,authorization";
    let r = s.send(&preflight(&b, "a/b.txt", ORIGIN, "PUT", ssec)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET,PUT,HEAD")
    );
    assert_eq!(r.header("access-control-max-age"), Some("300"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag,x-cos-server-side-encryption,x-cos-request-id")
    );
    let allowed = r.header("access-control-allow-headers").unwrap_or("");
    assert!(
        allowed.contains("x-cos-server-side-encryption-customer-key-md5"),
        "{allowed}"
    );
    // Wildcard origin, bucket-level resource with a sub-resource.
    let r = s
        .send(&preflight(&b, "", "https://app.example.com", "GET", "").bare("uploads"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Refusals: an origin, a method or a header no rule allows.
    for (origin, method, headers) in [
        ("http://127.0.0.1:8081", "PUT", ""),
        ("http://app.example.com", "GET", ""),
        (ORIGIN, "DELETE", ""),
        (ORIGIN, "PUT", "x-unlisted"),
    ] {
        let r = s.send(&preflight(&b, "k", origin, method, headers)).await;
        r.assert_error(403, "AccessForbidden");
        assert!(r.header("access-control-allow-origin").is_none());
        assert!(r.text().contains(origin), "{}", r.text());
    }
    // A preflight without its required headers is a bad request, not a match.
    let bare = Req::new("OPTIONS", &b, "k")
        .auth(Auth::Anonymous)
        .header("Origin", ORIGIN);
    let r = s.send(&bare).await;
    r.assert_error(400, "InvalidRequest");
    assert!(
        r.text().contains("Access-Control-Request-Method"),
        "{}",
        r.text()
    );
    // A bucket that does not exist.
    s.send(&preflight("nobucket-1250000000", "k", ORIGIN, "GET", ""))
        .await
        .assert_error(404, "NoSuchBucket");
}

#[tokio::test]
async fn actual_responses_carry_the_headers() {
    let s = Server::start().await;
    let b = s.bucket("cors-actual").await;
    // Before a configuration exists nothing is added.
    let r = s
        .send(&Req::new("PUT", &b, "k").header("Origin", ORIGIN).body(b"x"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    assert_eq!(s.send(&put_cors(&b, CONFIG)).await.status, 200);

    let r = s
        .send(
            &Req::new("PUT", &b, "sse")
                .header("Origin", ORIGIN)
                .header("x-cos-server-side-encryption", "AES256")
                .body(b"hello"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(r.header("vary"), Some("Origin"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("ETag,x-cos-server-side-encryption,x-cos-request-id")
    );
    assert_eq!(r.header("x-cos-server-side-encryption"), Some("AES256"));
    // A refusal gets them too, so a page can read COS's error.
    let r = s
        .send(&Req::new("GET", &b, "missing").header("Origin", ORIGIN))
        .await;
    r.assert_error(404, "NoSuchKey");
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    // A method the rule does not allow, or a foreign origin: no headers.
    let r = s
        .send(&Req::new("DELETE", &b, "k").header("Origin", ORIGIN))
        .await;
    assert_eq!(r.status, 204);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = s
        .send(&Req::new("GET", &b, "sse").header("Origin", "http://evil.test"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    // No Origin, no CORS headers.
    let r = s.send(&Req::new("GET", &b, "sse")).await;
    assert!(r.header("access-control-allow-origin").is_none());
}
