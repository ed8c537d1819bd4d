//! Moving bodies between the network and the store in bounded memory.
//!
//! Disk I/O and ciphers run on blocking threads; the async side and the blocking side pass
//! chunks through a channel of [`DEPTH`] slots, so at most a few chunks are in flight
//! whatever the object size. MD5 and CRC-64 are computed on the plaintext as it passes.

use bytes::Bytes;
use futures_util::StreamExt;
use md5::{Digest, Md5};
use tokio::sync::mpsc;

use crate::error::{Error, ErrorCode};
use crate::request::BodyStream;
use crate::store::{Decoder, ObjectWriter, StoreError, StoredBody};

/// Chunks in flight between the async and the blocking side.
const DEPTH: usize = 4;

/// Digests of a plaintext stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// MD5 (the ETag of a single PUT).
    pub md5: [u8; 16],
    /// CRC-64/XZ, as `x-cos-hash-crc64ecma` reports it.
    pub crc64: u64,
    /// Bytes seen.
    pub len: u64,
}

/// Streaming MD5 and length, the digest thread's half of [`Digests`].
#[derive(Default)]
struct Md5Counter {
    md5: Md5,
    len: u64,
}

impl Md5Counter {
    fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.len += bytes.len() as u64;
    }
}

/// Runs blocking work (disk, ciphers) off the async executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Error::internal)?
}

/// Maps a store failure to the refusal a client sees.
pub fn store_error(e: StoreError) -> Error {
    match e {
        StoreError::NoSuchBucket(b) => Error::new(
            ErrorCode::NoSuchBucket,
            format!("bucket {b} does not exist"),
        ),
        StoreError::BucketNotEmpty(b) => Error::new(
            ErrorCode::BucketNotEmpty,
            format!("bucket {b} is not empty"),
        ),
        StoreError::BucketExists(b) => Error::new(
            ErrorCode::BucketAlreadyExists,
            format!("bucket {} exists", b.name),
        ),
        other => Error::internal(other),
    }
}

/// Bytes of request body gathered before the digest and writer threads are handed them.
/// hyper yields whatever one socket read returned (mostly 408 KiB over loopback HTTP here,
/// less when reads come back short); a batch wakes each thread once for at least this
/// much. The pieces are gathered by reference (no copy), so memory stays bounded by the
/// two channels of [`DEPTH`] batches.
const BATCH: usize = 256 * 1024;

/// Feeds a request body into `writer`, checking it is exactly `expected` bytes when the
/// length is known, and returns the writer (for commit) with the plaintext digests. On any
/// failure the writer is dropped, which leaves nothing behind.
///
/// Two blocking threads share the work so that an upload uses two cores: one computes
/// the MD5 (the ETag's MD5 is the bound of a plain PUT, so that thread does nothing
/// else), the other CRC-64 (several times faster), encoding (encryption) and writing.
/// Both receive the same reference-counted pieces, gathered in batches of [`BATCH`]
/// bytes, through their own channel of [`DEPTH`] slots, so nothing is copied and memory
/// stays bounded.
pub async fn ingest(
    mut body: BodyStream,
    mut writer: Box<dyn ObjectWriter>,
    expected: Option<u64>,
    limit: u64,
) -> Result<(Box<dyn ObjectWriter>, Digests), Error> {
    let (tx, mut rx) = mpsc::channel::<Vec<Bytes>>(DEPTH);
    let sink = tokio::task::spawn_blocking(move || {
        let mut crc = crc64fast::Digest::new();
        while let Some(batch) = rx.blocking_recv() {
            for piece in &batch {
                crc.write(piece);
                writer.write(piece)?;
            }
        }
        Ok::<_, StoreError>((writer, crc.sum64()))
    });
    let (digest_tx, mut digest_rx) = mpsc::channel::<Vec<Bytes>>(DEPTH);
    let digest = tokio::task::spawn_blocking(move || {
        let mut md5 = Md5Counter::default();
        while let Some(batch) = digest_rx.blocking_recv() {
            batch.iter().for_each(|piece| md5.update(piece));
        }
        md5
    });
    // Hands a batch to both threads; `false` once the writer has failed (its error is
    // reported below). The digest thread never fails, so its channel stays open.
    let hand_over = |batch: Vec<Bytes>| async {
        let _ = digest_tx.send(batch.clone()).await;
        tx.send(batch).await.is_ok()
    };
    let mut batch = Vec::new();
    let mut batched = 0;
    let mut seen: u64 = 0;
    let mut failure = None;
    while let Some(item) = body.next().await {
        match item {
            Ok(chunk) => {
                seen += chunk.len() as u64;
                if seen > limit {
                    failure = Some(Error::new(
                        ErrorCode::EntityTooLarge,
                        format!("the body exceeds {limit} bytes"),
                    ));
                    break;
                }
                batched += chunk.len();
                batch.push(chunk);
                if batched >= BATCH {
                    batched = 0;
                    if !hand_over(std::mem::take(&mut batch)).await {
                        break;
                    }
                }
            }
            Err(e) => {
                failure = Some(Error::new(
                    ErrorCode::IncompleteBody,
                    format!("the request body ended early after {seen} bytes: {e}"),
                ));
                break;
            }
        }
    }
    if failure.is_none() && !batch.is_empty() {
        hand_over(batch).await;
    }
    drop(tx);
    drop(digest_tx);
    let written = sink.await.map_err(Error::internal)?.map_err(store_error);
    let md5 = digest.await.map_err(Error::internal)?;
    if let Some(f) = failure {
        return Err(f);
    }
    let (writer, crc64) = written?;
    let digests = Digests {
        md5: md5.md5.finalize().into(),
        crc64,
        len: md5.len,
    };
    if let Some(n) = expected {
        if digests.len != n {
            return Err(Error::new(
                ErrorCode::IncompleteBody,
                format!("Content-Length is {n} but {} bytes arrived", digests.len),
            ));
        }
    }
    Ok((writer, digests))
}

/// Streams plaintext `range` of a stored body through `decoder`. Decoding runs on a blocking
/// thread; a failure mid-way ends the stream with an error (the connection is cut), so a
/// client never receives wrong bytes as if they were the object.
pub fn stream_out(
    mut stored: StoredBody,
    mut decoder: Box<dyn Decoder>,
    range: std::ops::Range<u64>,
) -> BodyStream {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(DEPTH);
    tokio::task::spawn_blocking(move || {
        let mut emit = |piece: Vec<u8>| tx.blocking_send(Ok(Bytes::from(piece))).is_ok();
        if let Err(e) = decoder.read_range(&mut stored, range, &mut emit) {
            tracing::error!(error = %e, "stored body failed while streaming");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        if item.is_err() {
            // The pieces before the failure are on their way: let the connection flush
            // them (and the status line) before the error aborts it. Without this pause, a
            // decoder that ran ahead handed hyper the error in the same poll as chunk 0,
            // and the client saw the connection close with no bytes at all, not the
            // documented 200 cut short (README, Guarantees: tampering).
            tokio::task::yield_now().await;
        }
        Some((item, rx))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::{Arc, Mutex};

    use crate::store::{ObjectMeta, ObjectRecord};

    /// A writer that keeps what it is given (`ingest` never commits).
    struct Collect(Arc<Mutex<Vec<u8>>>);

    impl ObjectWriter for Collect {
        fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
            self.0.lock().unwrap().extend_from_slice(plain);
            Ok(())
        }
        fn commit(self: Box<Self>, _: ObjectMeta) -> Result<ObjectRecord, StoreError> {
            unreachable!("ingest hands the writer back uncommitted")
        }
    }

    /// Runs `pieces` through `ingest`; returns the digests and the bytes written.
    fn ingest_pieces(
        pieces: Vec<Vec<u8>>,
        expected: Option<u64>,
    ) -> (Result<Digests, Error>, Vec<u8>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let body: BodyStream = Box::pin(futures_util::stream::iter(
            pieces.into_iter().map(|p| Ok(Bytes::from(p))),
        ));
        let writer = Box::new(Collect(written.clone()));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let result = runtime
            .block_on(ingest(body, writer, expected, u64::MAX))
            .map(|(_, d)| d);
        let bytes = written.lock().unwrap().clone();
        (result, bytes)
    }

    #[test]
    fn crc64_is_the_xz_variant() {
        // CRC-64/XZ check value (the one the COS SDKs compare as x-cos-hash-crc64ecma).
        let (digests, _) = ingest_pieces(vec![b"123456789".to_vec()], Some(9));
        assert_eq!(digests.unwrap().crc64, 0x995d_c9bb_df19_39fa);
    }

    #[test]
    fn batched_pieces_are_written_and_digested_whole_and_in_order() {
        // Pieces of many sizes, across several batches, the last batch a short one.
        let data: Vec<u8> = (0..3 * BATCH + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut pieces = Vec::new();
        let mut at = 0;
        for size in [1, 17, 4096, BATCH - 1, BATCH + 1, 65_536].iter().cycle() {
            let end = (at + size).min(data.len() - 3);
            pieces.push(data[at..end].to_vec());
            at = end;
            if at == data.len() - 3 {
                break;
            }
        }
        pieces.push(data[at..].to_vec());
        let (digests, written) = ingest_pieces(pieces, Some(data.len() as u64));
        let digests = digests.unwrap();
        assert_eq!(written, data);
        assert_eq!(digests.len, data.len() as u64);
        assert_eq!(digests.md5, <[u8; 16]>::from(Md5::digest(&data)));
        let mut crc = crc64fast::Digest::new();
        crc.write(&data);
        assert_eq!(digests.crc64, crc.sum64());
    }

    #[test]
    fn an_empty_body_has_the_empty_md5_and_a_short_one_is_refused() {
        let (digests, _) = ingest_pieces(Vec::new(), Some(0));
        assert_eq!(
            hex::encode(digests.unwrap().md5),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        let (short, _) = ingest_pieces(vec![vec![1; 10]], Some(11));
        assert!(short
            .unwrap_err()
            .to_string()
            .contains("Content-Length is 11"));
    }
}
