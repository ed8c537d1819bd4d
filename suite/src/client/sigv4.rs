//! AWS Signature Version 4 for the S3 dialect: the Authorization header, presigned query
//! strings and the POST policy signature. The suite's one contact with SigV4: the
//! algorithm is written here from the AWS documentation ("Signature Version 4 signing
//! process", "Authenticating requests: using query parameters", "Browser-based uploads
//! using POST") and checked against its published vectors (tests below); every caller
//! goes through [`sign_headers`], [`presign`] and [`post_signature`].
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//!                    SignedHeaders \n HashedPayload
//! StringToSign     = "AWS4-HMAC-SHA256" \n Timestamp \n Scope \n hex(SHA256(CanonicalRequest))
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
//! Signature        = hex(HMAC(SigningKey, StringToSign))
//! ```

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use super::Credentials;

/// The algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` of a presigned request (the payload is not signed).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The service name S3 signs with.
pub const SERVICE: &str = "s3";

/// SigV4's URI encoding: everything but `A-Za-z0-9-_.~` is escaped (and `/` in paths).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// URI-encodes a query name or value as SigV4 needs it.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// URI-encodes a decoded path, keeping `/` (S3 encodes once and never normalises).
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// Hex SHA-256 of a payload (the `x-amz-content-sha256` of a signed body).
pub fn payload_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// What is signed.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Decoded path (`/bucket/key` path-style, `/key` virtual-host).
    pub path: &'a str,
    /// Decoded query pairs (a bare name has an empty value).
    pub query: &'a [(String, String)],
    /// Headers to sign (every one given is signed; `host` must be among them).
    pub headers: &'a [(String, String)],
    /// `YYYYMMDDTHHMMSSZ`.
    pub timestamp: &'a str,
    /// Credential-scope region.
    pub region: &'a str,
}

/// Every intermediate value, so the tests compare each with the documentation's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// `a;b;c`.
    pub signed_headers: String,
    /// `AK/date/region/s3/aws4_request`.
    pub credential: String,
    /// Lower-case hex.
    pub signature: String,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The S3 signing key of a day and region.
pub fn signing_key(secret: &str, date: &str, region: &str) -> Vec<u8> {
    service_key(secret, date, region, SERVICE)
}

fn service_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

fn scope(timestamp: &str, region: &str) -> String {
    format!(
        "{}/{region}/{SERVICE}/aws4_request",
        &timestamp[..8.min(timestamp.len())]
    )
}

/// Signs a request whose payload hash is `payload` (hex SHA-256 or [`UNSIGNED_PAYLOAD`]).
pub fn sign(creds: &Credentials, input: &Input<'_>, payload: &str) -> Signed {
    let mut query: Vec<(String, String)> = input
        .query
        .iter()
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| {
            // Values trimmed, inner runs of spaces collapsed.
            let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
            (k.to_ascii_lowercase(), v)
        })
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated names join their values with commas.
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in headers {
        match merged.last_mut() {
            Some((lk, lv)) if *lk == k => {
                lv.push(',');
                lv.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = merged
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}",
        input.method,
        encode_path(input.path)
    );
    let scope = scope(input.timestamp, input.region);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        input.timestamp,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(&creds.secret_key, &input.timestamp[..8], input.region);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        credential: format!("{}/{scope}", creds.secret_id),
        signature,
    }
}

/// The `Authorization` header value of a header-signed request.
pub fn sign_headers(creds: &Credentials, input: &Input<'_>, payload: &str) -> String {
    let s = sign(creds, input, payload);
    format!(
        "{ALGORITHM} Credential={}, SignedHeaders={}, Signature={}",
        s.credential, s.signed_headers, s.signature
    )
}

/// The query pairs a presigned URL appends (decoded; `X-Amz-Signature` last), valid
/// `expires` seconds from `input.timestamp`. `input.query` holds the request's own pairs.
pub fn presign(creds: &Credentials, input: &Input<'_>, expires: u64) -> Vec<(String, String)> {
    let signed_names: Vec<String> = {
        let mut n: Vec<String> = input
            .headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        n.sort();
        n.dedup();
        n
    };
    let auth = vec![
        ("X-Amz-Algorithm".to_string(), ALGORITHM.to_string()),
        (
            "X-Amz-Credential".to_string(),
            format!(
                "{}/{}",
                creds.secret_id,
                scope(input.timestamp, input.region)
            ),
        ),
        ("X-Amz-Date".to_string(), input.timestamp.to_string()),
        ("X-Amz-Expires".to_string(), expires.to_string()),
        ("X-Amz-SignedHeaders".to_string(), signed_names.join(";")),
    ];
    let mut query = input.query.to_vec();
    query.extend(auth.iter().cloned());
    let s = sign(
        creds,
        &Input {
            query: &query,
            ..input.clone()
        },
        UNSIGNED_PAYLOAD,
    );
    let mut out = auth;
    out.push(("X-Amz-Signature".to_string(), s.signature));
    out
}

/// The POST policy signature: hex(HMAC(SigningKey, base64 policy)), and the
/// `x-amz-credential` value it goes with.
pub fn post_signature(
    creds: &Credentials,
    policy_base64: &str,
    timestamp: &str,
    region: &str,
) -> (String, String) {
    let key = signing_key(&creds.secret_key, &timestamp[..8], region);
    (
        format!("{}/{}", creds.secret_id, scope(timestamp, region)),
        hex::encode(hmac(&key, policy_base64.as_bytes())),
    )
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
pub fn timestamp(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_creds() -> Credentials {
        Credentials {
            secret_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        }
    }

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// The S3 API Reference's worked example "GET Object" (with Range), in "Signature
    /// Calculations for the Authorization Header: Transferring Payload in a Single Chunk".
    #[test]
    fn s3_documentation_get_object_example() {
        let headers = vec![
            (
                "Host".to_string(),
                "examplebucket.s3.amazonaws.com".to_string(),
            ),
            ("Range".to_string(), "bytes=0-9".to_string()),
            ("x-amz-content-sha256".to_string(), EMPTY.to_string()),
            ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
        ];
        let s = sign(
            &doc_creds(),
            &Input {
                method: "GET",
                path: "/test.txt",
                query: &[],
                headers: &headers,
                timestamp: "20130524T000000Z",
                region: "us-east-1",
            },
            EMPTY,
        );
        assert_eq!(
            s.canonical_request,
            format!("GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:{EMPTY}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n{EMPTY}")
        );
        assert_eq!(
            s.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The same page's "PUT Object" example (storage class header, body "Welcome to Amazon S3.").
    #[test]
    fn s3_documentation_put_object_example() {
        let body = b"Welcome to Amazon S3.";
        let hash = payload_hash(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = vec![
            (
                "Host".to_string(),
                "examplebucket.s3.amazonaws.com".to_string(),
            ),
            (
                "Date".to_string(),
                "Fri, 24 May 2013 00:00:00 GMT".to_string(),
            ),
            ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
            (
                "x-amz-storage-class".to_string(),
                "REDUCED_REDUNDANCY".to_string(),
            ),
            ("x-amz-content-sha256".to_string(), hash.clone()),
        ];
        let s = sign(
            &doc_creds(),
            &Input {
                method: "PUT",
                path: "/test$file.text",
                query: &[],
                headers: &headers,
                timestamp: "20130524T000000Z",
                region: "us-east-1",
            },
            &hash,
        );
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    /// The same page's "GET Bucket Lifecycle" and "Get Bucket (List Objects)" examples:
    /// a bare sub-resource and query parameters in the canonical query string.
    #[test]
    fn s3_documentation_query_examples() {
        let headers = |_: ()| {
            vec![
                (
                    "Host".to_string(),
                    "examplebucket.s3.amazonaws.com".to_string(),
                ),
                ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
                ("x-amz-content-sha256".to_string(), EMPTY.to_string()),
            ]
        };
        let run = |query: &[(String, String)]| {
            sign(
                &doc_creds(),
                &Input {
                    method: "GET",
                    path: "/",
                    query,
                    headers: &headers(()),
                    timestamp: "20130524T000000Z",
                    region: "us-east-1",
                },
                EMPTY,
            )
            .signature
        };
        assert_eq!(
            run(&[("lifecycle".into(), String::new())]),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
        assert_eq!(
            run(&[
                ("max-keys".into(), "2".into()),
                ("prefix".into(), "J".into())
            ]),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    /// "Authenticating Requests: Using Query Parameters": the presigned GET example.
    #[test]
    fn s3_documentation_presigned_example() {
        let headers = vec![(
            "host".to_string(),
            "examplebucket.s3.amazonaws.com".to_string(),
        )];
        let q = presign(
            &doc_creds(),
            &Input {
                method: "GET",
                path: "/test.txt",
                query: &[],
                headers: &headers,
                timestamp: "20130524T000000Z",
                region: "us-east-1",
            },
            86400,
        );
        assert_eq!(
            q.last().map(|(_, v)| v.as_str()),
            Some("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        );
        assert_eq!(q[4], ("X-Amz-SignedHeaders".into(), "host".into()));
    }

    /// The signing key of the SigV4 documentation ("Examples of how to derive a signing
    /// key", for the service `iam`).
    #[test]
    fn documentation_signing_key() {
        let k = service_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(k),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn timestamps_are_basic_iso8601() {
        assert_eq!(timestamp(1_369_353_600), "20130524T000000Z");
    }
}
