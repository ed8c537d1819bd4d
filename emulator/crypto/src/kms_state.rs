//! Where a [`Kms`](crate::Kms) keeps its state when it is not a local file: one blob in a
//! store shared by several processes (gateways over one object store), changed only by
//! compare-and-swap, since such a store has no lock to hold across a read-modify-write.

use std::sync::Arc;

use crate::error::Result;

/// Where a KMS keeps its state when it is not a local file: one blob with a version
/// that changes on every write, replaced only if unchanged (compare-and-swap).
///
/// The blob holds key material: implementations keep it private (no public-read ACL, no
/// logging of its bytes), and report failures as [`Error::KeyStore`](crate::Error::KeyStore)
/// with a reason that never quotes the blob.
pub trait KmsStateStore: Send + Sync {
    /// The current blob and its version; `None` when nothing was ever written.
    fn read(&self) -> Result<Option<(Vec<u8>, StateVersion)>>;

    /// Writes `bytes` if the blob is still at `expected` (`None`: only if absent).
    /// `Ok(Some(new_version))` when written, `Ok(None)` when another writer got there first.
    fn write_if(
        &self,
        bytes: &[u8],
        expected: Option<&StateVersion>,
    ) -> Result<Option<StateVersion>>;
}

/// An opaque version tag (an ETag or similar): equal tags mean equal blobs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateVersion(pub String);

/// A shared handle is a store too, so several [`Kms`](crate::Kms) values (or a KMS and the
/// code that created the store) can use one.
impl<S: KmsStateStore + ?Sized> KmsStateStore for Arc<S> {
    fn read(&self) -> Result<Option<(Vec<u8>, StateVersion)>> {
        (**self).read()
    }

    fn write_if(
        &self,
        bytes: &[u8],
        expected: Option<&StateVersion>,
    ) -> Result<Option<StateVersion>> {
        (**self).write_if(bytes, expected)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! An in-memory store with a real compare-and-swap, for tests.

    use std::sync::Mutex;

    use zeroize::Zeroizing;

    use super::{KmsStateStore, StateVersion};
    use crate::error::Result;

    /// One blob and a write counter as its version, under a mutex: `write_if` compares
    /// and replaces atomically, like an object store's conditional PUT.
    #[derive(Default)]
    pub(crate) struct MemoryStore {
        blob: Mutex<Option<(Zeroizing<Vec<u8>>, u64)>>,
    }

    impl MemoryStore {
        /// A store whose blob is `bytes` (version 1).
        pub(crate) fn holding(bytes: &[u8]) -> Self {
            MemoryStore {
                blob: Mutex::new(Some((Zeroizing::new(bytes.to_vec()), 1))),
            }
        }

        /// How many times the blob was written (its version number).
        pub(crate) fn writes(&self) -> u64 {
            self.blob.lock().unwrap().as_ref().map_or(0, |(_, v)| *v)
        }
    }

    fn tag(version: u64) -> StateVersion {
        StateVersion(format!("v{version}"))
    }

    impl KmsStateStore for MemoryStore {
        fn read(&self) -> Result<Option<(Vec<u8>, StateVersion)>> {
            let blob = self.blob.lock().unwrap();
            Ok(blob.as_ref().map(|(bytes, v)| (bytes.to_vec(), tag(*v))))
        }

        fn write_if(
            &self,
            bytes: &[u8],
            expected: Option<&StateVersion>,
        ) -> Result<Option<StateVersion>> {
            let mut blob = self.blob.lock().unwrap();
            let current = blob.as_ref().map(|(_, v)| tag(*v));
            if current.as_ref() != expected {
                return Ok(None);
            }
            let next = blob.as_ref().map_or(1, |(_, v)| v + 1);
            *blob = Some((Zeroizing::new(bytes.to_vec()), next));
            Ok(Some(tag(next)))
        }
    }
}
