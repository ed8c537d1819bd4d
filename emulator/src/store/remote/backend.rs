//! The store's one door to the object store: blocking calls over `object_store`'s async
//! API, run on the runtime the store was opened in (store calls already run on blocking
//! threads, `body.rs`), and backend errors mapped to [`StoreError`]s.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt as _;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, GetRange, MultipartUpload, ObjectStore, ObjectStoreExt as _,
    PutMode, PutMultipartOptions, PutOptions, PutPayload, UpdateVersion,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::runtime::Handle;

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

/// A handle on the backend; cloning shares the client.
#[derive(Debug, Clone)]
pub struct Backend {
    store: Arc<dyn ObjectStore>,
    runtime: Handle,
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
    /// Wraps `store`; calls run on `runtime`.
    pub fn new(store: Arc<dyn ObjectStore>, runtime: Handle) -> Self {
        Backend { store, runtime }
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
        self.wait(async {
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
        })
    }

    /// A JSON record and its version; `None` when absent. A record that does not parse is
    /// [`StoreError::CorruptRecord`].
    pub fn get_json<T: DeserializeOwned>(
        &self,
        path: &Path,
    ) -> Result<Option<(T, Version)>, StoreError> {
        let Some((bytes, version)) = self.get(path)? else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptRecord {
            path: path.to_string(),
            detail: e.to_string(),
        })?;
        Ok(Some((value, version)))
    }

    /// Writes `bytes` at `path`: over anything (`Overwrite`), only if absent (`Create`), or
    /// only over `version` (`Update`). A lost race is [`Written::Conflict`].
    pub fn put(&self, path: &Path, bytes: Bytes, mode: PutMode) -> Result<Written, StoreError> {
        self.wait(async {
            let options = PutOptions {
                mode,
                attributes: opaque(),
                ..PutOptions::default()
            };
            match self
                .store
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
        })
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

    /// Deletes `path`; absent already is fine.
    pub fn delete(&self, path: &Path) -> Result<(), StoreError> {
        self.wait(async {
            match self.store.delete(path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(backend_error(e)),
            }
        })
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

    /// Deletes every path under `prefix`.
    pub fn delete_all(&self, prefix: &Path) -> Result<(), StoreError> {
        let mut paths = Vec::new();
        self.list(prefix, None, &mut |p| {
            paths.push(p.clone());
            Ok(true)
        })?;
        paths.iter().try_for_each(|p| self.delete(p))
    }

    /// A stream of the bytes of `path` from `start` to `end` (exclusive).
    pub fn read_range(
        &self,
        path: &Path,
        start: u64,
        end: u64,
    ) -> Result<BoxStream<'static, object_store::Result<Bytes>>, StoreError> {
        self.wait(async {
            let options = GetOptions {
                range: Some(GetRange::Bounded(start..end)),
                ..GetOptions::default()
            };
            let got = self
                .store
                .get_opts(path, options)
                .await
                .map_err(backend_error)?;
            Ok(got.into_stream())
        })
    }

    /// Starts a multipart upload to `path` (large bodies).
    pub fn start_upload(&self, path: &Path) -> Result<Box<dyn MultipartUpload>, StoreError> {
        let options = PutMultipartOptions {
            attributes: opaque(),
            ..PutMultipartOptions::default()
        };
        self.wait(self.store.put_multipart_opts(path, options))
            .map_err(backend_error)
    }

    /// The runtime backend calls run on.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }
}
