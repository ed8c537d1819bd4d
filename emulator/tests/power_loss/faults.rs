//! Disk faults injected through the test layer: a full disk, EIO on write, fsync and read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cos_emulator::store::fs_trace::{Fault, FaultOn, Op, TraceFs, EIO, ENOSPC};
use cos_emulator::store::multipart::PartRecord;
use cos_emulator::store::parts::PartLayout;
use cos_emulator::store::{BodyFormat, LocalStore, PlainCodec, Store, StoreError};
use cos_emulator_crypto::Keys;

use crate::common;
use crate::crash_states::Allowed;
use crate::objects::*;

/// A store over a fault-injecting layer, with "k" (300 kB) and "other" written.
fn faulty_store() -> (tempfile::TempDir, PathBuf, TraceFs, LocalStore, Keys) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    let fs = TraceFs::new();
    let store = LocalStore::open_with(&root, Arc::new(fs.clone())).unwrap();
    store.create_bucket(bucket()).unwrap();
    put_plain(&store, "k", &pattern(300_000, 1)).unwrap();
    put_plain(&store, "other", &pattern(5_000, 3)).unwrap();
    (dir, root, fs, store, Keys::in_memory().unwrap())
}

/// How many calls of kind `on` `op` makes when nothing fails.
fn calls(on: FaultOn, op: &dyn Fn(&dyn Store) -> Result<(), StoreError>) -> u64 {
    let (_dir, _root, fs, store, _) = faulty_store();
    fs.record();
    op(&store).unwrap();
    let trace = fs.take();
    let n = trace
        .iter()
        .filter(|o| match on {
            FaultOn::Write => matches!(o, Op::Write { .. }),
            FaultOn::Sync => matches!(o, Op::SyncFile { .. } | Op::SyncDir { .. }),
            FaultOn::Entry => matches!(o, Op::Create { .. } | Op::Mkdir { .. } | Op::Rename { .. }),
            FaultOn::Read => false,
        })
        .count();
    u64::try_from(n).unwrap()
}

/// What a failed write must leave: no temporary file, every body in `data/` named by a
/// record (also after a restart's recovery), "other" untouched, and `key` reading whole
/// as one of `allowed`.
fn assert_clean(
    root: &Path,
    store: &LocalStore,
    keys: &Keys,
    key: &str,
    allowed: &Allowed,
    at: &str,
) {
    let count = |d: &Path| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    assert_eq!(
        count(&root.join("tmp")),
        0,
        "{at}: a temporary file is left"
    );
    let got = read_object(store, keys, key).unwrap_or_else(|e| panic!("{at}: {key} is torn: {e}"));
    assert!(
        allowed.contains(&got),
        "{at}: {key} reads as {:?} bytes",
        got.map(|g| g.len())
    );
    assert_eq!(
        read_object(store, keys, "other").unwrap(),
        Some(pattern(5_000, 3)),
        "{at}"
    );
    let listed = store.list_keys(BUCKET, "", "", 10).unwrap();
    let bodies = count(&root.join("buckets").join(BUCKET).join("data"));
    assert!(
        bodies == listed.len() || bodies == listed.len() + 1,
        "{at}: {bodies} bodies for {} objects",
        listed.len()
    );
    let reopened = LocalStore::open(root).unwrap_or_else(|e| panic!("{at}: no reopen: {e}"));
    let again = read_object(&reopened, keys, key).unwrap_or_else(|e| panic!("{at}: {e}"));
    assert!(allowed.contains(&again), "{at}: after reopening");
    assert_eq!(
        count(&root.join("buckets").join(BUCKET).join("data")),
        listed.len(),
        "{at}: recovery leaves only named bodies"
    );
}

/// A full disk (ENOSPC: from then on) or EIO (once) at any write, and a full disk at any
/// new directory entry (create, rename) of a PUT over an existing key: the PUT fails with
/// the OS error, the old version reads whole, nothing is left behind, and once the fault
/// is gone the same PUT succeeds.
#[test]
fn a_full_disk_or_eio_at_any_write_of_a_put_keeps_the_old_version() {
    let old = pattern(300_000, 1);
    let new = pattern(330_000, 2);
    let put_new = |st: &dyn Store| put_plain(st, "k", &new);
    for (on, errno, sticky) in [
        (FaultOn::Write, ENOSPC, true),
        (FaultOn::Write, EIO, false),
        (FaultOn::Entry, ENOSPC, true),
    ] {
        let n = calls(on, &put_new);
        assert!(n >= 3, "{on:?}: {n}");
        for after in 0..n {
            let (_dir, root, fs, store, keys) = faulty_store();
            fs.inject(Fault {
                on,
                after,
                errno,
                sticky,
            });
            let at = format!("errno {errno} at {on:?} {after}/{n}");
            let err = put_new(&store).expect_err("the disk fails");
            assert!(
                matches!(&err, StoreError::Io(e) if e.raw_os_error() == Some(errno)),
                "{at}: {err:?}"
            );
            assert_clean(&root, &store, &keys, "k", &vec![Some(old.clone())], &at);
            fs.clear_faults();
            put_new(&store).unwrap();
            assert_eq!(
                read_object(&store, &keys, "k").unwrap(),
                Some(new.clone()),
                "{at}"
            );
        }
        println!("errno {errno} at each of {n} {on:?} calls of a PUT: old version kept");
    }
}

/// EIO from any fsync (file or directory) of a PUT over an existing key: the PUT fails,
/// the key reads whole as the old or the new version (the one failed fsync may come after
/// the record's rename), nothing is left behind, and the store works on.
#[test]
fn an_eio_at_any_fsync_of_a_put_never_tears_the_key() {
    let old = pattern(300_000, 1);
    let new = pattern(330_000, 2);
    let put_new = |st: &dyn Store| put_plain(st, "k", &new);
    let syncs = calls(FaultOn::Sync, &put_new);
    assert!(syncs >= 4, "body, data/, record, objects/: {syncs}");
    for after in 0..syncs {
        let (_dir, root, fs, store, keys) = faulty_store();
        fs.inject(Fault {
            on: FaultOn::Sync,
            after,
            errno: EIO,
            sticky: false,
        });
        let err = put_new(&store).expect_err("the fsync fails");
        assert!(
            matches!(&err, StoreError::Io(e) if e.raw_os_error() == Some(EIO)),
            "fsync {after}: {err:?}"
        );
        let at = format!("EIO at fsync {after}/{syncs}");
        let allowed = vec![Some(old.clone()), Some(new.clone())];
        assert_clean(&root, &store, &keys, "k", &allowed, &at);
        put_plain(&store, "k", &old).unwrap();
        assert_eq!(
            read_object(&store, &keys, "k").unwrap(),
            Some(old.clone()),
            "{at}"
        );
    }
}

/// EIO on read: a GET's record read or body read fails with the OS error (no panic, no
/// partial success), and reads work again once the fault is gone.
#[test]
fn an_eio_on_read_fails_the_read_and_then_clears() {
    let (_dir, _root, fs, store, keys) = faulty_store();
    for after in 0..3 {
        fs.inject(Fault {
            on: FaultOn::Read,
            after,
            errno: EIO,
            sticky: true,
        });
        let err = read_object(&store, &keys, "k").expect_err("the disk fails");
        assert!(err.contains("Input/output error"), "read {after}: {err}");
        fs.clear_faults();
        assert_eq!(
            read_object(&store, &keys, "k").unwrap(),
            Some(pattern(300_000, 1))
        );
    }
}

/// A full disk at any write of a Complete: it fails, the upload's parts and the old
/// object stay whole, nothing is left behind, and once space is freed the upload
/// completes.
#[test]
fn a_full_disk_during_multipart_keeps_parts_and_object_whole() {
    let (p1, p2) = (pattern(150_000, 5), pattern(120_000, 6));
    let joined = [p1.clone(), p2.clone()].concat();
    let (_d, _r, fs, store, _) = faulty_store();
    let id = initiate(&store, "k", &[&p1, &p2]);
    fs.record();
    complete(&store, "k", &id).unwrap();
    let writes = fs
        .take()
        .iter()
        .filter(|o| matches!(o, Op::Write { .. }))
        .count() as u64;
    for after in 0..writes {
        let (_dir, root, fs, store, keys) = faulty_store();
        let id = initiate(&store, "k", &[&p1, &p2]);
        fs.inject(Fault {
            on: FaultOn::Write,
            after,
            errno: ENOSPC,
            sticky: true,
        });
        let claim = store.uploads().claim(BUCKET, &id).unwrap().unwrap();
        let parts: Vec<&PartRecord> = claim.parts.iter().collect();
        let layout = parts
            .iter()
            .map(|p| PartLayout {
                size: p.size,
                stored_len: p.body.stored_len,
                write_id: p.write_id.clone(),
                sse: None,
            })
            .collect();
        let mut m = meta("k", &joined, "w-complete");
        m.size = joined.len() as u64;
        let format = BodyFormat::Parts { parts: layout };
        assert!(claim.complete(&store, BUCKET, &parts, format, m).is_err());
        // As the operation does on a failed Complete: the upload is given back.
        claim.release().unwrap();
        let at = format!("ENOSPC at write {after}/{writes} of Complete");
        assert_clean(
            &root,
            &store,
            &keys,
            "k",
            &vec![Some(pattern(300_000, 1))],
            &at,
        );
        fs.clear_faults();
        assert_eq!(store.uploads().parts(BUCKET, &id).unwrap().len(), 2, "{at}");
        complete(&store, "k", &id).unwrap();
        assert_eq!(
            read_object(&store, &keys, "k").unwrap(),
            Some(joined.clone()),
            "{at}"
        );
    }
}

/// EIO from any fsync of an Upload Part replacing a part: the upload fails, the part
/// reads whole as its old or its new bytes, and the upload still completes.
#[test]
fn an_eio_at_any_fsync_of_an_upload_part_never_tears_the_part() {
    let (old, new, p2) = (pattern(150_000, 5), pattern(140_000, 7), pattern(9, 6));
    let upload_part = |st: &dyn Store, id: &str| {
        let mut w = st
            .uploads()
            .part_writer(BUCKET, id, 1, Box::new(PlainCodec))?
            .ok_or_else(|| std::io::Error::other("no upload"))?;
        w.write(&new)?;
        w.commit(meta("k", &new, "part-1-new")).map(|_| ())
    };
    let syncs = {
        let (_d, _r, fs, store, _) = faulty_store();
        let id = initiate(&store, "k", &[&old, &p2]);
        fs.record();
        upload_part(&store, &id).unwrap();
        fs.take()
            .iter()
            .filter(|o| matches!(o, Op::SyncFile { .. } | Op::SyncDir { .. }))
            .count() as u64
    };
    for after in 0..syncs {
        let (_dir, _root, fs, store, keys) = faulty_store();
        let id = initiate(&store, "k", &[&old, &p2]);
        fs.inject(Fault {
            on: FaultOn::Sync,
            after,
            errno: EIO,
            sticky: false,
        });
        assert!(upload_part(&store, &id).is_err(), "fsync {after}");
        fs.clear_faults();
        complete(&store, "k", &id).unwrap_or_else(|e| panic!("fsync {after}/{syncs}: {e}"));
        let got = read_object(&store, &keys, "k").unwrap().unwrap();
        assert!(
            got == [old.clone(), p2.clone()].concat() || got == [new.clone(), p2.clone()].concat(),
            "fsync {after}/{syncs}: part 1 is torn"
        );
    }
}

/// EIO from the fsync that makes a delete durable: the delete fails, and the key is
/// listed exactly when it reads (the record is gone, so it is not listed).
#[test]
fn an_eio_at_the_fsync_of_a_delete_unlists_the_key() {
    let (_dir, root, fs, store, keys) = faulty_store();
    fs.inject(Fault {
        on: FaultOn::Sync,
        after: 0,
        errno: EIO,
        sticky: false,
    });
    assert!(store.delete_object(BUCKET, "k").is_err());
    fs.clear_faults();
    let readable = read_object(&store, &keys, "k").unwrap().is_some();
    let listed = store.list_keys(BUCKET, "", "", 10).unwrap();
    assert_eq!(listed.contains(&"k".to_string()), readable, "{listed:?}");
    assert_clean(
        &root,
        &store,
        &keys,
        "k",
        &vec![None],
        "EIO at a delete's fsync",
    );
}

/// Over HTTP: a PUT on a full disk answers 500 InternalError (the store's I/O failure, as
/// every store failure without a COS code of its own), the old version still reads whole
/// and nothing is left in `tmp/`; an EIO reading the record or opening the body answers
/// 500 InternalError, one while the body streams cuts the response short; once the disk is
/// back both work.
#[tokio::test]
async fn over_http_a_full_disk_and_a_read_error_answer_internal_error() {
    let fs = TraceFs::new();
    let layer = fs.clone();
    let s = common::Server::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.local_fs = Some(Arc::new(layer));
    })
    .await;
    let b = s.bucket("full").await;
    let (old, new) = (pattern(300_000, 1), pattern(330_000, 2));
    s.put(&b, "k", &old).await;
    let get = || common::Req::new("GET", &b, "k");

    fs.inject(Fault {
        on: FaultOn::Write,
        after: 0,
        errno: ENOSPC,
        sticky: true,
    });
    let r = s.send(&common::Req::new("PUT", &b, "k").body(&new)).await;
    r.assert_error(500, "InternalError");
    // The cause goes to the log; the client gets COS's generic 500 message.
    assert!(!r.text().contains("No space left"), "{}", r.text());
    let r = s.send(&get()).await;
    assert_eq!(
        (r.status, r.body == old),
        (200, true),
        "the old version reads whole"
    );
    let tmp = std::fs::read_dir(s.dir.path().join("tmp")).unwrap().count();
    assert_eq!(tmp, 0, "nothing left in tmp/");
    fs.clear_faults();
    s.put(&b, "k", &new).await;
    assert_eq!(s.send(&get()).await.body, new);

    fs.inject(Fault {
        on: FaultOn::Read,
        after: 0,
        errno: EIO,
        sticky: true,
    });
    s.send(&get()).await.assert_error(500, "InternalError");
    fs.clear_faults();
    assert_eq!(s.send(&get()).await.body, new);

    // The record and the body opened, then a body read fails: the 200 head is out, so the
    // connection is cut (as for a tampered body) and the client gets fewer bytes than its
    // Content-Length, never bytes passed off as the object.
    let mut cut = 0;
    for after in 2..5 {
        fs.inject(Fault {
            on: FaultOn::Read,
            after,
            errno: EIO,
            sticky: true,
        });
        let r = s.send(&get()).await;
        fs.clear_faults();
        if r.status == 500 {
            r.assert_error(500, "InternalError");
            continue;
        }
        assert_eq!(r.status, 200, "read {after}: {}", r.text());
        let len: usize = r.header("Content-Length").unwrap().parse().unwrap();
        assert_eq!(len, new.len());
        assert!(r.body.len() < len, "read {after}: the stream was cut");
        assert_eq!(
            r.body,
            new[..r.body.len()],
            "read {after}: the bytes before the cut"
        );
        cut += 1;
    }
    assert!(cut > 0, "no read failed while the body streamed");
    s.stop().await;
}
