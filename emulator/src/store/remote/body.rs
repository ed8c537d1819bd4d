//! Stored bytes in the backend: a reader that turns seeks into ranged reads (RANGE: an
//! encrypted Range GET fetches only from the first chunk it needs), over one body object
//! or the parts a completed multipart object is made of; and a writer that streams
//! encoded bytes into one backend object in bounded memory.
//!
//! The reader fetches at most [`Backend::read_window`] bytes per backend request, each
//! whole before the client is handed any: no backend request stays open while a slow
//! client reads, and each is bounded by the backend timeout and retried on its own.

use std::io::{Read, Seek, SeekFrom};

use bytes::{Buf as _, Bytes};
use object_store::path::Path;
use object_store::{MultipartUpload, PutMode, PutPayload};

use super::backend::{backend_error, Backend};
use crate::store::{BodyFormat, Encoder, StoreError, StoredBody};

/// Bytes buffered before a body goes to the backend as a multipart upload part (S3 asks
/// for at least 5 MiB per part but the last).
pub const UPLOAD_PART: usize = 8 * 1024 * 1024;

/// One backend object of a body, and how many stored bytes it holds.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Where its bytes are.
    pub path: Path,
    /// How many.
    pub len: u64,
}

/// Reads a body made of `segments`, back to back, as one seekable stream.
pub struct SegmentReader {
    backend: Backend,
    segments: Vec<Segment>,
    len: u64,
    pos: u64,
    /// Bytes fetched and not yet read; the first is at `pos`.
    buffered: Bytes,
}

impl SegmentReader {
    /// A [`StoredBody`] over `segments`.
    pub fn body(backend: Backend, segments: Vec<Segment>) -> StoredBody {
        let len = segments.iter().map(|s| s.len).sum();
        StoredBody::from_source(
            Box::new(SegmentReader {
                backend,
                segments,
                len,
                pos: 0,
                buffered: Bytes::new(),
            }),
            len,
        )
    }

    /// Fetches the next window: from `pos` to the end of its segment, at most
    /// [`Backend::read_window`] bytes.
    fn fetch_at_pos(&mut self) -> std::io::Result<()> {
        let mut start = 0;
        for segment in &self.segments {
            let end = start + segment.len;
            if self.pos < end {
                let from = self.pos - start;
                let to = segment.len.min(from + self.backend.read_window());
                let bytes = self
                    .backend
                    .read_range(&segment.path, from, to)
                    .map_err(std::io::Error::other)?;
                if (bytes.len() as u64) < to - from {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the backend object is shorter than its record says",
                    ));
                }
                self.buffered = bytes.slice(..usize::try_from(to - from).unwrap_or(usize::MAX));
                return Ok(());
            }
            start = end;
        }
        Ok(())
    }
}

impl Read for SegmentReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        if self.buffered.is_empty() {
            self.fetch_at_pos()?;
        }
        let n = out.len().min(self.buffered.len());
        out[..n].copy_from_slice(&self.buffered.split_to(n));
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SegmentReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before 0"))?;
        if target != self.pos {
            // Keep what is buffered when the target lies in it (a decoder skipping ahead).
            match target.checked_sub(self.pos) {
                Some(ahead) if ahead < self.buffered.len() as u64 => {
                    self.buffered
                        .advance(usize::try_from(ahead).unwrap_or(usize::MAX));
                }
                _ => self.buffered = Bytes::new(),
            }
            self.pos = target;
        }
        Ok(target)
    }
}

/// Encoded bytes streamed into one backend object: small bodies in one PUT, larger ones
/// as a multipart upload of [`UPLOAD_PART`] pieces. Dropping it before [`BodyUpload::finish`]
/// aborts the upload, so nothing is left.
pub struct BodyUpload {
    backend: Backend,
    path: Path,
    encoder: Box<dyn Encoder>,
    pending: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
    stored_len: u64,
}

impl BodyUpload {
    /// Writes through `encoder` to `path`.
    pub fn new(backend: Backend, path: Path, encoder: Box<dyn Encoder>) -> Self {
        BodyUpload {
            backend,
            path,
            encoder,
            pending: Vec::new(),
            upload: None,
            stored_len: 0,
        }
    }

    /// Where the bytes go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Encodes `plain`; sends a part when enough is buffered.
    pub fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.encoder.encode(plain, &mut self.pending)?;
        if self.pending.len() >= UPLOAD_PART {
            self.send_part()?;
        }
        Ok(())
    }

    fn send_part(&mut self) -> Result<(), StoreError> {
        let piece = Bytes::from(std::mem::take(&mut self.pending));
        self.stored_len += piece.len() as u64;
        let backend = self.backend.clone();
        if self.upload.is_none() {
            self.upload = Some(backend.start_upload(&self.path)?);
        }
        let upload = self.upload.as_mut().expect("started above");
        backend
            .wait(upload.put_part(PutPayload::from(piece)))
            .map_err(backend_error)
    }

    /// Ends the encoding and makes the object whole in the backend; returns the body's
    /// format and stored length.
    pub fn finish(&mut self) -> Result<(BodyFormat, u64), StoreError> {
        self.encoder.finish(&mut self.pending)?;
        let backend = self.backend.clone();
        match self.upload.take() {
            None => {
                let piece = Bytes::from(std::mem::take(&mut self.pending));
                self.stored_len += piece.len() as u64;
                backend.put(&self.path, piece, PutMode::Overwrite)?;
            }
            Some(upload) => {
                self.upload = Some(upload);
                if !self.pending.is_empty() {
                    self.send_part()?;
                }
                let mut upload = self.upload.take().expect("kept above");
                backend.wait(upload.complete()).map_err(backend_error)?;
            }
        }
        Ok((self.encoder.format(), self.stored_len))
    }
}

impl Drop for BodyUpload {
    fn drop(&mut self) {
        // Not finished: abort the backend's upload without blocking (a drop may happen on
        // an async task when a request body is cut short).
        if let Some(mut upload) = self.upload.take() {
            let runtime = self.backend.runtime().clone();
            runtime.spawn(async move {
                let _ = upload.abort().await;
            });
        }
    }
}
