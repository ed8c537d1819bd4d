//! Conditional GET/HEAD: `If-Match`, `If-Unmodified-Since` (412 when not met) and
//! `If-None-Match`, `If-Modified-Since` (304 when the client's copy is current), evaluated
//! in the order RFC 9110 §13.2.2 gives. Unparsable dates are ignored, as the RFC says.

use crate::error::{Error, ErrorCode};
use crate::request::Request;
use crate::store::ObjectMeta;

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == etag)
}

fn date(req: &Request, name: &str) -> Result<Option<i64>, Error> {
    Ok(req
        .header(name)?
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .map(|t| {
            let secs = t
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            i64::try_from(secs).unwrap_or(i64::MAX)
        }))
}

/// Checks the conditional headers against the object.
pub fn check(req: &Request, meta: &ObjectMeta) -> Result<(), Error> {
    let modified = meta.modified_ms / 1000;
    if let Some(list) = req.header("if-match")? {
        if !etag_matches(list, &meta.etag) {
            return Err(Error::new(
                ErrorCode::PreconditionFailed,
                "If-Match does not match the ETag",
            ));
        }
    } else if let Some(since) = date(req, "if-unmodified-since")? {
        if modified > since {
            return Err(Error::new(
                ErrorCode::PreconditionFailed,
                "the object was modified after If-Unmodified-Since",
            ));
        }
    }
    if let Some(list) = req.header("if-none-match")? {
        if etag_matches(list, &meta.etag) {
            return Err(Error::new(
                ErrorCode::NotModified,
                "If-None-Match matches the ETag",
            ));
        }
    } else if let Some(since) = date(req, "if-modified-since")? {
        if modified <= since {
            return Err(Error::new(
                ErrorCode::NotModified,
                "not modified since If-Modified-Since",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("\"x\", \"abc\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(etag_matches("W/\"abc\"", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}
