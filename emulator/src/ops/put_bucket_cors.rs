//! PUT Bucket cors: replaces the bucket's CORS rules with a `CORSConfiguration` document
//! (owner only). A `Content-MD5`, which COS asks for and the SDKs send, must match the body.

use md5::{Digest, Md5};

use super::upload_body::{check_md5, content_md5};
use super::{authorize, cors, load_bucket, read_document, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;
use crate::xml;

/// Runs PUT Bucket cors: 200 and the rules stored, or `MalformedXML` naming what is wrong.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let expected = content_md5(&call.req)?;
    let doc = read_document(call.req.body, xml::MAX_DOCUMENT).await?;
    check_md5(
        expected,
        Md5::digest(&doc).into(),
        "CORSConfiguration document",
    )?;
    let rules = cors::parse(&doc)?;
    let store = ctx.store.clone();
    blocking(move || {
        store
            .modify_bucket(&bucket.name, &mut |b| b.cors = rules.clone())
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(200))
}
