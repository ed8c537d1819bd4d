//! POST Object (form upload): the form signature over the policy, the policy's
//! conditions, `${filename}`, `success_action_status`, and SSE as form fields (POST-FORM)
//! under the same rules as headers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use crate::common::*;
use crate::ops_common::*;

const BOUNDARY: &str = "cos-emulator-test-boundary";

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut m = Hmac::<Sha1>::new_from_slice(key).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

/// A policy that pins the bucket, a key prefix and every extra field given.
fn policy(bucket: &str, expiration: &str, extra: &[(&str, &str)]) -> String {
    let mut conditions = vec![
        serde_json::json!({ "bucket": bucket }),
        serde_json::json!(["starts-with", "$key", "up/"]),
    ];
    for (k, v) in extra {
        conditions.push(serde_json::json!({ *k: *v }));
    }
    serde_json::json!({ "expiration": expiration, "conditions": conditions }).to_string()
}

/// The signature fields for `policy` signed with `secret`.
fn signature_fields(policy: &str, secret: &str) -> Vec<(String, String)> {
    let key_time = format!("{};{}", now() - 60, now() + 3600);
    let sign_key = hmac_hex(secret.as_bytes(), key_time.as_bytes());
    let sig = hmac_hex(
        sign_key.as_bytes(),
        hex::encode(Sha1::digest(policy.as_bytes())).as_bytes(),
    );
    vec![
        ("policy".into(), STANDARD.encode(policy)),
        ("q-sign-algorithm".into(), "sha1".into()),
        ("q-ak".into(), OWNER.id.into()),
        ("q-key-time".into(), key_time),
        ("q-signature".into(), sig),
    ]
}

/// The form request: fields, then the file.
pub fn form(bucket: &str, fields: &[(String, String)], filename: &str, file: &[u8]) -> Req {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Req::new("POST", bucket, "")
        .auth(Auth::Anonymous)
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(&body)
}

/// A signed form for `key` with extra fields (each also pinned by the policy).
pub fn signed(bucket: &str, key: &str, extra: &[(&str, &str)], file: &[u8]) -> Req {
    let p = policy(bucket, "2099-01-01T00:00:00Z", extra);
    let mut fields = vec![("key".to_string(), key.to_string())];
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields.extend(signature_fields(&p, OWNER.key));
    form(bucket, &fields, "photo.jpg", file)
}

#[tokio::test]
async fn post_with_sse_c_fields_stores_an_sse_c_object() {
    let s = Server::start().await;
    let b = s.bucket("postssec").await;
    let file = b"PLAINTEXT posted file ".repeat(300);
    let (k1, md5) = (STANDARD.encode(K1), md5_b64(K1));
    let fields = [
        (C_ALG, "AES256"),
        (C_KEY, k1.as_str()),
        (C_MD5, md5.as_str()),
    ];
    let r = s.send_tls(&signed(&b, "up/obj", &fields, &file)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header(C_ALG), Some("AES256"));
    assert_eq!(
        r.header("etag"),
        Some(format!("\"{}\"", md5_hex(&file)).as_str())
    );
    let r = s
        .send_tls(&with_key(Req::new("GET", &b, "up/obj"), K1))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, file);
    s.send_tls(&Req::new("GET", &b, "up/obj"))
        .await
        .assert_error(400, "InvalidRequest");
    s.send_tls(&with_key(Req::new("GET", &b, "up/obj"), K2))
        .await
        .assert_error(403, "AccessDenied");
    assert!(!on_disk(&s, &file[..1000]));
    assert!(!on_disk(&s, K1));

    // SSEC-HTTPS and SSEC-MD5 apply to the fields as to headers; nothing is stored.
    let r = s.send(&signed(&b, "up/http", &fields, &file)).await;
    r.assert_error(400, "InvalidRequest");
    let bad_md5 = md5_b64(K2);
    let bad = [
        (C_ALG, "AES256"),
        (C_KEY, k1.as_str()),
        (C_MD5, bad_md5.as_str()),
    ];
    let r = s.send_tls(&signed(&b, "up/badmd5", &bad, &file)).await;
    r.assert_error(400, "InvalidArgument");
    for key in ["up/http", "up/badmd5"] {
        assert_eq!(s.send_tls(&Req::new("HEAD", &b, key)).await.status, 404);
    }
}

#[tokio::test]
async fn post_with_sse_cos_and_kms_fields() {
    let s = Server::start().await;
    let b = s.bucket("postcos").await;
    let file = pattern(98_304, 5);
    for (key, extra, echo) in [
        ("up/cos", vec![(SSE, "AES256")], "AES256"),
        ("up/sm4", vec![(SSE, "SM4")], "SM4"),
        (
            "up/kms",
            vec![
                (SSE, "cos/kms"),
                (
                    "x-cos-server-side-encryption-context",
                    "eyJ0ZXN0IjoidGVzdCJ9",
                ),
            ],
            "cos/kms",
        ),
    ] {
        let r = s.send(&signed(&b, key, &extra, &file)).await;
        assert_eq!(r.status, 204, "{key}: {}", r.text());
        let r = s.send(&Req::new("GET", &b, key)).await;
        assert_eq!(r.body, file, "{key}");
        assert_eq!(r.header(SSE), Some(echo), "{key}");
    }
    for (key, extra) in [
        ("up/des", vec![(SSE, "DES")]),
        (
            "up/ctx",
            vec![
                (SSE, "cos/kms"),
                ("x-cos-server-side-encryption-context", "WyJhIiwiYiJd"),
            ],
        ),
    ] {
        s.send(&signed(&b, key, &extra, &file))
            .await
            .assert_error(400, "InvalidArgument");
        assert_eq!(s.send(&Req::new("HEAD", &b, key)).await.status, 404);
    }
}

#[tokio::test]
async fn form_signature_policy_and_fields() {
    let s = Server::start().await;
    let b = s.bucket("postauth").await;
    // ${filename}, metadata and success_action_status 201.
    let extra = [
        ("x-cos-meta-colour", "blue"),
        ("success_action_status", "201"),
        ("Content-Type", "image/jpeg"),
    ];
    let r = s.send(&signed(&b, "up/${filename}", &extra, b"jpeg")).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(xml(&r, "Key").as_deref(), Some("up/photo.jpg"));
    let r = s.send(&Req::new("GET", &b, "up/photo.jpg")).await;
    assert_eq!(r.body, b"jpeg");
    assert_eq!(r.header("x-cos-meta-colour"), Some("blue"));
    assert_eq!(r.header("content-type"), Some("image/jpeg"));

    // A forged signature, an expired policy, a key outside the policy, an anonymous form
    // to a private bucket: all refused, nothing stored.
    let p = policy(&b, "2099-01-01T00:00:00Z", &[]);
    let mut fields = vec![("key".to_string(), "up/forged".to_string())];
    fields.extend(signature_fields(&p, "not-the-secret"));
    s.send(&form(&b, &fields, "f", b"x"))
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    let p = policy(&b, "2001-01-01T00:00:00Z", &[]);
    let mut fields = vec![("key".to_string(), "up/expired".to_string())];
    fields.extend(signature_fields(&p, OWNER.key));
    s.send(&form(&b, &fields, "f", b"x"))
        .await
        .assert_error(403, "AccessDenied");
    s.send(&signed(&b, "elsewhere/k", &[], b"x"))
        .await
        .assert_error(403, "AccessDenied");
    let fields = vec![("key".to_string(), "up/anon".to_string())];
    s.send(&form(&b, &fields, "f", b"x"))
        .await
        .assert_error(403, "AccessDenied");
    // An SSE field the policy does not allow (the policy pins AES256, the form says SM4).
    let p = policy(&b, "2099-01-01T00:00:00Z", &[(SSE, "AES256")]);
    let mut fields = vec![
        ("key".to_string(), "up/pinned".to_string()),
        (SSE.to_string(), "SM4".to_string()),
    ];
    fields.extend(signature_fields(&p, OWNER.key));
    s.send(&form(&b, &fields, "f", b"x"))
        .await
        .assert_error(403, "AccessDenied");
    for key in [
        "up/forged",
        "up/expired",
        "elsewhere/k",
        "up/anon",
        "up/pinned",
    ] {
        assert_eq!(
            s.send(&Req::new("HEAD", &b, key)).await.status,
            404,
            "{key}"
        );
    }
    let r = s
        .send(
            &Req::new("POST", &b, "")
                .header("Content-Type", "text/plain")
                .body(b"x"),
        )
        .await;
    r.assert_error(400, "InvalidArgument");
}
