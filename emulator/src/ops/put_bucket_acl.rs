//! PUT Bucket acl: replaces the bucket's ACL — canned ACL and grants — from `x-cos-acl` /
//! `x-cos-grant-*` or an `AccessControlPolicy` body (owner, or a grantee of WRITE_ACP or
//! FULL_CONTROL).

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs PUT Bucket acl.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteAcp)?;
    let (acl, grants) = acl_xml::requested(call.req, &bucket.appid, false).await?;
    let store = ctx.store.clone();
    blocking(move || {
        store
            .modify_bucket(&bucket.name, &mut |b| {
                b.acl = acl;
                b.grants = grants.clone();
            })
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(200))
}
