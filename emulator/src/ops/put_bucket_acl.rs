//! PUT Bucket acl: sets the bucket's canned ACL (owner only).

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs PUT Bucket acl.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let acl = acl_xml::requested(call.req, false).await?;
    let store = ctx.store.clone();
    blocking(move || {
        store
            .modify_bucket(&bucket.name, &mut |b| b.acl = acl)
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(200))
}
