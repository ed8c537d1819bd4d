//! The body headers of an upload that carries its data (PUT Object, Upload Part): the
//! declared length (Content-Length, or a chunked body) under the operation's size bound,
//! and Content-MD5, which the body received must match.

use base64::Engine;

use crate::error::{Error, ErrorCode};
use crate::request::Request;

/// The declared body length: `Content-Length`, or `None` for a chunked body. Neither is
/// `MissingContentLength` ("`operation` needs Content-Length"); a length over `max` is
/// `EntityTooLarge` ("`what` may carry at most `max` bytes").
pub fn declared_length(
    req: &Request,
    operation: &str,
    what: &str,
    max: u64,
) -> Result<Option<u64>, Error> {
    let length = req.content_length()?;
    let chunked = req
        .header("transfer-encoding")?
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if length.is_none() && !chunked {
        return Err(Error::new(
            ErrorCode::MissingContentLength,
            format!("{operation} needs Content-Length"),
        ));
    }
    if length.is_some_and(|n| n > max) {
        return Err(Error::new(
            ErrorCode::EntityTooLarge,
            format!("{what} may carry at most {max} bytes"),
        ));
    }
    Ok(length)
}

/// Reads `Content-MD5`: base64 of 16 bytes, else `InvalidDigest`.
pub fn content_md5(req: &Request) -> Result<Option<[u8; 16]>, Error> {
    let Some(v) = req.header("content-md5")? else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(v.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(Some)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidDigest,
                format!("Content-MD5 {v:?} is not base64 of 16 bytes"),
            )
        })
}

/// Checks the MD5 of the data received (`what`: "body", "part") against `Content-MD5`, if
/// one was sent: a mismatch is `BadDigest`, and the caller commits nothing.
pub fn check_md5(expected: Option<[u8; 16]>, received: [u8; 16], what: &str) -> Result<(), Error> {
    if expected.is_some_and(|m| m != received) {
        return Err(Error::new(
            ErrorCode::BadDigest,
            format!("Content-MD5 does not match the MD5 of the {what} received"),
        ));
    }
    Ok(())
}
