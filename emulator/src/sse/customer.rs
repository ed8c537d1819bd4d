//! SSE-C headers: algorithm, key and key MD5 (SSEC-ALG, SSEC-KEY, SSEC-KEY-UNPADDED,
//! SSEC-MD5, SSEC-MD5-OLD, SSEC-HEADERS-TOGETHER). The same rules serve the copy source's
//! key ([`super::copy_source`]) under other header names.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use cos_emulator_crypto::{Algorithm, CustomerKey};
use md5::{Digest as _, Md5};

use super::cos::printable;
use super::error::SseError;
use super::fields::{single, NamedValues};
use super::names;

/// Standard base64 that accepts input with or without `=` padding (SSEC-KEY-UNPADDED: the
/// JS sample key has none), still refusing non-canonical trailing bits.
pub(crate) const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A validated SSE-C key as a request gives it.
#[derive(Clone)]
pub struct CustomerSse {
    /// `AES256` or `SM4` (SSEC-ALG).
    pub algorithm: Algorithm,
    /// The 256-bit key; zeroized on drop, never stored (SSEC-NOT-STORED).
    pub key: CustomerKey,
    /// base64(MD5(key)), padded, to echo in responses (SSEC-ECHO). Computed from the key,
    /// so it is right even when SSEC-MD5-OLD lets the header be omitted.
    pub key_md5: String,
}

impl std::fmt::Debug for CustomerSse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerSse")
            .field("algorithm", &self.algorithm)
            // Key and key MD5 are secrets: the one redaction point prints them.
            .field("key", &crate::redact::Redacted::new(()))
            .field("key_md5", &crate::redact::Redacted::new(&self.key_md5))
            .finish()
    }
}

impl PartialEq for CustomerSse {
    fn eq(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm
            && self.key.as_bytes() == other.key.as_bytes()
            && self.key_md5 == other.key_md5
    }
}

impl Eq for CustomerSse {}

/// The three header names of one SSE-C key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyHeaders {
    pub(crate) algorithm: &'static str,
    pub(crate) key: &'static str,
    pub(crate) key_md5: &'static str,
}

/// The request's own SSE-C headers.
pub(crate) const HEADERS: KeyHeaders = KeyHeaders {
    algorithm: names::CUSTOMER_ALGORITHM,
    key: names::CUSTOMER_KEY,
    key_md5: names::CUSTOMER_KEY_MD5,
};

/// The first SSE-C header present, if any (for SSE-CONFLICT and SSEC-NOT-APPLICABLE).
pub(crate) fn first_present<F: NamedValues + ?Sized>(
    fields: &F,
) -> Result<Option<&'static str>, SseError> {
    first_present_of(fields, &HEADERS)
}

pub(crate) fn first_present_of<F: NamedValues + ?Sized>(
    fields: &F,
    h: &KeyHeaders,
) -> Result<Option<&'static str>, SseError> {
    for name in [h.algorithm, h.key, h.key_md5] {
        if single(fields, name)?.is_some() {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Parses the request's SSE-C headers; at least one of them is present.
pub fn parse<F: NamedValues + ?Sized>(
    fields: &F,
    behaviours: &crate::behaviour::Behaviours,
) -> Result<CustomerSse, SseError> {
    parse_with(fields, &HEADERS, behaviours)
}

/// Parses one set of SSE-C headers of which at least one is present.
pub(crate) fn parse_with<F: NamedValues + ?Sized>(
    fields: &F,
    h: &KeyHeaders,
    behaviours: &crate::behaviour::Behaviours,
) -> Result<CustomerSse, SseError> {
    let algorithm = single(fields, h.algorithm)?;
    let key = single(fields, h.key)?;
    let md5 = single(fields, h.key_md5)?;

    // SSEC-HEADERS-TOGETHER: algorithm and key always come as a pair.
    let (algorithm, key) = match (algorithm, key) {
        (Some(a), Some(k)) => (a, k),
        (Some(_), None) => return Err(incomplete(h.algorithm, h.key)),
        // SSEC-ALG-DEFAULT `aes256`: the algorithm header may be left out.
        (None, Some(k)) if behaviours.ssec_algorithm_defaults_to_aes256 => ("AES256", k),
        (None, Some(_)) => return Err(incomplete(h.key, h.algorithm)),
        (None, None) => return Err(incomplete(h.key_md5, h.key)),
    };
    // SSEC-ALG.
    let algorithm = Algorithm::from_wire(algorithm).ok_or_else(|| SseError::CustomerAlgorithm {
        header: h.algorithm,
        value: printable(algorithm),
    })?;
    let key = decode_key(key, h.key)?;
    // SSEC-KEY-TEXT `text-only`: "digits, letters, and special characters" read as a limit.
    if behaviours.ssec_key_text_only && !key.as_bytes().iter().all(|b| b.is_ascii_graphic()) {
        return Err(SseError::CustomerKey {
            header: h.key,
            reason: "is not 32 characters of printable ASCII".to_owned(),
        });
    }
    let digest: [u8; 16] = Md5::digest(key.as_bytes()).into();
    // SSEC-MD5, with SSEC-MD5-OLD deciding whether it may be left out.
    match md5 {
        Some(given) => check_md5(given, &digest, h.key_md5)?,
        None if behaviours.ssec_without_md5_accepted => {}
        None => return Err(SseError::CustomerKeyMd5Missing { header: h.key_md5 }),
    }
    Ok(CustomerSse {
        algorithm,
        key,
        key_md5: STANDARD.encode(digest),
    })
}

fn incomplete(present: &'static str, missing: &'static str) -> SseError {
    SseError::CustomerIncomplete { present, missing }
}

/// SSEC-KEY / SSEC-KEY-UNPADDED: base64, padded or not, of exactly 32 bytes.
fn decode_key(value: &str, header: &'static str) -> Result<CustomerKey, SseError> {
    CustomerKey::from_base64(value).map_err(|e| SseError::CustomerKey {
        header,
        reason: match e {
            cos_emulator_crypto::Error::CustomerKeyLength(n) => {
                format!("decodes to {n} bytes, not 32")
            }
            _ => "not base64".to_owned(),
        },
    })
}

/// SSEC-MD5: base64 of 16 bytes equal to MD5(key).
fn check_md5(given: &str, digest: &[u8; 16], header: &'static str) -> Result<(), SseError> {
    let decoded = BASE64_ANY_PADDING
        .decode(given.as_bytes())
        .ok()
        .filter(|d| d.len() == 16)
        .ok_or(SseError::CustomerKeyMd5Malformed { header })?;
    if decoded.as_slice() == digest {
        Ok(())
    } else {
        Err(SseError::CustomerKeyMd5Mismatch { header })
    }
}
