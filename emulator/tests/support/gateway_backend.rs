//! SeaweedFS as the store of in-process gateways, shared by the gateway tests: one
//! SeaweedFS with a backend bucket, the master key file every gateway of the test shares,
//! the store URL they serve (optionally through another endpoint, such as a fault proxy),
//! and an `object_store` client on SeaweedFS itself for checks that must not go through a
//! gateway. `COS_SKIP_SEAWEEDFS=1` skips the tests that use it, with a message.

#![allow(dead_code)] // Each includer uses its own part of the API.

use std::path::{Path, PathBuf};

use cos_emulator::store::remote::StoreUrl;

use crate::common::Server;
use crate::seaweedfs::{find_weed, SeaweedFs};

/// SeaweedFS, the gateways' shared master key file, and the store URL.
pub struct GatewayBackend {
    /// The SeaweedFS process.
    pub sw: SeaweedFs,
    keys: tempfile::TempDir,
    /// What the gateways are given as `--store` and `--store-option`s.
    pub url: StoreUrl,
    bucket: String,
}

impl GatewayBackend {
    /// SeaweedFS with `bucket`, the store at `s3://bucket/<test>`; `None` (with a message)
    /// when SeaweedFS tests are switched off.
    pub fn start(test: &str, bucket: &str) -> Option<GatewayBackend> {
        if std::env::var("COS_SKIP_SEAWEEDFS").as_deref() == Ok("1") {
            eprintln!("{test}: skipped, COS_SKIP_SEAWEEDFS=1");
            return None;
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let weed = find_weed(&repo).expect("SeaweedFS's weed");
        let sw = SeaweedFs::start(&weed).expect("SeaweedFS starts");
        sw.create_bucket(bucket).expect("backend bucket");
        let url = StoreUrl {
            url: format!("s3://{bucket}/{test}"),
            options: sw.store_options(),
        };
        Some(GatewayBackend {
            sw,
            keys: tempfile::tempdir().unwrap(),
            url,
            bucket: bucket.to_owned(),
        })
    }

    /// Gateways reach the store through `endpoint` instead (a proxy in front of
    /// SeaweedFS), with `options` added (backend limits, sweep settings).
    pub fn through(mut self, endpoint: String, options: &[(&str, &str)]) -> GatewayBackend {
        for (k, v) in &mut self.url.options {
            if k == "endpoint" {
                *v = endpoint.clone();
            }
        }
        self.url
            .options
            .extend(options.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// The master key file the gateways share.
    pub fn master_key_file(&self) -> PathBuf {
        self.keys.path().join("master.json")
    }

    /// A gateway in this process over the store.
    pub async fn gateway(&self) -> Server {
        let url = self.url.clone();
        let master = self.master_key_file();
        Server::start_with(tempfile::tempdir().unwrap(), move |c| {
            c.store = Some(url);
            c.master_key_file = Some(master);
        })
        .await
    }

    /// `object_store` on SeaweedFS itself (never through a proxy or a gateway).
    pub fn direct(&self) -> object_store::aws::AmazonS3 {
        // object_store's HTTP client is built without a TLS provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(&self.bucket);
        for (k, v) in self.sw.store_options() {
            builder = builder.with_config(k.parse().unwrap(), v);
        }
        builder.build().unwrap()
    }

    /// The store's prefix in the backend bucket.
    pub fn prefix(&self) -> &str {
        self.url
            .url
            .trim_start_matches("s3://")
            .split_once('/')
            .map_or("", |(_, prefix)| prefix)
    }
}
