//! Sealing and opening several chunks at once, on several cores when that pays.
//!
//! Chunks are independent (each has its own nonce and AAD, AT-REST), so a run of them can
//! be sealed or opened in parallel without changing a byte of the format. Frames sit in
//! one buffer at a stride of [`FRAME_SIZE`] (frame `j` at `j * FRAME_SIZE`), so the
//! frames of full chunks are contiguous and the buffer is what goes to disk.
//!
//! Only SM4 is spread over threads: `ring`'s AES-256-GCM runs at several GB/s on one core,
//! far above the MD5 that bounds an upload, and a thread hand-off would cost more than it
//! saves; SM4 in software is about 15 times slower, so a batch of its chunks is split
//! across up to [`MAX_WORKERS`] scoped threads.

use std::ops::Range;

use super::format::{ChunkCipher, FRAME_SIZE, TAG_LEN};
use crate::algorithm::Algorithm;
use crate::error::Result;

/// Most threads one stream uses for its chunks.
const MAX_WORKERS: usize = 4;
/// Chunks per worker in one batch: enough work (256 KiB of SM4, a few ms) that starting
/// the scoped threads costs well under 1% of it.
const CHUNKS_PER_WORKER: usize = 4;

/// How one stream of `algorithm` batches its chunks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batching {
    /// Threads sealing or opening one batch (1: the caller's thread only).
    pub(crate) workers: usize,
    /// Chunks held and processed together.
    pub(crate) chunks: usize,
}

impl Batching {
    /// The batching for `algorithm` on this machine.
    pub(crate) fn for_algorithm(algorithm: Algorithm) -> Self {
        let workers = match algorithm {
            Algorithm::Aes256 => 1,
            Algorithm::Sm4 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_WORKERS),
        };
        let chunks = if workers > 1 {
            workers * CHUNKS_PER_WORKER
        } else {
            1
        };
        Batching { workers, chunks }
    }
}

/// Runs `op(index, frame)` over the frames laid out in `buf` at [`FRAME_SIZE`] stride,
/// frame `j` having index `first + j` and length `lens[j]`, on up to `workers` threads.
/// Returns each frame's result, in order.
fn run<T: Send>(
    workers: usize,
    buf: &mut [u8],
    first: u64,
    lens: &[usize],
    op: &(dyn Fn(u64, &mut [u8]) -> Result<T> + Sync),
) -> Vec<Result<T>> {
    let mut frames: Vec<(u64, &mut [u8])> = buf
        .chunks_mut(FRAME_SIZE)
        .zip(lens)
        .zip(first..)
        .map(|((slot, &len), index)| (index, &mut slot[..len]))
        .collect();
    if workers <= 1 || frames.len() <= 1 {
        return frames.into_iter().map(|(i, f)| op(i, f)).collect();
    }
    let per_worker = frames.len().div_ceil(workers);
    let work = |group: &mut [(u64, &mut [u8])]| -> Vec<Result<T>> {
        group.iter_mut().map(|(i, f)| op(*i, f)).collect()
    };
    std::thread::scope(|scope| {
        let mut groups = frames.chunks_mut(per_worker);
        // The caller's thread takes the first group itself: one thread fewer to start per
        // batch, and it would only wait otherwise.
        let own = groups.next().unwrap_or_default();
        let handles: Vec<_> = groups
            .map(|group| scope.spawn(move || work(group)))
            .collect();
        let mut results = work(own);
        for handle in handles {
            // A worker only panics if the cipher itself does; pass that on unchanged.
            results.extend(
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        results
    })
}

/// Seals the chunks in `buf`: chunk `j` (index `first + j`) has `plain_lens[j]` bytes of
/// plaintext at `j * FRAME_SIZE`, and its tag is written right after them. `last_is_final`
/// marks the last chunk of the batch as the stream's final chunk.
pub(crate) fn seal(
    cipher: &ChunkCipher,
    workers: usize,
    buf: &mut [u8],
    first: u64,
    plain_lens: &[usize],
    last_is_final: bool,
) -> Result<()> {
    let frame_lens: Vec<usize> = plain_lens.iter().map(|n| n + TAG_LEN).collect();
    let final_index = first + plain_lens.len() as u64 - 1;
    let op = |index: u64, frame: &mut [u8]| {
        cipher.seal_frame(index, last_is_final && index == final_index, frame)
    };
    run(workers, buf, first, &frame_lens, &op)
        .into_iter()
        .collect()
}

/// Opens the frames in `buf` (frame `j`, index `first + j`, `frame_lens[j]` stored bytes
/// at `j * FRAME_SIZE`); `final_index` is the stream's final chunk (sealed as last).
/// Every frame's tag is verified over the whole frame; `want(index)` is the part of that
/// chunk's plaintext the caller will use, and only that part is sure to be decrypted (see
/// [`ChunkCipher::open_frame_range`]). Returns each frame's plaintext length or its
/// authentication error, in order; a frame that fails is zeroed.
pub(crate) fn open(
    cipher: &ChunkCipher,
    workers: usize,
    buf: &mut [u8],
    first: u64,
    frame_lens: &[usize],
    final_index: u64,
    want: &(dyn Fn(u64) -> Range<usize> + Sync),
) -> Vec<Result<usize>> {
    let op = |index: u64, frame: &mut [u8]| {
        cipher.open_frame_range(index, index == final_index, frame, want(index))
    };
    run(workers, buf, first, frame_lens, &op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_key::DataKey;
    use crate::stream::{decrypt_to_vec, encrypt_to_vec, NoncePrefix, CHUNK_SIZE};

    /// The stream sealed chunk by chunk with the single-chunk API: the format's definition.
    fn reference(cipher: &ChunkCipher, plain: &[u8]) -> Vec<u8> {
        let chunks: Vec<&[u8]> = if plain.is_empty() {
            vec![&[]]
        } else {
            plain.chunks(CHUNK_SIZE).collect()
        };
        let mut out = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut buf = chunk.to_vec();
            cipher
                .seal_chunk(i as u64, i + 1 == chunks.len(), &mut buf)
                .unwrap();
            out.extend_from_slice(&buf);
        }
        out
    }

    #[test]
    fn parallel_batches_store_exactly_the_serial_format() {
        let key = DataKey::generate().unwrap();
        let prefix = NoncePrefix::from_bytes([9; 7]);
        let plain: Vec<u8> = (0..37 * CHUNK_SIZE + 123)
            .map(|i| (i % 251) as u8)
            .collect();
        for alg in [Algorithm::Aes256, Algorithm::Sm4] {
            let cipher = ChunkCipher::new(alg, &key, prefix);
            // Lengths around batch boundaries, with 1 to 4 workers sealing them.
            for len in [
                0,
                1,
                CHUNK_SIZE,
                3 * CHUNK_SIZE,
                16 * CHUNK_SIZE,
                16 * CHUNK_SIZE + 1,
                plain.len(),
            ] {
                let plain = &plain[..len];
                let want = reference(&cipher, plain);
                assert_eq!(encrypt_to_vec(alg, &key, prefix, plain).unwrap(), want);
                assert_eq!(
                    decrypt_to_vec(alg, &key, prefix, len as u64, &want).unwrap(),
                    plain
                );
                for workers in 1..=4 {
                    let n = len.div_ceil(CHUNK_SIZE).clamp(1, 6);
                    let mut lens = vec![CHUNK_SIZE; n];
                    lens[n - 1] = len.min(n * CHUNK_SIZE) - (n - 1) * CHUNK_SIZE;
                    let mut buf = vec![0u8; n * FRAME_SIZE];
                    for (j, l) in lens.iter().enumerate() {
                        let from = j * CHUNK_SIZE;
                        buf[j * FRAME_SIZE..j * FRAME_SIZE + l]
                            .copy_from_slice(&plain[from..from + l]);
                    }
                    let is_final = n * CHUNK_SIZE >= len;
                    seal(&cipher, workers, &mut buf, 0, &lens, is_final).unwrap();
                    let end = (n - 1) * FRAME_SIZE + lens[n - 1] + TAG_LEN;
                    assert_eq!(buf[..end], want[..end], "{alg} {len} {workers}");
                }
            }
        }
    }

    #[test]
    fn a_bad_frame_fails_alone_and_is_zeroed() {
        let key = DataKey::generate().unwrap();
        let cipher = ChunkCipher::new(Algorithm::Sm4, &key, NoncePrefix::from_bytes([1; 7]));
        let plain = vec![0x42u8; 5 * CHUNK_SIZE];
        let mut stored = reference(&cipher, &plain);
        stored[2 * FRAME_SIZE + 10] ^= 1;
        let results = open(&cipher, 3, &mut stored, 0, &[FRAME_SIZE; 5], 4, &|_| {
            0..usize::MAX
        });
        let failed: Vec<bool> = results.iter().map(Result::is_err).collect();
        assert_eq!(failed, [false, false, true, false, false]);
        let bad = &stored[2 * FRAME_SIZE..3 * FRAME_SIZE];
        assert!(
            bad.iter().all(|&b| b == 0),
            "no unauthenticated byte is left"
        );
        assert_eq!(stored[..CHUNK_SIZE], plain[..CHUNK_SIZE]);
    }
}
