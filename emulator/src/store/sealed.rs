//! The encrypting codec: plaintext ⇄ the chunked AEAD stream of `cos-emulator-crypto`
//! (AT-REST: no plaintext reaches the disk; RANGE: a Range GET reads and decrypts only the
//! chunks it covers). The keys come from the caller, already unsealed; this module only
//! moves bytes.

use std::io::Read;
use std::ops::Range;

use bytes::Bytes;
use cos_emulator_crypto::stream::{FORMAT_VERSION, FRAME_SIZE};
use cos_emulator_crypto::{DataKey, Decryptor, EncryptionRecord, Encryptor, RangePlan};

use super::codec::{CodecError, Decoder, Encoder};
use super::record::BodyFormat;
use super::StoredBody;

/// A failure of the crypto stream, as the codec reports it.
pub(crate) fn crypto(e: cos_emulator_crypto::Error) -> CodecError {
    CodecError::Corrupt(e.to_string())
}

/// Chunks read and opened together on the way out: a batch of 512 KiB of stored bytes
/// wakes each thread once, and its plaintext leaves in slices of the same buffer. (In a
/// loop decoding 1 GiB from the page cache on this 2-core machine, batches of 4, 8 and 16
/// chunks cost about the same CPU; 4 cost a little more with the second thread, whose
/// hand-offs are per batch, and 16 hold twice the memory of 8.)
const BATCH_CHUNKS: usize = 8;

/// Batches the reading thread may hold ready beyond the one being opened: with the one it
/// is reading and the one being opened, at most this plus two batches (2 MiB) of one
/// stream are in the decoder at once, whatever the object's size.
const READ_AHEAD: usize = 2;

/// Stored bytes from which a second thread reads ahead while this one decrypts (16 full
/// frames, 1 MiB of plaintext); a short read (a Range GET of a few chunks, a small object)
/// is not worth starting a thread.
const READ_AHEAD_FROM: u64 = 16 * FRAME_SIZE as u64;

/// Reads the `len` stored bytes at `offset` of `body` (the frames `dec` plans) and emits
/// the plaintext as it is verified; `false` when `emit` asked to stop. The caller then
/// calls `dec.finish()`.
///
/// Each batch of [`BATCH_CHUNKS`] frames is read into a buffer of its own, decrypted in
/// place, and handed out as slices of that buffer, one per chunk: no copy between the
/// disk and the socket. From [`READ_AHEAD_FROM`] stored bytes on, a second thread reads
/// the batches while this one decrypts them (two decoding threads, the reading and the
/// decrypting overlapped); one channel of [`READ_AHEAD`] slots between them keeps the
/// batches in order and the memory bounded.
pub(crate) fn decrypt_stored(
    dec: &mut Decryptor,
    body: &mut StoredBody,
    offset: u64,
    len: u64,
    emit: &mut dyn FnMut(Bytes) -> bool,
) -> Result<bool, CodecError> {
    body.seek_to(offset, len, "the chunks needed end")?;
    // Frames sit back to back on disk and every one but the object's last is
    // `FRAME_SIZE` long, so cutting the stored bytes every `BATCH_CHUNKS` frames gives
    // whole frames: the reader needs no plan of its own.
    let batch = (BATCH_CHUNKS * FRAME_SIZE) as u64;
    if len < READ_AHEAD_FROM {
        let mut left = len;
        while left > 0 {
            let n = left.min(batch);
            left -= n;
            if !open_batch(dec, read_batch(body, n)?, emit)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(READ_AHEAD);
        scope.spawn(move || {
            let mut left = len;
            while left > 0 {
                let n = left.min(batch);
                left -= n;
                let read = read_batch(body, n);
                let failed = read.is_err();
                // A closed channel: the decrypting side stopped (client gone, damage).
                if tx.send(read).is_err() || failed {
                    return;
                }
            }
        });
        // Dropping `rx` on any return below stops the reader at its next batch.
        for read in rx {
            if !open_batch(dec, read?, emit)? {
                return Ok(false);
            }
        }
        Ok(true)
    })
}

/// Reads the next `n` stored bytes into a buffer of their own.
fn read_batch(body: &mut StoredBody, n: u64) -> std::io::Result<Vec<u8>> {
    let n = usize::try_from(n).map_err(std::io::Error::other)?;
    let mut frames = vec![0; n];
    body.read_exact(&mut frames)?;
    Ok(frames)
}

/// Opens the frames of one batch in place and emits each chunk's plaintext as a slice of
/// the batch's buffer; `false` when `emit` asked to stop.
fn open_batch(
    dec: &mut Decryptor,
    mut frames: Vec<u8>,
    emit: &mut dyn FnMut(Bytes) -> bool,
) -> Result<bool, CodecError> {
    let pieces = dec.open_frames(&mut frames).map_err(crypto)?;
    let frames = Bytes::from(frames);
    for piece in pieces {
        if !piece.is_empty() && !emit(frames.slice(piece)) {
            return Ok(false);
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

/// The chunks a read of `range` of an object of `plaintext_len` bytes decrypts, and so
/// the stored bytes it reads (RANGE): the whole stream for the whole object.
pub(crate) fn plan(
    plaintext_len: u64,
    range: Range<u64>,
) -> cos_emulator_crypto::Result<RangePlan> {
    if range.start == 0 && range.end == plaintext_len {
        RangePlan::whole(plaintext_len)
    } else {
        RangePlan::range(plaintext_len, range)
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
        let plan = plan(self.plaintext_len, range).map_err(crypto)?;
        self.record.decryptor(&self.key, plan).map_err(crypto)
    }
}

impl Decoder for SealedDecoder {
    fn read_range(
        &mut self,
        body: &mut StoredBody,
        range: Range<u64>,
        emit: &mut dyn FnMut(Bytes) -> bool,
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

    /// An object of `chunks` full chunks, each chunk's bytes distinct from every other's,
    /// encrypted, and a decoder for it.
    fn large(chunks: usize) -> (Vec<u8>, Vec<u8>, SealedDecoder) {
        let chunk = cos_emulator_crypto::CHUNK_SIZE;
        let plain: Vec<u8> = (0..chunks * chunk)
            .map(|i| ((i / chunk) as u8).wrapping_mul(37) ^ (i % 251) as u8)
            .collect();
        let (record, key, out) = encrypt(&plain);
        let dec = SealedDecoder::new(record, key, plain.len() as u64);
        (plain, out, dec)
    }

    /// A stored body that counts the bytes read from it.
    struct Counting(std::fs::File, std::sync::Arc<std::sync::atomic::AtomicU64>);

    impl std::io::Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1
                .fetch_add(n as u64, std::sync::atomic::Ordering::SeqCst);
            Ok(n)
        }
    }

    impl std::io::Seek for Counting {
        fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
            self.0.seek(pos)
        }
    }

    #[test]
    fn a_large_object_read_ahead_by_a_second_thread_comes_out_whole_and_in_order() {
        // 61 chunks: above READ_AHEAD_FROM, and not a multiple of BATCH_CHUNKS.
        let (plain, out, mut dec) = large(61);
        assert_ne!(61 % BATCH_CHUNKS, 0);
        assert!(out.len() as u64 > READ_AHEAD_FROM);
        let mut body = stored(&out);
        let n = plain.len() as u64;
        for r in [0..n, 1..n - 1, 100_000..3_000_000, n - 70_000..n] {
            let got = read(&mut dec, &mut body, r.clone()).unwrap();
            assert_eq!(got.len(), plain[r.start as usize..r.end as usize].len());
            assert!(
                got == plain[r.start as usize..r.end as usize],
                "{r:?}: the plaintext differs (chunks out of order?)"
            );
        }
    }

    #[test]
    fn a_damaged_chunk_mid_object_ends_the_stream_after_the_chunks_before_it() {
        let (plain, mut out, mut dec) = large(40);
        // Chunk 17: in the middle of a batch read ahead by the second thread.
        out[17 * FRAME_SIZE + 1000] ^= 0x20;
        let mut emitted = Vec::new();
        let r = dec.read_range(&mut stored(&out), 0..plain.len() as u64, &mut |p| {
            emitted.extend_from_slice(&p);
            true
        });
        assert!(matches!(r, Err(CodecError::Corrupt(_))), "{r:?}");
        assert_eq!(emitted.len(), 17 * cos_emulator_crypto::CHUNK_SIZE);
        assert!(emitted == plain[..emitted.len()], "only verified plaintext");
    }

    #[test]
    fn the_reading_thread_stays_a_few_batches_ahead_of_the_socket() {
        let (plain, out, mut dec) = large(96);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &out).unwrap();
        let read_so_far = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let source = Counting(file, read_so_far.clone());
        let mut body = StoredBody::from_source(Box::new(source), out.len() as u64);
        let bound = ((READ_AHEAD + 2) * BATCH_CHUNKS * FRAME_SIZE) as u64;
        let mut ahead = 0;
        let mut pieces = 0;
        // A slow client: every piece waits, so an unbounded reader would read it all.
        dec.read_range(&mut body, 0..plain.len() as u64, &mut |_| {
            pieces += 1;
            if pieces <= 3 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                ahead = ahead.max(read_so_far.load(std::sync::atomic::Ordering::SeqCst));
            }
            true
        })
        .unwrap();
        assert_eq!(pieces, 96);
        assert!(ahead > 0);
        assert!(
            ahead <= bound,
            "read {ahead} bytes while the first pieces waited; bound {bound}"
        );
        // A client that goes away after one piece: the read stops, nothing hangs.
        let (_, out, mut dec) = large(64);
        let mut calls = 0;
        dec.read_range(&mut stored(&out), 0..64 * 65_536, &mut |_| {
            calls += 1;
            false
        })
        .unwrap();
        assert_eq!(calls, 1);
    }
}
