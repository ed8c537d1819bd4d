//! DELETE Object: removes the object; 204 whether or not it existed (as COS answers).

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs DELETE Object.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let key = call.key()?.to_string();
    let store = ctx.store.clone();
    blocking(move || store.delete_object(&bucket.name, &key).map_err(store_error)).await?;
    Ok(Response::new(204))
}
