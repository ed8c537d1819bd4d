//! Streaming decryption of a whole object or of a planned range.

use super::batch::{self, Batching};
use super::format::{ChunkCipher, NoncePrefix, FRAME_SIZE, TAG_LEN};
use super::layout::{chunk_plain_len, RangePlan};
use crate::algorithm::Algorithm;
use crate::data_key::DataKey;
use crate::error::{Error, Result};

/// Decrypts the chunks of a [`RangePlan`], holding at most one batch of chunks in memory
/// (one 64 KiB chunk for AES-256; for SM4 a few per core, opened in parallel), and yields
/// only authenticated plaintext already trimmed to the requested range.
///
/// Feed it exactly the stored bytes the plan names (`ciphertext_len` bytes from
/// `ciphertext_offset`) in pieces of any size, then call [`Decryptor::finish`], which
/// reports a stream that ended early. Bytes beyond the plan are refused
/// ([`Error::TrailingData`]); a chunk that fails its tag yields
/// [`Error::ChunkAuthentication`] and nothing of that chunk (the verified chunks before it
/// are yielded first).
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
    batching: Batching,
    plan: RangePlan,
    /// `batching.chunks` frame slots at `FRAME_SIZE` stride.
    buf: Vec<u8>,
    /// Index of the chunk in slot 0.
    next: u64,
    /// Complete frames collected in the slots.
    full: usize,
    /// Bytes collected of the frame after them.
    partial: usize,
    /// Chunks of `buf` opened and handed out; dropped on the next call.
    opened: usize,
    /// Chunk that failed authentication; the stream refuses to go on after it.
    failed: Option<u64>,
    /// Where in `buf` the plaintext of the batch last opened lies.
    released: std::ops::Range<usize>,
}

impl Decryptor {
    /// Starts decrypting the chunks of `plan` of one object.
    pub fn new(algorithm: Algorithm, key: &DataKey, prefix: NoncePrefix, plan: RangePlan) -> Self {
        let mut batching = Batching::for_algorithm(algorithm);
        // A short range (a 1-byte Range GET) holds only the chunks it needs.
        batching.chunks = batching
            .chunks
            .min(usize::try_from(plan.chunks).unwrap_or(usize::MAX))
            .max(1);
        let next = plan.first_chunk;
        Decryptor {
            cipher: ChunkCipher::new(algorithm, key, prefix),
            batching,
            buf: vec![0; batching.chunks * FRAME_SIZE],
            plan,
            next,
            full: 0,
            partial: 0,
            opened: 0,
            failed: None,
            released: 0..0,
        }
    }

    /// Takes stored bytes from `input`, advancing it, until `input` is empty (`Ok(None)`)
    /// or chunks are verified (`Ok(Some(plaintext))`, possibly empty, input possibly not
    /// yet empty). Call again with the same `input` until it returns `None`.
    pub fn push<'a>(&'a mut self, input: &mut &[u8]) -> Result<Option<&'a [u8]>> {
        self.check_failed()?;
        self.recycle();
        while !input.is_empty() {
            let room = self.room()?;
            if room.is_empty() {
                return Err(Error::TrailingData);
            }
            let n = room.len().min(input.len());
            room[..n].copy_from_slice(&input[..n]);
            *input = &input[n..];
            if self.take(n)? {
                return Ok(Some(self.plaintext()));
            }
        }
        Ok(None)
    }

    /// Where the next stored bytes go: the rest of the frame being collected, empty once
    /// every planned chunk has arrived. Reading stored bytes straight into it (then
    /// [`Decryptor::advance`]) saves [`Decryptor::push`]'s copy of them.
    pub fn room(&mut self) -> Result<&mut [u8]> {
        self.check_failed()?;
        self.recycle();
        let collecting = self.next + self.full as u64;
        if collecting >= self.plan.end_chunk() {
            return Ok(&mut []);
        }
        let at = self.full * FRAME_SIZE + self.partial;
        let left = self.frame_len(collecting) - self.partial;
        Ok(&mut self.buf[at..at + left])
    }

    /// Takes the first `n` bytes written into [`Decryptor::room`] as stored bytes; returns
    /// the plaintext of the chunks this completes and verifies (as [`Decryptor::push`]),
    /// else `None`. `n` larger than the room is [`Error::TrailingData`].
    pub fn advance(&mut self, n: usize) -> Result<Option<&[u8]>> {
        if self.take(n)? {
            Ok(Some(self.plaintext()))
        } else {
            Ok(None)
        }
    }

    /// Counts `n` bytes written into the room; `true` when that completed a batch, which
    /// is then opened (its plaintext is [`Decryptor::plaintext`]).
    fn take(&mut self, n: usize) -> Result<bool> {
        if n > self.room()?.len() {
            return Err(Error::TrailingData);
        }
        let collecting = self.next + self.full as u64;
        self.partial += n;
        if n == 0 || self.partial < self.frame_len(collecting) {
            return Ok(false);
        }
        self.full += 1;
        self.partial = 0;
        if self.full == self.batching.chunks || collecting + 1 == self.plan.end_chunk() {
            self.open()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The plaintext of the batch last opened.
    fn plaintext(&self) -> &[u8] {
        &self.buf[self.released.clone()]
    }

    /// Confirms that every planned chunk arrived and verified.
    pub fn finish(&mut self) -> Result<()> {
        self.check_failed()?;
        self.recycle();
        if self.next != self.plan.end_chunk() {
            // Whole frames still waiting for their batch count as received: the stream
            // is refused for the chunks that never came.
            return Err(Error::Truncated {
                expected: self.plan.chunks,
                received: self.next - self.plan.first_chunk + self.full as u64,
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

    fn frame_len(&self, index: u64) -> usize {
        chunk_plain_len(self.plan.object_len, index) + TAG_LEN
    }

    fn recycle(&mut self) {
        if self.opened > 0 {
            self.next += self.opened as u64;
            self.opened = 0;
            self.full = 0;
        }
    }

    /// Opens the collected frames; the plaintext of those that verified, up to the first
    /// that did not (which is then reported on the next call), compacted and trimmed to the
    /// plan, becomes [`Decryptor::plaintext`].
    fn open(&mut self) -> Result<()> {
        let lens: Vec<usize> = (0..self.full as u64)
            .map(|j| self.frame_len(self.next + j))
            .collect();
        let (pieces, failure) = open_frames_in(
            &self.cipher,
            self.batching.workers,
            &self.plan,
            &mut self.buf,
            self.next,
            &lens,
        );
        if let Some((index, e)) = failure {
            self.failed = Some(index);
            if pieces.is_empty() {
                self.full = 0;
                return Err(e);
            }
        }
        self.opened = pieces.len();
        // Frames sit at `FRAME_SIZE` stride with their tags between them: move each
        // piece up against the one before (the first stays where it is, so a batch of one
        // chunk, AES-256's, is never copied).
        let base = pieces[0].start;
        let mut out = base;
        for piece in pieces {
            if piece.start != out {
                self.buf.copy_within(piece.clone(), out);
            }
            out += piece.len();
        }
        self.released = base..out;
        Ok(())
    }

    /// Stored bytes of the next `chunks` frames of the plan (fewer at its end, 0 once
    /// every planned frame has been opened): what to read for [`Decryptor::open_frames`].
    pub fn frames_len(&self, chunks: usize) -> usize {
        let from = self.next + self.opened as u64 + self.full as u64;
        let to = self.plan.end_chunk().min(from + chunks as u64);
        (from..to).map(|i| self.frame_len(i)).sum()
    }

    /// Opens, in place, whole frames the caller read into `frames`: the next frames of the
    /// plan, back to back as they are stored (any number, the last possibly the short
    /// final one). Returns where in `frames` the plaintext of each frame that verified
    /// lies, trimmed to the plan, in order. Nothing is copied: the caller can hand
    /// `frames` on as the body (a GET sends slices of it to the socket).
    ///
    /// As with [`Decryptor::push`], a frame that fails its tag ends the stream: the
    /// frames before it are returned and the failure comes on the next call (or from
    /// [`Decryptor::finish`]); if the first frame fails, the error comes at once, and no
    /// unauthenticated byte is left in `frames`. A partial frame, or frames beyond the
    /// plan, are [`Error::Truncated`] and [`Error::TrailingData`]. Not to be mixed with
    /// [`Decryptor::push`] or [`Decryptor::room`] on one decryptor.
    pub fn open_frames(&mut self, frames: &mut [u8]) -> Result<Vec<std::ops::Range<usize>>> {
        self.check_failed()?;
        self.recycle();
        if self.full > 0 || self.partial > 0 {
            // Bytes pushed earlier would have to come first: the caller mixed the APIs.
            return Err(Error::TrailingData);
        }
        let mut lens = Vec::new();
        let mut at = 0;
        while at < frames.len() {
            let index = self.next + lens.len() as u64;
            if index >= self.plan.end_chunk() {
                return Err(Error::TrailingData);
            }
            let len = self.frame_len(index);
            if frames.len() - at < len {
                return Err(Error::Truncated {
                    expected: self.plan.chunks,
                    received: index - self.plan.first_chunk,
                });
            }
            lens.push(len);
            at += len;
        }
        if lens.is_empty() {
            return Ok(Vec::new());
        }
        let (pieces, failure) = open_frames_in(
            &self.cipher,
            self.batching.workers,
            &self.plan,
            frames,
            self.next,
            &lens,
        );
        if let Some((index, e)) = failure {
            self.failed = Some(index);
            if pieces.is_empty() {
                return Err(e);
            }
        }
        self.next += pieces.len() as u64;
        Ok(pieces)
    }
}

/// Opens the frames in `buf` (frame `j` at `j * FRAME_SIZE`, chunk `first + j` of `plan`,
/// `lens[j]` stored bytes). Returns, for each frame that verified up to the first that did
/// not, where in `buf` the plaintext the plan wants from it lies; and that first failure,
/// with its chunk index.
fn open_frames_in(
    cipher: &ChunkCipher,
    workers: usize,
    plan: &RangePlan,
    buf: &mut [u8],
    first: u64,
    lens: &[usize],
) -> (Vec<std::ops::Range<usize>>, Option<(u64, Error)>) {
    // The range's first and last chunks are needed only from `skip_first` and up to
    // `take_last`: each is still verified whole, but only those bytes need decrypting
    // (a 1-byte Range GET decrypts a block, not 64 KiB).
    let want = |index: u64| {
        let from = if index == plan.first_chunk {
            plan.skip_first
        } else {
            0
        };
        let to = if index + 1 == plan.end_chunk() {
            plan.take_last
        } else {
            usize::MAX
        };
        from..to
    };
    let results = batch::open(cipher, workers, buf, first, lens, plan.final_chunk(), &want);
    let mut pieces = Vec::with_capacity(results.len());
    for (j, result) in results.into_iter().enumerate() {
        let index = first + j as u64;
        match result {
            Ok(plain_len) => {
                let wanted = want(index);
                let at = j * FRAME_SIZE;
                pieces.push(at + wanted.start..at + wanted.end.min(plain_len));
            }
            Err(e) => return (pieces, Some((index, e))),
        }
    }
    (pieces, None)
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
