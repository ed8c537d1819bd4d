//! GET Bucket (list objects): `prefix`, `delimiter`, `marker`, `max-keys`, `encoding-type`.
//! Encrypted and plain objects are listed alike, with their plaintext size (LIST-ALL,
//! SIZE-UNCHANGED).

use super::{authorize, iso_date, load_bucket, write_owner, Call, Context};
use crate::auth::acl::Action;
use crate::auth::signature::cos_encode;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::response::Response;
use crate::store::{ObjectRecord, Store};
use crate::xml::XmlWriter;

/// COS's largest page.
const MAX_KEYS: usize = 1000;
/// Keys read from the store per batch while grouping.
const BATCH: usize = 1000;

/// GET Bucket, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListObjects {
    prefix: String,
    delimiter: String,
    marker: String,
    max_keys: usize,
    url_encode: bool,
}

/// One page of results.
#[derive(Debug, Default)]
struct Page {
    contents: Vec<ObjectRecord>,
    prefixes: Vec<String>,
    truncated: bool,
    next_marker: Option<String>,
}

impl ListObjects {
    /// Reads the query parameters.
    pub fn parse(call: &Call) -> Result<Self, Error> {
        let q = &call.req.query;
        let max_keys = match q.get("max-keys") {
            None => MAX_KEYS,
            Some(v) => v.parse::<usize>().map_err(|_| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("max-keys {v:?} is not a number"),
                )
            })?,
        }
        .min(MAX_KEYS);
        let url_encode = match q.get("encoding-type") {
            None => false,
            Some("url") => true,
            Some(v) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("encoding-type {v:?} is not supported (only url)"),
                ))
            }
        };
        Ok(ListObjects {
            prefix: q.get("prefix").unwrap_or("").into(),
            delimiter: q.get("delimiter").unwrap_or("").into(),
            marker: q.get("marker").unwrap_or("").into(),
            max_keys,
            url_encode,
        })
    }

    /// The common prefix `key` rolls up into, if any.
    fn common_prefix(&self, key: &str) -> Option<String> {
        if self.delimiter.is_empty() {
            return None;
        }
        let rest = &key[self.prefix.len()..];
        rest.find(&self.delimiter)
            .map(|i| key[..self.prefix.len() + i + self.delimiter.len()].to_string())
    }

    /// Walks the sorted keys, grouping under the delimiter, until the page is full and one
    /// more entry shows it is truncated.
    fn page(&self, store: &dyn Store, bucket: &str) -> Result<Page, Error> {
        let mut page = Page::default();
        let mut after = self.marker.clone();
        // A marker that is itself a common prefix (a NextMarker) skips that whole group.
        let mut last_prefix = self.common_prefix_of_marker().map(str::to_string);
        let mut count = 0;
        loop {
            let keys = store
                .list_keys(bucket, &self.prefix, &after, BATCH)
                .map_err(store_error)?;
            let Some(last) = keys.last().cloned() else {
                return Ok(page);
            };
            for key in keys {
                let cp = self.common_prefix(&key);
                if cp.is_some() && cp == last_prefix {
                    continue;
                }
                if count == self.max_keys {
                    page.truncated = true;
                    return Ok(page);
                }
                count += 1;
                match cp {
                    Some(cp) => {
                        page.next_marker = Some(cp.clone());
                        page.prefixes.push(cp.clone());
                        last_prefix = Some(cp);
                    }
                    None => {
                        page.next_marker = Some(key.clone());
                        if let Some(r) = store.object(bucket, &key).map_err(store_error)? {
                            page.contents.push(r);
                        }
                    }
                }
            }
            after = last;
        }
    }

    fn common_prefix_of_marker(&self) -> Option<&str> {
        let m = self.marker.as_str();
        (!self.delimiter.is_empty() && m.starts_with(&self.prefix) && m.ends_with(&self.delimiter))
            .then_some(m)
    }

    fn enc(&self, s: &str) -> String {
        if self.url_encode {
            cos_encode(s)
        } else {
            s.to_string()
        }
    }

    fn document(&self, bucket: &str, page: &Page) -> String {
        let mut w = XmlWriter::new();
        w.open("ListBucketResult");
        w.leaf("Name", bucket);
        if self.url_encode {
            w.leaf("EncodingType", "url");
        }
        w.leaf("Prefix", &self.enc(&self.prefix));
        w.leaf("Marker", &self.enc(&self.marker));
        w.leaf("MaxKeys", &self.max_keys.to_string());
        if !self.delimiter.is_empty() {
            w.leaf("Delimiter", &self.enc(&self.delimiter));
        }
        w.leaf("IsTruncated", if page.truncated { "true" } else { "false" });
        if let (true, Some(m)) = (page.truncated, &page.next_marker) {
            w.leaf("NextMarker", &self.enc(m));
        }
        for p in &page.prefixes {
            w.open("CommonPrefixes");
            w.leaf("Prefix", &self.enc(p));
            w.close("CommonPrefixes");
        }
        for r in &page.contents {
            let m = &r.meta;
            w.open("Contents");
            w.leaf("Key", &self.enc(&m.key));
            w.leaf("LastModified", &iso_date(m.modified_ms));
            w.leaf("ETag", &format!("\"{}\"", m.etag));
            w.leaf("Size", &m.size.to_string());
            write_owner(&mut w, "Owner", &m.owner);
            w.leaf("StorageClass", &m.storage_class);
            w.close("Contents");
        }
        w.close("ListBucketResult");
        w.finish()
    }
}

/// Runs GET Bucket.
pub async fn handle(ctx: &Context, call: Call) -> Result<Response, Error> {
    let bucket = load_bucket(ctx, &call).await?;
    authorize(&call, &bucket, None, Action::ReadBucket)?;
    let list = ListObjects::parse(&call)?;
    let store = ctx.store.clone();
    let name = bucket.name.clone();
    let (list, page) = blocking(move || {
        let page = list.page(store.as_ref(), &name)?;
        Ok((list, page))
    })
    .await?;
    Ok(Response::xml(list.document(&bucket.name, &page)))
}
