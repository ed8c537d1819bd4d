//! `cos-suite`: a conformance suite for server-side encryption on COS-compatible endpoints.
#![forbid(unsafe_code)]
