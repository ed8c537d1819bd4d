//! Initiate Multipart Upload (`POST <key>?uploads`): fixes what the completed object will
//! be — Content-Type, stored headers, `x-cos-meta-*`, storage class, ACL — and its SSE.
//!
//! SSE rules: COS-OPS (the header is honoured here), MPU-SSE (the mode set here applies to
//! every part and to the completed object), and every upload rule of PUT Object
//! (`encryption::upload_request`: COS-ALG, KMS-*, SSEC-*, SSE-CONFLICT, REGION-*,
//! PRESIGN-NO-SSE-*, ARCHIVE-PUT-WITH-SSE). A KMS key id is resolved (KMS-DEFAULT-KEY) and
//! checked (KMS-KEY-ID) here, so an unknown or disabled CMK refuses the upload before any
//! part is sent. The response echoes the mode (COS-ECHO, SSEC-ECHO).

use super::object_headers::StoredHeaders;
use super::write::new_write_id;
use super::{authorize, encryption, load_bucket, now_ms, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::sse::SseRequest;
use crate::store::{Acl, BucketRecord, Grant, ObjectMeta};
use crate::xml::XmlWriter;

/// Initiate Multipart Upload, parsed.
#[derive(Debug)]
pub struct InitiateMultipartUpload {
    key: String,
    acl: (Acl, Vec<Grant>),
    stored: StoredHeaders,
    sse: SseRequest,
}

/// Reads the ACL an upload gives the object: `x-cos-acl` (default: inherit the bucket's)
/// and the `x-cos-grant-*` grants beside it (`acl_xml::header_grants`).
pub fn object_acl(call: &Call) -> Result<(Acl, Vec<Grant>), Error> {
    let acl = match call.req.header("x-cos-acl")? {
        None => Acl::Default,
        Some(v) => Acl::parse(v, true).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("x-cos-acl {v:?} is not an object ACL"),
            )
        })?,
    };
    Ok((acl, super::acl_xml::header_grants(&call.req)?))
}

impl InitiateMultipartUpload {
    /// Reads the headers, SSE included.
    pub fn parse(ctx: &Context, call: &Call, bucket: &BucketRecord) -> Result<Self, Error> {
        let stored = StoredHeaders::from_request(&call.req)?;
        let sse = encryption::upload_request(
            ctx,
            call,
            bucket,
            &stored.storage_class,
            super::bucket_encryption::WritePath::Initiate,
        )?;
        Ok(InitiateMultipartUpload {
            key: call.key()?.to_string(),
            acl: object_acl(call)?,
            stored,
            sse,
        })
    }

    /// Records the upload and answers its id.
    pub async fn apply(self, ctx: &Context, bucket: BucketRecord) -> Result<Response, Error> {
        let meta = ObjectMeta {
            key: self.key.clone(),
            size: 0,
            etag: String::new(),
            crc64: 0,
            modified_ms: 0,
            content_type: self.stored.content_type,
            headers: self.stored.headers,
            user_meta: self.stored.user_meta,
            storage_class: self.stored.storage_class,
            acl: self.acl.0,
            grants: self.acl.1,
            owner: bucket.appid.clone(),
            write_id: String::new(),
            sse: None,
            mac: String::new(),
        };
        let (store, keys, sse, b) = (
            ctx.store.clone(),
            ctx.keys.clone(),
            self.sse.clone(),
            bucket.clone(),
        );
        let upload = blocking(move || {
            // The upload's own record: resolves and checks the KMS key, and for SSE-C keeps
            // the salted verifier the parts' keys are checked against. Its data key is
            // dropped unused; every part gets a fresh one.
            let (_, record) = encryption::new_encoder(&keys, &sse, &b, &meta.key, &new_write_id())?;
            store
                .uploads()
                .create(&b.name, meta, record, now_ms())
                .map_err(store_error)
        })
        .await?;
        let mut w = XmlWriter::new();
        w.open("InitiateMultipartUploadResult");
        w.leaf("Bucket", &bucket.name);
        w.leaf("Key", &upload.meta.key);
        w.leaf("UploadId", &upload.upload_id);
        w.close("InitiateMultipartUploadResult");
        let mut r = Response::xml(w.finish());
        encryption::echo(&mut r, upload.sse.as_ref(), &self.sse);
        Ok(r)
    }
}

/// Runs Initiate Multipart Upload.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let init = InitiateMultipartUpload::parse(ctx, &call, &bucket)?;
    init.apply(ctx, bucket).await
}
