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

/// Runs `work` while reading up to `limit` bytes of `body` (stopping when `work` is done
/// first), and returns `work`'s output with the body, what was read put back in front:
/// an upload's first bytes come in while the request waits on the store.
pub async fn read_ahead_while<T>(
    body: BodyStream,
    limit: usize,
    work: impl std::future::Future<Output = T>,
) -> (T, BodyStream) {
    let mut body = body.fuse();
    let mut early: Vec<std::io::Result<Bytes>> = Vec::new();
    let mut read = 0;
    let mut work = std::pin::pin!(work);
    let out = loop {
        if read >= limit {
            break work.await;
        }
        tokio::select! {
            biased;
            out = &mut work => break out,
            item = body.next() => match item {
                Some(Ok(chunk)) => {
                    read += chunk.len();
                    early.push(Ok(chunk));
                }
                Some(Err(e)) => {
                    early.push(Err(e));
                    break work.await;
                }
                None => break work.await,
            },
        }
    };
    (out, Box::pin(futures_util::stream::iter(early).chain(body)))
}

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
    if let Some(len) = expected {
        writer.expect(len);
    }
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
                failure = Some(read_error(&e, || {
                    format!("the request body ended early after {seen} bytes")
                }));
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

/// A refusal decided while a request body streams (its SHA-256, its aws-chunked chunk
/// signatures, its checksum: [`verify_payload`]), carried inside the body stream's
/// `io::Error` to whoever reads the body, which answers it instead of IncompleteBody
/// ([`read_error`]).
#[derive(Debug)]
pub struct BodyRefusal(pub Error);

impl std::fmt::Display for BodyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyRefusal {}

/// The refusal for a body stream that failed: the [`BodyRefusal`] it carries, or
/// `IncompleteBody` (the client went away, the body stalled) with `context`.
pub fn read_error(e: &std::io::Error, context: impl FnOnce() -> String) -> Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<BodyRefusal>())
    {
        Some(BodyRefusal(refusal)) => refusal.clone(),
        None => Error::new(ErrorCode::IncompleteBody, format!("{}: {e}", context())),
    }
}

/// What a request body must prove before an operation may keep anything it wrote
/// (SIGV4-PAYLOAD): decided by authentication from `x-amz-content-sha256`,
/// `x-amz-trailer` and the `x-amz-checksum-*` headers.
pub enum PayloadCheck {
    /// Nothing (COS requests; `UNSIGNED-PAYLOAD`).
    None,
    /// The body's SHA-256 must be this (lower-case hex): else 400 XAmzContentSHA256Mismatch.
    Sha256(String),
    /// An aws-chunked body: decoded as it streams, every chunk signature and the trailing
    /// checksum verified when it ends, and its decoded length must be
    /// `x-amz-decoded-content-length`.
    Chunked {
        /// The decoder (signed or unsigned, with the announced trailer).
        decoder: Box<sigv4::ChunkedDecoder>,
        /// `x-amz-decoded-content-length`.
        decoded_length: u64,
    },
}

/// The refusal for an aws-chunked body the decoder does not accept: a chunk or trailer
/// signature that does not match is 403 SignatureDoesNotMatch, a trailing checksum that
/// does not match the payload is 400 BadDigest (S3's answers), broken framing or an
/// unannounced trailer is 400 InvalidRequest.
pub fn chunk_refusal(e: sigv4::Error) -> Error {
    use sigv4::Error as E;
    let code = match e {
        E::ChunkSignatureMismatch | E::TrailerSignatureMismatch => ErrorCode::SignatureDoesNotMatch,
        E::ChecksumMismatch(_) => ErrorCode::BadDigest,
        _ => ErrorCode::InvalidRequest,
    };
    Error::new(code, e.to_string())
}

struct Verifying {
    body: BodyStream,
    sha256: Option<(sha2::Sha256, String)>,
    chunked: Option<(Box<sigv4::ChunkedDecoder>, u64)>,
    checksum: Option<(sigv4::Checksummer, sigv4::ChecksumAlgorithm, String)>,
    done: bool,
}

impl Verifying {
    /// Decodes one piece as it arrived (aws-chunked framing removed) and feeds the digests.
    fn piece(&mut self, bytes: Bytes) -> Result<Bytes, Error> {
        use sha2::Digest as _;
        if let Some((hasher, _)) = &mut self.sha256 {
            hasher.update(&bytes);
        }
        let out = match &mut self.chunked {
            Some((decoder, _)) => {
                let mut out = Vec::new();
                decoder.push(&bytes, &mut out).map_err(chunk_refusal)?;
                Bytes::from(out)
            }
            None => bytes,
        };
        if let Some((summer, _, _)) = &mut self.checksum {
            summer.update(&out);
        }
        Ok(out)
    }

    /// The checks of a body that ended.
    fn finish(&mut self) -> Result<(), Error> {
        use sha2::Digest as _;
        if let Some((hasher, expected)) = self.sha256.take() {
            if hex::encode(hasher.finalize()) != *expected {
                return Err(Error::new(
                    ErrorCode::ContentSha256Mismatch,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
        }
        if let Some((decoder, declared)) = self.chunked.take() {
            let trailer = decoder.finish().map_err(chunk_refusal)?;
            if trailer.decoded_length != declared {
                return Err(Error::new(
                    ErrorCode::IncompleteBody,
                    format!(
                        "x-amz-decoded-content-length is {declared} but the aws-chunked body                          carried {} bytes",
                        trailer.decoded_length
                    ),
                ));
            }
        }
        if let Some((summer, algorithm, expected)) = self.checksum.take() {
            if summer.finish() != expected {
                return Err(Error::new(
                    ErrorCode::BadDigest,
                    format!(
                        "The {} you specified did not match the calculated checksum.",
                        algorithm.header_name()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The request body with its SIGV4-PAYLOAD checks: the payload as it streams (aws-chunked
/// framing removed), then, in place of its end, an error carrying the refusal
/// ([`BodyRefusal`]) if a check fails. Every reader of a body (`ingest`, `read_document`)
/// keeps nothing unless the stream ends cleanly, so a refused body stores nothing. `header_checksum`: an
/// `x-amz-checksum-<alg>` request header (algorithm, base64), verified on the payload.
pub fn verify_payload(
    body: BodyStream,
    check: PayloadCheck,
    header_checksum: Option<(sigv4::ChecksumAlgorithm, String)>,
) -> BodyStream {
    use sha2::Digest as _;
    let (sha256, chunked) = match check {
        PayloadCheck::None if header_checksum.is_none() => return body,
        PayloadCheck::None => (None, None),
        PayloadCheck::Sha256(hex) => (Some((sha2::Sha256::new(), hex.to_ascii_lowercase())), None),
        PayloadCheck::Chunked {
            decoder,
            decoded_length,
        } => (None, Some((decoder, decoded_length))),
    };
    let state = Verifying {
        body,
        sha256,
        chunked,
        checksum: header_checksum.map(|(alg, value)| (sigv4::Checksummer::new(alg), alg, value)),
        done: false,
    };
    let refusal = |e: Error| std::io::Error::new(std::io::ErrorKind::InvalidData, BodyRefusal(e));
    Box::pin(futures_util::stream::unfold(
        state,
        move |mut st| async move {
            if st.done {
                return None;
            }
            loop {
                match st.body.next().await {
                    Some(Ok(bytes)) => match st.piece(bytes) {
                        Ok(out) if out.is_empty() => continue,
                        Ok(out) => return Some((Ok(out), st)),
                        Err(e) => {
                            st.done = true;
                            return Some((Err(refusal(e)), st));
                        }
                    },
                    Some(Err(e)) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                    None => {
                        st.done = true;
                        return match st.finish() {
                            Ok(()) => None,
                            Err(e) => Some((Err(refusal(e)), st)),
                        };
                    }
                }
            }
        },
    ))
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
        let mut emit = |piece: Bytes| tx.blocking_send(Ok(piece)).is_ok();
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

    /// Five pieces of 400 KiB, counting how many were taken from the source.
    fn counted_body() -> (BodyStream, Arc<std::sync::atomic::AtomicUsize>, Vec<u8>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let taken = Arc::new(AtomicUsize::new(0));
        let pieces: Vec<Bytes> = (0..5u8).map(|i| Bytes::from(vec![i; 400 * 1024])).collect();
        let whole = pieces.concat();
        let counter = taken.clone();
        let body = futures_util::stream::iter(pieces).map(move |p| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(p)
        });
        (Box::pin(body), taken, whole)
    }

    async fn rest(body: BodyStream) -> Vec<u8> {
        let pieces: Vec<Bytes> = body.map(|p| p.unwrap()).collect().await;
        pieces.concat()
    }

    #[tokio::test]
    async fn an_upload_body_is_read_ahead_while_the_store_answers_up_to_the_limit() {
        use std::sync::atomic::Ordering;
        let (body, taken, whole) = counted_body();
        let seen = taken.clone();
        // Done only once the body's first megabyte has come in.
        let work = async move {
            while seen.load(Ordering::SeqCst) < 3 {
                tokio::task::yield_now().await;
            }
            "bucket"
        };
        let wait = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            read_ahead_while(body, 1024 * 1024, work),
        );
        let (out, body) = wait.await.expect("the body was not read while waiting");
        assert_eq!(out, "bucket");
        assert_eq!(taken.load(Ordering::SeqCst), 3, "read past the limit");
        assert_eq!(rest(body).await, whole, "the body given back is not whole");
    }

    #[tokio::test]
    async fn no_body_is_read_ahead_once_the_store_has_answered() {
        use std::sync::atomic::Ordering;
        let (body, taken, whole) = counted_body();
        let (out, body) = read_ahead_while(body, 1024 * 1024, async { 7 }).await;
        assert_eq!((out, taken.load(Ordering::SeqCst)), (7, 0));
        assert_eq!(rest(body).await, whole);
    }
}
