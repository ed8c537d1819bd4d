//! Abort Multipart Upload (`DELETE <key>?uploadId=ID`): discards the upload and every part
//! it holds (their stored bytes and sealed data keys with them); 204, or `NoSuchUpload`.

use super::multipart::{load_upload, no_such_upload};
use super::{authorize, load_bucket, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;

/// Runs Abort Multipart Upload.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let upload = load_upload(ctx, &call, &bucket).await?;
    let store = ctx.store.clone();
    let id = upload.upload_id;
    blocking(move || match store.uploads().abort(&bucket.name, &id) {
        Ok(true) => Ok(()),
        Ok(false) => Err(no_such_upload(&id)),
        Err(e) => Err(store_error(e)),
    })
    .await?;
    Ok(Response::new(204))
}
