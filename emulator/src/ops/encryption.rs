//! Applying SSE in the object operations: the rules that gate a request (`sse::parse` and
//! the context checks of `sse::context`), the data key of a new object, the decoder of a
//! stored one, and the echo headers. The rules themselves live in `sse/`; the keys in
//! `cos-emulator-crypto`; this module wires them to the store's codec seam.

use cos_emulator_crypto::{EncryptionRecord, Keys, ObjectRef, Protection};

use super::bucket_encryption::{self, WritePath};
use super::object_headers::is_archive;
use super::{Call, Context};
use crate::auth::Principal;
use crate::error::{Error, ErrorCode};
use crate::request::Scheme;
use crate::response::Response;
use crate::sse::{self, crypto_error, CustomerSse, SseRequest};
use crate::store::parts::{PartLayout, PartsDecoder};
use crate::store::{
    BodyFormat, BucketRecord, Decoder, Encoder, ObjectMeta, PlainCodec, SealedDecoder,
    SealedEncoder,
};

/// How an upload's SSE settings arrive: what the upload rules need to know about the
/// request beyond the settings themselves.
#[derive(Debug, Clone, Copy)]
pub struct UploadSender<'a> {
    /// Whether the request came over HTTPS (SSEC-HTTPS, SSE-HTTP).
    pub https: bool,
    /// Whether it was signed through presigned query fields (PRESIGN-NO-SSE-COS,
    /// PRESIGN-NO-SSE-KMS).
    pub presigned: bool,
    /// Who sends it (KMS-ANON, SSEC-ANON).
    pub principal: &'a Principal,
    /// What carries the settings, as named in the KMS-ANON / SSEC-ANON refusal
    /// ("request" for headers, "form" for POST Object's fields).
    pub carrier: &'static str,
}

/// The SSE an upload asks for, after every rule that needs no key material:
/// header syntax and combinations (`sse::parse`), SSEC-HTTPS, PRESIGN-NO-SSE-COS and
/// PRESIGN-NO-SSE-KMS, REGION-KMS and REGION-SSE, KMS-ANON and SSEC-ANON for anonymous
/// writers (an anonymous caller has no KMS account and no signature to bind SSE-C to),
/// and ARCHIVE-PUT-WITH-SSE when that switch is `refused`. The settings are headers for
/// PUT-style uploads ([`upload_request`]) and form fields for POST Object (POST-FORM):
/// the same rules apply to both. Last, an upload that asked for no SSE gets the bucket's
/// default encryption where `path` takes it, and an SSE-C one may be refused on a bucket
/// with a default (`bucket_encryption::apply`: BUCKET-ENC-APPLY, BUCKET-ENC-OWN,
/// BUCKET-ENC-MPU, BUCKET-ENC-POST, BUCKET-ENC-COPY, BUCKET-ENC-SSEC).
pub fn upload_sse<F: sse::NamedValues + ?Sized>(
    ctx: &Context,
    fields: &F,
    sender: UploadSender<'_>,
    bucket: &BucketRecord,
    storage_class: &str,
    path: WritePath,
) -> Result<SseRequest, Error> {
    let request = sse::parse(fields, sse::Operation::Upload, &ctx.behaviours)?;
    sse::check_scheme(&request, None, sender.https)?;
    sse::check_upload_scheme(&request, sender.https, &ctx.behaviours)?;
    sse::check_presigned(&request, sender.presigned)?;
    sse::check_region(&request, &bucket.region, &ctx.regions, &ctx.behaviours)?;
    if *sender.principal == Principal::Anonymous
        && matches!(request, SseRequest::Kms { .. } | SseRequest::Customer(_))
    {
        return Err(Error::new(
            ErrorCode::AccessDenied,
            format!(
                "{} needs a signed {} (KMS-ANON, SSEC-ANON)",
                request.mode_name().unwrap_or("SSE"),
                sender.carrier
            ),
        ));
    }
    if ctx.behaviours.archive_put_with_sse_refused
        && is_archive(storage_class)
        && request != SseRequest::None
    {
        return Err(Error::new(
            ErrorCode::InvalidObjectState,
            format!("x-cos-storage-class {storage_class} cannot be combined with server-side encryption (ARCHIVE-PUT-WITH-SSE)"),
        ));
    }
    bucket_encryption::apply(ctx, bucket, path, request)
}

/// The SSE headers of an upload by headers (PUT Object, Initiate Multipart Upload, PUT
/// Object - Copy), under every rule of [`upload_sse`].
pub fn upload_request(
    ctx: &Context,
    call: &Call,
    bucket: &BucketRecord,
    storage_class: &str,
    path: WritePath,
) -> Result<SseRequest, Error> {
    let sender = UploadSender {
        https: call.req.scheme == Scheme::Https,
        presigned: call.authn.presigned,
        principal: &call.authn.principal,
        carrier: "request",
    };
    upload_sse(ctx, &call.req.headers, sender, bucket, storage_class, path)
}

/// The SSE headers of a read (GET, HEAD): only the SSE-C key may come (KMS-NOT-ON-GET),
/// and only over HTTPS (SSEC-HTTPS).
pub fn read_request(ctx: &Context, call: &Call) -> Result<SseRequest, Error> {
    let request = sse::parse(&call.req.headers, sse::Operation::Read, &ctx.behaviours)?;
    sse::check_scheme(&request, None, call.req.scheme == Scheme::Https)?;
    Ok(request)
}

/// The customer key of a request, if it carries one.
pub fn customer(request: &SseRequest) -> Option<&CustomerSse> {
    match request {
        SseRequest::Customer(c) => Some(c),
        _ => None,
    }
}

/// The encoder for a new object, with its encryption record (UNIQUE-KEY: a fresh data key
/// per write, sealed with AAD binding bucket, key and `write_id`). Runs the KMS, so call
/// it off the async executor.
pub fn new_encoder(
    keys: &Keys,
    request: &SseRequest,
    bucket: &BucketRecord,
    key: &str,
    write_id: &str,
) -> Result<(Box<dyn Encoder>, Option<EncryptionRecord>), Error> {
    let (algorithm, protection) = match request {
        SseRequest::None => return Ok((Box::new(PlainCodec), None)),
        SseRequest::Cos { algorithm } => (*algorithm, Protection::Cos),
        SseRequest::Kms {
            key_id,
            context,
            algorithm,
        } => (
            *algorithm,
            Protection::Kms {
                appid: &bucket.appid,
                key_id: key_id.as_deref(),
                context,
            },
        ),
        SseRequest::Customer(c) => (c.algorithm, Protection::Customer(&c.key)),
    };
    let object = ObjectRef {
        bucket: &bucket.name,
        key,
        version: write_id,
    };
    let (data_key, record) = keys
        .new_object(algorithm, protection, &object)
        .map_err(|e| crypto_error::refusal(&e))?;
    let encoder = SealedEncoder::new(&record, &data_key).map_err(Error::internal)?;
    Ok((Box::new(encoder), Some(record)))
}

/// The SSE checks of a read against the stored object: SSEC-GET-NEEDS-KEY and
/// SSEC-NOT-APPLICABLE, then for anonymous callers COS-ANON / COS-ANON-OLD / KMS-ANON /
/// SSEC-ANON.
pub fn check_read(
    ctx: &Context,
    call: &Call,
    meta: &ObjectMeta,
    request: &SseRequest,
) -> Result<(), Error> {
    let stored = meta.sse.as_ref().map(EncryptionRecord::mode);
    sse::check_read(stored, request)?;
    check_customer_algorithm(meta.sse.as_ref(), request)?;
    if call.authn.principal == Principal::Anonymous {
        sse::check_anonymous_read(stored, &ctx.behaviours)?;
    }
    Ok(())
}

/// SSEC-ALG on reads: the right key with the other algorithm (an AES256 object read as
/// SM4 or the reverse) opens nothing — 400 InvalidArgument, as a part of an upload
/// initiated with the other algorithm is refused (`multipart::part_request`).
pub fn check_customer_algorithm(
    stored: Option<&EncryptionRecord>,
    request: &SseRequest,
) -> Result<(), Error> {
    match (stored, customer(request)) {
        (Some(record), Some(c)) if c.algorithm != record.algorithm => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} is {}, but the object was encrypted with {}",
                sse::names::CUSTOMER_ALGORITHM,
                c.algorithm.as_str(),
                record.algorithm.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// Unseals the object's data key (SSEC-WRONG-KEY: a different customer key fails the
/// salted verifier, 403; KMS-KEY-ID: a disabled CMK no longer opens) and returns the
/// decoder for its body. Call it off the async executor.
pub fn decoder(
    keys: &Keys,
    lies: &crate::introspect::Lies,
    bucket: &BucketRecord,
    meta: &ObjectMeta,
    format: &BodyFormat,
    request: &SseRequest,
) -> Result<Box<dyn Decoder>, Error> {
    match (&meta.sse, format) {
        (None, BodyFormat::Plain) => Ok(Box::new(PlainCodec)),
        (Some(record), BodyFormat::Chunked { .. }) => {
            let object = ObjectRef {
                bucket: &bucket.name,
                key: &meta.key,
                version: &meta.write_id,
            };
            let customer = customer(request).map(|c| &c.key);
            let data_key = keys
                .open_object(record, &bucket.appid, customer, &object)
                .map_err(|e| crypto_error::refusal(&e))?;
            Ok(Box::new(SealedDecoder::new(
                record.clone(),
                data_key,
                meta.size,
            )))
        }
        // Only the test-only AT-REST lie (introspect::lies) writes an SSE object's body in
        // plaintext: the key is still checked (an SSE-C read with a wrong key is refused
        // as before), then the bytes are served as they are.
        (Some(record), BodyFormat::Plain) if lies.at_rest_store_plaintext => {
            let object = ObjectRef {
                bucket: &bucket.name,
                key: &meta.key,
                version: &meta.write_id,
            };
            let customer = customer(request).map(|c| &c.key);
            keys.open_object(record, &bucket.appid, customer, &object)
                .map_err(|e| crypto_error::refusal(&e))?;
            Ok(Box::new(PlainCodec))
        }
        // A completed multipart object: each part under its own data key.
        (_, BodyFormat::Parts { parts }) => parts_decoder(keys, bucket, meta, parts, request),
        _ => Err(Error::internal(format!(
            "object {} has an SSE record that does not match its body format",
            meta.key
        ))),
    }
}

/// The decoder of a completed multipart object (RANGE across parts): unseals every
/// encrypted part's own data key — with the request's SSE-C key for an SSE-C object
/// (SSEC-WRONG-KEY: a different key fails the part's salted verifier, 403) — before the
/// response starts. Call it off the async executor.
fn parts_decoder(
    keys: &Keys,
    bucket: &BucketRecord,
    meta: &ObjectMeta,
    parts: &[PartLayout],
    request: &SseRequest,
) -> Result<Box<dyn Decoder>, Error> {
    let customer = customer(request).map(|c| &c.key);
    let mut opened = Vec::with_capacity(parts.len());
    for part in parts {
        let key = match &part.sse {
            None => None,
            Some(record) => {
                let object = ObjectRef {
                    bucket: &bucket.name,
                    key: &meta.key,
                    version: &part.write_id,
                };
                let key = keys
                    .open_object(record, &bucket.appid, customer, &object)
                    .map_err(|e| crypto_error::refusal(&e))?;
                Some(key)
            }
        };
        opened.push((part.clone(), key));
    }
    Ok(Box::new(PartsDecoder::new(opened)))
}

/// Adds the SSE echo headers (COS-ECHO, SSEC-ECHO, KMS-VALUE, KMS-KEY-ID).
pub fn echo(resp: &mut Response, record: Option<&EncryptionRecord>, request: &SseRequest) {
    for (name, value) in sse::echo::response_headers(record, customer(request)) {
        resp.set(name, &value);
    }
}
