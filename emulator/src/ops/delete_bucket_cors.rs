//! DELETE Bucket cors: removes the bucket's CORS rules (owner only); 204 also when there
//! were none, as deleting is idempotent.

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs DELETE Bucket cors.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let store = ctx.store.clone();
    blocking(move || {
        store
            .modify_bucket(&bucket.name, &mut |b| b.cors.clear())
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(204))
}
