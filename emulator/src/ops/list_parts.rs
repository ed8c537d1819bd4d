//! List Parts (`GET <key>?uploadId=ID`): the parts uploaded so far, by number, with
//! `max-parts` (default and at most 1000) and `part-number-marker` paging. Sizes are
//! plaintext sizes (SIZE-UNCHANGED), ETags the parts' plaintext MD5s.

use super::multipart::load_upload;
use super::{authorize, iso_date, load_bucket, write_owner, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::xml::XmlWriter;

/// COS's largest page of parts.
const MAX_PARTS: usize = 1000;

/// A numeric query parameter with a default, at most `max`.
pub fn bounded(call: &Call, name: &str, default: usize, max: usize) -> Result<usize, Error> {
    match call.req.query.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map(|n| n.min(max)).map_err(|_| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("{name} {v:?} is not a number"),
            )
        }),
    }
}

/// Runs List Parts.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let max = bounded(&call, "max-parts", MAX_PARTS, MAX_PARTS)?;
    let marker = bounded(&call, "part-number-marker", 0, u32::MAX as usize)?;
    let upload = load_upload(ctx, &call, &bucket).await?;
    let store = ctx.store.clone();
    let (name, id) = (bucket.name.clone(), upload.upload_id.clone());
    let parts = blocking(move || store.uploads().parts(&name, &id).map_err(store_error)).await?;
    let after: Vec<_> = parts
        .iter()
        .filter(|p| p.number as usize > marker)
        .collect();
    let page = &after[..after.len().min(max)];
    let truncated = after.len() > page.len();

    let mut w = XmlWriter::new();
    w.open("ListPartsResult");
    w.leaf("Bucket", &bucket.name);
    w.leaf("Key", &upload.meta.key);
    w.leaf("UploadId", &upload.upload_id);
    for role in ["Initiator", "Owner"] {
        write_owner(&mut w, role, &upload.meta.owner);
    }
    w.leaf("StorageClass", &upload.meta.storage_class);
    w.leaf("PartNumberMarker", &marker.to_string());
    if let Some(last) = page.last() {
        w.leaf("NextPartNumberMarker", &last.number.to_string());
    }
    w.leaf("MaxParts", &max.to_string());
    w.leaf("IsTruncated", if truncated { "true" } else { "false" });
    for p in page {
        w.open("Part");
        w.leaf("PartNumber", &p.number.to_string());
        w.leaf("LastModified", &iso_date(p.modified_ms));
        w.leaf("ETag", &format!("\"{}\"", p.etag));
        w.leaf("Size", &p.size.to_string());
        w.close("Part");
    }
    w.close("ListPartsResult");
    Ok(Response::xml(w.finish()))
}
