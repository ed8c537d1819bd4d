//! The object-store backend: the emulator as a stateless gateway whose every
//! record and byte lives in an S3-compatible object store (`object_store` crate), so
//! several gateways over one backend serve the same buckets, objects, uploads, ACLs,
//! restores and KMS keys.
//!
//! - Layout of the backend's keys: [`keys`].
//! - Bodies are the same chunked AEAD ciphertext as on disk, one backend object each,
//!   written under a random id before any record names them ([`body`]).
//! - Records are small JSON objects changed only by conditional writes: create-if-absent
//!   for a new record, replace-if-unchanged (the ETag read) for a changed one, retried on
//!   a lost race — never a local lock. Each writer removes exactly the body of the record
//!   version it is known to have replaced, so an overwrite racing on two gateways leaves
//!   one complete version; it does so after answering (nothing names that body any
//!   more: its removal only frees space), and a clean shutdown waits for it. No body is removed unless no record can name it: after a
//!   failure whose outcome is unknown, or a delete racing with an overwrite, a body is
//!   left unreferenced (space, never a wrong read) for the sweep ([`sweep`]).
//! - Every backend request is bounded ([`backend::Limits`]).
//! - Multipart parts are separate body objects; Complete writes a manifest record naming
//!   them ([`crate::store::BodyRef::segments`]), copying nothing ([`uploads`]).
//! - A reader that opened an object reads the version it opened while that version's
//!   body exists; an overwrite that removes it meanwhile cuts the read short with an error
//!   (the local store keeps the open file instead).
//! - The master key never goes to the backend: gateways share the key file. The KMS state
//!   is stored sealed under it ([`kms`]).

pub mod backend;
pub mod body;
#[cfg(test)]
mod faults;
pub mod hints;
pub mod incomplete;
pub mod keys;
pub mod kms;
mod restores;
pub mod sweep;
#[cfg(test)]
mod tests;
mod uploads;

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ClientConfigKey, ObjectStore, PutMode};

use self::backend::{Backend, Limits, Version, Written};
use self::body::{BodyUpload, Segment, SegmentReader};
use self::hints::{Hint, ReadHints};
use self::keys::Layout;
use self::restores::RemoteRestores;
use self::sweep::{SweepConfig, SweepReport};
use self::uploads::RemoteUploads;
use super::files::random_hex;
use super::multipart::MultipartStore;
use super::restore::RestoreStore;
use super::{
    BodyRef, BucketRecord, Encoder, ObjectMeta, ObjectRecord, ObjectWriter, PlannedRead, Store,
    StoreError, StoredBody,
};

/// How many times a conditional write is retried after losing a race before the request
/// fails (each retry re-reads the record).
const CAS_RETRIES: usize = 64;

/// Where a gateway keeps its state: `s3://BUCKET[/PREFIX]` (endpoint and credentials from
/// the `AWS_*` variables and `options`), or `memory://` (one process, nothing durable:
/// tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    /// The URL as given.
    pub url: String,
    /// `object_store` S3 options (`endpoint`, `access_key_id`, `allow_http`, ...).
    pub options: Vec<(String, String)>,
}

/// Fails with a message naming what is wrong with the store URL or an option.
fn config_error(message: String) -> StoreError {
    StoreError::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        message,
    ))
}

/// The gateway's store: records and bodies in an object store.
#[derive(Debug, Clone)]
pub struct RemoteStore {
    records: Records,
    uploads: RemoteUploads,
    restores: RemoteRestores,
    /// The versions this gateway wrote or read last ([`hints`]).
    hints: Arc<ReadHints>,
}

impl RemoteStore {
    /// Connects to the store at `url` and checks it answers (a listing of the prefix).
    /// Call from inside the tokio runtime the store's blocking calls will use.
    pub async fn open(url: &StoreUrl) -> Result<RemoteStore, StoreError> {
        let mut options = url.options.clone();
        let limits = Limits::take_from(&mut options).map_err(config_error)?;
        let sweeping = SweepConfig::take_from(&mut options).map_err(config_error)?;
        let mut incomplete = None;
        let (store, conditional, prefix): (Arc<dyn ObjectStore>, Arc<dyn ObjectStore>, String) =
            if url.url == "memory://" {
                let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
                (store.clone(), store, String::new())
            } else {
                let rest = url.url.strip_prefix("s3://").ok_or_else(|| {
                    config_error("expected s3://BUCKET[/PREFIX] or memory://".to_string())
                })?;
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(config_error("no bucket".to_string()));
                }
                // reqwest is built without a default TLS provider: use ring, like the
                // emulator's own listeners. Installing twice is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (key, value) in &options {
                    let key: AmazonS3ConfigKey = key
                        .parse()
                        .map_err(|e| config_error(format!("--store-option {key}: {e}")))?;
                    builder = builder.with_config(key, value);
                }
                // Set as options: the builder keeps the client options given above
                // (allow_http, ...), which `with_client_options` would replace.
                let builder = builder
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                        format!("{}ms", limits.timeout.as_millis()),
                    )
                    .with_config(
                        AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                        format!("{}ms", limits.connect_timeout.as_millis()),
                    );
                let build = |retry| {
                    builder
                        .clone()
                        .with_retry(retry)
                        .build()
                        .map_err(|e| config_error(e.to_string()))
                };
                let store = build(limits.retry())?;
                let conditional = build(limits.no_retry())?;
                incomplete = incomplete::IncompleteUploads::from_builder(
                    &builder,
                    limits.timeout,
                    limits.connect_timeout,
                )
                .map_err(|e| config_error(format!("--store-option: {e}")))?;
                (Arc::new(store), Arc::new(conditional), prefix.to_owned())
            };
        let layout = Layout::new(&prefix);
        // Reach the backend now, so a wrong endpoint or credentials fail at start-up.
        {
            use futures_util::StreamExt as _;
            let mut probe = store.list(Some(&layout.buckets()));
            if let Some(Err(e)) = probe.next().await {
                return Err(config_error(format!("the store does not answer: {e}")));
            }
        }
        let backend = Backend::with_clients(
            store,
            conditional,
            tokio::runtime::Handle::current(),
            limits.read_window,
        )
        .with_incomplete_uploads(incomplete);
        let store = RemoteStore::over(backend, layout);
        store.sweep_in_background(sweeping);
        Ok(store)
    }

    /// Sweeps the store once ([`sweep::sweep`]): removes what no record names and is older
    /// than `grace`; with `dry_run` only counts.
    pub fn sweep(&self, grace: Duration, dry_run: bool) -> Result<SweepReport, StoreError> {
        sweep::sweep(&self.records, grace, dry_run)
    }

    /// Sweeps every `config.interval` (plus up to a tenth of it, so gateways started
    /// together do not sweep in step) until the runtime stops.
    fn sweep_in_background(&self, config: SweepConfig) {
        let Some(interval) = config.interval else {
            return;
        };
        let store = self.clone();
        tokio::spawn(async move {
            let tenth = u64::try_from(interval.as_millis() / 10).unwrap_or(u64::MAX);
            loop {
                let jitter = Duration::from_millis(rand::random::<u64>() % tenth.max(1));
                tokio::time::sleep(interval + jitter).await;
                let store = store.clone();
                match tokio::task::spawn_blocking(move || store.sweep(config.grace, false)).await {
                    Ok(Ok(report)) => tracing::info!(%report, "background sweep"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "background sweep failed"),
                    Err(e) => tracing::warn!(error = %e, "background sweep did not finish"),
                }
            }
        });
    }

    /// The store over `backend`, at `layout` (an already connected backend; tests give
    /// one that injects faults).
    pub fn over(backend: Backend, layout: Layout) -> RemoteStore {
        let records = Records { backend, layout };
        RemoteStore {
            uploads: RemoteUploads::new(records.clone()),
            restores: RemoteRestores::new(records.clone()),
            records,
            hints: Arc::default(),
        }
    }

    /// Reads the record; with `wanted` (the bucket owner's read), for a key this gateway
    /// wrote or read before, asks for the stored bytes the read will start with at the
    /// same time ([`hints`]), kept only when the record names the same body. Every read
    /// remembers the version it found.
    fn open_hinted(
        &self,
        bucket: &str,
        key: &str,
        wanted: Option<PlannedRead>,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        let backend = &self.records.backend;
        let early = wanted.and_then(|wanted| {
            let hint = self.hints.get(bucket, key)?;
            let plain = wanted(hint.size).unwrap_or(0..hint.size);
            let window = body::first_window(backend, &hint.body, hint.stored_span(plain)?)?;
            Some((hint.body, body::prefetch(backend, &window)))
        });
        let record = match self.object(bucket, key) {
            Ok(Some(record)) => record,
            other => {
                if let Some((_, fetching)) = early {
                    fetching.abort();
                }
                if let Ok(None) = other {
                    self.hints.forget(bucket, key);
                }
                return other.map(|_| None);
            }
        };
        let segments = self.records.segments(bucket, &record.body);
        let ahead = match early {
            Some((body, fetching)) if body == segments => Some(fetching),
            Some((_, fetching)) => {
                fetching.abort();
                None
            }
            None => None,
        };
        self.hints
            .remember(bucket, key, Hint::of(&record, segments.clone()));
        let body = SegmentReader::body_with(backend.clone(), segments, ahead);
        Ok(Some((record, body)))
    }

    /// The emulated KMS over the state object in this store, sealed under the keyring in
    /// `master_key_file` (see [`kms`]).
    pub fn kms(
        &self,
        master_key_file: &std::path::Path,
    ) -> Result<cos_emulator_crypto::Kms, cos_emulator_crypto::Error> {
        cos_emulator_crypto::Kms::with_store(Box::new(kms::SealedKmsState::new(
            self.records.backend.clone(),
            self.records.layout.kms_state(),
            master_key_file.to_owned(),
        )))
    }
}

/// The backend and where things are in it: shared by the store, its uploads and restores.
#[derive(Debug, Clone)]
pub struct Records {
    /// The object store.
    pub backend: Backend,
    /// Its key layout.
    pub layout: Layout,
}

impl Records {
    /// The backend objects a body is made of.
    fn segments(&self, bucket: &str, body: &BodyRef) -> Vec<Segment> {
        if body.segments.is_empty() {
            vec![Segment {
                path: self.layout.data(bucket, &body.file),
                len: body.stored_len,
            }]
        } else {
            body.segments
                .iter()
                .map(|s| Segment {
                    path: self.layout.data(bucket, &s.file),
                    len: s.stored_len,
                })
                .collect()
        }
    }

    /// Opens a body for reading.
    fn open_body(&self, bucket: &str, body: &BodyRef) -> StoredBody {
        SegmentReader::body(self.backend.clone(), self.segments(bucket, body))
    }

    fn bucket_exists(&self, bucket: &str) -> Result<bool, StoreError> {
        self.backend.wait(self.check_bucket(bucket))
    }

    /// [`Records::bucket_exists`] as a future.
    async fn check_bucket(&self, bucket: &str) -> Result<bool, StoreError> {
        Ok(self
            .backend
            .fetch(&self.layout.bucket(bucket))
            .await?
            .is_some())
    }

    /// What a commit of an object at `key` reads first, fetched in one round trip
    /// (alongside the body's last request, [`RemoteWriter::commit`]): whether the bucket
    /// exists, and the object's current record.
    async fn commit_reads(&self, bucket: &str, key: &str) -> CommitReads {
        let path = self.layout.object(bucket, key);
        let (exists, current) = futures_util::future::join(
            self.check_bucket(bucket),
            self.backend.fetch_json::<ObjectRecord>(&path),
        )
        .await;
        CommitReads { exists, current }
    }

    /// Makes `record` the object's current version (create-if-absent or replace-if-
    /// unchanged, retried on a lost race), then removes the version it replaced. On a
    /// failure that surely wrote nothing the record's own body objects are removed;
    /// after one that may have written the record they are left to the sweep.
    pub fn commit_object(
        &self,
        bucket: &str,
        record: ObjectRecord,
    ) -> Result<ObjectRecord, StoreError> {
        self.commit_object_from(bucket, record, None)
    }

    /// [`Records::commit_object`], starting from `reads` when they were fetched already.
    fn commit_object_from(
        &self,
        bucket: &str,
        record: ObjectRecord,
        reads: Option<CommitReads>,
    ) -> Result<ObjectRecord, StoreError> {
        match self.swap_object_from(bucket, &record, reads) {
            Ok(()) => Ok(record),
            Err(SwapError { error, unwritten }) => {
                if unwritten {
                    for segment in self.segments(bucket, &record.body) {
                        let _ = self.backend.delete(&segment.path);
                    }
                }
                Err(error)
            }
        }
    }

    /// Writes `record` over the object's current version ([`write_own_from`]), and removes
    /// the body of the version it is known to have replaced — never a body `record`
    /// names itself.
    fn swap_object(&self, bucket: &str, record: &ObjectRecord) -> Result<(), SwapError> {
        self.swap_object_from(bucket, record, None)
    }

    /// [`Records::swap_object`], from `reads` when they were fetched already (the bucket
    /// check and the first read of the record: a record changed since is a lost race,
    /// retried from a fresh read like any other).
    fn swap_object_from(
        &self,
        bucket: &str,
        record: &ObjectRecord,
        reads: Option<CommitReads>,
    ) -> Result<(), SwapError> {
        let (exists, first) = match reads {
            Some(CommitReads { exists, current }) => (exists, Some(current)),
            None => (self.bucket_exists(bucket), None),
        };
        if !exists.map_err(SwapError::unwritten)? {
            return Err(SwapError::unwritten(StoreError::NoSuchBucket(
                bucket.into(),
            )));
        }
        let path = self.layout.object(bucket, &record.meta.key);
        if let Some(previous) = write_own_from(&self.backend, &path, record, first)? {
            // Committed. The replaced body goes after the answer: nothing names it, and
            // failing now would make the caller remove the body the record names.
            self.backend
                .remove_later(self.replaced_paths(bucket, &previous, record));
        }
        Ok(())
    }

    /// What only `version` used: its body objects and its restore record.
    fn version_paths(&self, bucket: &str, version: &ObjectRecord) -> Vec<Path> {
        let mut paths: Vec<Path> = self
            .segments(bucket, &version.body)
            .into_iter()
            .map(|s| s.path)
            .collect();
        paths.push(
            self.layout
                .restore(bucket, &restores::name(&version.meta.write_id)),
        );
        paths
    }

    /// What only `previous`, replaced by `record`, used: [`Records::version_paths`] but
    /// the body objects `record` names itself (a Complete taking over an upload may name
    /// the same part bodies as the version it replaces).
    fn replaced_paths(
        &self,
        bucket: &str,
        previous: &ObjectRecord,
        record: &ObjectRecord,
    ) -> Vec<Path> {
        let kept: Vec<Path> = self
            .segments(bucket, &record.body)
            .into_iter()
            .map(|s| s.path)
            .collect();
        self.version_paths(bucket, previous)
            .into_iter()
            .filter(|p| !kept.contains(p))
            .collect()
    }
}

/// What a commit reads before its conditional write, when fetched ahead
/// ([`Records::commit_reads`]).
struct CommitReads {
    /// Whether the bucket exists.
    exists: Result<bool, StoreError>,
    /// The object's current record and its version.
    current: Result<Option<(ObjectRecord, Version)>, StoreError>,
}

/// A failed object swap, and whether the record was surely not written (then the body it
/// names is nobody's and may be removed).
#[derive(Debug)]
pub(crate) struct SwapError {
    /// What went wrong.
    pub error: StoreError,
    /// Nothing was written.
    pub unwritten: bool,
}

impl SwapError {
    fn unwritten(error: StoreError) -> Self {
        SwapError {
            error,
            unwritten: true,
        }
    }
}

/// A record naming the write it belongs to, so a write whose answer was lost is found
/// again by reading the record.
pub(crate) trait OwnRecord: serde::de::DeserializeOwned + serde::Serialize {
    /// The write id (random per write).
    fn write_id(&self) -> &str;
}

impl OwnRecord for ObjectRecord {
    fn write_id(&self) -> &str {
        &self.meta.write_id
    }
}

impl OwnRecord for super::multipart::PartRecord {
    fn write_id(&self) -> &str {
        &self.write_id
    }
}

/// Writes `record` at `path` over whatever is there, by conditional write (retried on a
/// lost race), and returns the version it is known to have replaced, whose bodies the
/// caller may then remove: `None` when there was none, or when that is not known.
///
/// A write whose answer is lost (an error, a timeout) is found out by reading the record
/// again: if it is this write's (same write id) the write is committed, and what it
/// replaced is not known (left to the sweep). If it is not, the write may still have
/// been committed and replaced since, so writing again could name a body the replacer
/// removes: it fails instead, as not [`SwapError::unwritten`] (the caller leaves its body
/// to the sweep).
///
/// The first attempt starts from `first` when given (the record as read alongside other
/// requests) instead of reading it again.
pub(crate) fn write_own_from<T: OwnRecord>(
    backend: &Backend,
    path: &Path,
    record: &T,
    mut first: Option<Result<Option<(T, Version)>, StoreError>>,
) -> Result<Option<T>, SwapError> {
    // The error of an attempt that may have been written.
    let mut unknown: Option<StoreError> = None;
    for attempt in 0..=CAS_RETRIES {
        let read = match first.take() {
            Some(read) => read,
            None => backend.get_json::<T>(path),
        };
        let current = read.map_err(|error| SwapError {
            error,
            unwritten: unknown.is_none(),
        })?;
        if current
            .as_ref()
            .is_some_and(|(c, _)| c.write_id() == record.write_id())
        {
            return Ok(None);
        }
        if let Some(error) = unknown {
            return Err(SwapError {
                error,
                unwritten: false,
            });
        }
        if attempt == CAS_RETRIES {
            break;
        }
        let (previous, mode) = match current {
            Some((previous, version)) => (Some(previous), PutMode::Update(version)),
            None => (None, PutMode::Create),
        };
        match backend.put_json(path, record, mode) {
            Ok(Written::Done(_)) => return Ok(previous),
            Ok(Written::Conflict) => {}
            Err(e) => unknown = Some(e),
        }
    }
    Err(SwapError::unwritten(StoreError::Io(std::io::Error::other(
        format!("{path}: lost {CAS_RETRIES} conditional writes in a row to other gateways"),
    ))))
}

/// One read-modify-write of the JSON record at `path` by conditional write: `edit` gets
/// the current value (or `None`) and returns the new value with a result, or `None` to
/// write nothing. Retried from a fresh read when another writer got there first.
fn cas<T, R>(
    backend: &Backend,
    path: &Path,
    mut edit: impl FnMut(Option<T>) -> Result<Option<(T, R)>, StoreError>,
) -> Result<Option<R>, StoreError>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    for _ in 0..CAS_RETRIES {
        let current: Option<(T, Version)> = backend.get_json(path)?;
        let (value, version) = match current {
            Some((v, version)) => (Some(v), Some(version)),
            None => (None, None),
        };
        let Some((new, out)) = edit(value)? else {
            return Ok(None);
        };
        let mode = match version {
            Some(v) => PutMode::Update(v),
            None => PutMode::Create,
        };
        match backend.put_json(path, &new, mode)? {
            Written::Done(_) => return Ok(Some(out)),
            Written::Conflict => continue,
        }
    }
    Err(StoreError::Io(std::io::Error::other(format!(
        "{path}: lost {CAS_RETRIES} conditional writes in a row to other gateways"
    ))))
}

impl Store for RemoteStore {
    fn create_bucket(&self, record: BucketRecord) -> Result<(), StoreError> {
        let path = self.records.layout.bucket(&record.name);
        for _ in 0..CAS_RETRIES {
            match self
                .records
                .backend
                .put_json(&path, &record, PutMode::Create)?
            {
                Written::Done(_) => return Ok(()),
                Written::Conflict => {
                    if let Some(existing) = self.bucket(&record.name)? {
                        return Err(StoreError::BucketExists(Box::new(existing)));
                    }
                    // Deleted again meanwhile: try again.
                }
            }
        }
        Err(StoreError::Io(std::io::Error::other(
            "bucket kept being created and deleted by other gateways",
        )))
    }

    fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, StoreError> {
        let path = self.records.layout.bucket(name);
        Ok(self.records.backend.get_json(&path)?.map(|(r, _)| r))
    }

    fn buckets(&self) -> Result<Vec<BucketRecord>, StoreError> {
        let mut paths = Vec::new();
        self.records
            .backend
            .list(&self.records.layout.buckets(), None, &mut |p| {
                paths.push(p.clone());
                Ok(true)
            })?;
        let mut out = Vec::new();
        for path in paths {
            if let Some((b, _)) = self.records.backend.get_json::<BucketRecord>(&path)? {
                out.push(b);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn modify_bucket(
        &self,
        name: &str,
        change: &mut dyn FnMut(&mut BucketRecord),
    ) -> Result<bool, StoreError> {
        let path = self.records.layout.bucket(name);
        let done = cas(
            &self.records.backend,
            &path,
            |current: Option<BucketRecord>| {
                Ok(current.map(|mut record| {
                    change(&mut record);
                    (record, ())
                }))
            },
        )?;
        Ok(done.is_some())
    }

    fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        if !self.records.bucket_exists(name)? {
            return Err(StoreError::NoSuchBucket(name.into()));
        }
        let mut any = false;
        self.records
            .backend
            .list(&self.records.layout.objects(name), None, &mut |_| {
                any = true;
                Ok(false)
            })?;
        if any {
            return Err(StoreError::BucketNotEmpty(name.into()));
        }
        // The record first: once it is gone nothing new is committed in the bucket.
        let backend = &self.records.backend;
        let layout = &self.records.layout;
        backend.delete(&layout.bucket(name))?;
        backend.delete_all(&layout.uploads(name))?;
        backend.delete_all(&layout.restores(name))?;
        backend.delete_all(&layout.bucket_data(name))
    }

    fn create_object(
        &self,
        bucket: &str,
        encoder: Box<dyn Encoder>,
    ) -> Result<Box<dyn ObjectWriter>, StoreError> {
        // The request already loaded the bucket; the commit checks again (`swap_object`)
        // before any record names the body, so no round trip is spent here.
        let id = random_hex();
        let path = self.records.layout.data(bucket, &id);
        Ok(Box::new(RemoteWriter {
            records: self.records.clone(),
            bucket: bucket.into(),
            id,
            body: BodyUpload::new(self.records.backend.clone(), path, encoder),
            hints: self.hints.clone(),
        }))
    }

    fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StoreError> {
        let path = self.records.layout.object(bucket, key);
        Ok(self.records.backend.get_json(&path)?.map(|(r, _)| r))
    }

    fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        self.open_hinted(bucket, key, None)
    }

    fn open_object_for_owner(
        &self,
        bucket: &str,
        key: &str,
        wanted: PlannedRead,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        self.open_hinted(bucket, key, Some(wanted))
    }

    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        change: &mut dyn FnMut(&mut ObjectMeta),
    ) -> Result<bool, StoreError> {
        let path = self.records.layout.object(bucket, key);
        let done = cas(
            &self.records.backend,
            &path,
            |current: Option<ObjectRecord>| {
                Ok(current.map(|mut record| {
                    change(&mut record.meta);
                    (record, ())
                }))
            },
        )?;
        Ok(done.is_some())
    }

    fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, StoreError> {
        let path = self.records.layout.object(bucket, key);
        let Some((record, _)) = self.records.backend.get_json::<ObjectRecord>(&path)? else {
            return Ok(false);
        };
        // The record first: a crash after it leaves an unreferenced body, never a record
        // without its body. The body goes after the answer: nothing names it now.
        self.records.backend.delete(&path)?;
        self.records
            .backend
            .remove_later(self.records.version_paths(bucket, &record));
        Ok(true)
    }

    fn uploads(&self) -> &dyn MultipartStore {
        &self.uploads
    }

    fn restores(&self) -> &dyn RestoreStore {
        &self.restores
    }

    fn list_keys(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        if !self.records.bucket_exists(bucket)? {
            return Err(StoreError::NoSuchBucket(bucket.into()));
        }
        let layout = &self.records.layout;
        // Record paths sort like keys (keys.rs): start just after `after`, or just before
        // the first key with the prefix, and stop at the first key past the prefix.
        let offset = if after < prefix {
            layout.objects_from(bucket, prefix)
        } else {
            layout.object(bucket, after)
        };
        let mut keys = Vec::new();
        if limit == 0 {
            return Ok(keys);
        }
        self.records
            .backend
            .list(&layout.objects(bucket), Some(&offset), &mut |path| {
                let Some(key) = layout.key_of(bucket, path) else {
                    return Ok(true);
                };
                if key.as_str() <= after {
                    return Ok(true);
                }
                if !key.starts_with(prefix) {
                    return Ok(key.as_str() < prefix);
                }
                keys.push(key);
                Ok(keys.len() < limit)
            })?;
        Ok(keys)
    }

    fn settle(&self) {
        let backend = &self.records.backend;
        backend.wait(backend.removals_settled());
    }
}

/// A body being streamed to the backend; committed, it becomes the object's version.
struct RemoteWriter {
    records: Records,
    bucket: String,
    id: String,
    body: BodyUpload,
    /// The gateway's read hints: the version written is the one a read of the key on
    /// this gateway most likely finds next.
    hints: Arc<ReadHints>,
}

impl ObjectWriter for RemoteWriter {
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.body.write(plain)
    }

    fn expect(&mut self, plain_len: u64) {
        self.body.expect(plain_len)
    }

    /// The body's last request and the commit's reads go out together (one round trip),
    /// then the conditional write of the record.
    fn commit(mut self: Box<Self>, meta: ObjectMeta) -> Result<ObjectRecord, StoreError> {
        let records = self.records.clone();
        let (finished, reads) = self
            .body
            .finish_alongside(records.commit_reads(&self.bucket, &meta.key));
        let (format, stored_len) = finished?;
        let record = ObjectRecord {
            meta,
            body: BodyRef::one_file(self.id.clone(), format, stored_len),
        };
        let record = self
            .records
            .commit_object_from(&self.bucket, record, Some(reads))?;
        let segments = self.records.segments(&self.bucket, &record.body);
        let hint = Hint::of(&record, segments);
        self.hints.remember(&self.bucket, &record.meta.key, hint);
        Ok(record)
    }
}
