//! Small encodings shared by the key modules: canonical length-prefixed byte strings
//! (the AAD of every key seal), base64 in serialized records, and system randomness.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac as _};
use rand::rngs::OsRng;
use rand::RngCore as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Builds a canonical, unambiguous byte string: a domain label, then every field as a
/// big-endian `u64` length followed by its bytes.
///
/// Length prefixes are what make the encoding injective (KMS-CONTEXT): `("ab", "c")` and
/// `("a", "bc")` encode differently, which plain concatenation would not guarantee.
#[derive(Debug, Default)]
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts an encoding under a domain label, so encodings for different purposes never
    /// collide.
    pub(crate) fn new(label: &str) -> Self {
        let mut c = Canonical(Vec::with_capacity(128));
        c.field(label.as_bytes());
        c
    }

    /// Appends one length-prefixed field.
    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Appends a count (for lists whose length must be bound, e.g. the context pairs).
    pub(crate) fn count(&mut self, n: usize) -> &mut Self {
        self.0.extend_from_slice(&(n as u64).to_be_bytes());
        self
    }

    /// The finished encoding.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Fills `buf` from the operating system's generator, reporting failure as a value.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| Error::Random(e.to_string()))
}

/// HMAC-SHA256 under a 256-bit key over the concatenation of `parts`.
///
/// Callers pass fixed-length or self-delimiting parts only, so the concatenation is
/// unambiguous. A 32-byte key is shorter than SHA-256's 64-byte block, and HMAC zero-pads
/// such keys; padding it here gives the standard HMAC with an infallible constructor.
pub(crate) fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Serializes bytes as standard base64 (for `#[serde(serialize_with)]`).
pub(crate) fn serialize_b64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(bytes))
}

/// Deserializes standard base64 into a fixed-size array, rejecting other lengths.
pub(crate) fn deserialize_b64_array<'de, D: Deserializer<'de>, const N: usize>(
    d: D,
) -> Result<[u8; N], D::Error> {
    let text = String::deserialize(d)?;
    let bytes = STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| D::Error::custom(format!("expected {N} bytes, got {}", bytes.len())))
}

/// Deserializes standard base64 into a byte vector.
pub(crate) fn deserialize_b64_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::Canonical;

    #[test]
    fn length_prefixes_keep_field_boundaries() {
        let mut a = Canonical::new("t");
        a.field(b"ab").field(b"c");
        let mut b = Canonical::new("t");
        b.field(b"a").field(b"bc");
        assert_ne!(a.into_bytes(), b.into_bytes());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2_shape() {
        // RFC 4231 test case 2 uses the 4-byte key "Jefe"; zero-padding it to 32 bytes is
        // the same HMAC key, so the published value must come out.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = super::hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn labels_separate_domains() {
        let mut a = Canonical::new("one");
        a.field(b"x");
        let mut b = Canonical::new("two");
        b.field(b"x");
        assert_ne!(a.into_bytes(), b.into_bytes());
    }
}
