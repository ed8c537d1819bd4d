//! Durable storage of buckets and objects. Knows nothing about HTTP: operations hand it
//! records and plaintext (through a codec) and get records and plaintext back.
//!
//! - [`record`]: the JSON records (bucket, object metadata, SSE metadata).
//! - [`authenticated`]: the object records' MAC (record authentication), around either backend.
//! - [`codec`]: the seam between plaintext and stored bytes.
//! - [`sealed`]: the encrypting codec (chunked AEAD of `cos-emulator-crypto`).
//! - [`local`]: the local-directory implementation.
//! - `fs`: the file-system layer the local store goes through; `fs_trace`: its test
//!   double, which records what reached the disk and injects disk faults.
//! - [`multipart`]: multipart uploads in progress and their parts.
//! - [`parts`]: the stored form of a completed multipart object.
//! - [`restore`]: archive restore requests.
//! - [`remote`]: the object-store backend (a gateway over S3-compatible storage).

pub mod authenticated;
pub mod codec;
mod files;
#[doc(hidden)]
pub mod fs;
#[doc(hidden)]
pub mod fs_trace;
pub mod local;
pub mod multipart;
pub mod parts;
pub mod record;
pub mod remote;
pub mod restore;
pub mod sealed;
#[cfg(test)]
mod test_support;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

pub use codec::{CodecError, Decoder, Encoder, PlainCodec};
pub use local::LocalStore;
pub use record::{
    Acl, BodyFormat, BodyRef, BodySegment, BucketEncryption, BucketRecord, CorsRule, DefaultSse,
    Grant, Grantee, ObjectMeta, ObjectRecord, Permission,
};
pub use sealed::{SealedDecoder, SealedEncoder};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No bucket of that name.
    #[error("no bucket {0}")]
    NoSuchBucket(String),
    /// The bucket exists already; its record is returned so the caller can tell who owns it.
    #[error("bucket {} exists", .0.name)]
    BucketExists(Box<BucketRecord>),
    /// DELETE of a bucket that still holds objects.
    #[error("bucket {0} is not empty")]
    BucketNotEmpty(String),
    /// Encoding or decoding the body failed.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Disk I/O failed.
    #[error("store I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A record on disk does not parse.
    #[error("corrupt record {path}: {detail}")]
    CorruptRecord {
        /// The record file.
        path: String,
        /// The parser's complaint.
        detail: String,
    },
}

/// What a stored body is read through: a local file, or a backend's ranged reader.
pub trait BodySource: Read + Seek + Send {}

impl<T: Read + Seek + Send> BodySource for T {}

/// The body of a stored object, opened: reading it later gives this version even if the
/// object is replaced or deleted meanwhile (the open file keeps it; see each store for
/// what it guarantees).
pub struct StoredBody {
    source: Box<dyn BodySource>,
    len: u64,
    /// Told where each read planned by [`StoredBody::seek_to`] ends, so a source that
    /// fetches ahead (the gateway's ranged reader) fetches nothing past it.
    read_end: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl std::fmt::Debug for StoredBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredBody")
            .field("len", &self.len)
            .finish()
    }
}

impl StoredBody {
    /// Wraps an open body file of `len` stored bytes.
    pub fn new(file: File, len: u64) -> Self {
        Self::from_source(Box::new(file), len)
    }

    /// Wraps any seekable source of `len` stored bytes (a backend's ranged reader).
    pub fn from_source(source: Box<dyn BodySource>, len: u64) -> Self {
        StoredBody {
            source,
            len,
            read_end: None,
        }
    }

    /// Like [`StoredBody::from_source`], for a source told through `read_end` where each
    /// planned read ends (set by [`StoredBody::seek_to`]).
    pub fn from_source_with_end(
        source: Box<dyn BodySource>,
        len: u64,
        read_end: std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> Self {
        StoredBody {
            source,
            len,
            read_end: Some(read_end),
        }
    }

    /// Stored length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no stored bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seeks to `offset` for a read of `len` stored bytes, which must lie within the body;
    /// otherwise the body is corrupt ("stored body has N bytes, `what` at END", `what`
    /// naming the read: "range ends", "a part ends").
    pub fn seek_to(&mut self, offset: u64, len: u64, what: &str) -> Result<(), CodecError> {
        let end = offset.saturating_add(len);
        if end > self.len {
            return Err(CodecError::Corrupt(format!(
                "stored body has {} bytes, {what} at {end}",
                self.len
            )));
        }
        if let Some(read_end) = &self.read_end {
            read_end.store(end, std::sync::atomic::Ordering::Relaxed);
        }
        self.source.seek(SeekFrom::Start(offset))?;
        Ok(())
    }
}

impl Read for StoredBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.source.read(buf)
    }
}

impl Seek for StoredBody {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.source.seek(pos)
    }
}

/// The plaintext bytes a read will take, from the object's size (a Range GET's range
/// resolved against it); `None`: all of them.
pub type PlannedRead = Box<dyn FnOnce(u64) -> Option<std::ops::Range<u64>> + Send>;

/// An object being written: plaintext goes in, and [`ObjectWriter::commit`] makes it visible
/// atomically. Dropping a writer without committing leaves nothing behind.
pub trait ObjectWriter: Send {
    /// Appends plaintext (encoded by the writer's codec).
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError>;
    /// Told, before the first write, how many plaintext bytes will be written (a declared
    /// length): a writer may get ready for them (a gateway creates the backend's multipart
    /// upload for a large body while the client sends it). A promise, not a limit: the
    /// caller refuses a body of another length.
    fn expect(&mut self, _plain_len: u64) {}
    /// Makes the object visible with `meta`, replacing any previous version whole.
    fn commit(self: Box<Self>, meta: ObjectMeta) -> Result<ObjectRecord, StoreError>;
}

/// Storage of buckets and objects. Calls block on disk I/O: callers run them off the async
/// executor (see `body.rs`).
pub trait Store: Send + Sync + 'static {
    /// Creates a bucket; [`StoreError::BucketExists`] if the name is taken.
    fn create_bucket(&self, record: BucketRecord) -> Result<(), StoreError>;
    /// A bucket's record.
    fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, StoreError>;
    /// Every bucket, by name.
    fn buckets(&self) -> Result<Vec<BucketRecord>, StoreError>;
    /// Changes a bucket's record in place; `false` if there is no such bucket.
    fn modify_bucket(
        &self,
        name: &str,
        change: &mut dyn FnMut(&mut BucketRecord),
    ) -> Result<bool, StoreError>;
    /// Deletes an empty bucket.
    fn delete_bucket(&self, name: &str) -> Result<(), StoreError>;

    /// Starts writing an object; nothing is visible until the writer commits.
    fn create_object(
        &self,
        bucket: &str,
        encoder: Box<dyn Encoder>,
    ) -> Result<Box<dyn ObjectWriter>, StoreError>;
    /// An object's record.
    fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StoreError>;
    /// An object's record and its body, opened consistently (one version).
    fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError>;
    /// [`Store::open_object`] for a request signed by the bucket's owner, which will read
    /// the plaintext bytes `wanted` names: the store may ask for the stored bytes they
    /// need at the same time as the record (a gateway's read hints), that is before the
    /// request is authorized, so no other caller gets it: a request that is then refused
    /// must not have made the backend send an object's bytes.
    fn open_object_for_owner(
        &self,
        bucket: &str,
        key: &str,
        _wanted: PlannedRead,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        self.open_object(bucket, key)
    }
    /// Changes an object's metadata in place (the body stays); `false` if there is none.
    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        change: &mut dyn FnMut(&mut ObjectMeta),
    ) -> Result<bool, StoreError>;
    /// Deletes an object; `false` if there was none.
    fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, StoreError>;
    /// The multipart staging area (uploads in progress and their parts).
    fn uploads(&self) -> &dyn multipart::MultipartStore;
    /// The archive restore records.
    fn restores(&self) -> &dyn restore::RestoreStore;
    /// Keys starting with `prefix` and sorting after `after`, in order, at most `limit`.
    fn list_keys(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Waits for the work a store does after answering (a gateway removes replaced and
    /// deleted bodies then): called at shutdown, so a clean stop leaves nothing to the
    /// sweep. Blocking.
    fn settle(&self) {}
}
