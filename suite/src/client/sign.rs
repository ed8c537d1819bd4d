//! The COS v5 ("q-sign") request signature, written from PROTOCOL.md and checked against
//! the vectors the official Python SDK generated (`fixtures/vectors/signatures.json`).
//!
//! ```text
//! SignKey      = hex( HMAC-SHA1(SecretKey, KeyTime) )
//! HttpString   = lower(method) \n decoded-path \n HttpParameters \n HttpHeaders \n
//! StringToSign = "sha1" \n SignTime \n hex( SHA1(HttpString) ) \n
//! Signature    = hex( HMAC-SHA1(SignKey, StringToSign) )
//! ```

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::{Digest, Sha1};

/// Everything but `-_.~` and alphanumerics is escaped (Python's `quote(v, safe='-_.~')`).
const COS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Headers the official Python SDK signs besides every `x-cos-*` header.
const SIGNED_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-type",
    "content-md5",
    "content-length",
    "expect",
    "expires",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-unmodified-since",
    "origin",
    "range",
    "transfer-encoding",
];

/// A SecretId / SecretKey pair.
#[derive(Clone)]
pub struct Credentials {
    /// The SecretId (sent as `q-ak`).
    pub secret_id: String,
    /// The SecretKey (never sent, never printed).
    pub secret_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// What is signed.
#[derive(Debug, Clone)]
pub struct SignInput<'a> {
    /// HTTP method (any case).
    pub method: &'a str,
    /// `/` + the object key, not URL-encoded (`/` for bucket-level requests).
    pub path: &'a str,
    /// Query parameters, decoded.
    pub params: &'a [(String, String)],
    /// Request headers; only signable ones are used.
    pub headers: &'a [(String, String)],
    /// Start of the validity window (Unix seconds).
    pub start: i64,
    /// End of the validity window (Unix seconds).
    pub end: i64,
}

/// Every intermediate value, so tests can compare each one with the SDK's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The HttpString.
    pub http_string: String,
    /// The StringToSign.
    pub string_to_sign: String,
    /// hex(HMAC-SHA1(SecretKey, KeyTime)).
    pub sign_key: String,
    /// `q-header-list` value.
    pub header_list: String,
    /// `q-url-param-list` value.
    pub param_list: String,
    /// `q-signature` value.
    pub signature: String,
    /// The full `Authorization` header value (also the presigned query string).
    pub authorization: String,
}

/// Whether the SDK would sign a header of this (lower-case) name.
pub fn is_signed_header(lower: &str) -> bool {
    SIGNED_HEADERS.contains(&lower) || lower.starts_with("x-cos-")
}

/// URL-encodes as the signature needs it.
pub fn cos_encode(s: &str) -> String {
    utf8_percent_encode(s, COS_ENCODE).to_string()
}

fn hmac_sha1_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC-SHA1 takes keys of any length"),
    };
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// `name=value` pairs (encoded, names lower-cased) sorted by name, and the name list.
fn canonical(pairs: impl Iterator<Item = (String, String)>) -> (String, String) {
    let mut encoded: Vec<(String, String)> = pairs
        .map(|(k, v)| (cos_encode(&k).to_ascii_lowercase(), cos_encode(&v)))
        .collect();
    encoded.sort();
    let joined = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let names = encoded
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (joined, names)
}

/// Signs a request.
pub fn sign(creds: &Credentials, input: &SignInput<'_>) -> Signature {
    let key_time = format!("{};{}", input.start, input.end);
    let (params, param_list) = canonical(input.params.iter().cloned());
    let (headers, header_list) = canonical(
        input
            .headers
            .iter()
            .filter(|(k, _)| is_signed_header(&k.to_ascii_lowercase()))
            .cloned(),
    );
    let http_string = format!(
        "{}\n{}\n{}\n{}\n",
        input.method.to_ascii_lowercase(),
        input.path,
        params,
        headers
    );
    let string_to_sign = format!(
        "sha1\n{key_time}\n{}\n",
        hex::encode(Sha1::digest(http_string.as_bytes()))
    );
    let sign_key = hmac_sha1_hex(creds.secret_key.as_bytes(), key_time.as_bytes());
    let signature = hmac_sha1_hex(sign_key.as_bytes(), string_to_sign.as_bytes());
    let authorization = format!(
        "q-sign-algorithm=sha1&q-ak={}&q-sign-time={key_time}&q-key-time={key_time}&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}",
        creds.secret_id
    );
    Signature {
        http_string,
        string_to_sign,
        sign_key,
        header_list,
        param_list,
        signature,
        authorization,
    }
}

/// The POST Object form signature: `q-signature = hex(HMAC-SHA1(SignKey, sha1-hex(policy)))`
/// where `policy` is the JSON text before base64 (PROTOCOL.md, "POST Object").
pub fn sign_policy(
    creds: &Credentials,
    policy_json: &str,
    start: i64,
    end: i64,
) -> (String, String) {
    let key_time = format!("{start};{end}");
    let sign_key = hmac_sha1_hex(creds.secret_key.as_bytes(), key_time.as_bytes());
    let digest = hex::encode(Sha1::digest(policy_json.as_bytes()));
    (
        key_time,
        hmac_sha1_hex(sign_key.as_bytes(), digest.as_bytes()),
    )
}

/// Breaks a signature the way a forger would: the last hex digit changed (`auth: bad-signature`).
pub fn corrupt(authorization: &str) -> String {
    let mut s = authorization.to_string();
    if let Some(last) = s.pop() {
        s.push(if last == '0' { '1' } else { '0' });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PROTOCOL.md's worked example, produced by the official Python SDK 1.9.44.
    #[test]
    fn protocol_worked_example() {
        let creds = Credentials {
            secret_id: "AKIDexample".into(),
            secret_key: "secretexample".into(),
        };
        let params = vec![
            ("prefix".to_string(), "x/y".to_string()),
            ("uploads".to_string(), String::new()),
        ];
        let headers = vec![
            (
                "Host".to_string(),
                "examplebucket-1250000000.cos.ap-beijing.myqcloud.com".to_string(),
            ),
            ("Content-Type".to_string(), "text/plain".to_string()),
            ("Content-Length".to_string(), "0".to_string()),
            (
                "x-cos-server-side-encryption".to_string(),
                "AES256".to_string(),
            ),
        ];
        let sig = sign(
            &creds,
            &SignInput {
                method: "PUT",
                path: "/dir/a b+c.txt",
                params: &params,
                headers: &headers,
                start: 1_699_999_940,
                end: 1_700_003_600,
            },
        );
        assert_eq!(sig.http_string, "put\n/dir/a b+c.txt\nprefix=x%2Fy&uploads=\ncontent-length=0&content-type=text%2Fplain&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-server-side-encryption=AES256\n");
        assert_eq!(
            sig.string_to_sign,
            "sha1\n1699999940;1700003600\ne2ad717e95cb1134d85f99ecc679bbad0c175274\n"
        );
        assert_eq!(sig.sign_key, "3e8447a5392e9e761ddb3c7b9dbddcfdc8e50bd7");
        assert_eq!(
            sig.header_list,
            "content-length;content-type;host;x-cos-server-side-encryption"
        );
        assert_eq!(sig.param_list, "prefix;uploads");
        assert_eq!(sig.signature, "9fcc1eb8ae006cb6065bb6efce07003faa37dbdb");
    }

    #[test]
    fn corrupt_changes_exactly_the_last_digit() {
        assert_eq!(corrupt("q-signature=abc0"), "q-signature=abc1");
        assert_eq!(corrupt("q-signature=abc9"), "q-signature=abc0");
    }
}
