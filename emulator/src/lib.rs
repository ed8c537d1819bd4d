//! `cos-emulator`: a reference emulator of Tencent Cloud Object Storage (COS) with
//! server-side encryption, speaking the COS XML API over HTTP and HTTPS.
//!
//! A request flows one way through these modules:
//!
//! | module | owns |
//! |---|---|
//! | [`server`] | listeners, TLS, graceful shutdown, the [`Emulator`] handle |
//! | [`connection`] | what one client connection may hold (timers hyper lacks, requests in flight) |
//! | [`tls`] | the generated (or given) certificate |
//! | [`service`] | the HTTP boundary: hyper ⇄ [`request::Request`] / [`response::Response`] |
//! | [`header_case`] | response header names spelled as COS spells them |
//! | [`router`] | Host/path → bucket, key, region; method × sub-resource → operation |
//! | [`dialect`] | COS or S3, from how the request is signed |
//! | [`auth`] | COS v5 signatures and AWS Signature V4 (header and presigned), ACL decisions |
//! | [`amz`] | the S3 dialect's `x-amz-*` header names, both ways |
//! | [`ops`] | one file per operation: parse, rules, store, response |
//! | [`body`] | streaming bodies between network and store in bounded memory, digests |
//! | [`store`] | durable buckets and objects (`Store` trait, local directory) |
//! | [`error`] | the one error table (COS and S3 codes) and XML error writer |
//! | [`config`], [`behaviour`], [`regions`] | what the emulator is told |
//! | [`introspect`] | what was stored, for the suite's `introspect` capability (library only) |
//!
//! ```no_run
//! # async fn demo() -> Result<(), cos_emulator::StartError> {
//! let config = cos_emulator::EmulatorConfig {
//!     data_dir: "/tmp/cos-data".into(),
//!     http: Some("127.0.0.1:0".parse().unwrap()),
//!     ..Default::default()
//! };
//! let emulator = cos_emulator::start(config).await?;
//! println!("http on {:?}", emulator.http_addr());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod amz;
pub mod auth;
pub mod behaviour;
pub mod body;
pub mod config;
pub mod connection;
pub mod dialect;
pub mod error;
pub mod header_case;
pub mod introspect;
pub mod ops;
pub mod redact;
pub mod regions;
pub mod request;
pub mod response;
pub mod router;
pub mod server;
pub mod service;
pub mod sse;
pub mod store;
pub mod tls;
pub mod xml;

pub use config::{Account, ConnectionLimits, EmulatorConfig};
pub use error::{Error, ErrorCode};
pub use server::{start, Emulator, StartError};
