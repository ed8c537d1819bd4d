//! The mutation check (issue 6): the suite runs against the embedded emulator through a
//! proxy that breaks responses one way at a time, and the cases that guard against each
//! break must fail. A mutation no case notices would be a hole in the suite.
//!
//! Mutations: the SSE echo header dropped; a 403 turned into 200; a GET answered with the
//! wrong bytes; an SSE-C request over plain HTTP accepted (forwarded over HTTPS).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use cos_suite::app::{self, EnvOptions, Overrides};
use cos_suite::client::{self, Client, ClientConfig, Scheme};
use cos_suite::outcome::Outcome;
use cos_suite::profile::Profile;
use cos_suite::runner::run_case;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    DropSseEcho,
    ForbiddenBecomesOk,
    WrongBody,
    SseCOverHttpAccepted,
}

fn mutate_response(m: Mutation, method: &str, resp: &mut client::Response) {
    match m {
        Mutation::DropSseEcho => resp
            .headers
            .retain(|(k, _)| !k.starts_with("x-cos-server-side-encryption")),
        Mutation::ForbiddenBecomesOk if resp.status == 403 => {
            resp.status = 200;
            resp.body = Bytes::new();
            resp.headers
                .retain(|(k, _)| k != "content-length" && k != "content-type");
        }
        Mutation::WrongBody
            if method == "GET" && resp.status / 100 == 2 && !resp.body.is_empty() =>
        {
            let mut b = resp.body.to_vec();
            b[0] ^= 0xff;
            resp.body = Bytes::from(b);
        }
        _ => {}
    }
}

/// A proxy in front of the emulator: TLS with the emulator's own certificate on one port,
/// plain HTTP on another, every request forwarded by the suite's client.
async fn proxy(
    m: Mutation,
    upstream: Client,
    tls_dir: &Path,
) -> (SocketAddr, SocketAddr, Vec<tokio::task::JoinHandle<()>>) {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::read(tls_dir.join("cert.pem"))
            .expect("cert")
            .as_slice(),
    ))
    .collect::<Result<Vec<_>, _>>()
    .expect("certs");
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::read(tls_dir.join("key.pem"))
            .expect("key")
            .as_slice(),
    ))
    .expect("key")
    .expect("a key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let https = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addrs = (
        https.local_addr().expect("addr"),
        http.local_addr().expect("addr"),
    );
    let serve = |listener: TcpListener, tls: Option<TlsAcceptor>, scheme: Scheme| {
        let upstream = upstream.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, tls) = (upstream.clone(), tls.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let upstream = upstream.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                forward(m, scheme, &upstream, req).await,
                            )
                        }
                    });
                    let builder = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        })
    };
    let tasks = vec![
        serve(https, Some(acceptor), Scheme::Https),
        serve(http, None, Scheme::Http),
    ];
    (addrs.0, addrs.1, tasks)
}

async fn forward(
    m: Mutation,
    arrived: Scheme,
    upstream: &Client,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let sse_c = headers
        .iter()
        .any(|(k, _)| k.starts_with("x-cos-server-side-encryption-customer"));
    let scheme = if m == Mutation::SseCOverHttpAccepted && sse_c {
        Scheme::Https
    } else {
        arrived
    };
    let authority = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let request = client::Request {
        method: parts.method.to_string(),
        scheme,
        authority,
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        headers,
        body,
    };
    let mut resp = match upstream.send(&request).await {
        Ok(r) => r,
        Err(e) => client::Response {
            status: 502,
            headers: vec![],
            body: Bytes::from(e.to_string()),
        },
    };
    mutate_response(m, &request.method, &mut resp);
    let mut builder = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        if k != "content-length" && k != "transfer-encoding" {
            builder = builder.header(k, v);
        }
    }
    builder
        .body(Full::new(resp.body))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::new())))
}

/// Runs the cases matching `filter` through a proxy with mutation `m`; returns
/// (cases run, cases that failed).
fn killed_by(m: Mutation, filter: &str) -> (usize, Vec<String>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
        let loaded = app::load(&dir).unwrap_or_else(|e| panic!("{}", e.join("\n")));
        let mut endpoint = app::prepare(
            Profile::emulator().expect("profile"),
            true,
            &Overrides::default(),
        )
        .await
        .expect("embedded emulator");
        let ca = endpoint.profile.tls.ca_file.clone().expect("ca file");
        let upstream = Client::new(ClientConfig {
            ca_file: Some(ca.clone()),
            insecure: false,
            timeout: std::time::Duration::from_secs(60),
            connect_https: endpoint.profile.connect.https,
            connect_http: endpoint.profile.connect.http,
        })
        .expect("upstream client");
        let (https, http, tasks) = proxy(m, upstream, ca.parent().expect("tls dir")).await;
        endpoint.profile.connect.https = Some(https);
        endpoint.profile.connect.http = Some(http);
        let env = app::make_env(
            &loaded,
            &endpoint,
            &EnvOptions {
                seed: 1,
                strict: true.into(),
            },
        )
        .expect("env");
        let cases = app::select(&loaded.cases, &[filter.to_string()]);
        let mut failed = Vec::new();
        for case in &cases {
            let r = run_case(&env, case, 1).await;
            if r.outcome == Outcome::Fail {
                failed.push(r.id);
            }
        }
        for t in tasks {
            t.abort();
        }
        if let Some(e) = endpoint.embedded {
            e.shutdown().await;
        }
        (cases.len(), failed)
    })
}

#[test]
fn every_mutation_is_caught() {
    let plan = [
        (Mutation::DropSseEcho, "sse-cos/*", "sse-cos/"),
        (Mutation::ForbiddenBecomesOk, "SSEC-WRONG-KEY", "sse-c/"),
        (Mutation::WrongBody, "COS-TRANSPARENT", "sse-cos/"),
        (Mutation::SseCOverHttpAccepted, "SSEC-HTTPS", "over-http"),
    ];
    let mut report = Vec::new();
    for (m, filter, must_include) in plan {
        let (ran, failed) = killed_by(m, filter);
        assert!(ran > 0, "{m:?}: the filter {filter} matched no case");
        assert!(
            failed.iter().any(|id| id.contains(must_include)),
            "{m:?} was not caught by any {must_include} case ({} of {ran} cases failed: {failed:?})",
            failed.len()
        );
        report.push(format!(
            "{m:?}: {} of {ran} `{filter}` cases fail",
            failed.len()
        ));
    }
    // The mutation score, printed for the record (`cargo test -- --nocapture`).
    println!("mutation score 4/4\n{}", report.join("\n"));
}
