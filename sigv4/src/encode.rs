//! URI encoding and path canonicalisation as Signature V4 defines them: every byte but
//! the unreserved `A–Z a–z 0–9 - _ . ~` is written `%XY` in upper-case hex.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters.
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same, keeping `/` (path segments stay separated).
const ENCODE_SET_KEEP_SLASH: &AsciiSet = &ENCODE_SET.remove(b'/');

/// How the request path becomes the canonical URI.
///
/// S3 signs the path as the client meant it, encoded once and not normalised (a key may
/// contain `//` or `..`); the other AWS services normalise it and encode it twice. The
/// published test vectors use the latter, so both are here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathOptions {
    /// Remove `.` and `..` segments and collapse repeated slashes.
    pub normalize: bool,
    /// Encode the path as it is on the wire (its `%` escapes become `%25`), instead of
    /// decoding it first and encoding the result once.
    pub double_encode: bool,
}

impl PathOptions {
    /// What S3 signs: the decoded path, encoded once, not normalised.
    pub const S3: PathOptions = PathOptions {
        normalize: false,
        double_encode: false,
    };
    /// What every other AWS service signs (and the test suite assumes by default).
    pub const OTHER_SERVICES: PathOptions = PathOptions {
        normalize: true,
        double_encode: true,
    };
}

/// `UriEncode` of the Signature V4 documentation over arbitrary bytes.
pub fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let set = if keep_slash {
        ENCODE_SET_KEEP_SLASH
    } else {
        ENCODE_SET
    };
    // `utf8_percent_encode` needs a str; bytes that are not UTF-8 are encoded by hand.
    match std::str::from_utf8(bytes) {
        Ok(text) => utf8_percent_encode(text, set).to_string(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() * 3);
            for &b in bytes {
                if b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'_' | b'.' | b'~')
                    || (keep_slash && b == b'/')
                {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
    }
}

/// The canonical URI of a request whose path is `raw_path`, exactly as it is on the wire
/// (without the query).
pub fn canonical_uri(raw_path: &str, options: PathOptions) -> String {
    let path = if options.normalize {
        normalize_path(raw_path)
    } else {
        raw_path.to_owned()
    };
    let encoded = if options.double_encode {
        uri_encode(path.as_bytes(), true)
    } else {
        let decoded: Vec<u8> = percent_decode_str(&path).collect();
        uri_encode(&decoded, true)
    };
    if encoded.is_empty() {
        "/".to_owned()
    } else {
        encoded
    }
}

/// RFC 3986 dot-segment removal, with empty segments collapsed, keeping a trailing slash.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing_slash = path.len() > 1
        && (path.ends_with('/') || path.ends_with("/.") || path.ends_with("/.."))
        && !segments.is_empty();
    let mut out = String::with_capacity(path.len());
    out.push('/');
    out.push_str(&segments.join("/"));
    if trailing_slash {
        out.push('/');
    }
    out
}

/// Splits a raw query string (`a=1&b&c=%2F`) into decoded pairs, in order. A key without
/// `=` has the empty value.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The canonical query string: every pair but `X-Amz-Signature`, names and values
/// encoded, sorted by name and then value.
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .filter(|(key, _)| key != "X-Amz-Signature")
        .map(|(key, value)| {
            (
                uri_encode(key.as_bytes(), false),
                uri_encode(value.as_bytes(), false),
            )
        })
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_stay_and_everything_else_is_escaped_in_upper_case() {
        assert_eq!(uri_encode(b"aZ09-_.~", false), "aZ09-_.~");
        assert_eq!(uri_encode(b"a b/c+d*", false), "a%20b%2Fc%2Bd%2A");
        assert_eq!(uri_encode(b"a b/c", true), "a%20b/c");
        assert_eq!(uri_encode(&[0xff, b'/'], true), "%FF/");
    }

    #[test]
    fn s3_paths_are_decoded_then_encoded_once_and_never_normalised() {
        assert_eq!(
            canonical_uri("/bucket/a%20b", PathOptions::S3),
            "/bucket/a%20b"
        );
        assert_eq!(
            canonical_uri("/bucket/a b", PathOptions::S3),
            "/bucket/a%20b"
        );
        assert_eq!(canonical_uri("/b//../k", PathOptions::S3), "/b//../k");
        assert_eq!(canonical_uri("", PathOptions::S3), "/");
    }

    #[test]
    fn the_signature_is_never_part_of_the_canonical_query() {
        let pairs = parse_query("b=2&X-Amz-Signature=abc&a=1&a=0&flag");
        assert_eq!(canonical_query(&pairs), "a=0&a=1&b=2&flag=");
    }
}
