//! Upload Part (`PUT <key>?partNumber=N&uploadId=ID`): streams one part into the upload's
//! staging area, encrypted under its own fresh data key when the upload is encrypted.
//!
//! SSE rules: MPU-SSE (the mode is the upload's; no mode header on a part) and
//! MPU-SSEC-PARTS (the Initiate key on every part of an SSE-C upload, checked against the
//! upload's salted verifier; a missing or different key stores nothing) — see
//! `multipart::part_request`. The response echoes the mode (COS-ECHO, SSEC-ECHO).

use super::multipart::{self, load_upload, part_number, part_request};
use super::upload_body::{check_md5, content_md5, declared_length};
use super::{authorize, encryption, load_bucket_for_upload, Call, Context};
use crate::auth::acl::Action;
use crate::body::ingest;
use crate::error::Error;
use crate::response::Response;

/// The largest part COS accepts (5 GiB).
pub const MAX_PART: u64 = 5 * 1024 * 1024 * 1024;

/// Upload Part, parsed.
#[derive(Debug)]
pub struct UploadPart {
    number: u32,
    length: Option<u64>,
    content_md5: Option<[u8; 16]>,
}

impl UploadPart {
    /// Reads the parameters and headers; the body stays unread until `apply`.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let req = &call.req;
        let length = declared_length(req, "Upload Part", "a part", MAX_PART)?;
        Ok(UploadPart {
            number: part_number(call)?,
            length,
            content_md5: content_md5(req)?,
        })
    }

    /// Checks the part's SSE against the upload, then streams and records the part.
    pub async fn apply(
        self,
        ctx: &Context,
        call: Call,
        bucket: crate::store::BucketRecord,
    ) -> Result<Response, Error> {
        let upload = load_upload(ctx, &call, &bucket).await?;
        let sse = part_request(ctx, &call, &upload)?;
        let (writer, record, write_id) =
            multipart::part_writer(ctx, &bucket, &upload, self.number, &sse).await?;
        let (writer, digests) = ingest(call.req.body, writer, self.length, MAX_PART).await?;
        check_md5(self.content_md5, digests.md5, "part")?;
        let part = multipart::commit_part(ctx, writer, &upload, &digests, write_id, record).await?;
        let mut r = Response::new(200);
        r.set("etag", &format!("\"{}\"", part.meta.etag));
        r.set("x-cos-hash-crc64ecma", &part.meta.crc64.to_string());
        encryption::echo(&mut r, upload.sse.as_ref(), &sse);
        Ok(r)
    }
}

/// Runs Upload Part.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    let bucket = load_bucket_for_upload(ctx, &mut call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let part = UploadPart::parse(&call)?;
    part.apply(ctx, call, bucket).await
}
