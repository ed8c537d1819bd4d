//! Integrity values checked wherever returned (INTEGRITY-PLAINTEXT): a
//! fake endpoint that answers every request correctly but one integrity value (the ETag of
//! Complete, of PUT Object - Copy, of a listing entry; a CRC-64) fails the case; the same
//! endpoint with the right values passes.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cos_suite::outcome::{CaseResult, Outcome};
use md5::{Digest, Md5};

use super::fake::{run, Canned, Handler, Seen};

/// CRC-64/XZ, as `x-cos-hash-crc64ecma` carries it (computed here independently).
fn crc64(b: &[u8]) -> u64 {
    let mut d = crc64fast::Digest::new();
    d.write(b);
    d.sum64()
}

/// MD5 of the parts' MD5s, `-N`.
fn multipart_etag(parts: &[Bytes]) -> String {
    let mut all = Md5::new();
    for p in parts {
        all.update(Md5::digest(p));
    }
    format!("{}-{}", hex::encode(all.finalize()), parts.len())
}

/// A little object store: PUT, Upload Part, Complete, Copy and listing, with correct
/// ETags and CRC-64s unless `wrong` names the operation to lie on.
fn store(wrong: &'static str) -> Handler {
    let objects: Arc<Mutex<Vec<(String, Bytes, String)>>> = Arc::default();
    let parts: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    Arc::new(move |req: &Seen, _: &[Seen]| {
        let lie = |op: &str, etag: String| {
            if op == wrong {
                "0123456789abcdef0123456789abcdef".to_string()
            } else {
                etag
            }
        };
        let mut objects = objects.lock().unwrap();
        let mut parts = parts.lock().unwrap();
        let md5 = |b: &[u8]| hex::encode(Md5::digest(b));
        let ok = |etag: &str, crc: u64, body: Vec<u8>| Canned {
            status: 200,
            headers: vec![
                ("etag", format!("\"{etag}\"")),
                ("x-cos-hash-crc64ecma", crc.to_string()),
            ],
            body,
        };
        let q = req.query.as_str();
        match req.method.as_str() {
            "POST" if q == "uploads" => Canned {
                status: 200,
                headers: vec![],
                body: b"<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>".to_vec(),
            },
            "PUT" if q.contains("partNumber") && req.headers.contains_key("x-cos-copy-source") => {
                let src = req.headers["x-cos-copy-source"].clone();
                let src_path = format!("/{}", src.split_once('/').map_or("", |(_, k)| k));
                let body = objects
                    .iter()
                    .find(|(k, ..)| *k == src_path)
                    .map(|(_, b, _)| b.clone())
                    .unwrap_or_default();
                let (a, b) = req.headers["x-cos-copy-source-range"]
                    .trim_start_matches("bytes=")
                    .split_once('-')
                    .map(|(a, b)| (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()))
                    .unwrap();
                let part = body.slice(a..b + 1);
                parts.push(part.clone());
                let etag = lie("partcopy", md5(&part));
                let mut c = ok(&etag, crc64(&part), format!("<CopyPartResult><ETag>\"{etag}\"</ETag></CopyPartResult>").into_bytes());
                c.headers.remove(0);
                c
            }
            "PUT" if q.contains("partNumber") => {
                parts.push(req.body.clone());
                ok(&md5(&req.body), crc64(&req.body), vec![])
            }
            "POST" if q.contains("uploadId") => {
                let whole: Vec<u8> = parts.iter().flat_map(|p| p.to_vec()).collect();
                let etag = lie("complete", multipart_etag(&parts));
                let crc = if wrong == "complete-crc" { 1 } else { crc64(&whole) };
                objects.push((req.path.clone(), Bytes::from(whole), etag.clone()));
                let mut c = ok(&etag, crc, format!("<CompleteMultipartUploadResult><ETag>\"{etag}\"</ETag></CompleteMultipartUploadResult>").into_bytes());
                c.headers.remove(0);
                c
            }
            "PUT" if req.headers.contains_key("x-cos-copy-source") => {
                let src = req.headers["x-cos-copy-source"].clone();
                let src_path = format!("/{}", src.split_once('/').map_or("", |(_, k)| k));
                let body = objects
                    .iter()
                    .find(|(k, ..)| *k == src_path)
                    .map(|(_, b, _)| b.clone())
                    .unwrap_or_default();
                let etag = lie("copy", md5(&body));
                objects.push((req.path.clone(), body.clone(), etag.clone()));
                let mut c = ok(&etag, crc64(&body), format!("<CopyObjectResult><ETag>\"{etag}\"</ETag></CopyObjectResult>").into_bytes());
                c.headers.remove(0);
                c
            }
            "PUT" => {
                let etag = md5(&req.body);
                objects.push((req.path.clone(), req.body.clone(), etag.clone()));
                ok(&etag, crc64(&req.body), vec![])
            }
            "GET" if req.path == "/" => {
                let mut xml = String::from("<ListBucketResult>");
                for (k, _, etag) in objects.iter() {
                    let etag = lie("list", etag.clone());
                    xml.push_str(&format!(
                        "<Contents><Key>{}</Key><ETag>\"{etag}\"</ETag></Contents>",
                        &k[1..]
                    ));
                }
                xml.push_str("</ListBucketResult>");
                Canned { status: 200, headers: vec![], body: xml.into_bytes() }
            }
            _ => Canned::ok(),
        }
    })
}

const CASE: &str = "steps:
  - multipart:
      key: \"{{case}}/mp\"
      scheme: http
      parts: [{random: 1000}, {random: 10}]
  - copy: {key: \"{{case}}/copy\", source: {key: \"{{case}}/mp\"}, scheme: http}
  - list: {scheme: http, prefix: \"\"}
";

fn failed_at(r: &CaseResult) -> (usize, String) {
    assert_eq!(r.outcome, Outcome::Fail, "{:?}", r.reason);
    let f = r.failure.as_ref().expect("dump");
    (f.step, f.mismatches[0].field.clone())
}

#[test]
fn right_integrity_values_pass() {
    let (r, _) = run(CASE, true, &[], store("none"));
    assert_eq!(
        r.outcome,
        Outcome::Pass,
        "{:?}",
        r.failure.map(|f| f.to_text())
    );
}

#[test]
fn a_wrong_complete_etag_fails() {
    let (r, _) = run(CASE, true, &[], store("complete"));
    assert_eq!(failed_at(&r), (0, "ETag (INTEGRITY-PLAINTEXT)".into()));
}

#[test]
fn a_wrong_complete_crc64_fails() {
    let (r, _) = run(CASE, true, &[], store("complete-crc"));
    assert_eq!(
        failed_at(&r),
        (
            0,
            "header x-cos-hash-crc64ecma (INTEGRITY-PLAINTEXT)".into()
        )
    );
}

#[test]
fn a_wrong_copy_etag_fails() {
    let (r, _) = run(CASE, true, &[], store("copy"));
    assert_eq!(failed_at(&r), (1, "ETag (INTEGRITY-PLAINTEXT)".into()));
}

#[test]
fn a_wrong_listing_etag_fails() {
    let (r, _) = run(CASE, true, &[], store("list"));
    let (step, field) = failed_at(&r);
    assert_eq!(step, 2);
    assert!(field.ends_with("/ETag (INTEGRITY-PLAINTEXT)"), "{field}");
}

const PART_COPY: &str = "steps:
  - put: {key: \"{{case}}/src\", body: {random: 3000}, scheme: http}
  - name: init
    initiate: {key: \"{{case}}/pc\", scheme: http}
  - upload_part_copy:
      key: \"{{case}}/pc\"
      upload_id: \"{{steps.init.xml.UploadId}}\"
      part: 1
      source: {key: \"{{case}}/src\"}
      range: \"bytes=100-2099\"
      scheme: http
  - complete: {key: \"{{case}}/pc\", upload_id: \"{{steps.init.xml.UploadId}}\", parts: auto, scheme: http}
";

#[test]
fn upload_part_copy_etag_is_checked() {
    let (r, _) = run(PART_COPY, true, &[], store("none"));
    assert_eq!(
        r.outcome,
        Outcome::Pass,
        "{:?}",
        r.failure.map(|f| f.to_text())
    );
    let (r, _) = run(PART_COPY, true, &[], store("partcopy"));
    assert_eq!(failed_at(&r), (2, "ETag (INTEGRITY-PLAINTEXT)".into()));
}
