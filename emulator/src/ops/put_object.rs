//! PUT Object: streams the body into the store (bounded memory) through the object's codec
//! — plain, or encrypted under a fresh data key when SSE is requested — verifying
//! Content-Length and Content-MD5 on the plaintext; the object appears whole or not at all.
//!
//! SSE rules applied (see `encryption::upload_request`): COS-ALG, COS-ALG-INVALID,
//! COS-ALG-LEGACY, KMS-VALUE, KMS-DEFAULT-KEY, KMS-KEY-ID, KMS-CONTEXT, KMS-ALG, SSEC-ALG,
//! SSEC-KEY, SSEC-KEY-UNPADDED, SSEC-MD5, SSEC-MD5-OLD, SSEC-HEADERS-TOGETHER, SSEC-HTTPS,
//! SSE-CONFLICT, KMS-KEY-WITHOUT-KMS, REGION-KMS, REGION-SSE, PRESIGN-NO-SSE-COS,
//! PRESIGN-NO-SSE-KMS, ARCHIVE-PUT-WITH-SSE; the response echoes the mode (COS-ECHO,
//! SSEC-ECHO); ETag and CRC-64 describe the plaintext (SIZE-UNCHANGED); metadata is stored
//! in clear (METADATA-CLEAR, KMS-METADATA).

use super::object_headers::{self, StoredHeaders};
use super::upload_body::{check_md5, content_md5, declared_length};
use super::write::{new_etag, object_writer};
use super::{authorize, encryption, load_bucket_for_upload, now_ms, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, ingest, store_error};
use crate::error::Error;
use crate::response::Response;
use crate::sse::SseRequest;
use crate::store::{Acl, BucketRecord, Grant, ObjectMeta};

/// The largest single PUT COS accepts (5 GiB).
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// PUT Object, parsed.
#[derive(Debug)]
pub struct PutObject {
    key: String,
    length: Option<u64>,
    content_md5: Option<[u8; 16]>,
    acl: (Acl, Vec<Grant>),
    stored: StoredHeaders,
    sse: SseRequest,
}

impl PutObject {
    /// Reads the headers, SSE included; the body stays unread until `apply`.
    pub fn parse(ctx: &Context, call: &Call, bucket: &BucketRecord) -> Result<Self, Error> {
        let req = &call.req;
        let length = declared_length(req, "PUT Object", "a single PUT", MAX_PUT)?;
        let acl = super::initiate_multipart::object_acl(call)?;
        let stored = StoredHeaders::from_request(req)?;
        let sse = encryption::upload_request(
            ctx,
            call,
            bucket,
            &stored.storage_class,
            super::bucket_encryption::WritePath::Put,
        )?;
        Ok(PutObject {
            key: call.key()?.to_string(),
            length,
            content_md5: content_md5(req)?,
            acl,
            stored,
            sse,
        })
    }

    /// Streams the body into a new object and commits it if everything checks out.
    pub async fn apply(
        self,
        ctx: &Context,
        call: Call,
        bucket: BucketRecord,
    ) -> Result<Response, Error> {
        let (writer, record, write_id) = object_writer(ctx, &bucket, &self.key, &self.sse).await?;
        let (writer, digests) = ingest(call.req.body, writer, self.length, MAX_PUT).await?;
        check_md5(self.content_md5, digests.md5, "body")?;
        let meta = ObjectMeta {
            key: self.key,
            size: digests.len,
            etag: new_etag(ctx, digests.md5, record.as_ref()),
            crc64: digests.crc64,
            modified_ms: now_ms(),
            content_type: self.stored.content_type,
            headers: self.stored.headers,
            user_meta: self.stored.user_meta,
            storage_class: self.stored.storage_class,
            acl: self.acl.0,
            grants: self.acl.1.clone(),
            owner: bucket.appid,
            write_id,
            sse: record,
            mac: String::new(),
        };
        let record = blocking(move || writer.commit(meta).map_err(store_error)).await?;
        let mut r = Response::new(200);
        object_headers::write_identity(&mut r, &record.meta);
        encryption::echo(&mut r, record.meta.sse.as_ref(), &self.sse);
        Ok(r)
    }
}

/// Runs PUT Object.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    let bucket = load_bucket_for_upload(ctx, &mut call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let put = PutObject::parse(ctx, &call, &bucket)?;
    put.apply(ctx, call, bucket).await
}
