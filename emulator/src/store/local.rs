//! The local-directory store.
//!
//! ```text
//! DATA/buckets/<bucket>/bucket.json            bucket record
//! DATA/buckets/<bucket>/objects/<sha256>.json  object record; file name = SHA-256 of the key
//! DATA/buckets/<bucket>/data/<random id>       stored body bytes
//! DATA/tmp/                                    writes in progress
//! DATA/uploads/<bucket>/<upload id>/...        multipart uploads in progress (`multipart.rs`)
//! DATA/restores/<bucket>/...                   archive restore requests (`restore.rs`)
//! ```
//! Object keys never become paths: a record is named by the hash of its key and a body by a
//! random id, so `../`, very long or odd UTF-8 keys cannot escape or collide. Bucket names
//! are validated before they reach the store (lower-case letters, digits, `-`).
//!
//! Durability: a body is written to `tmp/`, fsynced, renamed into `data/` and `data/`
//! fsynced; then the record is written to `tmp/`, fsynced, renamed over the old record and
//! `objects/` fsynced; only then is the old body removed. A delete makes the record's
//! removal durable before removing the body. So after a crash at any instant every record
//! names a complete body, and a key reads as its old or its new version; what a crash
//! leaves unreferenced (temp files, bodies, half-made buckets) is removed at start-up
//! ([`LocalStore::open`]). A reader that opened the old body keeps reading it whole.
//! `tests/power_loss.rs` checks this against every state a power cut may leave (the page
//! cache lost, not only the process), through the file-system layer ([`super::fs`]).
//!
//! Disk faults (a full disk, EIO) fail the write and leave the old version whole with
//! nothing in `tmp/`. The one failure after which the new version is already visible is
//! the fsync of `objects/` after the record's rename: the PUT then fails but keeps both
//! bodies, as either record may be the one a power cut leaves.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use super::files::{
    create_dir_durable, random_hex, read_json, remove_if_present, write_json, EncodedFile,
    WriteFailure,
};
use super::fs::{Fs, StdFs};
use super::{
    BucketRecord, Encoder, ObjectMeta, ObjectRecord, ObjectWriter, Store, StoreError, StoredBody,
};
use crate::store::multipart::{MultipartStore, Uploads};
use crate::store::record::BodyRef;
use crate::store::restore::{RestoreStore, Restores};

/// How often `open_object` retries when a concurrent PUT replaced the body between reading
/// the record and opening the body.
const OPEN_RETRIES: usize = 16;

/// Buckets and objects under one directory. Cloning gives another handle on the same store.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    /// Every file operation goes through this layer ([`StdFs`] outside tests).
    fs: Arc<dyn Fs>,
    /// Sorted keys per bucket. The lock also serialises record swaps, so the body a
    /// replaced record pointed to is removed exactly once.
    index: Arc<Mutex<HashMap<String, BTreeSet<String>>>>,
    /// Multipart uploads in progress, under `DATA/uploads/`.
    uploads: Uploads,
    /// Archive restore records, under `DATA/restores/`.
    restores: Restores,
}

impl LocalStore {
    /// Opens (creating if needed) a store under `root`, recovers from a crash (see
    /// [`LocalStore::recover`]), and loads the key index.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        Self::open_with(root, Arc::new(StdFs))
    }

    /// [`LocalStore::open`] with every file operation going through `fs` (a test seam: the
    /// power-loss and disk-fault tests record or fail operations there).
    #[doc(hidden)]
    pub fn open_with(root: &Path, fs: Arc<dyn Fs>) -> Result<Self, StoreError> {
        create_dir_durable(&*fs, &root.join("buckets"))?;
        let tmp = root.join("tmp");
        if fs.is_dir(&tmp) {
            fs.remove_dir_all(&tmp)?;
        }
        create_dir_durable(&*fs, &tmp)?;
        let store = LocalStore {
            root: root.to_owned(),
            index: Arc::new(Mutex::new(HashMap::new())),
            uploads: Uploads::new(root.join("uploads"), fs.clone()),
            restores: Restores::new(root.join("restores"), fs.clone()),
            fs,
        };
        let index = store.recover()?;
        *store.lock() = index;
        store.uploads.recover()?;
        Ok(store)
    }

    /// Start-up recovery, run before the store serves anything (so no write is in flight):
    /// removes what a crash can leave behind that no record reaches — a bucket directory
    /// without its `bucket.json` (a create or delete cut short) and body files in `data/`
    /// that no object record names (a write cut between the body's rename and its record,
    /// or a replaced body not yet removed) — and returns the key index. A record is never
    /// removed: every record on disk was made durable after its body (see `commit`).
    fn recover(&self) -> Result<HashMap<String, BTreeSet<String>>, StoreError> {
        let mut index = HashMap::new();
        let buckets = self.root.join("buckets");
        let fs = &*self.fs;
        for entry in fs.read_dir(&buckets)? {
            let name = entry.name;
            let dir = entry.path;
            if !fs.is_dir(&dir) {
                continue;
            }
            if !fs.is_file(&dir.join("bucket.json")) {
                fs.remove_dir_all(&dir)?;
                fs.sync_dir(&buckets)?;
                continue;
            }
            let mut keys = BTreeSet::new();
            let mut bodies = HashSet::new();
            for rec in fs.read_dir(&dir.join("objects"))? {
                if let Some(r) = read_json::<ObjectRecord>(fs, &rec.path)? {
                    bodies.insert(r.body.file);
                    keys.insert(r.meta.key);
                }
            }
            let data = dir.join("data");
            let mut removed = false;
            for body in fs.read_dir(&data)? {
                if !bodies.contains(&body.name) {
                    remove_if_present(fs, &body.path)?;
                    removed = true;
                }
            }
            if removed {
                fs.sync_dir(&data)?;
            }
            index.insert(name, keys);
        }
        Ok(index)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, BTreeSet<String>>> {
        // A panic while holding the lock cannot leave the index half-updated (each update is
        // one insert/remove), so a poisoned lock is still usable.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    fn record_path(&self, bucket: &str, key: &str) -> PathBuf {
        let name = hex::encode(Sha256::digest(key.as_bytes()));
        self.bucket_dir(bucket)
            .join("objects")
            .join(format!("{name}.json"))
    }

    fn body_path(&self, bucket: &str, file: &str) -> PathBuf {
        self.bucket_dir(bucket).join("data").join(file)
    }

    /// Removes what only a deleted or replaced version used: its body and its archive
    /// restore record (restores belong to one write, see `restore.rs`).
    fn forget_version(&self, bucket: &str, version: &ObjectRecord) -> Result<(), StoreError> {
        remove_if_present(&*self.fs, &self.body_path(bucket, &version.body.file))?;
        self.restores.remove(bucket, &version.meta.write_id)
    }

    /// Writes `value` to a temp file, fsyncs it and renames it to `dest` (whole or not at all).
    fn write_atomic(&self, dest: &Path, value: &impl serde::Serialize) -> Result<(), WriteFailure> {
        write_json(
            &*self.fs,
            &self.root.join("tmp").join(random_hex()),
            dest,
            value,
        )
    }
}

impl Store for LocalStore {
    fn create_bucket(&self, record: BucketRecord) -> Result<(), StoreError> {
        let mut index = self.lock();
        let dir = self.bucket_dir(&record.name);
        if let Some(existing) = read_json::<BucketRecord>(&*self.fs, &dir.join("bucket.json"))? {
            return Err(StoreError::BucketExists(Box::new(existing)));
        }
        // The directories first, each entry fsynced; the record last: a crash before it
        // leaves a directory without `bucket.json`, which `recover` removes.
        create_dir_durable(&*self.fs, &dir.join("objects"))?;
        create_dir_durable(&*self.fs, &dir.join("data"))?;
        self.write_atomic(&dir.join("bucket.json"), &record)?;
        index.insert(record.name, BTreeSet::new());
        Ok(())
    }

    fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, StoreError> {
        read_json(&*self.fs, &self.bucket_dir(name).join("bucket.json"))
    }

    fn buckets(&self) -> Result<Vec<BucketRecord>, StoreError> {
        let names: BTreeSet<String> = self.lock().keys().cloned().collect();
        let mut out = Vec::new();
        for name in names {
            if let Some(b) = self.bucket(&name)? {
                out.push(b);
            }
        }
        Ok(out)
    }

    fn modify_bucket(
        &self,
        name: &str,
        change: &mut dyn FnMut(&mut BucketRecord),
    ) -> Result<bool, StoreError> {
        let _guard = self.lock();
        let path = self.bucket_dir(name).join("bucket.json");
        let Some(mut record) = read_json::<BucketRecord>(&*self.fs, &path)? else {
            return Ok(false);
        };
        change(&mut record);
        self.write_atomic(&path, &record)?;
        Ok(true)
    }

    fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        let mut index = self.lock();
        match index.get(name) {
            None => return Err(StoreError::NoSuchBucket(name.into())),
            Some(keys) if !keys.is_empty() => return Err(StoreError::BucketNotEmpty(name.into())),
            Some(_) => {}
        }
        // Remove the record first: a crash after this leaves an unreachable directory, never a
        // bucket that lost its record but keeps objects.
        let dir = self.bucket_dir(name);
        self.fs.remove_file(&dir.join("bucket.json"))?;
        self.fs.sync_dir(&dir)?;
        index.remove(name);
        self.fs.remove_dir_all(&dir)?;
        self.fs.sync_dir(&self.root.join("buckets"))?;
        self.restores.remove_bucket(name)
    }

    fn create_object(
        &self,
        bucket: &str,
        encoder: Box<dyn Encoder>,
    ) -> Result<Box<dyn ObjectWriter>, StoreError> {
        if !self.lock().contains_key(bucket) {
            return Err(StoreError::NoSuchBucket(bucket.into()));
        }
        let tmp = self.root.join("tmp").join(random_hex());
        let file = self.fs.create(&tmp, true)?;
        Ok(Box::new(LocalWriter {
            store: self.clone(),
            bucket: bucket.into(),
            tmp: Some(tmp),
            body: EncodedFile::new(file, encoder),
        }))
    }

    fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StoreError> {
        read_json(&*self.fs, &self.record_path(bucket, key))
    }

    fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        for _ in 0..OPEN_RETRIES {
            let Some(record) = self.object(bucket, key)? else {
                return Ok(None);
            };
            match self.fs.open(&self.body_path(bucket, &record.body.file)) {
                Ok(source) => {
                    let len = record.body.stored_len;
                    return Ok(Some((record, StoredBody::from_source(source, len))));
                }
                // Replaced between reading the record and opening the body: read again.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Io(std::io::Error::other(format!(
            "object {key} kept changing while being opened"
        ))))
    }

    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        change: &mut dyn FnMut(&mut ObjectMeta),
    ) -> Result<bool, StoreError> {
        let _guard = self.lock();
        let path = self.record_path(bucket, key);
        let Some(mut record) = read_json::<ObjectRecord>(&*self.fs, &path)? else {
            return Ok(false);
        };
        change(&mut record.meta);
        self.write_atomic(&path, &record)?;
        Ok(true)
    }

    fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, StoreError> {
        let mut index = self.lock();
        let path = self.record_path(bucket, key);
        let Some(record) = read_json::<ObjectRecord>(&*self.fs, &path)? else {
            return Ok(false);
        };
        self.fs.remove_file(&path)?;
        // The record is gone from the directory: the key is no longer listed even if the
        // fsync below fails (the body then stays, for the record may come back).
        if let Some(keys) = index.get_mut(bucket) {
            keys.remove(key);
        }
        // The removal is durable before the body goes: a crash in between leaves an
        // unreferenced body (removed by `recover`), never a record without its body.
        if let Some(dir) = path.parent() {
            self.fs.sync_dir(dir)?;
        }
        self.forget_version(bucket, &record)?;
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
        let index = self.lock();
        let keys = index
            .get(bucket)
            .ok_or_else(|| StoreError::NoSuchBucket(bucket.into()))?;
        let start = if after < prefix { prefix } else { after };
        Ok(keys
            .range::<str, _>((std::ops::Bound::Included(start), std::ops::Bound::Unbounded))
            .filter(|k| k.as_str() != after)
            .take_while(|k| k.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }
}

/// A body being written to `tmp/`.
struct LocalWriter {
    store: LocalStore,
    bucket: String,
    /// The temp file; `None` once renamed into place.
    tmp: Option<PathBuf>,
    body: EncodedFile,
}

impl ObjectWriter for LocalWriter {
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.body.write(plain)
    }

    fn commit(mut self: Box<Self>, meta: ObjectMeta) -> Result<ObjectRecord, StoreError> {
        let (format, stored_len) = self.body.finish()?;
        let file_id = random_hex();
        let store = self.store.clone();
        let body_path = store.body_path(&self.bucket, &file_id);
        let tmp = self
            .tmp
            .take()
            .ok_or_else(|| std::io::Error::other("committed twice"))?;
        let record = ObjectRecord {
            body: BodyRef::one_file(file_id, format, stored_len),
            meta,
        };
        let fs = &*store.fs;
        let mut index = store.lock();
        let Some(keys) = index.get_mut(&self.bucket) else {
            let _ = fs.remove_file(&tmp);
            return Err(StoreError::NoSuchBucket(self.bucket.clone()));
        };
        // The body is durable under its final name (file fsynced by `finish`, its `data/`
        // entry by this directory fsync) before any record names it.
        let placed = fs.rename(&tmp, &body_path).and_then(|()| {
            let dir = body_path.parent().unwrap_or(&body_path);
            fs.sync_dir(dir)
        });
        if let Err(e) = placed {
            let _ = fs.remove_file(&tmp);
            let _ = fs.remove_file(&body_path);
            return Err(e.into());
        }
        let record_path = store.record_path(&self.bucket, &record.meta.key);
        let previous = read_json::<ObjectRecord>(fs, &record_path).ok().flatten();
        match store.write_atomic(&record_path, &record) {
            Ok(()) => {}
            // Only `objects/`'s fsync failed: the new record is in place and names the new
            // body, and the old record may come back at a power cut. Both bodies stay (the
            // next start's recovery removes the one no record names); the PUT fails.
            Err(f) if f.placed => {
                keys.insert(record.meta.key.clone());
                return Err(f.error);
            }
            Err(f) => {
                let _ = fs.remove_file(&body_path);
                return Err(f.error);
            }
        }
        keys.insert(record.meta.key.clone());
        // `write_atomic` fsynced the record and its directory: only now may the body the
        // previous record named go (a crash before this leaves it unreferenced: `recover`).
        if let Some(prev) = previous {
            store.forget_version(&self.bucket, &prev)?;
        }
        Ok(record)
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // Not committed: the write never happened (a truncated or refused upload).
        if let Some(tmp) = self.tmp.take() {
            let _ = self.store.fs.remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Read;

    use super::*;
    use crate::store::{Acl, PlainCodec};

    fn bucket(name: &str) -> BucketRecord {
        BucketRecord {
            name: name.into(),
            appid: "1250000000".into(),
            region: "ap-beijing".into(),
            created_ms: 0,
            acl: Acl::Private,
            grants: Vec::new(),
            cors: Vec::new(),
            encryption: None,
        }
    }

    fn meta(key: &str, size: u64) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size,
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
            write_id: "w".into(),
            sse: None,
            mac: String::new(),
        }
    }

    fn put(store: &LocalStore, b: &str, key: &str, body: &[u8]) {
        let mut w = store.create_object(b, Box::new(PlainCodec)).unwrap();
        w.write(body).unwrap();
        w.commit(meta(key, body.len() as u64)).unwrap();
    }

    fn read(store: &LocalStore, b: &str, key: &str) -> Vec<u8> {
        let (_, mut body) = store.open_object(b, key).unwrap().unwrap();
        let mut v = Vec::new();
        body.read_to_end(&mut v).unwrap();
        v
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn keys_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(bucket("b-1250000000")).unwrap();
        for key in [
            "../../escape",
            "/abs",
            "a/./b",
            "é 中文 \u{1F600}",
            &"k".repeat(850),
        ] {
            put(&store, "b-1250000000", key, key.as_bytes());
            assert_eq!(read(&store, "b-1250000000", key), key.as_bytes());
        }
        assert!(!dir.path().join("escape").exists());
        for f in files_under(dir.path()) {
            let rel = f.strip_prefix(dir.path()).unwrap();
            assert!(rel.starts_with("buckets/b-1250000000"), "{rel:?}");
            assert!(f.file_name().unwrap().len() <= 69, "{f:?}");
        }
    }

    #[test]
    fn uncommitted_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(bucket("b-1250000000")).unwrap();
        put(&store, "b-1250000000", "k", b"old");
        let mut w = store
            .create_object("b-1250000000", Box::new(PlainCodec))
            .unwrap();
        w.write(b"new but abandoned").unwrap();
        drop(w);
        assert_eq!(read(&store, "b-1250000000", "k"), b"old");
        assert!(files_under(&dir.path().join("tmp")).is_empty());
        assert_eq!(
            files_under(&dir.path().join("buckets/b-1250000000/data")).len(),
            1
        );
    }

    #[test]
    fn replacing_removes_old_body_but_open_reader_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(bucket("b-1250000000")).unwrap();
        put(&store, "b-1250000000", "k", b"version one");
        let (_, mut old) = store.open_object("b-1250000000", "k").unwrap().unwrap();
        put(&store, "b-1250000000", "k", b"version two");
        let mut v = Vec::new();
        old.read_to_end(&mut v).unwrap();
        assert_eq!(v, b"version one");
        assert_eq!(read(&store, "b-1250000000", "k"), b"version two");
        assert_eq!(
            files_under(&dir.path().join("buckets/b-1250000000/data")).len(),
            1
        );
    }

    #[test]
    fn deleting_or_replacing_a_version_forgets_its_restore() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.create_bucket(bucket("b-1250000000")).unwrap();
        let restore = crate::store::restore::RestoreRecord {
            requested_ms: 0,
            ready_ms: 0,
            days: 1,
            tier: "Standard".into(),
        };
        put(&store, "b-1250000000", "k", b"archived");
        store.restores().put("b-1250000000", "w", &restore).unwrap();
        put(&store, "b-1250000000", "k", b"replaced");
        assert_eq!(store.restores().get("b-1250000000", "w").unwrap(), None);

        store.restores().put("b-1250000000", "w", &restore).unwrap();
        assert!(store.delete_object("b-1250000000", "k").unwrap());
        assert_eq!(store.restores().get("b-1250000000", "w").unwrap(), None);

        store
            .restores()
            .put("b-1250000000", "w-other", &restore)
            .unwrap();
        store.delete_bucket("b-1250000000").unwrap();
        assert!(files_under(&dir.path().join("restores")).is_empty());
    }

    /// Start-up recovery removes what a crash leaves unreferenced and nothing else.
    #[test]
    fn reopening_removes_orphans_and_keeps_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("buckets/b-1250000000/data");
        {
            let store = LocalStore::open(dir.path()).unwrap();
            store.create_bucket(bucket("b-1250000000")).unwrap();
            put(&store, "b-1250000000", "k", b"kept");
            put(&store, "b-1250000000", "gone", b"deleted");
            store.delete_object("b-1250000000", "gone").unwrap();
        }
        // A crash between a body's rename and its record, a write in progress, and a
        // bucket whose create was cut before its record.
        fs::write(data.join("0123456789abcdef0123456789abcdef"), b"orphan").unwrap();
        fs::write(dir.path().join("tmp/partial"), b"half").unwrap();
        fs::create_dir_all(dir.path().join("buckets/b-half/objects")).unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(read(&store, "b-1250000000", "k"), b"kept");
        assert_eq!(files_under(&data).len(), 1, "only k's body is left");
        assert!(files_under(&dir.path().join("tmp")).is_empty());
        assert!(!dir.path().join("buckets/b-half").exists());
        assert_eq!(
            store.buckets().unwrap().len(),
            1,
            "the half-made bucket is not listed"
        );
        assert_eq!(store.list_keys("b-1250000000", "", "", 10).unwrap(), ["k"]);
    }

    #[test]
    fn list_delete_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = LocalStore::open(dir.path()).unwrap();
            store.create_bucket(bucket("b-1250000000")).unwrap();
            for k in ["a/1", "a/2", "b", "c"] {
                put(&store, "b-1250000000", k, b"x");
            }
            assert!(matches!(
                store.delete_bucket("b-1250000000"),
                Err(StoreError::BucketNotEmpty(_))
            ));
            assert!(store.delete_object("b-1250000000", "c").unwrap());
            assert!(!store.delete_object("b-1250000000", "c").unwrap());
        }
        let store = LocalStore::open(dir.path()).unwrap();
        assert_eq!(
            store.list_keys("b-1250000000", "", "", 10).unwrap(),
            ["a/1", "a/2", "b"]
        );
        assert_eq!(
            store.list_keys("b-1250000000", "a/", "", 10).unwrap(),
            ["a/1", "a/2"]
        );
        assert_eq!(
            store.list_keys("b-1250000000", "", "a/1", 1).unwrap(),
            ["a/2"]
        );
        assert_eq!(
            store.list_keys("b-1250000000", "a", "a/2", 10).unwrap(),
            Vec::<String>::new()
        );
        for k in ["a/1", "a/2", "b"] {
            store.delete_object("b-1250000000", k).unwrap();
        }
        store.delete_bucket("b-1250000000").unwrap();
        assert!(store.bucket("b-1250000000").unwrap().is_none());
        assert!(matches!(
            store.create_object("b-1250000000", Box::new(PlainCodec)),
            Err(StoreError::NoSuchBucket(_))
        ));
    }
}
