//! PUT Bucket: creates `<name>-<appid>` in the region the Host names, owned by the signing
//! account. A path-style request (the Host names no region) creates it in the region its
//! `CreateBucketConfiguration/LocationConstraint` names, as S3 clients send it (boto3
//! sends its region there), else in the default region.

use super::{now_ms, read_document, Call, Context};
use crate::auth::acl;
use crate::body::blocking;
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::store::{Acl, BucketRecord, StoreError};
use crate::xml;

/// PUT Bucket, parsed.
#[derive(Debug)]
pub struct PutBucket {
    record: BucketRecord,
}

impl PutBucket {
    /// Checks the caller owns the appid in the name, the region exists, the ACL is canned
    /// and the optional `CreateBucketConfiguration` body is well-formed.
    pub async fn parse(ctx: &Context, mut call: Call) -> Result<Self, Error> {
        let name = call.bucket_name()?.to_string();
        let Some(appid) = call.authn.principal.appid() else {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                "PUT Bucket needs a signed request",
            ));
        };
        if !acl::owns_bucket_named(&call.authn.principal, &name) {
            return Err(Error::new(
                ErrorCode::AccessDenied,
                format!("bucket {name} does not carry the caller's appid {appid}"),
            ));
        }
        let body = std::mem::replace(&mut call.req.body, Box::pin(futures_util::stream::empty()));
        let doc = read_document(body, xml::MAX_DOCUMENT).await?;
        let mut constraint = None;
        if !doc.iter().all(u8::is_ascii_whitespace) {
            let root = xml::parse(&doc)?;
            if root.name != "CreateBucketConfiguration" {
                return Err(Error::new(
                    ErrorCode::MalformedXml,
                    format!("expected CreateBucketConfiguration, got {}", root.name),
                ));
            }
            constraint = root
                .child("LocationConstraint")
                .map(|c| c.text.clone())
                .filter(|t| !t.is_empty());
        }
        let region = call
            .target
            .region
            .clone()
            .or(constraint)
            .unwrap_or_else(|| ctx.default_region.clone());
        if !ctx.regions.is_known(&region) {
            return Err(Error::new(
                ErrorCode::InvalidRegionName,
                format!("region {region} is not known to this emulator"),
            ));
        }
        let acl = match call.req.header("x-cos-acl")? {
            None => Acl::Private,
            Some(v) => Acl::parse(v, false).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("x-cos-acl {v:?} is not a bucket ACL"),
                )
            })?,
        };
        let appid = appid.to_string();
        Ok(PutBucket {
            record: BucketRecord {
                name,
                appid,
                region,
                created_ms: now_ms(),
                acl,
                grants: Vec::new(),
                cors: Vec::new(),
                encryption: None,
            },
        })
    }

    /// Creates the bucket.
    pub async fn apply(self, ctx: &Context) -> Result<Response, Error> {
        let store = ctx.store.clone();
        let appid = self.record.appid.clone();
        let result = blocking(move || Ok(store.create_bucket(self.record))).await?;
        match result {
            Ok(()) => Ok(Response::new(200)),
            Err(StoreError::BucketExists(existing)) if existing.appid == appid => Err(Error::new(
                ErrorCode::BucketAlreadyOwnedByYou,
                format!("you already own bucket {}", existing.name),
            )),
            Err(StoreError::BucketExists(existing)) => Err(Error::new(
                ErrorCode::BucketAlreadyExists,
                format!("bucket {} exists", existing.name),
            )),
            Err(e) => Err(Error::internal(e)),
        }
    }
}

/// Runs PUT Bucket.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    PutBucket::parse(ctx, call).await?.apply(ctx).await
}
