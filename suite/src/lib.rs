//! `cos-suite`: a conformance suite for server-side encryption on COS-compatible endpoints.
//!
//! It reads the YAML cases of `cases/` and runs them against any endpoint a profile
//! describes, then writes compliance reports. It shares no code with the emulator: the
//! signer, the HTTP client and the XML parsing here are its own, so a misreading of the
//! protocol is not written once and used on both sides.
//!
//! The modules are layers; each imports only from its own layer and those below it, and no
//! file is part of an import cycle (`tests/selftest/layers.rs` checks both):
//!
//! ```text
//!  front      app · discover · terminal · mutate   (and the binaries: main.rs, bin/mutate.rs)
//!    │
//!  reports    report (JSON, JUnit, Markdown, HTML, merge)
//!    │
//!  verdict    verdict
//!    │
//!  execution  runner · introspect · expect · leak · redact · client · outcome · embedded
//!    │
//!  model      dialect · case · rules · codes · profile · keys · coverage · grid · xml · file_error
//! ```
//!
//! The model (pure data and validation):
//! - [`file_error`]: the error of a YAML file the suite loads, with its line.
//! - [`xml`]: a small XML tree for response checks and COS error bodies; the one escape.
//! - [`keys`]: the named SSE-C customer keys of `fixtures/keys.yaml` and their forms.
//! - [`dialect`]: the COS and S3 dialects: the one mapping of header names, values (and,
//!   through `cases/codes.yaml`, codes) between the cases' COS terms and S3's.
//! - [`rules`]: the rule catalog `cases/rules.yaml` and the capability names.
//! - [`case`]: the case schema (with its `introspect:` checks), loaded and validated with
//!   file and line in every error.
//! - [`codes`]: the table of expected error codes `cases/codes.yaml` and `--strict` levels.
//! - [`profile`]: endpoint profiles (`fixtures/profiles/*.yaml`).
//! - [`coverage`]: catalog coverage: rules without a case, or without both polarities.
//! - [`grid`]: the rule × operation grid: a positive and a negative case per rule and
//!   operation it lists, or the rule's reason why a side cannot be tested there.
//!
//! The execution (running cases against an endpoint):
//! - [`client`]: HTTP client, COS v5 signer and presigner, SigV4 (over the `sigv4` crate),
//!   `curl` replay dumps.
//! - [`redact`]: the one redaction of everything the suite writes.
//! - [`leak`]: every response scanned for the case's customer keys and plaintexts.
//! - [`outcome`]: the record of each case run: outcome, mismatches, failure dump.
//! - [`expect`]: matching a response against a step's expectation.
//! - [`introspect`]: running a case's checks of what the endpoint stored.
//! - [`runner`]: scheduling, templating, per-case isolation and cleanup.
//! - [`embedded`]: the in-process emulator of `cos-suite run` with no endpoint.
//!
//! The verdicts, the reports and the front:
//! - [`verdict`]: each rule's verdict over the records of its cases.
//! - [`report`]: JSON, JUnit XML, Markdown and HTML writers, and the cross-endpoint merge.
//! - [`app`]: setting up a run (load, filter, endpoint, environment), for the CLI and tests.
//! - [`discover`]: what an endpoint offers, its behaviours and its error codes, probed
//!   and written as a draft profile (`cos-suite discover`).
//! - [`terminal`]: progress bar or plain lines, and the coloured summary.
//! - [`mutate`]: the mutation harness (`--bin mutate`): how many broken servers the suite
//!   catches.
#![forbid(unsafe_code)]

pub mod app;
pub mod case;
pub mod client;
pub mod codes;
pub mod coverage;
pub mod dialect;
pub mod discover;
pub mod embedded;
pub mod expect;
pub mod file_error;
pub mod grid;
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
pub mod verdict;
pub mod xml;

/// The suite's version, recorded in every report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
