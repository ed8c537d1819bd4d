//! What the multipart operations share: the `uploadId` and `partNumber` parameters,
//! finding the upload, the SSE of a part (MPU-SSE, MPU-SSEC-PARTS), and writing a part
//! through its own fresh data key.

use cos_emulator_crypto::{EncryptionRecord, KeyRecord};

use super::write::{new_etag, new_write_id};
use super::{encryption, now_ms, Call, Context};
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::request::Scheme;
use crate::sse::{self, crypto_error, NamedValues, SseRequest};
use crate::store::multipart::{valid_upload_id, UploadRecord, PART_NUMBERS};
use crate::store::{BucketRecord, ObjectMeta, ObjectRecord, ObjectWriter, StoreError};

/// The upload a request names, or `NoSuchUpload`.
pub async fn load_upload(
    ctx: &Context,
    call: &Call,
    bucket: &BucketRecord,
) -> Result<UploadRecord, Error> {
    let upload_id = upload_id(call)?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let (name, id) = (bucket.name.clone(), upload_id.clone());
    let found = blocking(move || store.uploads().get(&name, &id).map_err(store_error)).await?;
    match found {
        // An upload belongs to one key: the same id under another key names nothing.
        Some(u) if u.meta.key == key => Ok(u),
        _ => Err(no_such_upload(&upload_id)),
    }
}

/// The refusal for an unknown upload id.
pub fn no_such_upload(upload_id: &str) -> Error {
    let shown = if valid_upload_id(upload_id) {
        upload_id
    } else {
        "(malformed id)"
    };
    Error::new(
        ErrorCode::NoSuchUpload,
        format!("no multipart upload {shown} in progress for this key"),
    )
}

/// Maps a store failure while writing into an upload that was completed or aborted
/// meanwhile to `NoSuchUpload`; everything else as the store says.
pub fn upload_write_error(e: StoreError, upload_id: &str) -> Error {
    match e {
        StoreError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            no_such_upload(upload_id)
        }
        other => store_error(other),
    }
}

/// The `uploadId` parameter.
pub fn upload_id(call: &Call) -> Result<String, Error> {
    match call.req.query.get("uploadId") {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(Error::new(
            ErrorCode::InvalidArgument,
            "uploadId must name a multipart upload",
        )),
    }
}

/// The `partNumber` parameter: an integer from 1 to 10000.
pub fn part_number(call: &Call) -> Result<u32, Error> {
    let raw = call.req.query.get("partNumber").unwrap_or("");
    raw.parse::<u32>()
        .ok()
        .filter(|n| PART_NUMBERS.contains(n))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "partNumber {} must be an integer from 1 to 10000",
                    sse::cos::printable(raw)
                ),
            )
        })
}

/// The SSE of one part (Upload Part, Upload Part - Copy).
///
/// - MPU-SSE: the mode comes from Initiate; a part carries no `x-cos-server-side-encryption`
///   or KMS header (KMS-NOT-ON-GET's refusal, `sse::Operation::UploadPart`).
/// - MPU-SSEC-PARTS: a part of an SSE-C upload carries the SSE-C headers (missing: 400
///   InvalidRequest), over HTTPS (SSEC-HTTPS), with the Initiate key, checked against the
///   upload's salted verifier (different: 403 AccessDenied, nothing stored); SSE-C headers
///   on a part of an upload that is not SSE-C are refused (SSEC-NOT-APPLICABLE).
///
/// Returns the SSE the part's encoder uses: the upload's mode, algorithm, KMS key id and
/// context, or the verified customer key.
pub fn part_request(
    ctx: &Context,
    call: &Call,
    upload: &UploadRecord,
) -> Result<SseRequest, Error> {
    let request = if ctx.behaviours.kms_headers_on_part_ignored {
        sse::parse(
            &WithoutKmsHeaders(&call.req.headers),
            sse::Operation::UploadPart,
            &ctx.behaviours,
        )?
    } else {
        sse::parse(
            &call.req.headers,
            sse::Operation::UploadPart,
            &ctx.behaviours,
        )?
    };
    sse::check_scheme(&request, None, call.req.scheme == Scheme::Https)?;
    sse::check_read(upload.sse.as_ref().map(EncryptionRecord::mode), &request).map_err(|e| {
        match e {
            // MPU-SSEC-PARTS: the generic "send the key" message speaks of an object; a
            // part is where SDKs forget it (cos-nodejs-sdk-v5's uploadFile forwards no
            // SSE-C header to its parts), so say what is missing and where.
            sse::SseError::CustomerKeyRequired => {
                let mut refusal = Error::from(e);
                refusal.message = format!(
                    "upload {} was initiated with SSE-C (a customer-provided key), so every Upload Part must carry the same {}, {} and {} headers as Initiate Multipart Upload; this part has none",
                    upload.upload_id,
                    sse::names::CUSTOMER_ALGORITHM,
                    sse::names::CUSTOMER_KEY,
                    sse::names::CUSTOMER_KEY_MD5,
                );
                refusal
            }
            other => other.into(),
        }
    })?;
    let Some(record) = &upload.sse else {
        return Ok(SseRequest::None);
    };
    Ok(match (&record.key, request) {
        (KeyRecord::Cos { .. }, _) => SseRequest::Cos {
            algorithm: record.algorithm,
        },
        (
            KeyRecord::Kms {
                key_id, context, ..
            },
            _,
        ) => SseRequest::Kms {
            key_id: Some(key_id.clone()),
            context: context.clone(),
            algorithm: record.algorithm,
        },
        (KeyRecord::Customer { check, .. }, SseRequest::Customer(c)) => {
            check
                .verify(&c.key)
                .map_err(|e| crypto_error::refusal(&e))?;
            if c.algorithm != record.algorithm {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "{} is {}, but the upload was initiated with {}",
                        sse::names::CUSTOMER_ALGORITHM,
                        c.algorithm.as_str(),
                        record.algorithm.as_str()
                    ),
                ));
            }
            SseRequest::Customer(c)
        }
        // `check_read` refused an SSE-C upload without a key above.
        (KeyRecord::Customer { .. }, _) => return Err(sse::SseError::CustomerKeyRequired.into()),
    })
}

/// MPU-PART-KMS-HEADERS `ignored`: a part's headers as the SSE parser sees them, without
/// `x-cos-server-side-encryption: cos/kms` and the KMS key id, context and algorithm
/// headers; the part is then encrypted as its upload says. Any other mode value on a part
/// is still refused (MPU-SSE).
struct WithoutKmsHeaders<'a>(&'a http::HeaderMap);

impl NamedValues for WithoutKmsHeaders<'_> {
    fn values(&self, name: &str) -> Vec<Option<&str>> {
        let all = NamedValues::values(self.0, name);
        if name == sse::names::SSE {
            all.into_iter().filter(|v| *v != Some("cos/kms")).collect()
        } else if [
            sse::names::KMS_KEY_ID,
            sse::names::KMS_CONTEXT,
            sse::names::KMS_ALGORITHM,
        ]
        .contains(&name)
        {
            Vec::new()
        } else {
            all
        }
    }
}

/// A fresh write id for one part.
pub fn part_write_id(upload_id: &str, number: u32) -> String {
    format!("{upload_id}.{number}.{}", new_write_id())
}

/// Opens a writer for part `number` encrypting under a fresh data key (UNIQUE-KEY per
/// part), and returns it with the part's encryption record and write id.
pub async fn part_writer(
    ctx: &Context,
    bucket: &BucketRecord,
    upload: &UploadRecord,
    number: u32,
    sse: &SseRequest,
) -> Result<(Box<dyn ObjectWriter>, Option<EncryptionRecord>, String), Error> {
    let write_id = part_write_id(&upload.upload_id, number);
    let (store, keys) = (ctx.store.clone(), ctx.keys.clone());
    let (b, key, id, sse, upload_id) = (
        bucket.clone(),
        upload.meta.key.clone(),
        write_id.clone(),
        ctx.lies.applied(sse),
        upload.upload_id.clone(),
    );
    blocking(move || {
        let (encoder, record) = encryption::new_encoder(&keys, &sse, &b, &key, &id)?;
        let writer = store
            .uploads()
            .part_writer(&b.name, &upload_id, number, encoder)
            .map_err(store_error)?
            .ok_or_else(|| no_such_upload(&upload_id))?;
        Ok((writer, record, id))
    })
    .await
}

/// The metadata a part writer commits: the part's digests, write id and record.
pub fn part_meta(
    ctx: &Context,
    upload: &UploadRecord,
    digests: &crate::body::Digests,
    write_id: String,
    sse: Option<EncryptionRecord>,
) -> ObjectMeta {
    ObjectMeta {
        size: digests.len,
        etag: new_etag(ctx, digests.md5, sse.as_ref()),
        crc64: digests.crc64,
        modified_ms: now_ms(),
        write_id,
        sse,
        ..upload.meta.clone()
    }
}

/// Commits a part written through [`part_writer`] with its digests, write id and
/// encryption record; an upload completed or aborted meanwhile is `NoSuchUpload`
/// ([`upload_write_error`]).
pub async fn commit_part(
    ctx: &Context,
    writer: Box<dyn ObjectWriter>,
    upload: &UploadRecord,
    digests: &crate::body::Digests,
    write_id: String,
    sse: Option<EncryptionRecord>,
) -> Result<ObjectRecord, Error> {
    let meta = part_meta(ctx, upload, digests, write_id, sse);
    let upload_id = upload.upload_id.clone();
    blocking(move || {
        writer
            .commit(meta)
            .map_err(|e| upload_write_error(e, &upload_id))
    })
    .await
}
