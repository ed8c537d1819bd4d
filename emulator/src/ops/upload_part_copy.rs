//! Upload Part - Copy (`PUT <key>?partNumber=N&uploadId=ID` with `x-cos-copy-source` and
//! optionally `x-cos-copy-source-range`): a part whose bytes are (a range of) another
//! object's plaintext, written under the part's own fresh data key.
//!
//! Rules: COPY-MULTIPART (the source key and the destination key are passed as for a copy:
//! `x-cos-copy-source-server-side-encryption-customer-*` for an SSE-C source,
//! COPY-SOURCE-KEY; the upload's own SSE-C key for an SSE-C upload, MPU-SSEC-PARTS), and
//! every check of the source (`copy_source`) and of the part (`multipart::part_request`)
//! before anything is written.

use super::multipart::{self, load_upload, part_number, part_request};
use super::{authorize, copy_source, encryption, iso_date, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{ingest, stream_out};
use crate::error::Error;
use crate::response::Response;
use crate::store::BucketRecord;
use crate::xml::XmlWriter;

/// Runs Upload Part - Copy.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let number = part_number(&call)?;
    copy_part(ctx, &call, bucket, number).await
}

async fn copy_part(
    ctx: &Context,
    call: &Call,
    bucket: BucketRecord,
    number: u32,
) -> Result<Response, Error> {
    let upload = load_upload(ctx, call, &bucket).await?;
    let sse = part_request(ctx, call, &upload)?;
    let source = copy_source::open(ctx, call).await?;
    let size = source.record.meta.size;
    let range = match call.req.header("x-cos-copy-source-range")? {
        Some(v) => copy_source::parse_range(v, size)?,
        None => 0..size,
    };
    let (writer, record, write_id) =
        multipart::part_writer(ctx, &bucket, &upload, number, &sse).await?;
    let len = range.end - range.start;
    let plain = stream_out(source.stored, source.decoder, range);
    let (writer, digests) = ingest(plain, writer, Some(len), u64::MAX).await?;
    let part = multipart::commit_part(ctx, writer, &upload, &digests, write_id, record).await?;
    let mut w = XmlWriter::new();
    w.open("CopyPartResult");
    w.leaf("ETag", &format!("\"{}\"", part.meta.etag));
    w.leaf("LastModified", &iso_date(part.meta.modified_ms));
    w.close("CopyPartResult");
    let mut r = Response::xml(w.finish());
    r.set("x-cos-hash-crc64ecma", &part.meta.crc64.to_string());
    encryption::echo(&mut r, upload.sse.as_ref(), &sse);
    Ok(r)
}
