//! The encrypting codec: plaintext ⇄ the chunked AEAD stream of `cos-emulator-crypto`
//! (AT-REST: no plaintext reaches the disk; RANGE: a Range GET reads and decrypts only the
//! chunks it covers). The keys come from the caller, already unsealed; this module only
//! moves bytes.

use std::io::Read;
use std::ops::Range;

use cos_emulator_crypto::stream::FORMAT_VERSION;
use cos_emulator_crypto::{DataKey, Decryptor, EncryptionRecord, Encryptor, RangePlan};

use super::codec::{CodecError, Decoder, Encoder};
use super::record::BodyFormat;
use super::StoredBody;

/// A failure of the crypto stream, as the codec reports it.
pub(crate) fn crypto(e: cos_emulator_crypto::Error) -> CodecError {
    CodecError::Corrupt(e.to_string())
}

/// Reads the `len` stored bytes at `offset` of `body` straight into `dec`'s frames (no
/// copy through a read buffer) and emits the plaintext as it is verified; `false` when
/// `emit` asked to stop. The caller then calls `dec.finish()`.
pub(crate) fn decrypt_stored(
    dec: &mut Decryptor,
    body: &mut StoredBody,
    offset: u64,
    len: u64,
    emit: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<bool, CodecError> {
    body.seek_to(offset, len, "the chunks needed end")?;
    let mut left = len;
    while left > 0 {
        let room = dec.room().map_err(crypto)?;
        let n = usize::try_from(left).map_or(room.len(), |l| l.min(room.len()));
        if n == 0 {
            // The plan's stored length is exactly its frames: more is not its stream.
            return Err(crypto(cos_emulator_crypto::Error::TrailingData));
        }
        body.read_exact(&mut room[..n])?;
        left -= n as u64;
        if let Some(plain) = dec.advance(n).map_err(crypto)? {
            if !plain.is_empty() && !emit(plain.to_vec()) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Encrypts a plaintext stream, one 64 KiB chunk in memory at a time.
pub struct SealedEncoder {
    enc: Encryptor,
}

impl SealedEncoder {
    /// An encoder for an object with this record and (fresh) data key.
    pub fn new(record: &EncryptionRecord, key: &DataKey) -> Result<Self, CodecError> {
        Ok(SealedEncoder {
            enc: record.encryptor(key).map_err(crypto)?,
        })
    }
}

impl Encoder for SealedEncoder {
    fn encode(&mut self, mut plain: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        while let Some(frame) = self.enc.push(&mut plain).map_err(crypto)? {
            out.extend_from_slice(frame);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(self.enc.finish().map_err(crypto)?);
        Ok(())
    }

    fn format(&self) -> BodyFormat {
        BodyFormat::Chunked {
            version: FORMAT_VERSION,
        }
    }
}

/// Decrypts plaintext ranges of one stored object. A chunk that fails authentication
/// (flipped, reordered, truncated on disk) stops the stream with an error before any of
/// its bytes are emitted.
pub struct SealedDecoder {
    record: EncryptionRecord,
    key: DataKey,
    plaintext_len: u64,
}

impl SealedDecoder {
    /// A decoder for an object of `plaintext_len` bytes with its record and unsealed key.
    pub fn new(record: EncryptionRecord, key: DataKey, plaintext_len: u64) -> Self {
        SealedDecoder {
            record,
            key,
            plaintext_len,
        }
    }

    fn decryptor(&self, range: Range<u64>) -> Result<Decryptor, CodecError> {
        let plan = if range.start == 0 && range.end == self.plaintext_len {
            RangePlan::whole(self.plaintext_len)
        } else {
            RangePlan::range(self.plaintext_len, range)
        }
        .map_err(crypto)?;
        self.record.decryptor(&self.key, plan).map_err(crypto)
    }
}

impl Decoder for SealedDecoder {
    fn read_range(
        &mut self,
        body: &mut StoredBody,
        range: Range<u64>,
        emit: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CodecError> {
        let mut dec = self.decryptor(range)?;
        let (offset, len) = (dec.plan().ciphertext_offset, dec.plan().ciphertext_len);
        if decrypt_stored(&mut dec, body, offset, len, emit)? {
            dec.finish().map_err(crypto)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cos_emulator_crypto::{Algorithm, Keys, ObjectRef, Protection};

    use super::*;
    use crate::store::test_support::{read, stored};

    fn encrypt(plain: &[u8]) -> (EncryptionRecord, DataKey, Vec<u8>) {
        let keys = Keys::in_memory().unwrap();
        let obj = ObjectRef {
            bucket: "b-1",
            key: "k",
            version: "w",
        };
        let (key, record) = keys
            .new_object(Algorithm::Aes256, Protection::Cos, &obj)
            .unwrap();
        let mut enc = SealedEncoder::new(&record, &key).unwrap();
        let mut out = Vec::new();
        for piece in plain.chunks(10_000) {
            enc.encode(piece, &mut out).unwrap();
        }
        enc.finish(&mut out).unwrap();
        (record, key, out)
    }

    #[test]
    fn ranges_round_trip_across_chunks() {
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let (record, key, out) = encrypt(&plain);
        assert!(
            !out.windows(64).any(|w| w == &plain[1000..1064]),
            "no plaintext stored"
        );
        let mut body = stored(&out);
        let mut dec = SealedDecoder::new(record, key, plain.len() as u64);
        for r in [
            0..200_000u64,
            0..1,
            65_535..65_537,
            131_072..200_000,
            199_999..200_000,
        ] {
            let got = read(&mut dec, &mut body, r.clone()).unwrap();
            assert_eq!(got, &plain[r.start as usize..r.end as usize], "{r:?}");
        }
    }

    #[test]
    fn flipped_or_truncated_bytes_fail() {
        let plain = vec![7u8; 100_000];
        let (record, key, mut out) = encrypt(&plain);
        out[70_000] ^= 1;
        let mut dec = SealedDecoder::new(record.clone(), key.clone(), plain.len() as u64);
        let mut emitted = 0;
        let r = dec.read_range(&mut stored(&out), 0..100_000, &mut |p| {
            emitted += p.len();
            true
        });
        assert!(matches!(r, Err(CodecError::Corrupt(_))));
        assert_eq!(emitted, 65_536, "nothing of the damaged chunk is released");
        out[70_000] ^= 1;
        out.truncate(out.len() - 1);
        let mut dec = SealedDecoder::new(record, key, plain.len() as u64);
        assert!(read(&mut dec, &mut stored(&out), 0..100_000).is_err());
    }
}
