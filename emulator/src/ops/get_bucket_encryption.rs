//! GET Bucket encryption: the bucket's default encryption as a
//! `ServerSideEncryptionConfiguration` document (owner only, BUCKET-ENC-OWNER; the
//! document per BUCKET-ENC-FORMAT and BUCKET-ENC-KMS-ALG-GET), 404
//! `NoSuchEncryptionConfiguration` when none is set (BUCKET-ENC-GET-NONE).

use super::{authorize, bucket_encryption, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::error::{Error, ErrorCode};
use crate::response::Response;

/// Runs GET Bucket encryption.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::OwnerOnly)?;
    let Some(config) = &bucket.encryption else {
        if ctx.lies.bucket_encryption_get_empty {
            // The mutation harness's lie: 200 with an empty configuration.
            return Ok(Response::xml(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{}/>",
                bucket_encryption::ROOT
            )));
        }
        // COS's wording, "a Encryption" included (coscli's sample output).
        return Err(Error::new(
            ErrorCode::NoSuchEncryptionConfiguration,
            "The specified bucket does not have a Encryption configuration",
        ));
    };
    Ok(Response::xml(bucket_encryption::document(
        config,
        &ctx.behaviours,
        call.req.dialect,
    )))
}
