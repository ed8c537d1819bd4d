//! GET Object acl: an object's ACL as an `AccessControlPolicy` (bucket owner, or a grantee
//! of READ_ACP or FULL_CONTROL on the object): the canned ACL and the grants set.

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs GET Object acl.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let name = bucket.name.clone();
    let lookup = key.clone();
    let record = blocking(move || store.object(&name, &lookup).map_err(store_error)).await?;
    let Some(record) = record else {
        // Only who may read ACLs learns whether the object exists.
        authorize(&call, &bucket, None, Action::OwnerOnly)?;
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    };
    authorize(&call, &bucket, Some(&record.meta), Action::ReadAcp)?;
    let meta = &record.meta;
    let mut r = Response::xml(acl_xml::document(&meta.owner, meta.acl, &meta.grants));
    r.set("x-cos-acl", meta.acl.as_str());
    Ok(r)
}
