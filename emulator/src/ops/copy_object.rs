//! PUT Object - Copy (`PUT <key>` with `x-cos-copy-source`): reads the source's plaintext
//! (decrypting it with its own key) and writes the destination as a new object, encrypted
//! as the copy request says — any mode to any mode, any key to any key. Every check runs
//! before the destination is written, and the response is sent only after it is
//! committed, so the fate of a copy is decided before its status line (never a 200 with
//! an `<Error>` body).
//!
//! Rules: COS-OPS and COPY-DEST-SSE (the destination's SSE comes from the normal SSE
//! headers, under every upload rule of `encryption::upload_request`), COPY-DIFFERENT-KEYS
//! (source and destination keys are independent: the destination gets a fresh data key
//! sealed for its own mode and key), COPY-SOURCE-KEY (`copy_source`), COPY-IN-PLACE (a copy
//! onto itself re-encrypts or changes the storage class; one that changes nothing is
//! refused), ARCHIVE-NO-ENCRYPT and ARCHIVE-AFTER-RESTORE (SSE on an archived object only
//! after restore and only with the class changed away from ARCHIVE / DEEP_ARCHIVE),
//! METADATA-CLEAR (`x-cos-metadata-directive: Copy` keeps the source's metadata,
//! `Replaced` takes the request's). The response echoes the destination's mode.

use super::copy_source::{self, Source};
use super::initiate_multipart::object_acl;
use super::object_headers::{is_archive, StoredHeaders};
use super::write::{new_etag, object_writer};
use super::{authorize, encryption, iso_date, load_bucket, now_ms, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, ingest, store_error, stream_out};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::sse::SseRequest;
use crate::store::{Acl, BucketRecord, Grant, ObjectMeta};
use crate::xml::XmlWriter;

/// `x-cos-metadata-directive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    /// Keep the source's Content-Type, stored headers and `x-cos-meta-*` (default).
    Copy,
    /// Take them from the copy request.
    Replaced,
}

/// PUT Object - Copy, parsed.
#[derive(Debug)]
pub struct CopyObject {
    key: String,
    directive: Directive,
    acl: (Acl, Vec<Grant>),
    /// The request's own stored headers (used with `Replaced`; the storage class always).
    stored: StoredHeaders,
    /// The destination's SSE.
    sse: SseRequest,
}

fn directive(call: &Call) -> Result<Directive, Error> {
    match call.req.header("x-cos-metadata-directive")? {
        None => Ok(Directive::Copy),
        Some(v) if v.eq_ignore_ascii_case("copy") => Ok(Directive::Copy),
        Some(v) if v.eq_ignore_ascii_case("replaced") => Ok(Directive::Replaced),
        Some(v) => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("x-cos-metadata-directive {v:?} must be Copy or Replaced"),
        )),
    }
}

/// ARCHIVE-NO-ENCRYPT / ARCHIVE-AFTER-RESTORE: SSE may be set on an archived source only
/// once it is restored and only when the copy moves it out of the archive classes. (A
/// source that is not restored cannot be read at all: `copy_source::open` refuses it.)
fn check_archive(
    source: &Source,
    in_place: bool,
    dest_class: &str,
    sse: &SseRequest,
) -> Result<(), Error> {
    let src_class = &source.record.meta.storage_class;
    if in_place && is_archive(src_class) && is_archive(dest_class) && *sse != SseRequest::None {
        return Err(Error::new(
            ErrorCode::InvalidObjectState,
            format!(
                "encryption cannot be set on a {src_class} object; restore it and change its storage class first (ARCHIVE-NO-ENCRYPT)"
            ),
        ));
    }
    Ok(())
}

impl CopyObject {
    /// Reads the destination headers, SSE included.
    pub fn parse(ctx: &Context, call: &Call, bucket: &BucketRecord) -> Result<Self, Error> {
        let stored = StoredHeaders::from_request(&call.req)?;
        let sse = encryption::upload_request(
            ctx,
            call,
            bucket,
            &stored.storage_class,
            super::bucket_encryption::WritePath::Copy,
        )?;
        Ok(CopyObject {
            key: call.key()?.to_string(),
            directive: directive(call)?,
            acl: object_acl(call)?,
            stored,
            sse,
        })
    }

    /// COPY-IN-PLACE: a copy onto itself must change something — metadata (`Replaced`),
    /// storage class or encryption.
    fn check_in_place(&self, source: &Source) -> Result<(), Error> {
        let meta = &source.record.meta;
        if self.directive == Directive::Copy
            && self.stored.storage_class == meta.storage_class
            && self.sse == SseRequest::None
            && meta.sse.is_none()
        {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                "this copy onto itself changes neither metadata, storage class nor encryption",
            ));
        }
        Ok(())
    }

    /// The destination's metadata (size and digests filled after the copy).
    fn dest_meta(&self, source: &Source, owner: &str, write_id: String) -> ObjectMeta {
        let src = &source.record.meta;
        let (content_type, headers, user_meta) = match self.directive {
            Directive::Copy => (
                src.content_type.clone(),
                src.headers.clone(),
                src.user_meta.clone(),
            ),
            Directive::Replaced => (
                self.stored.content_type.clone(),
                self.stored.headers.clone(),
                self.stored.user_meta.clone(),
            ),
        };
        ObjectMeta {
            key: self.key.clone(),
            size: 0,
            etag: String::new(),
            crc64: 0,
            modified_ms: 0,
            content_type,
            headers,
            user_meta,
            storage_class: self.stored.storage_class.clone(),
            acl: self.acl.0,
            grants: self.acl.1.clone(),
            owner: owner.to_string(),
            write_id,
            sse: None,
            mac: String::new(),
        }
    }

    /// Opens and checks the source, then writes the destination.
    pub async fn apply(
        self,
        ctx: &Context,
        call: &Call,
        bucket: BucketRecord,
    ) -> Result<Response, Error> {
        let source = copy_source::open(ctx, call).await?;
        let in_place = source.bucket.name == bucket.name && source.at.key == self.key;
        check_archive(&source, in_place, &self.stored.storage_class, &self.sse)?;
        if in_place {
            self.check_in_place(&source)?;
        }
        let (writer, record, write_id) = object_writer(ctx, &bucket, &self.key, &self.sse).await?;
        let mut meta = self.dest_meta(&source, &bucket.appid, write_id);
        let size = source.record.meta.size;
        let plain = stream_out(source.stored, source.decoder, 0..size);
        let (writer, digests) = ingest(plain, writer, Some(size), u64::MAX).await?;
        meta.size = digests.len;
        meta.etag = new_etag(ctx, digests.md5, record.as_ref());
        meta.crc64 = digests.crc64;
        meta.modified_ms = now_ms();
        meta.sse = record;
        let record = blocking(move || writer.commit(meta).map_err(store_error)).await?;
        let mut w = XmlWriter::new();
        w.open("CopyObjectResult");
        w.leaf("ETag", &format!("\"{}\"", record.meta.etag));
        w.leaf("LastModified", &iso_date(record.meta.modified_ms));
        w.leaf("CRC64", &record.meta.crc64.to_string());
        w.close("CopyObjectResult");
        let mut r = Response::xml(w.finish());
        r.set("x-cos-hash-crc64ecma", &record.meta.crc64.to_string());
        encryption::echo(&mut r, record.meta.sse.as_ref(), &self.sse);
        Ok(r)
    }
}

/// Runs PUT Object - Copy.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let copy = CopyObject::parse(ctx, &call, &bucket)?;
    copy.apply(ctx, &call, bucket).await
}
