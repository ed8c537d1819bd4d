//! The protocol dialect of a request (COS or AWS S3), decided once from how the request is
//! signed and carried on the parsed request (`Request::dialect`), so that every later layer
//! (header names, error codes and documents, response echoes) answers in it.

use http::HeaderMap;

/// The protocol dialect a request speaks: COS (`x-cos-*` headers, COS error codes) or
/// AWS S3 (`x-amz-*` headers, S3 error codes), decided by how it is signed (DIALECT-BY-SIGNATURE).
///
/// - a COS v5 signature (`q-sign-algorithm` in the `Authorization` header or the query) → COS;
/// - an AWS Signature V4 (`Authorization: AWS4-HMAC-SHA256 …` or `X-Amz-Algorithm` in the
///   query) → S3;
/// - an anonymous request → COS, unless it carries `x-amz-content-sha256` or `x-amz-date`:
///   only AWS SDKs send those (botocore's unsigned requests keep them), and an S3 client
///   reads an S3 error document better than a COS one. The x-amz SSE headers do not count:
///   whether COS honours them on its own requests is the switchable rule AMZ-SSE-ON-COS.
///
/// Decided before the signature is verified, so that a refused signature is answered in
/// the dialect of the client that sent it; later layers read it from [`Request::dialect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// COS: `x-cos-*` headers, COS error codes, `x-cos-*` echoes.
    #[default]
    Cos,
    /// AWS S3: `x-amz-*` headers, S3 error codes and documents, `x-amz-*` echoes.
    S3,
}

/// The `Authorization` scheme of AWS Signature V4.
pub const SIGV4_ALGORITHM: &str = "AWS4-HMAC-SHA256";

impl Dialect {
    /// The dialect of a request with these headers and these query parameter names ([`Dialect`]'s rules).
    pub fn of(headers: &HeaderMap, query: &[&str]) -> Dialect {
        let sigv4_header = headers.get(http::header::AUTHORIZATION).is_some_and(|v| {
            v.as_bytes()
                .trim_ascii_start()
                .starts_with(SIGV4_ALGORITHM.as_bytes())
        });
        let cos_signed = headers
            .get(http::header::AUTHORIZATION)
            .is_some_and(|v| !v.is_empty())
            || query.contains(&"q-sign-algorithm");
        if sigv4_header || query.contains(&"X-Amz-Algorithm") {
            Dialect::S3
        } else if cos_signed {
            Dialect::Cos
        } else if headers.contains_key("x-amz-content-sha256") || headers.contains_key("x-amz-date")
        {
            Dialect::S3
        } else {
            Dialect::Cos
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_follows_the_signature() {
        let with = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (n, v) in pairs {
                h.insert(
                    http::HeaderName::try_from(*n).unwrap(),
                    http::HeaderValue::from_str(v).unwrap(),
                );
            }
            h
        };
        let none: [&str; 0] = [];
        let sigv4 = with(&[("authorization", "AWS4-HMAC-SHA256 Credential=a/b")]);
        assert_eq!(Dialect::of(&sigv4, &none[..]), Dialect::S3);
        let cos = with(&[
            ("authorization", "q-sign-algorithm=sha1&q-ak=a"),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        assert_eq!(Dialect::of(&cos, &none[..]), Dialect::Cos);
        let presigned = ["X-Amz-Algorithm"];
        assert_eq!(Dialect::of(&HeaderMap::new(), &presigned[..]), Dialect::S3);
        assert_eq!(Dialect::of(&HeaderMap::new(), &none[..]), Dialect::Cos);
        let anonymous_s3 = with(&[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]);
        assert_eq!(Dialect::of(&anonymous_s3, &none[..]), Dialect::S3);
        let anonymous_sse = with(&[("x-amz-server-side-encryption", "AES256")]);
        assert_eq!(Dialect::of(&anonymous_sse, &none[..]), Dialect::Cos);
    }
}
