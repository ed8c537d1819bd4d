//! GET Bucket (list objects): `prefix`, `delimiter`, `marker`, `max-keys`, `encoding-type`.
//! Encrypted and plain objects are listed alike, with their plaintext size (LIST-ALL,
//! SIZE-UNCHANGED).
//!
//! S3-LIST-V2: an S3-signed request may ask for S3's ListObjectsV2 (`list-type=2`):
//! `continuation-token` (opaque: the base64url of the last key listed), `start-after`,
//! `fetch-owner`; the result has `KeyCount`, `ContinuationToken`, `NextContinuationToken`
//! and `StartAfter` instead of the markers, and no `Owner` unless `fetch-owner=true`.
//! The router refuses `list-type` on COS requests (501, as for every S3-only parameter).

use std::collections::VecDeque;

use base64::Engine;

use super::list_parts::bounded;
use super::paging::{Entry, Paging};
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
    paging: Paging,
    url_encode: bool,
    /// ListObjectsV2 (S3-LIST-V2), `None` for COS's GET Bucket.
    v2: Option<V2>,
}

/// The ListObjectsV2 parameters (S3-LIST-V2).
#[derive(Debug, Clone, PartialEq, Eq)]
struct V2 {
    continuation_token: Option<String>,
    start_after: Option<String>,
    fetch_owner: bool,
}

/// The continuation token of a page that ends at `key`.
fn token(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// The key a continuation token continues after.
fn untoken(token: &str) -> Result<String, Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                "The continuation token provided is incorrect",
            )
        })
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
        let max_keys = bounded(call, "max-keys", MAX_KEYS, MAX_KEYS)?;
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
        // Echoed into the listing: without encoding-type=url, each must be XML 1.0 text.
        for name in ["prefix", "delimiter", "marker"] {
            let value = q.get(name).unwrap_or("");
            if !url_encode && !value.chars().all(crate::router::is_xml_char) {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "{name} contains a character XML 1.0 cannot carry; send it with \
                         encoding-type=url"
                    ),
                ));
            }
        }
        let v2 = match q.get("list-type") {
            None => None,
            Some("2") => Some(V2 {
                continuation_token: q.get("continuation-token").map(str::to_string),
                start_after: q.get("start-after").map(str::to_string),
                fetch_owner: q.get("fetch-owner") == Some("true"),
            }),
            Some(v) => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!("list-type {v:?} is not supported (only 2)"),
                ))
            }
        };
        let marker = match &v2 {
            None => q.get("marker").unwrap_or("").to_string(),
            Some(V2 {
                continuation_token: Some(t),
                ..
            }) => untoken(t)?,
            Some(v2) => v2.start_after.clone().unwrap_or_default(),
        };
        Ok(ListObjects {
            paging: Paging {
                prefix: q.get("prefix").unwrap_or("").into(),
                delimiter: q.get("delimiter").unwrap_or("").into(),
                marker,
                max: max_keys,
            },
            url_encode,
            v2,
        })
    }

    /// One page: the shared walk (`paging`) over the bucket's keys after the marker, read
    /// from the store in batches as the walk needs them; records are read for listed keys.
    fn page(&self, store: &dyn Store, bucket: &str) -> Result<Page, Error> {
        let p = &self.paging;
        let mut after = p.marker.clone();
        let mut batch = VecDeque::new();
        let mut done = false;
        let keys = std::iter::from_fn(|| {
            if batch.is_empty() && !done {
                match store.list_keys(bucket, &p.prefix, &after, BATCH) {
                    Err(e) => {
                        done = true;
                        return Some(Err(store_error(e)));
                    }
                    Ok(keys) => match keys.last() {
                        None => done = true,
                        Some(last) => {
                            after = last.clone();
                            batch.extend(keys);
                        }
                    },
                }
            }
            batch.pop_front().map(|k: String| Ok((k.clone(), k)))
        });
        let walked = p.walk(keys)?;
        let mut page = Page {
            truncated: walked.truncated,
            ..Page::default()
        };
        for entry in walked.entries {
            match entry {
                Entry::Prefix(cp) => {
                    page.next_marker = Some(cp.clone());
                    page.prefixes.push(cp);
                }
                Entry::Item(key) => {
                    // A key deleted since it was listed is left out.
                    if let Some(r) = store.object(bucket, &key).map_err(store_error)? {
                        page.contents.push(r);
                    }
                    page.next_marker = Some(key);
                }
            }
        }
        Ok(page)
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
        let p = &self.paging;
        w.leaf("Prefix", &self.enc(&p.prefix));
        match &self.v2 {
            None => w.leaf("Marker", &self.enc(&p.marker)),
            Some(v2) => {
                let count = page.contents.len() + page.prefixes.len();
                w.leaf("KeyCount", &count.to_string());
                if let Some(t) = &v2.continuation_token {
                    w.leaf("ContinuationToken", t);
                }
                if let Some(s) = &v2.start_after {
                    w.leaf("StartAfter", &self.enc(s));
                }
            }
        }
        w.leaf("MaxKeys", &p.max.to_string());
        if !p.delimiter.is_empty() {
            w.leaf("Delimiter", &self.enc(&p.delimiter));
        }
        w.leaf("IsTruncated", if page.truncated { "true" } else { "false" });
        if let (true, Some(m)) = (page.truncated, &page.next_marker) {
            match &self.v2 {
                None => w.leaf("NextMarker", &self.enc(m)),
                Some(_) => w.leaf("NextContinuationToken", &token(m)),
            }
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
            if self.v2.as_ref().is_none_or(|v2| v2.fetch_owner) {
                write_owner(&mut w, "Owner", &m.owner);
            }
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
