//! Crypto failures as COS answers: the KMS's verdict on a key id (KMS-KEY-ID), the SSE-C
//! verifier's verdict on a key (SSEC-WRONG-KEY), and everything else (a tag that does not
//! verify, a damaged record, a key file that cannot be read) as an internal error, never
//! as wrong bytes (AT-REST).

use cos_emulator_crypto::Error as CryptoError;

use super::names;
use crate::error::{Error, ErrorCode};

/// The COS error for a failure of the crypto crate.
///
/// | crypto error | answer | rule |
/// |---|---|---|
/// | `KmsKeyNotFound` | 400 KmsKeyNotExist (ERROR-CODES.md row 6a) | KMS-KEY-ID |
/// | `KmsKeyDisabled` | 400 KmsKeyDisabled (ERROR-CODES.md row 6b) | KMS-KEY-ID |
/// | `CustomerKeyMismatch` | 403 AccessDenied | SSEC-WRONG-KEY |
/// | `CustomerKeyRequired` | 400 InvalidRequest | SSEC-GET-NEEDS-KEY |
/// | `CustomerKeyEncoding`, `CustomerKeyLength` | 400 InvalidArgument | SSEC-KEY |
/// | anything else | 500 InternalError | AT-REST |
pub fn refusal(e: &CryptoError) -> Error {
    match e {
        CryptoError::KmsKeyNotFound { key_id } => Error::new(
            ErrorCode::KmsKeyNotExist,
            format!(
                "{}: no KMS key {} in this account",
                names::KMS_KEY_ID,
                super::cos::printable(key_id)
            ),
        ),
        CryptoError::KmsKeyDisabled { key_id } => Error::new(
            ErrorCode::KmsKeyDisabled,
            format!("KMS key {} is disabled", super::cos::printable(key_id)),
        ),
        CryptoError::CustomerKeyMismatch => Error::new(
            ErrorCode::AccessDenied,
            format!(
                "{} does not match the key the object was encrypted with",
                names::CUSTOMER_KEY
            ),
        ),
        CryptoError::CustomerKeyRequired => super::SseError::CustomerKeyRequired.into(),
        CryptoError::CustomerKeyEncoding | CryptoError::CustomerKeyLength(_) => Error::new(
            ErrorCode::InvalidArgument,
            format!("{}: {e}", names::CUSTOMER_KEY),
        ),
        other => Error::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_and_ssec_verdicts_map_to_their_codes() {
        let id = || "k".to_string();
        for (e, code, status) in [
            (
                CryptoError::KmsKeyNotFound { key_id: id() },
                "KmsKeyNotExist",
                400,
            ),
            (
                CryptoError::KmsKeyDisabled { key_id: id() },
                "KmsKeyDisabled",
                400,
            ),
            (CryptoError::CustomerKeyMismatch, "AccessDenied", 403),
            (CryptoError::CustomerKeyRequired, "InvalidRequest", 400),
            (
                CryptoError::ChunkAuthentication { index: 3 },
                "InternalError",
                500,
            ),
            (CryptoError::Unseal, "InternalError", 500),
        ] {
            let r = refusal(&e);
            assert_eq!((r.code.as_str(), r.code.status()), (code, status), "{e}");
        }
    }
}
