//! Multipart staging: uploads in progress and their parts, from Initiate until Complete
//! turns them into one object or Abort discards them. Knows nothing about HTTP.
//!
//! ```text
//! DATA/uploads/<bucket>/<upload id>/upload.json    the upload (UploadRecord)
//! DATA/uploads/<bucket>/<upload id>/part-<n>.json  one part (PartRecord)
//! DATA/uploads/<bucket>/<upload id>/<random>.part  that part's stored bytes
//! ```
//! Upload ids are random hex made here and checked ([`valid_upload_id`]) before they become
//! a path component. Each part is written like an object: stored bytes to a temporary
//! file, fsync, rename; then the part record is swapped atomically and the bytes of a part
//! it replaces are removed. Each part goes through its own encoder (MPU-SSE: for an
//! encrypted upload a fresh data key per part).
//!
//! Complete [`Uploads::claim`]s the upload first (an atomic rename of its directory), so a
//! part uploaded concurrently fails instead of being lost, and an upload completes once.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use cos_emulator_crypto::EncryptionRecord;
use serde::{Deserialize, Serialize};

use super::files::{
    corrupt, create_dir_durable, random_hex, read_json, remove_if_present, write_json, EncodedFile,
    WriteFailure,
};
use super::fs::Fs;
use super::parts::Concatenation;
use super::record::{BodyFormat, BodyRef, ObjectMeta, ObjectRecord};
use super::{Encoder, ObjectWriter, Store, StoreError, StoredBody};

/// Part numbers COS accepts: 1 to 10000.
pub const PART_NUMBERS: std::ops::RangeInclusive<u32> = 1..=10_000;

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The upload id (32 hex digits).
    pub upload_id: String,
    /// Initiation time, Unix milliseconds.
    pub initiated_ms: i64,
    /// The completed object's metadata as decided at Initiate (key, Content-Type, stored
    /// headers, `x-cos-meta-*`, storage class, ACL, owner); size, ETag, CRC-64, write id
    /// and SSE record are filled in at Complete.
    pub meta: ObjectMeta,
    /// MPU-SSE: the encryption chosen at Initiate, as a record sealed for the upload
    /// itself. It fixes mode, algorithm, the resolved KMS key id and context, and for
    /// SSE-C the salted verifier every part's key is checked against (MPU-SSEC-PARTS);
    /// each part still gets its own data key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<EncryptionRecord>,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// Part number (1–10000).
    pub number: u32,
    /// Plaintext length.
    pub size: u64,
    /// Hex MD5 of the plaintext (the part's ETag without quotes).
    pub etag: String,
    /// CRC-64/XZ of the plaintext.
    pub crc64: u64,
    /// Upload time, Unix milliseconds.
    pub modified_ms: i64,
    /// Names this write of the part; bound into the sealing AAD of its data key.
    pub write_id: String,
    /// The part's own encryption record (fresh data key), `None` for a plain upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<EncryptionRecord>,
    /// The stored bytes (file name inside the upload directory).
    pub body: BodyRef,
}

impl PartRecord {
    /// The record of part `number` as its writer commits it: `meta` gives its plaintext
    /// size, ETag, CRC-64, time, write id and encryption record; `body` its stored bytes.
    pub fn committed(number: u32, meta: &ObjectMeta, body: BodyRef) -> Self {
        PartRecord {
            number,
            size: meta.size,
            etag: meta.etag.clone(),
            crc64: meta.crc64,
            modified_ms: meta.modified_ms,
            write_id: meta.write_id.clone(),
            sse: meta.sse.clone(),
            body,
        }
    }
}

/// Whether `id` has the form of an upload id this store makes: 32 lower-case hex digits.
/// Anything else names no upload (and never reaches the file system).
pub fn valid_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Writes JSON to `dest` through a temporary file in the same directory (whole or not at
/// all).
fn write_json_here(fs: &dyn Fs, dest: &Path, value: &impl Serialize) -> Result<(), WriteFailure> {
    let dir = dest.parent().ok_or_else(|| WriteFailure {
        error: corrupt(dest, "no parent directory"),
        placed: false,
    })?;
    write_json(fs, &dir.join(format!(".{}.tmp", random_hex())), dest, value)
}

/// The multipart staging area of a store: what Initiate, Upload Part, List Parts, List
/// Multipart Uploads, Complete and Abort need. [`Uploads`] keeps it in the data directory;
/// the object-store backend keeps it as objects.
pub trait MultipartStore: Send + Sync {
    /// Starts an upload for `meta` with `sse`; returns its record (with a fresh id).
    fn create(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        sse: Option<EncryptionRecord>,
        now_ms: i64,
    ) -> Result<UploadRecord, StoreError>;
    /// The upload's record; `None` for an unknown (or malformed) id.
    fn get(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>, StoreError>;
    /// Every upload in progress in `bucket`, by key, then initiation time, then id.
    fn list(&self, bucket: &str) -> Result<Vec<UploadRecord>, StoreError>;
    /// The uploaded parts, by number.
    fn parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartRecord>, StoreError>;
    /// Starts writing part `number`; `None` when the upload does not exist (any more).
    /// Nothing is visible until the writer commits; the committed part replaces one of the
    /// same number.
    fn part_writer(
        &self,
        bucket: &str,
        upload_id: &str,
        number: u32,
        encoder: Box<dyn Encoder>,
    ) -> Result<Option<Box<dyn ObjectWriter>>, StoreError>;
    /// Takes the upload out of reach of further parts, listing, abort and a second
    /// Complete; `None` when it does not exist. Release or finish the claim.
    fn claim(&self, bucket: &str, upload_id: &str) -> Result<Option<Claim>, StoreError>;
    /// Discards an upload and its parts; `false` when there was none.
    fn abort(&self, bucket: &str, upload_id: &str) -> Result<bool, StoreError> {
        match self.claim(bucket, upload_id)? {
            Some(claim) => {
                claim.finish()?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// What a store does with a claimed upload (see [`Claim`]).
pub trait ClaimHandle: Send {
    /// Opens a part's stored bytes.
    fn open_part(&self, part: &PartRecord) -> Result<StoredBody, StoreError>;
    /// Commits `parts`, back to back, as one object with `format` and `meta` (MPU-SSE:
    /// each part keeps its own data key, so nothing is re-encrypted).
    fn complete(
        &self,
        store: &dyn Store,
        bucket: &str,
        parts: &[&PartRecord],
        format: BodyFormat,
        meta: ObjectMeta,
    ) -> Result<ObjectRecord, StoreError>;
    /// Gives the upload back unchanged (the Complete request was refused).
    fn release(self: Box<Self>) -> Result<(), StoreError>;
    /// Removes the upload and what of it the completed object does not use.
    fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// An upload taken for completion: its record, its parts, and the store's handle on them.
pub struct Claim {
    /// The upload.
    pub record: UploadRecord,
    /// Its parts, by number.
    pub parts: Vec<PartRecord>,
    handle: Box<dyn ClaimHandle>,
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim")
            .field("record", &self.record)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

impl Claim {
    /// A claim on `record` and its `parts`, held by a store's `handle`.
    pub fn new(record: UploadRecord, parts: Vec<PartRecord>, handle: Box<dyn ClaimHandle>) -> Self {
        Claim {
            record,
            parts,
            handle,
        }
    }

    /// Opens a part's stored bytes.
    pub fn open_part(&self, part: &PartRecord) -> Result<StoredBody, StoreError> {
        self.handle.open_part(part)
    }

    /// The claim's record, parts and handle (a store wrapping another wraps its handle).
    pub fn into_parts(self) -> (UploadRecord, Vec<PartRecord>, Box<dyn ClaimHandle>) {
        (self.record, self.parts, self.handle)
    }

    /// Commits `parts` as one object (see [`ClaimHandle::complete`]).
    pub fn complete(
        &self,
        store: &dyn Store,
        bucket: &str,
        parts: &[&PartRecord],
        format: BodyFormat,
        meta: ObjectMeta,
    ) -> Result<ObjectRecord, StoreError> {
        self.handle.complete(store, bucket, parts, format, meta)
    }

    /// Gives the upload back unchanged (the Complete request was refused).
    pub fn release(self) -> Result<(), StoreError> {
        self.handle.release()
    }

    /// Removes the upload and its parts (completed or aborted).
    pub fn finish(self) -> Result<(), StoreError> {
        self.handle.finish()
    }
}

/// Commits `parts` as one object by copying their stored bytes, back to back, into a new
/// body of `store` (the local store: one body file per object).
pub fn copy_parts(
    claim: &dyn ClaimHandle,
    store: &dyn Store,
    bucket: &str,
    parts: &[&PartRecord],
    format: BodyFormat,
    meta: ObjectMeta,
) -> Result<ObjectRecord, StoreError> {
    use std::io::Read as _;
    let mut writer = store.create_object(bucket, Box::new(Concatenation::new(format)))?;
    let mut buf = vec![0u8; 256 * 1024];
    for part in parts {
        let mut body = claim.open_part(part)?;
        loop {
            let n = body.read(&mut buf)?;
            if n == 0 {
                break;
            }
            writer.write(&buf[..n])?;
        }
    }
    writer.commit(meta)
}

/// The multipart staging area of the local store, under `DATA/uploads/`. Cloning gives another handle on the same area.
#[derive(Debug, Clone)]
pub struct Uploads {
    root: PathBuf,
    /// Every file operation goes through this layer (the store's).
    fs: Arc<dyn Fs>,
    /// Serialises part-record swaps, so the bytes of a replaced part are removed once.
    lock: Arc<Mutex<()>>,
}

impl Uploads {
    /// The staging area under `root` (created on first use), kept through `fs`.
    pub fn new(root: PathBuf, fs: Arc<dyn Fs>) -> Self {
        Uploads {
            root,
            fs,
            lock: Arc::new(Mutex::new(())),
        }
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        // The guarded section holds no state of its own; a poisoned lock is still usable.
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    fn upload_dir(&self, bucket: &str, upload_id: &str) -> Option<PathBuf> {
        valid_upload_id(upload_id).then(|| self.bucket_dir(bucket).join(upload_id))
    }

    /// Start-up recovery, run before the store serves anything (no request in flight):
    /// puts back an upload a crash left claimed by a Complete that was never answered
    /// (the client may complete or abort it again), and removes what no record reaches —
    /// an upload directory without `upload.json` (an Initiate cut short), temporary record
    /// files, and part bytes no part record names (a part write cut short, or bytes of a
    /// replaced part not yet removed).
    pub fn recover(&self) -> Result<(), StoreError> {
        let fs = &*self.fs;
        let buckets = match fs.read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for bucket in buckets {
            let bucket_dir = bucket.path;
            if !fs.is_dir(&bucket_dir) {
                continue;
            }
            for entry in fs.read_dir(&bucket_dir)? {
                let (path, name) = (entry.path, entry.name);
                let claimed_id = name
                    .strip_prefix(".claimed-")
                    .and_then(|rest| rest.get(..32))
                    .filter(|id| valid_upload_id(id));
                let home = match claimed_id {
                    Some(id) => bucket_dir.join(id),
                    None if valid_upload_id(&name) => path.clone(),
                    None => continue,
                };
                if !fs.is_file(&path.join("upload.json")) || (home != path && fs.is_dir(&home)) {
                    fs.remove_dir_all(&path)?;
                    continue;
                }
                if home != path {
                    fs.rename(&path, &home)?;
                }
                recover_upload(fs, &home)?;
            }
            fs.sync_dir(&bucket_dir)?;
        }
        Ok(())
    }
}

impl MultipartStore for Uploads {
    fn create(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        sse: Option<EncryptionRecord>,
        now_ms: i64,
    ) -> Result<UploadRecord, StoreError> {
        let record = UploadRecord {
            upload_id: random_hex(),
            initiated_ms: now_ms,
            meta,
            sse,
        };
        let dir = self.bucket_dir(bucket).join(&record.upload_id);
        // Every new directory entry fsynced, then the record: an acknowledged Initiate
        // survives a crash; one cut short leaves a directory without `upload.json`, which
        // `recover` removes.
        create_dir_durable(&*self.fs, &dir)?;
        write_json_here(&*self.fs, &dir.join("upload.json"), &record)?;
        Ok(record)
    }
    fn get(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>, StoreError> {
        match self.upload_dir(bucket, upload_id) {
            Some(dir) => read_json(&*self.fs, &dir.join("upload.json")),
            None => Ok(None),
        }
    }
    fn list(&self, bucket: &str) -> Result<Vec<UploadRecord>, StoreError> {
        let mut out = Vec::new();
        let entries = match self.fs.read_dir(&self.bucket_dir(bucket)) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let name = entry.name;
            if let Some(r) = self.get(bucket, &name)? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| {
            (&a.meta.key, a.initiated_ms, &a.upload_id).cmp(&(
                &b.meta.key,
                b.initiated_ms,
                &b.upload_id,
            ))
        });
        Ok(out)
    }
    fn parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartRecord>, StoreError> {
        let Some(dir) = self.upload_dir(bucket, upload_id) else {
            return Ok(Vec::new());
        };
        parts_in(&*self.fs, &dir)
    }
    fn part_writer(
        &self,
        bucket: &str,
        upload_id: &str,
        number: u32,
        encoder: Box<dyn Encoder>,
    ) -> Result<Option<Box<dyn ObjectWriter>>, StoreError> {
        let Some(dir) = self.upload_dir(bucket, upload_id) else {
            return Ok(None);
        };
        if !self.fs.is_file(&dir.join("upload.json")) {
            return Ok(None);
        }
        let file_name = format!("{}.part", random_hex());
        let path = dir.join(&file_name);
        let file = match self.fs.create(&path, true) {
            Ok(f) => f,
            // Completed or aborted meanwhile.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(Box::new(PartWriter {
            uploads: self.clone(),
            dir,
            number,
            file_name,
            body: EncodedFile::new(file, encoder),
        })))
    }
    fn claim(&self, bucket: &str, upload_id: &str) -> Result<Option<Claim>, StoreError> {
        let Some(dir) = self.upload_dir(bucket, upload_id) else {
            return Ok(None);
        };
        let claimed = self
            .bucket_dir(bucket)
            .join(format!(".claimed-{upload_id}-{}", random_hex()));
        match self.fs.rename(&dir, &claimed) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let record: Option<UploadRecord> = read_json(&*self.fs, &claimed.join("upload.json"))?;
        let Some(record) = record else {
            // Not an upload directory after all; put it back untouched.
            self.fs.rename(&claimed, &dir)?;
            return Ok(None);
        };
        let parts = parts_in(&*self.fs, &claimed)?;
        Ok(Some(Claim::new(
            record,
            parts,
            Box::new(LocalClaim {
                fs: self.fs.clone(),
                home: dir,
                dir: claimed,
            }),
        )))
    }
}

fn parts_in(fs: &dyn Fs, dir: &Path) -> Result<Vec<PartRecord>, StoreError> {
    let mut parts = Vec::new();
    let entries = match fs.read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(parts),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let name = entry.name;
        if name.starts_with("part-") && name.ends_with(".json") {
            if let Some(p) = read_json::<PartRecord>(fs, &dir.join(&name))? {
                parts.push(p);
            }
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}

/// Removes from one upload directory the files no record reaches: temporary record files
/// and part bytes no part record names.
fn recover_upload(fs: &dyn Fs, dir: &Path) -> Result<(), StoreError> {
    let named: std::collections::HashSet<String> = parts_in(fs, dir)?
        .into_iter()
        .map(|p| p.body.file)
        .collect();
    let mut removed = false;
    for entry in fs.read_dir(dir)? {
        let name = entry.name;
        let stray_tmp = name.starts_with('.') && name.ends_with(".tmp");
        let stray_part = name.ends_with(".part") && !named.contains(&name);
        if stray_tmp || stray_part {
            remove_if_present(fs, &dir.join(&name))?;
            removed = true;
        }
    }
    if removed {
        fs.sync_dir(dir)?;
    }
    Ok(())
}

/// A claimed upload of the local store: its directory, renamed out of reach.
struct LocalClaim {
    fs: Arc<dyn Fs>,
    home: PathBuf,
    dir: PathBuf,
}

impl ClaimHandle for LocalClaim {
    fn open_part(&self, part: &PartRecord) -> Result<StoredBody, StoreError> {
        let source = self.fs.open(&self.dir.join(&part.body.file))?;
        Ok(StoredBody::from_source(source, part.body.stored_len))
    }

    /// Copies the parts into one body file (an object's body is one file here).
    fn complete(
        &self,
        store: &dyn Store,
        bucket: &str,
        parts: &[&PartRecord],
        format: BodyFormat,
        meta: ObjectMeta,
    ) -> Result<ObjectRecord, StoreError> {
        copy_parts(self, store, bucket, parts, format, meta)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        self.fs.rename(&self.dir, &self.home)?;
        Ok(())
    }

    /// The record goes first and durably: a crash part-way leaves a directory without
    /// `upload.json`, which [`Uploads::recover`] removes, never an upload whose parts are
    /// half gone.
    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        self.fs.remove_file(&self.dir.join("upload.json"))?;
        self.fs.sync_dir(&self.dir)?;
        self.fs.remove_dir_all(&self.dir)?;
        Ok(())
    }
}

/// A part being written inside its upload directory.
struct PartWriter {
    uploads: Uploads,
    dir: PathBuf,
    number: u32,
    file_name: String,
    body: EncodedFile,
}

impl ObjectWriter for PartWriter {
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.body.write(plain)
    }

    /// Records the part: `meta` gives its plaintext size, ETag, CRC-64, time, write id
    /// and encryption record (the key is the object's; the part number is the writer's).
    fn commit(mut self: Box<Self>, meta: ObjectMeta) -> Result<ObjectRecord, StoreError> {
        let (format, stored_len) = self.body.finish()?;
        let body = BodyRef::one_file(self.file_name.clone(), format, stored_len);
        let part = PartRecord::committed(self.number, &meta, body.clone());
        let record_path = self.dir.join(format!("part-{:05}.json", self.number));
        let _guard = self.uploads.guard();
        let fs = &*self.uploads.fs;
        if !fs.is_file(&self.dir.join("upload.json")) {
            return Err(StoreError::Io(std::io::Error::new(
                ErrorKind::NotFound,
                "the upload was completed or aborted while the part was written",
            )));
        }
        let previous: Option<PartRecord> = read_json(fs, &record_path).ok().flatten();
        // The part's bytes were fsynced by `finish`; the directory fsync after the record's
        // rename makes both entries durable at once, before the replaced bytes go.
        if let Err(f) = write_json_here(fs, &record_path, &part) {
            if f.placed {
                // Only the directory's fsync failed: the new record names these bytes
                // and the replaced record may come back, so both parts' bytes stay.
                self.file_name.clear();
            }
            return Err(f.error);
        }
        // Committed: the bytes stay.
        self.file_name.clear();
        if let Some(prev) = previous {
            remove_if_present(fs, &self.dir.join(prev.body.file))?;
        }
        Ok(ObjectRecord { meta, body })
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        // Not committed: the part never happened (a refused or truncated upload).
        if !self.file_name.is_empty() {
            let _ = self.uploads.fs.remove_file(&self.dir.join(&self.file_name));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Read;

    use super::*;
    use crate::store::{Acl, PlainCodec};

    fn meta(key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 0,
            etag: String::new(),
            crc64: 0,
            modified_ms: 0,
            content_type: "text/plain".into(),
            headers: Default::default(),
            user_meta: Default::default(),
            storage_class: "STANDARD".into(),
            acl: Acl::Default,
            grants: Vec::new(),
            owner: "1250000000".into(),
            write_id: String::new(),
            sse: None,
            mac: String::new(),
        }
    }

    fn put_part(u: &Uploads, id: &str, n: u32, body: &[u8]) {
        let mut w = u
            .part_writer("b-1", id, n, Box::new(PlainCodec))
            .unwrap()
            .unwrap();
        w.write(body).unwrap();
        let mut m = meta("k");
        m.size = body.len() as u64;
        w.commit(m).unwrap();
    }

    fn files(dir: &Path) -> usize {
        fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn parts_replace_and_claim_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let u = Uploads::new(
            dir.path().join("uploads"),
            Arc::new(crate::store::fs::StdFs),
        );
        let up = u.create("b-1", meta("k"), None, 5).unwrap();
        assert!(valid_upload_id(&up.upload_id));
        put_part(&u, &up.upload_id, 2, b"two");
        put_part(&u, &up.upload_id, 1, b"one");
        put_part(&u, &up.upload_id, 1, b"uno");
        let parts = u.parts("b-1", &up.upload_id).unwrap();
        assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(parts[0].size, 3);
        // upload.json, two part records, two part bodies: the replaced bytes are gone.
        assert_eq!(
            files(&dir.path().join("uploads/b-1").join(&up.upload_id)),
            5
        );

        let claim = u.claim("b-1", &up.upload_id).unwrap().unwrap();
        assert!(u.claim("b-1", &up.upload_id).unwrap().is_none());
        assert!(u
            .part_writer("b-1", &up.upload_id, 3, Box::new(PlainCodec))
            .unwrap()
            .is_none());
        let mut got = String::new();
        claim
            .open_part(&claim.parts[0])
            .unwrap()
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "uno");
        claim.release().unwrap();
        assert_eq!(u.list("b-1").unwrap().len(), 1);
        assert!(u.abort("b-1", &up.upload_id).unwrap());
        assert!(!u.abort("b-1", &up.upload_id).unwrap());
        assert!(u.list("b-1").unwrap().is_empty());
    }

    /// Start-up recovery: a claim a crash left behind is given back, stray part bytes and
    /// temporary records go, an upload without its record goes; recorded parts stay.
    #[test]
    fn recovery_restores_claims_and_removes_strays() {
        let dir = tempfile::tempdir().unwrap();
        let u = Uploads::new(
            dir.path().join("uploads"),
            Arc::new(crate::store::fs::StdFs),
        );
        let up = u.create("b-1", meta("k"), None, 5).unwrap();
        put_part(&u, &up.upload_id, 1, b"one");
        let home = dir.path().join("uploads/b-1").join(&up.upload_id);
        fs::write(home.join(format!("{}.part", random_hex())), b"cut short").unwrap();
        fs::write(home.join(".abc.tmp"), b"{").unwrap();
        let claim = u.claim("b-1", &up.upload_id).unwrap().unwrap();
        std::mem::forget(claim); // the process died during Complete
        let half = dir.path().join("uploads/b-1").join(random_hex());
        fs::create_dir_all(&half).unwrap();

        u.recover().unwrap();
        assert!(!half.exists());
        let parts = u.parts("b-1", &up.upload_id).unwrap();
        assert_eq!(parts.len(), 1);
        // upload.json, the part record and its bytes.
        assert_eq!(files(&home), 3);
        assert_eq!(files(&dir.path().join("uploads/b-1")), 1);
    }

    #[test]
    fn foreign_ids_name_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let u = Uploads::new(
            dir.path().join("uploads"),
            Arc::new(crate::store::fs::StdFs),
        );
        for id in ["../x", "", "ABCDEF00000000000000000000000000", "0"] {
            assert!(!valid_upload_id(id));
            assert!(u.get("b-1", id).unwrap().is_none());
            assert!(u.claim("b-1", id).unwrap().is_none());
        }
    }

    #[test]
    fn abandoned_part_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let u = Uploads::new(
            dir.path().join("uploads"),
            Arc::new(crate::store::fs::StdFs),
        );
        let up = u.create("b-1", meta("k"), None, 5).unwrap();
        let mut w = u
            .part_writer("b-1", &up.upload_id, 1, Box::new(PlainCodec))
            .unwrap()
            .unwrap();
        w.write(b"abandoned").unwrap();
        drop(w);
        assert_eq!(
            files(&dir.path().join("uploads/b-1").join(&up.upload_id)),
            1
        );
        assert!(u.parts("b-1", &up.upload_id).unwrap().is_empty());
    }
}
