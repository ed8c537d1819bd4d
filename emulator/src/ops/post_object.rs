//! POST Object (form upload to the bucket, `multipart/form-data`): the form fields before
//! the `file` field give the key (`${filename}` replaced by the file's name), the policy
//! and its signature (`post_policy`), `Content-Type`, `x-cos-meta-*`, `x-cos-acl`,
//! `x-cos-storage-class`, `success_action_status` and the SSE settings; the file is then
//! streamed into the store (never buffered whole). Fields after `file` are ignored.
//!
//! SSE rules: POST-FORM (the SSE settings come as form fields with the header names, and
//! the same rules apply as to PUT Object's headers: COS-ALG, COS-ALG-INVALID, KMS-*,
//! SSEC-ALG, SSEC-KEY, SSEC-KEY-UNPADDED, SSEC-MD5, SSEC-HEADERS-TOGETHER, SSE-CONFLICT,
//! SSEC-HTTPS, REGION-*, KMS-ANON / SSEC-ANON for anonymous forms, ARCHIVE-PUT-WITH-SSE),
//! COS-OPS; the response echoes the mode (COS-ECHO, SSEC-ECHO).

use futures_util::TryStreamExt;

use super::object_headers::{MAX_USER_META, STORAGE_CLASSES, STORED};
use super::post_policy::{self, field, LengthRange};
use super::put_object::MAX_PUT;
use super::write::{new_etag, object_writer};
use super::{authorize, encryption, load_bucket, now_ms, Call, Context};
use crate::auth::acl::Action;
use crate::auth::{Authn, Principal};
use crate::body::{blocking, ingest, store_error};
use crate::error::{Error, ErrorCode};
use crate::request::{BodyStream, Scheme};
use crate::response::Response;
use crate::router::MAX_KEY_BYTES;
use crate::sse::SseRequest;
use crate::store::{Acl, BucketRecord, ObjectMeta};
use crate::xml::XmlWriter;

/// Largest text field accepted (a policy document is the largest expected).
const MAX_FIELD: usize = 64 * 1024;

/// Largest number of text fields accepted.
const MAX_FIELDS: usize = 200;

/// Bytes of text fields a form may carry before its `file` field, all fields together.
/// They are read, and held, before the policy's signature can be checked — by anyone,
/// anonymous included — so the budget is small: one largest field (a policy document)
/// and room for the SSE, metadata and other fields. Twenty stalled forms then hold at
/// most 20 × 128 KiB, where 200 fields of 64 KiB each once let one hold 12.5 MiB.
pub const MAX_FORM_FIELD_BYTES: usize = 128 * 1024;

/// The form fields, before the file, as sent.
pub type Fields = Vec<(String, String)>;

fn form_error(e: multer::Error) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!("the body is not a valid multipart/form-data form: {e}"),
    )
}

/// What the form asks for, validated.
#[derive(Debug)]
pub struct PostObject {
    key: String,
    acl: Acl,
    grants: Vec<crate::store::Grant>,
    content_type: String,
    headers: std::collections::BTreeMap<String, String>,
    user_meta: std::collections::BTreeMap<String, String>,
    storage_class: String,
    success_status: u16,
    sse: SseRequest,
    length: Option<LengthRange>,
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, msg)
}

impl PostObject {
    /// Validates the fields (the signature already checked) for a file named `filename`.
    pub fn parse(
        ctx: &Context,
        fields: &Fields,
        filename: &str,
        scheme: Scheme,
        authn: &Authn,
        bucket: &BucketRecord,
        length: Option<LengthRange>,
    ) -> Result<Self, Error> {
        let key = field(fields, "key")
            .ok_or_else(|| invalid("the form has no key field".into()))?
            .replace("${filename}", filename);
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(invalid(format!(
                "the key must be 1 to {MAX_KEY_BYTES} bytes"
            )));
        }
        crate::router::check_key_chars(&key)?;
        let acl = match field(fields, "x-cos-acl") {
            None => Acl::Default,
            Some(v) => Acl::parse(v, true)
                .ok_or_else(|| invalid(format!("x-cos-acl {v:?} is not an object ACL")))?,
        };
        let storage_class = match field(fields, "x-cos-storage-class") {
            None => "STANDARD".to_string(),
            Some(v) if STORAGE_CLASSES.contains(&v) => v.to_string(),
            Some(v) => {
                return Err(invalid(format!(
                    "x-cos-storage-class {v:?} is not a storage class"
                )))
            }
        };
        let success_status = match field(fields, "success_action_status") {
            None => 204,
            Some("200") => 200,
            Some("201") => 201,
            Some(_) => 204,
        };
        let mut headers = std::collections::BTreeMap::new();
        for name in STORED {
            if let Some(v) = field(fields, name) {
                headers.insert(name.to_string(), v.to_string());
            }
        }
        let mut user_meta = std::collections::BTreeMap::new();
        for (n, v) in fields {
            let lower = n.to_ascii_lowercase();
            if lower.starts_with("x-cos-meta-") {
                user_meta.insert(lower, v.clone());
            }
        }
        let meta_len: usize = user_meta.iter().map(|(n, v)| n.len() - 11 + v.len()).sum();
        if meta_len > MAX_USER_META {
            return Err(invalid(format!(
                "x-cos-meta-* fields total {meta_len} bytes; at most {MAX_USER_META} are allowed"
            )));
        }
        // POST-FORM: the SSE fields pass the same upload rules as PUT Object's headers. A
        // form is signed by its policy, not through presigned query fields, so the PRESIGN-*
        // rules never apply to it.
        let sender = encryption::UploadSender {
            https: scheme == Scheme::Https,
            presigned: false,
            principal: &authn.principal,
            carrier: "form",
        };
        let sse = encryption::upload_sse(
            ctx,
            fields,
            sender,
            bucket,
            &storage_class,
            super::bucket_encryption::WritePath::Post,
        )?;
        Ok(PostObject {
            key,
            acl,
            grants: super::acl_xml::grants_from(|name| Ok(field(fields, name)))?,
            content_type: field(fields, "Content-Type")
                .unwrap_or("application/octet-stream")
                .to_string(),
            headers,
            user_meta,
            storage_class,
            success_status,
            sse,
            length,
        })
    }

    /// Streams the file into a new object and answers as `success_action_status` says.
    pub async fn apply(
        self,
        ctx: &Context,
        file: BodyStream,
        bucket: BucketRecord,
    ) -> Result<Response, Error> {
        let (writer, record, write_id) = object_writer(ctx, &bucket, &self.key, &self.sse).await?;
        let limit = self.length.map_or(MAX_PUT, |r| r.max.min(MAX_PUT));
        let (writer, digests) = ingest(file, writer, None, limit).await?;
        if let Some(r) = self.length {
            if digests.len < r.min || digests.len > r.max {
                return Err(Error::new(
                    ErrorCode::EntityTooLarge,
                    format!(
                        "the file has {} bytes; the policy allows {} to {}",
                        digests.len, r.min, r.max
                    ),
                ));
            }
        }
        let meta = ObjectMeta {
            key: self.key,
            size: digests.len,
            etag: new_etag(ctx, digests.md5, record.as_ref()),
            crc64: digests.crc64,
            modified_ms: now_ms(),
            content_type: self.content_type,
            headers: self.headers,
            user_meta: self.user_meta,
            storage_class: self.storage_class,
            acl: self.acl,
            grants: self.grants.clone(),
            owner: bucket.appid.clone(),
            write_id,
            sse: record,
            mac: String::new(),
        };
        let record = blocking(move || writer.commit(meta).map_err(store_error)).await?;
        let location = format!(
            "http://{}.cos.{}.myqcloud.com/{}",
            bucket.name, bucket.region, record.meta.key
        );
        let mut r = if self.success_status == 201 {
            let mut w = XmlWriter::new();
            w.open("PostResponse");
            w.leaf("Location", &location);
            w.leaf("Bucket", &bucket.name);
            w.leaf("Key", &record.meta.key);
            w.leaf("ETag", &format!("\"{}\"", record.meta.etag));
            w.close("PostResponse");
            let mut r = Response::xml(w.finish());
            r.status = 201;
            r
        } else {
            Response::new(self.success_status)
        };
        r.set("etag", &format!("\"{}\"", record.meta.etag));
        r.set("location", &location);
        r.set("x-cos-hash-crc64ecma", &record.meta.crc64.to_string());
        encryption::echo(&mut r, record.meta.sse.as_ref(), &self.sse);
        Ok(r)
    }
}

/// Reads one text field whole, refusing one larger than [`MAX_FIELD`].
async fn text(mut f: multer::Field<'static>, name: &str) -> Result<String, Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = f.chunk().await.map_err(form_error)? {
        if buf.len() + chunk.len() > MAX_FIELD {
            return Err(invalid(format!(
                "form field {name} exceeds {MAX_FIELD} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| invalid(format!("form field {name} is not UTF-8")))
}

/// Piece size handed to the form parser before the file field.
const PRE_AUTH_PIECE: usize = 16 * 1024;

/// Form bytes (field values, part headers, boundaries and the parser's look-ahead into the
/// file) accepted before the file field: [`MAX_FORM_FIELD_BYTES`] plus room for the rest.
const PRE_AUTH_STREAM_BYTES: usize = MAX_FORM_FIELD_BYTES + 64 * 1024;

/// The body as the form parser sees it. The parser (multer) pulls every piece the
/// connection has ready into its own buffer, so a limit checked on the fields it yields
/// comes too late: before the file field this stream hands it one [`PRE_AUTH_PIECE`] per
/// poll and fails once [`PRE_AUTH_STREAM_BYTES`] have passed. Once the file field is
/// reached (`lifted`), pieces pass through as they come.
struct PreAuthBudget {
    inner: BodyStream,
    /// What is left of the last piece read from `inner`.
    pending: bytes::Bytes,
    /// Bytes handed on before the file field.
    passed: usize,
    /// Whether the last poll handed a piece on (the next one yields first).
    handed: bool,
    lifted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    exceeded: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl futures_util::Stream for PreAuthBudget {
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::sync::atomic::Ordering;
        use std::task::Poll;
        let lifted = self.lifted.load(Ordering::Relaxed);
        if !lifted && self.handed {
            // Let the parser work on what it has before it pulls more.
            self.handed = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.pending.is_empty() {
            match self.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(piece))) => self.pending = piece,
                other => return other,
            }
        }
        if lifted {
            return Poll::Ready(Some(Ok(std::mem::take(&mut self.pending))));
        }
        let n = self.pending.len().min(PRE_AUTH_PIECE);
        if self.passed + n > PRE_AUTH_STREAM_BYTES {
            self.exceeded.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(std::io::Error::other(
                "form fields over the pre-authentication budget",
            ))));
        }
        self.passed += n;
        self.handed = true;
        Poll::Ready(Some(Ok(self.pending.split_to(n))))
    }
}

/// Reads the form up to the `file` field: the text fields before it, the file's name and
/// the file's field (its body still unread). Public for the fuzz targets (`tests/fuzz.rs`).
pub async fn read_form(
    body: BodyStream,
    boundary: String,
) -> Result<(Fields, String, multer::Field<'static>), Error> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let lifted = std::sync::Arc::new(AtomicBool::new(false));
    let exceeded = std::sync::Arc::new(AtomicBool::new(false));
    let budgeted = PreAuthBudget {
        inner: body,
        pending: bytes::Bytes::new(),
        passed: 0,
        handed: false,
        lifted: lifted.clone(),
        exceeded: exceeded.clone(),
    };
    let over = || {
        invalid(format!(
            "the form's fields before the file exceed {MAX_FORM_FIELD_BYTES} bytes"
        ))
    };
    let mut form = multer::Multipart::new(budgeted, boundary);
    let mut fields = Fields::new();
    let mut values = 0usize;
    loop {
        let next = form.next_field().await;
        if exceeded.load(Ordering::Relaxed) {
            return Err(over());
        }
        let f = next
            .map_err(form_error)?
            .ok_or_else(|| invalid("the form has no file field".into()))?;
        let name = f.name().unwrap_or("").to_string();
        if name.eq_ignore_ascii_case("file") {
            lifted.store(true, Ordering::Relaxed);
            // The field shares the reader's state: it streams on after `form` is dropped.
            let filename = f.file_name().unwrap_or("").to_string();
            return Ok((fields, filename, f));
        }
        if fields.len() == MAX_FIELDS {
            return Err(invalid(format!(
                "the form has more than {MAX_FIELDS} fields"
            )));
        }
        let value = text(f, &name).await.map_err(|e| {
            if exceeded.load(Ordering::Relaxed) {
                over()
            } else {
                e
            }
        })?;
        values += value.len();
        if values > MAX_FORM_FIELD_BYTES {
            return Err(over());
        }
        fields.push((name, value));
    }
}

/// POST-SSE-HEADER (`refused`, the default): POST Object takes its SSE settings as form
/// fields "instead of the header" (000, 002), so an `x-cos-server-side-encryption*`
/// request header is refused rather than silently ignored, which would store in clear an
/// object its client asked to encrypt. The message names the header, never its value.
fn refuse_sse_headers(ctx: &Context, call: &Call) -> Result<(), Error> {
    if ctx.behaviours.post_sse_headers_ignored {
        return Ok(());
    }
    let sse_header = call
        .req
        .headers
        .keys()
        .find(|name| name.as_str().starts_with("x-cos-server-side-encryption"));
    match sse_header {
        None => Ok(()),
        Some(name) => Err(Error::new(
            ErrorCode::InvalidRequest,
            format!(
                "POST Object takes server-side encryption as form fields, not as the {name} header (POST-SSE-HEADER)"
            ),
        )),
    }
}

/// The form fields that sign a Signature V4 form: they stay as sent.
const SIGV4_FIELDS: &[&str] = &[
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "x-amz-security-token",
];

/// A form's `x-amz-*` fields under their `x-cos-*` names, exactly as a request's headers
/// are renamed (AMZ-HEADERS, AMZ-SSE-HEADERS, AMZ-SSE-ON-COS), so the POST-FORM rules read
/// one spelling; after the policy has been checked against the fields as sent.
fn normalize_fields(
    fields: &mut Fields,
    dialect: crate::dialect::Dialect,
    behaviours: &crate::behaviour::Behaviours,
) -> Result<(), Error> {
    use http::header::{HeaderMap, HeaderName, HeaderValue};
    let mut amz = HeaderMap::new();
    let mut rest = Vec::with_capacity(fields.len());
    for (name, value) in fields.drain(..) {
        let lower = name.to_ascii_lowercase();
        if !lower.starts_with("x-amz-") || SIGV4_FIELDS.contains(&lower.as_str()) {
            rest.push((name, value));
            continue;
        }
        let (Ok(header), Ok(value)) = (
            HeaderName::try_from(lower.as_str()),
            HeaderValue::from_str(&value),
        ) else {
            return Err(invalid(format!(
                "the form field {lower} cannot be read as the header it names"
            )));
        };
        amz.append(header, value);
    }
    crate::amz::normalize_request(&mut amz, dialect, behaviours)?;
    for (name, value) in &amz {
        let value = value
            .to_str()
            .map_err(|_| invalid(format!("the form field {name} is not text")))?;
        rest.push((name.as_str().to_owned(), value.to_owned()));
    }
    *fields = rest;
    Ok(())
}

/// Runs POST Object.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    refuse_sse_headers(ctx, &call)?;
    let bucket = load_bucket(ctx, &call).await?;
    let content_type = call.req.header("content-type")?.unwrap_or("").to_string();
    let boundary = multer::parse_boundary(&content_type).map_err(|_| {
        invalid("POST Object needs Content-Type: multipart/form-data with a boundary".into())
    })?;
    let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
    let (mut fields, filename, file) = read_form(body, boundary).await?;
    let (principal, length) = post_policy::authenticate(
        &fields,
        &bucket,
        &ctx.accounts,
        &ctx.behaviours,
        now_ms() / 1000,
    )?;
    let dialect = if field(&fields, "x-amz-signature").is_some() {
        crate::dialect::Dialect::S3
    } else {
        call.req.dialect
    };
    normalize_fields(&mut fields, dialect, &ctx.behaviours)?;
    if principal != Principal::Anonymous {
        call.authn = Authn {
            principal,
            presigned: false,
        };
    }
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let post = PostObject::parse(
        ctx,
        &fields,
        &filename,
        call.req.scheme,
        &call.authn,
        &bucket,
        length,
    )?;
    let file: BodyStream = Box::pin(file.map_err(std::io::Error::other));
    post.apply(ctx, file, bucket).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;

    /// A form of `fields` text fields of `size` bytes each (no file field), in 16 KiB
    /// pieces, and a counter of the bytes the reader pulled from it.
    fn form(fields: usize, size: usize) -> (BodyStream, Arc<AtomicUsize>) {
        let mut body = Vec::new();
        for i in 0..fields {
            body.extend_from_slice(
                format!("--B\r\nContent-Disposition: form-data; name=\"x-cos-meta-f{i}\"\r\n\r\n")
                    .as_bytes(),
            );
            body.extend(std::iter::repeat_n(b'v', size));
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--B--\r\n");
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = pulled.clone();
        let pieces: Vec<std::io::Result<Bytes>> = body
            .chunks(16 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let stream = futures_util::stream::iter(pieces).inspect_ok(move |b| {
            counter.fetch_add(b.len(), Ordering::Relaxed);
        });
        (Box::pin(stream), pulled)
    }

    /// Regression: a form's text fields (up to 200 × 64 KiB) were all buffered before its
    /// signature could be checked (the parser pulling all the connection had ready), so
    /// stalled anonymous POSTs held megabytes each. Fields beyond the pre-authentication
    /// budget are refused after reading at most the budget and one piece.
    #[tokio::test]
    async fn fields_before_the_file_are_bounded_before_authentication() {
        let (body, pulled) = form(10, 60 * 1024);
        let e = read_form(body, "B".into()).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(
            e.message.contains(&MAX_FORM_FIELD_BYTES.to_string()),
            "{}",
            e.message
        );
        let pulled = pulled.load(Ordering::Relaxed);
        assert!(
            pulled <= PRE_AUTH_STREAM_BYTES + PRE_AUTH_PIECE,
            "read {pulled} bytes of fields before refusing"
        );
        // Within the budget, the form is read on (and lacks its file here).
        let (body, _) = form(2, 60 * 1024);
        let e = read_form(body, "B".into()).await.unwrap_err();
        assert!(e.message.contains("no file field"), "{}", e.message);
    }
}
