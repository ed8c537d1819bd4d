//! Single-range `Range: bytes=…` on GET (RANGE: an encrypted object's range is the same
//! plaintext bytes). A multi-range or unparsable header is ignored (the whole object is
//! sent), as RFC 9110 §14.2 allows; a range that starts past the end is `InvalidRange`.

use std::ops::Range;

use crate::error::{Error, ErrorCode};

/// Parses the header for an object of `size` bytes: `None` means "send everything".
pub fn parse(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, Error> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = || {
        Err(Error::new(
            ErrorCode::InvalidRange,
            format!("the range bytes={spec} is not satisfiable for an object of {size} bytes"),
        ))
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return unsatisfiable();
        }
        return Ok(Some(size.saturating_sub(n)..size));
    }
    let Ok(start) = a.parse::<u64>() else {
        return Ok(None);
    };
    let end = if b.is_empty() {
        size
    } else {
        match b.parse::<u64>() {
            Ok(last) if last >= start => last.saturating_add(1).min(size),
            _ => return Ok(None),
        }
    };
    if start >= size {
        return unsatisfiable();
    }
    Ok(Some(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse(Some("bytes=0-9"), 100).unwrap(), Some(0..10));
        assert_eq!(parse(Some("bytes=90-"), 100).unwrap(), Some(90..100));
        assert_eq!(parse(Some("bytes=-10"), 100).unwrap(), Some(90..100));
        assert_eq!(parse(Some("bytes=-1000"), 100).unwrap(), Some(0..100));
        assert_eq!(parse(Some("bytes=50-1000"), 100).unwrap(), Some(50..100));
        assert_eq!(parse(None, 100).unwrap(), None);
        assert_eq!(parse(Some("bytes=0-1,5-6"), 100).unwrap(), None);
        assert_eq!(parse(Some("bytes=5-1"), 100).unwrap(), None);
        assert_eq!(parse(Some("items=0-1"), 100).unwrap(), None);
        assert_eq!(
            parse(Some("bytes=100-"), 100).unwrap_err().code,
            ErrorCode::InvalidRange
        );
        assert_eq!(
            parse(Some("bytes=-0"), 100).unwrap_err().code,
            ErrorCode::InvalidRange
        );
        assert_eq!(
            parse(Some("bytes=0-"), 0).unwrap_err().code,
            ErrorCode::InvalidRange
        );
    }

    proptest::proptest! {
        #[test]
        fn ranges_stay_inside(h in "bytes=[0-9]{0,4}-[0-9]{0,4}", size in 0u64..5000) {
            if let Ok(Some(r)) = parse(Some(&h), size) {
                proptest::prop_assert!(r.start < r.end && r.end <= size);
            }
        }
    }
}
