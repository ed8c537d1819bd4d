//! GET Bucket acl: the bucket's ACL as an `AccessControlPolicy` (owner, or a grantee of
//! READ_ACP or FULL_CONTROL): the canned ACL and the grants set.

use super::{acl_xml, authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::error::Error;
use crate::response::Response;

/// Runs GET Bucket acl.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::ReadAcp)?;
    let mut r = Response::xml(acl_xml::document(&bucket.appid, bucket.acl, &bucket.grants));
    r.set("x-cos-acl", bucket.acl.as_str());
    Ok(r)
}
