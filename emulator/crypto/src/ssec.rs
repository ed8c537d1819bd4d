//! SSE-C: customer-provided keys (SSEC-WRONG-KEY, SSEC-NOT-STORED).
//!
//! The customer key never reaches anything serializable. The object's data key is sealed
//! under KEK = HMAC-SHA256(customer key, salt ‖ object id) with a random salt; the record
//! keeps only the salt and a verifier HMAC-SHA256(customer key, "verify" ‖ salt), which a
//! later request's key is checked against in constant time. Neither the key nor an
//! unsalted digest of it (such as the MD5 clients send) is ever stored.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::data_key::{binding, seal, unseal, DataKey, Kek, ObjectRef, SealedKey, SseMode};
use crate::encoding::{deserialize_b64_array, fill_random, hmac_sha256, serialize_b64, Canonical};
use crate::error::{Error, Result};

/// Standard base64 accepting input with or without padding; non-canonical trailing bits
/// are still refused.
const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 256-bit customer-provided key, as decoded from
/// `x-cos-server-side-encryption-customer-key`. Zeroized on drop; deliberately neither
/// `Serialize` nor printable.
#[derive(Clone)]
pub struct CustomerKey(Zeroizing<[u8; 32]>);

impl CustomerKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CustomerKey(Zeroizing::new(bytes))
    }

    /// Copies a decoded key, refusing any length but 32 (SSEC-KEY).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        if bytes.len() != key.len() {
            return Err(Error::CustomerKeyLength(bytes.len()));
        }
        key.copy_from_slice(bytes);
        Ok(CustomerKey(key))
    }

    /// Decodes a key as `x-cos-server-side-encryption-customer-key` carries it: standard
    /// base64 with or without `=` padding (SSEC-KEY-UNPADDED: the JS sample key has none)
    /// of exactly 32 bytes (SSEC-KEY). The decoded bytes are zeroized on every path.
    pub fn from_base64(text: &str) -> Result<Self> {
        // 32 bytes are 43 or 44 characters; refuse long input before decoding it.
        if text.len() > 64 {
            return Err(Error::CustomerKeyEncoding);
        }
        let mut buf = Zeroizing::new([0u8; 48]);
        let n = BASE64_ANY_PADDING
            .decode_slice(text.as_bytes(), &mut buf[..])
            .map_err(|_| Error::CustomerKeyEncoding)?;
        Self::from_slice(&buf[..n])
    }

    /// The raw key bytes (for the MD5 check of SSEC-MD5, done by the caller).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKey(<redacted>)")
    }
}

/// What the store keeps to recognise the customer key later: a random salt and a
/// verifier. Neither reveals the key (SSEC-NOT-STORED).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerKeyCheck {
    /// Random per-object salt.
    #[serde(
        serialize_with = "serialize_b64",
        deserialize_with = "deserialize_b64_array"
    )]
    pub salt: [u8; 32],
    /// HMAC-SHA256(customer key, "verify" ‖ salt).
    #[serde(
        serialize_with = "serialize_b64",
        deserialize_with = "deserialize_b64_array"
    )]
    pub verifier: [u8; 32],
}

impl std::fmt::Debug for CustomerKeyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerKeyCheck { .. }")
    }
}

impl CustomerKeyCheck {
    /// A fresh salt and its verifier for `key`.
    pub fn new(key: &CustomerKey) -> Result<Self> {
        let mut salt = [0u8; 32];
        fill_random(&mut salt)?;
        Ok(CustomerKeyCheck {
            salt,
            verifier: verifier(key, &salt),
        })
    }

    /// SSEC-WRONG-KEY: checks `key` against the verifier in constant time.
    pub fn verify(&self, key: &CustomerKey) -> Result<()> {
        let expected = verifier(key, &self.salt);
        if bool::from(expected.ct_eq(&self.verifier)) {
            Ok(())
        } else {
            Err(Error::CustomerKeyMismatch)
        }
    }
}

/// Seals `data_key` for `object` under a KEK derived from the customer key; returns the
/// check to store alongside the sealed key.
pub fn seal_with_customer_key(
    key: &CustomerKey,
    object: &ObjectRef<'_>,
    data_key: &DataKey,
) -> Result<(CustomerKeyCheck, SealedKey)> {
    let check = CustomerKeyCheck::new(key)?;
    let kek = kek(key, &check.salt, object);
    let sealed = seal(
        &kek,
        data_key,
        &binding(object, SseMode::Customer).into_bytes(),
    )?;
    Ok((check, sealed))
}

/// Verifies the customer key (→ [`Error::CustomerKeyMismatch`]) and opens the data key.
pub fn unseal_with_customer_key(
    key: &CustomerKey,
    check: &CustomerKeyCheck,
    object: &ObjectRef<'_>,
    sealed: &SealedKey,
) -> Result<DataKey> {
    check.verify(key)?;
    let kek = kek(key, &check.salt, object);
    unseal(
        &kek,
        sealed,
        &binding(object, SseMode::Customer).into_bytes(),
    )
}

fn verifier(key: &CustomerKey, salt: &[u8; 32]) -> [u8; 32] {
    hmac_sha256(key.as_bytes(), &[b"verify", salt])
}

/// KEK = HMAC-SHA256(customer key, salt ‖ object id); the salt has a fixed length and the
/// object id is a canonical encoding, so the input is unambiguous.
fn kek(key: &CustomerKey, salt: &[u8; 32], object: &ObjectRef<'_>) -> Kek {
    let mut id = Canonical::new("cos-emulator/sse-c/object");
    object.encode_into(&mut id);
    Kek::from_bytes(hmac_sha256(key.as_bytes(), &[salt, &id.into_bytes()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: ObjectRef<'static> = ObjectRef {
        bucket: "b-1250000000",
        key: "k",
        version: "1",
    };

    #[test]
    fn right_key_opens_wrong_key_is_refused() {
        let right = CustomerKey::from_bytes([1; 32]);
        let wrong = CustomerKey::from_bytes([2; 32]);
        let data = DataKey::generate().unwrap();
        let (check, sealed) = seal_with_customer_key(&right, &OBJ, &data).unwrap();
        assert!(check.verify(&right).is_ok());
        assert!(matches!(
            check.verify(&wrong),
            Err(Error::CustomerKeyMismatch)
        ));
        let opened = unseal_with_customer_key(&right, &check, &OBJ, &sealed).unwrap();
        assert_eq!(opened.as_bytes(), data.as_bytes());
        assert!(matches!(
            unseal_with_customer_key(&wrong, &check, &OBJ, &sealed),
            Err(Error::CustomerKeyMismatch)
        ));
    }

    #[test]
    fn sealed_key_is_bound_to_the_object() {
        let key = CustomerKey::from_bytes([1; 32]);
        let data = DataKey::generate().unwrap();
        let (check, sealed) = seal_with_customer_key(&key, &OBJ, &data).unwrap();
        let other = ObjectRef { key: "k2", ..OBJ };
        assert!(matches!(
            unseal_with_customer_key(&key, &check, &other, &sealed),
            Err(Error::Unseal)
        ));
    }

    #[test]
    fn salts_differ_and_the_record_holds_no_key_or_md5() {
        let key = CustomerKey::from_bytes(*b"0123456789ABCDEF0123456789ABCDEF");
        let a = CustomerKeyCheck::new(&key).unwrap();
        let b = CustomerKeyCheck::new(&key).unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.verifier, b.verifier);
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY"));
        assert!(!json.contains("0123456789ABCDEF"));
        let back: CustomerKeyCheck = serde_json::from_str(&json).unwrap();
        assert!(back.verify(&key).is_ok());
    }

    #[test]
    fn base64_keys_padded_or_not() {
        // SSEC-KEY-UNPADDED: the 001 JS sample key, and the same key padded.
        for text in [
            "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY",
            "MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUY=",
        ] {
            let k = CustomerKey::from_base64(text).unwrap();
            assert_eq!(k.as_bytes(), b"0123456789ABCDEF0123456789ABCDEF");
        }
        for (text, err) in [
            ("", "len"),
            ("MDEy", "len"),
            ("MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUZH", "len"),
            ("MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERU!", "enc"),
            ("MDEyMzQ1Njc4OUFCQ0RFRjAxMjM0NTY3ODlBQkNERUZ", "enc"),
            (&"A".repeat(100), "enc"),
        ] {
            let e = CustomerKey::from_base64(text).unwrap_err();
            match err {
                "len" => assert!(matches!(e, Error::CustomerKeyLength(_)), "{text}: {e:?}"),
                _ => assert!(matches!(e, Error::CustomerKeyEncoding), "{text}: {e:?}"),
            }
        }
    }

    #[test]
    fn key_length_is_checked() {
        assert!(matches!(
            CustomerKey::from_slice(&[0; 31]),
            Err(Error::CustomerKeyLength(31))
        ));
        assert!(CustomerKey::from_slice(&[0; 32]).is_ok());
        assert!(!format!("{:?}", CustomerKey::from_bytes([0x41; 32])).contains('A'));
    }
}
