//! Multipart uploads: Initiate, Upload Part, Complete, Abort, List Parts, List
//! Multipart Uploads; the ETag and CRC-64 of the completed object; part-list refusals;
//! MPU-SSE (parts inherit the upload's mode) and MPU-SSEC-PARTS (every part carries the
//! Initiate key; a wrong or missing key stores nothing).

use crate::common::*;
use crate::ops_common::*;

const MIB: usize = 1024 * 1024;

/// Three parts: two of 1 MiB and a short last one.
fn three_parts() -> Vec<Vec<u8>> {
    vec![pattern(MIB, 1), pattern(MIB, 2), pattern(5000, 3)]
}

fn joined(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// The multipart ETag of `parts`.
fn expected_etag(parts: &[Vec<u8>]) -> String {
    let mut md5s = Vec::new();
    for p in parts {
        md5s.extend_from_slice(&hex::decode(md5_hex(p)).unwrap());
    }
    format!("\"{}-{}\"", md5_hex(&md5s), parts.len())
}

/// Uploads `parts` with `mode`'s part headers over TLS, returning `(number, etag)`.
async fn upload_parts(
    s: &Server,
    b: &str,
    key: &str,
    id: &str,
    mode: Mode,
    parts: &[Vec<u8>],
) -> Vec<(u32, String)> {
    let mut etags = Vec::new();
    for (i, body) in parts.iter().enumerate() {
        let n = i as u32 + 1;
        let r = s.send_tls(&mode.read(part(b, key, id, n, body))).await;
        assert_eq!(r.status, 200, "part {n}: {}", r.text());
        let etag = r.header("etag").unwrap().to_string();
        assert_eq!(etag, format!("\"{}\"", md5_hex(body)));
        etags.push((n, etag));
    }
    etags
}

#[tokio::test]
async fn plain_upload_lists_completes_and_reads_across_parts() {
    let s = Server::start().await;
    let b = s.bucket("mpu").await;
    let parts = three_parts();
    let id = initiate(&s, &b, "dir/big.bin", Mode::Plain).await;

    let r = s.send(&Req::new("GET", &b, "").bare("uploads")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml_all(&r, "UploadId"), vec![id.clone()]);
    assert_eq!(xml(&r, "Key").as_deref(), Some("dir/big.bin"));

    let etags = upload_parts(&s, &b, "dir/big.bin", &id, Mode::Plain, &parts).await;
    let r = s
        .send(
            &Req::new("GET", &b, "dir/big.bin")
                .query("uploadId", &id)
                .query("max-parts", "2"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(xml_all(&r, "PartNumber"), ["1", "2"]);
    assert_eq!(xml(&r, "IsTruncated").as_deref(), Some("true"));
    assert_eq!(xml(&r, "NextPartNumberMarker").as_deref(), Some("2"));
    let r = s
        .send(
            &Req::new("GET", &b, "dir/big.bin")
                .query("uploadId", &id)
                .query("part-number-marker", "2"),
        )
        .await;
    assert_eq!(xml_all(&r, "PartNumber"), ["3"]);
    assert_eq!(xml(&r, "Size").as_deref(), Some("5000"));

    let r = s.send(&complete(&b, "dir/big.bin", &id, &etags)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let whole = joined(&parts);
    let etag = expected_etag(&parts);
    assert_eq!(xml(&r, "ETag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        r.header("x-cos-hash-crc64ecma"),
        Some(crc64(&whole).as_str())
    );

    let r = s.send(&Req::new("GET", &b, "dir/big.bin")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, whole);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(
        r.header("x-cos-hash-crc64ecma"),
        Some(crc64(&whole).as_str())
    );
    let r = s
        .send(&Req::new("GET", &b, "dir/big.bin").header("Range", "bytes=1048570-2097160"))
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &whole[1_048_570..2_097_161]);

    // The upload is gone: listing, parts and a second Complete all say so.
    let r = s.send(&Req::new("GET", &b, "").bare("uploads")).await;
    assert!(xml_all(&r, "UploadId").is_empty(), "{}", r.text());
    s.send(&complete(&b, "dir/big.bin", &id, &etags))
        .await
        .assert_error(404, "NoSuchUpload");
    s.send(&part(&b, "dir/big.bin", &id, 4, b"late"))
        .await
        .assert_error(404, "NoSuchUpload");
    assert!(
        files_under(&s.dir.path().join("uploads")).is_empty(),
        "staged parts removed"
    );
}

#[tokio::test]
async fn refused_part_lists_leave_the_upload_usable() {
    let s = Server::start().await;
    let b = s.bucket("mpubad").await;
    let parts = three_parts();
    let id = initiate(&s, &b, "k", Mode::Plain).await;
    let etags = upload_parts(&s, &b, "k", &id, Mode::Plain, &parts).await;

    let reversed = vec![etags[1].clone(), etags[0].clone()];
    s.send(&complete(&b, "k", &id, &reversed))
        .await
        .assert_error(400, "InvalidPartOrder");
    let wrong = vec![etags[0].clone(), (2, format!("\"{}\"", md5_hex(b"other")))];
    s.send(&complete(&b, "k", &id, &wrong))
        .await
        .assert_error(400, "InvalidPart");
    let missing = vec![etags[0].clone(), (9, etags[1].1.clone())];
    s.send(&complete(&b, "k", &id, &missing))
        .await
        .assert_error(400, "InvalidPart");
    // Part 3 (5000 bytes) may only be last: re-upload it as part 2, then part 3 big.
    let r = s.send(&part(&b, "k", &id, 2, &parts[2])).await;
    assert_eq!(r.status, 200);
    let small_etag = r.header("etag").unwrap().to_string();
    let r = s.send(&part(&b, "k", &id, 3, &parts[1])).await;
    assert_eq!(r.status, 200);
    let small_first = vec![
        etags[0].clone(),
        (2, small_etag.clone()),
        (3, etags[1].1.clone()),
    ];
    s.send(&complete(&b, "k", &id, &small_first))
        .await
        .assert_error(400, "EntityTooSmall");
    let r = s
        .send(
            &Req::new("POST", &b, "k")
                .query("uploadId", &id)
                .body(b"<CompleteMultipartUpload></CompleteMultipartUpload>"),
        )
        .await;
    r.assert_error(400, "MalformedXML");
    s.send(&Req::new("GET", &b, "k"))
        .await
        .assert_error(404, "NoSuchKey");

    // Parts 1 and 3 leave a gap: 400 InvalidPart (ERROR-CODES.md row 15c); the upload
    // stays usable, and parts 1 and 2 (a contiguous subset of 1, 2, 3) complete it.
    let gap = vec![etags[0].clone(), (3, etags[1].1.clone())];
    s.send(&complete(&b, "k", &id, &gap))
        .await
        .assert_error(400, "InvalidPart");
    let subset = vec![etags[0].clone(), (2, small_etag)];
    let r = s.send(&complete(&b, "k", &id, &subset)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.send(&Req::new("GET", &b, "k")).await;
    assert_eq!(r.body, [parts[0].clone(), parts[2].clone()].concat());
}

#[tokio::test]
async fn bad_part_numbers_ids_and_abort() {
    let s = Server::start().await;
    let b = s.bucket("mpuabort").await;
    let id = initiate(&s, &b, "k", Mode::Plain).await;
    for n in ["0", "10001", "x", ""] {
        let r = s
            .send(
                &Req::new("PUT", &b, "k")
                    .query("partNumber", n)
                    .query("uploadId", &id)
                    .body(b"x"),
            )
            .await;
        r.assert_error(400, "InvalidArgument");
    }
    for bad in ["../../etc", "0000", &id.to_uppercase()] {
        s.send(&part(&b, "k", bad, 1, b"x"))
            .await
            .assert_error(404, "NoSuchUpload");
    }
    // The id belongs to its key only.
    s.send(&part(&b, "other", &id, 1, b"x"))
        .await
        .assert_error(404, "NoSuchUpload");
    let r = s.send(&part(&b, "k", &id, 1, b"staged bytes")).await;
    assert_eq!(r.status, 200);
    let r = s
        .send(&Req::new("DELETE", &b, "k").query("uploadId", &id))
        .await;
    assert_eq!(r.status, 204);
    s.send(&Req::new("DELETE", &b, "k").query("uploadId", &id))
        .await
        .assert_error(404, "NoSuchUpload");
    s.send(&Req::new("GET", &b, "k").query("uploadId", &id))
        .await
        .assert_error(404, "NoSuchUpload");
    assert!(!on_disk(&s, b"staged bytes"));
}

/// The three-part SSE-C upload with a wrong key on part 2 (MPU-SSEC-PARTS).
#[tokio::test]
async fn sse_c_parts_need_the_initiate_key() {
    let s = Server::start().await;
    let b = s.bucket("mpussec").await;
    let parts = three_parts();
    let id = initiate(&s, &b, "obj", Mode::C(K1)).await;
    let mut etags = Vec::new();
    let r = s
        .send_tls(&with_key(part(&b, "obj", &id, 1, &parts[0]), K1))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("x-cos-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );
    etags.push((1, r.header("etag").unwrap().to_string()));

    let wrong = b"WRONG-KEY-PART-2".repeat(1000);
    let r = s
        .send_tls(&with_key(part(&b, "obj", &id, 2, &wrong), K2))
        .await;
    r.assert_error(403, "AccessDenied");
    // A keyless part (what an SDK's uploadFile sends) is told what is missing and why.
    let r = s.send_tls(&part(&b, "obj", &id, 2, &wrong)).await;
    r.assert_error(400, "InvalidRequest");
    let t = r.text();
    assert!(
        t.contains("Upload Part") && t.contains("x-cos-server-side-encryption-customer-key"),
        "{t}"
    );
    s.send(&with_key(part(&b, "obj", &id, 2, &wrong), K1))
        .await
        .assert_error(400, "InvalidRequest");
    let r = s
        .send_tls(&with_key(part(&b, "obj", &id, 2, &wrong), K1).header(SSE, "AES256"))
        .await;
    r.assert_error(400, "InvalidArgument");
    let r = s
        .send_tls(&Req::new("GET", &b, "obj").query("uploadId", &id))
        .await;
    assert_eq!(
        xml_all(&r, "PartNumber"),
        ["1"],
        "refused parts are not stored"
    );

    for (n, body) in [(2u32, &parts[1]), (3, &parts[2])] {
        let r = s
            .send_tls(&with_key(part(&b, "obj", &id, n, body), K1))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        etags.push((n, r.header("etag").unwrap().to_string()));
    }
    // Complete carries no key (the SDKs send none).
    let r = s.send_tls(&complete(&b, "obj", &id, &etags)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("x-cos-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );

    let whole = joined(&parts);
    let r = s.send_tls(&with_key(Req::new("GET", &b, "obj"), K1)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, whole);
    assert_eq!(r.header("etag"), Some(expected_etag(&parts).as_str()));
    assert_eq!(
        r.header("x-cos-server-side-encryption-customer-key-md5"),
        Some(md5_b64(K1).as_str())
    );
    let r = s
        .send_tls(
            &with_key(Req::new("GET", &b, "obj"), K1).header("Range", "bytes=1048000-2097200"),
        )
        .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &whole[1_048_000..2_097_201]);
    s.send_tls(&with_key(Req::new("GET", &b, "obj"), K2))
        .await
        .assert_error(403, "AccessDenied");
    s.send_tls(&Req::new("GET", &b, "obj"))
        .await
        .assert_error(400, "InvalidRequest");
    let r = s.send_tls(&with_key(Req::new("HEAD", &b, "obj"), K1)).await;
    assert_eq!(r.header("content-length"), Some("2102152"));
    assert!(!on_disk(&s, &parts[0][..4096]), "no plaintext at rest");
    assert!(!on_disk(&s, K1), "no customer key at rest");
}

#[tokio::test]
async fn sse_kms_and_sm4_uploads_apply_to_every_part() {
    let s = Server::start().await;
    let b = s.bucket("mpukms").await;
    let parts = three_parts();
    let whole = joined(&parts);
    for (key, mode_header) in [("kms", "cos/kms"), ("sm4", "SM4")] {
        let r = s
            .send(
                &Req::new("POST", &b, key)
                    .bare("uploads")
                    .header(SSE, mode_header),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header(SSE), Some(mode_header));
        let id = xml(&r, "UploadId").unwrap();
        // MPU-SSE: the mode is Initiate's; a part that repeats it is refused with the code
        // COS documents for the header where it does not belong (ERROR-CODES.md row 11).
        let r = s
            .send(&part(&b, key, &id, 1, &parts[0]).header(SSE, mode_header))
            .await;
        r.assert_error(400, "SSEHeaderNotAllowed");
        let etags = upload_parts(&s, &b, key, &id, Mode::Plain, &parts).await;
        let r = s.send(&complete(&b, key, &id, &etags)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header(SSE), Some(mode_header));
        let r = s.send(&Req::new("HEAD", &b, key)).await;
        assert_eq!(r.header(SSE), Some(mode_header));
        assert_eq!(r.header("content-length"), Some("2102152"));
        let r = s
            .send(&Req::new("GET", &b, key).header("Range", "bytes=1048575-1048576"))
            .await;
        assert_eq!(r.body, &whole[1_048_575..1_048_577]);
        let r = s.send(&Req::new("GET", &b, key)).await;
        assert_eq!(r.body, whole);
    }
    // Initiate takes the upload rules: a bad KMS algorithm or a KMS key that does not
    // exist refuses the upload before any part.
    let r = s
        .send(
            &Req::new("POST", &b, "bad")
                .bare("uploads")
                .header(SSE, "cos/kms")
                .header("x-cos-server-side-encryption-cos-kms-algorithm", "DES"),
        )
        .await;
    r.assert_error(400, "InvalidArgument");
    let r = s
        .send(
            &Req::new("POST", &b, "bad")
                .bare("uploads")
                .header(SSE, "cos/kms")
                .header(KMS_ID, "no-such-key"),
        )
        .await;
    r.assert_error(400, "KmsKeyNotExist");
    assert!(!on_disk(&s, &parts[1][..4096]), "no plaintext at rest");
}
