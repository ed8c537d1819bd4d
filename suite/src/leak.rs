//! Leak scanning of every response a case gets: no customer key the case
//! used, in any form, and no 16-byte run of any plaintext it uploaded may appear in a
//! status line, a header or a body, except where the protocol puts it (a successful read
//! of that very object; the key-MD5 echo of SSEC-ECHO).
//!
//! Rules: SSEC-NOT-STORED (a key must never come back), SSEC-WRONG-KEY and
//! SSEC-GET-NEEDS-KEY (a refusal must not carry the object), AT-REST.
//!
//! Cost is linear in the response: the index holds one 8-byte window of the plaintexts
//! every [`STRIDE`] bytes, and the response is scanned with a rolling 8-byte window (the
//! window's own 64 bits are the rolling hash, so a hash hit is an exact window match: the
//! Rabin–Karp scheme without false positives). Every 16-byte run of a plaintext contains
//! one indexed window (8 + 9 − 1 = 16), so a leaked run of [`MIN_LEAK`] bytes at any offset
//! is found; a hit is confirmed by extending the match both ways to 16 bytes. Indexing
//! every 9th window instead of every one keeps the index at a ninth of the plaintext's
//! size (a 10 MiB multipart case indexes 1.2 M windows).

use std::collections::HashMap;

use bytes::Bytes;

use crate::client::{Request, Response};
use crate::keys::{key_forms, CustomerKey, MD5_BASE64};

/// The shortest run of plaintext that counts as a leak.
pub const MIN_LEAK: usize = 16;
/// Length of an indexed window: its 64 bits are its hash.
const WINDOW: usize = 8;
/// Indexed windows start every `STRIDE` bytes: `WINDOW + STRIDE - 1 == MIN_LEAK`.
const STRIDE: usize = MIN_LEAK - WINDOW + 1;
/// Occurrences kept per window value beyond the first: only highly repetitive bodies
/// (`{repeat: "abc"}`) have more, and their contexts repeat too.
const MAX_DUPLICATES: usize = 16;

/// Response headers that echo the request's key MD5 (SSEC-ECHO): the MD5 is allowed there
/// when it is the very value the request sent.
const MD5_ECHO_HEADERS: &[&str] = &[
    "x-cos-server-side-encryption-customer-key-md5",
    "x-cos-copy-source-server-side-encryption-customer-key-md5",
];

/// Whether the request itself carried this key MD5 (SSEC-ECHO): in a key-MD5 header or
/// form field, or as the MD5 of the key it sent (a server may compute the echo itself when
/// the MD5 was left out, SSEC-MD5-OLD `accepted`).
fn sent_md5(request: &Request, md5: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use base64::Engine;
    use md5::{Digest, Md5};
    let mut fields: Vec<(String, String)> = request.headers.clone();
    fields.extend(crate::redact::form_text_fields(request));
    fields.iter().any(|(k, v)| {
        let k = k.to_ascii_lowercase();
        let v = v.trim();
        if k.ends_with("-customer-key-md5") {
            return v == md5;
        }
        k.ends_with("-customer-key")
            && STANDARD_NO_PAD
                .decode(v.trim_end_matches('='))
                .is_ok_and(|raw| STANDARD.encode(Md5::digest(&raw)) == md5)
    })
}

/// A hit inside one text: what leaked, where it starts, and for a plaintext the first
/// and last byte of the confirmed 16-byte run.
type Hit = (String, usize, Option<(usize, usize)>);

#[derive(Debug, Clone, Copy)]
enum Entry {
    Plain { idx: u32, off: u32 },
    Secret { idx: u32 },
}

#[derive(Debug, Clone)]
struct Plain {
    label: String,
    bytes: Bytes,
}

#[derive(Debug, Clone)]
struct Secret {
    key: String,
    form: &'static str,
    bytes: Vec<u8>,
}

/// One leak found in a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// What leaked, redacted: `customer key py_1 (base64)`, `plaintext of step 0`.
    pub what: String,
    /// Where: `header x-cos-meta-a`, `body at byte 57 (plaintext bytes 4096-4111)`.
    pub place: String,
}

/// The plaintexts and keys of one case, indexed for scanning.
#[derive(Debug)]
pub struct LeakIndex {
    plains: Vec<Plain>,
    secrets: Vec<Secret>,
    first: HashMap<u64, Entry, WindowHash>,
    more: HashMap<u64, Vec<Entry>, WindowHash>,
    /// One bit per window-hash bucket: most response windows are ruled out by one bit
    /// test, without a map lookup.
    filter: Vec<u64>,
}

impl Default for LeakIndex {
    fn default() -> Self {
        Self {
            plains: Vec::new(),
            secrets: Vec::new(),
            first: HashMap::default(),
            more: HashMap::default(),
            filter: vec![0; FILTER_BITS / 64],
        }
    }
}

/// Bits of the pre-filter (128 KiB).
const FILTER_BITS: usize = 1 << 20;

/// Mixes a window's 64 bits (Fibonacci hashing): the windows are already exact keys, a
/// cryptographic hash would only cost time on every byte of every response.
fn mix(w: u64) -> u64 {
    w.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

fn filter_bit(w: u64) -> usize {
    (mix(w) >> (64 - 20)) as usize
}

/// The map hasher for window keys ([`mix`]).
#[derive(Debug, Clone, Copy, Default)]
struct WindowHash;

impl std::hash::BuildHasher for WindowHash {
    type Hasher = WindowHasher;
    fn build_hasher(&self) -> WindowHasher {
        WindowHasher(0)
    }
}

#[derive(Debug, Clone, Copy)]
struct WindowHasher(u64);

impl std::hash::Hasher for WindowHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0 ^ u64::from(*b));
        }
    }
    fn write_u64(&mut self, w: u64) {
        self.0 = mix(w);
    }
}

fn window_at(hay: &[u8], p: usize) -> u64 {
    let mut w = [0u8; WINDOW];
    w.copy_from_slice(&hay[p..p + WINDOW]);
    u64::from_le_bytes(w)
}

impl LeakIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, h: u64, e: Entry) {
        let bit = filter_bit(h);
        self.filter[bit / 64] |= 1 << (bit % 64);
        match self.first.entry(h) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(e);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                let list = self.more.entry(h).or_default();
                if list.len() < MAX_DUPLICATES {
                    list.push(e);
                }
            }
        }
    }

    /// Adds a plaintext the case sent (`label` names it: `step 2's body`). A body already
    /// indexed is not indexed twice.
    pub fn add_plaintext(&mut self, label: impl Into<String>, bytes: &Bytes) {
        if bytes.is_empty() || self.plains.iter().any(|p| p.bytes == *bytes) {
            return;
        }
        let idx = self.plains.len() as u32;
        let mut off = 0;
        while off + WINDOW <= bytes.len() {
            self.insert(
                window_at(bytes, off),
                Entry::Plain {
                    idx,
                    off: off as u32,
                },
            );
            off += STRIDE;
        }
        self.plains.push(Plain {
            label: label.into(),
            bytes: bytes.clone(),
        });
    }

    /// Adds every form of a customer key the case used (once per key name).
    pub fn add_key(&mut self, name: &str, key: &CustomerKey) {
        if self.secrets.iter().any(|s| s.key == name) {
            return;
        }
        for (form, bytes) in key_forms(key) {
            if bytes.len() < WINDOW {
                continue; // no key form is this short; an empty key has nothing to leak
            }
            let idx = self.secrets.len() as u32;
            self.insert(window_at(&bytes, 0), Entry::Secret { idx });
            self.secrets.push(Secret {
                key: name.to_string(),
                form,
                bytes,
            });
        }
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.plains.is_empty() && self.secrets.is_empty()
    }

    /// Every leak in `hay`: at most one per secret form and per plaintext, each with the
    /// byte offset where it starts. `skip_md5` allows the key MD5 (an echo header).
    fn scan(&self, hay: &[u8], skip_md5: bool) -> Vec<Hit> {
        let mut found: Vec<Hit> = Vec::new();
        if hay.len() < WINDOW {
            return found;
        }
        let mut h = window_at(hay, 0);
        let mut p = 0;
        loop {
            let bit = filter_bit(h);
            let maybe = self.filter[bit / 64] & (1 << (bit % 64)) != 0;
            if let Some(e) = self.first.get(&h).filter(|_| maybe) {
                let extra = self.more.get(&h).map(Vec::as_slice).unwrap_or_default();
                for e in std::iter::once(e).chain(extra) {
                    if let Some(hit) = self.confirm(*e, hay, p, skip_md5) {
                        // One hit per secret form and plaintext; an unpadded base64 form
                        // is the prefix of the padded one: one key, one place, one hit.
                        let same_key_here = |(w, at, _): &(String, usize, _)| {
                            *at == hit.1 && w.split(" (").next() == hit.0.split(" (").next()
                        };
                        let seen = found.iter().any(|(w, ..)| *w == hit.0)
                            || (hit.2.is_none() && found.iter().any(same_key_here));
                        if !seen {
                            found.push(hit);
                        }
                    }
                }
            }
            if p + WINDOW >= hay.len() {
                break;
            }
            h = (h >> 8) | (u64::from(hay[p + WINDOW]) << 56);
            p += 1;
        }
        found
    }

    fn confirm(&self, e: Entry, hay: &[u8], p: usize, skip_md5: bool) -> Option<Hit> {
        match e {
            Entry::Secret { idx } => {
                let s = &self.secrets[idx as usize];
                if skip_md5 && s.form.starts_with(MD5_BASE64) {
                    return None;
                }
                let end = p.checked_add(s.bytes.len())?;
                (hay.get(p..end)? == s.bytes.as_slice())
                    .then(|| (format!("customer key `{}` ({})", s.key, s.form), p, None))
            }
            Entry::Plain { idx, off } => {
                let plain = &self.plains[idx as usize].bytes;
                let off = off as usize;
                let reach = MIN_LEAK - WINDOW;
                let left = (1..=reach.min(p).min(off))
                    .take_while(|k| hay[p - k] == plain[off - k])
                    .count();
                let right = (0..reach)
                    .take_while(|k| {
                        let (a, b) = (p + WINDOW + k, off + WINDOW + k);
                        a < hay.len() && b < plain.len() && hay[a] == plain[b]
                    })
                    .count();
                (left + WINDOW + right >= MIN_LEAK).then(|| {
                    let start = off - left;
                    (
                        format!("plaintext of {}", self.plains[idx as usize].label),
                        p - left,
                        Some((start, start + MIN_LEAK - 1)),
                    )
                })
            }
        }
    }

    /// Every leak in a response to `request`. `body_allowed`: the body is a successful
    /// read whose bytes the caller has checked (it is not scanned for plaintext, but still
    /// for keys).
    pub fn scan_response(
        &self,
        request: &Request,
        resp: &Response,
        body_allowed: bool,
    ) -> Vec<Leak> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        for (name, value) in &resp.headers {
            let echo = MD5_ECHO_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
                && sent_md5(request, value.trim());
            let line = format!("{name}: {value}");
            for (what, _, _) in self.scan(line.as_bytes(), echo) {
                out.push(Leak {
                    what,
                    place: format!("header {name}"),
                });
            }
        }
        // An allowed body is exactly the bytes the caller expected: nothing else is in it.
        let body: &[u8] = if body_allowed { &[] } else { &resp.body };
        for (what, at, plain) in self.scan(body, false) {
            let place = match plain {
                Some((a, b)) => format!("body at byte {at} (plaintext bytes {a}-{b})"),
                None => format!("body at byte {at}"),
            };
            out.push(Leak { what, place });
        }
        // A plaintext too short to have a 16-byte run leaks when it is the whole body.
        if !body_allowed {
            for p in &self.plains {
                if p.bytes.len() < MIN_LEAK && p.bytes == resp.body {
                    out.push(Leak {
                        what: format!("plaintext of {}", p.label),
                        place: "the whole body".into(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    fn random(n: usize, seed: u64) -> Bytes {
        let mut v = vec![0u8; n];
        rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut v);
        Bytes::from(v)
    }

    fn resp(body: &[u8]) -> Response {
        Response {
            status: 403,
            headers: vec![],
            body: Bytes::copy_from_slice(body),
        }
    }

    fn req() -> Request {
        Request {
            method: "GET".into(),
            scheme: crate::client::Scheme::Http,
            authority: "h".into(),
            target: "/".into(),
            headers: vec![],
            body: Bytes::new(),
        }
    }

    #[test]
    fn every_16_byte_run_at_every_offset_is_found_and_15_is_not() {
        let plain = random(300, 1);
        let mut idx = LeakIndex::new();
        idx.add_plaintext("step 0's body", &plain);
        for start in 0..(plain.len() - MIN_LEAK) {
            let mut body = b"<Error><Message>".to_vec();
            body.extend_from_slice(&plain[start..start + MIN_LEAK]);
            body.extend_from_slice(b"</Message></Error>");
            let leaks = idx.scan_response(&req(), &resp(&body), false);
            assert_eq!(leaks.len(), 1, "offset {start}");
            // The match may start a byte early when the byte before the run happens to
            // equal the message's last byte.
            let named = (start.saturating_sub(8)..=start).any(|a| {
                leaks[0].place
                    == format!(
                        "body at byte {} (plaintext bytes {a}-{})",
                        16 - (start - a),
                        a + MIN_LEAK - 1
                    )
            });
            assert!(named, "offset {start}: {}", leaks[0].place);
            let short = &plain[start..start + MIN_LEAK - 1];
            assert!(idx.scan_response(&req(), &resp(short), false).is_empty());
        }
    }

    #[test]
    fn keys_are_found_in_every_form_and_the_md5_echo_is_allowed() {
        let key = CustomerKey::from_raw(b"00000000000000000000000000000001".to_vec());
        let mut idx = LeakIndex::new();
        idx.add_key("py_1", &key);
        for (form, bytes) in key_forms(&key) {
            let mut body = b"<Message>".to_vec();
            body.extend_from_slice(&bytes);
            let leaks = idx.scan_response(&req(), &resp(&body), false);
            assert!(
                leaks.iter().any(|l| l.what.contains(form)),
                "{form}: {leaks:?}"
            );
            assert!(leaks.iter().all(|l| !l.what.contains("0000")), "redacted");
        }
        let md5 = key.md5();
        let mut r = resp(b"");
        r.headers = vec![(
            "x-cos-server-side-encryption-customer-key-md5".into(),
            md5.clone(),
        )];
        let mut q = req();
        q.headers = vec![(
            "x-cos-server-side-encryption-customer-key-MD5".into(),
            md5.clone(),
        )];
        assert!(idx.scan_response(&q, &r, false).is_empty(), "echo allowed");
        let mut q = req();
        q.headers = vec![(
            "x-cos-server-side-encryption-customer-key".into(),
            key.base64(),
        )];
        assert!(
            idx.scan_response(&q, &r, false).is_empty(),
            "the MD5 of the key the request sent may be echoed"
        );
        assert_eq!(
            idx.scan_response(&req(), &r, false).len(),
            1,
            "an echo of a key the request did not send is a leak"
        );
    }

    #[test]
    fn a_successful_read_may_carry_its_plaintext_but_no_key_in_a_header() {
        let plain = random(100, 2);
        let key = CustomerKey::from_raw(vec![7u8; 32]);
        let mut idx = LeakIndex::new();
        idx.add_plaintext("step 0's body", &plain);
        idx.add_key("k", &key);
        assert!(idx.scan_response(&req(), &resp(&plain), true).is_empty());
        assert_eq!(idx.scan_response(&req(), &resp(&plain), false).len(), 1);
        let mut r = resp(&plain);
        r.headers = vec![("x-cos-meta-k".into(), key.base64())];
        let leaks = idx.scan_response(&req(), &r, true);
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert!(leaks[0].what.contains("customer key `k` (base64)"));
    }
}
