//! Stored bytes in the backend: a reader that turns seeks into ranged reads (RANGE: an
//! encrypted Range GET fetches only from the first chunk it needs), over one body object
//! or the parts a completed multipart object is made of; and a writer that streams
//! encoded bytes into one backend object in bounded memory.
//!
//! The reader fetches at most [`Backend::read_window`] bytes per backend request. Each
//! answer is drained at the backend's pace into memory, whatever the client's, so no
//! backend request stays open while a slow client reads; its pieces are handed to the
//! client as they arrive. Each request is bounded by the backend timeout, and one cut off
//! is asked again from the first byte not handed over ([`Backend::stream_range`]). While
//! the client takes one window the next [`AHEAD`] are already being fetched, asked for
//! together with the first (so a read holds at most `AHEAD + 1` windows), and a read whose
//! end is known (a Range GET, a part) fetches no byte past it.
//!
//! The writer sends a part to the backend while the client's next bytes are encoded (one
//! part in flight, so a write holds at most two parts); a body declared large has its
//! multipart upload created while its first part comes in ([`BodyUpload::expect`]); the
//! last part goes beside the one in flight, and the last request (the one PUT, or the
//! Complete) alongside the record reads of the commit ([`BodyUpload::finish_alongside`]).

use std::collections::VecDeque;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Buf as _, Bytes};
use object_store::path::Path;
use object_store::{MultipartUpload, PutMode, PutPayload};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::backend::{backend_error, Backend};
pub use super::keys::Segment;
use crate::store::{BodyFormat, Encoder, StoreError, StoredBody};

/// Bytes buffered before a body goes to the backend as a multipart upload part: S3's
/// smallest part but the last, so a body of a few MiB already overlaps its first part's
/// upload with the client sending the rest.
pub const UPLOAD_PART: usize = 5 * 1024 * 1024;

/// The first window of a read at most (1¼ MiB: a 1 MiB object with its chunks' tags in one
/// request): a GET's first bytes go out after a short fetch,
/// and the windows after it are fetched while the client takes these.
pub const FIRST_WINDOW: u64 = 1280 * 1024;

/// Reads a body made of `segments`, back to back, as one seekable stream.
pub struct SegmentReader {
    backend: Backend,
    segments: Vec<Segment>,
    len: u64,
    pos: u64,
    /// Bytes fetched and not yet read; the first is at `pos`.
    buffered: Bytes,
    /// The window being read: what it has not handed over yet is still arriving (its
    /// next piece starts at `pos` when `buffered` is empty).
    current: Option<Fetching>,
    /// Where the read under way ends (set by [`StoredBody::seek_to`]): nothing past it is
    /// fetched.
    end: Arc<AtomicU64>,
    /// The next window being fetched: where it starts and the task fetching it.
    ahead: VecDeque<Fetching>,
}

/// A window being fetched in the background: its pieces are handed over as they arrive
/// (the client gets the first bytes of a window before its last have come), and the
/// backend's answer is drained at the backend's pace whatever the client's, into memory
/// bounded by the window.
pub struct Fetching {
    /// Where it starts in the body.
    at: u64,
    /// Where it ends.
    end: u64,
    /// Its pieces in order, then nothing (whole) or an error (cut short).
    pieces: mpsc::UnboundedReceiver<Result<Bytes, StoreError>>,
    /// Bytes handed over so far.
    received: u64,
    task: JoinHandle<()>,
}

impl Fetching {
    /// Stops the fetch (its bytes are not wanted).
    pub fn abort(self) {
        self.task.abort();
    }

    /// The next piece (waiting for it); `None` once the window was handed over whole.
    fn next_piece(&mut self, backend: &Backend) -> Option<Result<Bytes, StoreError>> {
        match backend.wait(self.pieces.recv()) {
            Some(Ok(piece)) => {
                self.received += piece.len() as u64;
                Some(Ok(piece))
            }
            Some(Err(e)) => Some(Err(e)),
            // Never read as whole a window whose fetch ended without all its bytes.
            None if self.received < self.end - self.at => {
                Some(Err(StoreError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a backend read ended before its last byte",
                ))))
            }
            None => None,
        }
    }
}

/// How many windows a reader fetches ahead of the one the client is taking: the backend
/// serves two requests at once where one after the other would leave it idle between
/// them, and a read holds at most `AHEAD + 1` windows.
pub const AHEAD: usize = 2;

/// A window of a body: where it starts (`at`, in the body's stored bytes) and the backend
/// object and byte range it is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Offset in the body's stored bytes (across its segments).
    pub at: u64,
    /// The backend object.
    pub path: Path,
    /// First byte fetched, within that object.
    pub from: u64,
    /// One past the last byte fetched.
    pub to: u64,
}

/// How many bytes a read fetches first after an open or a seek.
fn first_window_len(backend: &Backend) -> u64 {
    backend.read_window().min(FIRST_WINDOW)
}

/// The window a read of the stored bytes `span` of the body made of `segments` fetches
/// first, as [`SegmentReader`] plans it after a seek: from the span's start to the end of
/// the span, of its segment or of a first window, whichever comes first (`None` for an
/// empty span or one past the body).
pub fn first_window(backend: &Backend, segments: &[Segment], span: Range<u64>) -> Option<Window> {
    let mut start = 0;
    for segment in segments {
        let end = start + segment.len;
        if span.start < end {
            let from = span.start - start;
            let to = segment
                .len
                .min(from + first_window_len(backend))
                .min(span.end.saturating_sub(start));
            return (to > from).then(|| Window {
                at: span.start,
                path: segment.path.clone(),
                from,
                to,
            });
        }
        start = end;
    }
    None
}

/// Starts fetching `window` (whole, or an error) in the background.
pub fn prefetch(backend: &Backend, window: &Window) -> Fetching {
    let (fetcher, path, from, to) = (backend.clone(), window.path.clone(), window.from, window.to);
    let (tx, pieces) = mpsc::unbounded_channel();
    let task = backend.runtime().spawn(async move {
        fetcher.stream_range(&path, from, to, &tx).await;
    });
    Fetching {
        at: window.at,
        end: window.at + (window.to - window.from),
        pieces,
        received: 0,
        task,
    }
}

impl Drop for SegmentReader {
    fn drop(&mut self) {
        self.drop_ahead();
    }
}

impl SegmentReader {
    /// A [`StoredBody`] over `segments`.
    pub fn body(backend: Backend, segments: Vec<Segment>) -> StoredBody {
        Self::body_with(backend, segments, None)
    }

    /// A [`StoredBody`] over `segments` whose first window may be on its way already
    /// (`ahead`, used when the first read starts where it does).
    pub fn body_with(
        backend: Backend,
        segments: Vec<Segment>,
        ahead: Option<Fetching>,
    ) -> StoredBody {
        let len = segments.iter().map(|s| s.len).sum();
        let end = Arc::new(AtomicU64::new(len));
        StoredBody::from_source_with_end(
            Box::new(SegmentReader {
                backend,
                segments,
                len,
                pos: 0,
                buffered: Bytes::new(),
                current: None,
                end: end.clone(),
                ahead: ahead.into_iter().collect(),
            }),
            len,
            end,
        )
    }

    /// The window at `at`: its segment's path and its bounds within the segment (to the
    /// end of the segment or of the read, at most [`Backend::read_window`] bytes); `None`
    /// at or past the end.
    fn window(&self, at: u64) -> Option<(Path, u64, u64)> {
        let stop = self.end.load(Ordering::Relaxed).min(self.len);
        let stop = if stop <= at { self.len } else { stop };
        let mut start = 0;
        for segment in &self.segments {
            let end = start + segment.len;
            if at < end {
                let from = at - start;
                // The first window after a seek (or the open) is short, the rest full.
                let window = if at == self.pos
                    && self.buffered.is_empty()
                    && self.current.is_none()
                    && self.ahead.is_empty()
                {
                    first_window_len(&self.backend)
                } else {
                    self.backend.read_window()
                };
                let to = segment.len.min(from + window).min(stop - start);
                return Some((segment.path.clone(), from, to));
            }
            start = end;
        }
        None
    }

    /// Keeps [`AHEAD`] windows after `next` being fetched in the background (fewer near
    /// the end of the read).
    fn fetch_ahead(&mut self, next: u64) {
        let end = self.end.load(Ordering::Relaxed).min(self.len);
        let mut at = self.ahead.back().map_or(next, |a| a.end);
        while self.ahead.len() < AHEAD && at < end {
            let Some((path, from, to)) = self.window(at) else {
                break;
            };
            let fetching = prefetch(&self.backend, &Window { at, path, from, to });
            at = fetching.end;
            self.ahead.push_back(fetching);
        }
    }

    /// Stops every fetch under way.
    fn drop_ahead(&mut self) {
        if let Some(fetching) = self.current.take() {
            fetching.abort();
        }
        for fetching in self.ahead.drain(..) {
            fetching.abort();
        }
    }

    /// Fills the buffer with the next piece at `pos`: from the window being read, or from
    /// the window fetched ahead that starts there, or from a window asked for now (after
    /// a seek), and keeps the windows after it being fetched.
    fn fetch_at_pos(&mut self) -> std::io::Result<()> {
        if let Some(current) = self.current.as_mut() {
            match current.next_piece(&self.backend) {
                Some(piece) => {
                    self.buffered = piece.map_err(std::io::Error::other)?;
                    return Ok(());
                }
                // Handed over whole: the next window follows.
                None => self.current = None,
            }
        }
        let window = match self.ahead.pop_front() {
            Some(ahead) if ahead.at == self.pos => ahead,
            other => {
                // A seek elsewhere: nothing fetched ahead is of use.
                if let Some(fetching) = other {
                    fetching.abort();
                }
                self.drop_ahead();
                let Some((path, from, to)) = self.window(self.pos) else {
                    return Ok(());
                };
                prefetch(
                    &self.backend,
                    &Window {
                        at: self.pos,
                        path,
                        from,
                        to,
                    },
                )
            }
        };
        // The windows after it go out at once with it.
        let after = window.end;
        self.current = Some(window);
        self.fetch_ahead(after);
        let first = self
            .current
            .as_mut()
            .and_then(|current| current.next_piece(&self.backend));
        match first {
            Some(piece) => self.buffered = piece.map_err(std::io::Error::other)?,
            None => self.current = None,
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
                // Just past what is buffered: the window being read goes on from there.
                Some(ahead) if ahead == self.buffered.len() as u64 => {
                    self.buffered = Bytes::new();
                }
                _ => {
                    self.buffered = Bytes::new();
                    if let Some(current) = self.current.take() {
                        current.abort();
                    }
                }
            }
            self.pos = target;
        }
        Ok(target)
    }
}

/// Encoded bytes streamed into one backend object: small bodies in one PUT, larger ones
/// as a multipart upload of [`UPLOAD_PART`] pieces, one in flight while the next is
/// encoded. Dropping it before [`BodyUpload::finish`] aborts the upload, so nothing is
/// left.
pub struct BodyUpload {
    backend: Backend,
    path: Path,
    encoder: Box<dyn Encoder>,
    pending: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
    /// The multipart upload being created before its first part is ready
    /// ([`BodyUpload::expect`]).
    creating: Option<JoinHandle<Result<Box<dyn MultipartUpload>, StoreError>>>,
    /// The part being sent.
    in_flight: Option<JoinHandle<object_store::Result<()>>>,
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
            creating: None,
            in_flight: None,
            stored_len: 0,
        }
    }

    /// Where the bytes go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Told that `plain_len` bytes will be written: a body that will be a multipart
    /// upload (its encoding is at least as long as the plaintext) has the upload created
    /// now, while the client sends its first part, instead of once that part is in.
    pub fn expect(&mut self, plain_len: u64) {
        if plain_len >= UPLOAD_PART as u64 && self.upload.is_none() && self.creating.is_none() {
            let (backend, path) = (self.backend.clone(), self.path.clone());
            self.creating = Some(
                self.backend
                    .runtime()
                    .spawn(async move { backend.create_upload(&path).await }),
            );
        }
    }

    /// Encodes `plain`; sends a part when enough is buffered.
    pub fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.encoder.encode(plain, &mut self.pending)?;
        if self.pending.len() >= UPLOAD_PART {
            self.settle()?;
            self.send_part()?;
        }
        Ok(())
    }

    /// Waits for the part in flight, if any.
    fn settle(&mut self) -> Result<(), StoreError> {
        if let Some(task) = self.in_flight.take() {
            self.backend.wait(joined(task))?;
        }
        Ok(())
    }

    /// Sends what is pending as the next part, in the background. Called once the part
    /// before it has arrived while the client is still sending (so a write holds at most
    /// one part in flight and one buffered), beside it for the last part.
    fn send_part(&mut self) -> Result<(), StoreError> {
        let piece = Bytes::from(std::mem::take(&mut self.pending));
        self.stored_len += piece.len() as u64;
        let upload = match self.upload.take() {
            Some(upload) => upload,
            None => match self.creating.take() {
                Some(task) => self.backend.wait(created(task))?,
                None => self.backend.start_upload(&self.path)?,
            },
        };
        let upload = self.upload.insert(upload);
        let part = upload.put_part(PutPayload::from(piece));
        let before = self.in_flight.take();
        self.in_flight = Some(self.backend.runtime().spawn(async move {
            // Parts are numbered when asked for: this one may land before the one in
            // flight, and both must be in before the Complete.
            let (sent, before) = futures_util::future::join(part, async move {
                match before {
                    Some(task) => task
                        .await
                        .unwrap_or_else(|e| Err(object_store::Error::JoinError { source: e })),
                    None => Ok(()),
                }
            })
            .await;
            before.and(sent)
        }));
        Ok(())
    }

    /// Ends the encoding and makes the object whole in the backend; returns the body's
    /// format and stored length.
    pub fn finish(&mut self) -> Result<(BodyFormat, u64), StoreError> {
        self.finish_alongside(async {}).0
    }

    /// [`BodyUpload::finish`], with the body's last backend request (its one PUT, or the
    /// multipart Complete) sent at the same time as `alongside` (the commit's record
    /// reads), whose output is returned too: one round trip for both.
    pub fn finish_alongside<T>(
        &mut self,
        alongside: impl Future<Output = T>,
    ) -> (Result<(BodyFormat, u64), StoreError>, T) {
        let backend = self.backend.clone();
        let ready = self
            .encoder
            .finish(&mut self.pending)
            .map_err(StoreError::from);
        // A body that turned out smaller than expected needs no multipart upload.
        let creating = match self.upload.is_none() && self.pending.len() < UPLOAD_PART {
            true => self.creating.take(),
            false => None,
        };
        let ready = ready.and_then(|()| {
            match (self.upload.is_some() || self.creating.is_some()) && !self.pending.is_empty() {
                true => self.send_part(),
                false => Ok(()),
            }
        });
        let in_flight = self.in_flight.take();
        let upload = self.upload.take();
        let piece = Bytes::from(std::mem::take(&mut self.pending));
        if upload.is_none() {
            self.stored_len += piece.len() as u64;
        }
        let format = self.encoder.format();
        let stored_len = self.stored_len;
        let path = self.path.clone();
        let last = async {
            if let Some(task) = creating {
                abort_created(task).await;
            }
            match (ready, upload) {
                (Err(e), None) => Err(e),
                (Err(e), Some(mut upload)) => {
                    if let Some(task) = in_flight {
                        task.abort();
                    }
                    let _ = upload.abort().await;
                    Err(e)
                }
                (Ok(()), None) => {
                    backend.put_async(&path, piece, PutMode::Overwrite).await?;
                    Ok((format, stored_len))
                }
                (Ok(()), Some(mut upload)) => {
                    let sent = match in_flight {
                        Some(task) => joined(task).await,
                        None => Ok(()),
                    };
                    let done = match sent {
                        Ok(()) => upload.complete().await.map(drop).map_err(backend_error),
                        Err(e) => Err(e),
                    };
                    if done.is_err() {
                        let _ = upload.abort().await;
                    }
                    done.map(|()| (format, stored_len))
                }
            }
        };
        self.backend
            .wait(futures_util::future::join(last, alongside))
    }
}

/// The outcome of a part upload's task.
async fn joined(task: JoinHandle<object_store::Result<()>>) -> Result<(), StoreError> {
    task.await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
        .map_err(backend_error)
}

/// The multipart upload a creating task made.
async fn created(
    task: JoinHandle<Result<Box<dyn MultipartUpload>, StoreError>>,
) -> Result<Box<dyn MultipartUpload>, StoreError> {
    task.await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
}

/// Aborts the multipart upload a creating task makes (once made): it is not wanted.
async fn abort_created(task: JoinHandle<Result<Box<dyn MultipartUpload>, StoreError>>) {
    if let Ok(Ok(mut upload)) = task.await {
        let _ = upload.abort().await;
    }
}

impl Drop for BodyUpload {
    fn drop(&mut self) {
        // Not finished: abort the backend's upload without blocking (a drop may happen on
        // an async task when a request body is cut short).
        if let Some(task) = self.in_flight.take() {
            task.abort();
        }
        if let Some(mut upload) = self.upload.take() {
            let runtime = self.backend.runtime().clone();
            runtime.spawn(async move {
                let _ = upload.abort().await;
            });
        }
        if let Some(task) = self.creating.take() {
            self.backend.runtime().spawn(abort_created(task));
        }
    }
}
