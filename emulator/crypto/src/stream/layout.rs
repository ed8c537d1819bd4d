//! Plaintext ↔ ciphertext lengths and the range planner (RANGE, SIZE-UNCHANGED).
//!
//! A Range GET decrypts only the chunks it covers: [`RangePlan`] says which stored bytes
//! to read and which decrypted bytes to keep.

use std::ops::Range;

use super::format::{CHUNK_SIZE, MAX_CHUNKS, TAG_LEN};
use crate::error::{Error, Result};

const CHUNK: u64 = CHUNK_SIZE as u64;
const TAG: u64 = TAG_LEN as u64;

/// Largest plaintext one stream can hold.
pub const MAX_PLAINTEXT_LEN: u64 = MAX_CHUNKS * CHUNK;

/// The arithmetic of a chunked stream, parameterised by chunk and tag size so the planner
/// can be tested exhaustively with tiny chunks; the format itself uses [`FORMAT`].
#[derive(Debug, Clone, Copy)]
struct Geometry {
    chunk: u64,
    tag: u64,
    max_chunks: u64,
}

/// The geometry of the at-rest format: 64 KiB chunks, 16-byte tags.
const FORMAT: Geometry = Geometry {
    chunk: CHUNK,
    tag: TAG,
    max_chunks: MAX_CHUNKS,
};

impl Geometry {
    fn frame(self) -> u64 {
        self.chunk + self.tag
    }

    fn chunk_count(self, len: u64) -> Result<u64> {
        if len > self.max_chunks * self.chunk {
            return Err(Error::TooLarge(len));
        }
        Ok(len.div_ceil(self.chunk).max(1))
    }

    fn ciphertext_len(self, len: u64) -> Result<u64> {
        Ok(len + self.tag * self.chunk_count(len)?)
    }

    fn plaintext_len(self, len: u64) -> Result<u64> {
        let (full, rest) = (len / self.frame(), len % self.frame());
        let plain = match rest {
            0 if full > 0 => full * self.chunk,
            r if r >= self.tag => full * self.chunk + (r - self.tag),
            _ => return Err(Error::InvalidCiphertextLength(len)),
        };
        self.chunk_count(plain)
            .map_err(|_| Error::InvalidCiphertextLength(len))?;
        Ok(plain)
    }

    fn chunk_plain_len(self, object_len: u64, index: u64) -> u64 {
        object_len
            .saturating_sub(index * self.chunk)
            .min(self.chunk)
    }

    fn whole(self, object_len: u64) -> Result<RangePlan> {
        let chunks = self.chunk_count(object_len)?;
        Ok(RangePlan {
            object_len,
            first_chunk: 0,
            chunks,
            ciphertext_offset: 0,
            ciphertext_len: self.ciphertext_len(object_len)?,
            skip_first: 0,
            // At most one chunk (64 KiB), so the cast is exact.
            take_last: self.chunk_plain_len(object_len, chunks - 1) as usize,
            len: object_len,
        })
    }

    fn range(self, object_len: u64, range: Range<u64>) -> Result<RangePlan> {
        if range.start >= range.end || range.end > object_len {
            return Err(Error::InvalidRange {
                start: range.start,
                end: range.end,
                len: object_len,
            });
        }
        self.chunk_count(object_len)?;
        let first = range.start / self.chunk;
        let last = (range.end - 1) / self.chunk;
        let end_of_last = (last * self.chunk + self.chunk).min(object_len);
        let stored_end = end_of_last + self.tag * (last + 1);
        let offset = first * self.frame();
        Ok(RangePlan {
            object_len,
            first_chunk: first,
            chunks: last - first + 1,
            ciphertext_offset: offset,
            ciphertext_len: stored_end - offset,
            // Both are at most one chunk (64 KiB), so the casts are exact.
            skip_first: (range.start - first * self.chunk) as usize,
            take_last: (range.end - last * self.chunk) as usize,
            len: range.end - range.start,
        })
    }
}

/// Number of chunks a plaintext of `len` bytes is stored in (an empty object is one empty
/// chunk).
pub fn chunk_count(len: u64) -> Result<u64> {
    FORMAT.chunk_count(len)
}

/// Stored length of a plaintext of `len` bytes: `len + 16 × chunks`.
pub fn ciphertext_len(len: u64) -> Result<u64> {
    FORMAT.ciphertext_len(len)
}

/// Plaintext length of a stored stream of `len` bytes, or an error when no plaintext
/// length produces it (a damaged or foreign file).
pub fn plaintext_len(len: u64) -> Result<u64> {
    FORMAT.plaintext_len(len)
}

/// Plaintext length of chunk `index` in an object of `object_len` bytes.
pub(crate) fn chunk_plain_len(object_len: u64, index: u64) -> usize {
    // At most one chunk (64 KiB), so the cast is exact.
    FORMAT.chunk_plain_len(object_len, index) as usize
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
        FORMAT.whole(object_len)
    }

    /// The plan for the plaintext bytes `range` (half-open, non-empty, inside the object).
    /// Translate an HTTP `bytes=a-b` into `a..b+1` first.
    pub fn range(object_len: u64, range: Range<u64>) -> Result<Self> {
        FORMAT.range(object_len, range)
    }

    /// Index one past the last chunk of the plan.
    pub(crate) fn end_chunk(&self) -> u64 {
        self.first_chunk + self.chunks
    }

    /// Index of the object's final chunk (the one sealed with the last flag).
    pub(crate) fn final_chunk(&self) -> u64 {
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
        let frame = FORMAT.frame();
        for bad in [0, 1, 15, frame + 1, frame + 15] {
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
        assert_eq!(p.ciphertext_offset, FORMAT.frame());
        assert_eq!(p.ciphertext_len, FORMAT.frame());
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

    /// Every range of every object up to four chunks long, with 4-byte chunks and 2-byte
    /// tags: the plan's stored bytes, trimmed as the decryptor trims them, are exactly
    /// the range, and the stored lengths agree with the layout.
    #[test]
    fn every_range_with_tiny_chunks() {
        let g = Geometry {
            chunk: 4,
            tag: 2,
            max_chunks: 1 << 20,
        };
        for len in 0..=17u64 {
            let plain: Vec<u8> = (0..len as u8).collect();
            // Stored stream: each chunk followed by a 2-byte marker standing for its tag.
            let mut stored = Vec::new();
            let chunks = g.chunk_count(len).unwrap();
            for i in 0..chunks {
                let s = (i * 4) as usize;
                let e = (s + 4).min(plain.len());
                stored.extend_from_slice(&plain[s..e]);
                stored.extend_from_slice(&[0xEE, i as u8]);
            }
            assert_eq!(stored.len() as u64, g.ciphertext_len(len).unwrap());
            assert_eq!(g.plaintext_len(stored.len() as u64).unwrap(), len);
            let whole = g.whole(len).unwrap();
            assert_eq!(trimmed(g, &whole, &stored), plain);
            for start in 0..len {
                for end in start + 1..=len {
                    let p = g.range(len, start..end).unwrap();
                    let got = trimmed(g, &p, &stored);
                    assert_eq!(
                        got,
                        &plain[start as usize..end as usize],
                        "{len} {start}..{end}"
                    );
                }
            }
        }
    }

    /// What the decryptor does with a plan: read the planned stored bytes, split them into
    /// frames, drop the tags, keep `skip_first..` of the first and `..take_last` of the last.
    fn trimmed(g: Geometry, p: &RangePlan, stored: &[u8]) -> Vec<u8> {
        let at = p.ciphertext_offset as usize;
        let mut bytes = &stored[at..at + p.ciphertext_len as usize];
        let mut out = Vec::new();
        for i in p.first_chunk..p.first_chunk + p.chunks {
            let n = g.chunk_plain_len(p.object_len, i) as usize;
            let (body, rest) = bytes.split_at(n + g.tag as usize);
            assert_eq!(
                body[n..],
                [0xEE, i as u8],
                "frame {i} is where the plan says"
            );
            let start = if i == p.first_chunk { p.skip_first } else { 0 };
            let end = if i + 1 == p.first_chunk + p.chunks {
                p.take_last
            } else {
                n
            };
            out.extend_from_slice(&body[start..end]);
            bytes = rest;
        }
        assert!(bytes.is_empty(), "the plan reads no more than it needs");
        assert_eq!(out.len() as u64, p.len);
        out
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
