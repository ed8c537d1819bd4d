//! The suite's own tests, compiled into one binary (ripgrep style): the signer against the
//! official SDK's vectors, schema errors with file and line, every expectation kind failing
//! on a wrong response from a fake server, and the report writers.

mod catalog;
mod cli;
mod codes;
mod expectations;
mod fake;
mod integrity;
mod layers;
mod leaks;
mod mutation;
mod preflight;
mod redaction;
mod reports;
mod s3_dialect;
mod scheduling;
mod schema;
mod signer;
