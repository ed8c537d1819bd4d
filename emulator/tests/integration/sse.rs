//! SSE on PUT/GET/HEAD Object over HTTP and HTTPS: each mode round-trips and
//! echoes, each refusal has its code and stores nothing, and the data directory holds
//! neither plaintext nor keys (AT-REST, SSEC-NOT-STORED, UNIQUE-KEY).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;

use crate::common::*;
use crate::ops_common::{md5_b64, with_key, C_ALG, C_KEY, C_MD5, K1, KMS_ID, SSE};

const KMS_CTX: &str = "x-cos-server-side-encryption-context";

/// Seed 004's Python sample key (`ssec_secret`), as raw bytes.
const PY_KEY: &[u8; 32] = K1;
/// Seed 001's JS sample key, unpadded base64 (SSEC-KEY-UNPADDED), and its documented MD5.
const JS_KEY_B64: &str = "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY";
const JS_KEY_MD5: &str = "U5L61r7jcwdNvT7frmUG8g==";

/// A body with a recognisable marker repeated, so a leak is found by searching for it.
fn secret_body(len: usize) -> Vec<u8> {
    let marker = b"PLAINTEXT-MARKER-0123456789abcdef";
    (0..len).map(|i| marker[i % marker.len()]).collect()
}

/// Pseudo-random bytes (xorshift64): no 64-byte window repeats.
fn random_body(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Bytes of every file in the data directory.
fn every_file(s: &Server) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    s.files()
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn body_files(s: &Server, bucket: &str) -> Vec<std::path::PathBuf> {
    files_under(&s.dir.path().join("buckets").join(bucket).join("data"))
}

#[tokio::test]
async fn sse_cos_aes256_and_sm4_round_trip_and_echo() {
    let s = Server::start().await;
    let b = s.bucket("ssecos").await;
    let body = secret_body(150_000);
    for alg in ["AES256", "SM4"] {
        let key = format!("obj-{alg}");
        let r = s
            .send(
                &Req::new("PUT", &b, &key)
                    .header(SSE, alg)
                    .header("x-cos-meta-note", "clear")
                    .body(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header(SSE), Some(alg), "COS-ECHO on PUT");
        assert_eq!(
            r.header("etag"),
            Some(format!("\"{}\"", md5_hex(&body)).as_str()),
            "ETag of the plaintext"
        );
        // COS-TRANSPARENT: GET without SSE headers returns the plaintext.
        let g = s.send(&Req::new("GET", &b, &key)).await;
        assert_eq!(g.status, 200);
        assert_eq!(g.body, body);
        assert_eq!(g.header(SSE), Some(alg), "COS-ECHO on GET");
        assert_eq!(g.header("x-cos-meta-note"), Some("clear"), "METADATA-CLEAR");
        assert_eq!(g.header("content-length"), Some("150000"), "SIZE-UNCHANGED");
        let h = s.send(&Req::new("HEAD", &b, &key)).await;
        assert_eq!(
            (h.status, h.header(SSE), h.header("content-length")),
            (200, Some(alg), Some("150000"))
        );
        // RANGE across a chunk boundary.
        let r = s
            .send(&Req::new("GET", &b, &key).header("Range", "bytes=65530-131080"))
            .await;
        assert_eq!(r.body, &body[65_530..131_081]);
        // Over HTTPS too.
        assert_eq!(s.send_tls(&Req::new("GET", &b, &key)).await.body, body);
    }
    // LIST-ALL, SIZE-UNCHANGED in listings.
    s.put(&b, "plain", b"p").await;
    let list = s.send(&Req::new("GET", &b, "")).await.text();
    assert!(list.contains("<Key>obj-AES256</Key>") && list.contains("<Key>plain</Key>"));
    assert_eq!(list.matches("<Size>150000</Size>").count(), 2, "{list}");
}

#[tokio::test]
async fn sse_cos_refusals_store_nothing() {
    let s = Server::start().await;
    let b = s.bucket("cosbad").await;
    for v in ["aes256", "DES", "", "AES-256"] {
        let r = s
            .send(&Req::new("PUT", &b, "k").header(SSE, v).body(b"x"))
            .await;
        r.assert_error(400, "InvalidArgument");
    }
    // KMS-NOT-ON-GET, KMS-KEY-WITHOUT-KMS, SSE-CONFLICT.
    s.put(&b, "plain", b"x").await;
    s.send(&Req::new("GET", &b, "plain").header(SSE, "AES256"))
        .await
        .assert_error(400, "SSEHeaderNotAllowed");
    s.send(&Req::new("PUT", &b, "k").header(KMS_ID, "x").body(b"x"))
        .await
        .assert_error(400, "InvalidArgument");
    let conflict = with_key(Req::new("PUT", &b, "k").header(SSE, "AES256"), PY_KEY).body(b"x");
    s.send_tls(&conflict)
        .await
        .assert_error(400, "InvalidArgument");
    // PRESIGN-NO-SSE-COS / -KMS: refused; PRESIGN-GET of an SSE-COS object works.
    for mode in ["AES256", "cos/kms"] {
        let pre = Req::new("PUT", &b, "k")
            .header(SSE, mode)
            .body(b"x")
            .auth(Auth::Presigned(OWNER));
        s.send(&pre).await.assert_error(400, "InvalidRequest");
    }
    s.send(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");
    s.send(
        &Req::new("PUT", &b, "enc")
            .header(SSE, "AES256")
            .body(b"presigned read"),
    )
    .await;
    let r = s
        .send(&Req::new("GET", &b, "enc").auth(Auth::Presigned(OWNER)))
        .await;
    assert_eq!(r.body, b"presigned read");
    // AUTH-SIGNED: a wrong signature never reads an SSE object.
    let mut bad = Req::new("GET", &b, "enc");
    bad.wrong_secret = true;
    let r = s.send(&bad).await;
    r.assert_error(403, "SignatureDoesNotMatch");
    assert!(!contains(&r.body, b"presigned read"));
}

#[tokio::test]
async fn legacy_spelling_switch() {
    let s = Server::start_switched("COS-ALG-LEGACY", "accepted").await;
    let b = s.bucket("legacy").await;
    let r = s
        .send(&Req::new("PUT", &b, "k").header(SSE, "AES-256").body(b"x"))
        .await;
    assert_eq!(
        (r.status, r.header(SSE)),
        (200, Some("AES256")),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn sse_kms_default_and_named_keys() {
    let s = Server::start().await;
    let b = s.bucket("kms").await;
    let ctx = STANDARD.encode(br#"{"project":"demo"}"#);
    let r = s
        .send(
            &Req::new("PUT", &b, "dflt")
                .header(SSE, "cos/kms")
                .header(KMS_CTX, &ctx)
                .body(b"kms body"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(SSE), Some("cos/kms"));
    let default_id = r
        .header(KMS_ID)
        .expect("KMS-DEFAULT-KEY: key id echoed")
        .to_string();
    let g = s.send(&Req::new("GET", &b, "dflt")).await;
    assert_eq!(
        (g.body.as_slice(), g.header(KMS_ID)),
        (&b"kms body"[..], Some(default_id.as_str())),
        "KMS-TRANSPARENT"
    );

    let id = s.emu.create_kms_key(APPID, "named").unwrap();
    assert_ne!(id, default_id);
    let r = s
        .send(
            &Req::new("PUT", &b, "named")
                .header(SSE, "cos/kms")
                .header(KMS_ID, &id)
                .header("x-cos-server-side-encryption-cos-kms-algorithm", "SM4")
                .body(b"named body"),
        )
        .await;
    assert_eq!(
        (r.status, r.header(KMS_ID)),
        (200, Some(id.as_str())),
        "{}",
        r.text()
    );
    assert_eq!(
        s.send(&Req::new("GET", &b, "named")).await.body,
        b"named body"
    );

    s.send(
        &Req::new("PUT", &b, "x")
            .header(SSE, "cos/kms")
            .header(KMS_ID, "no-such-key")
            .body(b"x"),
    )
    .await
    .assert_error(400, "KmsKeyNotExist");
    for bad_ctx in [
        "not base64!",
        &STANDARD.encode("[1,2]"),
        &STANDARD.encode("not json"),
    ] {
        let r = s
            .send(
                &Req::new("PUT", &b, "x")
                    .header(SSE, "cos/kms")
                    .header(KMS_CTX, bad_ctx)
                    .body(b"x"),
            )
            .await;
        r.assert_error(400, "InvalidArgument");
    }
    s.emu.disable_kms_key(APPID, &id).unwrap();
    let r = s
        .send(
            &Req::new("PUT", &b, "x")
                .header(SSE, "cos/kms")
                .header(KMS_ID, &id)
                .body(b"x"),
        )
        .await;
    r.assert_error(400, "KmsKeyDisabled");
    // A disabled CMK no longer opens its objects (ERROR-CODES.md row 6b's code).
    s.send(&Req::new("GET", &b, "named"))
        .await
        .assert_error(400, "KmsKeyDisabled");
    s.send(&Req::new("GET", &b, "x"))
        .await
        .assert_error(404, "NoSuchKey");
    assert!(s.emu.disable_kms_key(APPID, "no-such-key").is_err());
}

#[tokio::test]
async fn anonymous_reads_per_mode() {
    let s = Server::start().await;
    let b = s.bucket("anonsse").await;
    let put = |k: &str, h: &str, v: &str| {
        Req::new("PUT", &b, k)
            .header("x-cos-acl", "public-read")
            .header(h, v)
            .body(b"public")
    };
    assert_eq!(s.send(&put("cos", SSE, "AES256")).await.status, 200);
    assert_eq!(s.send(&put("kms", SSE, "cos/kms")).await.status, 200);
    let r = s
        .send_tls(
            &with_key(
                Req::new("PUT", &b, "ssec").header("x-cos-acl", "public-read"),
                PY_KEY,
            )
            .body(b"public"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let anon = |k: &str| Req::new("GET", &b, k).auth(Auth::Anonymous);
    // COS-ANON: readable; KMS-ANON: never.
    assert_eq!(s.send(&anon("cos")).await.body, b"public");
    s.send(&anon("kms")).await.assert_error(403, "AccessDenied");
    // SSEC-ANON: never, even with the key.
    s.send_tls(&with_key(anon("ssec"), PY_KEY))
        .await
        .assert_error(403, "AccessDenied");
    // Anonymous uploads may not ask for KMS or SSE-C.
    s.send(
        &Req::new("PUT", &b, "")
            .bare("acl")
            .header("x-cos-acl", "public-read-write"),
    )
    .await;
    let r = s
        .send(
            &Req::new("PUT", &b, "a")
                .header(SSE, "cos/kms")
                .body(b"x")
                .auth(Auth::Anonymous),
        )
        .await;
    r.assert_error(403, "AccessDenied");

    // COS-ANON-OLD `signature-required`.
    let old = Server::start_switched("COS-ANON-OLD", "signature-required").await;
    let b2 = old.bucket("anonold").await;
    old.send(
        &Req::new("PUT", &b2, "cos")
            .header("x-cos-acl", "public-read")
            .header(SSE, "AES256")
            .body(b"x"),
    )
    .await;
    old.send(&Req::new("GET", &b2, "cos").auth(Auth::Anonymous))
        .await
        .assert_error(403, "AccessDenied");
}

#[tokio::test]
async fn sse_c_round_trip_with_the_seed_sample_keys() {
    let s = Server::start().await;
    let b = s.bucket("ssec").await;
    let body = secret_body(100_000);
    // 004 Python sample key (padded base64) and 001 JS sample key (unpadded).
    let samples: [(&str, String, String); 2] = [
        ("py", STANDARD.encode(PY_KEY), md5_b64(PY_KEY)),
        ("js", JS_KEY_B64.to_string(), JS_KEY_MD5.to_string()),
    ];
    for (name, key, md5) in &samples {
        let keyed = |r: Req| {
            r.header(C_ALG, "AES256")
                .header(C_KEY, key)
                .header(C_MD5, md5)
        };
        let r = s
            .send_tls(&keyed(Req::new("PUT", &b, name)).body(&body))
            .await;
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        assert_eq!(r.header(C_ALG), Some("AES256"), "SSEC-ECHO");
        assert_eq!(r.header(C_MD5), Some(md5.as_str()), "SSEC-ECHO");
        assert!(
            r.raw_head
                .contains("\r\nx-cos-server-side-encryption-customer-key-MD5: "),
            "spelled as COS does: {}",
            r.raw_head
        );
        assert_eq!(r.header(SSE), None);
        let g = s.send_tls(&keyed(Req::new("GET", &b, name))).await;
        assert_eq!(g.body, body, "{name}");
        assert_eq!(g.header(C_MD5), Some(md5.as_str()));
        let h = s.send_tls(&keyed(Req::new("HEAD", &b, name))).await;
        assert_eq!(
            (h.status, h.header("content-length")),
            (200, Some("100000"))
        );
        let r = s
            .send_tls(&keyed(Req::new("GET", &b, name)).header("Range", "bytes=70000-70009"))
            .await;
        assert_eq!(r.body, &body[70_000..70_010]);
        // SSEC-GET-NEEDS-KEY.
        s.send_tls(&Req::new("GET", &b, name))
            .await
            .assert_error(400, "InvalidRequest");
        assert_eq!(s.send_tls(&Req::new("HEAD", &b, name)).await.status, 400);
    }
    assert_eq!(
        JS_KEY_MD5,
        md5_b64(&STANDARD_NO_PAD.decode(JS_KEY_B64).unwrap())
    );
    // SSEC-WRONG-KEY: the other sample's key is a valid key, and wrong.
    let r = s
        .send_tls(
            &Req::new("GET", &b, "py")
                .header(C_ALG, "AES256")
                .header(C_KEY, JS_KEY_B64)
                .header(C_MD5, JS_KEY_MD5),
        )
        .await;
    r.assert_error(403, "AccessDenied");
    assert!(!contains(&r.body, b"PLAINTEXT-MARKER"));
    let r = s
        .send_tls(&with_key(Req::new("HEAD", &b, "js"), PY_KEY))
        .await;
    assert_eq!(r.status, 403);
    // SSEC-NOT-APPLICABLE: a key for a plain object.
    s.put(&b, "plain", b"x").await;
    s.send_tls(&with_key(Req::new("GET", &b, "plain"), PY_KEY))
        .await
        .assert_error(400, "InvalidRequest");
}

#[tokio::test]
async fn sse_c_refusals() {
    let s = Server::start().await;
    let b = s.bucket("ssecbad").await;
    // SSEC-HTTPS: refused over plain HTTP, on upload and on read.
    let r = s
        .send(&with_key(Req::new("PUT", &b, "k"), PY_KEY).body(b"x"))
        .await;
    r.assert_error(400, "InvalidRequest");
    s.send_tls(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");
    s.send_tls(&with_key(Req::new("PUT", &b, "k"), PY_KEY).body(b"x"))
        .await;
    s.send(&with_key(Req::new("GET", &b, "k"), PY_KEY))
        .await
        .assert_error(400, "InvalidRequest");
    // SSEC-KEY, SSEC-MD5, SSEC-ALG, SSEC-HEADERS-TOGETHER.
    let short = b"0000000000000000000000000000003";
    s.send_tls(&with_key(Req::new("PUT", &b, "x"), short).body(b"x"))
        .await
        .assert_error(400, "InvalidArgument");
    let wrong_md5 = Req::new("PUT", &b, "x")
        .header(C_ALG, "AES256")
        .header(C_KEY, &STANDARD.encode(PY_KEY))
        .header(C_MD5, &md5_b64(b"other"))
        .body(b"x");
    s.send_tls(&wrong_md5)
        .await
        .assert_error(400, "InvalidArgument");
    let no_md5 = Req::new("PUT", &b, "x")
        .header(C_ALG, "AES256")
        .header(C_KEY, &STANDARD.encode(PY_KEY))
        .body(b"x");
    s.send_tls(&no_md5)
        .await
        .assert_error(400, "InvalidArgument");
    let bad_alg = Req::new("PUT", &b, "x")
        .header(C_ALG, "DES")
        .header(C_KEY, &STANDARD.encode(PY_KEY))
        .header(C_MD5, &md5_b64(PY_KEY))
        .body(b"x");
    s.send_tls(&bad_alg)
        .await
        .assert_error(400, "InvalidArgument");
    let alone = Req::new("PUT", &b, "x")
        .header(C_KEY, &STANDARD.encode(PY_KEY))
        .body(b"x");
    s.send_tls(&alone).await.assert_error(400, "InvalidRequest");
    s.send_tls(&Req::new("GET", &b, "x"))
        .await
        .assert_error(404, "NoSuchKey");
}

#[tokio::test]
async fn regions_and_their_switch() {
    let s = Server::start().await;
    let create = |name: &str, region: &str| Req::new("PUT", name, "").region(name, region);
    for (name, region) in [
        ("hk-1250000000", "ap-hongkong"),
        ("cd-1250000000", "ap-chengdu"),
    ] {
        assert_eq!(s.send(&create(name, region)).await.status, 200);
    }
    let put = |name: &str, region: &str, mode: &str| {
        Req::new("PUT", name, "k")
            .region(name, region)
            .header(SSE, mode)
            .body(b"x")
    };
    // REGION-KMS: KMS in Hong Kong, not in Chengdu. REGION-SSE enforced: no SSE-COS in either.
    assert_eq!(
        s.send(&put("hk-1250000000", "ap-hongkong", "cos/kms"))
            .await
            .status,
        200
    );
    let r = s.send(&put("cd-1250000000", "ap-chengdu", "cos/kms")).await;
    r.assert_error(400, "InvalidArgument");
    assert!(
        r.text().contains("ap-chengdu"),
        "message names the region: {}",
        r.text()
    );
    s.send(&put("hk-1250000000", "ap-hongkong", "AES256"))
        .await
        .assert_error(400, "InvalidArgument");
    let ssec = with_key(
        Req::new("PUT", "hk-1250000000", "c").region("hk-1250000000", "ap-hongkong"),
        PY_KEY,
    )
    .body(b"x");
    s.send_tls(&ssec).await.assert_error(400, "InvalidArgument");

    let all = Server::start_switched("REGION-SSE", "all-regions").await;
    assert_eq!(
        all.send(&create("cd-1250000000", "ap-chengdu"))
            .await
            .status,
        200
    );
    assert_eq!(
        all.send(&put("cd-1250000000", "ap-chengdu", "SM4"))
            .await
            .status,
        200
    );
    all.send(&put("cd-1250000000", "ap-chengdu", "cos/kms"))
        .await
        .assert_error(400, "InvalidArgument");
}

#[tokio::test]
async fn archive_put_with_sse_switch() {
    let s = Server::start().await;
    let b = s.bucket("arch").await;
    let put = Req::new("PUT", &b, "k")
        .header("x-cos-storage-class", "ARCHIVE")
        .header(SSE, "AES256")
        .body(b"x");
    assert_eq!(
        s.send(&put).await.status,
        200,
        "ARCHIVE-PUT-WITH-SSE default: accepted"
    );
    let refusing = Server::start_switched("ARCHIVE-PUT-WITH-SSE", "refused").await;
    let b = refusing.bucket("arch").await;
    refusing
        .send(&put.clone().region(&b, REGION))
        .await
        .assert_error(403, "InvalidObjectState");
}

/// AT-REST and SSEC-NOT-STORED: scan every file for the plaintext, the SSE-C key (raw and
/// base64) and its MD5 (raw and base64), after uploads in every mode over HTTP and HTTPS.
#[tokio::test]
async fn data_dir_holds_no_plaintext_and_no_customer_key() {
    let s = Server::start().await;
    let b = s.bucket("scan").await;
    let body = secret_body(200_000);
    s.send(&Req::new("PUT", &b, "cos").header(SSE, "AES256").body(&body))
        .await;
    s.send(&Req::new("PUT", &b, "sm4").header(SSE, "SM4").body(&body))
        .await;
    s.send_tls(
        &Req::new("PUT", &b, "kms")
            .header(SSE, "cos/kms")
            .body(&body),
    )
    .await;
    let r = s
        .send_tls(&with_key(Req::new("PUT", &b, "ssec"), PY_KEY).body(&body))
        .await;
    assert_eq!(r.status, 200);
    let js = STANDARD_NO_PAD.decode(JS_KEY_B64).unwrap();
    let r = s
        .send_tls(
            &Req::new("PUT", &b, "js")
                .header(C_ALG, "SM4")
                .header(C_KEY, JS_KEY_B64)
                .header(C_MD5, JS_KEY_MD5)
                .body(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let md5_raw = |k: &[u8]| hex::decode(md5_hex(k)).unwrap();
    let forbidden: Vec<(&str, Vec<u8>)> = vec![
        ("plaintext", body[..33].to_vec()),
        ("plaintext", body[100_000..100_064].to_vec()),
        ("py key", PY_KEY.to_vec()),
        ("py key b64", STANDARD.encode(PY_KEY).into_bytes()),
        ("py key md5", md5_raw(PY_KEY)),
        ("py key md5 b64", md5_b64(PY_KEY).into_bytes()),
        ("py key md5 hex", md5_hex(PY_KEY).into_bytes()),
        ("js key", js.clone()),
        ("js key b64", JS_KEY_B64.as_bytes().to_vec()),
        ("js key md5", md5_raw(&js)),
        ("js key md5 b64", JS_KEY_MD5.as_bytes().to_vec()),
    ];
    let files = every_file(&s);
    assert!(files.len() > 8);
    for (path, bytes) in &files {
        for (what, needle) in &forbidden {
            assert!(
                !contains(bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
    // Still readable.
    assert_eq!(
        s.send_tls(&with_key(Req::new("GET", &b, "ssec"), PY_KEY))
            .await
            .body,
        body
    );
}

/// UNIQUE-KEY: the same plaintext twice is stored as different bytes.
#[tokio::test]
async fn same_plaintext_is_stored_differently() {
    let s = Server::start().await;
    let b = s.bucket("unique").await;
    let body = secret_body(70_000);
    s.send(&Req::new("PUT", &b, "a").header(SSE, "AES256").body(&body))
        .await;
    s.send(&Req::new("PUT", &b, "b").header(SSE, "AES256").body(&body))
        .await;
    let files = body_files(&s, &b);
    assert_eq!(files.len(), 2);
    let (x, y) = (
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files[1]).unwrap(),
    );
    assert_eq!(x.len(), y.len());
    assert_ne!(x, y);
    let same = x.iter().zip(&y).filter(|(p, q)| p == q).count();
    assert!(same < x.len() / 50, "{same} equal bytes of {}", x.len());
}

/// AT-REST: a flipped byte on disk makes GET fail (never wrong bytes); chunks not covering
/// the damage still decrypt.
#[tokio::test]
async fn flipped_byte_on_disk_fails_the_get() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start().await;
    let b = s.bucket("flip").await;
    let body = random_body(200_000); // chunk 1's bytes occur nowhere else
    s.send(&Req::new("PUT", &b, "k").header(SSE, "AES256").body(&body))
        .await;
    let file = body_files(&s, &b).pop().unwrap();
    let mut stored = std::fs::read(&file).unwrap();
    stored[100_000] ^= 0x01; // inside chunk 1
    std::fs::write(&file, &stored).unwrap();

    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(&Req::new("GET", &b, "k").to_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut t, &mut raw).await;
    // The status line went out with chunk 0; the body is cut where chunk 1 fails.
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&raw[..raw.len().min(200)])
    );
    let complete = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| {
        let r = parse_response(&raw[..]);
        let _ = i;
        r.status == 200 && r.body == body
    });
    assert_ne!(
        complete,
        Some(true),
        "a damaged object must not be served whole"
    );
    assert!(
        !contains(&raw, &body[65_536..65_600]),
        "nothing of the damaged chunk is released"
    );
    // Chunk 0 is intact: a range inside it still works.
    let r = s
        .send(&Req::new("GET", &b, "k").header("Range", "bytes=0-999"))
        .await;
    assert_eq!(r.body, &body[..1000]);
    // HEAD and listing are unaffected.
    assert_eq!(s.send(&Req::new("HEAD", &b, "k")).await.status, 200);
}

/// A large object is read ahead by a second thread and sent as slices of the buffers it
/// was decrypted in: a chunk that fails mid-object still cuts the 200 short after the
/// chunks before it, which arrive whole and in order, and nothing of it or after it is sent.
#[tokio::test]
async fn flipped_byte_mid_large_object_cuts_the_get_after_the_chunks_before_it() {
    use tokio::io::AsyncWriteExt;
    const CHUNK: usize = 65_536;
    const FRAME: usize = CHUNK + 16;
    let s = Server::start().await;
    let b = s.bucket("flip-large").await;
    let body = random_body(48 * CHUNK);
    let r = s
        .send(&Req::new("PUT", &b, "k").header(SSE, "AES256").body(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let file = body_files(&s, &b).pop().unwrap();
    let mut stored = std::fs::read(&file).unwrap();
    stored[21 * FRAME + 5_000] ^= 0x01; // inside chunk 21, in a batch read ahead
    std::fs::write(&file, &stored).unwrap();

    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(&Req::new("GET", &b, "k").to_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut t, &mut raw).await;
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&raw[..raw.len().min(200)])
    );
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let got = &raw[head_end..];
    assert!(
        got.len() <= 21 * CHUNK,
        "{} bytes: past the damaged chunk",
        got.len()
    );
    assert!(
        body.starts_with(got),
        "the bytes sent are the object's first bytes, in order"
    );
    assert!(!contains(&raw, &body[21 * CHUNK + 100..21 * CHUNK + 164]));
    // An undamaged range past the damage still reads.
    let r = s
        .send(&Req::new("GET", &b, "k").header("Range", "bytes=2000000-2999999"))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &body[2_000_000..3_000_000]);
}

/// Rotation keeps old objects readable, new objects use the new version; after a restart
/// too. Rotation through the CLI on the stopped emulator's data dir works the same.
#[tokio::test]
async fn master_key_rotation_keeps_old_objects_readable() {
    let s = Server::start().await;
    let b = s.bucket("rotate").await;
    s.send(
        &Req::new("PUT", &b, "old")
            .header(SSE, "AES256")
            .body(b"sealed under v1"),
    )
    .await;
    let v = s.emu.keys().rotate_master_key().unwrap();
    assert_eq!(v, 2);
    s.send(
        &Req::new("PUT", &b, "new")
            .header(SSE, "SM4")
            .body(b"sealed under v2"),
    )
    .await;
    let records: Vec<String> = files_under(&s.dir.path().join("buckets").join(&b).join("objects"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        records
            .iter()
            .any(|r| r.contains("\"master_key_version\": 1")),
        "{records:?}"
    );
    assert!(
        records
            .iter()
            .any(|r| r.contains("\"master_key_version\": 2")),
        "{records:?}"
    );
    assert_eq!(
        s.send(&Req::new("GET", &b, "old")).await.body,
        b"sealed under v1"
    );
    assert_eq!(
        s.send(&Req::new("GET", &b, "new")).await.body,
        b"sealed under v2"
    );

    let dir = s.stop().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cos-emulator"))
        .args(["rotate-master-key", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 3"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("keys/master.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "master key file is private");
    }
    let s = Server::start_in(dir).await;
    s.send(
        &Req::new("PUT", &b, "newest")
            .header(SSE, "AES256")
            .body(b"v3"),
    )
    .await;
    for (k, v) in [
        ("old", &b"sealed under v1"[..]),
        ("new", b"sealed under v2"),
        ("newest", b"v3"),
    ] {
        assert_eq!(s.send(&Req::new("GET", &b, k)).await.body, v, "{k}");
    }
}

/// `cos-emulator kms create-key|list-keys|disable-key` on a data dir the emulator then uses.
#[tokio::test]
async fn kms_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cos-emulator"))
            .args(args)
            .arg("--data")
            .arg(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    let (code, id) = run(&[
        "kms",
        "create-key",
        "--appid",
        APPID,
        "--description",
        "cli key",
    ]);
    assert_eq!(code, Some(0));
    let (_, list) = run(&["kms", "list-keys", "--appid", APPID]);
    assert!(
        list.contains(&id) && list.contains("enabled") && list.contains("cli key"),
        "{list}"
    );
    let (_, list_other) = run(&["kms", "list-keys", "--appid", "1250000001"]);
    assert!(list_other.is_empty());
    let s = Server::start_with(tempfile::tempdir().unwrap(), |c| {
        c.data_dir = dir.path().to_owned()
    })
    .await;
    let b = s.bucket("kmscli").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(SSE, "cos/kms")
                .header(KMS_ID, &id)
                .body(b"x"),
        )
        .await;
    assert_eq!(
        (r.status, r.header(KMS_ID)),
        (200, Some(id.as_str())),
        "{}",
        r.text()
    );
    let _ = s.stop().await;
    assert_eq!(
        run(&["kms", "disable-key", "--appid", APPID, &id]).0,
        Some(0)
    );
    let (_, list) = run(&["kms", "list-keys", "--appid", APPID]);
    assert!(list.contains("disabled"), "{list}");
    assert_ne!(
        run(&["kms", "disable-key", "--appid", APPID, "nope"]).0,
        Some(0)
    );
}

/// SSEC-MD5-OLD: by default a key without its MD5 is refused; with `accepted` (the 2020 JS
/// SDK), it works and the echo carries the MD5 the server computed.
#[tokio::test]
async fn ssec_without_md5_switch() {
    let s = Server::start_switched("SSEC-MD5-OLD", "accepted").await;
    let b = s.bucket("md5old").await;
    let no_md5 = |r: Req| {
        r.header(C_ALG, "AES256")
            .header(C_KEY, &STANDARD.encode(PY_KEY))
    };
    let r = s
        .send_tls(&no_md5(Req::new("PUT", &b, "k")).body(b"old js"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(C_MD5), Some(md5_b64(PY_KEY).as_str()));
    assert_eq!(
        s.send_tls(&no_md5(Req::new("GET", &b, "k"))).await.body,
        b"old js"
    );
}

/// SSE-ETAG: `plaintext-md5` (default) gives SSE-KMS objects the MD5 of their
/// plaintext; `opaque` gives them a 32-hex ETag that is not it, while SSE-COS keeps the MD5.
#[tokio::test]
async fn sse_etag_switch() {
    // MD5("etag body"), as the plaintext-md5 behaviour and SSE-COS objects answer it.
    let md5 = "\"e639478e7940ab57076acd0c7ad27873\"";
    let s = Server::start().await;
    let b = s.bucket("etag").await;
    let r = s
        .send(
            &Req::new("PUT", &b, "k")
                .header(SSE, "cos/kms")
                .body(b"etag body"),
        )
        .await;
    assert_eq!(r.header("etag"), Some(md5), "{}", r.text());
    let opaque = Server::start_switched("SSE-ETAG", "opaque").await;
    let b = opaque.bucket("etag").await;
    let kms = opaque
        .send(
            &Req::new("PUT", &b, "k")
                .header(SSE, "cos/kms")
                .body(b"etag body"),
        )
        .await;
    let etag = kms.header("etag").unwrap_or_default().to_string();
    assert_ne!(etag, md5);
    assert_eq!(etag.len(), 34, "{etag}");
    let head = opaque.send(&Req::new("HEAD", &b, "k")).await;
    assert_eq!(head.header("etag"), Some(etag.as_str()), "stable on HEAD");
    let cos = opaque
        .send(
            &Req::new("PUT", &b, "c")
                .header(SSE, "AES256")
                .body(b"etag body"),
        )
        .await;
    assert_eq!(cos.header("etag"), Some(md5), "SSE-COS keeps the MD5");
}
