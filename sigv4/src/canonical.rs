//! The canonical request, the string to sign, the signing key and the signature.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::encode::{canonical_query, canonical_uri, PathOptions};
use crate::{Error, ALGORITHM};

type HmacSha256 = Hmac<Sha256>;

/// A request as the signature sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The path exactly as it is on the wire, without the query.
    pub path: &'a str,
    /// The query, decoded, in any order (see [`crate::encode::parse_query`]).
    pub query: &'a [(String, String)],
    /// The request's headers (names in any case; a name may repeat).
    pub headers: &'a [(String, String)],
}

/// The credential scope: the day, region and service a signing key is valid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `YYYYMMDD`, the UTC day of the request's time stamp.
    pub date: String,
    /// The region, e.g. `us-east-1` or `ap-guangzhou`.
    pub region: String,
    /// The service, `s3` for object storage.
    pub service: String,
}

impl Scope {
    /// `date/region/service/aws4_request`, as it appears in the string to sign.
    pub fn render(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// An access key and the scope it is used in: `AKID/20150830/us-east-1/s3/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id (COS's SecretId).
    pub access_key: String,
    /// Where the signing key is valid.
    pub scope: Scope,
}

impl Credential {
    /// Parses `<access key>/<YYYYMMDD>/<region>/<service>/aws4_request`.
    pub fn parse(text: &str) -> Result<Credential, Error> {
        let parts: Vec<&str> = text.split('/').collect();
        let [access_key, date, region, service, terminator] = parts.as_slice() else {
            return Err(Error::MalformedCredential("it does not have five parts"));
        };
        if access_key.is_empty() || region.is_empty() || service.is_empty() {
            return Err(Error::MalformedCredential("a part is empty"));
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::MalformedCredential("the date is not YYYYMMDD"));
        }
        if *terminator != "aws4_request" {
            return Err(Error::MalformedCredential(
                "the scope does not end in aws4_request",
            ));
        }
        Ok(Credential {
            access_key: (*access_key).to_owned(),
            scope: Scope {
                date: (*date).to_owned(),
                region: (*region).to_owned(),
                service: (*service).to_owned(),
            },
        })
    }

    /// `<access key>/<scope>`.
    pub fn render(&self) -> String {
        format!("{}/{}", self.access_key, self.scope.render())
    }
}

/// A header value as it is signed: trimmed, every run of white space one space.
fn canonical_header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical headers block (each `name:value\n`) for `signed_headers`, in that order.
/// A name that occurs more than once has its values joined by commas, in request order.
fn canonical_headers(
    headers: &[(String, String)],
    signed_headers: &[String],
) -> Result<String, Error> {
    let mut out = String::new();
    for name in signed_headers {
        let values: Vec<String> = headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| canonical_header_value(value))
            .collect();
        if values.is_empty() {
            return Err(Error::MissingSignedHeader(name.clone()));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The names of `headers`, lower case, sorted, each once: the `SignedHeaders` list of a
/// signer that signs every header it is given.
pub fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Checks a `SignedHeaders` list: not empty, lower case, no name twice.
pub fn check_signed_headers(signed_headers: &[String]) -> Result<(), Error> {
    if signed_headers.is_empty() {
        return Err(Error::MalformedSignedHeaders("it is empty"));
    }
    for (i, name) in signed_headers.iter().enumerate() {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase() || b <= b' ') {
            return Err(Error::MalformedSignedHeaders(
                "a name is empty or not lower case",
            ));
        }
        if signed_headers[..i].contains(name) {
            return Err(Error::MalformedSignedHeaders("a name is listed twice"));
        }
    }
    Ok(())
}

/// The canonical request: method, URI, query, headers, signed header list and payload
/// hash, one per line.
pub fn canonical_request(
    request: &Request<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    path: PathOptions,
) -> Result<String, Error> {
    check_signed_headers(signed_headers)?;
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.path, path),
        canonical_query(request.query),
        canonical_headers(request.headers, signed_headers)?,
        signed_headers.join(";"),
        payload_hash
    ))
}

/// Hex SHA-256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The string to sign for a request made at `timestamp` (`YYYYMMDD'T'HHMMSS'Z'`).
pub fn string_to_sign(timestamp: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{}\n{}",
        scope.render(),
        hex_sha256(canonical_request.as_bytes())
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key: HMAC chained over the date, region, service and `aws4_request`,
/// starting from `AWS4` + the secret.
pub fn signing_key(secret: &str, scope: &Scope) -> [u8; 32] {
    let date_key = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let region_key = hmac(&date_key, scope.region.as_bytes());
    let service_key = hmac(&region_key, scope.service.as_bytes());
    hmac(&service_key, b"aws4_request")
}

/// The signature of `string_to_sign`, lower-case hex.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// Compares two signatures in time independent of where they differ.
pub fn signatures_equal(expected: &str, presented: &str) -> bool {
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_render_back() {
        let text = "AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request";
        let credential = Credential::parse(text).unwrap();
        assert_eq!(credential.scope.region, "us-east-1");
        assert_eq!(credential.render(), text);
        for bad in [
            "AKID/20150830/us-east-1/s3",
            "AKID/2015083/us-east-1/s3/aws4_request",
            "AKID/20150830/us-east-1/s3/aws5_request",
            "/20150830/us-east-1/s3/aws4_request",
            "A/K/20150830/us-east-1/s3/aws4_request",
        ] {
            assert!(Credential::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signed_headers_must_be_lower_case_and_distinct() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(check_signed_headers(&list(&["host", "x-amz-date"])).is_ok());
        assert!(check_signed_headers(&list(&[])).is_err());
        assert!(check_signed_headers(&list(&["Host"])).is_err());
        assert!(check_signed_headers(&list(&["host", "host"])).is_err());
    }

    #[test]
    fn signatures_compare_by_value() {
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "abcd"));
    }
}
