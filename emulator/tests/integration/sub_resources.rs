//! The router knows every COS sub-resource: each one the emulator does not implement,
//! bare (`?live`) or with a value (`?live=`, as both official SDKs send them), is answered
//! 501 NotImplemented on a bucket and on an object, for every method, and writes nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::*;

/// The sub-resources of the COS API reference (and those cos-python-sdk-v5 and
/// cos-nodejs-sdk-v5 send) that the emulator does not implement, listed here independently
/// of the router's own list (which must include them all).
const NAMES: &[&str] = &[
    "accelerate",
    "append",
    "ci-process",
    "domain",
    "domaincertificate",
    "imageInspect",
    "image_process",
    "intelligenttiering",
    "inventory",
    "lifecycle",
    "live",
    "logging",
    "object-lock",
    "origin",
    "policy",
    "referer",
    "replication",
    "select",
    "style",
    "symlink",
    "tagging",
    "versioning",
    "versions",
    "vod",
    "website",
];

fn snapshot(s: &Server) -> BTreeMap<PathBuf, Vec<u8>> {
    s.files()
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

#[tokio::test]
async fn every_unimplemented_sub_resource_is_501_and_writes_nothing() {
    let s = Server::start().await;
    let b = s.bucket("subres").await;
    s.put(&b, "k", b"stays").await;
    let before = snapshot(&s);
    let names: Vec<&str> = NAMES
        .iter()
        .chain(cos_emulator::router::UNIMPLEMENTED)
        .copied()
        .collect();
    for name in names {
        for method in ["GET", "PUT", "POST", "DELETE", "HEAD"] {
            for key in ["", "k", "new"] {
                for value in [None, Some(""), Some("v")] {
                    let mut req = Req::new(method, &b, key);
                    req = match value {
                        None => req.bare(name),
                        Some(v) => req.query(name, v),
                    };
                    if method == "PUT" || method == "POST" {
                        req = req.body(b"<a/>");
                    }
                    let r = s.send(&req).await;
                    assert_eq!(
                        r.status,
                        501,
                        "{method} /{key}?{name}{}: {}",
                        value.map(|v| format!("={v}")).unwrap_or_default(),
                        r.text()
                    );
                }
            }
        }
    }
    assert!(
        before == snapshot(&s),
        "an unimplemented sub-resource changed the data dir"
    );
    let r = s.send(&Req::new("GET", &b, "k")).await;
    assert_eq!(r.body, b"stays");
}
