//! The chunked AEAD at-rest format (AT-REST, RANGE): chunk cipher, streaming encryptor
//! and decryptor, and the range planner.

mod batch;
mod decryptor;
mod encryptor;
mod format;
mod layout;
mod sm4_gcm;

pub use decryptor::{decrypt_to_vec, Decryptor};
pub use encryptor::{encrypt_to_vec, Encryptor};
pub use format::{
    ChunkCipher, NoncePrefix, CHUNK_SIZE, FORMAT_VERSION, FRAME_SIZE, MAX_CHUNKS, NONCE_PREFIX_LEN,
    TAG_LEN,
};
pub use layout::{chunk_count, ciphertext_len, plaintext_len, RangePlan, MAX_PLAINTEXT_LEN};
