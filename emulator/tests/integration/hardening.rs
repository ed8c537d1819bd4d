//! Hardening: `q-key-time` is enforced, presigned requests grant only what was
//! signed, both listings page to the end over common prefixes, and every stated limit gets a
//! COS error (never a hang or a panic).

use crate::common::*;
use crate::ops_common::*;

/// Pages a bucket listing to the end, feeding each `next_tag` back as `marker_param`, and
/// returns every key and common prefix seen. Fails if a marker repeats (the paging loop).
async fn page_to_end(
    s: &Server,
    bucket: &str,
    base: impl Fn() -> Req,
    marker_param: &str,
    next_tag: &str,
    item_tag: &str,
) -> Vec<String> {
    let mut marker = String::new();
    let mut seen = Vec::new();
    for _ in 0..50 {
        let mut req = base().query("delimiter", "/");
        if !marker.is_empty() {
            req = req.query(marker_param, &marker);
        }
        let r = s.send(&req).await;
        assert_eq!(r.status, 200, "list {bucket}: {}", r.text());
        seen.extend(xml_all(&r, item_tag));
        seen.extend(
            xml_all(&r, "Prefix")
                .into_iter()
                .filter(|p| !p.is_empty() && p.ends_with('/')),
        );
        if xml(&r, "IsTruncated").as_deref() != Some("true") {
            seen.sort();
            return seen;
        }
        let next = xml(&r, next_tag).expect("a truncated page names its next marker");
        assert_ne!(next, marker, "{next_tag} repeats the marker: a paging loop");
        marker = next;
    }
    panic!("listing {bucket} did not end after 50 pages: {seen:?}");
}

#[tokio::test]
async fn multipart_uploads_page_to_the_end_over_common_prefixes() {
    let s = Server::start().await;
    let b = s.bucket("paging").await;
    for key in ["a/1", "a/2", "a/3", "b/1", "b/2", "c"] {
        initiate(&s, &b, key, Mode::Plain).await;
    }
    let seen = page_to_end(
        &s,
        &b,
        || {
            Req::new("GET", &b, "")
                .bare("uploads")
                .query("max-uploads", "1")
        },
        "key-marker",
        "NextKeyMarker",
        "Key",
    )
    .await;
    assert_eq!(seen, ["a/", "b/", "c"]);
}

#[tokio::test]
async fn objects_page_to_the_end_over_common_prefixes() {
    let s = Server::start().await;
    let b = s.bucket("paging").await;
    for key in ["a/1", "a/2", "a/3", "b/1", "b/2", "c"] {
        s.put(&b, key, b"x").await;
    }
    let seen = page_to_end(
        &s,
        &b,
        || Req::new("GET", &b, "").query("max-keys", "1"),
        "marker",
        "NextMarker",
        "Key",
    )
    .await;
    assert_eq!(seen, ["a/", "b/", "c"]);
}

/// A signature whose `q-key-time` differs from its `q-sign-time` (the common signer uses
/// one window for both): GET of the bucket, signing only `host`.
fn authorization_with_key_time(bucket: &str, sign: (i64, i64), key: (i64, i64)) -> String {
    use hmac::{Hmac, Mac};
    use sha1::{Digest, Sha1};
    let hmac = |k: &[u8], m: &[u8]| {
        let mut mac = Hmac::<Sha1>::new_from_slice(k).unwrap();
        mac.update(m);
        hex::encode(mac.finalize().into_bytes())
    };
    let http_string = format!("get\n/\n\nhost={}\n", enc(&vhost(bucket)));
    let sign_time = format!("{};{}", sign.0, sign.1);
    let key_time = format!("{};{}", key.0, key.1);
    let sts = format!(
        "sha1\n{sign_time}\n{}\n",
        hex::encode(Sha1::digest(http_string.as_bytes()))
    );
    let sign_key = hmac(OWNER.key.as_bytes(), key_time.as_bytes());
    let sig = hmac(sign_key.as_bytes(), sts.as_bytes());
    format!(
        "q-sign-algorithm=sha1&q-ak={}&q-sign-time={sign_time}&q-key-time={key_time}&q-header-list=host&q-url-param-list=&q-signature={sig}",
        OWNER.id
    )
}

#[tokio::test]
async fn key_time_must_cover_now() {
    let s = Server::start().await;
    let b = s.bucket("keytime").await;
    let valid = (now() - 60, now() + 3600);
    let get = |key| {
        let mut r = Req::new("GET", &b, "");
        r.raw_authorization = Some(authorization_with_key_time(&b, valid, key));
        r
    };
    // The control: the hand-made signature is right when both windows cover now.
    assert_eq!(s.send(&get(valid)).await.status, 200);
    let r = s.send(&get((now() - 7200, now() - 3600))).await;
    r.assert_error(403, "AccessDenied");
    assert!(r.text().contains("q-key-time"), "{}", r.text());
    // A key window starting an hour ahead: the client's clock is too far ahead (row 13d).
    s.send(&get((now() + 3600, now() + 7200)))
        .await
        .assert_error(403, "RequestTimeTooSkewed");
}

/// Sends `req` with `extra` headers added after signing (so not in `q-header-list`).
async fn send_with_unsigned(s: &Server, req: &Req, extra: &[(&str, &str)]) -> Resp {
    use tokio::io::AsyncWriteExt;
    let bytes = req.to_bytes();
    let line_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut out = bytes[..line_end].to_vec();
    for (n, v) in extra {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(&bytes[line_end..]);
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(&out).await.unwrap();
    read_response(&mut t).await
}

/// PRESIGN-UNSIGNED-HEADERS: every grant header, unsigned on a presigned PUT, is refused
/// by default (and nothing is written); the `accepted` switch lets it through; the same
/// header signed in `q-header-list` is accepted under both behaviours.
#[tokio::test]
async fn presigned_requests_grant_only_what_was_signed() {
    for behaviour in ["refused", "accepted"] {
        let s = Server::start_switched("PRESIGN-UNSIGNED-HEADERS", behaviour).await;
        let b = s.bucket("grants").await;
        s.put(&b, "secret", b"the source object").await;
        let presigned_put = |key: &str| {
            Req::new("PUT", &b, key)
                .auth(Auth::Presigned(OWNER))
                .body(b"uploaded")
        };
        for (i, header) in [
            ("x-cos-copy-source", source(&b, "secret")),
            ("x-cos-acl", "public-read".to_string()),
            ("x-cos-grant-read", "id=\"anyone\"".to_string()),
            ("x-cos-storage-class", "STANDARD_IA".to_string()),
        ]
        .iter()
        .enumerate()
        {
            let key = format!("k{i}");
            let r = send_with_unsigned(&s, &presigned_put(&key), &[(header.0, &header.1)]).await;
            if behaviour == "refused" {
                r.assert_error(403, "AccessDenied");
                assert!(r.text().contains(header.0), "{}", r.text());
                assert_eq!(
                    s.send(&Req::new("HEAD", &b, &key)).await.status,
                    404,
                    "a refused {} wrote nothing",
                    header.0
                );
            } else {
                assert_ne!(r.status, 403, "{}: {}", header.0, r.text());
            }
            // Signed, the same header is granted under both behaviours.
            let signed = presigned_put(&format!("signed{i}")).header(header.0, &header.1);
            let r = s.send(&signed).await;
            assert_ne!(r.code().as_deref(), Some("AccessDenied"), "{}", r.text());
        }
        // Headers that grant nothing more stay allowed unsigned.
        let r = send_with_unsigned(
            &s,
            &presigned_put("meta"),
            &[("x-cos-meta-a", "1"), ("Content-Type", "text/plain")],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        s.stop().await;
    }
}

/// Sends raw request bytes on a fresh connection and reads the response to its end.
async fn send_raw(s: &Server, bytes: &[u8]) -> Resp {
    use tokio::io::AsyncWriteExt;
    let mut t = tokio::net::TcpStream::connect(s.http).await.unwrap();
    t.write_all(bytes).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), read_response(&mut t))
        .await
        .expect("answered, not hung")
}

/// Limit: at most 100 request headers (COS error); far beyond, hyper's 431.
#[tokio::test]
async fn limit_header_count() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    let with = |n: usize| {
        let mut r = Req::new("GET", &b, "");
        for i in 0..n {
            r = r.header(&format!("x-filler-{i}"), "v");
        }
        r.auth(Auth::Anonymous)
    };
    // Host, Connection and 90 fillers: under the limit (anonymous bucket read: 403).
    s.send(&with(90)).await.assert_error(403, "AccessDenied");
    let r = s.send(&with(120)).await;
    r.assert_error(400, "InvalidRequest");
    assert!(r.text().contains("at most 100"), "{}", r.text());
    // Over the transport cap: a bare 431 and a closed connection, no hang.
    assert_eq!(send_raw(&s, &with(600).to_bytes()).await.status, 431);
}

/// Limit: at most 16 KiB of request headers (COS error); beyond hyper's buffer, 431.
#[tokio::test]
async fn limit_header_bytes() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    let with = |len: usize| {
        Req::new("GET", &b, "")
            .header("x-filler", &"a".repeat(len))
            .auth(Auth::Anonymous)
    };
    s.send(&with(8 * 1024))
        .await
        .assert_error(403, "AccessDenied");
    let r = s.send(&with(20 * 1024)).await;
    r.assert_error(400, "InvalidRequest");
    assert!(r.text().contains("at most 16384"), "{}", r.text());
    assert_eq!(send_raw(&s, &with(600 * 1024).to_bytes()).await.status, 431);
}

/// Limit: an XML request body (ACL, Restore, CORS) is at most 64 KiB; Complete's part list
/// at most 2 MiB.
#[tokio::test]
async fn limit_xml_body() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    s.put(&b, "k", b"x").await;
    let big = format!(
        "<AccessControlPolicy>{}</AccessControlPolicy>",
        "<!-- padding -->".repeat(5000)
    );
    let r = s
        .send(&Req::new("PUT", &b, "k").bare("acl").body(big.as_bytes()))
        .await;
    r.assert_error(400, "MalformedXML");
    assert!(r.text().contains("65536"), "{}", r.text());
}

/// Limit: a POST form text field is at most 64 KiB, and a form at most 200 text fields.
#[tokio::test]
async fn limit_post_form() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    let key = ("key".to_string(), "k".to_string());
    let big = vec![key.clone(), ("x-cos-meta-a".into(), "a".repeat(70 * 1024))];
    let r = s.send(&crate::post::form(&b, &big, "f", b"x")).await;
    r.assert_error(400, "InvalidArgument");
    assert!(r.text().contains("65536"), "{}", r.text());
    let mut many = vec![key];
    many.extend((0..201).map(|i| (format!("x-cos-meta-f{i}"), "v".to_string())));
    let r = s.send(&crate::post::form(&b, &many, "f", b"x")).await;
    r.assert_error(400, "InvalidArgument");
    assert!(r.text().contains("200 fields"), "{}", r.text());
}

/// Limit: a key is at most 850 bytes of UTF-8 (COS), counted in bytes, not characters.
#[tokio::test]
async fn limit_key_length() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    let longest = "é".repeat(425); // 850 bytes, 425 characters
    assert_eq!(longest.len(), 850);
    s.put(&b, &longest, b"x").await;
    let r = s
        .send(&Req::new("PUT", &b, &format!("{longest}a")).body(b"x"))
        .await;
    r.assert_error(400, "KeyTooLong");
}

/// Limit: an upload has at most 10,000 parts: part number 10001 and a Complete listing
/// more than 10,000 parts are refused.
#[tokio::test]
async fn limit_part_count() {
    let s = Server::start().await;
    let b = s.bucket("limits").await;
    let id = initiate(&s, &b, "mp", Mode::Plain).await;
    let r = s.send(&part(&b, "mp", &id, 10_001, b"x")).await;
    r.assert_error(400, "InvalidArgument");
    let listed: Vec<(u32, String)> = (1..=10_001).map(|n| (n, "\"e\"".to_string())).collect();
    let r = s.send(&complete(&b, "mp", &id, &listed)).await;
    r.assert_error(400, "InvalidArgument");
    assert!(r.text().contains("at most 10000"), "{}", r.text());
}

/// Whether a document is made only of XML 1.0 characters and parses to its end.
fn well_formed_xml(body: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    if let Some(c) = text
        .chars()
        .find(|&c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!(
            "control character U+{:04X} in the document",
            c as u32
        ));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Regression (key characters): a key with a NUL was stored, and every listing that named it
/// was invalid XML. Keys COS refuses (CR, LF, CAN/EM/SUB/ESC) or XML 1.0 cannot carry are
/// refused at write, by PUT and by POST; a TAB stays allowed; every listing stays
/// well-formed, with and without encoding-type=url.
#[tokio::test]
async fn keys_xml_cannot_carry_are_refused_and_listings_stay_well_formed() {
    let s = Server::start().await;
    let b = s.bucket("xmlkeys").await;
    for bad in ["a\0b", "a\u{1}b", "a\u{1b}b", "a\nb", "a\rb", "a\u{18}b"] {
        let r = s.send(&Req::new("PUT", &b, bad).body(b"x")).await;
        r.assert_error(400, "InvalidArgument");
        assert!(!r.text().contains(bad), "{}", r.text());
        let posted = format!("up/{bad}");
        let r = s.send(&crate::post::signed(&b, &posted, &[], b"x")).await;
        r.assert_error(400, "InvalidArgument");
        assert!(r.text().contains("control character"), "{}", r.text());
    }
    s.put(&b, "tab\there", b"x").await;
    s.put(&b, "plain", b"x").await;
    for req in [
        Req::new("GET", &b, ""),
        Req::new("GET", &b, "").query("encoding-type", "url"),
        Req::new("GET", &b, "")
            .query("encoding-type", "url")
            .query("prefix", "a\0"),
        Req::new("GET", &b, "").bare("uploads"),
    ] {
        let r = s.send(&req).await;
        assert_eq!(r.status, 200, "{}", r.text());
        well_formed_xml(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()));
    }
    let listed = s.send(&Req::new("GET", &b, "")).await;
    assert!(listed.text().contains("tab\there"), "{}", listed.text());
    // A prefix XML cannot carry, without encoding-type=url, is refused, not echoed.
    let r = s
        .send(&Req::new("GET", &b, "").query("prefix", "a\0"))
        .await;
    r.assert_error(400, "InvalidArgument");
    well_formed_xml(&r.body).unwrap();
}
