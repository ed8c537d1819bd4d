//! Integration tests of the emulator: each starts its own server on 127.0.0.1 port 0 with a
//! temp data dir, speaks raw HTTP/1.1 (and HTTPS) bytes to it, and stops it.

mod common;

mod archive;
mod auth;
mod buckets;
mod cli;
mod concurrency;
mod copy;
mod cors;
mod durability;
mod hardening;
mod lifecycle;
mod multipart;
mod objects;
mod ops_common;
mod post;
mod secrets;
mod signature_vectors;
mod sse;
mod tamper;
mod vendor_codes;
