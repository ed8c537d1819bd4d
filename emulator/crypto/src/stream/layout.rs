//! Plaintext ↔ ciphertext lengths and the range planner (RANGE, SIZE-UNCHANGED).
//!
//! A Range GET decrypts only the chunks it covers: [`RangePlan`] says which stored bytes
//! to read and which decrypted bytes to keep.

use std::ops::Range;

use super::format::{CHUNK_SIZE, FRAME_SIZE, MAX_CHUNKS, TAG_LEN};
use crate::error::{Error, Result};

const CHUNK: u64 = CHUNK_SIZE as u64;
const FRAME: u64 = FRAME_SIZE as u64;
const TAG: u64 = TAG_LEN as u64;

/// Largest plaintext one stream can hold.
pub const MAX_PLAINTEXT_LEN: u64 = MAX_CHUNKS * CHUNK;

/// Number of chunks a plaintext of `len` bytes is stored in (an empty object is one empty
/// chunk).
pub fn chunk_count(len: u64) -> Result<u64> {
    if len > MAX_PLAINTEXT_LEN {
        return Err(Error::TooLarge(len));
    }
    Ok(len.div_ceil(CHUNK).max(1))
}

/// Stored length of a plaintext of `len` bytes: `len + 16 × chunks`.
pub fn ciphertext_len(len: u64) -> Result<u64> {
    Ok(len + TAG * chunk_count(len)?)
}

/// Plaintext length of a stored stream of `len` bytes, or an error when no plaintext
/// length produces it (a damaged or foreign file).
pub fn plaintext_len(len: u64) -> Result<u64> {
    let (full, rest) = (len / FRAME, len % FRAME);
    let plain = match rest {
        0 if full > 0 => full * CHUNK,
        r if r >= TAG => full * CHUNK + (r - TAG),
        _ => return Err(Error::InvalidCiphertextLength(len)),
    };
    if chunk_count(plain)? > MAX_CHUNKS {
        return Err(Error::InvalidCiphertextLength(len));
    }
    Ok(plain)
}

/// Plaintext length of chunk `index` in an object of `object_len` bytes.
pub(crate) fn chunk_plain_len(object_len: u64, index: u64) -> usize {
    let start = index * CHUNK;
    // Chunk sizes are at most CHUNK_SIZE, so the cast cannot truncate.
    object_len.saturating_sub(start).min(CHUNK) as usize
}

/// Which stored bytes a plaintext read needs and which decrypted bytes it keeps.
///
/// Built by [`RangePlan::whole`] or [`RangePlan::range`]; hand it to
/// [`super::Decryptor::new`], which applies the trimming itself. The public fields are for
/// the store: read `ciphertext_len` bytes starting at `ciphertext_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangePlan {
    /// Plaintext length of the whole object.
    pub object_len: u64,
    /// Index of the first chunk to read.
    pub first_chunk: u64,
    /// Number of chunks to read (at least 1).
    pub chunks: u64,
    /// Offset of the first chunk in the stored stream.
    pub ciphertext_offset: u64,
    /// Stored bytes to read.
    pub ciphertext_len: u64,
    /// Bytes to drop from the start of the first decrypted chunk.
    pub skip_first: usize,
    /// Bytes to keep from the last decrypted chunk (counted from its start).
    pub take_last: usize,
    /// Plaintext bytes the read yields (the range length).
    pub len: u64,
}

impl RangePlan {
    /// The plan for reading a whole object (also an empty one: one empty chunk, whose
    /// tag is still verified).
    pub fn whole(object_len: u64) -> Result<Self> {
        let chunks = chunk_count(object_len)?;
        Ok(RangePlan {
            object_len,
            first_chunk: 0,
            chunks,
            ciphertext_offset: 0,
            ciphertext_len: ciphertext_len(object_len)?,
            skip_first: 0,
            take_last: chunk_plain_len(object_len, chunks - 1),
            len: object_len,
        })
    }

    /// The plan for the plaintext bytes `range` (half-open, non-empty, inside the object).
    /// Translate an HTTP `bytes=a-b` into `a..b+1` first.
    pub fn range(object_len: u64, range: Range<u64>) -> Result<Self> {
        if range.start >= range.end || range.end > object_len {
            return Err(Error::InvalidRange {
                start: range.start,
                end: range.end,
                len: object_len,
            });
        }
        chunk_count(object_len)?;
        let first = range.start / CHUNK;
        let last = (range.end - 1) / CHUNK;
        let end_of_last = (last * CHUNK + CHUNK).min(object_len);
        let stored_end = end_of_last + TAG * (last + 1);
        let offset = first * FRAME;
        Ok(RangePlan {
            object_len,
            first_chunk: first,
            chunks: last - first + 1,
            ciphertext_offset: offset,
            ciphertext_len: stored_end - offset,
            // Both are below CHUNK_SIZE / at most CHUNK_SIZE, so the casts are exact.
            skip_first: (range.start - first * CHUNK) as usize,
            take_last: (range.end - last * CHUNK) as usize,
            len: range.end - range.start,
        })
    }

    /// Index one past the last chunk of the plan.
    pub(crate) fn end_chunk(&self) -> u64 {
        self.first_chunk + self.chunks
    }

    /// Index of the object's final chunk (the one sealed with the last flag).
    pub(crate) fn final_chunk(&self) -> u64 {
        // chunk_count succeeded when the plan was built.
        self.object_len.div_ceil(CHUNK).max(1) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_at_chunk_boundaries() {
        for (plain, stored) in [
            (0, 16),
            (1, 17),
            (65_535, 65_551),
            (65_536, 65_552),
            (65_537, 65_569),
            (98_304, 98_336),
        ] {
            assert_eq!(ciphertext_len(plain).unwrap(), stored, "plain {plain}");
            assert_eq!(plaintext_len(stored).unwrap(), plain, "stored {stored}");
        }
    }

    #[test]
    fn impossible_stored_lengths_are_refused() {
        for bad in [0, 1, 15, FRAME + 1, FRAME + 15] {
            assert!(
                matches!(plaintext_len(bad), Err(Error::InvalidCiphertextLength(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn too_large_objects_are_refused() {
        assert!(chunk_count(MAX_PLAINTEXT_LEN).is_ok());
        assert!(matches!(
            chunk_count(MAX_PLAINTEXT_LEN + 1),
            Err(Error::TooLarge(_))
        ));
    }

    #[test]
    fn range_inside_one_chunk() {
        let p = RangePlan::range(200_000, 70_000..70_010).unwrap();
        assert_eq!((p.first_chunk, p.chunks), (1, 1));
        assert_eq!(p.ciphertext_offset, FRAME);
        assert_eq!(p.ciphertext_len, FRAME);
        assert_eq!((p.skip_first, p.take_last, p.len), (4464, 4474, 10));
    }

    #[test]
    fn range_reaching_the_short_last_chunk() {
        let p = RangePlan::range(98_304, 65_530..98_304).unwrap();
        assert_eq!((p.first_chunk, p.chunks), (0, 2));
        assert_eq!(p.ciphertext_len, ciphertext_len(98_304).unwrap());
        assert_eq!((p.skip_first, p.take_last), (65_530, 32_768));
    }

    #[test]
    fn empty_or_outside_ranges_are_refused() {
        for (start, end) in [(5, 5), (6, 5), (0, 11), (10, 11)] {
            assert!(RangePlan::range(10, start..end).is_err());
        }
        assert!(RangePlan::range(0, 0..1).is_err());
    }

    #[test]
    fn whole_plan_of_empty_object_reads_one_tag() {
        let p = RangePlan::whole(0).unwrap();
        assert_eq!(
            (p.chunks, p.ciphertext_len, p.take_last, p.len),
            (1, 16, 0, 0)
        );
    }
}
