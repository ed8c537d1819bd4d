//! PUT/GET/DELETE Bucket encryption through the library API: the default is kept in the
//! bucket record, so it holds across a restart of a local store and across gateways over
//! one object store (`gateways.rs` runs [`exercise`] over two of them); uploads without SSE
//! headers take it (BUCKET-ENC-APPLY), only the owner may touch it (BUCKET-ENC-OWNER), and a
//! `Content-MD5` that does not match the document is refused.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::common::*;
use crate::ops_common::*;

/// The `ServerSideEncryptionConfiguration` of one default.
pub fn config(inner: &str) -> String {
    format!(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>{inner}\
         </ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>"
    )
}

/// PUT /?encryption with the document's Content-MD5, as the Go and JS SDKs send it.
pub fn put_encryption(bucket: &str, doc: &str) -> Req {
    let md5 = STANDARD.encode(hex::decode(md5_hex(doc.as_bytes())).unwrap());
    Req::new("PUT", bucket, "")
        .bare("encryption")
        .header("Content-MD5", &md5)
        .header("Content-Type", "application/xml")
        .body(doc.as_bytes())
}

/// The default set through `a` is what `b` answers and applies; deleted through `b`, it is
/// gone for `a`.
pub async fn exercise(a: &Server, b: &Server, name: &str) {
    let bucket = a.bucket(name).await;
    let get = || Req::new("GET", &bucket, "").query("encryption", "");
    b.send(&get())
        .await
        .assert_error(404, "NoSuchEncryptionConfiguration");

    let doc = config("<SSEAlgorithm>KMS</SSEAlgorithm><KMSAlgorithm>SM4</KMSAlgorithm>");
    let r = a.send(&put_encryption(&bucket, &doc)).await;
    assert_eq!((r.status, r.body.len()), (200, 0), "{}", r.text());
    let r = b.send(&get()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml(&r, "SSEAlgorithm").as_deref(), Some("KMS"));
    assert_eq!(xml(&r, "KMSAlgorithm").as_deref(), Some("SM4"));

    // An upload without SSE headers through the other server takes the default.
    let r = b
        .send_tls(&Req::new("PUT", &bucket, "k").body(b"by default"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), Some("cos/kms"));
    assert!(r.header(KMS_ID).is_some());
    let r = a.send_tls(&Req::new("GET", &bucket, "k")).await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"by default"[..]));
    assert_eq!(r.header(SSE), Some("cos/kms"));

    // Only the owner.
    for auth in [Auth::Anonymous, Auth::Header(OTHER)] {
        for req in [
            put_encryption(&bucket, &config("<SSEAlgorithm>AES256</SSEAlgorithm>")),
            get(),
            Req::new("DELETE", &bucket, "").bare("encryption"),
        ] {
            b.send(&req.auth(auth.clone()))
                .await
                .assert_error(403, "AccessDenied");
        }
    }
    // A Content-MD5 that does not match the document changes nothing.
    let other = config("<SSEAlgorithm>AES256</SSEAlgorithm>");
    let bad = Req::new("PUT", &bucket, "")
        .bare("encryption")
        .header("Content-MD5", &md5_b64(b"another"))
        .body(other.as_bytes());
    b.send(&bad).await.assert_error(400, "BadDigest");
    assert_eq!(
        xml(&a.send(&get()).await, "SSEAlgorithm").as_deref(),
        Some("KMS")
    );

    let r = b
        .send(&Req::new("DELETE", &bucket, "").bare("encryption"))
        .await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    a.send(&get())
        .await
        .assert_error(404, "NoSuchEncryptionConfiguration");
    let r = a
        .send_tls(&Req::new("PUT", &bucket, "plain").body(b"plain"))
        .await;
    assert_eq!((r.status, r.header(SSE)), (200, None));
}

#[tokio::test]
async fn set_read_applied_and_deleted_on_a_local_store() {
    let s = Server::start().await;
    exercise(&s, &s, "encryption").await;
}

#[tokio::test]
async fn the_default_survives_a_restart() {
    let s = Server::start().await;
    let bucket = s.bucket("enc-persist").await;
    let r = s
        .send(&put_encryption(
            &bucket,
            &config("<SSEAlgorithm>SM4</SSEAlgorithm>"),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let dir = s.stop().await;
    let s = Server::start_in(dir).await;
    let r = s
        .send(&Req::new("GET", &bucket, "").bare("encryption"))
        .await;
    assert_eq!(
        xml(&r, "SSEAlgorithm").as_deref(),
        Some("SM4"),
        "{}",
        r.text()
    );
    let r = s
        .send_tls(&Req::new("PUT", &bucket, "k").body(b"after restart"))
        .await;
    assert_eq!((r.status, r.header(SSE)), (200, Some("SM4")));
}
