//! Streaming encryption: plaintext of any piece sizes in, sealed chunks out.

use super::format::{ChunkCipher, NoncePrefix, CHUNK_SIZE, FRAME_SIZE, MAX_CHUNKS};
use crate::algorithm::Algorithm;
use crate::data_key::DataKey;
use crate::error::{Error, Result};

/// Encrypts one object as a stream, holding at most one chunk in memory.
///
/// A full chunk is sealed only when more plaintext arrives, so [`Encryptor::finish`] can
/// seal the final chunk with the last-chunk flag whatever the object's length (an empty
/// object yields one empty last chunk). Chunks are encrypted in place in the encryptor's
/// own buffer; the frames it returns borrow that buffer until the next call.
///
/// ```
/// # use cos_emulator_crypto::{Algorithm, DataKey, Encryptor, NoncePrefix};
/// # fn main() -> Result<(), cos_emulator_crypto::Error> {
/// let key = DataKey::generate()?;
/// let mut enc = Encryptor::new(Algorithm::Aes256, &key, NoncePrefix::generate()?);
/// let mut stored = Vec::new();
/// for mut piece in [&b"hello "[..], &b"world"[..]] {
///     while let Some(frame) = enc.push(&mut piece)? {
///         stored.extend_from_slice(frame); // the store writes the frame to its temp file
///     }
/// }
/// stored.extend_from_slice(enc.finish()?);
/// assert_eq!(stored.len() as u64, cos_emulator_crypto::ciphertext_len(11)?);
/// # Ok(()) }
/// ```
pub struct Encryptor {
    cipher: ChunkCipher,
    buf: Vec<u8>,
    index: u64,
    /// `buf` holds a sealed frame already handed out; clear it before reuse.
    sealed: bool,
    finished: bool,
}

impl Encryptor {
    /// Starts a stream for one object.
    pub fn new(algorithm: Algorithm, key: &DataKey, prefix: NoncePrefix) -> Self {
        Encryptor {
            cipher: ChunkCipher::new(algorithm, key, prefix),
            buf: Vec::with_capacity(FRAME_SIZE),
            index: 0,
            sealed: false,
            finished: false,
        }
    }

    /// Takes plaintext from `input`, advancing it, until `input` is empty (`Ok(None)`) or
    /// a chunk is sealed (`Ok(Some(frame))`, input possibly not yet empty). Call again
    /// with the same `input` until it returns `None`.
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>> {
        if self.finished {
            return Err(Error::StreamFinished);
        }
        self.recycle();
        while !input.is_empty() {
            if self.buf.len() == CHUNK_SIZE {
                self.seal(false)?;
                return Ok(Some(&self.buf));
            }
            let n = (CHUNK_SIZE - self.buf.len()).min(input.len());
            let (head, tail) = input.split_at(n);
            self.buf.extend_from_slice(head);
            *input = tail;
        }
        Ok(None)
    }

    /// Seals the final chunk (possibly empty) and returns its frame. The stream then
    /// refuses further input.
    pub fn finish(&mut self) -> Result<&[u8]> {
        if self.finished {
            return Err(Error::StreamFinished);
        }
        self.recycle();
        self.seal(true)?;
        self.finished = true;
        Ok(&self.buf)
    }

    fn recycle(&mut self) {
        if self.sealed {
            self.buf.clear();
            self.sealed = false;
            self.index += 1;
        }
    }

    fn seal(&mut self, last: bool) -> Result<()> {
        if self.index >= MAX_CHUNKS {
            return Err(Error::TooLarge(
                self.index.saturating_mul(CHUNK_SIZE as u64),
            ));
        }
        self.cipher.seal_chunk(self.index, last, &mut self.buf)?;
        self.sealed = true;
        Ok(())
    }
}

/// Encrypts a whole in-memory plaintext (tests, small bodies).
pub fn encrypt_to_vec(
    algorithm: Algorithm,
    key: &DataKey,
    prefix: NoncePrefix,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(super::ciphertext_len(plaintext.len() as u64)? as usize);
    let mut enc = Encryptor::new(algorithm, key, prefix);
    let mut input = plaintext;
    while let Some(frame) = enc.push(&mut input)? {
        out.extend_from_slice(frame);
    }
    out.extend_from_slice(enc.finish()?);
    Ok(out)
}
