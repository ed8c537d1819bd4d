//! PUT Bucket encryption: sets the bucket's default encryption from a
//! `ServerSideEncryptionConfiguration` document (owner only, BUCKET-ENC-OWNER), replacing
//! any earlier one (BUCKET-ENC-REPLACE). The document's rules are in `bucket_encryption`
//! (BUCKET-ENC-FORMAT, BUCKET-ENC-INVALID, BUCKET-ENC-ALIAS, BUCKET-ENC-KEY-WITH-COS), as are
//! the checks of the new default (BUCKET-ENC-CMK, BUCKET-ENC-REGION). A `Content-MD5`, which
//! the Go and JS SDKs send and the Python SDK does not, must match the body when present.

use md5::{Digest, Md5};

use super::upload_body::{check_md5, content_md5};
use super::{authorize, bucket_encryption, load_bucket, read_document, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;
use crate::xml;

/// Runs PUT Bucket encryption: 200 with an empty body and the default stored, or the
/// refusal naming what is wrong; nothing changes on a refusal.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let expected = content_md5(&call.req)?;
    let doc = read_document(call.req.body, xml::MAX_DOCUMENT).await?;
    check_md5(
        expected,
        Md5::digest(&doc).into(),
        "ServerSideEncryptionConfiguration document",
    )?;
    let config = bucket_encryption::parse(&doc, &ctx.behaviours, call.req.dialect)?;
    let (store, keys, regions, behaviours) = (
        ctx.store.clone(),
        ctx.keys.clone(),
        ctx.regions.clone(),
        ctx.behaviours,
    );
    blocking(move || {
        bucket_encryption::check_new(&keys, &regions, &behaviours, &bucket, &config)?;
        store
            .modify_bucket(&bucket.name, &mut |b| b.encryption = Some(config.clone()))
            .map_err(store_error)
    })
    .await?;
    Ok(Response::new(200))
}
