//! SSE request parsing and validation: request headers (or POST form fields) → a typed
//! [`SseRequest`], or an [`SseError`] naming the rule and the header at fault.
//!
//! Pure functions: no disk, no crypto state, no hyper types beyond `http::HeaderMap`.
//! The operation applies the result: `sse::parse` first, then the checks that need
//! request context ([`check_scheme`], [`check_presigned`], [`check_region`]), then, on
//! reads, the checks against the stored object ([`check_read`], [`check_anonymous_read`]).
//!
//! One file per mode: [`cos`] (SSE-COS), [`kms`] (SSE-KMS), [`customer`] (SSE-C),
//! [`copy_source`] (the copy source's SSE-C key); [`context`] holds the checks that need
//! request context or the stored object; [`echo`] builds the response headers and
//! [`crypto_error`] turns crypto failures into COS answers.

pub mod context;
pub mod copy_source;
pub mod cos;
pub mod crypto_error;
pub mod customer;
pub mod dialect;
pub mod echo;
mod error;
mod fields;
pub mod kms;

use std::collections::BTreeMap;

use cos_emulator_crypto::Algorithm;

use crate::behaviour::Behaviours;

pub use context::{
    check_anonymous_read, check_copy_source, check_presigned, check_read, check_region,
    check_scheme, check_upload_scheme,
};
pub use customer::CustomerSse;
pub use error::SseError;
pub use fields::NamedValues;

/// The SSE header names (PROTOCOL.md, "SSE headers"), lower-case as `http` stores them.
pub mod names {
    /// SSE-COS / SSE-KMS mode: `AES256`, `SM4`, `cos/kms`.
    pub const SSE: &str = "x-cos-server-side-encryption";
    /// SSE-KMS key id.
    pub const KMS_KEY_ID: &str = "x-cos-server-side-encryption-cos-kms-key-id";
    /// SSE-KMS encryption context: base64 of a JSON object.
    pub const KMS_CONTEXT: &str = "x-cos-server-side-encryption-context";
    /// SSE-KMS algorithm: `AES256`, `SM4`.
    pub const KMS_ALGORITHM: &str = "x-cos-server-side-encryption-cos-kms-algorithm";
    /// SSE-C algorithm: `AES256`, `SM4`.
    pub const CUSTOMER_ALGORITHM: &str = "x-cos-server-side-encryption-customer-algorithm";
    /// SSE-C key: base64 of 32 bytes.
    pub const CUSTOMER_KEY: &str = "x-cos-server-side-encryption-customer-key";
    /// SSE-C key MD5: base64 of MD5(key).
    pub const CUSTOMER_KEY_MD5: &str = "x-cos-server-side-encryption-customer-key-md5";
    /// Copy source SSE-C algorithm.
    pub const COPY_SOURCE_CUSTOMER_ALGORITHM: &str =
        "x-cos-copy-source-server-side-encryption-customer-algorithm";
    /// Copy source SSE-C key.
    pub const COPY_SOURCE_CUSTOMER_KEY: &str =
        "x-cos-copy-source-server-side-encryption-customer-key";
    /// Copy source SSE-C key MD5.
    pub const COPY_SOURCE_CUSTOMER_KEY_MD5: &str =
        "x-cos-copy-source-server-side-encryption-customer-key-md5";
}

/// What kind of request the SSE headers arrived on; it decides which headers are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// PUT Object, POST Object, Initiate Multipart Upload: every mode may be requested.
    Upload,
    /// PUT Object - Copy (COPY-DEST-SSE): every mode for the destination; the source's
    /// SSE-C key comes separately ([`copy_source::parse`]).
    Copy,
    /// Upload Part: the mode comes from Initiate; only the SSE-C key is sent
    /// (MPU-SSEC-PARTS).
    UploadPart,
    /// GET and HEAD Object: only the SSE-C key may be sent (KMS-NOT-ON-GET).
    Read,
}

impl Operation {
    /// Whether `x-cos-server-side-encryption` and the KMS headers are allowed.
    fn sets_mode(self) -> bool {
        matches!(self, Operation::Upload | Operation::Copy)
    }
}

/// The SSE a request asks for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseRequest {
    /// No SSE header: a plain upload, or a read of an SSE-COS/SSE-KMS/plain object.
    None,
    /// SSE-COS (COS-ALG).
    Cos {
        /// `AES256` or `SM4`.
        algorithm: Algorithm,
    },
    /// SSE-KMS (KMS-VALUE).
    Kms {
        /// The CMK the request names; `None` selects the account's default CMK
        /// (KMS-DEFAULT-KEY). Existence and state are checked by the KMS (KMS-KEY-ID).
        key_id: Option<String>,
        /// The decoded encryption context (KMS-CONTEXT); empty when not sent.
        context: BTreeMap<String, String>,
        /// `AES256` (default) or `SM4` (KMS-ALG).
        algorithm: Algorithm,
    },
    /// SSE-C (SSEC-ALG, SSEC-KEY, SSEC-MD5).
    Customer(CustomerSse),
}

impl SseRequest {
    /// The mode's name for messages (`SSE-COS`, `SSE-KMS`, `SSE-C`), `None` for no SSE.
    pub fn mode_name(&self) -> Option<&'static str> {
        match self {
            SseRequest::None => None,
            SseRequest::Cos { .. } => Some("SSE-COS"),
            SseRequest::Kms { .. } => Some("SSE-KMS"),
            SseRequest::Customer(_) => Some("SSE-C"),
        }
    }
}

/// Parses and validates the SSE headers of one request.
///
/// Checks, in order: every SSE header is single and text; SSE-CONFLICT; KMS-NOT-ON-GET
/// (mode headers on reads and parts); then the mode's own rules ([`cos`], [`kms`],
/// [`customer`]); KMS-KEY-WITHOUT-KMS for KMS headers without `cos/kms`.
pub fn parse<F: NamedValues + ?Sized>(
    fields: &F,
    operation: Operation,
    behaviours: &Behaviours,
) -> Result<SseRequest, SseError> {
    let mode = fields::single(fields, names::SSE)?;
    let kms_headers = kms::present_headers(fields)?;
    let customer_header = customer::first_present(fields)?;

    if let Some(customer) = customer_header {
        let sse = mode.map(|_| names::SSE).or(kms_headers.first().copied());
        if let Some(sse) = sse {
            return Err(SseError::Conflict { sse, customer });
        }
    }
    if !operation.sets_mode() {
        if let Some(header) = mode.map(|_| names::SSE).or(kms_headers.first().copied()) {
            return Err(SseError::ModeNotAllowed { header });
        }
    }
    if customer_header.is_some() {
        return customer::parse(fields, behaviours).map(SseRequest::Customer);
    }
    match mode {
        Some(value) => match cos::parse_mode(value, behaviours)? {
            cos::Mode::Cos(algorithm) => match kms_headers.first() {
                Some(&header) => Err(SseError::KmsHeaderWithoutKms { header }),
                None => Ok(SseRequest::Cos { algorithm }),
            },
            cos::Mode::Kms => kms::parse(fields),
        },
        None => match kms_headers.first() {
            Some(&header) => Err(SseError::KmsHeaderWithoutKms { header }),
            None => Ok(SseRequest::None),
        },
    }
}

#[cfg(test)]
mod tests;
