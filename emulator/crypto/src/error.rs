//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can go wrong while sealing, opening, encrypting or decrypting.
///
/// The variants are deliberately distinct so the emulator can map each one to its own COS
/// answer (for example [`Error::CustomerKeyMismatch`] → 403 `AccessDenied`,
/// [`Error::KmsKeyDisabled`] → 400 `KmsKeyDisabled`, integrity failures → a 500
/// before the status line or an aborted body), never to wrong bytes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A chunk failed its authentication tag check (AT-REST): the stored bytes were
    /// flipped, reordered, dropped, spliced from another object, or opened with the wrong
    /// data key. No plaintext of that chunk is released.
    #[error("chunk {index} failed authentication: stored data is damaged or was tampered with")]
    ChunkAuthentication {
        /// Index of the chunk whose tag did not verify.
        index: u64,
    },
    /// The ciphertext stream ended before the last planned chunk arrived (truncation).
    #[error("ciphertext ends early: {received} of {expected} chunks arrived")]
    Truncated {
        /// Number of chunks the plan expected.
        expected: u64,
        /// Number of complete chunks received.
        received: u64,
    },
    /// More ciphertext arrived after the last planned chunk (an appended or extended
    /// stream).
    #[error("ciphertext continues after its last chunk")]
    TrailingData,
    /// A ciphertext length that no plaintext length maps to.
    #[error("{0} bytes is not a valid length for the chunked ciphertext format")]
    InvalidCiphertextLength(u64),
    /// A plaintext range that is empty or does not lie inside the object.
    #[error("range {start}..{end} is not inside an object of {len} bytes")]
    InvalidRange {
        /// First byte of the requested range.
        start: u64,
        /// One past the last byte of the requested range.
        end: u64,
        /// Plaintext length of the object.
        len: u64,
    },
    /// The object would need more chunks than the 32-bit chunk index can number.
    #[error("object of {0} bytes exceeds the largest encryptable size")]
    TooLarge(u64),
    /// Plaintext or ciphertext was pushed into a stream that has already finished.
    #[error("the stream has already finished")]
    StreamFinished,
    /// A record written by a newer (or unknown) at-rest format version.
    #[error("unsupported at-rest format version {0}")]
    UnsupportedFormat(u8),
    /// A sealed data key did not open (UNIQUE-KEY sealing): wrong key-encryption key, a
    /// different binding (bucket, key, version, mode, KMS context), or tampered metadata.
    #[error("the sealed data key does not open under this key and binding")]
    Unseal,
    /// A sealed key record has the wrong length to be a sealed 256-bit key.
    #[error("malformed sealed key: {0} bytes")]
    MalformedSealedKey(usize),
    /// The object was sealed under a master-key version this keyring does not have.
    #[error("master key version {0} is not in the keyring")]
    MasterKeyVersionUnknown(u32),
    /// KMS-KEY-ID: the key id names no CMK of this account.
    #[error("KMS key {key_id} does not exist for this account")]
    KmsKeyNotFound {
        /// The key id as given.
        key_id: String,
    },
    /// KMS-KEY-ID: the CMK exists but is disabled; neither new seals nor unseals are
    /// allowed, as in Tencent KMS.
    #[error("KMS key {key_id} is disabled")]
    KmsKeyDisabled {
        /// The disabled key's id.
        key_id: String,
    },
    /// SSEC-WRONG-KEY: the customer key does not match the verifier stored with the
    /// object.
    #[error("the customer-provided key does not match the object's key")]
    CustomerKeyMismatch,
    /// SSEC-GET-NEEDS-KEY: an SSE-C object was opened without a customer key.
    #[error("the object is encrypted with a customer-provided key and none was given")]
    CustomerKeyRequired,
    /// A customer key that is not base64 (SSEC-KEY).
    #[error("a customer key must be base64")]
    CustomerKeyEncoding,
    /// A customer key that is not exactly 32 bytes (SSEC-KEY).
    #[error("a customer key must be 32 bytes, got {0}")]
    CustomerKeyLength(usize),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// Reading or writing a key file (master keyring, KMS state) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key file exists but its content is not a valid keyring or KMS state.
    #[error("{path}: invalid key file: {reason}")]
    KeyFile {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The store that holds the KMS state when it is not a local file (a
    /// [`KmsStateStore`](crate::KmsStateStore)) failed, or holds a blob that is not a valid
    /// KMS state. The reason never quotes the blob, which holds key material.
    #[error("KMS state store: {reason}")]
    KeyStore {
        /// What went wrong.
        reason: String,
    },
    /// Every attempt to change the KMS state in its store lost the compare-and-swap to
    /// another writer; nothing was changed, and the operation may be retried.
    #[error(
        "KMS state store: the state changed under each of {attempts} attempts to write it; gave up"
    )]
    KeyStoreContended {
        /// How many writes were attempted.
        attempts: u32,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
