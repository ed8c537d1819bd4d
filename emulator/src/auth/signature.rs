//! COS v5 request signatures ("q-sign", `PROTOCOL.md`), in the `Authorization` header or
//! as presigned query parameters. Pure functions: the caller supplies the request pieces and
//! the clock.
//!
//! ```text
//! SignKey      = hex(HMAC-SHA1(SecretKey, KeyTime))
//! HttpString   = lower(method) \n path \n HttpParameters \n HttpHeaders \n
//! StringToSign = "sha1" \n SignTime \n hex(SHA1(HttpString)) \n
//! Signature    = hex(HMAC-SHA1(SignKey, StringToSign))
//! ```

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::{Digest, Sha1};

use crate::error::{Error, ErrorCode};

type HmacSha1 = Hmac<Sha1>;

/// Characters COS leaves unescaped when it signs: alphanumerics and `-_.~`.
const SIGN_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes as the COS signers do.
pub fn cos_encode(s: &str) -> String {
    utf8_percent_encode(s, SIGN_SET).to_string()
}

/// The fields of a COS v5 signature, in the Authorization header or a presigned query.
pub const SIGNATURE_FIELDS: [&str; 7] = [
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
];

/// The fields of a COS v5 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFields {
    /// `q-ak`: the SecretId.
    pub secret_id: String,
    /// `q-sign-time` as sent (`t0;t1`).
    pub sign_time: String,
    /// `q-sign-time` parsed.
    pub window: (i64, i64),
    /// `q-key-time` as sent.
    pub key_time: String,
    /// `q-key-time` parsed: the validity of the SignKey derived from it.
    pub key_window: (i64, i64),
    /// `q-header-list`, split on `;`.
    pub header_list: Vec<String>,
    /// `q-url-param-list`, split on `;`.
    pub param_list: Vec<String>,
    /// `q-signature` (hex).
    pub signature: String,
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::new(ErrorCode::AuthorizationMalformed, detail.into())
}

fn parse_window(s: &str, field: &str) -> Result<(i64, i64), Error> {
    let (a, b) = s
        .split_once(';')
        .ok_or_else(|| malformed(format!("{field} {s:?} is not <start>;<end>")))?;
    let start = a
        .trim()
        .parse()
        .map_err(|_| malformed(format!("{field} start {a:?} is not a number")))?;
    let end = b
        .trim()
        .parse()
        .map_err(|_| malformed(format!("{field} end {b:?} is not a number")))?;
    if start > end {
        return Err(malformed(format!("{field} {s:?} ends before it starts")));
    }
    Ok((start, end))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

impl SignatureFields {
    /// Reads the fields from `name=value` pairs (the `Authorization` header split on `&`, or
    /// the decoded presigned query). Missing or repeated fields are malformed.
    pub fn from_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Self, Error> {
        let names = SIGNATURE_FIELDS;
        let mut values: [Option<&str>; 7] = [None; 7];
        for (name, value) in pairs {
            if let Some(i) = names.iter().position(|n| *n == name.trim()) {
                // The SecretId is compared as sent: `q-ak=<SecretId> ` names another
                // (unknown) SecretId, never the trimmed one.
                let value = if i == 1 { value } else { value.trim() };
                if values[i].replace(value).is_some() {
                    return Err(malformed(format!("{name} appears twice")));
                }
            }
        }
        let get = |i: usize| values[i].ok_or_else(|| malformed(format!("{} is missing", names[i])));
        let algorithm = get(0)?;
        if algorithm != "sha1" {
            return Err(malformed(format!(
                "q-sign-algorithm {algorithm:?} is not sha1"
            )));
        }
        let secret_id = get(1)?;
        if secret_id.is_empty() {
            return Err(malformed("q-ak is empty"));
        }
        let signature = get(6)?;
        if signature.len() != 40 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("q-signature is not 40 hex digits"));
        }
        let sign_time = get(2)?;
        let key_time = get(3)?;
        let key_window = parse_window(key_time, "q-key-time")?;
        Ok(SignatureFields {
            secret_id: secret_id.into(),
            sign_time: sign_time.into(),
            window: parse_window(sign_time, "q-sign-time")?,
            key_time: key_time.into(),
            key_window,
            header_list: split_list(get(4)?),
            param_list: split_list(get(5)?),
            signature: signature.to_ascii_lowercase(),
        })
    }

    /// Parses an `Authorization` header value.
    pub fn from_header(value: &str) -> Result<Self, Error> {
        Self::from_pairs(
            value
                .split('&')
                .map(|p| p.split_once('=').unwrap_or((p, ""))),
        )
    }
}

/// The request as the signature covers it: lower-case method, decoded path, and every
/// parameter and header the lists name, with the values as sent (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<'a> {
    /// Method, any case.
    pub method: &'a str,
    /// `/` + the object key, not encoded.
    pub path: &'a str,
    /// (list name, value) for each parameter in `q-url-param-list`.
    pub params: Vec<(String, String)>,
    /// (list name, value) for each header in `q-header-list`.
    pub headers: Vec<(String, String)>,
}

fn join(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| (cos_encode(n).to_ascii_lowercase(), cos_encode(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `HttpString`.
pub fn http_string(s: &Signed<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n",
        s.method.to_ascii_lowercase(),
        s.path,
        join(&s.params),
        join(&s.headers)
    )
}

/// `StringToSign` for a sign time and an `HttpString`.
pub fn string_to_sign(sign_time: &str, http_string: &str) -> String {
    format!(
        "sha1\n{sign_time}\n{}\n",
        hex::encode(Sha1::digest(http_string))
    )
}

fn hmac_hex(key: &[u8], msg: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha1::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `SignKey` for a SecretKey and a key time.
pub fn sign_key(secret_key: &str, key_time: &str) -> String {
    hmac_hex(secret_key.as_bytes(), key_time)
}

/// The signature over `signed` with these fields' times.
pub fn signature(secret_key: &str, fields: &SignatureFields, signed: &Signed<'_>) -> String {
    let key = sign_key(secret_key, &fields.key_time);
    hmac_hex(
        key.as_bytes(),
        &string_to_sign(&fields.sign_time, &http_string(signed)),
    )
}

/// How far `q-sign-time` may start ahead of the server's clock, in seconds: a client whose
/// clock runs up to 15 minutes fast is tolerated (the skew S3 also tolerates); beyond that
/// the request is refused with 403 `RequestTimeTooSkewed` (ERROR-CODES.md row 13d).
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Checks the time window (AUTH-SIGNED: an expired signature never reads anything).
pub fn check_window(fields: &SignatureFields, now: i64) -> Result<(), Error> {
    check_span("q-sign-time", fields.window, now)
}

/// Checks `q-key-time` (AUTH-SIGNED). COS derives the SignKey from the key time and
/// documents it as the key's validity ("q-key-time: the validity of the SignKey", the SDKs
/// set it equal to `q-sign-time`), so a key whose window does not cover `now` signs
/// nothing: the same refusals as for `q-sign-time`. We enforce only that it covers `now`
/// (with the same clock-skew tolerance), not that it contains the sign-time window: COS
/// states no such rule and every SDK sends equal windows.
pub fn check_key_time(fields: &SignatureFields, now: i64) -> Result<(), Error> {
    check_span("q-key-time", fields.key_window, now)
}

/// One time window of a signature against the server's clock: past its end the request
/// has expired (`AccessDenied`, "Request has expired", row 13c); starting more than
/// [`MAX_CLOCK_SKEW_SECS`] ahead the client's clock is too far ahead
/// (`RequestTimeTooSkewed`, ERROR-CODES.md row 13d, S6: "当本机时间不准…COS 会返回
/// RequestTimeTooSkewed").
fn check_span(field: &str, (start, end): (i64, i64), now: i64) -> Result<(), Error> {
    if now > end {
        return Err(Error::new(
            ErrorCode::RequestExpired,
            format!("Request has expired: {field} ends at {end}, now is {now}"),
        ));
    }
    if start.saturating_sub(now) > MAX_CLOCK_SKEW_SECS {
        return Err(Error::new(
            ErrorCode::RequestTimeTooSkewed,
            format!(
                "The difference between the request time and the server's time is too large: {field} starts at {start}, now is {now} (tolerated: {MAX_CLOCK_SKEW_SECS} s)"
            ),
        ));
    }
    Ok(())
}

/// Constant-time comparison of two hex signatures.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of PROTOCOL.md, produced by the official Python SDK 1.9.44.
    fn protocol_example() -> (SignatureFields, Signed<'static>) {
        let auth = "q-sign-algorithm=sha1&q-ak=AKIDexample&q-sign-time=1699999940;1700003600&q-key-time=1699999940;1700003600&q-header-list=content-length;content-type;host;x-cos-server-side-encryption&q-url-param-list=prefix;uploads&q-signature=9fcc1eb8ae006cb6065bb6efce07003faa37dbdb";
        let fields = SignatureFields::from_header(auth).unwrap();
        let signed = Signed {
            method: "PUT",
            path: "/dir/a b+c.txt",
            params: vec![
                ("prefix".into(), "x/y".into()),
                ("uploads".into(), "".into()),
            ],
            headers: vec![
                ("content-length".into(), "0".into()),
                ("content-type".into(), "text/plain".into()),
                (
                    "host".into(),
                    "examplebucket-1250000000.cos.ap-beijing.myqcloud.com".into(),
                ),
                ("x-cos-server-side-encryption".into(), "AES256".into()),
            ],
        };
        (fields, signed)
    }

    #[test]
    fn protocol_worked_example() {
        let (fields, signed) = protocol_example();
        let hs = http_string(&signed);
        assert_eq!(hs, "put\n/dir/a b+c.txt\nprefix=x%2Fy&uploads=\ncontent-length=0&content-type=text%2Fplain&host=examplebucket-1250000000.cos.ap-beijing.myqcloud.com&x-cos-server-side-encryption=AES256\n");
        assert_eq!(
            string_to_sign(&fields.sign_time, &hs),
            "sha1\n1699999940;1700003600\ne2ad717e95cb1134d85f99ecc679bbad0c175274\n"
        );
        assert_eq!(
            sign_key("secretexample", &fields.key_time),
            "3e8447a5392e9e761ddb3c7b9dbddcfdc8e50bd7"
        );
        assert_eq!(
            signature("secretexample", &fields, &signed),
            fields.signature
        );
        assert_eq!(fields.header_list.len(), 4);
        assert_eq!(fields.param_list, ["prefix", "uploads"]);
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let (fields, signed) = protocol_example();
        let mut s = signed.clone();
        s.path = "/dir/a b+c.txT";
        assert_ne!(signature("secretexample", &fields, &s), fields.signature);
        let mut s = signed.clone();
        s.headers[1].1 = "text/html".into();
        assert_ne!(signature("secretexample", &fields, &s), fields.signature);
        assert_ne!(
            signature("secretexamplf", &fields, &signed),
            fields.signature
        );
    }

    #[test]
    fn window_is_checked() {
        let (fields, _) = protocol_example();
        assert!(check_window(&fields, 1_700_000_000).is_ok());
        assert_eq!(
            check_window(&fields, 1_700_003_601).unwrap_err().code,
            ErrorCode::RequestExpired
        );
        // Up to MAX_CLOCK_SKEW_SECS early is tolerated, beyond is RequestTimeTooSkewed.
        assert!(check_window(&fields, 1_699_999_939).is_ok());
        assert!(check_window(&fields, 1_699_999_940 - MAX_CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            check_window(&fields, 1_699_999_939 - MAX_CLOCK_SKEW_SECS)
                .unwrap_err()
                .code,
            ErrorCode::RequestTimeTooSkewed
        );
    }

    #[test]
    fn key_time_is_checked() {
        let (mut fields, _) = protocol_example();
        fields.key_window = (1_699_999_940, 1_699_999_950);
        assert!(check_window(&fields, 1_700_000_000).is_ok());
        assert_eq!(
            check_key_time(&fields, 1_700_000_000).unwrap_err().code,
            ErrorCode::RequestExpired
        );
        assert!(check_key_time(&fields, 1_699_999_945).is_ok());
        // Starting ahead within the tolerated skew is accepted; beyond it, too skewed.
        assert!(check_key_time(&fields, 1_699_999_939).is_ok());
        assert_eq!(
            check_key_time(&fields, 1_699_999_940 - MAX_CLOCK_SKEW_SECS - 1)
                .unwrap_err()
                .code,
            ErrorCode::RequestTimeTooSkewed
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "garbage",
            "q-sign-algorithm=md5&q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
            "q-sign-algorithm=sha1&q-ak=a&q-sign-time=x;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
            "q-sign-algorithm=sha1&q-ak=a&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=00",
            "q-sign-algorithm=sha1&q-ak=a&q-sign-time=3;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
            "q-sign-algorithm=sha1&q-ak=a&q-ak=b&q-sign-time=1;2&q-key-time=1;2&q-header-list=&q-url-param-list=&q-signature=0000000000000000000000000000000000000000",
        ] {
            assert_eq!(
                SignatureFields::from_header(bad).unwrap_err().code,
                ErrorCode::AuthorizationMalformed,
                "{bad}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in ".{0,300}") {
            let _ = SignatureFields::from_header(&s);
        }
    }
}
