//! Multipart uploads in the backend. An upload is a directory of small records — the
//! upload, one per part, and while a Complete or Abort holds it a `claimed` marker — and
//! each part's bytes are a body object of their own under `data/`, so Complete writes a
//! manifest naming them instead of copying.
//!
//! The claim is a create-if-absent write of the marker, so one gateway wins; the marker
//! carries a random claim id, checked before each write the claim makes (adopting parts,
//! giving the upload back, finishing it), so a claim taken over is fenced off. A claim
//! goes stale after [`CLAIM_TTL_MS`] (its gateway died, or a Complete's outcome was
//! unknown) and may then be taken over; the new claim inherits the part bodies the old
//! one adopted, which are then never removed with the upload (the sweep removes them if
//! no object names them). So an upload a crash left between adoption and finish can be
//! completed or aborted again once the claim is stale, as the local store gives a claimed
//! upload back at start-up.
//!
//! A part that commits while another gateway holds the claim is refused (checked before
//! its record is written; a part that slips in between is not in the completed object and
//! is removed with the upload). Complete records in the marker, before the object record,
//! which part bodies the object adopts: whoever finishes the upload removes only the
//! others. A part re-upload removes the body it replaced only if no claim existed once
//! its record was written: a claim may have read the old part record and adopted its body.

use std::sync::Mutex;

use object_store::path::Path;
use object_store::PutMode;
use serde::{Deserialize, Serialize};

use super::backend::Written;
use super::body::BodyUpload;
use super::{cas, write_own_from, Records, SwapError};
use crate::store::files::random_hex;
use crate::store::multipart::{
    valid_upload_id, Claim, ClaimHandle, MultipartStore, PartRecord, UploadRecord,
};
use crate::store::record::{BodyFormat, BodyRef, BodySegment, ObjectMeta, ObjectRecord};
use crate::store::{Encoder, ObjectWriter, Store, StoreError, StoredBody};
use cos_emulator_crypto::EncryptionRecord;

/// How long a claim holds an upload: far longer than a Complete (a few small writes,
/// each bounded by the backend timeout) or an Abort takes.
pub const CLAIM_TTL_MS: i64 = 10 * 60 * 1000;

/// The `claimed` marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Marker {
    /// When the claim was taken (0: given back with adopted bodies kept).
    pub(super) claimed_ms: i64,
    /// The claim's fencing token: a claim writes only over a marker bearing its own id.
    #[serde(default)]
    claim_id: String,
    /// Part bodies a completed object may use (set by Complete before its record; kept
    /// by a claim that takes a stale one over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    adopted: Option<Vec<String>>,
}

impl Marker {
    /// Whether the claim still holds the upload at `now_ms`.
    pub(super) fn holds(&self, now_ms: i64) -> bool {
        now_ms - self.claimed_ms < CLAIM_TTL_MS
    }

    /// The part bodies a completed object may use.
    pub(super) fn adopted(&self) -> &[String] {
        self.adopted.as_deref().unwrap_or_default()
    }
}

/// The claim was taken over by another gateway (it went stale): this one writes nothing
/// more.
fn fenced() -> StoreError {
    StoreError::Io(std::io::Error::other(
        "the upload's claim went stale and another gateway took it over",
    ))
}

/// Unix milliseconds now.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Multipart uploads in the backend.
#[derive(Debug, Clone)]
pub struct RemoteUploads {
    records: Records,
}

impl RemoteUploads {
    /// Uploads through `records`.
    pub fn new(records: Records) -> Self {
        RemoteUploads { records }
    }

    fn dir(&self, bucket: &str, upload_id: &str) -> Option<Path> {
        valid_upload_id(upload_id).then(|| self.records.layout.upload(bucket, upload_id))
    }

    /// The upload's record when it exists and no claim holds it.
    fn live(&self, dir: &Path) -> Result<Option<UploadRecord>, StoreError> {
        self.records.backend.wait(self.check_live(dir))
    }

    /// [`RemoteUploads::live`] as a future: the record and the marker read at once.
    async fn check_live(&self, dir: &Path) -> Result<Option<UploadRecord>, StoreError> {
        let backend = &self.records.backend;
        let (upload, marker) = futures_util::future::join(
            backend.fetch_json::<UploadRecord>(&dir.clone().join("upload")),
            backend.fetch_json::<Marker>(&dir.clone().join("claimed")),
        )
        .await;
        let Some((record, _)) = upload? else {
            return Ok(None);
        };
        match marker? {
            Some((m, _)) if m.holds(now_ms()) => Ok(None),
            _ => Ok(Some(record)),
        }
    }

    /// Writes a claim's marker; a write whose answer was lost is found by its claim id
    /// (else the upload would stay claimed by nobody until the claim went stale).
    fn put_marker(&self, path: &Path, mine: &Marker, mode: PutMode) -> Result<Written, StoreError> {
        let backend = &self.records.backend;
        match backend.put_json(path, mine, mode) {
            Ok(written) => Ok(written),
            Err(e) => match backend.get_json::<Marker>(path)? {
                Some((held, version)) if held.claim_id == mine.claim_id => {
                    Ok(Written::Done(version))
                }
                _ => Err(e),
            },
        }
    }

    fn parts_in(&self, dir: &Path) -> Result<Vec<PartRecord>, StoreError> {
        let mut paths = Vec::new();
        self.records.backend.list(dir, None, &mut |p| {
            if p.filename().is_some_and(|n| n.starts_with("part-")) {
                paths.push(p.clone());
            }
            Ok(true)
        })?;
        let mut parts: Vec<PartRecord> = read_records(&self.records.backend, &paths)?
            .into_iter()
            .flatten()
            .collect();
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }
}

impl MultipartStore for RemoteUploads {
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
        let path = self
            .records
            .layout
            .upload(bucket, &record.upload_id)
            .clone()
            .join("upload");
        match self
            .records
            .backend
            .put_json(&path, &record, PutMode::Create)?
        {
            Written::Done(_) => Ok(record),
            Written::Conflict => Err(StoreError::Io(std::io::Error::other(
                "a fresh random upload id is taken",
            ))),
        }
    }

    fn get(&self, bucket: &str, upload_id: &str) -> Result<Option<UploadRecord>, StoreError> {
        match self.dir(bucket, upload_id) {
            Some(dir) => self.live(&dir),
            None => Ok(None),
        }
    }

    fn list(&self, bucket: &str) -> Result<Vec<UploadRecord>, StoreError> {
        let mut ids = Vec::new();
        let base = self.records.layout.uploads(bucket);
        self.records.backend.list(&base, None, &mut |p| {
            if p.filename() == Some("upload") {
                let id = p.parts().nth_back(1).map(|s| s.as_ref().to_owned());
                ids.extend(id.filter(|id| valid_upload_id(id)));
            }
            Ok(true)
        })?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(r) = self.get(bucket, &id)? {
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
        match self.dir(bucket, upload_id) {
            Some(dir) => self.parts_in(&dir),
            None => Ok(Vec::new()),
        }
    }

    fn part_writer(
        &self,
        bucket: &str,
        upload_id: &str,
        number: u32,
        encoder: Box<dyn Encoder>,
    ) -> Result<Option<Box<dyn ObjectWriter>>, StoreError> {
        let Some(dir) = self.dir(bucket, upload_id) else {
            return Ok(None);
        };
        if self.live(&dir)?.is_none() {
            return Ok(None);
        }
        let id = random_hex();
        let path = self.records.layout.data(bucket, &id);
        Ok(Some(Box::new(RemotePartWriter {
            uploads: self.clone(),
            bucket: bucket.into(),
            dir,
            number,
            id,
            body: BodyUpload::new(self.records.backend.clone(), path, encoder),
        })))
    }

    fn claim(&self, bucket: &str, upload_id: &str) -> Result<Option<Claim>, StoreError> {
        let Some(dir) = self.dir(bucket, upload_id) else {
            return Ok(None);
        };
        let backend = &self.records.backend;
        let marker_path = dir.clone().join("claimed");
        let mut mine = Marker {
            claimed_ms: now_ms(),
            claim_id: random_hex(),
            adopted: None,
        };
        let won = match self.put_marker(&marker_path, &mine, PutMode::Create)? {
            Written::Done(_) => true,
            // Held by someone else, unless that claim went stale: take it over only from
            // the version read, so of two gateways taking it over one wins. What the
            // stale claim adopted stays adopted.
            Written::Conflict => match backend.get_json::<Marker>(&marker_path)? {
                Some((held, version)) if !held.holds(now_ms()) => {
                    mine.adopted = held.adopted;
                    matches!(
                        self.put_marker(&marker_path, &mine, PutMode::Update(version))?,
                        Written::Done(_)
                    )
                }
                _ => false,
            },
        };
        if !won {
            return Ok(None);
        }
        let handle = RemoteClaim {
            records: self.records.clone(),
            bucket: bucket.into(),
            dir: dir.clone(),
            claim_id: mine.claim_id.clone(),
            inherited: mine.adopted.clone().unwrap_or_default(),
            adopted: Mutex::new(Vec::new()),
        };
        let read = backend
            .get_json::<UploadRecord>(&dir.clone().join("upload"))
            .and_then(|record| Ok((record, self.parts_in(&dir)?)));
        match read {
            Ok((Some((record, _)), parts)) => Ok(Some(Claim::new(record, parts, Box::new(handle)))),
            // Not an upload (any more): let go of the marker.
            Ok((None, _)) => {
                Box::new(handle).release()?;
                Ok(None)
            }
            // The upload could not be read: give it back rather than hold it for the
            // claim's TTL.
            Err(e) => {
                if let Err(release) = Box::new(handle).release() {
                    tracing::warn!(error = %release, "a claim was not given back");
                }
                Err(e)
            }
        }
    }
}

/// A claimed upload in the backend.
struct RemoteClaim {
    records: Records,
    bucket: String,
    dir: Path,
    /// The fencing token in the marker.
    claim_id: String,
    /// Part bodies a stale claim this one took over had adopted.
    inherited: Vec<String>,
    /// Part bodies the completed object uses; kept by `finish`.
    adopted: Mutex<Vec<String>>,
}

impl RemoteClaim {
    fn marker_path(&self) -> Path {
        self.dir.clone().join("claimed")
    }

    /// Rewrites the marker with `change`, if it is still this claim's; [`fenced`] if not.
    fn edit_marker(&self, change: impl Fn(&mut Marker)) -> Result<(), StoreError> {
        let done = cas(
            &self.records.backend,
            &self.marker_path(),
            |held: Option<Marker>| match held {
                Some(mut marker) if marker.claim_id == self.claim_id => {
                    change(&mut marker);
                    Ok(Some((marker, ())))
                }
                _ => Err(fenced()),
            },
        )?;
        done.ok_or_else(fenced)
    }

    /// The marker, if it is still this claim's.
    fn own_marker(&self) -> Result<Marker, StoreError> {
        match self
            .records
            .backend
            .get_json::<Marker>(&self.marker_path())?
        {
            Some((marker, _)) if marker.claim_id == self.claim_id => Ok(marker),
            _ => Err(fenced()),
        }
    }
}

impl ClaimHandle for RemoteClaim {
    fn open_part(&self, part: &PartRecord) -> Result<StoredBody, StoreError> {
        Ok(self.records.open_body(&self.bucket, &part.body))
    }

    /// Writes the manifest: the object's body is the parts' bodies back to back.
    fn complete(
        &self,
        _store: &dyn Store,
        bucket: &str,
        parts: &[&PartRecord],
        format: BodyFormat,
        meta: ObjectMeta,
    ) -> Result<ObjectRecord, StoreError> {
        let adopted: Vec<String> = parts.iter().map(|p| p.body.file.clone()).collect();
        // A body a stale claim adopted may have been removed since with the object that
        // named it: the upload cannot be completed from it any more.
        for file in adopted.iter().filter(|f| self.inherited.contains(f)) {
            let path = self.records.layout.data(&self.bucket, file);
            if !self.records.backend.exists(&path)? {
                return Err(StoreError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "a part's bytes are gone: an earlier Complete of this upload was \
                     committed and replaced; abort the upload",
                )));
            }
        }
        // Adoption is recorded before any record names the bodies (see the module docs).
        let mut all = self.inherited.clone();
        all.extend(adopted.iter().cloned());
        self.edit_marker(|m| m.adopted = Some(all.clone()))?;
        *self.adopted.lock().unwrap_or_else(|p| p.into_inner()) = adopted;
        let record = ObjectRecord {
            meta,
            body: BodyRef {
                file: String::new(),
                format,
                stored_len: parts.iter().map(|p| p.body.stored_len).sum(),
                segments: parts
                    .iter()
                    .map(|p| BodySegment {
                        file: p.body.file.clone(),
                        stored_len: p.body.stored_len,
                    })
                    .collect(),
            },
        };
        match self.records.swap_object(bucket, &record) {
            Ok(()) => Ok(record),
            // Surely not committed: the parts stay (the upload is given back) and their
            // bodies are adopted by nothing new.
            Err(SwapError {
                error,
                unwritten: true,
            }) => {
                self.adopted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                let inherited = self.inherited.clone();
                self.edit_marker(|m| {
                    m.adopted = (!inherited.is_empty()).then(|| inherited.clone());
                })?;
                Err(error)
            }
            // Maybe committed: the adoption stays recorded (release keeps it).
            Err(SwapError { error, .. }) => Err(error),
        }
    }

    /// Gives the upload back: removes the marker, or, when it records adopted bodies
    /// (a Complete whose outcome is unknown, or inherited), leaves it stale at once so
    /// the upload is live again and the adoption is kept.
    fn release(self: Box<Self>) -> Result<(), StoreError> {
        let marker = self.own_marker()?;
        if marker.adopted().is_empty() {
            self.records.backend.delete(&self.marker_path())
        } else {
            self.edit_marker(|m| m.claimed_ms = 0)
        }
    }

    /// The upload record first (the upload is gone for everyone), then each part record
    /// and the bodies no completed object adopted, the marker last.
    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        let backend = &self.records.backend;
        let marker_path = self.marker_path();
        let mut adopted = self
            .adopted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        adopted.extend(self.own_marker()?.adopted().iter().cloned());
        backend.delete(&self.dir.clone().join("upload"))?;
        let mut records = Vec::new();
        backend.list(&self.dir, None, &mut |p| {
            if p.filename().is_some_and(|n| n.starts_with("part-")) {
                records.push(p.clone());
            }
            Ok(true)
        })?;
        // The upload record is gone: the parts' records and unadopted bodies go all at
        // once (a few at a time), the marker after them.
        let parts = read_records::<PartRecord>(backend, &records)?;
        let mut gone = records.clone();
        gone.extend(
            parts
                .into_iter()
                .flatten()
                .filter(|part| !adopted.contains(&part.body.file))
                .map(|part| self.records.layout.data(&self.bucket, &part.body.file)),
        );
        backend.delete_each(&gone)?;
        backend.delete(&marker_path)
    }
}

/// A part being streamed to the backend.
struct RemotePartWriter {
    uploads: RemoteUploads,
    bucket: String,
    dir: Path,
    number: u32,
    id: String,
    body: BodyUpload,
}

impl ObjectWriter for RemotePartWriter {
    fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        self.body.write(plain)
    }

    fn expect(&mut self, plain_len: u64) {
        self.body.expect(plain_len)
    }

    /// The body's last request, the upload's liveness check and the first read of the
    /// part's record go out together (one round trip), then the record's conditional
    /// write.
    fn commit(mut self: Box<Self>, meta: ObjectMeta) -> Result<ObjectRecord, StoreError> {
        let uploads = self.uploads.clone();
        let path = self.dir.clone().join(format!("part-{:05}", self.number));
        let (finished, (live, current)) = self.body.finish_alongside(futures_util::future::join(
            uploads.check_live(&self.dir),
            uploads.records.backend.fetch_json::<PartRecord>(&path),
        ));
        let (format, stored_len) = finished?;
        let body = BodyRef::one_file(self.id.clone(), format, stored_len);
        let part = PartRecord::committed(self.number, &meta, body.clone());
        let records = &self.uploads.records;
        let data = records.layout.data(&self.bucket, &self.id);
        if live?.is_none() {
            // Nothing names the body yet.
            let _ = records.backend.delete(&data);
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the upload was completed or aborted while the part was written",
            )));
        }
        let replaced = match write_own_from(&records.backend, &path, &part, Some(current)) {
            Ok(replaced) => replaced,
            Err(SwapError { error, unwritten }) => {
                if unwritten {
                    let _ = records.backend.delete(&data);
                }
                return Err(error);
            }
        };
        if let Some(previous) = replaced {
            // A claim made before this record was written may have read the part it
            // replaced and adopted its body; a claim made after reads this one. So the
            // replaced body goes only if no claim exists now (else it is the sweep's).
            match records.backend.get(&self.dir.clone().join("claimed")) {
                Ok(None) => {
                    let old = records.layout.data(&self.bucket, &previous.body.file);
                    if let Err(e) = records.backend.delete(&old) {
                        tracing::warn!(error = %e, "a replaced part body was not removed");
                    }
                }
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(error = %e, "a replaced part body was left"),
            }
        }
        Ok(ObjectRecord { meta, body })
    }
}

/// Backend reads a multipart request makes at once at most (a Complete of many parts reads
/// every part record): a round trip for several, without opening a connection per part.
const READS_AT_ONCE: usize = 16;

/// The JSON records at `paths`, read [`READS_AT_ONCE`] at a time, in `paths`' order
/// (`None` for one gone meanwhile).
fn read_records<T: serde::de::DeserializeOwned>(
    backend: &super::backend::Backend,
    paths: &[Path],
) -> Result<Vec<Option<T>>, StoreError> {
    use futures_util::StreamExt as _;
    let reads = futures_util::stream::iter(paths)
        .map(|path| backend.fetch_json::<T>(path))
        .buffered(READS_AT_ONCE)
        .collect::<Vec<_>>();
    backend
        .wait(reads)
        .into_iter()
        .map(|read| read.map(|found| found.map(|(record, _)| record)))
        .collect()
}
