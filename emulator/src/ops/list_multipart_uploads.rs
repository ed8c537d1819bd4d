//! List Multipart Uploads (`GET Bucket ?uploads`): uploads in progress, by key then
//! initiation time, with `prefix`, `delimiter` (keys rolled up into `CommonPrefixes`),
//! `key-marker` / `upload-id-marker` paging and `max-uploads` (default and at most 1000).

use super::list_parts::bounded;
use super::{authorize, iso_date, load_bucket, write_owner, Call, Context};
use crate::auth::acl::Action;
use crate::body::{blocking, store_error};
use crate::error::Error;
use crate::response::Response;
use crate::store::multipart::UploadRecord;
use crate::xml::XmlWriter;

/// COS's largest page of uploads.
const MAX_UPLOADS: usize = 1000;

/// List Multipart Uploads, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMultipartUploads {
    prefix: String,
    delimiter: String,
    key_marker: String,
    upload_id_marker: String,
    max: usize,
}

/// One entry of the page.
enum Entry<'a> {
    Upload(&'a UploadRecord),
    Prefix(String),
}

impl ListMultipartUploads {
    /// Reads the query parameters.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let q = &call.req.query;
        let text = |n: &str| q.get(n).unwrap_or("").to_string();
        Ok(ListMultipartUploads {
            prefix: text("prefix"),
            delimiter: text("delimiter"),
            key_marker: text("key-marker"),
            upload_id_marker: text("upload-id-marker"),
            max: bounded(call, "max-uploads", MAX_UPLOADS, MAX_UPLOADS)?,
        })
    }

    fn after_marker(&self, u: &UploadRecord) -> bool {
        let key = u.meta.key.as_str();
        if self.key_marker.is_empty() {
            return true;
        }
        key > self.key_marker.as_str()
            || (key == self.key_marker
                && !self.upload_id_marker.is_empty()
                && u.upload_id.as_str() > self.upload_id_marker.as_str())
    }

    fn common_prefix(&self, key: &str) -> Option<String> {
        if self.delimiter.is_empty() {
            return None;
        }
        let rest = &key[self.prefix.len()..];
        rest.find(&self.delimiter)
            .map(|i| key[..self.prefix.len() + i + self.delimiter.len()].to_string())
    }

    /// The page: entries and whether more follow.
    fn page<'a>(&self, uploads: &'a [UploadRecord]) -> (Vec<Entry<'a>>, bool) {
        let mut entries = Vec::new();
        for u in uploads
            .iter()
            .filter(|u| u.meta.key.starts_with(&self.prefix) && self.after_marker(u))
        {
            let entry = match self.common_prefix(&u.meta.key) {
                Some(cp) => {
                    if matches!(entries.last(), Some(Entry::Prefix(last)) if *last == cp) {
                        continue;
                    }
                    Entry::Prefix(cp)
                }
                None => Entry::Upload(u),
            };
            if entries.len() == self.max {
                return (entries, true);
            }
            entries.push(entry);
        }
        (entries, false)
    }

    fn document(&self, bucket: &str, entries: &[Entry<'_>], truncated: bool) -> String {
        let mut w = XmlWriter::new();
        w.open("ListMultipartUploadsResult");
        w.leaf("Bucket", bucket);
        w.leaf("Prefix", &self.prefix);
        if !self.delimiter.is_empty() {
            w.leaf("Delimiter", &self.delimiter);
        }
        w.leaf("KeyMarker", &self.key_marker);
        w.leaf("UploadIdMarker", &self.upload_id_marker);
        if truncated {
            match entries.last() {
                Some(Entry::Upload(u)) => {
                    w.leaf("NextKeyMarker", &u.meta.key);
                    w.leaf("NextUploadIdMarker", &u.upload_id);
                }
                Some(Entry::Prefix(p)) => w.leaf("NextKeyMarker", p),
                None => {}
            }
        }
        w.leaf("MaxUploads", &self.max.to_string());
        w.leaf("IsTruncated", if truncated { "true" } else { "false" });
        for e in entries {
            match e {
                Entry::Upload(u) => {
                    w.open("Upload");
                    w.leaf("Key", &u.meta.key);
                    w.leaf("UploadId", &u.upload_id);
                    w.leaf("StorageClass", &u.meta.storage_class);
                    for role in ["Initiator", "Owner"] {
                        write_owner(&mut w, role, &u.meta.owner);
                    }
                    w.leaf("Initiated", &iso_date(u.initiated_ms));
                    w.close("Upload");
                }
                Entry::Prefix(p) => {
                    w.open("CommonPrefixes");
                    w.leaf("Prefix", p);
                    w.close("CommonPrefixes");
                }
            }
        }
        w.close("ListMultipartUploadsResult");
        w.finish()
    }
}

/// Runs List Multipart Uploads.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::WriteObjects)?;
    let list = ListMultipartUploads::parse(&call)?;
    let store = ctx.store.clone();
    let name = bucket.name.clone();
    let uploads = blocking(move || store.uploads().list(&name).map_err(store_error)).await?;
    let (entries, truncated) = list.page(&uploads);
    Ok(Response::xml(list.document(
        &bucket.name,
        &entries,
        truncated,
    )))
}
