//! What one client connection may hold, beyond what hyper bounds: the protocol-detection
//! deadline, the slow-reader bound and the HTTP/2 idle bound ([`Guarded`]), and the count
//! of requests in flight that tells an idle HTTP/2 connection from a busy one
//! ([`InFlight`], [`Tracked`]).

use std::future::Future as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::task::AtomicWaker;

use crate::config::ConnectionLimits;

/// The requests of one connection still being answered: counted from the service call
/// until the response body is finished or dropped.
#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    /// The connection's reader, woken when the last request ends (its idle timer starts).
    reader: AtomicWaker,
}

impl InFlight {
    /// Counts one more request until the guard (carried by its response body) drops.
    pub fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self.clone())
    }

    /// Requests in flight now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn register(&self, cx: &std::task::Context<'_>) {
        self.reader.register(cx.waker());
    }
}

/// One request in flight; dropping it ends the count.
#[derive(Debug)]
pub struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.reader.wake();
        }
    }
}

/// A response body that holds its request's [`InFlightGuard`] until it is finished or
/// dropped (a reset stream drops it).
pub struct Tracked<B> {
    inner: B,
    _guard: InFlightGuard,
}

impl<B> Tracked<B> {
    /// `inner`, counted in flight while `guard` lives.
    pub fn new(inner: B, guard: InFlightGuard) -> Self {
        Tracked {
            inner,
            _guard: guard,
        }
    }
}

impl<B: http_body::Body + Unpin> http_body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The HTTP/2 connection preface; its first bytes tell HTTP/2 from HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A connection with the bounds hyper does not keep:
///
/// - its first bytes must arrive in time. hyper-util's protocol detection reads until the
///   bytes either leave the HTTP/2 preface (HTTP/1, whose request heads hyper's header
///   timer then bounds) or complete it, with no timer of its own; the read fails with
///   `TimedOut` when `deadline` passes before that point, so a client that connects and
///   sends nothing (or part of the preface) is disconnected;
/// - a write may wait at most `write_stall` for the client to take bytes: a client that
///   stops reading a response (a slow-read client) is disconnected instead of holding the
///   connection and the response's buffers;
/// - an HTTP/2 connection may stay open with no request in flight ([`InFlight`]) for
///   `idle_timeout` at most, however many frames (PINGs, SETTINGS) it sends meanwhile:
///   HTTP/1 keep-alive is bounded by hyper's header timer, HTTP/2 had no bound at all.
pub struct Guarded<S> {
    inner: S,
    /// Preface bytes matched so far; `None` once the protocol is known.
    matched: Option<usize>,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    write_stall: Duration,
    /// Runs while a write is waiting for the client; `None` while writes proceed.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// Whether the client spoke the HTTP/2 preface.
    h2: bool,
    in_flight: Arc<InFlight>,
    idle_timeout: Duration,
    /// Runs while an HTTP/2 connection has no request in flight.
    idle: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Guarded<S> {
    /// Guards `inner` with `limits`; `in_flight` counts the connection's requests (the
    /// service holds an [`InFlight::enter`] guard for each).
    pub fn new(inner: S, limits: &ConnectionLimits, in_flight: Arc<InFlight>) -> Self {
        Guarded {
            inner,
            matched: Some(0),
            deadline: Box::pin(tokio::time::sleep(limits.header_read_timeout)),
            write_stall: limits.body_progress_timeout,
            stalled: None,
            h2: false,
            in_flight,
            idle_timeout: limits.idle_timeout,
            idle: None,
        }
    }

    /// The HTTP/2 idle bound, checked on every read: the timer runs while no request is
    /// in flight (registered for a wake-up when the last one ends) and is cleared while
    /// one is.
    fn bound_idle(&mut self, cx: &mut std::task::Context<'_>) -> std::io::Result<()> {
        if !self.h2 {
            return Ok(());
        }
        self.in_flight.register(cx);
        if self.in_flight.count() > 0 {
            self.idle = None;
            return Ok(());
        }
        let timeout = self.idle_timeout;
        let timer = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "an HTTP/2 connection stayed idle past the idle timeout",
            )),
            std::task::Poll::Pending => Ok(()),
        }
    }

    /// The outcome of a write that may have waited: progress clears the stall timer, a
    /// wait starts it (once) and fails the write when it runs out.
    fn bound_write<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        result: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        if result.is_ready() {
            self.stalled = None;
            return result;
        }
        let stall = self.write_stall;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client stopped reading the response",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Guarded<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        let Some(matched) = this.matched else {
            if let Err(e) = this.bound_idle(cx) {
                return Poll::Ready(Err(e));
            }
            return std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                let end = (matched + new.len()).min(H2_PREFACE.len());
                let agrees = new
                    .iter()
                    .zip(&H2_PREFACE[matched..end])
                    .all(|(a, b)| a == b);
                this.h2 = agrees && end == H2_PREFACE.len();
                this.matched = if new.is_empty() || !agrees || this.h2 {
                    None
                } else {
                    Some(end)
                };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no request within the header read timeout",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Guarded<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = std::pin::Pin::new(&mut this.inner).poll_write(cx, data);
        this.bound_write(cx, result)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = std::pin::Pin::new(&mut this.inner).poll_flush(cx);
        this.bound_write(cx, result)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let result = std::pin::Pin::new(&mut this.inner).poll_shutdown(cx);
        this.bound_write(cx, result)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = std::pin::Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.bound_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
