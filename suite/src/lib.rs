//! `cos-suite`: a conformance suite for server-side encryption on COS-compatible endpoints.
//!
//! It reads the YAML cases of `cases/` and runs them against any endpoint a profile
//! describes, then writes compliance reports. It shares no code with the emulator: the
//! signer, the HTTP client and the XML parsing here are its own, so a misreading of the
//! protocol is not written once and used on both sides.
//!
//! Map of the modules, in the order data flows through them:
//! - [`app`]: setting up a run (load, filter, endpoint, environment), for the CLI and tests.
//! - [`keys`]: the named SSE-C customer keys of `fixtures/keys.yaml`.
//! - [`rules`]: the rule catalog `cases/rules.yaml`.
//! - [`case`]: the case schema, loaded and validated with file and line in every error.
//! - [`codes`]: the table of expected error codes `cases/codes.yaml` and `--strict` levels.
//! - [`profile`]: endpoint profiles (`fixtures/profiles/*.yaml`).
//! - [`client`]: HTTP client, COS v5 signer and presigner, `curl` replay dumps.
//! - [`xml`]: a small XML tree for response checks and COS error bodies.
//! - [`runner`]: scheduling, templating, per-case isolation and cleanup.
//! - [`expect`]: matching a response against a step's expectation.
//! - [`leak`]: every response scanned for the case's customer keys and plaintexts.
//! - [`outcome`]: what a run produced, case by case and rule by rule.
//! - [`embedded`]: the in-process emulator of `cos-suite run` with no endpoint.
//! - [`terminal`]: progress bar or plain lines, and the coloured summary.
//! - [`redact`]: the one redaction of everything the suite writes.
//! - [`report`]: JSON, JUnit XML, Markdown and HTML writers, and the cross-endpoint merge.
#![forbid(unsafe_code)]

pub mod app;
pub mod case;
pub mod client;
pub mod codes;
pub mod coverage;
pub mod embedded;
pub mod expect;
pub mod file_error;
pub mod introspect;
pub mod keys;
pub mod leak;
pub mod mutate;
pub mod outcome;
pub mod profile;
pub mod redact;
pub mod report;
pub mod rules;
pub mod runner;
pub mod terminal;
pub mod xml;

/// The suite's version, recorded in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
