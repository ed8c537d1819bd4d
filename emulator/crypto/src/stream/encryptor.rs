//! Streaming encryption: plaintext of any piece sizes in, sealed chunks out.

use super::batch::{self, Batching};
use super::format::{ChunkCipher, NoncePrefix, CHUNK_SIZE, FRAME_SIZE, MAX_CHUNKS};
use crate::algorithm::Algorithm;
use crate::data_key::DataKey;
use crate::error::{Error, Result};

/// Encrypts one object as a stream, holding at most one batch of chunks in memory (one
/// 64 KiB chunk for AES-256; for SM4 a few chunks per core, sealed in parallel).
///
/// Full chunks are sealed only when more plaintext arrives, so [`Encryptor::finish`] can
/// seal the final chunk with the last-chunk flag whatever the object's length (an empty
/// object yields one empty last chunk). Chunks are encrypted in place in the encryptor's
/// own buffer; the frames it returns (one or more, contiguous) borrow that buffer until
/// the next call.
///
/// ```
/// # use cos_emulator_crypto::{Algorithm, DataKey, Encryptor, NoncePrefix};
/// # fn main() -> Result<(), cos_emulator_crypto::Error> {
/// let key = DataKey::generate()?;
/// let mut enc = Encryptor::new(Algorithm::Aes256, &key, NoncePrefix::generate()?);
/// let mut stored = Vec::new();
/// for mut piece in [&b"hello "[..], &b"world"[..]] {
///     while let Some(frames) = enc.push(&mut piece)? {
///         stored.extend_from_slice(frames); // the store writes them to its temp file
///     }
/// }
/// stored.extend_from_slice(enc.finish()?);
/// assert_eq!(stored.len() as u64, cos_emulator_crypto::ciphertext_len(11)?);
/// # Ok(()) }
/// ```
pub struct Encryptor {
    cipher: ChunkCipher,
    batching: Batching,
    /// `batching.chunks` frame slots at `FRAME_SIZE` stride.
    buf: Vec<u8>,
    /// Plaintext bytes held in `buf` (chunk `j` of them in slot `j`).
    pending: usize,
    /// Index of the chunk in slot 0.
    index: u64,
    /// Chunks of `buf` sealed and handed out; dropped on the next call.
    sealed: usize,
    finished: bool,
}

impl Encryptor {
    /// Starts a stream for one object.
    pub fn new(algorithm: Algorithm, key: &DataKey, prefix: NoncePrefix) -> Self {
        let batching = Batching::for_algorithm(algorithm);
        Encryptor {
            cipher: ChunkCipher::new(algorithm, key, prefix),
            batching,
            buf: vec![0; batching.chunks * FRAME_SIZE],
            pending: 0,
            index: 0,
            sealed: 0,
            finished: false,
        }
    }

    /// Takes plaintext from `input`, advancing it, until `input` is empty (`Ok(None)`) or
    /// chunks are sealed (`Ok(Some(frames))`, input possibly not yet empty). Call again
    /// with the same `input` until it returns `None`.
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>> {
        if self.finished {
            return Err(Error::StreamFinished);
        }
        self.recycle();
        let capacity = self.batching.chunks * CHUNK_SIZE;
        while !input.is_empty() {
            if self.pending == capacity {
                let n = self.batching.chunks;
                self.seal(&vec![CHUNK_SIZE; n], false)?;
                return Ok(Some(&self.buf[..n * FRAME_SIZE]));
            }
            let (slot, offset) = (self.pending / CHUNK_SIZE, self.pending % CHUNK_SIZE);
            let n = (CHUNK_SIZE - offset).min(input.len());
            let (head, tail) = input.split_at(n);
            let at = slot * FRAME_SIZE + offset;
            self.buf[at..at + n].copy_from_slice(head);
            self.pending += n;
            *input = tail;
        }
        Ok(None)
    }

    /// Seals the chunks held, the last one (possibly empty) as final, and returns their
    /// frames. The stream then refuses further input.
    pub fn finish(&mut self) -> Result<&[u8]> {
        if self.finished {
            return Err(Error::StreamFinished);
        }
        self.recycle();
        let full = self.pending / CHUNK_SIZE;
        let rest = self.pending % CHUNK_SIZE;
        // The final chunk is the partial one, or the last full one (an object whose
        // length is a multiple of the chunk size), or an empty one (an empty object).
        let mut lens = vec![CHUNK_SIZE; full];
        if rest > 0 || full == 0 {
            lens.push(rest);
        }
        self.seal(&lens, true)?;
        self.finished = true;
        let end = (lens.len() - 1) * FRAME_SIZE + lens[lens.len() - 1] + super::TAG_LEN;
        Ok(&self.buf[..end])
    }

    fn recycle(&mut self) {
        if self.sealed > 0 {
            self.index += self.sealed as u64;
            self.sealed = 0;
            self.pending = 0;
        }
    }

    fn seal(&mut self, lens: &[usize], last_is_final: bool) -> Result<()> {
        if self.index + lens.len() as u64 > MAX_CHUNKS {
            return Err(Error::TooLarge(
                self.index.saturating_mul(CHUNK_SIZE as u64),
            ));
        }
        let workers = self.batching.workers;
        batch::seal(
            &self.cipher,
            workers,
            &mut self.buf,
            self.index,
            lens,
            last_is_final,
        )?;
        self.sealed = lens.len();
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
    while let Some(frames) = enc.push(&mut input)? {
        out.extend_from_slice(frames);
    }
    out.extend_from_slice(enc.finish()?);
    Ok(out)
}
