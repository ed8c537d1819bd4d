//! The S3 dialect end to end against a fake S3 endpoint: a case written in COS terms goes
//! out with S3 names and values, SigV4-signed, path-style; the S3 answer is read back in
//! COS terms; a COS-only rule, a COS-only header and a part under S3's minimum make a case
//! not-applicable with the reason.

use std::path::Path;
use std::sync::Arc;

use cos_suite::case::{parse_case, Case, LoadContext};
use cos_suite::outcome::Outcome;
use cos_suite::profile::Profile;
use cos_suite::rules::Catalog;
use cos_suite::runner::run_case;

use super::fake::{env, keys, start, Canned, Handler, Seen};

const S3_PROFILE: &str = "name: fake-s3
dialect: s3
addressing: path
endpoint: \"https://127.0.0.1:1\"
http_endpoint: \"http://127.0.0.1:1\"
buckets: {us-east-1: bkt}
capabilities: [http, multipart]
regions: [{name: us-east-1, sse: [sse-cos, sse-c, sse-kms]}]
request_timeout_secs: 5
";

const RULES: &str = "rules:
  - {id: T-RULE, family: sse-kms, title: t, status: documented, s3: applies}
  - {id: T-COS-ONLY, family: sse-kms, title: t, status: documented, s3: {not-applicable: a COS-only promise}}
";

fn case(rule: &str, steps: &str) -> (Case, Catalog) {
    let catalog = Catalog::parse("rules.yaml", RULES).expect("rules");
    let text = format!("id: sse-kms/t\nrules: [{rule}]\ntitle: t\npolarity: positive\n{steps}");
    let keys = keys();
    let case = parse_case(
        Path::new("cases/sse-kms/t.yaml"),
        &text,
        &LoadContext {
            catalog: &catalog,
            keys: &keys,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (case, catalog)
}

fn run(rule: &str, steps: &str, handler: Handler) -> (cos_suite::outcome::CaseResult, Vec<Seen>) {
    let (case, catalog) = case(rule, steps);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let fake = start(handler).await;
        let mut e = env(&fake, false, &[]);
        e.profile = Profile::parse("fake-s3.yaml", S3_PROFILE).expect("profile");
        e.catalog = catalog;
        let r = run_case(&e, &case, 1).await;
        let seen = fake.seen.lock().map(|l| l.clone()).unwrap_or_default();
        (r, seen)
    })
}

/// An S3 store: echoes SSE-KMS as S3 does.
fn s3_store() -> Handler {
    Arc::new(|seen, _| {
        if seen.method == "PUT" {
            let mut c = Canned::ok();
            c.headers = vec![
                ("x-amz-server-side-encryption", "aws:kms".into()),
                (
                    "x-amz-server-side-encryption-aws-kms-key-id",
                    "arn:aws:kms:us-east-1:1:key/k".into(),
                ),
                ("etag", "\"opaque\"".into()),
            ];
            c
        } else {
            Canned {
                status: 200,
                headers: vec![],
                body: b"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
                    .to_vec(),
            }
        }
    })
}

const PUT_KMS: &str = "steps:
  - put: {key: \"{{case}}/o\", body: \"hello\", sse_kms: {context: {a: b}}, meta: {m: v}}
    expect:
      status: 200
      headers:
        x-cos-server-side-encryption: cos/kms
        x-cos-server-side-encryption-cos-kms-key-id: {present: true}
";

#[test]
fn a_cos_case_goes_out_in_s3_terms_and_its_answer_is_read_in_cos_terms() {
    let (r, seen) = run("T-RULE", PUT_KMS, s3_store());
    assert_eq!(r.outcome, Outcome::Pass, "{r:?}");
    let put = seen.iter().find(|s| s.method == "PUT").expect("a PUT");
    // Path-style: the bucket is the first path segment.
    assert!(
        put.path.starts_with("/bkt/cos-suite-test/sse-kms/t/"),
        "{}",
        put.path
    );
    let h = &put.headers;
    assert_eq!(
        h.get("x-amz-server-side-encryption").map(String::as_str),
        Some("aws:kms")
    );
    assert!(
        h.contains_key("x-amz-server-side-encryption-context"),
        "{h:?}"
    );
    assert_eq!(h.get("x-amz-meta-m").map(String::as_str), Some("v"));
    assert!(!h.keys().any(|k| k.starts_with("x-cos-")), "{h:?}");
    assert!(
        h.get("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDtest/")
                && a.contains("/us-east-1/s3/aws4_request")),
        "{h:?}"
    );
    // The payload hash is sent and is the body's.
    assert_eq!(
        h.get("x-amz-content-sha256").map(String::as_str),
        Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
}

#[test]
fn an_answer_in_cos_terms_is_not_taken_for_the_s3_one() {
    let cos_answer: Handler = Arc::new(|seen, _| {
        if seen.method == "PUT" {
            let mut c = Canned::ok();
            c.headers = vec![("x-cos-server-side-encryption", "cos/kms".into())];
            c
        } else {
            Canned::ok()
        }
    });
    let (r, _) = run("T-RULE", PUT_KMS, cos_answer);
    assert_eq!(r.outcome, Outcome::Fail, "{r:?}");
}

#[test]
fn a_cos_only_rule_is_not_applicable_with_its_reason() {
    let (r, seen) = run("T-COS-ONLY", PUT_KMS, s3_store());
    assert_eq!(r.outcome, Outcome::NotApplicable);
    assert_eq!(
        r.reason.as_deref(),
        Some("T-COS-ONLY does not apply in the s3 dialect: a COS-only promise")
    );
    assert!(seen.is_empty(), "nothing is sent: {seen:?}");
}

#[test]
fn what_s3_cannot_show_is_not_applicable_with_the_reason() {
    let crc = "steps:
  - put: {key: \"{{case}}/o\", body: \"hello\"}
    expect: {status: 200, headers: {x-cos-hash-crc64ecma: {present: true}}}
";
    let (r, _) = run("T-RULE", crc, s3_store());
    assert_eq!(r.outcome, Outcome::NotApplicable);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|w| w.contains("x-cos-hash-crc64ecma")),
        "{r:?}"
    );
    let small = "steps:
  - multipart: {key: \"{{case}}/o\", parts: [{random: 1048576}, {random: 10}]}
";
    let (r, _) = run("T-RULE", small, s3_store());
    assert_eq!(r.outcome, Outcome::NotApplicable);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|w| w.contains("S3's smallest is 5242880 bytes")),
        "{r:?}"
    );
    let sm4 = "steps:
  - put: {key: \"{{case}}/o\", body: \"hello\", headers: {x-cos-server-side-encryption: SM4}}
";
    let (r, _) = run("T-RULE", sm4, s3_store());
    assert_eq!(r.outcome, Outcome::NotApplicable);
    assert!(
        r.reason.as_deref().is_some_and(|w| w.contains("sm4")),
        "{r:?}"
    );
}
