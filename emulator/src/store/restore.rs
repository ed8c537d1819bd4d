//! Archive restores: which written versions of ARCHIVE / DEEP_ARCHIVE objects were asked
//! to be restored, and when. Knows nothing about HTTP.
//!
//! ```text
//! DATA/restores/<bucket>/<sha256 of the write id>.json   one RestoreRecord
//! ```
//! A restore belongs to one write of an object (its `write_id`): a PUT or copy over the
//! key makes a new write that is not restored, as in COS, with nothing to invalidate.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::files::{create_dir_durable, read_json, remove_if_present, write_json};
use super::fs::Fs;
use super::StoreError;

/// One restore request and its timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    /// When it was requested, Unix milliseconds.
    pub requested_ms: i64,
    /// When the restored copy becomes readable, Unix milliseconds.
    pub ready_ms: i64,
    /// For how many days the restored copy stays readable.
    pub days: u32,
    /// `Expedited`, `Standard` or `Bulk`.
    pub tier: String,
}

/// Where a restore stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreState {
    /// Requested, not readable yet (`x-cos-restore: ongoing-request="true"`).
    Ongoing,
    /// Readable until `expiry_ms` (`ongoing-request="false", expiry-date=…`).
    Restored {
        /// End of the restored period, Unix milliseconds.
        expiry_ms: i64,
    },
}

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl RestoreRecord {
    /// The state at `now_ms`; `None` once the restored period is over.
    pub fn state(&self, now_ms: i64) -> Option<RestoreState> {
        let expiry_ms = self
            .ready_ms
            .saturating_add(i64::from(self.days).saturating_mul(DAY_MS));
        if now_ms < self.ready_ms {
            Some(RestoreState::Ongoing)
        } else if now_ms < expiry_ms {
            Some(RestoreState::Restored { expiry_ms })
        } else {
            None
        }
    }
}

/// The archive restore records of a store, one per written version (its write id).
pub trait RestoreStore: Send + Sync {
    /// The restore of one written version, if any was requested.
    fn get(&self, bucket: &str, write_id: &str) -> Result<Option<RestoreRecord>, StoreError>;
    /// Records (or replaces) the restore of one written version, atomically.
    fn put(&self, bucket: &str, write_id: &str, record: &RestoreRecord) -> Result<(), StoreError>;
    /// Forgets the restore of a written version that was deleted or replaced.
    fn remove(&self, bucket: &str, write_id: &str) -> Result<(), StoreError>;
    /// Forgets every restore of a deleted bucket.
    fn remove_bucket(&self, bucket: &str) -> Result<(), StoreError>;
}

/// The restore records of the local store, under `DATA/restores/`.
#[derive(Debug, Clone)]
pub struct Restores {
    root: PathBuf,
    fs: Arc<dyn Fs>,
}

impl Restores {
    /// The records under `root` (created on first use), read and written through `fs`.
    pub fn new(root: PathBuf, fs: Arc<dyn Fs>) -> Self {
        Restores { root, fs }
    }

    fn path(&self, bucket: &str, write_id: &str) -> PathBuf {
        let name = hex::encode(Sha256::digest(write_id.as_bytes()));
        self.root.join(bucket).join(format!("{name}.json"))
    }
}

impl RestoreStore for Restores {
    fn get(&self, bucket: &str, write_id: &str) -> Result<Option<RestoreRecord>, StoreError> {
        read_json(&*self.fs, &self.path(bucket, write_id))
    }

    fn put(&self, bucket: &str, write_id: &str, record: &RestoreRecord) -> Result<(), StoreError> {
        let path = self.path(bucket, write_id);
        let dir = self.root.join(bucket);
        create_dir_durable(&*self.fs, &dir)?;
        Ok(write_json(
            &*self.fs,
            &path.with_extension("tmp"),
            &path,
            record,
        )?)
    }

    fn remove(&self, bucket: &str, write_id: &str) -> Result<(), StoreError> {
        Ok(remove_if_present(&*self.fs, &self.path(bucket, write_id))?)
    }

    fn remove_bucket(&self, bucket: &str) -> Result<(), StoreError> {
        match self.fs.remove_dir_all(&self.root.join(bucket)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_over_time() {
        let r = RestoreRecord {
            requested_ms: 0,
            ready_ms: 100,
            days: 1,
            tier: "Standard".into(),
        };
        assert_eq!(r.state(50), Some(RestoreState::Ongoing));
        assert_eq!(
            r.state(100),
            Some(RestoreState::Restored {
                expiry_ms: 100 + DAY_MS
            })
        );
        assert_eq!(r.state(100 + DAY_MS), None);
    }

    #[test]
    fn records_are_per_write() {
        let dir = tempfile::tempdir().unwrap();
        let r = Restores::new(
            dir.path().join("restores"),
            Arc::new(crate::store::fs::StdFs),
        );
        assert_eq!(r.get("b-1", "w1").unwrap(), None);
        let rec = RestoreRecord {
            requested_ms: 1,
            ready_ms: 2,
            days: 3,
            tier: "Bulk".into(),
        };
        r.put("b-1", "w1", &rec).unwrap();
        assert_eq!(r.get("b-1", "w1").unwrap(), Some(rec));
        assert_eq!(r.get("b-1", "w2").unwrap(), None);
    }
}
