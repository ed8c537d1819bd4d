//! A fake COS endpoint for the self-tests: plain HTTP on 127.0.0.1:0, answering each
//! request with whatever the test's handler says, and an empty listing for the runner's
//! cleanup. It stops when dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use cos_suite::case::{parse_case, Case, LoadContext};
use cos_suite::client::{Client, ClientConfig, Credentials};
use cos_suite::keys::KeyRing;
use cos_suite::outcome::CaseResult;
use cos_suite::profile::Profile;
use cos_suite::rules::Catalog;
use cos_suite::runner::{run_case, Env};

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

/// What the fake answers.
#[derive(Debug, Clone, Default)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Canned {
    pub fn ok() -> Self {
        Canned {
            status: 200,
            ..Canned::default()
        }
    }
    pub fn error(status: u16, code: &str) -> Self {
        Canned {
            status,
            headers: vec![("content-type", "application/xml".into())],
            body: format!(
                "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message></Error>"
            )
            .into_bytes(),
        }
    }
}

pub type Handler = Arc<dyn Fn(&Seen, &[Seen]) -> Canned + Send + Sync>;

pub struct Fake {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(handler: Handler) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (handler, log) = (handler.clone(), log.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (handler, log) = (handler.clone(), log.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let seen = Seen {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().unwrap_or_default().to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(k, v)| {
                                    (
                                        k.to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body,
                        };
                        let canned = if seen.method == "GET"
                            && seen.path == "/"
                            && seen.query.contains("prefix=cos-suite-")
                        {
                            Canned { status: 200, headers: vec![], body: b"<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".to_vec() }
                        } else {
                            let earlier = log
                                .lock()
                                .map(|l: std::sync::MutexGuard<'_, Vec<Seen>>| l.clone())
                                .unwrap_or_default();
                            handler(&seen, &earlier)
                        };
                        if let Ok(mut l) = log.lock() {
                            l.push(seen);
                        }
                        let mut resp = hyper::Response::builder().status(canned.status);
                        for (k, v) in canned.headers {
                            resp = resp.header(k, v);
                        }
                        Ok::<_, std::convert::Infallible>(
                            resp.body(Full::new(Bytes::from(canned.body)))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Fake { addr, seen, task }
}

pub const RULES: &str = "rules:
  - id: T-RULE
    family: sse-c
    title: a test rule
    status: documented
    s3: applies
    sources: [{seed: 000.txt, section: S, quote: \"the quoted sentence\"}]
  - id: T-SWITCH
    family: sse-c
    title: a switchable rule
    status: unspecified
    s3: applies
    behaviours: [{name: refused, default: true}, {name: accepted}]
";

pub const PROFILE: &str = "name: fake
endpoint: \"https://{bucket}.cos.{region}.myqcloud.com\"
http_endpoint: \"http://{bucket}.cos.{region}.myqcloud.com\"
appid: \"1250000000\"
buckets: {ap-beijing: b-1250000000}
capabilities: [http, post-object, presign]
regions: [{name: ap-beijing, sse: [sse-cos, sse-c, sse-kms, sm4]}]
request_timeout_secs: 5
";

pub fn keys() -> KeyRing {
    KeyRing::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/keys.yaml"
    )))
    .expect("keys.yaml")
}

pub fn catalog() -> Catalog {
    Catalog::parse("rules.yaml", RULES).expect("test rules")
}

/// Parses a case body (everything after `polarity:`) as `cases/sse-c/t.yaml`.
pub fn case(steps_yaml: &str) -> Case {
    let text = format!("id: sse-c/t\nrules: [T-RULE]\ntitle: t\npolarity: negative\n{steps_yaml}");
    let (catalog, keys) = (catalog(), keys());
    parse_case(
        Path::new("cases/sse-c/t.yaml"),
        &text,
        &LoadContext {
            catalog: &catalog,
            keys: &keys,
        },
    )
    .unwrap_or_else(|e| panic!("test case does not load: {e}"))
}

pub fn env(fake: &Fake, strict: bool, behaviour: &[(&str, &str)]) -> Env {
    let mut profile = Profile::parse("fake.yaml", PROFILE).expect("fake profile");
    for (r, b) in behaviour {
        profile.behaviour.insert((*r).into(), (*b).into());
    }
    let client = Client::new(ClientConfig {
        ca_file: None,
        insecure: true,
        timeout: Duration::from_secs(5),
        connect_https: None,
        connect_http: Some(fake.addr),
    })
    .expect("client");
    Env {
        profile,
        catalog: catalog(),
        keys: keys(),
        client,
        creds: Credentials {
            secret_id: "AKIDtest".into(),
            secret_key: "secret".into(),
        },
        other: None,
        kms: BTreeMap::new(),
        kms_failures: BTreeMap::new(),
        seed: 42,
        run_id: "test".into(),
        strict: strict.into(),
        root: Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        buckets: tokio::sync::Mutex::new(BTreeMap::new()),
        introspector: None,
    }
}

/// Runs a case against a fake answering with `handler`.
pub fn run(
    steps_yaml: &str,
    strict: bool,
    behaviour: &[(&str, &str)],
    handler: Handler,
) -> (CaseResult, Vec<Seen>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let fake = start(handler).await;
        let env = env(&fake, strict, behaviour);
        let case = case(steps_yaml);
        let result = run_case(&env, &case, 1).await;
        let seen = fake.seen.lock().map(|l| l.clone()).unwrap_or_default();
        (result, seen)
    })
}
