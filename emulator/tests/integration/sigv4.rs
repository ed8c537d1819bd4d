//! AWS Signature V4 on the emulator's ports (SIGV4-AUTH, SIGV4-PAYLOAD, SIGV4-SCOPE-REGION,
//! S3-ERROR-CODES), signed with the workspace's `sigv4` crate: each refusal stores nothing
//! (a GET afterwards is 404), and an object written in one dialect reads in the other.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sigv4::{payload, ChecksumAlgorithm, ChunkSigning, ChunkedEncoder, Signer};

use crate::common::*;
use crate::ops_common::{md5_b64, with_key, K1, K2};
use crate::s3_dialect::with_amz_key;

/// How the body travels.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// `x-amz-content-sha256` is the body's SHA-256.
    Hashed,
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// aws-chunked, each chunk signed, optionally with a signed checksum trailer.
    SignedChunks(Option<ChecksumAlgorithm>),
    /// aws-chunked, unsigned chunks, with a checksum trailer.
    UnsignedTrailer(ChecksumAlgorithm),
}

fn timestamp(offset: i64) -> String {
    sigv4::time::format_timestamp((now() + offset) as u64)
}

/// The headers the harness will send with `req` (Host first), for signing.
fn wire_headers(req: &Req) -> Vec<(String, String)> {
    let mut h = vec![("host".to_string(), req.host.clone())];
    h.extend(
        req.headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone())),
    );
    h
}

fn query_pairs(req: &Req) -> Vec<(String, String)> {
    req.query
        .iter()
        .map(|(n, v)| (n.clone(), v.clone().unwrap_or_default()))
        .collect()
}

/// Signs `req` (built by `Req::new`, whose COS auth is replaced) with SigV4 in the header
/// form, as `creds` with `secret`, in `region`, at `offset` seconds from now.
pub fn sign_as(mut req: Req, secret: &str, region: &str, body: Body, offset: i64) -> Req {
    req.auth = Auth::Anonymous;
    let ts = timestamp(offset);
    let plain = std::mem::take(&mut req.body);
    let hash = match body {
        Body::Hashed => sigv4::canonical::hex_sha256(&plain),
        Body::Unsigned => payload::UNSIGNED_PAYLOAD.into(),
        Body::SignedChunks(None) => payload::STREAMING_SIGNED.into(),
        Body::SignedChunks(Some(_)) => payload::STREAMING_SIGNED_TRAILER.into(),
        Body::UnsignedTrailer(_) => payload::STREAMING_UNSIGNED_TRAILER.into(),
    };
    let trailer = match body {
        Body::SignedChunks(t) => t,
        Body::UnsignedTrailer(t) => Some(t),
        _ => None,
    };
    let chunked = matches!(body, Body::SignedChunks(_) | Body::UnsignedTrailer(_));
    if chunked {
        req = req
            .header("content-encoding", "aws-chunked")
            .header("x-amz-decoded-content-length", &plain.len().to_string());
        if let Some(t) = trailer {
            req = req.header("x-amz-trailer", t.header_name());
        }
    }
    let signer = Signer::s3(OWNER.id, secret, region);
    let headers = wire_headers(&req);
    let query = query_pairs(&req);
    let path = enc_path(&req.key_path);
    let out = signer
        .sign(
            &sigv4::Request {
                method: &req.method,
                path: &path,
                query: &query,
                headers: &headers,
            },
            &hash,
            &ts,
        )
        .unwrap();
    for (n, v) in &out.additions {
        req = req.header(n, v);
    }
    req.body = if chunked {
        let signing = ChunkSigning {
            key: out.key,
            scope: out.scope.clone(),
            timestamp: out.timestamp.clone(),
            seed_signature: out.signature.clone(),
        };
        let encoder = match body {
            Body::SignedChunks(t) => ChunkedEncoder::signed(signing, t),
            _ => ChunkedEncoder::unsigned(trailer),
        };
        encoder.encode(&plain, 64 * 1024)
    } else {
        plain
    };
    req
}

/// Signs as OWNER in the emulator's region, now.
pub fn sign(req: Req, body: Body) -> Req {
    sign_as(req, OWNER.key, REGION, body, 0)
}

/// Presigns `req` for `expires` seconds, signed at `offset` seconds from now.
pub fn presign(mut req: Req, offset: i64, expires: u64) -> Req {
    req.auth = Auth::Anonymous;
    let signer = Signer::s3(OWNER.id, OWNER.key, REGION);
    let headers = vec![("host".to_string(), req.host.clone())];
    let query = query_pairs(&req);
    let path = enc_path(&req.key_path);
    let out = signer
        .presign(
            &sigv4::Request {
                method: &req.method,
                path: &path,
                query: &query,
                headers: &headers,
            },
            &timestamp(offset),
            expires,
            payload::UNSIGNED_PAYLOAD,
        )
        .unwrap();
    for (n, v) in out.additions {
        req = req.query(&n, &v);
    }
    req
}

/// A body of `len` pseudo-random bytes.
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn assert_absent(s: &Server, bucket: &str, key: &str) {
    let g = s.send(&Req::new("GET", bucket, key)).await;
    assert_eq!(g.status, 404, "nothing stored at {key}: {}", g.text());
}

#[tokio::test]
async fn every_payload_form_round_trips() {
    let s = Server::start().await;
    let b = s.bucket("v4forms").await;
    let body = data(200_000);
    for (key, form) in [
        ("hashed", Body::Hashed),
        ("unsigned", Body::Unsigned),
        ("chunks", Body::SignedChunks(None)),
        (
            "chunks-crc32c",
            Body::SignedChunks(Some(ChecksumAlgorithm::Crc32c)),
        ),
        (
            "trailer-crc32",
            Body::UnsignedTrailer(ChecksumAlgorithm::Crc32),
        ),
        (
            "trailer-crc64",
            Body::UnsignedTrailer(ChecksumAlgorithm::Crc64Nvme),
        ),
    ] {
        let r = s
            .send(&sign(Req::new("PUT", &b, key).body(&body), form))
            .await;
        assert_eq!(r.status, 200, "{key}: {}", r.text());
        assert_eq!(
            r.header("etag"),
            Some(format!("\"{}\"", md5_hex(&body)).as_str()),
            "{key}: the ETag is the decoded payload's MD5"
        );
        let g = s.send(&sign(Req::new("GET", &b, key), Body::Hashed)).await;
        assert_eq!(g.status, 200, "{key}: {}", g.text());
        assert_eq!(g.body, body, "{key}");
        assert_eq!(
            g.header("content-encoding"),
            None,
            "{key}: aws-chunked is not stored"
        );
        assert!(g.header("x-amz-request-id").is_some());
    }
}

/// The wrong secret is refused with S3's code and document, and nothing is stored.
#[tokio::test]
async fn wrong_secret_is_refused_and_stores_nothing() {
    let s = Server::start().await;
    let b = s.bucket("v4secret").await;
    let r = s
        .send(&sign_as(
            Req::new("PUT", &b, "k").body(b"data"),
            "not-the-secret",
            REGION,
            Body::Hashed,
            0,
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );
    assert!(
        r.text().contains("<HostId>"),
        "an S3 error document: {}",
        r.text()
    );
    assert_absent(&s, &b, "k").await;
}

/// An expired presigned URL is refused ("Request has expired"); a current one works;
/// X-Amz-Expires over seven days is malformed.
#[tokio::test]
async fn presigned_urls_expire() {
    let s = Server::start().await;
    let b = s.bucket("v4presign").await;
    let r = s
        .send(&presign(Req::new("PUT", &b, "old").body(b"x"), -3600, 60))
        .await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(r.text().contains("Request has expired"), "{}", r.text());
    assert_absent(&s, &b, "old").await;

    let r = s
        .send(&presign(Req::new("PUT", &b, "new").body(b"fresh"), 0, 300))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let g = s.send(&presign(Req::new("GET", &b, "new"), 0, 300)).await;
    assert_eq!((g.status, g.body.as_slice()), (200, &b"fresh"[..]));

    let mut long = presign(Req::new("GET", &b, "new"), 0, 300);
    for (n, v) in &mut long.query {
        if n == "X-Amz-Expires" {
            *v = Some("604801".into());
        }
    }
    let g = s.send(&long).await;
    assert_eq!(
        (g.status, g.code().as_deref()),
        (400, Some("AuthorizationQueryParametersError"))
    );
}

/// PRESIGN-UNSIGNED-HEADERS with SigV4: a presigned PUT carrying an unsigned x-amz-acl is
/// refused by the same check as a COS presign; an appended sub-resource breaks the
/// signature (the canonical query covers every parameter).
#[tokio::test]
async fn presigns_grant_only_what_they_sign() {
    let s = Server::start().await;
    let b = s.bucket("v4grant").await;
    let r = s
        .send(
            &presign(Req::new("PUT", &b, "k").body(b"x"), 0, 300)
                .header("x-amz-acl", "public-read"),
        )
        .await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(r.text().contains("X-Amz-SignedHeaders"), "{}", r.text());
    assert_absent(&s, &b, "k").await;
    s.put(&b, "k", b"x").await;
    let r = s
        .send(&presign(Req::new("PUT", &b, "k"), 0, 300).bare("acl"))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
}

/// A presign must sign every x-amz header too (S3's rule for query authentication): a
/// holder of a host-only URL cannot add even metadata, nothing is written; the same URL
/// without the header uploads.
#[tokio::test]
async fn presigns_refuse_unsigned_amz_headers() {
    let s = Server::start().await;
    let b = s.bucket("v4presignmeta").await;
    let r = s
        .send(
            &presign(Req::new("PUT", &b, "k").body(b"x"), 0, 300)
                .header("x-amz-meta-origin", "added"),
        )
        .await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(r.text().contains("x-amz-meta-origin"), "{}", r.text());
    assert_absent(&s, &b, "k").await;
    let r = s
        .send(&presign(Req::new("PUT", &b, "k").body(b"x"), 0, 300))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The header form signs every x-amz header: one added after signing (a copy source
/// turning an upload into a copy of another object) is refused, nothing is written.
#[tokio::test]
async fn unsigned_amz_headers_are_refused() {
    let s = Server::start().await;
    let b = s.bucket("v4unsigned").await;
    s.put(&b, "private", b"private data").await;
    let r = s
        .send(
            &sign(Req::new("PUT", &b, "k").body(b"x"), Body::Hashed)
                .header("x-amz-copy-source", &format!("/{b}/private")),
        )
        .await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(r.text().contains("x-amz-copy-source"), "{}", r.text());
    assert_absent(&s, &b, "k").await;
}

/// A tampered chunk signature (and tampered chunk data) is refused and stores nothing.
#[tokio::test]
async fn tampered_chunks_are_refused_and_store_nothing() {
    let s = Server::start().await;
    let b = s.bucket("v4chunks").await;
    let body = data(150_000);
    let good = sign(
        Req::new("PUT", &b, "sig").body(&body),
        Body::SignedChunks(None),
    );
    // The second chunk's signature, one hex digit changed.
    let mut tampered = good.clone();
    let text = String::from_utf8_lossy(&tampered.body).into_owned();
    let second = text.match_indices(";chunk-signature=").nth(1).unwrap().0 + 17;
    let digit = tampered.body[second];
    tampered.body[second] = if digit == b'0' { b'1' } else { b'0' };
    let r = s.send(&tampered).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("SignatureDoesNotMatch")),
        "{}",
        r.text()
    );
    assert_absent(&s, &b, "sig").await;

    // One payload byte of the last chunk flipped: its signature no longer matches.
    let mut flipped = sign(
        Req::new("PUT", &b, "data").body(&body),
        Body::SignedChunks(None),
    );
    let at = flipped.body.len() - 200;
    flipped.body[at] ^= 1;
    let r = s.send(&flipped).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_absent(&s, &b, "data").await;

    let r = s.send(&good).await;
    assert_eq!(r.status, 200, "the untampered body: {}", r.text());
}

/// A wrong trailing checksum (unsigned and signed trailers) and a wrong x-amz-checksum
/// header are refused with BadDigest (or the trailer signature); nothing is stored.
#[tokio::test]
async fn wrong_checksums_are_refused_and_store_nothing() {
    let s = Server::start().await;
    let b = s.bucket("v4crc").await;
    let body = data(70_000);
    let mut req = sign(
        Req::new("PUT", &b, "trailer").body(&body),
        Body::UnsignedTrailer(ChecksumAlgorithm::Crc32),
    );
    let good = sigv4::checksum::checksum(ChecksumAlgorithm::Crc32, &body);
    let wrong = sigv4::checksum::checksum(ChecksumAlgorithm::Crc32, b"something else");
    let at = req
        .body
        .windows(good.len())
        .rposition(|w| w == good.as_bytes())
        .unwrap();
    req.body.splice(at..at + good.len(), wrong.bytes());
    let r = s.send(&req).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("BadDigest")),
        "{}",
        r.text()
    );
    assert_absent(&s, &b, "trailer").await;

    // The signed trailer: the checksum changed breaks the trailer signature first.
    let mut req = sign(
        Req::new("PUT", &b, "signed-trailer").body(&body),
        Body::SignedChunks(Some(ChecksumAlgorithm::Crc32)),
    );
    let at = req
        .body
        .windows(good.len())
        .rposition(|w| w == good.as_bytes())
        .unwrap();
    req.body.splice(at..at + good.len(), wrong.bytes());
    let r = s.send(&req).await;
    assert!(matches!(r.status, 400 | 403), "{}", r.text());
    assert_absent(&s, &b, "signed-trailer").await;

    let r = s
        .send(&sign(
            Req::new("PUT", &b, "header")
                .header("x-amz-checksum-crc32", &wrong)
                .body(&body),
            Body::Hashed,
        ))
        .await;
    assert_eq!((r.status, r.code().as_deref()), (400, Some("BadDigest")));
    assert_absent(&s, &b, "header").await;
}

/// x-amz-content-sha256 that is not the body's: XAmzContentSHA256Mismatch, nothing stored.
#[tokio::test]
async fn content_sha256_mismatch_stores_nothing() {
    let s = Server::start().await;
    let b = s.bucket("v4sha").await;
    let mut req = sign(Req::new("PUT", &b, "k").body(b"signed body"), Body::Hashed);
    req.body = b"other body!".to_vec();
    let r = s.send(&req).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("XAmzContentSHA256Mismatch")),
        "{}",
        r.text()
    );
    assert_absent(&s, &b, "k").await;
}

/// SIGV4-SCOPE-REGION `checked` (default): a scope naming another region is refused with
/// AuthorizationHeaderMalformed naming the expected one, also path-style on an IP host;
/// `ignored` accepts it.
#[tokio::test]
async fn scope_region_is_checked_unless_switched_off() {
    let s = Server::start().await;
    let b = s.bucket("v4region").await;
    let r = s
        .send(&sign_as(
            Req::new("PUT", &b, "k").body(b"x"),
            OWNER.key,
            "us-east-1",
            Body::Hashed,
            0,
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("AuthorizationHeaderMalformed"))
    );
    assert!(
        r.text().contains("expecting &apos;ap-beijing&apos;")
            || r.text().contains("expecting 'ap-beijing'"),
        "{}",
        r.text()
    );
    assert_absent(&s, &b, "k").await;
    // Path style on the IP: the bucket's stored region is the one expected.
    let mut path_style = Req::new("PUT", &b, "p")
        .body(b"x")
        .host(&s.http.to_string());
    path_style.key_path = format!("/{b}/p");
    let r = s
        .send(&sign_as(
            path_style.clone(),
            OWNER.key,
            "us-east-1",
            Body::Hashed,
            0,
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = s.send(&sign(path_style, Body::Hashed)).await;
    assert_eq!(
        r.status,
        200,
        "path style in the bucket's region: {}",
        r.text()
    );

    let s = Server::start_switched("SIGV4-SCOPE-REGION", "ignored").await;
    let b = s.bucket("v4region").await;
    let r = s
        .send(&sign_as(
            Req::new("PUT", &b, "k").body(b"x"),
            OWNER.key,
            "us-east-1",
            Body::Hashed,
            0,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The time stamp: more than 15 minutes off is RequestTimeTooSkewed.
#[tokio::test]
async fn skewed_clocks_are_refused() {
    let s = Server::start().await;
    let b = s.bucket("v4skew").await;
    for offset in [-20 * 60, 20 * 60] {
        let r = s
            .send(&sign_as(
                Req::new("PUT", &b, "k").body(b"x"),
                OWNER.key,
                REGION,
                Body::Hashed,
                offset,
            ))
            .await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (403, Some("RequestTimeTooSkewed")),
            "{offset}"
        );
    }
    let r = s
        .send(&sign_as(
            Req::new("PUT", &b, "k").body(b"x"),
            OWNER.key,
            REGION,
            Body::Hashed,
            -600,
        ))
        .await;
    assert_eq!(r.status, 200, "ten minutes is tolerated: {}", r.text());
}

/// S3-ERROR-CODES: S3 codes and documents; an unknown access key.
#[tokio::test]
async fn s3_requests_get_s3_errors() {
    let s = Server::start().await;
    let b = s.bucket("v4errors").await;
    let r = s
        .send(&sign(Req::new("GET", &b, "missing"), Body::Hashed))
        .await;
    assert_eq!((r.status, r.code().as_deref()), (404, Some("NoSuchKey")));
    assert!(r.text().contains("<HostId>") && !r.text().contains("TraceId"));
    let mut bad = sign(Req::new("GET", &b, "missing"), Body::Hashed);
    for (n, v) in &mut bad.headers {
        if n == "authorization" {
            *v = v.replace("Credential=", "Credential=X");
        }
    }
    let r = s.send(&bad).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("InvalidAccessKeyId"))
    );
    let mut malformed = sign(Req::new("GET", &b, "missing"), Body::Hashed);
    for (n, v) in &mut malformed.headers {
        if n == "authorization" {
            *v = v.replace("SignedHeaders=", "Signedheaders=");
        }
    }
    let r = s.send(&malformed).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("AuthorizationHeaderMalformed"))
    );
    // An SSE mode header on a read: S3's InvalidArgument, naming the x-amz header.
    s.put(&b, "plain", b"x").await;
    let r = s
        .send(&sign(
            Req::new("GET", &b, "plain").header("x-amz-server-side-encryption", "AES256"),
            Body::Hashed,
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (400, Some("InvalidArgument"))
    );
    assert!(
        r.text().contains("x-amz-server-side-encryption"),
        "{}",
        r.text()
    );
}

/// AMZ-SSE-HEADERS across dialects: SSE-C written S3-signed reads COS-signed with the same
/// key and back; SSE-KMS echoes aws:kms and the key id under S3's names; SSE-S3 echoes
/// AES256; the wrong key is refused in both dialects.
#[tokio::test]
async fn sse_crosses_dialects_with_the_same_keys() {
    let s = Server::start().await;
    let b = s.bucket("v4sse").await;
    let r = s
        .send_tls(&sign(
            with_amz_key(Req::new("PUT", &b, "ssec"), K1).body(b"customer data"),
            Body::Hashed,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );
    assert_eq!(
        r.header("x-amz-server-side-encryption-customer-key-md5"),
        Some(md5_b64(K1).as_str())
    );
    assert!(r
        .header("x-cos-server-side-encryption-customer-algorithm")
        .is_none());
    let g = s.send_tls(&with_key(Req::new("GET", &b, "ssec"), K1)).await;
    assert_eq!((g.status, g.body.as_slice()), (200, &b"customer data"[..]));
    let g = s
        .send_tls(&sign(
            with_amz_key(Req::new("GET", &b, "ssec"), K2),
            Body::Hashed,
        ))
        .await;
    assert_eq!(g.status, 403, "wrong key: {}", g.text());

    s.send_tls(&with_key(Req::new("PUT", &b, "cos-ssec"), K2).body(b"written by COS"))
        .await;
    let g = s
        .send_tls(&sign(
            with_amz_key(Req::new("GET", &b, "cos-ssec"), K2),
            Body::Hashed,
        ))
        .await;
    assert_eq!((g.status, g.body.as_slice()), (200, &b"written by COS"[..]));

    let ctx = STANDARD.encode(br#"{"purpose":"test"}"#);
    let r = s
        .send_tls(&sign(
            Req::new("PUT", &b, "kms")
                .header("x-amz-server-side-encryption", "aws:kms")
                .header("x-amz-server-side-encryption-context", &ctx)
                .body(b"kms data"),
            Body::Hashed,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amz-server-side-encryption"), Some("aws:kms"));
    let key_id = r
        .header("x-amz-server-side-encryption-aws-kms-key-id")
        .expect("the KMS key id under S3's name")
        .to_string();
    let h = s.send_tls(&Req::new("HEAD", &b, "kms")).await;
    assert_eq!(h.header("x-cos-server-side-encryption"), Some("cos/kms"));
    assert_eq!(
        h.header("x-cos-server-side-encryption-cos-kms-key-id"),
        Some(key_id.as_str())
    );

    let r = s
        .send_tls(&sign(
            Req::new("PUT", &b, "sse-s3")
                .header("x-amz-server-side-encryption", "AES256")
                .body(b"s3 data"),
            Body::Hashed,
        ))
        .await;
    assert_eq!(r.header("x-amz-server-side-encryption"), Some("AES256"));
    let g = s
        .send_tls(&sign(Req::new("GET", &b, "sse-s3"), Body::Hashed))
        .await;
    assert_eq!(g.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(g.body, b"s3 data");
}

/// S3's copy: x-amz-copy-source from SSE-C with the copy-source key to a new key under
/// another key; metadata under x-amz-meta-*.
#[tokio::test]
async fn copy_between_sse_c_keys_with_s3_names() {
    let s = Server::start().await;
    let b = s.bucket("v4copy").await;
    s.send_tls(&sign(
        with_amz_key(Req::new("PUT", &b, "src"), K1)
            .header("x-amz-meta-note", "kept")
            .body(b"copied data"),
        Body::Hashed,
    ))
    .await;
    let mut copy = with_amz_key(Req::new("PUT", &b, "dst"), K2)
        .header("x-amz-copy-source", &format!("/{b}/src"))
        .header(
            "x-amz-copy-source-server-side-encryption-customer-algorithm",
            "AES256",
        )
        .header(
            "x-amz-copy-source-server-side-encryption-customer-key",
            &STANDARD.encode(K1),
        )
        .header(
            "x-amz-copy-source-server-side-encryption-customer-key-MD5",
            &md5_b64(K1),
        );
    copy = sign(copy, Body::Hashed);
    let r = s.send_tls(&copy).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<CopyObjectResult>"), "{}", r.text());
    let g = s
        .send_tls(&sign(
            with_amz_key(Req::new("GET", &b, "dst"), K2),
            Body::Hashed,
        ))
        .await;
    assert_eq!((g.status, g.body.as_slice()), (200, &b"copied data"[..]));
    assert_eq!(g.header("x-amz-meta-note"), Some("kept"));
}

/// The text of every `<name>` element of an XML document.
fn elements(xml: &str, name: &str) -> Vec<String> {
    xml.split(&format!("<{name}>"))
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{name}>")).next())
        .map(str::to_string)
        .collect()
}

/// S3-LIST-V2: ListObjectsV2 pages with continuation tokens and KeyCount for S3 requests;
/// a COS request's `list-type` stays 501.
#[tokio::test]
async fn list_objects_v2_pages_with_tokens() {
    let s = Server::start().await;
    let b = s.bucket("v4list").await;
    for k in ["a", "b", "c", "d", "e"] {
        s.put(&b, k, b"x").await;
    }
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let mut req = Req::new("GET", &b, "")
            .query("list-type", "2")
            .query("max-keys", "2");
        if let Some(t) = &token {
            req = req.query("continuation-token", t);
        }
        let r = s.send(&sign(req, Body::Hashed)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let xml = r.text();
        let page = elements(&xml, "Key");
        assert_eq!(elements(&xml, "KeyCount"), [page.len().to_string()]);
        assert!(
            !xml.contains("<Owner>") && !xml.contains("<Marker>"),
            "{xml}"
        );
        keys.extend(page);
        token = elements(&xml, "NextContinuationToken").pop();
        if token.is_none() {
            assert!(xml.contains("<IsTruncated>false</IsTruncated>"));
            break;
        }
    }
    assert_eq!(keys, ["a", "b", "c", "d", "e"]);
    let r = s
        .send(&sign(
            Req::new("GET", &b, "")
                .query("list-type", "2")
                .query("start-after", "c")
                .query("fetch-owner", "true"),
            Body::Hashed,
        ))
        .await;
    assert_eq!(elements(&r.text(), "Key"), ["d", "e"]);
    assert!(r.text().contains("<Owner>"));
    let r = s
        .send(&Req::new("GET", &b, "").query("list-type", "2"))
        .await;
    assert_eq!(r.status, 501, "COS requests: {}", r.text());
}
