//! The garbage sweep of a gateway store: removes the body objects no record names (a
//! replaced or deleted version whose removal failed or was left on purpose, a write whose
//! outcome was unknown, a gateway killed between its body and its record), the leftovers
//! of uploads that were finished while a late part slipped in, and stale claims that
//! adopted nothing. `cos-emulator gc` runs it once; each gateway runs it in the
//! background ([`SweepConfig`]).
//!
//! Safe against writes in progress: the bodies are listed *before* any record is read,
//! so a body written after the listing is never a candidate, and a body is removed only
//! once older than the grace period, which must exceed the longest time from a body's
//! last change in the backend to the write of the record naming it (a few backend
//! requests, each bounded by the backend limits). A record that does not parse stops
//! the sweep: what it names is unknown.
//!
//! Last, the backend's incomplete multipart uploads under the store's prefix (a large
//! body cut short by a crash, `incomplete.rs`) are aborted once their newest part is older
//! than the grace period. A body upload in progress adds a part at least every
//! `UPLOAD_PART` bytes and its client is cut off after `--body-progress-timeout` without
//! progress; an upload aborted under a pathologically slow client fails that client's
//! PUT, which was never acknowledged, so no acknowledged byte is lost either way.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use object_store::path::Path;

use super::uploads::{now_ms, Marker};
use super::Records;
use crate::store::multipart::PartRecord;
use crate::store::{ObjectRecord, StoreError};

/// What one sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Body objects listed.
    pub bodies: usize,
    /// Unreferenced body objects removed (or, in a dry run, that would be).
    pub bodies_removed: usize,
    /// Unreferenced body objects kept because they are younger than the grace period.
    pub bodies_young: usize,
    /// Leftover directories of finished uploads removed.
    pub uploads_removed: usize,
    /// Stale claims that adopted nothing, removed.
    pub claims_removed: usize,
    /// Incomplete backend multipart uploads listed; `None`: the backend cannot be listed
    /// (no static keys).
    pub backend_uploads: Option<usize>,
    /// Abandoned backend multipart uploads aborted (or, in a dry run, that would be).
    pub backend_uploads_aborted: usize,
    /// Backend multipart uploads kept because their last part is within the grace period.
    pub backend_uploads_young: usize,
}

impl std::fmt::Display for SweepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "bodies {} (unreferenced: {} removed, {} within the grace period), \
             finished-upload leftovers removed {}, stale claims removed {}",
            self.bodies,
            self.bodies_removed,
            self.bodies_young,
            self.uploads_removed,
            self.claims_removed
        )?;
        match self.backend_uploads {
            Some(listed) => write!(
                f,
                ", backend multipart uploads {listed} (abandoned: {} aborted, {} within the grace period)",
                self.backend_uploads_aborted, self.backend_uploads_young
            ),
            None => write!(
                f,
                ", backend multipart uploads not listed (the backend has no static keys to sign with)"
            ),
        }
    }
}

/// When a gateway sweeps in the background, as store options `sweep_interval` (`off`
/// disables) and `sweep_grace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// Time between sweeps; `None`: no background sweep.
    pub interval: Option<Duration>,
    /// Only what is older than this is removed.
    pub grace: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            interval: Some(Duration::from_secs(3600)),
            grace: Duration::from_secs(3600),
        }
    }
}

impl SweepConfig {
    /// Takes the sweep options out of `options` and applies them over the defaults.
    pub fn take_from(options: &mut Vec<(String, String)>) -> Result<SweepConfig, String> {
        let mut config = SweepConfig::default();
        let mut rest = Vec::new();
        for (key, value) in options.drain(..) {
            let bad = || format!("--store-option {key}={value}: expected a duration such as 1h");
            match key.as_str() {
                "sweep_interval" if value == "off" => config.interval = None,
                "sweep_interval" => {
                    config.interval = Some(
                        super::backend::parse_duration(&value)
                            .filter(|d| !d.is_zero())
                            .ok_or_else(bad)?,
                    );
                }
                "sweep_grace" => {
                    config.grace = super::backend::parse_duration(&value).ok_or_else(bad)?;
                }
                _ => rest.push((key, value)),
            }
        }
        *options = rest;
        Ok(config)
    }
}

/// One upload directory as listed: its files by name, with their last change.
#[derive(Default)]
struct UploadDir {
    files: BTreeMap<String, (Path, i64)>,
}

/// Sweeps the store once; with `dry_run` only counts.
pub fn sweep(records: &Records, grace: Duration, dry_run: bool) -> Result<SweepReport, StoreError> {
    let backend = &records.backend;
    let layout = &records.layout;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let mut report = SweepReport::default();

    // The candidates first: nothing written after this is looked at.
    let mut bodies = Vec::new();
    backend.list_meta(&layout.all_data(), &mut |meta| {
        bodies.push((meta.location.clone(), meta.last_modified.timestamp_millis()));
        Ok(true)
    })?;
    report.bodies = bodies.len();
    let now = now_ms();

    let mut named: HashSet<Path> = HashSet::new();
    // Uploads: part records and adopted bodies name bodies.
    let uploads = layout.all_uploads();
    let mut dirs: BTreeMap<Path, UploadDir> = BTreeMap::new();
    backend.list_meta(&uploads, &mut |meta| {
        let path = &meta.location;
        if let (Some(name), Some(dir)) = (path.filename(), parent(path)) {
            dirs.entry(dir).or_default().files.insert(
                name.to_owned(),
                (path.clone(), meta.last_modified.timestamp_millis()),
            );
        }
        Ok(true)
    })?;
    for (dir, listed) in &dirs {
        let Some(bucket) = layout.bucket_under(&uploads, dir) else {
            continue;
        };
        let finished = !listed.files.contains_key("upload");
        let settled = listed.files.values().all(|(_, at)| now - at >= grace_ms);
        if finished && settled {
            // A finished upload whose late part record (or marker) was left: nothing
            // reaches it any more.
            if !dry_run {
                for (path, _) in listed.files.values() {
                    backend.delete(path)?;
                }
            }
            report.uploads_removed += 1;
            continue;
        }
        for (name, (path, _)) in &listed.files {
            if name.starts_with("part-") {
                if let Some((part, _)) = backend.get_json::<PartRecord>(path)? {
                    named.insert(layout.data(&bucket, &part.body.file));
                }
            } else if name == "claimed" {
                let Some((marker, _)) = backend.get_json::<Marker>(path)? else {
                    continue;
                };
                named.extend(marker.adopted().iter().map(|f| layout.data(&bucket, f)));
                if marker.adopted().is_empty() && !marker.holds(now) && !dry_run {
                    backend.delete(path)?;
                    report.claims_removed += 1;
                }
            }
        }
    }
    // Object records name their bodies.
    let objects = layout.all_objects();
    let mut record_paths = Vec::new();
    backend.list(&objects, None, &mut |path| {
        record_paths.push(path.clone());
        Ok(true)
    })?;
    for path in record_paths {
        let Some(bucket) = layout.bucket_under(&objects, &path) else {
            continue;
        };
        if let Some((record, _)) = backend.get_json::<ObjectRecord>(&path)? {
            named.extend(
                records
                    .segments(&bucket, &record.body)
                    .into_iter()
                    .map(|s| s.path),
            );
        }
    }

    for (path, at) in bodies {
        if named.contains(&path) {
            continue;
        }
        if now - at < grace_ms {
            report.bodies_young += 1;
            continue;
        }
        if !dry_run {
            backend.delete(&path)?;
        }
        report.bodies_removed += 1;
    }

    if let Some(client) = backend.incomplete_uploads() {
        let prefix = format!("{}/", layout.all_data().as_ref());
        let uploads = backend.wait(client.list(&prefix))?;
        report.backend_uploads = Some(uploads.len());
        for upload in uploads {
            let last = backend.wait(client.last_activity_ms(&upload))?;
            if now_ms() - last < grace_ms {
                report.backend_uploads_young += 1;
                continue;
            }
            if !dry_run {
                backend.wait(client.abort(&upload))?;
            }
            report.backend_uploads_aborted += 1;
        }
    }
    Ok(report)
}

/// The directory holding `path`.
fn parent(path: &Path) -> Option<Path> {
    let parts: Vec<_> = path.parts().collect();
    let (_, dir) = parts.split_last()?;
    Some(Path::from_iter(dir.iter().cloned()))
}
