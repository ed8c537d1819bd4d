//! Integrity values checked wherever the endpoint returns them (rule INTEGRITY-PLAINTEXT),
//! by the runner for every case, from what it knows each step uploaded:
//!
//! - `x-cos-hash-crc64ecma` on any success (PUT, POST, Complete, Copy, Upload Part (Copy),
//!   GET, HEAD) is the CRC-64/XZ of the plaintext it concerns (the object, or the part);
//! - the ETag of a plain or SSE-COS object is computable: the MD5 of the plaintext for a
//!   PUT, a POST, a PUT Object - Copy and an Upload Part (Copy), and the MD5 of the parts'
//!   MD5s with `-N` for Complete Multipart Upload. SSE-C and SSE-KMS ETags are not
//!   asserted (INTEGRITY-PLAINTEXT: S3-style stores make them opaque);
//! - in every mode, the ETag an object was written with is the one a later GET, HEAD or
//!   bucket listing reports for it (the value HEAD returns for the same object).
//!
//! A difference fails the step like any expectation.

use bytes::Bytes;
use md5::{Digest, Md5};

use crate::client::{Request, Response};
use crate::outcome::Mismatch;
use crate::xml::Element;

use super::request::Built;
use super::state::CaseState;

/// The CRC-64/XZ (ECMA-182, reflected, all-ones init and xor-out) COS returns in
/// `x-cos-hash-crc64ecma`, in decimal.
pub fn crc64(data: &[u8]) -> u64 {
    let mut d = crc64fast::Digest::new();
    d.write(data);
    d.sum64()
}

/// An ETag without quotes or surrounding space.
pub fn bare_etag(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// Whether a request asks for SSE-C or SSE-KMS (whose ETags are opaque). Any one of the
/// customer headers counts: an endpoint may take a key without its algorithm
/// (SSEC-ALG-DEFAULT `aes256`) or without its MD5 (SSEC-MD5-OLD `accepted`).
pub fn opaque_etag_mode(req: &Request) -> bool {
    req.headers
        .iter()
        .any(|(k, v)| asks_for_opaque_mode(&k.to_ascii_lowercase(), v))
        || form_mode_opaque(req)
}

/// Whether a response echoes SSE-C or SSE-KMS (the same header names as the request's):
/// an upload that sent no SSE header can still be stored so — a bucket's default
/// encryption (BUCKET-ENC-APPLY) — and its ETag is then as opaque as the mode's.
pub fn opaque_etag_echo(resp: &Response) -> bool {
    resp.headers
        .iter()
        .any(|(k, v)| asks_for_opaque_mode(&k.to_ascii_lowercase(), v))
}

/// Whether one header or form field asks for SSE-C or SSE-KMS.
fn asks_for_opaque_mode(lower_name: &str, value: &str) -> bool {
    lower_name.starts_with("x-cos-server-side-encryption-customer-")
        || (lower_name == "x-cos-server-side-encryption" && value.trim() == "cos/kms")
}

fn form_mode_opaque(req: &Request) -> bool {
    let form = req.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.starts_with("multipart/form-data")
    });
    form && crate::redact::form_text_fields(req)
        .iter()
        .any(|(k, v)| asks_for_opaque_mode(&k.to_ascii_lowercase(), v))
}

/// The ETag S3-style multipart objects have: MD5 of the concatenated part MD5s, `-N`.
pub fn multipart_etag(parts: &[Bytes]) -> String {
    let mut all = Md5::new();
    for p in parts {
        all.update(Md5::digest(p));
    }
    format!("{}-{}", hex::encode(all.finalize()), parts.len())
}

/// What kind of request a built request is, for the integrity checks.
enum Op {
    Put,
    Post,
    Copy,
    Part,
    PartCopy,
    Complete(String),
    Read,
    List,
    Other,
}

fn op(req: &Request) -> Op {
    let has = |name: &str| req.query_params().any(|(n, _)| n == name);
    let copy = req
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("x-cos-copy-source"));
    match req.method.as_str() {
        "PUT" if has("partNumber") && copy => Op::PartCopy,
        "PUT" if has("partNumber") => Op::Part,
        "PUT" if copy => Op::Copy,
        "PUT" if req.query().is_empty() => Op::Put,
        "POST" if has("uploadId") => Op::Complete(req.query_param("uploadId").unwrap_or_default()),
        "POST" if req.target.split('?').next() == Some("/") && !has("delete") => Op::Post,
        "GET" | "HEAD" if req.target.split('?').next() == Some("/") && !has("uploads") => Op::List,
        "GET" | "HEAD" => Op::Read,
        _ => Op::Other,
    }
}

impl CaseState<'_> {
    /// Checks the integrity values of a response to `built` against what the case knows;
    /// returns the differences. Called before the response is booked (so the part list
    /// and the object table still describe the state the request saw).
    pub(super) fn integrity(&self, built: &Built, resp: &Response) -> Vec<Mismatch> {
        let mut out = Vec::new();
        if resp.status / 100 != 2 {
            return out;
        }
        let xml = crate::xml::parse_body(&resp.body);
        if xml.as_ref().is_some_and(|x| x.name == "Error") {
            return out;
        }
        let req = &built.request;
        let etag = resp.header("etag").map(str::to_string).or_else(|| {
            xml.as_ref()
                .and_then(|x| x.text_at("ETag"))
                .map(str::to_string)
        });
        let crc = resp.header("x-cos-hash-crc64ecma").map(str::to_string);
        let known = built
            .key
            .as_ref()
            .and_then(|k| self.objects.get(&(built.target.bucket.clone(), k.clone())));
        let ranged = req
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("range"));
        // The plaintext the response's integrity values describe, and the ETag it must
        // have when computable.
        let (plain, want_etag): (Option<Bytes>, Option<String>) = match op(req) {
            Op::Put | Op::Post | Op::Copy | Op::Part | Op::PartCopy => {
                let md5 = built
                    .body
                    .as_ref()
                    .filter(|_| {
                        !opaque_etag_mode(req)
                            && !opaque_etag_echo(resp)
                            && !self.opaque_upload(req)
                    })
                    .map(|b| hex::encode(Md5::digest(b)));
                (built.body.clone(), md5)
            }
            Op::Complete(id) => {
                let parts: Option<Vec<Bytes>> = self.completed_parts(&id, req);
                let want = parts
                    .as_ref()
                    .filter(|_| !self.opaque_upload(req) && !self.opaque_uploads.contains(&id))
                    .map(|p| multipart_etag(p));
                (built.body.clone(), want)
            }
            Op::Read if !ranged && resp.status == 200 => {
                let written = built.key.as_ref().and_then(|k| {
                    self.etags
                        .get(&(built.target.bucket.clone(), k.clone()))
                        .cloned()
                });
                (known.cloned(), written)
            }
            Op::List => {
                self.check_listing(built, xml.as_ref(), &mut out);
                (None, None)
            }
            _ => (None, None),
        };
        if let (Some(want), Some(got)) = (&want_etag, &etag) {
            if bare_etag(want) != bare_etag(got) {
                out.push(Mismatch {
                    field: "ETag (INTEGRITY-PLAINTEXT)".into(),
                    expected: format!("\"{}\"", bare_etag(want)),
                    got: format!("\"{}\"", bare_etag(got)),
                });
            }
        }
        if let (Some(plain), Some(got)) = (&plain, &crc) {
            let want = crc64(plain).to_string();
            if got.trim() != want {
                out.push(Mismatch {
                    field: "header x-cos-hash-crc64ecma (INTEGRITY-PLAINTEXT)".into(),
                    expected: format!("{want} (CRC-64 of the {} plaintext bytes)", plain.len()),
                    got: got.clone(),
                });
            }
        }
        out
    }

    /// Listing entries of objects this case wrote carry the ETag the write returned.
    fn check_listing(&self, built: &Built, xml: Option<&Element>, out: &mut Vec<Mismatch>) {
        let Some(xml) = xml.filter(|x| x.name == "ListBucketResult") else {
            return;
        };
        for entry in xml.find_all("Contents") {
            let (Some(key), Some(got)) = (entry.text_at("Key"), entry.text_at("ETag")) else {
                continue;
            };
            let id = (built.target.bucket.clone(), key.trim().to_string());
            if let Some(want) = self.etags.get(&id) {
                if bare_etag(want) != bare_etag(got) {
                    out.push(Mismatch {
                        field: format!(
                            "xml Contents[Key={}]/ETag (INTEGRITY-PLAINTEXT)",
                            key.trim()
                        ),
                        expected: format!("\"{}\" (the ETag its upload returned)", bare_etag(want)),
                        got: format!("\"{}\"", bare_etag(got)),
                    });
                }
            }
        }
    }

    /// The bodies of the parts a Complete request names, in order, when all are known.
    fn completed_parts(&self, upload_id: &str, req: &Request) -> Option<Vec<Bytes>> {
        let known = self.parts.get(upload_id)?;
        let doc = Element::parse(&req.body).ok()?;
        doc.find_all("Part")
            .iter()
            .map(|p| {
                let n: u32 = p.text_at("PartNumber")?.trim().parse().ok()?;
                let (etag, body) = known.get(&n)?;
                // A part named with another ETag than it got is the server's to refuse.
                (bare_etag(p.text_at("ETag")?) == bare_etag(etag)).then_some(())?;
                body.clone()
            })
            .collect()
    }

    /// Whether the multipart upload a part or complete request belongs to was initiated
    /// with SSE-C or SSE-KMS.
    fn opaque_upload(&self, req: &Request) -> bool {
        req.query_params().any(|(name, value)| {
            name == "uploadId" && value.is_some_and(|id| self.opaque_uploads.contains(id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_the_xz_variant_cos_documents() {
        // INTEGRITY-PLAINTEXT: the CRC-64 of "123" is 3468660410647627105.
        assert_eq!(crc64(b"123"), 3468660410647627105);
    }

    #[test]
    fn multipart_etag_is_md5_of_part_md5s() {
        let parts = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        let mut cat = Vec::new();
        cat.extend_from_slice(&Md5::digest(b"a"));
        cat.extend_from_slice(&Md5::digest(b"b"));
        assert_eq!(
            multipart_etag(&parts),
            format!("{}-2", hex::encode(Md5::digest(&cat)))
        );
    }
}
