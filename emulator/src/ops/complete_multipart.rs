//! Complete Multipart Upload (`POST <key>?uploadId=ID` with the part list): checks the list
//! (InvalidPart — also for non-contiguous numbers, ERROR-CODES.md row 15c —,
//! InvalidPartOrder, EntityTooSmall), then makes the parts one object
//! atomically — its ETag `"<MD5 of the part MD5s>-<n>"`, its CRC-64 combined from the
//! parts', its size the sum of theirs.
//!
//! SSE rules: MPU-SSE (the completed object has the mode set at Initiate; each part keeps
//! its own data key, so no key is needed here and no part is re-encrypted); the response
//! echoes the mode (COS-ECHO, SSEC-ECHO).

use super::multipart::{load_upload, no_such_upload, part_request, upload_id};
use super::part_digests::{combined_crc64, multipart_etag};
use super::write::new_write_id;
use super::{authorize, encryption, load_bucket, now_ms, read_document, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::sse::SseRequest;
use crate::store::multipart::{Claim, PartRecord};
use crate::store::parts::PartLayout;
use crate::store::{BodyFormat, BucketRecord, ObjectMeta, ObjectRecord, Store};
use crate::xml::{self, XmlWriter};
use cos_emulator_crypto::SseMode;

/// COS's minimum size of every part but the last (1 MiB).
pub const MIN_PART: u64 = 1024 * 1024;

/// The most parts an upload has (COS: part numbers 1 to 10000).
pub const MAX_PARTS_PER_UPLOAD: usize = 10_000;

/// The part list is at most 10000 entries of well under 200 bytes each.
const MAX_LIST_DOCUMENT: usize = 2 * 1024 * 1024;

/// Complete Multipart Upload, parsed.
#[derive(Debug)]
pub struct CompleteMultipartUpload {
    upload_id: String,
    key: String,
    /// `(part number, ETag without quotes)`, as listed.
    parts: Vec<(u32, String)>,
}

fn malformed(detail: &str) -> Error {
    Error::new(
        ErrorCode::MalformedXml,
        format!("the part list is not a CompleteMultipartUpload document: {detail}"),
    )
}

/// Parses `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`.
pub fn parse_part_list(doc: &[u8]) -> Result<Vec<(u32, String)>, Error> {
    let root = xml::parse(doc)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(malformed("wrong root element"));
    }
    let mut parts = Vec::new();
    for p in root.children_named("Part") {
        let number = p
            .child("PartNumber")
            .and_then(|n| n.text.parse::<u32>().ok())
            .ok_or_else(|| malformed("a Part has no numeric PartNumber"))?;
        let etag = p
            .child("ETag")
            .map(|e| e.text.trim().trim_matches('"').to_string())
            .ok_or_else(|| malformed("a Part has no ETag"))?;
        parts.push((number, etag));
    }
    if parts.is_empty() {
        return Err(malformed("no Part listed"));
    }
    // COS: an upload has at most 10000 parts (partNumber 1..=10000), so a longer list can
    // never complete; refuse it before matching it against the uploaded parts.
    if parts.len() > MAX_PARTS_PER_UPLOAD {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} parts listed; an upload has at most {MAX_PARTS_PER_UPLOAD}",
                parts.len()
            ),
        ));
    }
    Ok(parts)
}

/// The listed parts, checked against the uploaded ones, in order.
fn select<'a>(
    listed: &[(u32, String)],
    uploaded: &'a [PartRecord],
) -> Result<Vec<&'a PartRecord>, Error> {
    if let Some(w) = listed.windows(2).find(|w| w[0].0 >= w[1].0) {
        let number = w[1].0;
        return Err(Error::new(
            ErrorCode::InvalidPartOrder,
            format!("part {number} is listed after a part with a number not below it; list parts in ascending order"),
        ));
    }
    let mut chosen: Vec<&PartRecord> = Vec::with_capacity(listed.len());
    for (number, etag) in listed {
        // ERROR-CODES.md row 15c (S9, COS doc 436/7742: "当上传块编号不连续的时候…会返回400
        // InvalidPart"): the listed numbers run 1, 2, … without a gap.
        let expected = chosen.last().map_or(1, |p| p.number + 1);
        if *number != expected {
            return Err(Error::new(
                ErrorCode::InvalidPart,
                format!("part {number} is listed where part {expected} was expected; part numbers must be contiguous from 1"),
            ));
        }
        let part = uploaded
            .iter()
            .find(|p| p.number == *number && p.etag == *etag)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidPart,
                    format!("part {number} with ETag \"{etag}\" was not uploaded"),
                )
            })?;
        chosen.push(part);
    }
    if let Some(small) = chosen[..chosen.len() - 1]
        .iter()
        .find(|p| p.size < MIN_PART)
    {
        return Err(Error::new(
            ErrorCode::EntityTooSmall,
            format!(
                "part {} has {} bytes; every part but the last needs at least {MIN_PART}",
                small.number, small.size
            ),
        ));
    }
    Ok(chosen)
}

/// Assembles the claimed parts into one object and commits it.
fn assemble(
    store: &dyn Store,
    bucket: &str,
    claim: &Claim,
    parts: &[&PartRecord],
) -> Result<ObjectRecord, Error> {
    let format = match claim.record.sse {
        // Plain parts back to back are the plaintext.
        None => BodyFormat::Plain,
        Some(_) => BodyFormat::Parts {
            parts: parts
                .iter()
                .map(|p| PartLayout {
                    size: p.size,
                    stored_len: p.body.stored_len,
                    write_id: p.write_id.clone(),
                    sse: p.sse.clone(),
                })
                .collect(),
        },
    };
    let etag = multipart_etag(parts.iter().map(|p| p.etag.as_str()))
        .ok_or_else(|| Error::internal("a stored part ETag is not hex"))?;
    let meta = ObjectMeta {
        size: parts.iter().map(|p| p.size).sum(),
        etag,
        crc64: combined_crc64(parts.iter().map(|p| (p.crc64, p.size))),
        modified_ms: now_ms(),
        write_id: new_write_id(),
        sse: claim.record.sse.clone(),
        ..claim.record.meta.clone()
    };
    claim
        .complete(store, bucket, parts, format, meta)
        .map_err(store_error)
}

impl CompleteMultipartUpload {
    /// Reads the part list.
    pub async fn parse(call: &mut Call) -> Result<Self, Error> {
        let upload_id = upload_id(call)?;
        let key = call.key()?.to_string();
        let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
        let doc = read_document(body, MAX_LIST_DOCUMENT).await?;
        Ok(CompleteMultipartUpload {
            upload_id,
            key,
            parts: parse_part_list(&doc)?,
        })
    }

    /// Claims the upload, checks the list, assembles and commits; a refused list gives
    /// the upload back unchanged.
    pub async fn apply(self, ctx: &Context, bucket: BucketRecord) -> Result<Response, Error> {
        let store = ctx.store.clone();
        let name = bucket.name.clone();
        let record = blocking(move || {
            let claim = store
                .uploads()
                .claim(&name, &self.upload_id)
                .map_err(store_error)?
                .ok_or_else(|| no_such_upload(&self.upload_id))?;
            let result = if claim.record.meta.key == self.key {
                select(&self.parts, &claim.parts)
                    .and_then(|parts| assemble(store.as_ref(), &name, &claim, &parts))
            } else {
                Err(no_such_upload(&self.upload_id))
            };
            match result {
                Ok(record) => {
                    claim.finish().map_err(store_error)?;
                    Ok(record)
                }
                Err(e) => {
                    claim.release().map_err(store_error)?;
                    Err(e)
                }
            }
        })
        .await?;
        let mut w = XmlWriter::new();
        w.open("CompleteMultipartUploadResult");
        w.leaf(
            "Location",
            &format!(
                "{}.cos.{}.myqcloud.com/{}",
                bucket.name, bucket.region, record.meta.key
            ),
        );
        w.leaf("Bucket", &bucket.name);
        w.leaf("Key", &record.meta.key);
        w.leaf("ETag", &format!("\"{}\"", record.meta.etag));
        w.close("CompleteMultipartUploadResult");
        let mut r = Response::xml(w.finish());
        r.set("x-cos-hash-crc64ecma", &record.meta.crc64.to_string());
        encryption::echo(&mut r, record.meta.sse.as_ref(), &SseRequest::None);
        Ok(r)
    }
}

/// MPU-SSEC-COMPLETE-KEY (`unspecified`; the seeds never say whether Complete carries the
/// SSE-C key). For an SSE-C upload, SSE-C headers that are sent are checked like a part's
/// (`multipart::part_request`: the upload's key and algorithm, over HTTPS; a different key
/// is 403 and the upload stays as it was). Without them the Complete is `accepted` (the
/// default: no part is re-encrypted, so no key is needed) or, with the switch `refused`,
/// refused like a keyless part (400). Other uploads ignore the SSE-C headers here.
async fn check_customer_key(
    ctx: &Context,
    call: &Call,
    bucket: &BucketRecord,
) -> Result<(), Error> {
    let upload = load_upload(ctx, call, bucket).await?;
    let customer = upload
        .sse
        .as_ref()
        .is_some_and(|r| r.mode() == SseMode::Customer);
    let sent = call
        .req
        .headers
        .contains_key(crate::sse::names::CUSTOMER_ALGORITHM)
        || call
            .req
            .headers
            .contains_key(crate::sse::names::CUSTOMER_KEY);
    if customer && (sent || ctx.behaviours.complete_needs_ssec_key) {
        part_request(ctx, call, &upload)?;
    }
    Ok(())
}

/// Runs Complete Multipart Upload.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    check_customer_key(ctx, &call, &bucket).await?;
    let complete = CompleteMultipartUpload::parse(&mut call).await?;
    complete.apply(ctx, bucket).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_lists() {
        let doc = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"ab\"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>cd</ETag></Part></CompleteMultipartUpload>";
        assert_eq!(
            parse_part_list(doc).unwrap(),
            [(1, "ab".to_string()), (3, "cd".to_string())]
        );
        for bad in [
            &b"<CompleteMultipartUpload/>"[..],
            b"<Other><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Other>",
            b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
            b"<CompleteMultipartUpload><Part>",
        ] {
            assert_eq!(parse_part_list(bad).unwrap_err().code, ErrorCode::MalformedXml);
        }
    }
}
