//! The source of PUT Object - Copy and Upload Part - Copy: `x-cos-copy-source` in the
//! forms the SDKs send, the source conditions (`x-cos-copy-source-If-*`), the source's
//! SSE-C key, and the source opened for reading — every check done before the copy writes
//! anything, so its fate is decided before the status line.
//!
//! Rules: COPY-SOURCE-KEY (an SSE-C source needs the copy-source key headers, over HTTPS;
//! missing → 400, wrong → 403; refused for a source that is not SSE-C),
//! ARCHIVE-GET-BEFORE-RESTORE (an archived source must be restored), and the anonymous
//! read rules (COS-ANON, KMS-ANON, SSEC-ANON) for anonymous copiers.

use std::ops::Range;

use super::{authorize, encryption, restore_object, Call, Context};
use crate::auth::acl::Action;
use crate::auth::Principal;
use crate::body::{blocking, store_error};
use crate::error::{Error, ErrorCode};
use crate::request::{decode_path, Scheme};
use crate::router::validate_bucket;
use crate::sse::{self, CustomerSse, SseRequest};
use crate::store::{BucketRecord, Decoder, ObjectRecord, StoredBody};

/// The header naming the source.
pub const COPY_SOURCE: &str = "x-cos-copy-source";

/// Where `x-cos-copy-source` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// `<name>-<appid>`.
    pub bucket: String,
    /// Decoded key.
    pub key: String,
    /// The region named by a virtual-host form.
    pub region: Option<String>,
}

fn bad_source(value: &str, why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!(
            "{COPY_SOURCE} {} is not <bucket>-<appid>.cos.<region>.myqcloud.com/<key> or /<bucket>/<key>: {why}",
            sse::cos::printable(value)
        ),
    )
}

/// Parses `x-cos-copy-source`: `<bucket>-<appid>.cos.<region>.myqcloud.com/<url-encoded
/// key>` (optionally with `http(s)://`, or `.tencentcos.cn`), or the path forms
/// `/<bucket>/<key>` and `<bucket>/<key>`; `?versionId=` may follow (only the current
/// version, `null`, is served: the emulator keeps no versions).
pub fn parse_source(value: &str) -> Result<SourceRef, Error> {
    let raw = value.trim();
    let raw = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw);
    let (raw, query) = match raw.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (raw, None),
    };
    if let Some(q) = query {
        let version = q.strip_prefix("versionId=").unwrap_or(q);
        if !matches!(version, "" | "null") {
            return Err(Error::new(
                ErrorCode::NotImplemented,
                format!("{COPY_SOURCE}: versions other than the current one are not kept by this emulator"),
            ));
        }
    }
    let path_form = raw.strip_prefix('/');
    let (head, key) = path_form
        .unwrap_or(raw)
        .split_once('/')
        .ok_or_else(|| bad_source(value, "no key"))?;
    let host = head.to_ascii_lowercase();
    let virtual_host = host
        .strip_suffix(".myqcloud.com")
        .or_else(|| host.strip_suffix(".tencentcos.cn"))
        .and_then(|stem| stem.split_once(".cos."));
    let (bucket, region) = match (path_form, virtual_host) {
        (None, Some((bucket, region))) if !region.contains('.') => {
            (bucket.to_string(), Some(region.to_string()))
        }
        _ => (decode_path(head)?, None),
    };
    validate_bucket(&bucket)?;
    let key = decode_path(key)?;
    if key.is_empty() {
        return Err(bad_source(value, "the key is empty"));
    }
    Ok(SourceRef {
        bucket,
        key,
        region,
    })
}

/// Parses `x-cos-copy-source-range: bytes=<first>-<last>` against a source of `size`
/// bytes (both ends given, inside the object).
pub fn parse_range(value: &str, size: u64) -> Result<Range<u64>, Error> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "x-cos-copy-source-range {} is not bytes=<first>-<last> inside a source of {size} bytes",
                sse::cos::printable(value)
            ),
        )
    };
    let (a, b) = value
        .trim()
        .strip_prefix("bytes=")
        .and_then(|s| s.split_once('-'))
        .ok_or_else(bad)?;
    let (first, last) = (
        a.trim().parse::<u64>().map_err(|_| bad())?,
        b.trim().parse::<u64>().map_err(|_| bad())?,
    );
    if first > last || last >= size {
        return Err(bad());
    }
    Ok(first..last + 1)
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == etag)
}

fn header_date(call: &Call, name: &str) -> Result<Option<i64>, Error> {
    Ok(call
        .req
        .header(name)?
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

/// The source conditions: each one not met is 412 PreconditionFailed (a copy has no 304).
pub fn check_conditions(call: &Call, record: &ObjectRecord) -> Result<(), Error> {
    let meta = &record.meta;
    let modified = meta.modified_ms / 1000;
    let failed = |what: &str| {
        Err(Error::new(
            ErrorCode::PreconditionFailed,
            format!("the copy source does not meet {what}"),
        ))
    };
    if let Some(list) = call.req.header("x-cos-copy-source-if-match")? {
        if !etag_matches(list, &meta.etag) {
            return failed("x-cos-copy-source-If-Match");
        }
    }
    if let Some(list) = call.req.header("x-cos-copy-source-if-none-match")? {
        if etag_matches(list, &meta.etag) {
            return failed("x-cos-copy-source-If-None-Match");
        }
    }
    if header_date(call, "x-cos-copy-source-if-unmodified-since")?.is_some_and(|t| modified > t) {
        return failed("x-cos-copy-source-If-Unmodified-Since");
    }
    if header_date(call, "x-cos-copy-source-if-modified-since")?.is_some_and(|t| modified <= t) {
        return failed("x-cos-copy-source-If-Modified-Since");
    }
    Ok(())
}

/// A copy source, opened and checked, ready to be read.
pub struct Source {
    /// Where it is.
    pub at: SourceRef,
    /// Its bucket.
    pub bucket: BucketRecord,
    /// Its record.
    pub record: ObjectRecord,
    /// Its body (this version, whatever happens to the key meanwhile).
    pub stored: StoredBody,
    /// Its decoder, data key unsealed.
    pub decoder: Box<dyn Decoder>,
}

/// The copy-source SSE-C key of the request, if any, checked for HTTPS (SSEC-HTTPS).
pub fn source_key(ctx: &Context, call: &Call) -> Result<Option<CustomerSse>, Error> {
    let key = sse::copy_source::parse(&call.req.headers, &ctx.behaviours)?;
    sse::check_scheme(
        &SseRequest::None,
        key.as_ref(),
        call.req.scheme == Scheme::Https,
    )?;
    Ok(key)
}

async fn source_bucket(ctx: &Context, at: &SourceRef) -> Result<BucketRecord, Error> {
    let store = ctx.store.clone();
    let name = at.bucket.clone();
    let bucket = blocking(move || store.bucket(&name).map_err(store_error)).await?;
    match bucket {
        Some(b) if at.region.as_ref().is_none_or(|r| *r == b.region) => Ok(b),
        _ => Err(Error::new(
            ErrorCode::NoSuchBucket,
            format!("the copy source bucket {} does not exist", at.bucket),
        )),
    }
}

/// Opens the source named by `x-cos-copy-source` with every check a read of it needs.
pub async fn open(ctx: &Context, call: &Call) -> Result<Source, Error> {
    let value = call
        .req
        .header(COPY_SOURCE)?
        .ok_or_else(|| Error::internal("copy routed without x-cos-copy-source"))?;
    let at = parse_source(value)?;
    let key = source_key(ctx, call)?;
    let bucket = source_bucket(ctx, &at).await?;
    let store = ctx.store.clone();
    let (name, k) = (bucket.name.clone(), at.key.clone());
    let found = blocking(move || store.open_object(&name, &k).map_err(store_error)).await?;
    let Some((record, stored)) = found else {
        authorize(call, &bucket, None, Action::ReadBucket)?;
        return Err(Error::new(
            ErrorCode::NoSuchKey,
            format!("the copy source {} does not exist", at.key),
        ));
    };
    authorize(call, &bucket, Some(&record.meta), Action::ReadObject)?;
    let stored_mode = record.meta.sse.as_ref().map(|r| r.mode());
    sse::check_copy_source(stored_mode, key.as_ref())?;
    if call.authn.principal == Principal::Anonymous {
        sse::check_anonymous_read(stored_mode, &ctx.behaviours)?;
    }
    check_conditions(call, &record)?;
    restore_object::check_readable(ctx, &bucket.name, &record.meta).await?;
    let request = key.map_or(SseRequest::None, SseRequest::Customer);
    encryption::check_customer_algorithm(record.meta.sse.as_ref(), &request)?;
    let lies = ctx.lies;
    let (keys, b, meta, format) = (
        ctx.keys.clone(),
        bucket.clone(),
        record.meta.clone(),
        record.body.format.clone(),
    );
    let decoder =
        blocking(move || encryption::decoder(&keys, &lies, &b, &meta, &format, &request)).await?;
    Ok(Source {
        at,
        bucket,
        record,
        stored,
        decoder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_forms() {
        let s =
            parse_source("ex-1250000000.cos.ap-beijing.myqcloud.com/dir/a%20b%2Bc.txt").unwrap();
        assert_eq!(
            s,
            SourceRef {
                bucket: "ex-1250000000".into(),
                key: "dir/a b+c.txt".into(),
                region: Some("ap-beijing".into()),
            }
        );
        let s =
            parse_source("https://ex-1250000000.cos.ap-guangzhou.tencentcos.cn/k?versionId=null")
                .unwrap();
        assert_eq!(
            (s.key.as_str(), s.region.as_deref()),
            ("k", Some("ap-guangzhou"))
        );
        let s = parse_source("/ex-1250000000/a/b").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.key.as_str(), s.region),
            ("ex-1250000000", "a/b", None)
        );
        let s = parse_source("ex-1250000000/%E4%B8%AD").unwrap();
        assert_eq!(s.key, "中");
        for bad in [
            "",
            "ex-1250000000",
            "/ex-1250000000/",
            "Bad_Bucket/k",
            "/x/k",
            "ex-1/%ff",
        ] {
            assert!(parse_source(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_source("ex-1250000000.cos.ap-beijing.myqcloud.com/k?versionId=abc")
                .unwrap_err()
                .code,
            ErrorCode::NotImplemented
        );
    }

    #[test]
    fn source_ranges() {
        assert_eq!(parse_range("bytes=0-9", 10).unwrap(), 0..10);
        assert_eq!(parse_range("bytes=5-5", 10).unwrap(), 5..6);
        for bad in [
            "bytes=0-10",
            "bytes=5-4",
            "bytes=-5",
            "bytes=1-",
            "0-1",
            "bytes=a-b",
        ] {
            assert!(parse_range(bad, 10).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_source_header_parses_or_refuses(s in "\\PC{0,80}") {
            let _ = parse_source(&s);
        }
    }
}
