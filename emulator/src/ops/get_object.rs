//! GET Object: conditional headers, a single Range, `response-*` overrides, the body
//! streamed from the store through the object's codec.

use super::object_headers::{self, is_archive};
use super::{authorize, conditions, load_bucket, range, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error, stream_out};
use crate::error::{Error, ErrorCode};
use crate::response::{Response, ResponseBody};
use crate::store::{BodyFormat, BucketRecord, Decoder, ObjectRecord, PlainCodec, StoredBody};

/// An object opened for GET or HEAD, after ACL and condition checks.
pub struct Opened {
    /// The record.
    pub record: ObjectRecord,
    /// Its body, opened (one version, whatever happens to the key meanwhile).
    pub stored: StoredBody,
    /// The bucket.
    pub bucket: BucketRecord,
}

/// Opens the addressed object and applies the checks GET and HEAD share: existence,
/// ACL, conditional headers.
pub async fn open(ctx: &Context, call: &Call) -> Result<Opened, Error> {
    let bucket = load_bucket(ctx, call).await?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let name = bucket.name.clone();
    let lookup = key.clone();
    let found = blocking(move || store.open_object(&name, &lookup).map_err(store_error)).await?;
    let Some((record, stored)) = found else {
        // Without read access to the bucket, the caller may not learn whether a key exists.
        authorize(call, &bucket, None, Action::ReadBucket)?;
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    };
    authorize(call, &bucket, Some(&record.meta), Action::ReadObject)?;
    conditions::check(&call.req, &record.meta)?;
    Ok(Opened {
        record,
        stored,
        bucket,
    })
}

/// The decoder for a stored body format.
pub fn decoder(format: &BodyFormat) -> Result<Box<dyn Decoder>, Error> {
    match format {
        BodyFormat::Plain => Ok(Box::new(PlainCodec)),
        BodyFormat::Chunked { .. } => Err(Error::internal(
            "object is stored encrypted but this build has no SSE decoder",
        )),
    }
}

/// Runs GET Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let opened = open(ctx, &call).await?;
    let meta = &opened.record.meta;
    // ARCHIVE-GET-BEFORE-RESTORE: archived objects are offline until restored.
    if is_archive(&meta.storage_class) {
        return Err(Error::new(
            ErrorCode::InvalidObjectState,
            format!(
                "the object is in storage class {} and has not been restored",
                meta.storage_class
            ),
        ));
    }
    let range = range::parse(call.req.header("range")?, meta.size)?;
    let mut r = Response::new(if range.is_some() { 206 } else { 200 });
    object_headers::write(&mut r, meta, &call.req.query);
    let span = range.clone().unwrap_or(0..meta.size);
    if let Some(rg) = &range {
        r.set(
            "content-range",
            &format!("bytes {}-{}/{}", rg.start, rg.end - 1, meta.size),
        );
    }
    let len = span.end - span.start;
    let decoder = decoder(&opened.record.body.format)?;
    r.body = if len == 0 {
        ResponseBody::Empty
    } else {
        ResponseBody::Stream {
            stream: stream_out(opened.stored, decoder, span),
            len,
        }
    };
    Ok(r)
}
