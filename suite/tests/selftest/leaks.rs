//! The runner's leak scan: every response of every case is searched for
//! the case's customer keys and for any 16-byte run of its plaintexts, whether or not the
//! case wrote `body_not`. A fake endpoint leaks on purpose; the case must fail and say
//! what leaked, without printing the secret.

use std::sync::Arc;

use cos_suite::outcome::{CaseResult, Outcome};

use super::fake::{keys, run, Canned, Handler, Seen};

/// An SSE-C upload of a 98304-byte body, then a GET with the wrong key that must be
/// refused (no `body_not`: the runner scans anyway).
const SSEC_WRONG_KEY: &str = "steps:
  - name: up
    put: {key: \"{{case}}/o\", body: {random: 98304}, scheme: http, sse_c: {key: py_1}}
  - get: {key: \"{{case}}/o\", scheme: http, sse_c: {key: py_2}, range: \"bytes=4096-4111\"}
    expect: {status: 403}
";

fn uploaded(earlier: &[Seen]) -> Vec<u8> {
    earlier
        .iter()
        .rev()
        .find(|s| s.method == "PUT")
        .map(|s| s.body.to_vec())
        .unwrap_or_default()
}

fn refusal(message: &[u8]) -> Canned {
    let mut body = b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>".to_vec();
    body.extend_from_slice(message);
    body.extend_from_slice(b"</Message></Error>");
    Canned {
        status: 403,
        headers: vec![("content-type", "application/xml".into())],
        body,
    }
}

/// PUT succeeds; the GET is refused with `leak(uploaded body)` in the message.
fn refusing_with(leak: fn(&[u8]) -> Vec<u8>) -> Handler {
    Arc::new(move |req: &Seen, earlier: &[Seen]| {
        if req.method == "PUT" {
            return Canned::ok();
        }
        refusal(&leak(&uploaded(earlier)))
    })
}

fn leak_fields(r: &CaseResult) -> Vec<String> {
    assert_eq!(r.outcome, Outcome::Fail, "{:?}", r.reason);
    let dump = r.failure.as_ref().expect("dump");
    assert_eq!(dump.step, 1, "{}", dump.to_text());
    dump.mismatches.iter().map(|m| m.field.clone()).collect()
}

#[test]
fn an_honest_refusal_passes() {
    let (r, _) = run(SSEC_WRONG_KEY, false, &[], refusing_with(|_| b"m".to_vec()));
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.failure);
}

#[test]
fn a_refusal_carrying_the_16_bytes_of_the_range_fails() {
    let (r, _) = run(
        SSEC_WRONG_KEY,
        false,
        &[],
        refusing_with(|b| b[4096..4112].to_vec()),
    );
    // Random bytes also spoil the error XML ("body"); the leak is named on its own.
    assert!(leak_fields(&r).contains(&"leak: plaintext of step 0".to_string()));
    let m = r
        .failure
        .as_ref()
        .unwrap()
        .mismatches
        .iter()
        .find(|m| m.field.starts_with("leak"))
        .unwrap();
    assert!(m.got.contains("plaintext bytes 4096-4111"), "{}", m.got);
}

#[test]
fn a_refusal_carrying_one_chunk_fails() {
    let (r, _) = run(
        SSEC_WRONG_KEY,
        false,
        &[],
        refusing_with(|b| b[65536..].to_vec()),
    );
    assert!(leak_fields(&r).contains(&"leak: plaintext of step 0".to_string()));
}

#[test]
fn a_refusal_quoting_the_customer_key_fails_without_printing_it() {
    let (r, _) = run(
        SSEC_WRONG_KEY,
        false,
        &[],
        refusing_with(|_| {
            let k = keys();
            let key = k.get("py_2").expect("py_2");
            format!(
                "signed header x-cos-server-side-encryption-customer-key: {}",
                key.base64()
            )
            .into_bytes()
        }),
    );
    let fields = leak_fields(&r);
    assert!(
        fields.contains(&"leak: customer key `py_2` (base64)".to_string()),
        "{fields:?}"
    );
    let text = r.failure.as_ref().unwrap().to_text();
    let k = keys();
    let key = k.get("py_2").unwrap();
    assert!(!text.contains(&key.base64()), "{text}");
}

#[test]
fn a_header_carrying_the_key_md5_of_the_stored_key_fails() {
    // The MD5 echo is allowed only when it is the MD5 this very request sent (SSEC-ECHO):
    // echoing the stored key's MD5 to a wrong-key request confirms the key.
    let handler: Handler = Arc::new(|req: &Seen, _: &[Seen]| {
        if req.method == "PUT" {
            return Canned::ok();
        }
        let k = keys();
        let mut c = refusal(b"m");
        c.headers.push((
            "x-cos-server-side-encryption-customer-key-MD5",
            k.get("py_1").unwrap().md5(),
        ));
        c
    });
    let (r, _) = run(SSEC_WRONG_KEY, false, &[], handler);
    let fields = leak_fields(&r);
    assert!(
        fields.iter().any(|f| f.contains("customer key `py_1`")),
        "{fields:?}"
    );
}

#[test]
fn a_successful_read_of_the_object_may_carry_it_and_must_be_exact() {
    let steps = "steps:
  - name: up
    put: {key: \"{{case}}/o\", body: {random: 5000}, scheme: http, sse_c: {key: py_1}}
  - get: {key: \"{{case}}/o\", scheme: http, sse_c: {key: py_1}, range: \"bytes=100-1099\"}
    expect: {status: 206}
";
    let serve = |flip: bool| -> Handler {
        Arc::new(move |req: &Seen, earlier: &[Seen]| {
            if req.method == "PUT" {
                return Canned::ok();
            }
            let mut body = uploaded(earlier)[100..1100].to_vec();
            if flip {
                body[500] ^= 1;
            }
            Canned {
                status: 206,
                headers: vec![(
                    "x-cos-server-side-encryption-customer-key-MD5",
                    req.headers
                        .get("x-cos-server-side-encryption-customer-key-md5")
                        .cloned()
                        .unwrap_or_default(),
                )],
                body,
            }
        })
    };
    let (r, _) = run(steps, false, &[], serve(false));
    assert_eq!(r.outcome, Outcome::Pass, "{:?}", r.failure);
    let (r, _) = run(steps, false, &[], serve(true));
    let fields = leak_fields(&r);
    assert_eq!(
        fields,
        ["body (read of cos-suite-test/sse-c/t/r1/o, bytes=100-1099)"]
    );
}
