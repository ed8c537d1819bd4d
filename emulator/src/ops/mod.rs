//! One file per COS operation. Each has a parsed-request struct, `parse` (headers, query,
//! body → typed request or refusal), `apply` (rules, then store) and the response it builds.
//! Operations see [`Request`] and [`Response`], never hyper types, and the store only through
//! the [`Store`] trait.

pub mod abort_multipart;
pub mod acl_xml;
pub mod bucket_encryption;
pub mod complete_multipart;
pub mod conditions;
pub mod copy_object;
pub mod copy_source;
pub mod cors;
pub mod delete_bucket;
pub mod delete_bucket_cors;
pub mod delete_bucket_encryption;
pub mod delete_object;
pub mod delete_objects;
pub mod encryption;
pub mod get_bucket_acl;
pub mod get_bucket_cors;
pub mod get_bucket_encryption;
pub mod get_bucket_location;
pub mod get_object;
pub mod get_object_acl;
pub mod get_service;
pub mod head_bucket;
pub mod head_object;
pub mod initiate_multipart;
pub mod list_multipart_uploads;
pub mod list_objects;
pub mod list_parts;
pub mod multipart;
pub mod object_headers;
pub mod options_object;
pub mod paging;
pub mod part_digests;
pub mod post_object;
pub mod post_policy;
pub mod put_bucket;
pub mod put_bucket_acl;
pub mod put_bucket_cors;
pub mod put_bucket_encryption;
pub mod put_object;
pub mod put_object_acl;
pub mod range;
pub mod restore_object;
pub mod upload_body;
pub mod upload_part;
pub mod upload_part_copy;
pub mod write;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use crate::auth::acl::{self, Action};
use crate::auth::Authn;
use crate::behaviour::Behaviours;
use crate::body::{blocking, store_error};
use crate::config::Account;
use crate::error::{Error, ErrorCode};
use crate::regions::RegionTable;
use crate::request::{BodyStream, Request};
use crate::response::Response;
use crate::router::{Operation, Target};
use crate::store::{BucketRecord, ObjectMeta, Store};

/// Shared state every operation reads.
pub struct Context {
    /// Buckets and objects.
    pub store: Arc<dyn Store>,
    /// Accounts whose signatures are accepted.
    pub accounts: Vec<Account>,
    /// Region capability table.
    pub regions: RegionTable,
    /// Behaviour switches.
    pub behaviours: Behaviours,
    /// Region of path-style bucket creation.
    pub default_region: String,
    /// Archive restore delay.
    pub restore_delay: Duration,
    /// SSE-COS master keys and the emulated KMS.
    pub keys: Arc<cos_emulator_crypto::Keys>,
    /// Test-only lying switches (`introspect::lies`); all off unless a test sets them.
    pub lies: crate::introspect::Lies,
    /// The data directory (where the SSEC-NOT-STORED lie keeps what it must not).
    pub data_dir: std::path::PathBuf,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("accounts", &self.accounts.len())
            .field("behaviours", &self.behaviours)
            .finish_non_exhaustive()
    }
}

/// One routed request: what it addresses, who sent it, and the request itself.
pub struct Call {
    /// Addressed bucket and key.
    pub target: Target,
    /// Authenticated caller.
    pub authn: Authn,
    /// The request.
    pub req: Request,
}

impl Call {
    /// The bucket name (routing guarantees one for bucket and object operations).
    pub fn bucket_name(&self) -> Result<&str, Error> {
        self.target
            .bucket
            .as_deref()
            .ok_or_else(|| Error::internal("operation routed without a bucket"))
    }

    /// Whether the request is signed by the account whose appid the bucket's name ends
    /// with: the bucket's owner, since only that account can create it (PUT Bucket). Known
    /// before any record is read.
    pub fn signed_by_bucket_owner(&self) -> bool {
        self.target
            .bucket
            .as_deref()
            .is_some_and(|name| acl::owns_bucket_named(&self.authn.principal, name))
    }

    /// The object key (routing guarantees one for object operations).
    pub fn key(&self) -> Result<&str, Error> {
        self.target
            .key
            .as_deref()
            .ok_or_else(|| Error::internal("operation routed without a key"))
    }
}

/// Runs the operation.
pub async fn dispatch(ctx: &Context, op: Operation, call: Call) -> Result<Response, Error> {
    match op {
        Operation::GetService => get_service::handle(ctx, call).await,
        Operation::PutBucket => put_bucket::handle(ctx, call).await,
        Operation::HeadBucket => head_bucket::handle(ctx, call).await,
        Operation::DeleteBucket => delete_bucket::handle(ctx, call).await,
        Operation::ListObjects => list_objects::handle(ctx, call).await,
        Operation::PutBucketAcl => put_bucket_acl::handle(ctx, call).await,
        Operation::GetBucketAcl => get_bucket_acl::handle(ctx, call).await,
        Operation::PutObject => put_object::handle(ctx, call).await,
        Operation::GetObject => get_object::handle(ctx, call).await,
        Operation::HeadObject => head_object::handle(ctx, call).await,
        Operation::DeleteObject => delete_object::handle(ctx, call).await,
        Operation::PutObjectAcl => put_object_acl::handle(ctx, call).await,
        Operation::GetObjectAcl => get_object_acl::handle(ctx, call).await,
        Operation::CopyObject => copy_object::handle(ctx, call).await,
        Operation::PostObject => post_object::handle(ctx, call).await,
        Operation::RestoreObject => restore_object::handle(ctx, call).await,
        Operation::InitiateMultipartUpload => initiate_multipart::handle(ctx, call).await,
        Operation::UploadPart => upload_part::handle(ctx, call).await,
        Operation::UploadPartCopy => upload_part_copy::handle(ctx, call).await,
        Operation::CompleteMultipartUpload => complete_multipart::handle(ctx, call).await,
        Operation::AbortMultipartUpload => abort_multipart::handle(ctx, call).await,
        Operation::ListParts => list_parts::handle(ctx, call).await,
        Operation::ListMultipartUploads => list_multipart_uploads::handle(ctx, call).await,
        Operation::PutBucketCors => put_bucket_cors::handle(ctx, call).await,
        Operation::GetBucketCors => get_bucket_cors::handle(ctx, call).await,
        Operation::DeleteBucketCors => delete_bucket_cors::handle(ctx, call).await,
        Operation::OptionsObject => options_object::handle(ctx, call).await,
        Operation::DeleteObjects => delete_objects::handle(ctx, call).await,
        Operation::GetBucketLocation => get_bucket_location::handle(ctx, call).await,
        Operation::PutBucketEncryption => put_bucket_encryption::handle(ctx, call).await,
        Operation::GetBucketEncryption => get_bucket_encryption::handle(ctx, call).await,
        Operation::DeleteBucketEncryption => delete_bucket_encryption::handle(ctx, call).await,
    }
}

/// The addressed bucket's record. A bucket that does not exist, or exists in another
/// region than the Host names, is `NoSuchBucket` (COS buckets live in one region).
pub async fn load_bucket(ctx: &Context, call: &Call) -> Result<BucketRecord, Error> {
    let name = call.bucket_name()?.to_string();
    let store = ctx.store.clone();
    let lookup = name.clone();
    let bucket = blocking(move || store.bucket(&lookup).map_err(store_error)).await?;
    let Some(bucket) = bucket else {
        return Err(Error::new(
            ErrorCode::NoSuchBucket,
            format!("bucket {name} does not exist"),
        ));
    };
    if let Some(region) = &call.target.region {
        if *region != bucket.region {
            return Err(Error::new(
                ErrorCode::NoSuchBucket,
                format!("bucket {name} is in region {}, not {region}", bucket.region),
            ));
        }
    }
    Ok(bucket)
}

/// Bytes of an upload's body read while its bucket record is ([`load_bucket_for_upload`]).
const READ_AHEAD: usize = 1024 * 1024;

/// [`load_bucket`] for a request that uploads a body: the bucket owner's first
/// [`READ_AHEAD`] bytes come in while the bucket record is read (a gateway's round trip to
/// its backend); nobody else's body is read before the request is authorized.
pub async fn load_bucket_for_upload(ctx: &Context, call: &mut Call) -> Result<BucketRecord, Error> {
    if !call.signed_by_bucket_owner() {
        return load_bucket(ctx, call).await;
    }
    let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
    let (bucket, body) =
        crate::body::read_ahead_while(body, READ_AHEAD, load_bucket(ctx, call)).await;
    call.req.body = body;
    bucket
}

/// Refuses unless the caller may do `action` (ACL decision in `auth::acl`).
pub fn authorize(
    call: &Call,
    bucket: &BucketRecord,
    object: Option<&ObjectMeta>,
    action: Action,
) -> Result<(), Error> {
    if acl::allows(&call.authn.principal, bucket, object, action) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::AccessDenied,
            "access denied: the request is not signed by the bucket owner and no ACL grants it",
        ))
    }
}

/// Reads a small request body (an XML document) whole, refusing one over `limit` bytes.
pub async fn read_document(mut body: BodyStream, limit: usize) -> Result<Bytes, Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            crate::body::read_error(&e, || "the request body ended early".to_string())
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(Error::new(
                ErrorCode::MalformedXml,
                format!("the XML document exceeds {limit} bytes"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Unix milliseconds as an HTTP date (`Last-Modified`).
pub fn http_date(ms: i64) -> String {
    let secs = u64::try_from(ms / 1000).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Unix milliseconds as ISO 8601 with milliseconds (`2024-01-02T03:04:05.000Z`), as COS
/// writes dates in XML.
pub fn iso_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// The canonical owner id COS writes for an appid.
pub fn owner_id(appid: &str) -> String {
    acl::canonical_id(appid)
}

/// Writes an owner element of a listing (`Owner`, `Initiator`) for `appid`: its canonical
/// id, and the appid as the display name.
pub fn write_owner(w: &mut crate::xml::XmlWriter, element: &str, appid: &str) {
    w.open(element);
    w.leaf("ID", &owner_id(appid));
    w.leaf("DisplayName", appid);
    w.close(element);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_date(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            http_date(1_700_000_000_999),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
    }
}
