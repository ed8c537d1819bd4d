//! DELETE Bucket encryption: removes the bucket's default encryption (owner only,
//! BUCKET-ENC-OWNER); 204 (BUCKET-ENC-DELETE), also when none was set, as deleting is
//! idempotent. Objects written under the default keep their encryption.

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs DELETE Bucket encryption.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    if ctx.lies.bucket_encryption_delete_kept {
        // The mutation harness's lie: 204 with the default kept.
        return Ok(Response::new(204));
    }
    let store = ctx.store.clone();
    blocking(move || {
        store
            .modify_bucket(&bucket.name, &mut |b| b.encryption = None)
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(204))
}
