//! The store's one door to the object store: blocking calls over `object_store`'s async
//! API, run on the runtime the store was opened in (store calls already run on blocking
//! threads, `body.rs`), and backend errors mapped to [`StoreError`]s.
//!
//! Every backend request is bounded ([`Limits`]): a timeout per request, a retry count
//! and a retry budget, so a hung backend costs a gateway request a bounded wait, not
//! `object_store`'s three minutes. Conditional record writes go through a client that
//! never retries: a retried conditional PUT whose first attempt did commit answers 412,
//! which would read as a lost race; without retries a failure is reported as such and
//! the caller re-reads the record to learn whether its write is there.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, MultipartUpload, ObjectStore, ObjectStoreExt as _,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, UpdateVersion,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use super::incomplete::IncompleteUploads;
use crate::store::StoreError;

/// The version a record was read at; a conditional write replaces exactly that version.
pub type Version = UpdateVersion;

/// How a conditional write ended.
#[derive(Debug)]
pub enum Written {
    /// Written; the new version.
    Done(Version),
    /// Another writer got there first (the object exists, or changed since it was read).
    Conflict,
}

/// How long and how often the gateway waits on the backend. Given as `--store-option`s
/// (`timeout`, `connect_timeout`, `retries`, `retry_budget`, `read_window`), which
/// `cos-emulator serve` also takes as `--store-timeout` and the like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One backend request, from connecting to the last byte of its answer.
    pub timeout: Duration,
    /// Connecting to the backend.
    pub connect_timeout: Duration,
    /// Retries of a failed idempotent request (reads, deletes, body uploads under a fresh
    /// name); conditional record writes are never retried by the client.
    pub retries: usize,
    /// No retry starts later than this after the first attempt.
    pub retry_budget: Duration,
    /// Bytes of a body fetched by one ranged backend read: a long GET is a sequence of
    /// such reads, each bounded by `timeout` and retried on its own, so no backend
    /// request stays open while the client reads slowly.
    pub read_window: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            retries: 2,
            retry_budget: Duration::from_secs(20),
            read_window: 4 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Takes the limit options out of `options` (store URL options: the rest are
    /// `object_store`'s) and applies them over the defaults.
    pub fn take_from(options: &mut Vec<(String, String)>) -> Result<Limits, String> {
        let mut limits = Limits::default();
        let mut rest = Vec::new();
        for (key, value) in options.drain(..) {
            let bad = |what: &str| format!("--store-option {key}={value}: expected {what}");
            match key.as_str() {
                "timeout" => {
                    limits.timeout = parse_duration(&value)
                        .ok_or_else(|| bad("a duration such as 10s or 500ms"))?
                }
                "connect_timeout" => {
                    limits.connect_timeout =
                        parse_duration(&value).ok_or_else(|| bad("a duration such as 3s"))?;
                }
                "retries" => limits.retries = value.parse().map_err(|_| bad("a count"))?,
                "retry_budget" => {
                    limits.retry_budget =
                        parse_duration(&value).ok_or_else(|| bad("a duration such as 20s"))?;
                }
                "read_window" => {
                    limits.read_window = value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad("a positive byte count"))?;
                }
                _ => rest.push((key, value)),
            }
        }
        if limits.timeout.is_zero() || limits.connect_timeout.is_zero() {
            return Err("--store-option timeout and connect_timeout must be above zero".into());
        }
        *options = rest;
        Ok(limits)
    }

    /// The retry policy of the client for idempotent requests.
    pub fn retry(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            max_retries: self.retries,
            retry_timeout: self.retry_budget,
            ..object_store::RetryConfig::default()
        }
    }

    /// The policy of the client for conditional writes: no retry (see the module docs).
    pub fn no_retry(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            max_retries: 0,
            retry_timeout: Duration::ZERO,
            ..object_store::RetryConfig::default()
        }
    }
}

/// `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (digits, unit): (&str, fn(u64) -> Duration) = if let Some(n) = text.strip_suffix("ms") {
        (n, Duration::from_millis)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, Duration::from_secs)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, |m| Duration::from_secs(m.saturating_mul(60)))
    } else if let Some(n) = text.strip_suffix('h') {
        (n, |h| Duration::from_secs(h.saturating_mul(3600)))
    } else {
        (text, Duration::from_secs)
    };
    digits.trim().parse().ok().map(unit)
}

/// A handle on the backend; cloning shares the client.
#[derive(Debug, Clone)]
pub struct Backend {
    store: Arc<dyn ObjectStore>,
    /// The same store through a client that does not retry: conditional writes only.
    conditional: Arc<dyn ObjectStore>,
    runtime: Handle,
    read_window: u64,
    /// The backend's multipart-upload listing, which `object_store` lacks; `None` for a
    /// store without static keys (or not S3).
    incomplete: Option<Arc<IncompleteUploads>>,
    /// Permits for removals sent after the answer ([`Backend::remove_later`]).
    removals: Arc<Semaphore>,
}

/// How many background removals ([`Backend::remove_later`]) a gateway keeps out at once;
/// past it a request removes what it replaced before answering, so a backend slower to
/// delete than clients are to overwrite slows the writers instead of piling up tasks.
pub const REMOVALS_IN_FLIGHT: u32 = 64;

fn removal_permits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(REMOVALS_IN_FLIGHT as usize))
}

/// Maps a backend failure to the store's error (I/O: the gateway answers 500 and logs it).
pub fn backend_error(e: object_store::Error) -> StoreError {
    StoreError::Io(std::io::Error::other(format!("object store: {e}")))
}

/// Every object the gateway writes is `application/octet-stream`: without a type,
/// SeaweedFS sniffs one and gzips text-like uploads (JSON records), storing bytes other
/// than those sent, which also hides them from an at-rest scan of its files.
fn opaque() -> Attributes {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, "application/octet-stream".into());
    attributes
}

impl Backend {
    /// Wraps `store` (one client for everything: a store without retries of its own,
    /// such as the in-memory one); calls run on `runtime`.
    pub fn new(store: Arc<dyn ObjectStore>, runtime: Handle) -> Self {
        Backend {
            conditional: store.clone(),
            store,
            runtime,
            read_window: Limits::default().read_window,
            incomplete: None,
            removals: removal_permits(),
        }
    }

    /// Wraps `store`, with `conditional` (the same store through a client that does not
    /// retry) for conditional writes, and ranged reads of `read_window` bytes at most.
    pub fn with_clients(
        store: Arc<dyn ObjectStore>,
        conditional: Arc<dyn ObjectStore>,
        runtime: Handle,
        read_window: u64,
    ) -> Self {
        Backend {
            store,
            conditional,
            runtime,
            read_window: read_window.max(1),
            incomplete: None,
            removals: removal_permits(),
        }
    }

    /// The same backend, able to list and abort its incomplete multipart uploads
    /// through `incomplete` (the sweep's last step).
    pub fn with_incomplete_uploads(mut self, incomplete: Option<IncompleteUploads>) -> Self {
        self.incomplete = incomplete.map(Arc::new);
        self
    }

    /// The backend's multipart-upload listing, when it has one.
    pub fn incomplete_uploads(&self) -> Option<&IncompleteUploads> {
        self.incomplete.as_deref()
    }

    /// Bytes of a body fetched by one ranged read ([`Limits::read_window`]).
    pub fn read_window(&self) -> u64 {
        self.read_window
    }

    /// Runs a backend future to completion. Store calls come from blocking threads
    /// (`body.rs`), but library calls such as `Emulator::create_kms_key` may come from an
    /// async task: on a multi-threaded runtime that task's worker is handed over first
    /// (`block_in_place`), so the wait never stalls the runtime.
    pub fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.runtime.block_on(f))
            }
            _ => self.runtime.block_on(f),
        }
    }

    /// The bytes at `path` and their version; `None` when absent.
    pub fn get(&self, path: &Path) -> Result<Option<(Bytes, Version)>, StoreError> {
        self.wait(self.fetch(path))
    }

    /// [`Backend::get`] as a future, to run alongside other backend requests (one round
    /// trip for several independent reads).
    pub async fn fetch(&self, path: &Path) -> Result<Option<(Bytes, Version)>, StoreError> {
        let got = match self.store.get(path).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(backend_error(e)),
        };
        let version = UpdateVersion {
            e_tag: got.meta.e_tag.clone(),
            version: got.meta.version.clone(),
        };
        let bytes = got.bytes().await.map_err(backend_error)?;
        Ok(Some((bytes, version)))
    }

    /// A JSON record and its version; `None` when absent. A record that does not parse is
    /// [`StoreError::CorruptRecord`].
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &Path,
    ) -> Result<Option<(T, Version)>, StoreError> {
        self.wait(self.fetch_json(path))
    }

    /// [`Backend::get_json`] as a future.
    pub async fn fetch_json<T: DeserializeOwned>(
        &self,
        path: &Path,
    ) -> Result<Option<(T, Version)>, StoreError> {
        let Some((bytes, version)) = self.fetch(path).await? else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptRecord {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Some((value, version)))
    }

    /// Writes `bytes` at `path`: over anything (`Overwrite`), only if absent (`Create`), or
    /// only over `version` (`Update`). A lost race is [`Written::Conflict`]; an error
    /// after a conditional write leaves unknown whether it was written (the caller reads
    /// to find out).
    pub fn put(&self, path: &Path, bytes: Bytes, mode: PutMode) -> Result<Written, StoreError> {
        self.wait(self.put_async(path, bytes, mode))
    }

    /// [`Backend::put`] as a future.
    pub async fn put_async(
        &self,
        path: &Path,
        bytes: Bytes,
        mode: PutMode,
    ) -> Result<Written, StoreError> {
        let client = match mode {
            PutMode::Overwrite => &self.store,
            PutMode::Create | PutMode::Update(_) => &self.conditional,
        };
        let options = PutOptions {
            mode,
            attributes: opaque(),
            ..PutOptions::default()
        };
        match client
            .put_opts(path, PutPayload::from(bytes), options)
            .await
        {
            Ok(r) => Ok(Written::Done(r.into())),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(Written::Conflict),
            Err(e) => Err(backend_error(e)),
        }
    }

    /// [`Backend::put`] of a JSON record.
    pub fn put_json(
        &self,
        path: &Path,
        value: &impl Serialize,
        mode: PutMode,
    ) -> Result<Written, StoreError> {
        let json = serde_json::to_vec(value).map_err(|e| StoreError::CorruptRecord {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        self.put(path, Bytes::from(json), mode)
    }

    /// Whether `path` exists (a HEAD).
    pub fn exists(&self, path: &Path) -> Result<bool, StoreError> {
        self.wait(async {
            match self.store.head(path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(backend_error(e)),
            }
        })
    }

    /// Deletes `path`; absent already is fine.
    pub fn delete(&self, path: &Path) -> Result<(), StoreError> {
        self.wait(self.remove(path))
    }

    /// [`Backend::delete`] as a future.
    pub async fn remove(&self, path: &Path) -> Result<(), StoreError> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend_error(e)),
        }
    }

    /// Deletes every path of `paths` at once (one round trip instead of one each); the
    /// first error, after all were tried.
    pub fn delete_each(&self, paths: &[Path]) -> Result<(), StoreError> {
        let results = self.wait(futures_util::future::join_all(
            paths.iter().map(|p| self.remove(p)),
        ));
        results.into_iter().collect()
    }

    /// Deletes every path of `paths` after the caller answers: for what no record names
    /// any more (the body of a replaced or deleted version), whose removal only frees
    /// space. A removal that fails, or that a stopped gateway never sends, leaves its
    /// paths to the sweep, as a failed [`Backend::delete_each`] after a commit does. With
    /// [`REMOVALS_IN_FLIGHT`] out already, removes them now instead.
    pub fn remove_later(&self, paths: Vec<Path>) {
        let report = |result: Result<(), StoreError>| {
            if let Err(e) = result {
                tracing::warn!(error = %e, "an unreferenced body was not removed (the sweep will)");
            }
        };
        match self.removals.clone().try_acquire_owned() {
            Ok(permit) => {
                let backend = self.clone();
                self.runtime.spawn(async move {
                    let results =
                        futures_util::future::join_all(paths.iter().map(|p| backend.remove(p)))
                            .await;
                    report(results.into_iter().collect());
                    drop(permit);
                });
            }
            Err(_) => report(self.delete_each(&paths)),
        }
    }

    /// Waits until every removal sent by [`Backend::remove_later`] so far has ended.
    pub async fn removals_settled(&self) {
        // All permits back means none is out; give them back at once.
        let _all = self.removals.acquire_many(REMOVALS_IN_FLIGHT).await;
    }

    /// Every path under `prefix` (a directory), sorting after `offset` when given, in the
    /// backend's order, handed to `each` until it returns `false`.
    pub fn list(
        &self,
        prefix: &Path,
        offset: Option<&Path>,
        each: &mut dyn FnMut(&Path) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stream = match offset {
            Some(o) => self.store.list_with_offset(Some(prefix), o),
            None => self.store.list(Some(prefix)),
        };
        while let Some(item) = self.wait(stream.next()) {
            let meta = item.map_err(backend_error)?;
            if !each(&meta.location)? {
                break;
            }
        }
        Ok(())
    }

    /// Every object under `prefix` with its size and last change, in the backend's
    /// order, handed to `each` until it returns `false`.
    pub fn list_meta(
        &self,
        prefix: &Path,
        each: &mut dyn FnMut(&object_store::ObjectMeta) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stream = self.store.list(Some(prefix));
        while let Some(item) = self.wait(stream.next()) {
            let meta = item.map_err(backend_error)?;
            if !each(&meta)? {
                break;
            }
        }
        Ok(())
    }

    /// Deletes every path under `prefix`.
    pub fn delete_all(&self, prefix: &Path) -> Result<(), StoreError> {
        let mut paths = Vec::new();
        self.list(prefix, None, &mut |p| {
            paths.push(p.clone());
            Ok(true)
        })?;
        paths.iter().try_for_each(|p| self.delete(p))
    }

    /// The bytes of `path` from `start` to `end` (exclusive), fetched whole: one bounded
    /// request (the client retries it); a transfer cut short is fetched once more.
    pub fn read_range(&self, path: &Path, start: u64, end: u64) -> Result<Bytes, StoreError> {
        self.wait(self.fetch_range(path, start, end))
    }

    /// [`Backend::read_range`] as a future (a reader fetches its next window with it while
    /// the client takes the current one).
    pub async fn fetch_range(
        &self,
        path: &Path,
        start: u64,
        end: u64,
    ) -> Result<Bytes, StoreError> {
        let fetch = || async {
            let options = GetOptions {
                range: Some(GetRange::Bounded(start..end)),
                ..GetOptions::default()
            };
            self.store.get_opts(path, options).await?.bytes().await
        };
        match fetch().await {
            Ok(bytes) => Ok(bytes),
            Err(e @ object_store::Error::NotFound { .. }) => Err(backend_error(e)),
            Err(e) => {
                tracing::warn!(error = %e, %path, "a ranged backend read failed; reading again");
                fetch().await.map_err(backend_error)
            }
        }
    }

    /// Sends the bytes `start..end` of `path` through `to` in the pieces they arrive in
    /// (none empty), then closes it; or sends an error: the object is shorter, or the read
    /// failed twice (a read cut off after some pieces is asked again from the first byte
    /// not yet sent). Stops when the receiver is gone.
    pub async fn stream_range(
        &self,
        path: &Path,
        start: u64,
        end: u64,
        to: &tokio::sync::mpsc::UnboundedSender<Result<Bytes, StoreError>>,
    ) {
        let mut at = start;
        let mut failed_before = false;
        while at < end {
            let options = GetOptions {
                range: Some(GetRange::Bounded(at..end)),
                ..GetOptions::default()
            };
            let error = match self.store.get_opts(path, options).await {
                Err(e) => e,
                Ok(got) => {
                    let mut pieces = got.into_stream();
                    let mut cut = None;
                    while let Some(piece) = pieces.next().await {
                        match piece {
                            Ok(piece) => {
                                let want = usize::try_from(end - at).unwrap_or(usize::MAX);
                                let piece = piece.slice(..piece.len().min(want));
                                if piece.is_empty() {
                                    continue;
                                }
                                at += piece.len() as u64;
                                if to.send(Ok(piece)).is_err() || at >= end {
                                    return;
                                }
                            }
                            Err(e) => {
                                cut = Some(e);
                                break;
                            }
                        }
                    }
                    match cut {
                        Some(e) => e,
                        None => {
                            let _ = to.send(Err(StoreError::Io(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the backend object is shorter than its record says",
                            ))));
                            return;
                        }
                    }
                }
            };
            if failed_before || matches!(error, object_store::Error::NotFound { .. }) {
                let _ = to.send(Err(backend_error(error)));
                return;
            }
            failed_before = true;
            tracing::warn!(error = %error, %path, "a ranged backend read failed; reading the rest again");
        }
    }

    /// Starts a multipart upload to `path` (large bodies).
    pub fn start_upload(&self, path: &Path) -> Result<Box<dyn MultipartUpload>, StoreError> {
        self.wait(self.create_upload(path))
    }

    /// [`Backend::start_upload`] as a future.
    pub async fn create_upload(&self, path: &Path) -> Result<Box<dyn MultipartUpload>, StoreError> {
        let options = PutMultipartOptions {
            attributes: opaque(),
            ..PutMultipartOptions::default()
        };
        self.store
            .put_multipart_opts(path, options)
            .await
            .map_err(backend_error)
    }

    /// The runtime backend calls run on.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_units_the_help_names() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration("h"), None);
    }

    fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn limits_are_taken_out_of_the_store_options() {
        let mut given = options(&[
            ("endpoint", "http://x"),
            ("timeout", "500ms"),
            ("retries", "0"),
            ("retry_budget", "2m"),
            ("read_window", "65536"),
        ]);
        let limits = Limits::take_from(&mut given).unwrap();
        assert_eq!(
            given,
            options(&[("endpoint", "http://x")]),
            "the rest stays"
        );
        assert_eq!(limits.timeout, Duration::from_millis(500));
        assert_eq!(limits.connect_timeout, Limits::default().connect_timeout);
        assert_eq!(limits.retries, 0);
        assert_eq!(limits.retry_budget, Duration::from_secs(120));
        assert_eq!(limits.read_window, 65536);
    }

    #[test]
    fn bad_limits_are_refused_with_the_option_named() {
        for (key, value) in [
            ("timeout", "soon"),
            ("timeout", "0s"),
            ("retries", "-1"),
            ("read_window", "0"),
        ] {
            let e = Limits::take_from(&mut options(&[(key, value)])).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
    }
}
