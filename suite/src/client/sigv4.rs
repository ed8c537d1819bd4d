//! AWS Signature Version 4 for the S3 dialect: the Authorization header, presigned query
//! strings and the POST policy signature. The suite's one contact with SigV4, over the
//! workspace's `sigv4` crate (the same signer the gateway uses; the emulator verifies with
//! it): every caller goes through [`sign_headers`], [`presign`] and [`post_signature`], and
//! the tests below hold them to the S3 documentation's worked examples.
//!
//! ```text
//! CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//!                    SignedHeaders \n HashedPayload
//! StringToSign     = "AWS4-HMAC-SHA256" \n Timestamp \n Scope \n hex(SHA256(CanonicalRequest))
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
//! Signature        = hex(HMAC(SigningKey, StringToSign))
//! ```

use super::Credentials;

/// The algorithm name.
pub const ALGORITHM: &str = sigv4::ALGORITHM;
/// `x-amz-content-sha256` of a presigned request (the payload is not signed).
pub const UNSIGNED_PAYLOAD: &str = sigv4::payload::UNSIGNED_PAYLOAD;
/// The service name S3 signs with.
pub const SERVICE: &str = "s3";

/// URI-encodes a query name or value as SigV4 needs it.
pub fn encode(s: &str) -> String {
    sigv4::encode::uri_encode(s.as_bytes(), false)
}

/// URI-encodes a decoded path, keeping `/` (S3 encodes once and never normalises).
pub fn encode_path(path: &str) -> String {
    sigv4::encode::uri_encode(path.as_bytes(), true)
}

/// Hex SHA-256 of a payload (the `x-amz-content-sha256` of a signed body).
pub fn payload_hash(body: &[u8]) -> String {
    sigv4::canonical::hex_sha256(body)
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

fn signer(creds: &Credentials, region: &str) -> sigv4::Signer {
    sigv4::Signer::s3(&creds.secret_id, &creds.secret_key, region)
}

/// The headers a header-signed request adds (`x-amz-date`, `x-amz-content-sha256`,
/// `authorization`), every header of `input` signed. An input the crate refuses (a bad
/// time stamp, a header listed twice) is the harness's error, named.
pub fn sign_headers(
    creds: &Credentials,
    input: &Input<'_>,
    payload: &str,
) -> Result<Vec<(String, String)>, String> {
    let path = encode_path(input.path);
    let req = sigv4::Request {
        method: input.method,
        path: &path,
        query: input.query,
        headers: input.headers,
    };
    signer(creds, input.region)
        .sign(&req, payload, input.timestamp)
        .map(|out| out.additions)
        .map_err(|e| format!("SigV4 signing: {e}"))
}

/// The query pairs a presigned URL appends (decoded; `X-Amz-Signature` last), valid
/// `expires` seconds from `input.timestamp`. `input.query` holds the request's own pairs;
/// `input.headers` the headers to sign.
pub fn presign(
    creds: &Credentials,
    input: &Input<'_>,
    expires: u64,
) -> Result<Vec<(String, String)>, String> {
    let path = encode_path(input.path);
    let req = sigv4::Request {
        method: input.method,
        path: &path,
        query: input.query,
        headers: input.headers,
    };
    signer(creds, input.region)
        .presign(&req, input.timestamp, expires, UNSIGNED_PAYLOAD)
        .map(|out| out.additions)
        .map_err(|e| format!("SigV4 presigning: {e}"))
}

/// The POST policy signature: hex(HMAC(SigningKey, base64 policy)), and the
/// `x-amz-credential` value it goes with.
pub fn post_signature(
    creds: &Credentials,
    policy_base64: &str,
    timestamp: &str,
    region: &str,
) -> (String, String) {
    let scope = sigv4::Scope {
        date: timestamp.get(..8).unwrap_or_default().to_string(),
        region: region.to_string(),
        service: SERVICE.to_string(),
    };
    let key = sigv4::signing_key(&creds.secret_key, &scope);
    (
        format!("{}/{}", creds.secret_id, scope.render()),
        sigv4::signature(&key, policy_base64),
    )
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
pub fn timestamp(unix: i64) -> String {
    sigv4::time::format_timestamp(u64::try_from(unix).unwrap_or(0))
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

    fn signature_of(additions: &[(String, String)]) -> String {
        let auth = additions
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.clone())
            .expect("an authorization header");
        auth.rsplit("Signature=")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    fn host() -> (String, String) {
        (
            "host".to_string(),
            "examplebucket.s3.amazonaws.com".to_string(),
        )
    }

    /// The S3 API Reference's worked example "GET Object" (with Range), in "Signature
    /// Calculations for the Authorization Header: Transferring Payload in a Single Chunk".
    #[test]
    fn s3_documentation_get_object_example() {
        let headers = vec![host(), ("range".to_string(), "bytes=0-9".to_string())];
        let out = sign_headers(
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
        )
        .unwrap();
        assert_eq!(
            signature_of(&out),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert!(out.contains(&("x-amz-content-sha256".into(), EMPTY.into())));
        assert!(out.contains(&("x-amz-date".into(), "20130524T000000Z".into())));
    }

    /// The same page's "PUT Object" example (storage class header, body "Welcome to Amazon
    /// S3.", a `$` in the key).
    #[test]
    fn s3_documentation_put_object_example() {
        let hash = payload_hash(b"Welcome to Amazon S3.");
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = vec![
            host(),
            (
                "Date".to_string(),
                "Fri, 24 May 2013 00:00:00 GMT".to_string(),
            ),
            (
                "x-amz-storage-class".to_string(),
                "REDUCED_REDUNDANCY".to_string(),
            ),
        ];
        let out = sign_headers(
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
        )
        .unwrap();
        assert_eq!(
            signature_of(&out),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    /// The same page's "GET Bucket Lifecycle" and "Get Bucket (List Objects)" examples:
    /// a bare sub-resource and query parameters in the canonical query string.
    #[test]
    fn s3_documentation_query_examples() {
        let run = |query: &[(String, String)]| {
            let headers = vec![host()];
            signature_of(
                &sign_headers(
                    &doc_creds(),
                    &Input {
                        method: "GET",
                        path: "/",
                        query,
                        headers: &headers,
                        timestamp: "20130524T000000Z",
                        region: "us-east-1",
                    },
                    EMPTY,
                )
                .unwrap(),
            )
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
        let headers = vec![host()];
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
        )
        .unwrap();
        assert_eq!(
            q.last().map(|(_, v)| v.as_str()),
            Some("aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        );
        assert!(q.contains(&("X-Amz-SignedHeaders".into(), "host".into())));
    }

    /// The browser-upload (POST policy) signature is HMAC of the base64 policy under the
    /// day's signing key: the same key as the header form's, so a header signature and a
    /// policy signature agree on it.
    #[test]
    fn post_signature_uses_the_days_signing_key() {
        let (credential, sig) = post_signature(
            &doc_creds(),
            "eyJhIjoxfQ==",
            "20130524T000000Z",
            "us-east-1",
        );
        assert_eq!(
            credential,
            "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
        );
        let key = sigv4::signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &sigv4::Scope {
                date: "20130524".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
            },
        );
        assert_eq!(sig, sigv4::signature(&key, "eyJhIjoxfQ=="));
        assert_eq!(sig.len(), 64);
    }

    #[test]
    fn timestamps_are_basic_iso8601() {
        assert_eq!(timestamp(1_369_353_600), "20130524T000000Z");
    }
}
