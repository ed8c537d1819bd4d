//! Archive restore records in the backend, one per written version (named by the hash of
//! its write id, like the local store's).

use object_store::PutMode;
use sha2::{Digest, Sha256};

use super::Records;
use crate::store::restore::{RestoreRecord, RestoreStore};
use crate::store::StoreError;

/// The backend name of the restore record of `write_id`.
pub fn name(write_id: &str) -> String {
    hex::encode(Sha256::digest(write_id.as_bytes()))
}

/// Restore records in the backend.
#[derive(Debug, Clone)]
pub struct RemoteRestores {
    records: Records,
}

impl RemoteRestores {
    /// Restore records through `records`.
    pub fn new(records: Records) -> Self {
        RemoteRestores { records }
    }
}

impl RestoreStore for RemoteRestores {
    fn get(&self, bucket: &str, write_id: &str) -> Result<Option<RestoreRecord>, StoreError> {
        let path = self.records.layout.restore(bucket, &name(write_id));
        Ok(self.records.backend.get_json(&path)?.map(|(r, _)| r))
    }

    fn put(&self, bucket: &str, write_id: &str, record: &RestoreRecord) -> Result<(), StoreError> {
        let path = self.records.layout.restore(bucket, &name(write_id));
        // A restore request replaces the previous one of the same version whole (one PUT).
        self.records
            .backend
            .put_json(&path, record, PutMode::Overwrite)
            .map(drop)
    }

    fn remove(&self, bucket: &str, write_id: &str) -> Result<(), StoreError> {
        let path = self.records.layout.restore(bucket, &name(write_id));
        self.records.backend.delete(&path)
    }

    fn remove_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        self.records
            .backend
            .delete_all(&self.records.layout.restores(bucket))
    }
}
