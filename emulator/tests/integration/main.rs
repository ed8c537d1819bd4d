//! Integration tests of the emulator: each starts its own server on 127.0.0.1 port 0 with a
//! temp data dir, speaks raw HTTP/1.1 (and HTTPS) bytes to it, and stops it.

mod common;
#[path = "../support/gateway_backend.rs"]
mod gateway_backend;
/// The SeaweedFS harness shared with the suite's tests and the `compare` bench.
#[path = "../support/seaweedfs.rs"]
mod seaweedfs;

mod archive;
mod auth;
mod bucket_encryption;
mod buckets;
mod cli;
mod concurrency;
mod copy;
mod cors;
mod durability;
mod empty_headers;
mod gateways;
mod hardening;
mod lifecycle;
mod multipart;
mod objects;
mod ops_common;
mod post;
mod s3_dialect;
mod sdk_ops;
mod seaweedfs_harness;
mod secrets;
mod signature_vectors;
mod sigv4;
mod slow_clients;
mod sse;
mod sub_resources;
mod tamper;
mod vendor_codes;
