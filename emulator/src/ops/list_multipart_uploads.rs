//! List Multipart Uploads (`GET Bucket ?uploads`): uploads in progress, by key then
//! initiation time, with `prefix`, `delimiter` (keys rolled up into `CommonPrefixes`),
//! `key-marker` / `upload-id-marker` paging and `max-uploads` (default and at most 1000).

use super::list_parts::bounded;
use super::paging::{Entry, Page, Paging};
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
    /// `prefix`, `delimiter`, `key-marker` and `max-uploads`.
    paging: Paging,
    upload_id_marker: String,
}

impl ListMultipartUploads {
    /// Reads the query parameters.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let q = &call.req.query;
        let text = |n: &str| q.get(n).unwrap_or("").to_string();
        Ok(ListMultipartUploads {
            paging: Paging {
                prefix: text("prefix"),
                delimiter: text("delimiter"),
                marker: text("key-marker"),
                max: bounded(call, "max-uploads", MAX_UPLOADS, MAX_UPLOADS)?,
            },
            upload_id_marker: text("upload-id-marker"),
        })
    }

    /// Whether an upload comes after the markers: a later key, or the marker's key with a
    /// later upload id when `upload-id-marker` is given.
    fn after_marker(&self, u: &UploadRecord) -> bool {
        let key = u.meta.key.as_str();
        let marker = self.paging.marker.as_str();
        marker.is_empty()
            || key > marker
            || (key == marker
                && !self.upload_id_marker.is_empty()
                && u.upload_id.as_str() > self.upload_id_marker.as_str())
    }

    /// The page: the shared walk over the uploads (sorted by key, then initiation) after
    /// the markers.
    fn page<'a>(&self, uploads: &'a [UploadRecord]) -> Page<&'a UploadRecord> {
        let after = uploads
            .iter()
            .filter(|u| self.after_marker(u))
            .map(|u| Ok::<_, std::convert::Infallible>((u.meta.key.clone(), u)));
        match self.paging.walk(after) {
            Ok(page) => page,
            Err(never) => match never {},
        }
    }

    fn document(&self, bucket: &str, page: &Page<&UploadRecord>) -> String {
        let (entries, truncated) = (&page.entries, page.truncated);
        let p = &self.paging;
        let mut w = XmlWriter::new();
        w.open("ListMultipartUploadsResult");
        w.leaf("Bucket", bucket);
        w.leaf("Prefix", &p.prefix);
        if !p.delimiter.is_empty() {
            w.leaf("Delimiter", &p.delimiter);
        }
        w.leaf("KeyMarker", &p.marker);
        w.leaf("UploadIdMarker", &self.upload_id_marker);
        if truncated {
            match entries.last() {
                Some(Entry::Item(u)) => {
                    w.leaf("NextKeyMarker", &u.meta.key);
                    w.leaf("NextUploadIdMarker", &u.upload_id);
                }
                Some(Entry::Prefix(p)) => w.leaf("NextKeyMarker", p),
                None => {}
            }
        }
        w.leaf("MaxUploads", &p.max.to_string());
        w.leaf("IsTruncated", if truncated { "true" } else { "false" });
        for e in entries {
            match e {
                Entry::Item(u) => {
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
    let page = list.page(&uploads);
    Ok(Response::xml(list.document(&bucket.name, &page)))
}
