//! Record authentication for every store: [`AuthenticatedStore`] wraps the local or the
//! object-store backend, seals each object record it writes ([`RecordKey::seal`]) and
//! verifies each one it reads ([`RecordKey::verify`]) against the bucket and key it was
//! asked for. The backends stay unaware of it: they store the MAC as one more field of the
//! metadata.
//!
//! Every path that makes a record passes here: a PUT, POST, copy or a local Complete
//! commits through [`Store::create_object`]'s writer; a Complete of the object-store
//! backend commits through its claim ([`MultipartStore::claim`]); ACL and restore changes
//! go through [`Store::modify_object`], which verifies the record before the change and
//! seals it after.

use std::sync::Arc;

use cos_emulator_crypto::EncryptionRecord;

use super::multipart::{Claim, ClaimHandle, MultipartStore, PartRecord, UploadRecord};
use super::record::{BodyFormat, ObjectMeta, ObjectRecord, RecordKey};
use super::restore::RestoreStore;
use super::{Encoder, ObjectWriter, PlannedRead, Store, StoreError, StoredBody};

/// A store whose object records are authenticated (record authentication).
pub struct AuthenticatedStore {
    inner: Arc<dyn Store>,
    key: Arc<RecordKey>,
    uploads: AuthenticatedUploads,
}

impl std::fmt::Debug for AuthenticatedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatedStore").finish_non_exhaustive()
    }
}

impl AuthenticatedStore {
    /// Wraps `inner`, sealing and verifying its object records under `key`.
    pub fn new(inner: Arc<dyn Store>, key: RecordKey) -> Self {
        let key = Arc::new(key);
        AuthenticatedStore {
            uploads: AuthenticatedUploads {
                inner: inner.clone(),
                key: key.clone(),
            },
            inner,
            key,
        }
    }

    fn verified(
        &self,
        bucket: &str,
        key: &str,
        record: Option<ObjectRecord>,
    ) -> Result<Option<ObjectRecord>, StoreError> {
        match record {
            None => Ok(None),
            Some(r) => {
                self.key.verify(bucket, key, &r.meta)?;
                Ok(Some(r))
            }
        }
    }

    /// An opened object whose record verifies.
    fn verified_opened(
        &self,
        bucket: &str,
        key: &str,
        opened: Option<(ObjectRecord, StoredBody)>,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        if let Some((record, _)) = &opened {
            self.key.verify(bucket, key, &record.meta)?;
        }
        Ok(opened)
    }
}

impl Store for AuthenticatedStore {
    fn create_bucket(&self, record: super::BucketRecord) -> Result<(), StoreError> {
        self.inner.create_bucket(record)
    }

    fn bucket(&self, name: &str) -> Result<Option<super::BucketRecord>, StoreError> {
        self.inner.bucket(name)
    }

    fn buckets(&self) -> Result<Vec<super::BucketRecord>, StoreError> {
        self.inner.buckets()
    }

    fn modify_bucket(
        &self,
        name: &str,
        change: &mut dyn FnMut(&mut super::BucketRecord),
    ) -> Result<bool, StoreError> {
        self.inner.modify_bucket(name, change)
    }

    fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        self.inner.delete_bucket(name)
    }

    fn create_object(
        &self,
        bucket: &str,
        encoder: Box<dyn Encoder>,
    ) -> Result<Box<dyn ObjectWriter>, StoreError> {
        Ok(Box::new(SealingWriter {
            inner: self.inner.create_object(bucket, encoder)?,
            bucket: bucket.into(),
            key: self.key.clone(),
        }))
    }

    fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StoreError> {
        let record = self.inner.object(bucket, key)?;
        self.verified(bucket, key, record)
    }

    fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        let opened = self.inner.open_object(bucket, key)?;
        self.verified_opened(bucket, key, opened)
    }

    fn open_object_for_owner(
        &self,
        bucket: &str,
        key: &str,
        wanted: PlannedRead,
    ) -> Result<Option<(ObjectRecord, StoredBody)>, StoreError> {
        let opened = self.inner.open_object_for_owner(bucket, key, wanted)?;
        self.verified_opened(bucket, key, opened)
    }

    /// Verifies the record before `change` sees it and seals it after; a record that does
    /// not verify is left as it is (rewritten unchanged) and the call fails.
    fn modify_object(
        &self,
        bucket: &str,
        key: &str,
        change: &mut dyn FnMut(&mut ObjectMeta),
    ) -> Result<bool, StoreError> {
        let mut failure = None;
        let found = self.inner.modify_object(bucket, key, &mut |meta| {
            if let Err(e) = self.key.verify(bucket, key, meta) {
                failure = Some(e);
                return;
            }
            change(meta);
            if let Err(e) = self.key.seal(bucket, meta) {
                failure = Some(e);
            }
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }

    fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, StoreError> {
        self.inner.delete_object(bucket, key)
    }

    fn uploads(&self) -> &dyn MultipartStore {
        &self.uploads
    }

    fn restores(&self) -> &dyn RestoreStore {
        self.inner.restores()
    }

    fn list_keys(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.list_keys(bucket, prefix, after, limit)
    }

    fn settle(&self) {
        self.inner.settle()
    }
}

/// Seals the metadata of a new object before the backend records it.
struct SealingWriter {
    inner: Box<dyn ObjectWriter>,
    bucket: String,
    key: Arc<RecordKey>,
}

impl ObjectWriter for SealingWriter {
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.inner.write(plain)
    }

    fn expect(&mut self, plain_len: u64) {
        self.inner.expect(plain_len)
    }

    fn commit(self: Box<Self>, mut meta: ObjectMeta) -> Result<ObjectRecord, StoreError> {
        self.key.seal(&self.bucket, &mut meta)?;
        self.inner.commit(meta)
    }
}

/// The backend's multipart staging area, with Complete's record sealed.
struct AuthenticatedUploads {
    inner: Arc<dyn Store>,
    key: Arc<RecordKey>,
}

impl MultipartStore for AuthenticatedUploads {
    fn create(
        &self,
        bucket: &str,
        meta: ObjectMeta,
        sse: Option<EncryptionRecord>,
        now_ms: i64,
    ) -> Result<UploadRecord, StoreError> {
        self.inner.uploads().create(bucket, meta, sse, now_ms)
    }

    fn get(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>, StoreError> {
        self.inner.uploads().get(bucket, upload_id)
    }

    fn list(&self, bucket: &str) -> Result<Vec<UploadRecord>, StoreError> {
        self.inner.uploads().list(bucket)
    }

    fn parts(&self, bucket: &str, upload_id: &str) -> Result<Vec<PartRecord>, StoreError> {
        self.inner.uploads().parts(bucket, upload_id)
    }

    fn part_writer(
        &self,
        bucket: &str,
        upload_id: &str,
        number: u32,
        encoder: Box<dyn Encoder>,
    ) -> Result<Option<Box<dyn ObjectWriter>>, StoreError> {
        self.inner
            .uploads()
            .part_writer(bucket, upload_id, number, encoder)
    }

    fn claim(&self, bucket: &str, upload_id: &str) -> Result<Option<Claim>, StoreError> {
        Ok(self.inner.uploads().claim(bucket, upload_id)?.map(|claim| {
            let (record, parts, handle) = claim.into_parts();
            let handle = SealingClaim {
                inner: handle,
                key: self.key.clone(),
            };
            Claim::new(record, parts, Box::new(handle))
        }))
    }

    fn abort(&self, bucket: &str, upload_id: &str) -> Result<bool, StoreError> {
        self.inner.uploads().abort(bucket, upload_id)
    }
}

/// A claimed upload whose completed object's record is sealed.
struct SealingClaim {
    inner: Box<dyn ClaimHandle>,
    key: Arc<RecordKey>,
}

impl ClaimHandle for SealingClaim {
    fn open_part(&self, part: &PartRecord) -> Result<StoredBody, StoreError> {
        self.inner.open_part(part)
    }

    /// Seals `meta`, then lets the backend commit it. A backend that commits through
    /// `store.create_object` (the local one copies the parts) is handed this wrapper's
    /// `store`, whose writer seals again: the same MAC, as the metadata is the same.
    fn complete(
        &self,
        store: &dyn Store,
        bucket: &str,
        parts: &[&PartRecord],
        format: BodyFormat,
        mut meta: ObjectMeta,
    ) -> Result<ObjectRecord, StoreError> {
        self.key.seal(bucket, &mut meta)?;
        self.inner.complete(store, bucket, parts, format, meta)
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.release()
    }

    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;
    use crate::store::remote::{RemoteStore, StoreUrl};
    use crate::store::{Acl, BucketRecord, LocalStore, PlainCodec};

    fn meta(key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.into(),
            size: 1,
            etag: "e".into(),
            crc64: 0,
            modified_ms: 0,
            content_type: "t".into(),
            headers: Default::default(),
            user_meta: Default::default(),
            storage_class: "STANDARD".into(),
            acl: Acl::Default,
            owner: "1250000000".into(),
            write_id: "w".into(),
            sse: None,
            grants: Vec::new(),
            mac: String::new(),
        }
    }

    /// Both backends get record authentication from the one wrapper: a record written
    /// through it reads back; the same record changed behind its back (the backend edited
    /// directly) is refused by every read and by a modification.
    fn check(inner: Arc<dyn Store>) {
        let store = AuthenticatedStore::new(inner.clone(), RecordKey::new(Zeroizing::new([3; 32])));
        store
            .create_bucket(BucketRecord {
                name: "b-1250000000".into(),
                appid: "1250000000".into(),
                region: "ap-beijing".into(),
                created_ms: 0,
                acl: Acl::Private,
                grants: Vec::new(),
                cors: Vec::new(),
                encryption: None,
            })
            .unwrap();
        let mut w = store
            .create_object("b-1250000000", Box::new(PlainCodec))
            .unwrap();
        w.write(b"x").unwrap();
        w.commit(meta("k")).unwrap();
        assert_eq!(
            store.object("b-1250000000", "k").unwrap().unwrap().meta.key,
            "k"
        );
        assert!(store
            .modify_object("b-1250000000", "k", &mut |m| m.acl = Acl::Private)
            .unwrap());
        assert!(store.open_object("b-1250000000", "k").unwrap().is_some());
        // Behind the wrapper's back.
        inner
            .modify_object("b-1250000000", "k", &mut |m| m.acl = Acl::PublicRead)
            .unwrap();
        let refused = |r: Result<(), StoreError>| {
            assert!(matches!(r, Err(StoreError::CorruptRecord { .. })), "{r:?}");
        };
        refused(store.object("b-1250000000", "k").map(drop));
        refused(store.open_object("b-1250000000", "k").map(drop));
        refused(
            store
                .modify_object("b-1250000000", "k", &mut |m| m.acl = Acl::Private)
                .map(drop),
        );
    }

    #[test]
    fn local_records_are_authenticated() {
        let dir = tempfile::tempdir().unwrap();
        check(Arc::new(LocalStore::open(dir.path()).unwrap()));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn object_store_records_are_authenticated() {
        let url = StoreUrl {
            url: "memory://".into(),
            options: Vec::new(),
        };
        let inner: Arc<dyn Store> = Arc::new(RemoteStore::open(&url).await.unwrap());
        tokio::task::spawn_blocking(move || check(inner))
            .await
            .unwrap();
    }
}
