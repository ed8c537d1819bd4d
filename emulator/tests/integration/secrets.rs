//! Secrets never leave: a session exercising every way a secret reaches the
//! emulator — SSE-C with the right and a wrong key, a bad signature over SSE-C headers, a
//! copy with a source key, POST form fields, a multipart upload, SSE-KMS with a context,
//! a master-key rotation, and the same through the S3 dialect (SigV4 header and presigned
//! signatures, x-amz SSE-C and KMS headers, a signed aws-chunked body) — with every log line captured at TRACE level, and then every
//! response and every log line searched for each secret in every spelling (raw, hex,
//! base64 padded and unpadded, and its MD5 in hex and base64).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

use crate::common::*;
use crate::ops_common::*;

/// Every log line of the test binary, once [`capture`] installed the subscriber.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(Default::default)
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a TRACE-level subscriber for the whole test binary (events from every thread,
/// blocking pool included), writing into [`log`]. Other tests' lines land there too.
fn capture() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let sink = Sink(log().clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    });
}

/// Every spelling a secret could leak in.
fn spellings(secret: &[u8]) -> Vec<String> {
    let md5 = hex::decode(md5_hex(secret)).unwrap();
    let mut out = vec![
        hex::encode(secret),
        hex::encode_upper(secret),
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        hex::encode(&md5),
        STANDARD.encode(&md5),
        STANDARD_NO_PAD.encode(&md5),
    ];
    if let Ok(text) = std::str::from_utf8(secret) {
        out.push(text.to_string());
    }
    out
}

fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = rand_byte(i);
    }
    k
}

fn rand_byte(i: usize) -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(i);
    h.finish() as u8
}

/// The response as text, without the SSE-C MD5 echo header SSEC-ECHO requires (the
/// protocol returns base64(MD5(key)) to the client that sent it; nothing else may).
fn exposed(r: &Resp) -> String {
    let head: Vec<&str> = r
        .raw_head
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("x-cos-server-side-encryption-customer-key-md5:")
                && !l.starts_with("x-amz-server-side-encryption-customer-key-md5:")
        })
        .collect();
    format!("{}\n{}", head.join("\n"), r.text())
}

#[tokio::test]
async fn no_secret_in_any_response_or_log_line() {
    capture();
    let s = Server::start().await;
    let b = s.bucket("secrets").await;
    let (k1, k2, k3) = (random_key(), random_key(), random_key());
    let keys: [&'static [u8; 32]; 3] = [
        Box::leak(Box::new(k1)),
        Box::leak(Box::new(k2)),
        Box::leak(Box::new(k3)),
    ];
    let body = b"secret session body ".repeat(100);
    let mut responses = Vec::new();
    let mut go = |r: Resp| {
        responses.push(exposed(&r));
        r
    };

    // SSE-C: right key, wrong key, HEAD, missing key.
    let r = go(s
        .send_tls(&Mode::C(keys[0]).upload(Req::new("PUT", &b, "c").body(&body)))
        .await);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        go(s.send_tls(&with_key(Req::new("GET", &b, "c"), keys[0]))
            .await)
        .status,
        200
    );
    go(s.send_tls(&with_key(Req::new("GET", &b, "c"), keys[1]))
        .await)
    .assert_error(403, "AccessDenied");
    go(s.send_tls(&with_key(Req::new("HEAD", &b, "c"), keys[1]))
        .await);
    // A bad signature over signed SSE-C headers (the SignatureDoesNotMatch message).
    let mut bad = with_key(Req::new("PUT", &b, "bad").body(&body), keys[0]);
    bad.wrong_secret = true;
    go(s.send_tls(&bad).await).assert_error(403, "SignatureDoesNotMatch");
    // SSE-C over plain HTTP (refused), and a bad MD5.
    go(
        s.send(&with_key(Req::new("PUT", &b, "http").body(&body), keys[0]))
            .await,
    );
    let mismatched = Req::new("PUT", &b, "md5")
        .header(C_ALG, "AES256")
        .header(C_KEY, &STANDARD.encode(keys[0]))
        .header(C_MD5, &md5_b64(keys[1]))
        .body(&body);
    go(s.send_tls(&mismatched).await).assert_error(400, "InvalidArgument");
    // Copy with a source key to a new key, and with the wrong source key.
    let copy = |src_key: &[u8], dst: &'static [u8; 32]| {
        with_source_key(
            Mode::C(dst)
                .upload(Req::new("PUT", &b, "copy").header("x-cos-copy-source", &source(&b, "c"))),
            src_key,
        )
    };
    assert_eq!(go(s.send_tls(&copy(keys[0], keys[2])).await).status, 200);
    go(s.send_tls(&copy(keys[1], keys[2])).await);
    // POST form with SSE-C fields (right key; then wrong MD5).
    let (kb, kmd5, wrong_md5) = (STANDARD.encode(keys[1]), md5_b64(keys[1]), md5_b64(keys[0]));
    let fields = [
        (C_ALG, "AES256"),
        (C_KEY, kb.as_str()),
        (C_MD5, kmd5.as_str()),
    ];
    assert_eq!(
        go(
            s.send_tls(&crate::post::signed(&b, "up/post", &fields, &body))
                .await
        )
        .status,
        204
    );
    let fields = [
        (C_ALG, "AES256"),
        (C_KEY, kb.as_str()),
        (C_MD5, wrong_md5.as_str()),
    ];
    go(
        s.send_tls(&crate::post::signed(&b, "up/post2", &fields, &body))
            .await,
    );
    // Multipart under SSE-C: a part with the right key, one with the wrong key, complete.
    let id = initiate(&s, &b, "mp", Mode::C(keys[2])).await;
    let p1 = go(s
        .send_tls(&with_key(part(&b, "mp", &id, 1, &body), keys[2]))
        .await);
    go(
        s.send_tls(&with_key(part(&b, "mp", &id, 2, &body), keys[0]))
            .await,
    );
    let etag = p1.header("etag").unwrap().to_string();
    assert_eq!(
        go(
            s.send_tls(&with_key(complete(&b, "mp", &id, &[(1, etag)]), keys[2]))
                .await
        )
        .status,
        200
    );
    // SSE-KMS with a context, then a master-key rotation and SSE-COS.
    let context = STANDARD.encode(br#"{"project":"secret-context-value"}"#);
    let kms = Req::new("PUT", &b, "kms")
        .header(SSE, "cos/kms")
        .header("x-cos-server-side-encryption-context", &context)
        .body(&body);
    assert_eq!(go(s.send_tls(&kms).await).status, 200);
    assert_eq!(
        go(s.send_tls(&Req::new("GET", &b, "kms")).await).status,
        200
    );
    // A malformed context: serde's message would quote the value back.
    let bad_context = STANDARD.encode(br#"{"project":987654321}"#);
    let r = go(s
        .send_tls(
            &Req::new("PUT", &b, "kms-bad")
                .header(SSE, "cos/kms")
                .header("x-cos-server-side-encryption-context", &bad_context)
                .body(&body),
        )
        .await);
    r.assert_error(400, "InvalidArgument");
    // Credentials: a header signature, and a presigned URL with a session token.
    let signed = Req::new("GET", &b, "kms");
    let signed_bytes = String::from_utf8_lossy(&signed.to_bytes()).into_owned();
    assert_eq!(go(s.send_tls(&signed).await).status, 200);
    let presigned = Req::new("GET", &b, "kms")
        .query("x-cos-security-token", "secret-session-token-value")
        .auth(Auth::Presigned(OWNER));
    let presigned_bytes = String::from_utf8_lossy(&presigned.to_bytes()).into_owned();
    assert_eq!(go(s.send_tls(&presigned).await).status, 200);
    let signature_of = |bytes: &str| {
        let at = bytes.find("q-signature=").expect("signed") + "q-signature=".len();
        bytes[at..at + 40].to_string()
    };
    // A 500: an object whose record was edited on disk (record authentication). Its message must
    // not name the record's path, body file or bucket layout.
    s.put(&b, "broken", b"x").await;
    let records = s.dir.path().join("buckets").join(&b).join("objects");
    let mut broken = None;
    for f in std::fs::read_dir(&records).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("\"key\": \"broken\"") {
            std::fs::write(&path, text.replace("\"size\": 1", "\"size\": 2")).unwrap();
            broken = Some(path);
        }
    }
    let broken = broken.expect("the record of broken");
    let r = go(s.send_tls(&Req::new("GET", &b, "broken")).await);
    r.assert_error(500, "InternalError");
    let record_name = broken.file_stem().unwrap().to_string_lossy().into_owned();
    for internal in [record_name.as_str(), "objects", "corrupt", "MAC"] {
        assert!(
            !r.text().contains(internal),
            "500 names {internal}: {}",
            r.text()
        );
    }
    s.emu.keys().rotate_master_key().expect("rotation");
    let cos = Req::new("PUT", &b, "cos").header(SSE, "AES256").body(&body);
    assert_eq!(go(s.send_tls(&cos).await).status, 200);
    assert_eq!(
        go(s.send_tls(&Req::new("GET", &b, "cos")).await).status,
        200
    );

    // The S3 dialect: SSE-C under the x-amz names (right key, wrong key, a signed
    // aws-chunked body), a wrong secret over them, SSE-KMS with a context, a presigned URL
    // with a session token.
    use crate::s3_dialect::with_amz_key;
    use crate::sigv4::{presign, sign, sign_as, Body};
    let r = go(s
        .send_tls(&sign(
            with_amz_key(Req::new("PUT", &b, "s3c").body(&body), keys[1]),
            Body::SignedChunks(None),
        ))
        .await);
    assert_eq!(r.status, 200, "{}", r.text());
    let s3_signed = sign(
        with_amz_key(Req::new("GET", &b, "s3c"), keys[1]),
        Body::Hashed,
    );
    let s3_signature = s3_signed
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .and_then(|(_, v)| v.split("Signature=").nth(1))
        .expect("signed")
        .to_string();
    assert_eq!(go(s.send_tls(&s3_signed).await).status, 200);
    go(s.send_tls(&sign(
        with_amz_key(Req::new("GET", &b, "s3c"), keys[2]),
        Body::Hashed,
    ))
    .await)
    .assert_error(403, "AccessDenied");
    go(s.send_tls(&sign_as(
        with_amz_key(Req::new("PUT", &b, "s3bad").body(&body), keys[0]),
        "not-the-secret",
        REGION,
        Body::Hashed,
        0,
    ))
    .await)
    .assert_error(403, "SignatureDoesNotMatch");
    let s3_context = STANDARD.encode(br#"{"project":"s3-secret-context"}"#);
    let r = go(s
        .send_tls(&sign(
            Req::new("PUT", &b, "s3kms")
                .header("x-amz-server-side-encryption", "aws:kms")
                .header("x-amz-server-side-encryption-context", &s3_context)
                .body(&body),
            Body::Hashed,
        ))
        .await);
    assert_eq!(r.status, 200, "{}", r.text());
    let s3_presigned = presign(
        Req::new("GET", &b, "s3kms").query("X-Amz-Security-Token", "s3-session-token-value"),
        0,
        300,
    );
    let s3_url_signature = s3_presigned
        .query
        .iter()
        .find(|(n, _)| n == "X-Amz-Signature")
        .and_then(|(_, v)| v.clone())
        .expect("presigned");
    go(s.send_tls(&s3_presigned).await);

    let logged = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
    assert!(
        logged.contains("refused"),
        "TRACE capture is live: {logged:.300}"
    );
    let mut secrets: Vec<(String, String)> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        secrets.extend(
            spellings(*k)
                .into_iter()
                .map(|v| (format!("SSE-C key {i}"), v)),
        );
    }
    secrets.push(("KMS context".into(), context.clone()));
    secrets.push(("KMS context value".into(), "secret-context-value".into()));
    secrets.push(("SecretKey".into(), OWNER.key.into()));
    secrets.push(("bad KMS context".into(), bad_context.clone()));
    secrets.push(("bad KMS context value".into(), "987654321".into()));
    secrets.push(("q-signature (header)".into(), signature_of(&signed_bytes)));
    secrets.push(("q-signature (URL)".into(), signature_of(&presigned_bytes)));
    secrets.push((
        "x-cos-security-token".into(),
        "secret-session-token-value".into(),
    ));
    secrets.push(("S3 KMS context".into(), s3_context.clone()));
    secrets.push(("S3 KMS context value".into(), "s3-secret-context".into()));
    secrets.push(("SigV4 Signature (header)".into(), s3_signature.clone()));
    secrets.push(("X-Amz-Signature (URL)".into(), s3_url_signature.clone()));
    secrets.push((
        "X-Amz-Security-Token".into(),
        "s3-session-token-value".into(),
    ));
    let mut hits = Vec::new();
    for (what, value) in &secrets {
        for (i, text) in responses.iter().enumerate() {
            if text.contains(value.as_str()) {
                hits.push(format!("{what} ({value}) in response {i}"));
            }
        }
        if logged.contains(value.as_str()) {
            hits.push(format!("{what} ({value}) in the log"));
        }
    }
    println!(
        "secrets: {} spellings searched in {} responses and {} log bytes; {} hits",
        secrets.len(),
        responses.len(),
        logged.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "secrets leaked: {hits:#?}");
}
