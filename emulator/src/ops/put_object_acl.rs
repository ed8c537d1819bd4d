//! PUT Object acl: sets an object's canned ACL (bucket owner only).

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs PUT Object acl; `NoSuchKey` if the object does not exist.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let key = call.key()?.to_string();
    let acl = acl_xml::requested(call.req, true).await?;
    let store = ctx.store.clone();
    let lookup = key.clone();
    let found = blocking(move || {
        store
            .modify_object(&bucket.name, &lookup, &mut |m| m.acl = acl)
            .map_err(store_error)
    })
    .await?;
    if !found {
        return Err(Error::new(ErrorCode::NoSuchKey, format!("no object {key}")));
    }
    Ok(Response::new(200))
}
