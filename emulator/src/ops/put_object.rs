//! PUT Object: streams the body into the store (bounded memory), verifying Content-Length
//! and Content-MD5; the object appears whole or not at all.

use base64::Engine;

use super::object_headers::{self, StoredHeaders};
use super::{authorize, load_bucket, now_ms, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, ingest, store_error};
use crate::error::{Error, ErrorCode};
use crate::request::Request;
use crate::response::Response;
use crate::store::{Acl, ObjectMeta, PlainCodec};

/// The largest single PUT COS accepts (5 GiB).
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// PUT Object, parsed.
#[derive(Debug)]
pub struct PutObject {
    key: String,
    length: Option<u64>,
    content_md5: Option<[u8; 16]>,
    acl: Acl,
    stored: StoredHeaders,
}

/// Reads `Content-MD5`: base64 of 16 bytes, else `InvalidDigest`.
fn content_md5(req: &Request) -> Result<Option<[u8; 16]>, Error> {
    let Some(v) = req.header("content-md5")? else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(Some)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidDigest,
                format!("Content-MD5 {v:?} is not base64 of 16 bytes"),
            )
        })
}

impl PutObject {
    /// Reads the headers; the body stays unread until `apply`.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let req = &call.req;
        if let Some(name) = req
            .headers
            .keys()
            .find(|k| k.as_str().starts_with("x-cos-server-side-encryption"))
        {
            return Err(Error::new(
                ErrorCode::NotImplemented,
                format!("{name}: server-side encryption is not wired into this build yet"),
            ));
        }
        if req
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-cos-grant-"))
        {
            return Err(Error::new(
                ErrorCode::NotImplemented,
                "x-cos-grant-* headers are not implemented",
            ));
        }
        let length = req.content_length()?;
        let chunked = req
            .header("transfer-encoding")?
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if length.is_none() && !chunked {
            return Err(Error::new(
                ErrorCode::MissingContentLength,
                "PUT Object needs Content-Length",
            ));
        }
        if length.is_some_and(|n| n > MAX_PUT) {
            return Err(Error::new(
                ErrorCode::EntityTooLarge,
                format!("a single PUT may carry at most {MAX_PUT} bytes"),
            ));
        }
        let acl = match req.header("x-cos-acl")? {
            None => Acl::Default,
            Some(v) => Acl::parse(v, true).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("x-cos-acl {v:?} is not an object ACL"),
                )
            })?,
        };
        Ok(PutObject {
            key: call.key()?.to_string(),
            length,
            content_md5: content_md5(req)?,
            acl,
            stored: StoredHeaders::from_request(req)?,
        })
    }

    /// Streams the body into a new object and commits it if everything checks out.
    pub async fn apply(
        self,
        ctx: &Context,
        call: Call,
        bucket: String,
        owner: String,
    ) -> Result<Response, Error> {
        let store = ctx.store.clone();
        let name = bucket.clone();
        let writer = blocking(move || {
            store
                .create_object(&name, Box::new(PlainCodec))
                .map_err(store_error)
        })
        .await?;
        let (writer, digests) = ingest(call.req.body, writer, self.length, MAX_PUT).await?;
        if let Some(expected) = self.content_md5 {
            if expected != digests.md5 {
                return Err(Error::new(
                    ErrorCode::BadDigest,
                    "Content-MD5 does not match the MD5 of the body received",
                ));
            }
        }
        let meta = ObjectMeta {
            key: self.key,
            size: digests.len,
            etag: hex::encode(digests.md5),
            crc64: digests.crc64,
            modified_ms: now_ms(),
            content_type: self.stored.content_type,
            headers: self.stored.headers,
            user_meta: self.stored.user_meta,
            storage_class: self.stored.storage_class,
            acl: self.acl,
            owner,
            sse: None,
        };
        let record = blocking(move || writer.commit(meta).map_err(store_error)).await?;
        let mut r = Response::new(200);
        object_headers::write_identity(&mut r, &record.meta);
        Ok(r)
    }
}

/// Runs PUT Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let put = PutObject::parse(&call)?;
    put.apply(ctx, call, bucket.name, bucket.appid).await
}
