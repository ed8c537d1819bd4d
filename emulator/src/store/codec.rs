//! The codec seam between plaintext and stored bytes. Operations hand the store plaintext
//! through an [`Encoder`] and read it back through a [`Decoder`]; the plain codec stores the
//! bytes as they are, the SSE codec (chunked AEAD) encrypts. A codec owns the mapping from a
//! plaintext range to the stored bytes it needs (RANGE: an encrypted Range GET reads and
//! decrypts only the chunks it covers).

use std::io::Read;
use std::ops::Range;

use bytes::Bytes;

use crate::store::record::BodyFormat;
use crate::store::StoredBody;

/// A codec failure: I/O, or stored bytes that do not decode (tampered, truncated).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Reading or writing the stored bytes failed.
    #[error("stored body I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The stored bytes failed authentication or are shorter than recorded (AT-REST).
    #[error("stored body is corrupt: {0}")]
    Corrupt(String),
}

/// Turns a plaintext stream into stored bytes, in bounded memory.
pub trait Encoder: Send {
    /// Encodes the next plaintext bytes, appending stored bytes to `out`.
    fn encode(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Flushes the end of the stream (the last chunk) into `out`.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// The format to record with the object.
    fn format(&self) -> BodyFormat;
    /// Whether the stored bytes are the input bytes as they are (`encode` only appends
    /// them, `finish` adds nothing): then the writer skips `encode` and its copy into a
    /// scratch buffer, which is a plain PUT's one copy of the body in user space besides
    /// the buffered file's.
    fn is_identity(&self) -> bool {
        false
    }
}

/// Reads plaintext ranges back out of stored bytes.
pub trait Decoder: Send {
    /// Emits the plaintext of `range` (within the object) in pieces; stops early when
    /// `emit` returns `false` (the client went away).
    fn read_range(
        &mut self,
        body: &mut StoredBody,
        range: Range<u64>,
        emit: &mut dyn FnMut(Bytes) -> bool,
    ) -> Result<(), CodecError>;
}

/// Pieces handed to `emit` by the plain codec.
const PIECE: usize = 64 * 1024;

/// The identity codec: stored bytes are the plaintext.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainCodec;

impl Encoder for PlainCodec {
    fn encode(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(plain);
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), CodecError> {
        Ok(())
    }

    fn format(&self) -> BodyFormat {
        BodyFormat::Plain
    }

    fn is_identity(&self) -> bool {
        true
    }
}

impl Decoder for PlainCodec {
    fn read_range(
        &mut self,
        body: &mut StoredBody,
        range: Range<u64>,
        emit: &mut dyn FnMut(Bytes) -> bool,
    ) -> Result<(), CodecError> {
        let mut left = range.end.saturating_sub(range.start);
        body.seek_to(range.start, left, "range ends")?;
        while left > 0 {
            let n = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
            let mut piece = vec![0; n];
            body.read_exact(&mut piece)?;
            left -= n as u64;
            if !emit(Bytes::from(piece)) {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::{read, stored};

    #[test]
    fn a_range_past_the_stored_bytes_is_a_corrupt_body() {
        let mut body = stored(b"0123456789");
        assert_eq!(read(&mut PlainCodec, &mut body, 4..10).unwrap(), b"456789");
        let err = read(&mut PlainCodec, &mut body, 5..11).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stored body is corrupt: stored body has 10 bytes, range ends at 11"
        );
    }
}
