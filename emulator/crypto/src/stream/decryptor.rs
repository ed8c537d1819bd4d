//! Streaming decryption of a whole object or of a planned range.

use super::format::{ChunkCipher, NoncePrefix, FRAME_SIZE, TAG_LEN};
use super::layout::{chunk_plain_len, RangePlan};
use crate::algorithm::Algorithm;
use crate::data_key::DataKey;
use crate::error::{Error, Result};

/// Decrypts the chunks of a [`RangePlan`], holding at most one chunk in memory, and yields
/// only authenticated plaintext already trimmed to the requested range.
///
/// Feed it exactly the stored bytes the plan names (`ciphertext_len` bytes from
/// `ciphertext_offset`) in pieces of any size, then call [`Decryptor::finish`], which
/// reports a stream that ended early. Bytes beyond the plan are refused
/// ([`Error::TrailingData`]); a chunk that fails its tag yields
/// [`Error::ChunkAuthentication`] and nothing of that chunk.
///
/// ```
/// # use cos_emulator_crypto::*;
/// # fn main() -> Result<(), Error> {
/// # let key = DataKey::generate()?;
/// # let prefix = NoncePrefix::generate()?;
/// # let stored = encrypt_to_vec(Algorithm::Sm4, &key, prefix, b"hello world")?;
/// // GET with `Range: bytes=6-10` of an 11-byte object.
/// let plan = RangePlan::range(11, 6..11)?;
/// let start = plan.ciphertext_offset as usize;
/// let mut input = &stored[start..start + plan.ciphertext_len as usize];
/// let mut dec = Decryptor::new(Algorithm::Sm4, &key, prefix, plan);
/// let mut body = Vec::new();
/// while let Some(plain) = dec.push(&mut input)? {
///     body.extend_from_slice(plain); // the server sends this piece of the body
/// }
/// dec.finish()?;
/// assert_eq!(body, b"world");
/// # Ok(()) }
/// ```
pub struct Decryptor {
    cipher: ChunkCipher,
    plan: RangePlan,
    buf: Vec<u8>,
    /// Index of the chunk being collected.
    next: u64,
    /// `buf` holds plaintext already handed out; clear it before reuse.
    opened: bool,
    /// Chunk that failed authentication; the stream refuses to go on after it.
    failed: Option<u64>,
}

impl Decryptor {
    /// Starts decrypting the chunks of `plan` of one object.
    pub fn new(algorithm: Algorithm, key: &DataKey, prefix: NoncePrefix, plan: RangePlan) -> Self {
        let next = plan.first_chunk;
        Decryptor {
            cipher: ChunkCipher::new(algorithm, key, prefix),
            plan,
            buf: Vec::with_capacity(FRAME_SIZE),
            next,
            opened: false,
            failed: None,
        }
    }

    /// Takes stored bytes from `input`, advancing it, until `input` is empty (`Ok(None)`)
    /// or a chunk is verified (`Ok(Some(plaintext))`, possibly empty, input possibly not
    /// yet empty). Call again with the same `input` until it returns `None`.
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>> {
        self.check_failed()?;
        self.recycle();
        while !input.is_empty() {
            if self.next >= self.plan.end_chunk() {
                return Err(Error::TrailingData);
            }
            let frame_len = chunk_plain_len(self.plan.object_len, self.next) + TAG_LEN;
            let n = (frame_len - self.buf.len()).min(input.len());
            let (head, tail) = input.split_at(n);
            self.buf.extend_from_slice(head);
            *input = tail;
            if self.buf.len() == frame_len {
                return self.open().map(Some);
            }
        }
        Ok(None)
    }

    /// Confirms that every planned chunk arrived and verified.
    pub fn finish(&mut self) -> Result<()> {
        self.check_failed()?;
        self.recycle();
        if self.next != self.plan.end_chunk() {
            return Err(Error::Truncated {
                expected: self.plan.chunks,
                received: self.next - self.plan.first_chunk,
            });
        }
        Ok(())
    }

    /// The plan this decryptor follows.
    pub fn plan(&self) -> &RangePlan {
        &self.plan
    }

    fn check_failed(&self) -> Result<()> {
        match self.failed {
            Some(index) => Err(Error::ChunkAuthentication { index }),
            None => Ok(()),
        }
    }

    fn recycle(&mut self) {
        if self.opened {
            self.buf.clear();
            self.opened = false;
            self.next += 1;
        }
    }

    fn open(&mut self) -> Result<&[u8]> {
        let index = self.next;
        let last = index == self.plan.final_chunk();
        if let Err(e) = self.cipher.open_chunk(index, last, &mut self.buf) {
            self.failed = Some(index);
            return Err(e);
        }
        self.opened = true;
        let start = if index == self.plan.first_chunk {
            self.plan.skip_first
        } else {
            0
        };
        let end = if index + 1 == self.plan.end_chunk() {
            self.plan.take_last
        } else {
            self.buf.len()
        };
        Ok(&self.buf[start..end])
    }
}

/// Decrypts a whole stored object held in memory (tests, small bodies).
pub fn decrypt_to_vec(
    algorithm: Algorithm,
    key: &DataKey,
    prefix: NoncePrefix,
    object_len: u64,
    stored: &[u8],
) -> Result<Vec<u8>> {
    let plan = RangePlan::whole(object_len)?;
    let mut out = Vec::with_capacity(object_len.min(stored.len() as u64) as usize);
    let mut dec = Decryptor::new(algorithm, key, prefix, plan);
    let mut input = stored;
    while let Some(plain) = dec.push(&mut input)? {
        out.extend_from_slice(plain);
    }
    dec.finish()?;
    Ok(out)
}
