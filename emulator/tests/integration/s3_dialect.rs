//! The S3 dialect beside COS's on the same ports: x-amz SSE headers on the same engine
//! (AMZ-SSE-HEADERS, AMZ-SSE-ON-COS, AMZ-BUCKET-KEY) and S3 error documents for S3
//! requests (S3-ERROR-CODES). The SigV4-signed flows are in `sigv4`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::common::*;
use crate::ops_common::{md5_b64, with_key, C_ALG, K1, K2, SSE};

const AMZ_SSE: &str = "x-amz-server-side-encryption";
const AMZ_C_ALG: &str = "x-amz-server-side-encryption-customer-algorithm";
const AMZ_C_KEY: &str = "x-amz-server-side-encryption-customer-key";
const AMZ_C_MD5: &str = "x-amz-server-side-encryption-customer-key-MD5";

/// The x-amz SSE-C headers for a raw key.
pub fn with_amz_key(req: Req, key: &[u8]) -> Req {
    req.header(AMZ_C_ALG, "AES256")
        .header(AMZ_C_KEY, &STANDARD.encode(key))
        .header(AMZ_C_MD5, &md5_b64(key))
}

/// AMZ-SSE-ON-COS `honoured` (the default): a COS-signed PUT with
/// `x-amz-server-side-encryption` is SSE-COS, echoed under COS's name.
#[tokio::test]
async fn cos_signed_amz_sse_is_honoured_by_default() {
    let s = Server::start().await;
    let b = s.bucket("amzsse").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(AMZ_SSE, "AES256")
                .body(b"hello"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), Some("AES256"), "echoed under the COS name");
    assert_eq!(r.header(AMZ_SSE), None);
    let h = s.send(&Req::new("HEAD", &b, "k")).await;
    assert_eq!(h.header(SSE), Some("AES256"), "stored as SSE-COS");
}

/// AMZ-SSE-HEADERS: an object written with the x-amz SSE-C names reads with the x-cos
/// names and the same key, and the other way round; a wrong key is refused either way.
#[tokio::test]
async fn sse_c_keys_cross_the_dialects() {
    let s = Server::start().await;
    let b = s.bucket("amzssec").await;
    let r = s
        .send_tls(&with_amz_key(Req::new("PUT", &b, "amz"), K1).body(b"secret-a"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(C_ALG), Some("AES256"));
    let g = s.send_tls(&with_key(Req::new("GET", &b, "amz"), K1)).await;
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(g.body, b"secret-a");
    let g = s.send_tls(&with_key(Req::new("GET", &b, "amz"), K2)).await;
    assert_eq!(g.status, 403, "wrong key: {}", g.text());

    s.send_tls(&with_key(Req::new("PUT", &b, "cos"), K2).body(b"secret-b"))
        .await;
    let g = s
        .send_tls(&with_amz_key(Req::new("GET", &b, "cos"), K2))
        .await;
    assert_eq!(g.status, 200, "{}", g.text());
    assert_eq!(g.body, b"secret-b");
    let g = s.send_tls(&Req::new("GET", &b, "cos")).await;
    assert_eq!(g.status, 400, "no key: {}", g.text());
}

/// A setting sent under both names is refused and nothing is stored.
#[tokio::test]
async fn both_spellings_are_refused() {
    let s = Server::start().await;
    let b = s.bucket("amzboth").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(AMZ_SSE, "AES256")
                .header(SSE, "AES256")
                .body(b"x"),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("InvalidArgument"))
    );
    assert_eq!(s.send(&Req::new("HEAD", &b, "k")).await.status, 404);
}

/// AMZ-SSE-ON-COS `ignored`: the x-amz header is dropped, the object is stored plain.
#[tokio::test]
async fn amz_sse_on_cos_ignored_stores_plain() {
    let s = Server::start_switched("AMZ-SSE-ON-COS", "ignored").await;
    let b = s.bucket("amzign").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(AMZ_SSE, "AES256")
                .body(b"x"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), None);
    assert_eq!(s.send(&Req::new("HEAD", &b, "k")).await.header(SSE), None);
}

/// AMZ-SSE-ON-COS `refused`: 400 InvalidArgument naming the header, nothing stored.
#[tokio::test]
async fn amz_sse_on_cos_refused_stores_nothing() {
    let s = Server::start_switched("AMZ-SSE-ON-COS", "refused").await;
    let b = s.bucket("amzref").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(AMZ_SSE, "AES256")
                .body(b"x"),
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("InvalidArgument"))
    );
    assert!(r.text().contains(AMZ_SSE), "{}", r.text());
    assert_eq!(s.send(&Req::new("HEAD", &b, "k")).await.status, 404);
}

/// S3-ERROR-CODES / DIALECT-BY-SIGNATURE: an anonymous request that speaks S3
/// (`x-amz-content-sha256`) gets S3's error document; a plain anonymous one gets COS's.
#[tokio::test]
async fn anonymous_s3_requests_get_s3_error_documents() {
    let s = Server::start().await;
    let b = s.bucket("amzanon").await;
    let r = s
        .send(
            &Req::new("GET", &b, "missing")
                .auth(Auth::Anonymous)
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("<HostId>"), "{}", r.text());
    assert!(r.header("x-amz-request-id").is_some());
    let r = s
        .send(&Req::new("GET", &b, "missing").auth(Auth::Anonymous))
        .await;
    assert!(r.text().contains("<TraceId>"), "{}", r.text());
    assert!(r.header("x-amz-request-id").is_none());
}
