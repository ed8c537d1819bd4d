//! Every expectation kind is shown to fail on a wrong response (and to pass on the right
//! one, so none of these tests can pass vacuously). The fake server plays the endpoint.

use std::sync::Arc;

use cos_suite::outcome::{CaseResult, Outcome};

use super::fake::{run, Canned, Handler, Seen};

fn answer(f: impl Fn(&Seen, &[Seen]) -> Canned + Send + Sync + 'static) -> Handler {
    Arc::new(f)
}

/// The field of the first mismatch of a failed case.
fn failed_on(r: &CaseResult) -> String {
    assert_eq!(
        r.outcome,
        Outcome::Fail,
        "expected a failure, got {:?}: {:?}",
        r.outcome,
        r.reason
    );
    let dump = r.failure.as_ref().expect("a failure carries a dump");
    assert!(dump.curl.contains("curl -sS -i"), "{}", dump.curl);
    assert!(
        dump.rules
            .iter()
            .any(|q| q.quote.contains("the quoted sentence")),
        "rule text quoted"
    );
    dump.mismatches[0].field.clone()
}

fn passed(r: &CaseResult) {
    assert_eq!(
        r.outcome,
        Outcome::Pass,
        "{:?} {:?}",
        r.reason,
        r.failure.as_ref().map(|f| f.to_text())
    );
}

const GET: &str = "steps:\n  - get: {key: \"{{case}}/o\", scheme: http}\n";

fn get_with(expect: &str) -> String {
    format!("{GET}    expect: {expect}\n")
}

#[test]
fn status_exact() {
    let (r, _) = run(
        &get_with("{status: 403, code: AccessDenied}"),
        false,
        &[],
        answer(|_, _| Canned::ok()),
    );
    assert_eq!(failed_on(&r), "status");
    let (r, _) = run(
        &get_with("{status: 403, code: AccessDenied}"),
        false,
        &[],
        answer(|_, _| Canned::error(403, "AccessDenied")),
    );
    passed(&r);
}

#[test]
fn status_list_and_class() {
    let (r, _) = run(
        &get_with("{status: [200, 206]}"),
        false,
        &[],
        answer(|_, _| Canned::error(404, "NoSuchKey")),
    );
    assert_eq!(failed_on(&r), "status");
    let (r, _) = run(
        &get_with("{status: 4xx}"),
        false,
        &[],
        answer(|_, _| Canned::ok()),
    );
    assert_eq!(failed_on(&r), "status");
    let (r, _) = run(
        &get_with("{status: 4xx}"),
        false,
        &[],
        answer(|_, _| Canned::error(400, "InvalidRequest")),
    );
    passed(&r);
}

#[test]
fn code_fails_only_when_strict() {
    let wrong = || answer(|_, _| Canned::error(400, "InvalidRequest"));
    let (r, _) = run(
        &get_with("{status: 400, code: InvalidArgument}"),
        true,
        &[],
        wrong(),
    );
    assert_eq!(failed_on(&r), "code");
    let (r, _) = run(
        &get_with("{status: 400, code: InvalidArgument}"),
        false,
        &[],
        wrong(),
    );
    passed(&r);
    assert!(
        r.warnings.iter().any(|w| w.contains("InvalidArgument")),
        "{:?}",
        r.warnings
    );
    let (r, _) = run(
        &get_with("{status: 400, code: [InvalidArgument, InvalidRequest]}"),
        true,
        &[],
        wrong(),
    );
    passed(&r);
}

#[test]
fn refusal_needs_the_error_document() {
    let (r, _) = run(
        &get_with("{status: 403}"),
        false,
        &[],
        answer(|_, _| Canned {
            status: 403,
            ..Canned::default()
        }),
    );
    assert_eq!(failed_on(&r), "body");
}

#[test]
fn success_with_an_error_document_fails() {
    // PUT Object - Copy can answer 200 with <Error> (PROTOCOL.md, "Errors").
    let (r, _) = run(
        &get_with("{status: 200}"),
        false,
        &[],
        answer(|_, _| Canned {
            status: 200,
            ..Canned::error(200, "InternalError")
        }),
    );
    assert_eq!(failed_on(&r), "body");
}

#[test]
fn loose_accepts_any_4xx_but_not_a_success() {
    let (r, _) = run(
        &get_with("{status: 403, loose: true}"),
        true,
        &[],
        answer(|_, _| Canned::error(400, "Other")),
    );
    passed(&r);
    let (r, _) = run(
        &get_with("{status: 403, loose: true}"),
        true,
        &[],
        answer(|_, _| Canned::ok()),
    );
    assert_eq!(failed_on(&r), "status");
}

fn with_header(name: &'static str, value: &str) -> Handler {
    let value = value.to_string();
    answer(move |_, _| Canned {
        status: 200,
        headers: vec![(name, value.clone())],
        body: vec![],
    })
}

#[test]
fn header_equals_present_absent_matches() {
    let h = "x-cos-server-side-encryption";
    let cases = [
        (
            "{headers: {x-cos-server-side-encryption: AES256}}",
            with_header(h, "SM4"),
        ),
        (
            "{headers: {x-cos-server-side-encryption: AES256}}",
            answer(|_, _| Canned::ok()),
        ),
        (
            "{headers: {x-cos-server-side-encryption: {present: true}}}",
            answer(|_, _| Canned::ok()),
        ),
        (
            "{headers: {x-cos-server-side-encryption: {absent: true}}}",
            with_header(h, "AES256"),
        ),
        (
            "{headers: {x-cos-server-side-encryption: {matches: '^(AES256|SM4)$'}}}",
            with_header(h, "aes256"),
        ),
    ];
    for (expect, handler) in cases {
        let (r, _) = run(&get_with(expect), false, &[], handler);
        assert_eq!(failed_on(&r), format!("header {h}"), "{expect}");
    }
    let (r, _) = run(
        &get_with("{headers: {x-cos-server-side-encryption: {matches: '^(AES256|SM4)$'}}}"),
        false,
        &[],
        with_header(h, "SM4"),
    );
    passed(&r);
}

const PUT_THEN_GET: &str = "steps:
  - name: up
    put: {key: \"{{case}}/o\", body: {random: 64}, scheme: http}
  - get: {key: \"{{case}}/o\", scheme: http}
";

/// Answers a GET with `f(uploaded body)`.
fn echo(f: fn(&[u8]) -> Vec<u8>) -> Handler {
    answer(move |req, earlier| {
        if req.method == "PUT" {
            return Canned::ok();
        }
        let up = earlier
            .iter()
            .rev()
            .find(|s| s.method == "PUT")
            .map(|s| s.body.to_vec())
            .unwrap_or_default();
        Canned {
            status: 200,
            headers: vec![],
            body: f(&up),
        }
    })
}

#[test]
fn body_equals_a_step_or_a_range_of_it() {
    let whole = format!("{PUT_THEN_GET}    expect: {{body: {{step: up}}}}\n");
    let (r, _) = run(&whole, false, &[], echo(|b| b.to_vec()));
    passed(&r);
    let (r, _) = run(
        &whole,
        false,
        &[],
        echo(|b| {
            let mut v = b.to_vec();
            v[10] ^= 1;
            v
        }),
    );
    assert_eq!(failed_on(&r), "body (step 0's body)");
    let ranged = format!("{PUT_THEN_GET}    expect: {{body: {{step: up, range: [0, 9]}}}}\n");
    let (r, _) = run(&ranged, false, &[], echo(|b| b[..10].to_vec()));
    passed(&r);
    let (r, _) = run(&ranged, false, &[], echo(|b| b[1..11].to_vec()));
    assert_eq!(failed_on(&r), "body (step 0's bytes 0-9)");
}

#[test]
fn body_literal() {
    let (r, _) = run(
        &get_with("{body: \"\"}"),
        false,
        &[],
        answer(|_, _| Canned {
            status: 200,
            headers: vec![],
            body: b"x".to_vec(),
        }),
    );
    assert_eq!(failed_on(&r), "body");
}

#[test]
fn body_not_finds_leaked_plaintext() {
    // Text plaintext, so the leaking error document stays well-formed XML and the
    // body_not check is the one that catches it.
    let text_upload =
        PUT_THEN_GET.replace("{random: 64}", "{repeat: \"secret-plaintext-\", times: 4}");
    let refused = format!("{text_upload}    expect: {{status: 403, body_not: {{step: up}}}}\n");
    let leak = |b: &[u8]| {
        let mut v = b"<Error><Code>AccessDenied</Code><Message>".to_vec();
        v.extend_from_slice(b);
        v.extend_from_slice(b"</Message></Error>");
        v
    };
    let handler = answer(move |req, earlier| {
        if req.method == "PUT" {
            return Canned::ok();
        }
        let up = earlier
            .iter()
            .rev()
            .find(|s| s.method == "PUT")
            .map(|s| s.body.to_vec())
            .unwrap_or_default();
        Canned {
            status: 403,
            headers: vec![],
            body: leak(&up),
        }
    });
    let (r, _) = run(&refused, false, &[], handler);
    // body_not is one case of the runner's leak scan, which names what leaked.
    assert_eq!(failed_on(&r), "leak: plaintext of step 0");
}

fn xml(body: &'static str) -> Handler {
    answer(move |_, _| Canned {
        status: 200,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    })
}

#[test]
fn xml_checks() {
    let doc = "<ListBucketResult><Contents><Key>a</Key><Size>4</Size></Contents><Contents><Key>b</Key><Size>5</Size></Contents></ListBucketResult>";
    let good = [
        "{xml: {ListBucketResult/Contents/Size: \"4\"}}",
        "{xml: {Contents: {count: 2}}}",
        "{xml: {Key: {present: true}}}",
        "{xml: {Marker: {absent: true}}}",
        "{xml: {Size: {matches: '^[0-9]+$'}}}",
    ];
    for e in good {
        let (r, _) = run(&get_with(e), false, &[], xml(doc));
        passed(&r);
    }
    let bad = [
        (
            "{xml: {ListBucketResult/Contents/Size: \"5\"}}",
            "xml ListBucketResult/Contents/Size",
        ),
        ("{xml: {Contents: {count: 3}}}", "xml Contents"),
        ("{xml: {Marker: {present: true}}}", "xml Marker"),
        ("{xml: {Key: {absent: true}}}", "xml Key"),
        ("{xml: {Key: {matches: '^[0-9]+$'}}}", "xml Key"),
    ];
    for (e, field) in bad {
        let (r, _) = run(&get_with(e), false, &[], xml(doc));
        assert_eq!(failed_on(&r), field, "{e}");
    }
    let (r, _) = run(&get_with("{xml: {Key: a}}"), false, &[], xml("not xml"));
    assert_eq!(failed_on(&r), "xml");
}

#[test]
fn expect_if_follows_the_profile_behaviour() {
    let text = format!("{GET}    expect: {{status: 400, code: InvalidArgument}}\n    expect_if:\n      - when: {{T-SWITCH: accepted}}\n        expect: {{status: 200}}\n");
    let accepts = || answer(|_, _| Canned::ok());
    let (r, _) = run(&text, false, &[("T-SWITCH", "accepted")], accepts());
    passed(&r);
    let (r, _) = run(&text, false, &[], accepts());
    assert_eq!(failed_on(&r), "status");
}

#[test]
fn templates_and_sse_headers_reach_the_wire() {
    let text = "steps:
  - name: init
    request: {method: POST, path: \"/{{case}}/o?uploads\", scheme: http}
  - put:
      key: \"{{case}}/o\"
      scheme: http
      sse_c: js_sample
      headers: {x-cos-meta-up: \"{{steps.init.xml.UploadId}}\", x-cos-server-side-encryption-customer-key-MD5: null}
";
    let handler = answer(|req, _| {
        if req.method == "POST" {
            Canned { status: 200, headers: vec![], body: b"<InitiateMultipartUploadResult><Key>k</Key><UploadId>U-1</UploadId></InitiateMultipartUploadResult>".to_vec() }
        } else {
            Canned::ok()
        }
    });
    let (r, seen) = run(text, false, &[], handler);
    passed(&r);
    let put = seen
        .iter()
        .find(|s| s.method == "PUT")
        .expect("the PUT was sent");
    assert_eq!(
        put.headers.get("x-cos-meta-up").map(String::as_str),
        Some("U-1")
    );
    assert_eq!(
        put.headers
            .get("x-cos-server-side-encryption-customer-key")
            .map(String::as_str),
        Some("MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY=")
    );
    assert!(
        !put.headers
            .contains_key("x-cos-server-side-encryption-customer-key-md5"),
        "null removed it"
    );
    assert!(
        put.headers
            .get("authorization")
            .is_some_and(|a| a.contains("x-cos-meta-up")),
        "signed"
    );
    // The initiate was tracked and aborted at cleanup.
    assert!(
        seen.iter()
            .any(|s| s.method == "DELETE" && s.query.contains("uploadId=U-1")),
        "upload aborted"
    );
}

#[test]
fn transport_problems_are_errors_not_failures() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r = rt.block_on(async {
        let fake = super::fake::start(answer(|_, _| Canned::ok())).await;
        let mut env = super::fake::env(&fake, false, &[]);
        // Point the client at a port nothing listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port");
        env.client = cos_suite::client::Client::new(cos_suite::client::ClientConfig {
            ca_file: None,
            insecure: true,
            timeout: std::time::Duration::from_secs(2),
            connect_https: None,
            connect_http: Some(closed),
        })
        .expect("client");
        cos_suite::runner::run_case(&env, &super::fake::case(GET), 1).await
    });
    assert_eq!(r.outcome, Outcome::Error, "{:?}", r.reason);
    assert!(
        r.reason
            .as_deref()
            .unwrap_or_default()
            .contains("cannot connect"),
        "{:?}",
        r.reason
    );
}
