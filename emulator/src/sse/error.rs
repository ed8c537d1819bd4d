//! Why an SSE request is refused: one variant per rule, each naming its rule id and the
//! offending header, mapped to one COS error code by [`SseError::code`].

use crate::error::{Error, ErrorCode};

/// A refused SSE request. Every variant names the rule it implements; the message names
/// the header (or form field) at fault and never echoes key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// A header value that is not text cannot be any valid SSE value.
    #[error("{header} is not valid text")]
    NotText {
        /// The header.
        header: &'static str,
    },
    /// An SSE header sent more than once is ambiguous.
    #[error("{header} was sent more than once")]
    Repeated {
        /// The header.
        header: &'static str,
    },
    /// COS-ALG-INVALID: `x-cos-server-side-encryption` is not `AES256`, `SM4` or
    /// `cos/kms` (the spelling is exact: `aes256` is refused).
    #[error("{header} must be AES256, SM4 or cos/kms, not {value}")]
    InvalidAlgorithm {
        /// The header.
        header: &'static str,
        /// The value sent, quoted if short, else described (`printable`).
        value: String,
    },
    /// COS-ALG-LEGACY (`refused`): the 2020 JS SDK spelling `AES-256`.
    #[error("{header}: the legacy spelling AES-256 is not accepted; use AES256")]
    LegacyAlgorithm {
        /// The header.
        header: &'static str,
    },
    /// KMS-NOT-ON-GET: `x-cos-server-side-encryption` belongs to uploads and copies; a
    /// read (or an Upload Part, where the mode comes from Initiate) must not carry it.
    #[error("{header} is only allowed on uploads and copies, not on this request")]
    ModeNotAllowed {
        /// The header.
        header: &'static str,
    },
    /// KMS-ALG: the KMS algorithm is not `AES256` or `SM4`.
    #[error("{header} must be AES256 or SM4, not {value}")]
    KmsAlgorithm {
        /// The header.
        header: &'static str,
        /// The value sent.
        value: String,
    },
    /// KMS-KEY-ID: an empty key id names no key.
    #[error("{header} is empty")]
    KmsKeyIdEmpty {
        /// The header.
        header: &'static str,
    },
    /// KMS-CONTEXT: the context is not base64 of a JSON object of string pairs.
    #[error("{header} must be base64 of a JSON object with string values: {reason}")]
    KmsContext {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// KMS-KEY-WITHOUT-KMS: a KMS key id, context or algorithm without
    /// `x-cos-server-side-encryption: cos/kms`.
    #[error("{header} requires x-cos-server-side-encryption: cos/kms")]
    KmsHeaderWithoutKms {
        /// The KMS header sent.
        header: &'static str,
    },
    /// SSEC-ALG: the customer algorithm is not `AES256` or `SM4`.
    #[error("{header} must be AES256 or SM4, not {value}")]
    CustomerAlgorithm {
        /// The header.
        header: &'static str,
        /// The value sent.
        value: String,
    },
    /// SSEC-KEY (and SSEC-KEY-UNPADDED): the key is not base64 (padded or not) of
    /// exactly 32 bytes.
    #[error("{header} must be base64 of a 256-bit key: {reason}")]
    CustomerKey {
        /// The header.
        header: &'static str,
        /// What is wrong (never the key itself).
        reason: String,
    },
    /// SSEC-MD5 (with SSEC-MD5-OLD `refused`): the key came without its MD5.
    #[error("{header} is required with a customer-provided key")]
    CustomerKeyMd5Missing {
        /// The missing MD5 header.
        header: &'static str,
    },
    /// SSEC-MD5: the key MD5 is not base64 of 16 bytes.
    #[error("{header} must be base64 of a 16-byte MD5 digest")]
    CustomerKeyMd5Malformed {
        /// The header.
        header: &'static str,
    },
    /// SSEC-MD5: the key MD5 does not match the key.
    #[error("{header} does not match the MD5 of the customer-provided key")]
    CustomerKeyMd5Mismatch {
        /// The header.
        header: &'static str,
    },
    /// SSEC-HEADERS-TOGETHER: algorithm, key (and MD5) must come together.
    #[error("{present} was sent without {missing}")]
    CustomerIncomplete {
        /// A header that was sent.
        present: &'static str,
        /// A header that must accompany it.
        missing: &'static str,
    },
    /// SSE-CONFLICT: SSE-COS/SSE-KMS headers together with SSE-C headers.
    #[error("{sse} cannot be combined with {customer}")]
    Conflict {
        /// The SSE-COS/KMS header sent.
        sse: &'static str,
        /// The SSE-C header sent.
        customer: &'static str,
    },
    /// REGION-KMS / REGION-SSE: the mode is not offered in the bucket's region.
    #[error("{mode} is not offered in region {region}")]
    RegionNotOffered {
        /// The mode (`SSE-KMS`, `SSE-COS`, `SSE-C`).
        mode: &'static str,
        /// The bucket's region.
        region: String,
    },
    /// SSEC-HTTPS: SSE-C headers over plain HTTP.
    #[error("{header} requires HTTPS")]
    CustomerKeyOverHttp {
        /// The SSE-C header sent.
        header: &'static str,
    },
    /// SSE-HTTP (switch `refused`): an SSE-COS or SSE-KMS upload over plain HTTP.
    #[error("{header} requires HTTPS on this endpoint (SSE-HTTP)")]
    SseOverHttp {
        /// The header sent.
        header: &'static str,
    },
    /// PRESIGN-NO-SSE-COS / PRESIGN-NO-SSE-KMS: an upload through a presigned URL cannot
    /// request SSE-COS or SSE-KMS.
    #[error("{header} ({mode}) cannot be used with a presigned upload")]
    PresignedUpload {
        /// The header.
        header: &'static str,
        /// The requested mode (`SSE-COS` or `SSE-KMS`).
        mode: &'static str,
    },
    /// SSEC-GET-NEEDS-KEY: the object is SSE-C encrypted and the request has no key.
    #[error("the object is encrypted with a customer-provided key; send the x-cos-server-side-encryption-customer-* headers")]
    CustomerKeyRequired,
    /// SSEC-NOT-APPLICABLE: SSE-C headers for an object that is not SSE-C encrypted.
    #[error("the object is not encrypted with a customer-provided key; do not send {header}")]
    CustomerKeyNotApplicable {
        /// The SSE-C header sent.
        header: &'static str,
    },
    /// COPY-SOURCE-KEY: the copy source is SSE-C encrypted and the copy-source key headers
    /// are missing.
    #[error("the copy source is encrypted with a customer-provided key; send the x-cos-copy-source-server-side-encryption-customer-* headers")]
    CopySourceKeyRequired,
    /// KMS-ANON / SSEC-ANON / COS-ANON-OLD: an anonymous read of an object that needs a
    /// signature.
    #[error("{mode} objects cannot be read anonymously")]
    AnonymousRead {
        /// The object's mode.
        mode: &'static str,
    },
}

impl SseError {
    /// The rule id this refusal implements.
    pub fn rule(&self) -> &'static str {
        use SseError::*;
        match self {
            NotText { header } | Repeated { header } => rule_of_header(header),
            InvalidAlgorithm { .. } => "COS-ALG-INVALID",
            LegacyAlgorithm { .. } => "COS-ALG-LEGACY",
            ModeNotAllowed { .. } => "KMS-NOT-ON-GET",
            KmsAlgorithm { .. } => "KMS-ALG",
            KmsKeyIdEmpty { .. } => "KMS-KEY-ID",
            KmsContext { .. } => "KMS-CONTEXT",
            KmsHeaderWithoutKms { .. } => "KMS-KEY-WITHOUT-KMS",
            CustomerAlgorithm { .. } => "SSEC-ALG",
            CustomerKey { .. } => "SSEC-KEY",
            CustomerKeyMd5Missing { .. }
            | CustomerKeyMd5Malformed { .. }
            | CustomerKeyMd5Mismatch { .. } => "SSEC-MD5",
            CustomerIncomplete { .. } => "SSEC-HEADERS-TOGETHER",
            Conflict { .. } => "SSE-CONFLICT",
            RegionNotOffered { mode, .. } => {
                if *mode == "SSE-KMS" {
                    "REGION-KMS"
                } else {
                    "REGION-SSE"
                }
            }
            CustomerKeyOverHttp { .. } => "SSEC-HTTPS",
            SseOverHttp { .. } => "SSE-HTTP",
            PresignedUpload { mode, .. } => {
                if *mode == "SSE-KMS" {
                    "PRESIGN-NO-SSE-KMS"
                } else {
                    "PRESIGN-NO-SSE-COS"
                }
            }
            CustomerKeyRequired => "SSEC-GET-NEEDS-KEY",
            CustomerKeyNotApplicable { .. } => "SSEC-NOT-APPLICABLE",
            CopySourceKeyRequired => "COPY-SOURCE-KEY",
            AnonymousRead { mode } => match *mode {
                "SSE-KMS" => "KMS-ANON",
                "SSE-C" => "SSEC-ANON",
                _ => "COS-ANON-OLD",
            },
        }
    }

    /// The COS error this refusal answers with (PROTOCOL.md, "Errors"):
    /// - 400 `InvalidArgument`: a value is wrong (algorithm, key, MD5, context, region,
    ///   a header on a request that does not take it);
    /// - 400 `InvalidRequest`: the combination is wrong (SSE-C headers incomplete, SSE-C
    ///   over HTTP, a presigned upload with SSE, a read of an SSE-C object without key);
    /// - 403 `AccessDenied`: an anonymous read of an object that needs a signature;
    /// - 400 `SSEHeaderNotAllowed`: a mode header on a request that does not set a mode
    ///   (ERROR-CODES.md row 11, where COS documents this code).
    pub fn code(&self) -> ErrorCode {
        use SseError::*;
        match self {
            // ERROR-CODES.md row 11 (S4, S5): "如果头部携带 x-cos-server-side-encryption 的标头".
            ModeNotAllowed { .. } => ErrorCode::SseHeaderNotAllowed,
            CustomerIncomplete { .. } => ErrorCode::SseCustomerIncomplete,
            CustomerKeyOverHttp { .. }
            | SseOverHttp { .. }
            | PresignedUpload { .. }
            | CustomerKeyRequired
            | CustomerKeyNotApplicable { .. }
            | CopySourceKeyRequired => ErrorCode::InvalidRequest,
            AnonymousRead { .. } => ErrorCode::AccessDenied,
            CustomerAlgorithm { .. } => ErrorCode::InvalidEncryptionAlgorithm,
            NotText { .. }
            | Repeated { .. }
            | InvalidAlgorithm { .. }
            | LegacyAlgorithm { .. }
            | KmsAlgorithm { .. }
            | KmsKeyIdEmpty { .. }
            | KmsContext { .. }
            | KmsHeaderWithoutKms { .. }
            | CustomerKey { .. }
            | CustomerKeyMd5Missing { .. }
            | CustomerKeyMd5Malformed { .. }
            | CustomerKeyMd5Mismatch { .. }
            | Conflict { .. }
            | RegionNotOffered { .. } => ErrorCode::InvalidArgument,
        }
    }
}

/// The rule that governs a header, for refusals about the header's form.
fn rule_of_header(header: &str) -> &'static str {
    use super::names::*;
    match header {
        SSE => "COS-ALG-INVALID",
        KMS_KEY_ID => "KMS-KEY-ID",
        KMS_CONTEXT => "KMS-CONTEXT",
        KMS_ALGORITHM => "KMS-ALG",
        CUSTOMER_ALGORITHM => "SSEC-ALG",
        CUSTOMER_KEY => "SSEC-KEY",
        CUSTOMER_KEY_MD5 => "SSEC-MD5",
        _ => "COPY-SOURCE-KEY",
    }
}

impl From<SseError> for Error {
    fn from(e: SseError) -> Self {
        Error::new(e.code(), e.to_string())
    }
}
