//! GET Bucket cors: the bucket's CORS rules as a `CORSConfiguration` document (owner only),
//! `NoSuchCORSConfiguration` when none are set.

use super::{authorize, cors, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs GET Bucket cors.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    if bucket.cors.is_empty() {
        return Err(Error::new(
            ErrorCode::NoSuchCorsConfiguration,
            format!("bucket {} has no CORS configuration", bucket.name),
        ));
    }
    Ok(Response::xml(cors::document(&bucket.cors)))
}
