//! The stored form of a completed multipart object: its parts' stored bytes back to back,
//! each part still in the form it was uploaded in — plain, or its own chunked AEAD stream
//! under its own data key (MPU-SSE) — and the decoder that reads a plaintext range across
//! part boundaries, decrypting only the chunks the range covers in each part (RANGE).
//!
//! Complete needs no key to assemble an object this way (an SSE-C upload's Complete
//! carries none), and no part is decrypted or re-encrypted to do it.

use std::io::Read;
use std::ops::Range;

use bytes::Bytes;

use cos_emulator_crypto::{DataKey, RangePlan};

use super::codec::{CodecError, Decoder, Encoder};
use super::record::BodyFormat;
/// The stored layout of a part lives with the record that embeds it ([`BodyFormat::Parts`]).
pub use super::record::PartLayout;
use super::sealed::{crypto, decrypt_stored};
use super::StoredBody;

/// Stored bytes read per step.
const PIECE: usize = 64 * 1024;

/// The identity encoder that assembles a multipart object: the parts' stored bytes go in
/// as they are, and the object records `format` (how to read them back).
#[derive(Debug, Clone)]
pub struct Concatenation {
    format: BodyFormat,
}

impl Concatenation {
    /// An assembler whose object will be read back as `format`.
    pub fn new(format: BodyFormat) -> Self {
        Concatenation { format }
    }
}

impl Encoder for Concatenation {
    fn encode(&mut self, stored: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(stored);
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), CodecError> {
        Ok(())
    }

    fn format(&self) -> BodyFormat {
        self.format.clone()
    }

    fn is_identity(&self) -> bool {
        true
    }
}

/// Reads plaintext ranges of a multipart object. Every encrypted part's data key is
/// unsealed before the decoder is built (so a wrong key is refused before the response
/// starts); a part that fails authentication stops the stream with an error.
pub struct PartsDecoder {
    parts: Vec<(PartLayout, Option<DataKey>)>,
}

impl PartsDecoder {
    /// A decoder over `parts`, in order, each with its unsealed data key (`None` for plain
    /// parts).
    pub fn new(parts: Vec<(PartLayout, Option<DataKey>)>) -> Self {
        PartsDecoder { parts }
    }
}

/// Reads `len` stored bytes at `offset`, handing each piece to `take`; stops early (and
/// returns `false`) when `take` does.
fn read_stored(
    body: &mut StoredBody,
    offset: u64,
    len: u64,
    take: &mut dyn FnMut(&[u8]) -> Result<bool, CodecError>,
) -> Result<bool, CodecError> {
    body.seek_to(offset, len, "a part ends")?;
    let mut left = len;
    let mut buf = vec![0u8; PIECE];
    while left > 0 {
        let n = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
        body.read_exact(&mut buf[..n])?;
        left -= n as u64;
        if !take(&buf[..n])? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Emits plaintext `local` of one part stored at `offset`; `false` if the client went away.
fn read_part(
    body: &mut StoredBody,
    offset: u64,
    layout: &PartLayout,
    key: Option<&DataKey>,
    local: Range<u64>,
    emit: &mut dyn FnMut(Bytes) -> bool,
) -> Result<bool, CodecError> {
    let (record, key) = match (&layout.sse, key) {
        (None, _) => {
            let len = local.end - local.start;
            return read_stored(body, offset + local.start, len, &mut |b| {
                Ok(emit(Bytes::copy_from_slice(b)))
            });
        }
        (Some(record), Some(key)) => (record, key),
        (Some(_), None) => {
            return Err(CodecError::Corrupt(
                "an encrypted part has no data key".into(),
            ))
        }
    };
    let plan = RangePlan::range(layout.size, local).map_err(crypto)?;
    let (at, len) = (offset + plan.ciphertext_offset, plan.ciphertext_len);
    let mut dec = record.decryptor(key, plan).map_err(crypto)?;
    let more = decrypt_stored(&mut dec, body, at, len, emit)?;
    if more {
        dec.finish().map_err(crypto)?;
    }
    Ok(more)
}

impl Decoder for PartsDecoder {
    fn read_range(
        &mut self,
        body: &mut StoredBody,
        range: Range<u64>,
        emit: &mut dyn FnMut(Bytes) -> bool,
    ) -> Result<(), CodecError> {
        let (mut plain_at, mut stored_at) = (0u64, 0u64);
        for (layout, key) in &self.parts {
            let start = range.start.max(plain_at);
            let end = range.end.min(plain_at + layout.size);
            if start < end {
                let local = start - plain_at..end - plain_at;
                if !read_part(body, stored_at, layout, key.as_ref(), local, emit)? {
                    return Ok(());
                }
            }
            plain_at += layout.size;
            stored_at += layout.stored_len;
        }
        if range.end > plain_at {
            return Err(CodecError::Corrupt(format!(
                "the parts hold {plain_at} bytes, the range ends at {}",
                range.end
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cos_emulator_crypto::{Algorithm, Keys, ObjectRef, Protection};

    use super::*;
    use crate::store::test_support::{read, stored};
    use crate::store::SealedEncoder;

    type Parts = Vec<(PartLayout, Option<DataKey>)>;

    /// Three parts (encrypted, each its own key) of 70000, 65536 and 5 bytes: plaintext,
    /// stored bytes, layout with keys.
    fn object(keys: &Keys) -> (Vec<u8>, Vec<u8>, Parts) {
        let plain: Vec<u8> = (0..135_541u32).map(|i| (i % 251) as u8).collect();
        let (mut stored, mut parts) = (Vec::new(), Vec::new());
        let mut at = 0;
        for (n, size) in [70_000usize, 65_536, 5].into_iter().enumerate() {
            let write_id = format!("w{n}");
            let obj = ObjectRef {
                bucket: "b-1",
                key: "k",
                version: &write_id,
            };
            let (key, record) = keys
                .new_object(Algorithm::Aes256, Protection::Cos, &obj)
                .unwrap();
            let mut enc = SealedEncoder::new(&record, &key).unwrap();
            let mut out = Vec::new();
            enc.encode(&plain[at..at + size], &mut out).unwrap();
            enc.finish(&mut out).unwrap();
            parts.push((
                PartLayout {
                    size: size as u64,
                    stored_len: out.len() as u64,
                    write_id,
                    sse: Some(record),
                },
                Some(key),
            ));
            stored.extend_from_slice(&out);
            at += size;
        }
        (plain, stored, parts)
    }

    #[test]
    fn ranges_span_encrypted_parts() {
        let keys = Keys::in_memory().unwrap();
        let (plain, bytes, parts) = object(&keys);
        let mut dec = PartsDecoder::new(parts);
        let mut body = stored(&bytes);
        let n = plain.len() as u64;
        for r in [
            0..n,
            0..1,
            69_999..70_001,
            65_536..135_540,
            135_536..n,
            70_000..135_536,
        ] {
            let got = read(&mut dec, &mut body, r.clone()).unwrap();
            assert_eq!(got, &plain[r.start as usize..r.end as usize], "{r:?}");
        }
        assert!(read(&mut dec, &mut body, 0..n + 1).is_err());
    }

    #[test]
    fn flipped_byte_in_a_later_part_fails() {
        let keys = Keys::in_memory().unwrap();
        let (_, mut bytes, parts) = object(&keys);
        let second = parts[0].0.stored_len as usize + 10;
        bytes[second] ^= 1;
        let mut dec = PartsDecoder::new(parts);
        let mut body = stored(&bytes);
        assert!(read(&mut dec, &mut body, 0..1000).is_ok());
        assert!(read(&mut dec, &mut body, 69_000..71_000).is_err());
    }

    #[test]
    fn plain_parts_read_as_stored() {
        let parts = vec![
            (
                PartLayout {
                    size: 3,
                    stored_len: 3,
                    write_id: "a".into(),
                    sse: None,
                },
                None,
            ),
            (
                PartLayout {
                    size: 4,
                    stored_len: 4,
                    write_id: "b".into(),
                    sse: None,
                },
                None,
            ),
        ];
        let mut dec = PartsDecoder::new(parts);
        let mut body = stored(b"abcdefg");
        assert_eq!(read(&mut dec, &mut body, 2..5).unwrap(), b"cde");
    }
}
