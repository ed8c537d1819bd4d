//! The exchange as text a person can replay: a `curl` command with secrets redacted (by
//! [`crate::redact`]), the response head and the first bytes of the body.

use super::{ClientConfig, Request, Response, Scheme};

use crate::redact::{self, FormField};

/// How many body bytes a dump shows.
pub const BODY_PREVIEW: usize = 512;

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `curl` command that sends the same request (secrets redacted, so it must be re-signed
/// to replay; the body is inlined when it is short text, else described).
pub fn curl(req: &Request, config: &ClientConfig) -> String {
    let mut note = String::new();
    let mut parts = vec!["curl -sS -i".to_string()];
    if req.method != "GET" {
        parts.push(format!("-X {}", req.method));
    }
    let fixed = match req.scheme {
        Scheme::Https => config.connect_https,
        Scheme::Http => config.connect_http,
    };
    if let Some(addr) = fixed {
        let host = req.authority.split(':').next().unwrap_or(&req.authority);
        let port = match req.scheme {
            Scheme::Https => 443,
            Scheme::Http => 80,
        };
        parts.push(format!(
            "--connect-to {host}:{port}:{}:{}",
            addr.ip(),
            addr.port()
        ));
    }
    if req.scheme == Scheme::Https {
        if config.insecure {
            parts.push("-k".into());
        } else if let Some(ca) = &config.ca_file {
            parts.push(format!(
                "--cacert {}",
                shell_quote(&ca.display().to_string())
            ));
        }
    }
    for (k, v) in &req.headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue; // curl computes it from the body
        }
        parts.push(format!(
            "-H {}",
            shell_quote(&format!("{k}: {}", redact::header_value(k, v)))
        ));
    }
    if let Some(fields) = redact::form_fields(req) {
        // A form upload is never inlined: its fields carry the policy, the signature and
        // SSE-C keys. `-F` rebuilds the form (curl sets the content type and boundary).
        parts.retain(|p| !p.to_ascii_lowercase().starts_with("-h 'content-type:"));
        for f in fields {
            match f {
                FormField::Text(name, value) => {
                    parts.push(format!("-F {}", shell_quote(&format!("{name}={value}"))))
                }
                FormField::File(name, len) => {
                    note.push_str(&format!(
                        "# the form's file ({len} bytes) goes in body.bin\n"
                    ));
                    parts.push(format!("-F {}", shell_quote(&format!("{name}=@body.bin"))));
                }
            }
        }
    } else if !req.body.is_empty() {
        match std::str::from_utf8(&req.body) {
            Ok(text) if req.body.len() <= 2048 && !text.contains('\0') => {
                parts.push(format!("--data-binary {}", shell_quote(text)));
            }
            _ => {
                note = format!(
                    "# the request body ({} bytes) goes in body.bin\n",
                    req.body.len()
                );
                parts.push("--data-binary @body.bin".into());
            }
        }
    }
    let url = format!(
        "{}://{}{}",
        req.scheme.as_str(),
        req.authority,
        redact::target(&req.target)
    );
    parts.push(shell_quote(&url));
    format!("{note}{}", parts.join(" \\\n  "))
}

/// The response head and the first [`BODY_PREVIEW`] bytes of its body.
pub fn response_head(resp: &Response) -> String {
    let mut out = format!("HTTP/1.1 {}\n", resp.status);
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {}\n", redact::header_value(k, v)));
    }
    out.push('\n');
    out.push_str(&preview(&resp.body));
    out
}

/// The first bytes of a body, as text with non-printable bytes escaped.
pub fn preview(body: &[u8]) -> String {
    let shown = &body[..body.len().min(BODY_PREVIEW)];
    let mut text: String = String::from_utf8_lossy(shown)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '.'
            } else {
                c
            }
        })
        .collect();
    if body.len() > BODY_PREVIEW {
        text.push_str(&format!("\n… ({} more bytes)", body.len() - BODY_PREVIEW));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    #[test]
    fn secrets_never_reach_the_dump() {
        let req = Request {
            method: "PUT".into(),
            scheme: Scheme::Https,
            authority: "b-1250000000.cos.ap-beijing.myqcloud.com".into(),
            target: "/k?q-ak=AKID&q-signature=abcd".into(),
            headers: vec![
                (
                    "authorization".into(),
                    "q-sign-algorithm=sha1&q-signature=ff".into(),
                ),
                (
                    "x-cos-server-side-encryption-customer-key".into(),
                    "c2VjcmV0".into(),
                ),
                (
                    "x-cos-server-side-encryption-customer-key-MD5".into(),
                    "md5".into(),
                ),
            ],
            body: Bytes::from_static(b"it's"),
        };
        let cfg = ClientConfig {
            ca_file: None,
            insecure: true,
            timeout: Duration::from_secs(1),
            connect_https: Some("127.0.0.1:9443".parse().unwrap()),
            connect_http: None,
        };
        let c = curl(&req, &cfg);
        assert!(
            !c.contains("c2VjcmV0") && !c.contains("q-signature=ff") && !c.contains("abcd"),
            "{c}"
        );
        assert!(
            c.contains("--connect-to b-1250000000.cos.ap-beijing.myqcloud.com:443:127.0.0.1:9443"),
            "{c}"
        );
        assert!(c.contains("key-MD5: <redacted>"), "{c}");
        assert!(c.contains(r"'it'\''s'"), "{c}");
    }
}
