//! Per-object data keys and their sealing under a key-encryption key (UNIQUE-KEY).
//!
//! Every object (every multipart part) gets a fresh random 256-bit [`DataKey`]. It never
//! touches the disk in clear (AT-REST): the store keeps a [`SealedKey`], the data key
//! encrypted with AES-256-GCM under a key-encryption key ([`Kek`]) with AAD binding the
//! object's identity ([`ObjectRef`]) and protection mode ([`SseMode`]), so a sealed key
//! copied onto another object, or re-labelled as another mode, no longer opens.

use aes_gcm::aead::AeadInPlace as _;
use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce, Tag};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::encoding::{deserialize_b64_vec, fill_random, serialize_b64, Canonical};
use crate::error::{Error, Result};

/// Length of data keys and key-encryption keys in bytes.
pub const KEY_LEN: usize = 32;
const SEAL_NONCE_LEN: usize = 12;
const SEAL_TAG_LEN: usize = 16;
/// Length of a sealed data key: nonce ‖ encrypted key ‖ tag.
pub const SEALED_KEY_LEN: usize = SEAL_NONCE_LEN + KEY_LEN + SEAL_TAG_LEN;

/// A random 256-bit key that encrypts one object's content. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; KEY_LEN]);

impl DataKey {
    /// A fresh key from the operating system's generator (UNIQUE-KEY).
    pub fn generate() -> Result<Self> {
        let mut key = DataKey([0; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// The raw key bytes, for the content cipher.
    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A key-encryption key: a master-key version, a KMS CMK, or a key derived from an SSE-C
/// customer key. Zeroized on drop; never serialized.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Kek([u8; KEY_LEN]);

impl Kek {
    /// Wraps raw key bytes.
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Kek(bytes)
    }
}

/// Which SSE mode protects an object; bound into the sealing AAD so a sealed key cannot be
/// re-labelled as another mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SseMode {
    /// SSE-COS: server-managed master keys.
    #[serde(rename = "SSE-COS")]
    Cos,
    /// SSE-KMS: a CMK of the (emulated) KMS.
    #[serde(rename = "SSE-KMS")]
    Kms,
    /// SSE-C: a customer-provided key.
    #[serde(rename = "SSE-C")]
    Customer,
}

impl SseMode {
    /// A stable name, used in the AAD and in records.
    pub fn as_str(self) -> &'static str {
        match self {
            SseMode::Cos => "SSE-COS",
            SseMode::Kms => "SSE-KMS",
            SseMode::Customer => "SSE-C",
        }
    }
}

/// The identity of the stored object a data key belongs to.
///
/// `version` is whatever uniquely names this stored instance: the object's version id, or
/// a store-generated id per write (for multipart parts, e.g. upload id and part number),
/// so that a sealed key from an older write of the same key does not open for a newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// Bucket name including the appid suffix (`examplebucket-1250000000`).
    pub bucket: &'a str,
    /// The object key.
    pub key: &'a str,
    /// The stored instance's version or write id.
    pub version: &'a str,
}

impl ObjectRef<'_> {
    /// Appends the object's fields to a canonical encoding.
    pub(crate) fn encode_into(&self, c: &mut Canonical) {
        c.field(self.bucket.as_bytes())
            .field(self.key.as_bytes())
            .field(self.version.as_bytes());
    }
}

/// A data key encrypted under a key-encryption key: `nonce ‖ ciphertext ‖ tag`
/// (60 bytes), serialized as base64.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedKey(
    #[serde(
        serialize_with = "serialize_b64",
        deserialize_with = "deserialize_b64_vec"
    )]
    Vec<u8>,
);

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedKey({} bytes)", self.0.len())
    }
}

/// Seals `key` under `kek` with AES-256-GCM and a random nonce; `aad` binds the context.
pub(crate) fn seal(kek: &Kek, key: &DataKey, aad: &[u8]) -> Result<SealedKey> {
    let mut out = vec![0u8; SEALED_KEY_LEN];
    let (nonce, rest) = out.split_at_mut(SEAL_NONCE_LEN);
    fill_random(nonce)?;
    let (body, tag_out) = rest.split_at_mut(KEY_LEN);
    body.copy_from_slice(key.as_bytes());
    let cipher = Aes256Gcm::new(&kek.0.into());
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, body)
        .map_err(|_| Error::Unseal)?;
    tag_out.copy_from_slice(&tag);
    Ok(SealedKey(out))
}

/// Opens a sealed key; fails with [`Error::Unseal`] under any other KEK or AAD.
pub(crate) fn unseal(kek: &Kek, sealed: &SealedKey, aad: &[u8]) -> Result<DataKey> {
    if sealed.0.len() != SEALED_KEY_LEN {
        return Err(Error::MalformedSealedKey(sealed.0.len()));
    }
    let (nonce, rest) = sealed.0.split_at(SEAL_NONCE_LEN);
    let (body, tag) = rest.split_at(KEY_LEN);
    let mut key = DataKey([0; KEY_LEN]);
    key.0.copy_from_slice(body);
    let cipher = Aes256Gcm::new(&kek.0.into());
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            &mut key.0,
            Tag::from_slice(tag),
        )
        .map_err(|_| Error::Unseal)?;
    Ok(key)
}

/// The sealing AAD common to every mode: label, object identity and mode. Callers append
/// mode-specific fields (master-key version, CMK id and context).
pub(crate) fn binding(object: &ObjectRef<'_>, mode: SseMode) -> Canonical {
    let mut c = Canonical::new("cos-emulator/data-key/v1");
    object.encode_into(&mut c);
    c.field(mode.as_str().as_bytes());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(version: &str) -> ObjectRef<'_> {
        ObjectRef {
            bucket: "b-1250000000",
            key: "a/b.txt",
            version,
        }
    }

    fn aad(object: &ObjectRef<'_>, mode: SseMode) -> Vec<u8> {
        binding(object, mode).into_bytes()
    }

    #[test]
    fn seal_round_trip() {
        let kek = Kek::from_bytes([7; 32]);
        let key = DataKey::generate().unwrap();
        let sealed = seal(&kek, &key, &aad(&obj("v1"), SseMode::Cos)).unwrap();
        let opened = unseal(&kek, &sealed, &aad(&obj("v1"), SseMode::Cos)).unwrap();
        assert_eq!(opened.as_bytes(), key.as_bytes());
    }

    #[test]
    fn wrong_binding_or_kek_fails() {
        let kek = Kek::from_bytes([7; 32]);
        let key = DataKey::generate().unwrap();
        let sealed = seal(&kek, &key, &aad(&obj("v1"), SseMode::Cos)).unwrap();
        for wrong in [
            aad(&obj("v2"), SseMode::Cos),
            aad(&obj("v1"), SseMode::Kms),
            aad(
                &ObjectRef {
                    bucket: "b-1250000000",
                    key: "a/b.txu",
                    version: "v1",
                },
                SseMode::Cos,
            ),
        ] {
            assert!(matches!(unseal(&kek, &sealed, &wrong), Err(Error::Unseal)));
        }
        let other = Kek::from_bytes([8; 32]);
        assert!(matches!(
            unseal(&other, &sealed, &aad(&obj("v1"), SseMode::Cos)),
            Err(Error::Unseal)
        ));
    }

    #[test]
    fn sealed_keys_are_not_deterministic_and_do_not_contain_the_key() {
        let kek = Kek::from_bytes([7; 32]);
        let key = DataKey::generate().unwrap();
        let a = aad(&obj("v1"), SseMode::Cos);
        let s1 = seal(&kek, &key, &a).unwrap();
        let s2 = seal(&kek, &key, &a).unwrap();
        assert_ne!(s1, s2);
        assert!(!s1.0.windows(32).any(|w| w == key.as_bytes()));
    }

    #[test]
    fn malformed_sealed_key_is_an_error() {
        let kek = Kek::from_bytes([7; 32]);
        let short = SealedKey(vec![0; 10]);
        assert!(matches!(
            unseal(&kek, &short, b""),
            Err(Error::MalformedSealedKey(10))
        ));
    }

    #[test]
    fn debug_does_not_print_key_material() {
        let key = DataKey([0xAB; 32]);
        assert!(!format!("{key:?}").contains("171"));
        assert!(!format!("{key:?}").to_lowercase().contains("ab"));
    }
}
