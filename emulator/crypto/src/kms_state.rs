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
