//! Response-side breaks: what the proxy does to the emulator's answer before the suite
//! sees it (echo headers dropped or altered, statuses swapped, refusals turned into
//! success, body bytes flipped, shifted or truncated, integrity values wrong, secrets or
//! plaintext quoted in a refusal) and the echoes forged by the request-side downgrades.

use bytes::Bytes;

use super::{Break, Op};
use crate::client::{self, Response};

/// What the proxy knows about the exchange a response belongs to.
pub struct Seen<'a> {
    /// The operation.
    pub op: Op,
    /// The request as forwarded.
    pub request: &'a client::Request,
    /// SSE-KMS echo to forge (the CMK id asked for) on a downgraded upload or its reads.
    pub forged_kms_echo: Option<String>,
    /// SSE-COS echo to forge on an upload whose SSE headers were stripped.
    pub forged_cos_echo: Option<String>,
    /// The last body uploaded to this object's path, if any.
    pub stored_body: Option<Bytes>,
}

fn is_sse_echo(name: &str) -> bool {
    name.starts_with("x-cos-server-side-encryption")
}

fn set(resp: &mut Response, name: &str, value: &str) {
    resp.headers.retain(|(k, _)| k != name);
    resp.headers.push((name.to_string(), value.to_string()));
}

/// An ETag of the same shape, different value (`"abc…"` → `"bbc…"`).
fn wrong_etag(v: &str) -> String {
    let mut chars: Vec<char> = v.chars().collect();
    if let Some(c) = chars.iter_mut().find(|c| c.is_ascii_hexdigit()) {
        *c = if *c == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

fn wrong_crc(v: &str) -> String {
    v.parse::<u64>()
        .map(|n| (n ^ 1).to_string())
        .unwrap_or_else(|_| format!("{v}1"))
}

fn refusal(status: u16, code: &str, message: &str) -> (u16, Bytes) {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><Resource>/</Resource><RequestId>mutated</RequestId></Error>"
    );
    (status, Bytes::from(xml))
}

/// Adds `extra` to a refusal's `<Message>` (or appends it to a non-XML body).
fn quote_in_refusal(resp: &mut Response, extra: &str) {
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let changed = match body.find("</Message>") {
        Some(at) => format!("{} {extra}{}", &body[..at], &body[at..]),
        None => format!("{body}{extra}"),
    };
    resp.body = Bytes::from(changed);
}

/// Applies `brk` to `resp`.
pub fn mutate(brk: Break, seen: &Seen<'_>, resp: &mut Response) {
    let ok = resp.status / 100 == 2;
    let op = seen.op;
    if let Some(id) = &seen.forged_kms_echo {
        if ok {
            set(resp, "x-cos-server-side-encryption", "cos/kms");
            set(resp, "x-cos-server-side-encryption-cos-kms-key-id", id);
        }
    }
    if let (Some(v), true) = (&seen.forged_cos_echo, ok) {
        set(resp, "x-cos-server-side-encryption", v);
    }
    match brk {
        Break::DropEcho(target) if target == op && ok => {
            resp.headers.retain(|(k, _)| !is_sse_echo(k));
        }
        Break::AlterEcho(target) if target == op && ok => {
            for (k, v) in resp.headers.iter_mut() {
                if k == "x-cos-server-side-encryption" || k.ends_with("customer-algorithm") {
                    *v = if v == "AES256" { "SM4" } else { "AES256" }.to_string();
                } else if k.ends_with("kms-key-id") || k.ends_with("customer-key-md5") {
                    v.insert(0, 'X');
                }
            }
        }
        Break::Status400To403 if resp.status == 400 => resp.status = 403,
        Break::Status403To400 if resp.status == 403 => resp.status = 400,
        Break::RefusalTo200(status) if resp.status == status => {
            resp.status = 200;
            resp.body = Bytes::new();
            resp.headers
                .retain(|(k, _)| k != "content-length" && k != "content-type");
        }
        Break::NotFoundTo200 if resp.status == 404 => {
            resp.status = 200;
            resp.body = Bytes::new();
        }
        Break::BodyFlip(target) if target == op && ok && !resp.body.is_empty() => {
            let mut b = resp.body.to_vec();
            let at = b.len() / 2;
            b[at] ^= 0x01;
            resp.body = Bytes::from(b);
        }
        Break::BodyShift(target) if target == op && ok && resp.body.len() > 1 => {
            let mut b = resp.body.to_vec();
            b.rotate_left(1);
            resp.body = Bytes::from(b);
        }
        Break::BodyTruncate(target) if target == op && ok && !resp.body.is_empty() => {
            let n = resp.body.len() - 1;
            resp.body = resp.body.slice(..n);
        }
        Break::WrongEtag(target) if target == op && ok => {
            for (k, v) in resp.headers.iter_mut() {
                if k == "etag" {
                    *v = wrong_etag(v);
                }
            }
            // Complete, Copy, Upload Part - Copy and listings return it in the XML body.
            let body = String::from_utf8_lossy(&resp.body).into_owned();
            if let Some(start) = body.find("<ETag>") {
                let from = start + "<ETag>".len();
                let mut changed = body.clone();
                changed.replace_range(from.., &wrong_etag(&body[from..]));
                resp.body = Bytes::from(changed);
            }
        }
        Break::WrongCrc(target) if target == op && ok => {
            for (k, v) in resp.headers.iter_mut() {
                if k == "x-cos-hash-crc64ecma" {
                    *v = wrong_crc(v);
                }
            }
        }
        Break::QuoteKeyInRefusal if resp.status >= 400 => {
            let key = seen
                .request
                .headers
                .iter()
                .find(|(k, _)| k.ends_with("server-side-encryption-customer-key"))
                .map(|(_, v)| v.clone());
            if let Some(key) = key {
                quote_in_refusal(resp, &format!("(key {key})"));
            }
        }
        Break::QuotePlaintextInRefusal if resp.status >= 400 => {
            let plain = if seen.request.body.is_empty() {
                seen.stored_body.clone().unwrap_or_default()
            } else {
                seen.request.body.clone()
            };
            if plain.len() >= 16 {
                let n = plain.len().min(64);
                let quoted = String::from_utf8_lossy(&plain[..n]).into_owned();
                quote_in_refusal(resp, &quoted);
            }
        }
        Break::RefuseEverySseUpload if op.is_upload() && ok => {
            let asked = seen
                .request
                .headers
                .iter()
                .any(|(k, _)| k.starts_with("x-cos-server-side-encryption"));
            if asked {
                let (status, body) = refusal(
                    400,
                    "InvalidArgument",
                    "server-side encryption is not supported",
                );
                resp.status = status;
                resp.body = body;
                resp.headers.retain(|(k, _)| !is_sse_echo(k));
            }
        }
        _ => {}
    }
}
