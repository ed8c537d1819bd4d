//! GET Object: SSE checks, conditional headers, a single Range, `response-*` overrides,
//! the body streamed from the store through the object's codec (decrypting only the chunks
//! a Range covers).
//!
//! SSE rules applied: KMS-NOT-ON-GET, SSEC-HTTPS, SSEC-GET-NEEDS-KEY, SSEC-NOT-APPLICABLE,
//! SSEC-WRONG-KEY, COS-ANON, COS-ANON-OLD, KMS-ANON, SSEC-ANON, COS-TRANSPARENT,
//! KMS-TRANSPARENT, COS-ECHO, SSEC-ECHO, RANGE, SIZE-UNCHANGED, AT-REST (a body that fails
//! authentication is never served as the object: an object of at most one chunk, 64 KiB
//! of plaintext, is decoded before the status line, so damage gives a 500 InternalError;
//! a larger one is streamed and cut off at the first chunk that fails).

use super::object_headers;
use super::{authorize, conditions, encryption, load_bucket, range, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error, stream_out};
use crate::error::{Error, ErrorCode};
use crate::response::{Response, ResponseBody};
use crate::sse::SseRequest;
use crate::store::{
    BucketRecord, CodecError, Decoder, ObjectRecord, PlannedRead, Store, StoreError, StoredBody,
};

/// Objects up to this many plaintext bytes (one AEAD chunk) are decoded whole before the
/// status line is sent (AT-REST), so a tampered small object is an error response
/// instead of a `200` whose body is cut off.
const VERIFY_FIRST_MAX: u64 = cos_emulator_crypto::CHUNK_SIZE as u64;

/// An object opened for GET (`B` = its body) or HEAD (`B` = `()`: no body is opened, so a
/// gateway fetches none), after ACL, SSE and condition checks, with its data key unsealed
/// into a decoder.
pub struct Opened<B = StoredBody> {
    /// The record.
    pub record: ObjectRecord,
    /// Its body, opened (one version, whatever happens to the key meanwhile).
    pub stored: B,
    /// The bucket.
    pub bucket: BucketRecord,
    /// The SSE headers the request carried (for the echo).
    pub sse: SseRequest,
    /// Decodes the stored body.
    pub decoder: Box<dyn Decoder>,
}

/// Opens the addressed object with its body, after the checks GET and HEAD share
/// ([`open_with`]). For the bucket's owner the store may fetch the body's first bytes with
/// the record ([`Store::open_object_for_owner`]).
pub async fn open(ctx: &Context, call: &Call) -> Result<Opened, Error> {
    let owner = call.signed_by_bucket_owner();
    // RANGE: the bytes the response will carry, from the object's size, so that the
    // store can ask for the chunks they need with the record. An unsatisfiable or
    // malformed Range is answered once the object is found; here it plans a whole read.
    let range_header = call.req.header("range").ok().flatten().map(str::to_owned);
    let wanted: PlannedRead =
        Box::new(move |size| range::parse(range_header.as_deref(), size).ok().flatten());
    open_with(ctx, call, move |store, bucket, key| match owner {
        true => store.open_object_for_owner(bucket, key, wanted),
        false => store.open_object(bucket, key),
    })
    .await
}

/// The addressed object's record without its body (HEAD), after the same checks.
pub async fn open_record(ctx: &Context, call: &Call) -> Result<Opened<()>, Error> {
    open_with(ctx, call, |store, bucket, key| {
        Ok(store.object(bucket, key)?.map(|record| (record, ())))
    })
    .await
}

/// Reads the addressed object through `read` and applies the checks GET and HEAD share:
/// SSE headers, existence, ACL, SSE against the stored object, the data key, conditional
/// headers.
async fn open_with<B: Send + 'static>(
    ctx: &Context,
    call: &Call,
    read: impl FnOnce(&dyn Store, &str, &str) -> Result<Option<(ObjectRecord, B)>, StoreError>
        + Send
        + 'static,
) -> Result<Opened<B>, Error> {
    let sse = encryption::read_request(ctx, call)?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let name = call.bucket_name()?.to_string();
    let lookup = key.clone();
    // The object is opened while the bucket is loaded (on a gateway, one backend round
    // trip for both records); nothing of it is used before the bucket is found and the
    // caller authorized.
    let (bucket, found) = tokio::join!(
        load_bucket(ctx, call),
        blocking(move || read(store.as_ref(), &name, &lookup).map_err(store_error))
    );
    let bucket = bucket?;
    let found = found?;
    let Some((record, stored)) = found else {
        // Without read access to the bucket, the caller may not learn whether a key exists.
        authorize(call, &bucket, None, Action::ReadBucket)?;
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    };
    authorize(call, &bucket, Some(&record.meta), Action::ReadObject)?;
    encryption::check_read(ctx, call, &record.meta, &sse)?;
    let (keys, lies) = (ctx.keys.clone(), ctx.lies);
    let (b, meta, format, request) = (
        bucket.clone(),
        record.meta.clone(),
        record.body.format.clone(),
        sse.clone(),
    );
    let decoder =
        blocking(move || encryption::decoder(&keys, &lies, &b, &meta, &format, &request)).await?;
    conditions::check(&call.req, &record.meta)?;
    Ok(Opened {
        record,
        stored,
        bucket,
        sse,
        decoder,
    })
}

/// Runs GET Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let opened = open(ctx, &call).await?;
    let meta = &opened.record.meta;
    // ARCHIVE-GET-BEFORE-RESTORE: archived objects are offline until restored.
    super::restore_object::check_readable(ctx, &opened.bucket.name, meta).await?;
    let range = range::parse(call.req.header("range")?, meta.size)?;
    let mut r = Response::new(if range.is_some() { 206 } else { 200 });
    object_headers::write(&mut r, meta, &call.req.query);
    encryption::echo(&mut r, meta.sse.as_ref(), &opened.sse);
    let span = range.clone().unwrap_or(0..meta.size);
    if let Some(rg) = &range {
        r.set(
            "content-range",
            &format!("bytes {}-{}/{}", rg.start, rg.end - 1, meta.size),
        );
    }
    let len = span.end - span.start;
    r.body = if len == 0 {
        ResponseBody::Empty
    } else if meta.size <= VERIFY_FIRST_MAX {
        let (stored, decoder) = (opened.stored, opened.decoder);
        ResponseBody::Full(
            blocking(move || decode_whole(stored, decoder, span))
                .await?
                .into(),
        )
    } else {
        ResponseBody::Stream {
            stream: stream_out(opened.stored, opened.decoder, span),
            len,
        }
    };
    Ok(r)
}

/// Decodes `span` of a small object into memory before anything is sent. Stored bytes that
/// fail authentication (or are shorter than recorded) become a 500 InternalError saying so
/// (AT-REST); the object is never served from them.
fn decode_whole(
    mut stored: StoredBody,
    mut decoder: Box<dyn Decoder>,
    span: std::ops::Range<u64>,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(usize::try_from(span.end - span.start).unwrap_or(0));
    let read = decoder.read_range(&mut stored, span, &mut |piece| {
        out.extend_from_slice(&piece);
        true
    });
    // Bytes missing from the stored body (shorter than its record) are damage too.
    let damaged = |e: &CodecError| match e {
        CodecError::Corrupt(_) => true,
        CodecError::Io(io) => io.kind() == std::io::ErrorKind::UnexpectedEof,
    };
    match read {
        Ok(()) => Ok(out),
        Err(e) if damaged(&e) => {
            tracing::error!(error = %e, "stored object failed authentication");
            Err(Error::new(
                ErrorCode::InternalError,
                "the stored data failed authentication (damaged, truncated or tampered at \
                 rest); it is not served",
            ))
        }
        Err(e) => Err(Error::internal(e)),
    }
}
