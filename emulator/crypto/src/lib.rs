//! Cryptography of the COS SSE emulator: the chunked AEAD at-rest format, data-key
//! sealing, versioned master keys, the emulated KMS and SSE-C key derivation.
//!
//! Pure cryptography: no HTTP, and no I/O except the two small key files it owns (the
//! master keyring and the KMS state), written atomically with mode 0600.
//!
//! # Map
//! - [`stream`]: the at-rest format (AT-REST, RANGE): 64 KiB chunks sealed with
//!   AES-256-GCM or SM4-GCM, [`Encryptor`], [`Decryptor`], [`RangePlan`].
//! - [`DataKey`], [`SealedKey`], [`ObjectRef`]: one fresh key per object (UNIQUE-KEY),
//!   sealed with AAD binding bucket, key, version and mode.
//! - [`MasterKeyring`]: SSE-COS key-encryption keys, versioned for rotation.
//! - [`Kms`]: the emulated KMS (KMS-DEFAULT-KEY, KMS-KEY-ID, KMS-CONTEXT), its state in a
//!   local file or, through [`KmsStateStore`], in a blob shared by several processes.
//! - [`CustomerKey`], [`CustomerKeyCheck`]: SSE-C (SSEC-WRONG-KEY, SSEC-NOT-STORED).
//! - [`Keys`], [`EncryptionRecord`]: the façade the store uses, and what it stores.
//!
//! # Use from the store
//! ```
//! use cos_emulator_crypto::*;
//! # fn main() -> Result<(), Error> {
//! let keys = Keys::in_memory()?; // Keys::open(master_file, kms_file) in the server
//! let object = ObjectRef { bucket: "b-1250000000", key: "a.txt", version: "v1" };
//!
//! // PUT: a fresh data key, the record to store, and the encrypted stream.
//! let (data_key, record) = keys.new_object(Algorithm::Aes256, Protection::Cos, &object)?;
//! let mut enc = record.encryptor(&data_key)?;
//! let mut stored = Vec::new(); // the store's temporary file
//! let mut body: &[u8] = b"0123456789";
//! while let Some(frame) = enc.push(&mut body)? {
//!     stored.extend_from_slice(frame);
//! }
//! stored.extend_from_slice(enc.finish()?);
//!
//! // GET with Range: bytes=2-4 (the record and plaintext length come from metadata).
//! let data_key = keys.open_object(&record, "1250000000", None, &object)?;
//! let plan = RangePlan::range(10, 2..5)?;
//! let at = plan.ciphertext_offset as usize;
//! let mut input = &stored[at..at + plan.ciphertext_len as usize];
//! let mut dec = record.decryptor(&data_key, plan)?;
//! let mut out = Vec::new();
//! while let Some(plain) = dec.push(&mut input)? {
//!     out.extend_from_slice(plain);
//! }
//! dec.finish()?;
//! assert_eq!(out, b"234");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod algorithm;
mod data_key;
mod encoding;
mod error;
mod fsutil;
mod kms;
mod kms_state;
mod master;
mod record;
mod ssec;
pub mod stream;

pub use algorithm::Algorithm;
pub use data_key::{DataKey, ObjectRef, SealedKey, SseMode, KEY_LEN, SEALED_KEY_LEN};
pub use error::{Error, Result};
pub use kms::{Kms, KmsKey};
pub use kms_state::{KmsStateStore, StateVersion};
pub use master::{MasterKeyVersion, MasterKeyring};
pub use record::{EncryptionRecord, KeyRecord, Keys, Protection};
pub use ssec::{seal_with_customer_key, unseal_with_customer_key, CustomerKey, CustomerKeyCheck};
pub use stream::{
    ciphertext_len, decrypt_to_vec, encrypt_to_vec, plaintext_len, ChunkCipher, Decryptor,
    Encryptor, NoncePrefix, RangePlan, CHUNK_SIZE, TAG_LEN,
};
