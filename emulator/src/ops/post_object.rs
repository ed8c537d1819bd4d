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
        let sse = encryption::upload_sse(ctx, fields, sender, bucket, &storage_class)?;
        Ok(PostObject {
            key,
            acl,
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

/// Reads the form up to the `file` field: the text fields before it, the file's name and
/// the file's field (its body still unread). Public for the fuzz targets (`tests/fuzz.rs`).
pub async fn read_form(
    body: BodyStream,
    boundary: String,
) -> Result<(Fields, String, multer::Field<'static>), Error> {
    let mut form = multer::Multipart::new(body, boundary);
    let mut fields = Fields::new();
    loop {
        let f = form
            .next_field()
            .await
            .map_err(form_error)?
            .ok_or_else(|| invalid("the form has no file field".into()))?;
        let name = f.name().unwrap_or("").to_string();
        if name.eq_ignore_ascii_case("file") {
            // The field shares the reader's state: it streams on after `form` is dropped.
            let filename = f.file_name().unwrap_or("").to_string();
            return Ok((fields, filename, f));
        }
        if fields.len() == MAX_FIELDS {
            return Err(invalid(format!(
                "the form has more than {MAX_FIELDS} fields"
            )));
        }
        let value = text(f, &name).await?;
        fields.push((name, value));
    }
}

/// Runs POST Object.
pub async fn handle(ctx: &Context, mut call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    let content_type = call.req.header("content-type")?.unwrap_or("").to_string();
    let boundary = multer::parse_boundary(&content_type).map_err(|_| {
        invalid("POST Object needs Content-Type: multipart/form-data with a boundary".into())
    })?;
    let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
    let (fields, filename, file) = read_form(body, boundary).await?;
    let (principal, length) =
        post_policy::authenticate(&fields, &bucket.name, &ctx.accounts, now_ms() / 1000)?;
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
