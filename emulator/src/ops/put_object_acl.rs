//! PUT Object acl: replaces an object's ACL — canned ACL and grants — from `x-cos-acl` /
//! `x-cos-grant-*` or an `AccessControlPolicy` body (bucket owner, or a grantee of
//! WRITE_ACP or FULL_CONTROL on the object).

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs PUT Object acl; `NoSuchKey` if the object does not exist.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let (name, lookup) = (bucket.name.clone(), key.clone());
    let record = blocking(move || store.object(&name, &lookup).map_err(store_error)).await?;
    let Some(record) = record else {
        // Only who may change ACLs learns whether the object exists.
        authorize(&call, &bucket, None, Action::OwnerOnly)?;
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    };
    authorize(&call, &bucket, Some(&record.meta), Action::WriteAcp)?;
    let (acl, grants) = acl_xml::requested(call.req, &record.meta.owner, true).await?;
    let store = ctx.store.clone();
    let lookup = key.clone();
    let found = blocking(move || {
        store
            .modify_object(&bucket.name, &lookup, &mut |m| {
                m.acl = acl;
                m.grants = grants.clone();
            })
            .map_err(store_error)
    })
    .await?;
    if !found {
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    }
    Ok(Response::new(200))
}
