//! The one redaction of everything the suite writes: failure dumps,
//! `curl` commands, and through them the JSON, JUnit, Markdown and HTML reports and the
//! terminal. Two layers:
//!
//! - by position: the values of credential and key headers (`Authorization`, SSE-C keys
//!   and key MD5s, copy-source ones too, security tokens), of `q-ak` / `q-signature` in a
//!   query, and of the same names plus `policy` and `Signature` in a POST form. A form
//!   body is never inlined: it is written as `curl -F` fields with those values redacted.
//! - by value: [`Secrets`] holds every secret the run knows (each customer key in every
//!   form, the secret key, each signature and policy a case sent) and scrubs them from
//!   any text, so a server that quotes one back in an error message does not put it in a
//!   report either. Every case record passes through [`Secrets::scrub_result`].

use crate::client::Request;
use crate::keys::{key_forms, KeyRing};
use crate::outcome::CaseResult;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Query parameters and form fields whose values are credentials (PROTOCOL.md,
/// "Signature"; POST Object's form fields).
const SECRET_PARAMS: &[&str] = &[
    "q-ak",
    "q-signature",
    "x-cos-security-token",
    "policy",
    "signature",
    // SigV4 (the S3 dialect): a presigned URL's or a POST form's signature and credential
    // (the access key id, as q-ak is), and a session token.
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
];

/// Whether a header's (or form field's) value must not be written: credentials, SSE-C
/// keys and key MD5s (SSEC-NOT-STORED), copy-source ones included.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n.ends_with("-customer-key")
        || n.ends_with("-customer-key-md5")
        || SECRET_PARAMS.contains(&n.as_str())
}

/// A header's value as the suite may write it.
pub fn header_value(name: &str, value: &str) -> String {
    if is_secret_name(name) {
        REDACTED.into()
    } else {
        value.to_string()
    }
}

/// A request target with the values of credential parameters redacted.
pub fn target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_secret_name(&decode(k)) => format!("{k}={REDACTED}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", redacted.join("&"))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// One field of a `multipart/form-data` body: its name, and its value (text) or, for a
/// file, its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormField {
    /// A text field, value already redacted when it is a secret.
    Text(String, String),
    /// A file part of that many bytes.
    File(String, usize),
}

/// The fields of a `multipart/form-data` request body, secrets redacted, or `None` when
/// the request is not a form upload.
pub fn form_fields(req: &Request) -> Option<Vec<FormField>> {
    Some(
        parse_form(req)?
            .into_iter()
            .map(|f| match f {
                FormField::Text(name, value) => {
                    let shown = header_value(&name, &value);
                    FormField::Text(name, shown)
                }
                file => file,
            })
            .collect(),
    )
}

/// The text fields of a form upload as sent, values not redacted (for the runner's own
/// checks, never for output).
pub(crate) fn form_text_fields(req: &Request) -> Vec<(String, String)> {
    parse_form(req)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| match f {
            FormField::Text(k, v) => Some((k, v)),
            FormField::File(..) => None,
        })
        .collect()
}

/// The fields of a form upload as sent (values not redacted).
fn parse_form(req: &Request) -> Option<Vec<FormField>> {
    let ct = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))?
        .1
        .as_str();
    let boundary = ct
        .strip_prefix("multipart/form-data")?
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &req.body[..];
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes()).unwrap_or(content.len());
        let value = &content[..end];
        let name = head
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))
            .map(|n| n.trim_matches('"').to_string())
            .unwrap_or_default();
        if head.contains("filename=") {
            out.push(FormField::File(name, value.len()));
        } else {
            out.push(FormField::Text(
                name,
                String::from_utf8_lossy(value).into_owned(),
            ));
        }
        rest = &content[end..];
    }
    Some(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every secret value the run knows, scrubbed from any text the suite writes.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// (what it is, its value), longest first so a value's prefix is not left behind.
    values: Vec<(String, String)>,
}

/// Shorter values are not scrubbed by value: they would match ordinary text. Every key
/// form and signature is far longer.
const MIN_SCRUB: usize = 8;

impl Secrets {
    /// The customer keys of the ring in every text form, and the credentials' secret key.
    pub fn for_run(keys: &KeyRing, secret_key: &str) -> Self {
        let mut s = Self::default();
        for name in keys.names() {
            if let Some(key) = keys.get(name) {
                for (form, bytes) in key_forms(key) {
                    if let Ok(text) = String::from_utf8(bytes) {
                        s.add(format!("key {name} {form}"), text);
                    }
                }
            }
        }
        s.add("secret key", secret_key.to_string());
        s
    }

    /// Adds one secret value (ignored when shorter than 8 bytes).
    pub fn add(&mut self, what: impl Into<String>, value: String) {
        if value.len() < MIN_SCRUB || self.values.iter().any(|(_, v)| *v == value) {
            return;
        }
        let pos = self
            .values
            .iter()
            .position(|(_, v)| v.len() < value.len())
            .unwrap_or(self.values.len());
        self.values.insert(pos, (what.into(), value));
    }

    /// Adds the credentials a request carries: its Authorization, its query's and its
    /// form's signature, key id and policy, and its SSE-C header values.
    pub fn add_request(&mut self, req: &Request) {
        for (k, v) in &req.headers {
            if is_secret_name(k) {
                self.add(format!("{k} value"), v.clone());
                for (pk, pv) in params(v) {
                    if is_secret_name(&pk) {
                        self.add(pk, pv);
                    }
                }
            }
        }
        for (k, v) in params(req.query()) {
            if is_secret_name(&k) {
                self.add(k, v);
            }
        }
        for (k, v) in form_text_fields(req) {
            if is_secret_name(&k) {
                self.add(k, v);
            }
        }
    }

    /// `text` with every known secret replaced by `<redacted NAME>`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (what, value) in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("<redacted {what}>"));
            }
        }
        out
    }

    /// Scrubs every text of a case record (reason, warnings, failure dump).
    pub fn scrub_result(&self, r: &mut CaseResult) {
        if let Some(reason) = &mut r.reason {
            *reason = self.scrub(reason);
        }
        for w in &mut r.warnings {
            *w = self.scrub(w);
        }
        for x in &mut r.exchanges {
            x.request = self.scrub(&x.request);
            x.response = self.scrub(&x.response);
            if let Some(e) = &mut x.error {
                *e = self.scrub(e);
            }
            for (_, v) in &mut x.headers {
                *v = self.scrub(v);
            }
        }
        if let Some(f) = &mut r.failure {
            f.step_label = self.scrub(&f.step_label);
            f.curl = self.scrub(&f.curl);
            f.response = self.scrub(&f.response);
            for m in &mut f.mismatches {
                m.expected = self.scrub(&m.expected);
                m.got = self.scrub(&m.got);
            }
        }
    }
}

/// The `k=v&k=v` pairs of a query or an Authorization value, decoded.
fn params(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn form_request() -> Request {
        let body = "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nobj\r\n--b\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\neyJwb2xpY3kiOjF9\r\n--b\r\nContent-Disposition: form-data; name=\"q-signature\"\r\n\r\n0123456789abcdef\r\n--b\r\nContent-Disposition: form-data; name=\"x-cos-server-side-encryption-customer-key\"\r\n\r\nS0VZS0VZS0VZ\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\nDATA\r\n--b--\r\n";
        Request {
            method: "POST".into(),
            scheme: crate::client::Scheme::Http,
            authority: "h".into(),
            target: "/".into(),
            headers: vec![(
                "content-type".into(),
                "multipart/form-data; boundary=b".into(),
            )],
            body: Bytes::from(body),
        }
    }

    #[test]
    fn form_fields_are_listed_with_secrets_redacted() {
        let fields = form_fields(&form_request()).unwrap();
        assert_eq!(
            fields,
            vec![
                FormField::Text("key".into(), "obj".into()),
                FormField::Text("policy".into(), REDACTED.into()),
                FormField::Text("q-signature".into(), REDACTED.into()),
                FormField::Text(
                    "x-cos-server-side-encryption-customer-key".into(),
                    REDACTED.into()
                ),
                FormField::File("file".into(), 4),
            ]
        );
    }

    #[test]
    fn secrets_of_a_request_are_learnt_and_scrubbed() {
        let mut s = Secrets::default();
        let mut req = form_request();
        req.target = "/o?q-sign-algorithm=sha1&q-ak=AKIDexample&q-signature=feedfacecafe".into();
        req.headers.push((
            "authorization".into(),
            "q-sign-algorithm=sha1&q-ak=AKIDexample&q-signature=deadbeef00".into(),
        ));
        s.add_request(&req);
        let text = "msg eyJwb2xpY3kiOjF9 0123456789abcdef S0VZS0VZS0VZ feedfacecafe deadbeef00 AKIDexample";
        let out = s.scrub(text);
        for secret in [
            "eyJwb2xpY3kiOjF9",
            "0123456789abcdef",
            "S0VZS0VZS0VZ",
            "feedfacecafe",
            "deadbeef00",
            "AKIDexample",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert_eq!(
            target(&req.target),
            "/o?q-sign-algorithm=sha1&q-ak=<redacted>&q-signature=<redacted>"
        );
    }

    /// A SigV4 presigned URL is a bearer credential until it expires: its signature and
    /// credential (the access key id) are redacted like COS's q-signature and q-ak.
    #[test]
    fn sigv4_presigned_query_is_redacted() {
        let t = target("/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=60&X-Amz-Signature=abc123");
        assert_eq!(
            t,
            format!("/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={REDACTED}&X-Amz-Expires=60&X-Amz-Signature={REDACTED}")
        );
    }
}
