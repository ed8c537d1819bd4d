//! GET Bucket location (`GET /?location`): the region the bucket was created in, as a
//! `LocationConstraint` document (bucket owner, or a grantee of READ_ACP or FULL_CONTROL,
//! as for the bucket's other configuration reads).

use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::error::Error;
use crate::response::Response;
use crate::xml::XmlWriter;

/// Runs GET Bucket location.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::ReadAcp)?;
    let mut w = XmlWriter::new();
    w.leaf("LocationConstraint", &bucket.region);
    Ok(Response::xml(w.finish()))
}
