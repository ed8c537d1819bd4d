//! AWS Signature Version 4, as S3 uses it, in one place for the whole workspace: the
//! suite signs with it, the emulator verifies with it, and the object-store gateway signs
//! the backend calls `object_store` does not offer.
//!
//! The crate is pure (no I/O, no clock): callers pass the request as it is on the wire and
//! the time they read. Every comparison of a signature runs in constant time.
//!
//! * [`canonical`] builds the canonical request and the string to sign, and derives the
//!   signing key (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//! * [`auth`] parses and renders the `Authorization` header and the presigned query
//!   (`X-Amz-*`), and signs requests as a client does ([`Signer`]).
//! * [`chunked`] decodes and encodes `aws-chunked` bodies: per-chunk signatures chained from
//!   the seed signature, and the trailing `x-amz-checksum-*` headers.
//! * [`checksum`] computes the checksums S3 names (CRC32, CRC32C, CRC64/NVME, SHA-1,
//!   SHA-256).
//! * [`time`] converts between Unix seconds and the `YYYYMMDD'T'HHMMSS'Z'` stamps.
//!
//! The AWS signing test suite runs against it (`tests/vectors.rs`), as do the S3
//! documentation's worked examples (`tests/s3_examples.rs`).

pub mod auth;
pub mod canonical;
pub mod checksum;
pub mod chunked;
pub mod encode;
mod error;
pub mod time;

pub use auth::{Authorization, Presigned, SignatureOutput, Signer};
pub use canonical::{
    canonical_request, signature, signatures_equal, signing_key, string_to_sign, Credential,
    Request, Scope,
};
pub use checksum::{ChecksumAlgorithm, Checksummer};
pub use chunked::{ChunkSigning, ChunkedDecoder, ChunkedEncoder, Trailer};
pub use encode::PathOptions;
pub use error::Error;

/// The only algorithm Signature Version 4 names.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The values of `x-amz-content-sha256` that are not a hash of the body.
pub mod payload {
    /// The body is not covered by the signature.
    pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
    /// An `aws-chunked` body whose chunks are each signed.
    pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    /// Signed chunks followed by signed trailing headers.
    pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    /// Unsigned chunks followed by trailing headers (a checksum), what current AWS SDKs
    /// send by default for uploads.
    pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    /// The SHA-256 of an empty body, in hex.
    pub const EMPTY_SHA256: &str =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}
