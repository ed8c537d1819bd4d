//! The pre-flight request: a profile that does not fit its endpoint fails before any case
//! runs, in one line that says which way (wrong dialect, clock skew, TLS trust, nothing
//! listening, credentials refused); a profile that fits passes with a summary.

use std::sync::Arc;

use cos_suite::client::{Client, ClientConfig};
use cos_suite::profile::Profile;
use cos_suite::runner::{preflight, Env};

use super::fake::{env, start, Canned, Fake, Handler};

/// The fake's endpoint as an S3 profile (path-style, no appid).
const S3_PROFILE: &str = "name: fake-s3
dialect: s3
addressing: path
endpoint: \"https://127.0.0.1:1\"
http_endpoint: \"http://127.0.0.1:1\"
buckets: {create: true}
capabilities: [http]
regions: [{name: us-east-1, sse: [sse-cos, sse-c, sse-kms]}]
request_timeout_secs: 5
";

fn s3_env(fake: &Fake) -> Env {
    let mut e = env(fake, false, &[]);
    e.profile = Profile::parse("fake-s3.yaml", S3_PROFILE).expect("s3 profile");
    e
}

fn is_sigv4(seen: &super::fake::Seen) -> bool {
    seen.headers
        .get("authorization")
        .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 "))
}

/// Answers like a COS endpoint: a COS signature reaches the (missing) bucket, a SigV4 one
/// is refused.
fn cos_endpoint() -> Handler {
    Arc::new(|seen, _| {
        if is_sigv4(seen) {
            Canned::error(403, "AccessDenied")
        } else {
            Canned::error(404, "NoSuchBucket")
        }
    })
}

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn a_fitting_profile_passes_with_a_summary() {
    block(async {
        let fake = start(cos_endpoint()).await;
        let fit = preflight(&env(&fake, false, &[])).await.expect("fits");
        assert!(fit.0.contains("COS v5"), "{}", fit.0);
        assert!(fit.0.contains("NoSuchBucket"), "{}", fit.0);
    });
}

#[test]
fn an_s3_profile_against_a_cos_endpoint_names_the_dialect_to_set() {
    block(async {
        let fake = start(cos_endpoint()).await;
        let line = preflight(&s3_env(&fake)).await.expect_err("does not fit");
        assert!(line.starts_with("wrong dialect:"), "{line}");
        assert!(line.contains("set `dialect: cos`"), "{line}");
        // It asked in both dialects, SigV4 first.
        let seen = fake.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(is_sigv4(&seen[0]) && !is_sigv4(&seen[1]));
    });
}

#[test]
fn a_cos_profile_against_an_s3_endpoint_names_the_dialect_to_set() {
    block(async {
        let fake = start(Arc::new(|seen, _| {
            if is_sigv4(seen) {
                Canned::error(404, "NoSuchBucket")
            } else {
                Canned::error(400, "InvalidArgument")
            }
        }))
        .await;
        let line = preflight(&env(&fake, false, &[]))
            .await
            .expect_err("does not fit");
        assert!(line.contains("set `dialect: s3`"), "{line}");
    });
}

#[test]
fn refused_credentials_in_both_dialects_say_so() {
    block(async {
        let fake = start(Arc::new(|_, _| Canned::error(403, "InvalidAccessKeyId"))).await;
        let line = preflight(&env(&fake, false, &[]))
            .await
            .expect_err("refused");
        assert!(
            line.starts_with("credentials refused: 403 InvalidAccessKeyId"),
            "{line}"
        );
        assert!(line.contains("COS_SECRET_ID"), "{line}");
    });
}

#[test]
fn a_clock_far_from_ours_is_clock_skew() {
    block(async {
        let fake = start(Arc::new(|_, _| {
            let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
            let mut c = Canned::error(404, "NoSuchBucket");
            c.headers.push(("date", httpdate::fmt_http_date(ahead)));
            c
        }))
        .await;
        let line = preflight(&env(&fake, false, &[]))
            .await
            .expect_err("skewed");
        assert!(line.starts_with("clock skew:"), "{line}");
        assert!(line.contains("ahead of"), "{line}");
        // A signature refused for the time says the same.
        let fake = start(Arc::new(|_, _| Canned::error(403, "RequestTimeTooSkewed"))).await;
        let line = preflight(&env(&fake, false, &[]))
            .await
            .expect_err("skewed");
        assert!(line.starts_with("clock skew:"), "{line}");
    });
}

#[test]
fn a_tls_failure_is_a_question_of_trust() {
    block(async {
        // HTTPS to a plain-HTTP server: the handshake fails.
        let fake = start(cos_endpoint()).await;
        let mut e = env(&fake, false, &[]);
        e.profile.capabilities.insert("https".into());
        e.client = Client::new(ClientConfig {
            ca_file: None,
            insecure: false,
            timeout: std::time::Duration::from_secs(5),
            connect_https: Some(fake.addr),
            connect_http: None,
        })
        .expect("client");
        let line = preflight(&e).await.expect_err("no TLS");
        assert!(line.starts_with("TLS trust:"), "{line}");
        assert!(line.contains("tls.ca_file"), "{line}");
    });
}

#[test]
fn nothing_listening_says_so() {
    block(async {
        let fake = start(cos_endpoint()).await;
        let mut e = env(&fake, false, &[]);
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        e.client = Client::new(ClientConfig {
            ca_file: None,
            insecure: true,
            timeout: std::time::Duration::from_secs(5),
            connect_https: None,
            connect_http: Some(free),
        })
        .expect("client");
        let line = preflight(&e).await.expect_err("nothing there");
        assert!(line.starts_with("nothing answers at 127.0.0.1:"), "{line}");
    });
}
