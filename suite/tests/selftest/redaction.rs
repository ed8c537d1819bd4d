//! One redaction for everything the suite writes: a POST with SSE-C form
//! fields, a wrong-signature SSE-C GET and a presigned request all fail against a fake that
//! quotes the whole request (headers, query, form) back in its error message; every report
//! format and the terminal text are then searched for every secret value sent: none.

use std::sync::Arc;

use cos_suite::outcome::{CaseResult, Outcome};
use cos_suite::report::{merge, Report, RunMeta};

use super::fake::{catalog, keys, run, Canned, Handler, Seen};

/// Refuses everything, quoting the request back: the worst server for a report writer.
fn quoting() -> Handler {
    Arc::new(|req: &Seen, _: &[Seen]| {
        let mut quoted = format!("{} {}?{}", req.method, req.path, req.query);
        for (k, v) in &req.headers {
            quoted.push_str(&format!(" {k}={v}"));
        }
        quoted.push(' ');
        quoted.push_str(&String::from_utf8_lossy(&req.body));
        let quoted = quoted.replace('&', "&amp;").replace('<', "&lt;");
        Canned {
            status: 403,
            headers: vec![
                ("content-type", "application/xml".into()),
                ("x-echo", req.query.clone()),
            ],
            body: format!(
                "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>{quoted}</Message></Error>"
            )
            .into_bytes(),
        }
    })
}

const POST_SSEC: &str = "steps:
  - post:
      key: \"{{case}}/obj\"
      body: {random: 64}
      policy: auto
      scheme: http
      fields:
        x-cos-server-side-encryption-customer-algorithm: AES256
        x-cos-server-side-encryption-customer-key: \"{{keys.py_1.base64}}\"
        x-cos-server-side-encryption-customer-key-MD5: \"{{keys.py_1.md5}}\"
    expect: {status: 204}
";

const BAD_SIGNATURE_SSEC_GET: &str = "steps:
  - get: {key: \"{{case}}/obj\", scheme: http, sse_c: {key: py_2}, auth: bad-signature}
    expect: {status: 200}
";

const PRESIGNED: &str = "steps:
  - get: {key: \"{{case}}/obj\", scheme: http, auth: presigned}
    expect: {status: 200}
";

/// Every secret value the requests carried.
fn secrets_sent(seen: &[Seen]) -> Vec<String> {
    let mut out = Vec::new();
    let mut param = |s: &str| {
        for kv in s.split('&') {
            if let Some((k, v)) = kv.split_once('=') {
                let v = percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned();
                if matches!(k, "q-signature" | "q-ak") {
                    out.push(v);
                }
            }
        }
    };
    for s in seen {
        param(&s.query);
        if let Some(a) = s.headers.get("authorization") {
            param(a);
        }
    }
    for s in seen {
        if let Some(a) = s.headers.get("authorization") {
            out.push(a.clone());
        }
        let body = String::from_utf8_lossy(&s.body);
        for name in ["policy", "q-signature", "q-ak"] {
            let marker = format!("name=\"{name}\"\r\n\r\n");
            if let Some(i) = body.find(&marker) {
                let v = body[i + marker.len()..].split("\r\n").next().unwrap_or("");
                out.push(v.to_string());
            }
        }
    }
    let k = keys();
    for name in ["py_1", "py_2"] {
        let key = k.get(name).expect("key");
        let md5 = <md5::Md5 as md5::Digest>::digest(key.raw());
        out.extend([
            key.raw_text(),
            key.base64(),
            key.base64_unpadded(),
            key.md5(),
            hex::encode(md5),
        ]);
    }
    out.retain(|s| s.len() >= 8);
    out.sort();
    out.dedup();
    out
}

#[test]
fn no_secret_reaches_any_report_format() {
    let mut results: Vec<CaseResult> = Vec::new();
    let mut seen_all = Vec::new();
    for steps in [POST_SSEC, BAD_SIGNATURE_SSEC_GET, PRESIGNED] {
        let (mut r, seen) = run(steps, true, &[], quoting());
        assert_eq!(r.outcome, Outcome::Fail, "{:?}", r.reason);
        r.id = format!("sse-c/t{}", results.len());
        results.push(r);
        seen_all.extend(seen);
    }
    let secrets = secrets_sent(&seen_all);
    // The three requests carried: a policy, signatures, a key id, two keys in 6 forms.
    assert!(secrets.len() >= 15, "{secrets:?}");
    let meta = RunMeta {
        suite_version: "0".into(),
        catalog_revision: "0".into(),
        endpoint: "fake".into(),
        profile: "fake".into(),
        seed: 42,
        strict: true.into(),
        started_at: "2026-12-02T00:00:00Z".into(),
        duration_ms: 1,
    };
    let report = Report::build(meta, &catalog(), &[], results.clone(), vec![], &|_| None);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut outputs: Vec<(String, String)> = report
        .write_all(dir.path())
        .expect("reports written")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read report");
            (p.display().to_string(), text)
        })
        .collect();
    let m = merge::matrix(std::slice::from_ref(&report));
    outputs.push(("merged markdown".into(), merge::markdown(&m)));
    outputs.push(("merged html".into(), merge::html(&m)));
    for r in &results {
        let dump = r.failure.as_ref().expect("a failure dump").to_text();
        outputs.push((format!("terminal dump of {}", r.id), dump));
    }
    // The dumps are there: a POST form appears as curl -F fields, never inlined.
    let all: String = outputs.iter().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains("-F 'policy=<redacted>'"), "{all}");
    assert!(all.contains("-F 'file=@body.bin'"), "{all}");
    let mut hits = Vec::new();
    for (name, text) in &outputs {
        for s in &secrets {
            if text.contains(s.as_str()) {
                hits.push(format!("{name}: {s}"));
            }
        }
    }
    assert!(hits.is_empty(), "secrets written: {hits:#?}");
}
