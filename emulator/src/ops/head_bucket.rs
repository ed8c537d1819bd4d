//! HEAD Bucket: whether the bucket exists and the caller may read it.

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::error::Error;
use crate::response::Response;

/// Runs HEAD Bucket; the response names the bucket's region.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::ReadBucket)?;
    let mut r = Response::new(200);
    r.set("x-cos-bucket-region", &bucket.region);
    Ok(r)
}
