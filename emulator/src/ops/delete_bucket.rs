//! DELETE Bucket: removes an empty bucket (owner only).

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs DELETE Bucket: 204, or `BucketNotEmpty`.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let store = ctx.store.clone();
    blocking(move || store.delete_bucket(&bucket.name).map_err(store_error)).await?;
    Ok(Response::new(204))
}
