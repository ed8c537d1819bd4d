//! GET Object acl: an object's ACL as an `AccessControlPolicy` (bucket owner only).

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs GET Object acl.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    let name = bucket.name.clone();
    let lookup = key.clone();
    let record = blocking(move || store.object(&name, &lookup).map_err(store_error)).await?;
    let record =
        record.ok_or_else(|| Error::new(ErrorCode::NoSuchKey, format!("no object {key}")))?;
    let mut r = Response::xml(acl_xml::document(&record.meta.owner, record.meta.acl));
    r.set("x-cos-acl", record.meta.acl.as_str());
    Ok(r)
}
