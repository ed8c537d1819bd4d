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

/// Streaming MD5 + CRC-64/XZ.
pub struct Digester {
    md5: Md5,
    crc: crc64fast::Digest,
    len: u64,
}

impl Default for Digester {
    fn default() -> Self {
        Digester {
            md5: Md5::new(),
            crc: crc64fast::Digest::new(),
            len: 0,
        }
    }
}

impl Digester {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.crc.write(bytes);
        self.len += bytes.len() as u64;
    }

    /// The digests of everything fed.
    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.finalize().into(),
            crc64: self.crc.sum64(),
            len: self.len,
        }
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

/// Feeds a request body into `writer`, checking it is exactly `expected` bytes when the
/// length is known, and returns the writer (for commit) with the plaintext digests. On any
/// failure the writer is dropped, which leaves nothing behind.
///
/// Two blocking threads share the work so that an upload uses two cores: one computes
/// MD5 and CRC-64 (the ETag's MD5 is the bound of a plain PUT), the other encodes
/// (encrypts) and writes. Both receive the same reference-counted chunks through their own
/// channel of [`DEPTH`] slots, so nothing is copied and memory stays bounded.
pub async fn ingest(
    mut body: BodyStream,
    mut writer: Box<dyn ObjectWriter>,
    expected: Option<u64>,
    limit: u64,
) -> Result<(Box<dyn ObjectWriter>, Digests), Error> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(DEPTH);
    let sink = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            writer.write(&chunk)?;
        }
        Ok::<_, StoreError>(writer)
    });
    let (digest_tx, mut digest_rx) = mpsc::channel::<Bytes>(DEPTH);
    let digest = tokio::task::spawn_blocking(move || {
        let mut digester = Digester::default();
        while let Some(chunk) = digest_rx.blocking_recv() {
            digester.update(&chunk);
        }
        digester.finish()
    });
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
                // The digest thread never fails, so its channel stays open.
                let _ = digest_tx.send(chunk.clone()).await;
                if tx.send(chunk).await.is_err() {
                    break; // the writer failed; its error is reported below
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
    drop(tx);
    drop(digest_tx);
    let written = sink.await.map_err(Error::internal)?.map_err(store_error);
    let digests = digest.await.map_err(Error::internal)?;
    if let Some(f) = failure {
        return Err(f);
    }
    let writer = written?;
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

    #[test]
    fn crc64_is_the_xz_variant() {
        // CRC-64/XZ check value (the one the COS SDKs compare as x-cos-hash-crc64ecma).
        let mut d = Digester::default();
        d.update(b"123456789");
        assert_eq!(d.finish().crc64, 0x995d_c9bb_df19_39fa);
    }

    #[test]
    fn digests_are_streaming() {
        let mut a = Digester::default();
        a.update(b"hello ");
        a.update(b"world");
        let mut b = Digester::default();
        b.update(b"hello world");
        assert_eq!(a.finish(), b.finish());
        assert_eq!(
            hex::encode(Digester::default().finish().md5),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }
}
