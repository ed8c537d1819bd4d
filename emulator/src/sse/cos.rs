//! SSE-COS: the value of `x-cos-server-side-encryption` (COS-ALG, COS-ALG-INVALID,
//! COS-ALG-LEGACY, KMS-VALUE).

use cos_emulator_crypto::Algorithm;

use super::error::SseError;
use super::names::SSE;
use crate::behaviour::Behaviours;

/// What `x-cos-server-side-encryption` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SSE-COS with this algorithm.
    Cos(Algorithm),
    /// SSE-KMS (`cos/kms`, KMS-VALUE).
    Kms,
}

/// The legacy spelling of the 2020 JS SDK (COS-ALG-LEGACY).
pub const LEGACY_AES256: &str = "AES-256";
/// The value that selects SSE-KMS (KMS-VALUE).
pub const KMS_VALUE: &str = "cos/kms";

/// Parses the mode header's value. Spellings are exact (COS-ALG-INVALID: `aes256`,
/// `DES` and the empty string are refused); `AES-256` follows the COS-ALG-LEGACY switch.
pub fn parse_mode(value: &str, behaviours: &Behaviours) -> Result<Mode, SseError> {
    if value == KMS_VALUE {
        return Ok(Mode::Kms);
    }
    if let Some(algorithm) = Algorithm::from_wire(value) {
        return Ok(Mode::Cos(algorithm));
    }
    if value == LEGACY_AES256 {
        return if behaviours.legacy_aes_spelling_accepted {
            Ok(Mode::Cos(Algorithm::Aes256))
        } else {
            Err(SseError::LegacyAlgorithm { header: SSE })
        };
    }
    Err(SseError::InvalidAlgorithm {
        header: SSE,
        value: printable(value),
    })
}

/// A header value made safe to quote in a message: short values quoted (control
/// characters replaced, since form fields may carry any byte), long ones only described,
/// so a key pasted into the wrong header is not echoed back.
pub(crate) fn printable(value: &str) -> String {
    let n = value.chars().count();
    if n > 16 {
        return format!("a {n}-character value");
    }
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{clean:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cos_alg_values() {
        let b = Behaviours::default();
        assert_eq!(parse_mode("AES256", &b), Ok(Mode::Cos(Algorithm::Aes256)));
        assert_eq!(parse_mode("SM4", &b), Ok(Mode::Cos(Algorithm::Sm4)));
        assert_eq!(parse_mode("cos/kms", &b), Ok(Mode::Kms));
    }

    #[test]
    fn cos_alg_invalid_values() {
        let b = Behaviours::default();
        for v in [
            "aes256", "DES", "", " AES256", "AES256 ", "sm4", "COS/KMS", "kms",
        ] {
            let e = parse_mode(v, &b).unwrap_err();
            assert_eq!(e.rule(), "COS-ALG-INVALID", "{v:?}");
            assert_eq!(e.code(), crate::error::ErrorCode::InvalidArgument);
        }
    }

    #[test]
    fn cos_alg_legacy_follows_the_switch() {
        let refused = Behaviours::default();
        let e = parse_mode("AES-256", &refused).unwrap_err();
        assert_eq!(e.rule(), "COS-ALG-LEGACY");
        let accepted = Behaviours {
            legacy_aes_spelling_accepted: true,
            ..Behaviours::default()
        };
        assert_eq!(
            parse_mode("AES-256", &accepted),
            Ok(Mode::Cos(Algorithm::Aes256))
        );
    }

    #[test]
    fn long_values_are_described_not_quoted() {
        let long = "x".repeat(1000);
        let e = parse_mode(&long, &Behaviours::default()).unwrap_err();
        assert!(e.to_string().ends_with("not a 1000-character value"), "{e}");
        let e = parse_mode("aes256", &Behaviours::default()).unwrap_err();
        assert!(e.to_string().ends_with(r#"not "aes256""#), "{e}");
    }
}
