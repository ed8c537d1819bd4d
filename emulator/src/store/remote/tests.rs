//! The gateway store under faults, step by step: two gateways over one in-memory backend
//! with faults injected ([`super::faults`]), so each race is played in one exact order.

use std::io::Read as _;
use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::PutMode;

use super::backend::Backend;
use super::faults::{Answer, Fault, Faulty, Op};
use super::keys::Layout;
use super::RemoteStore;
use crate::store::multipart::PartRecord;
use crate::store::{
    Acl, BodyFormat, BucketRecord, ObjectMeta, ObjectRecord, PlainCodec, Store, StoreError,
    StoredBody,
};

const BUCKET: &str = "b-1250000000";

/// A runtime, the faulty backend, and two gateways over it.
struct Rig {
    faults: Arc<Faulty>,
    a: RemoteStore,
    b: RemoteStore,
    // Last: the stores' clients run on it.
    _runtime: tokio::runtime::Runtime,
}

fn rig() -> Rig {
    rig_with_workers(1)
}

/// [`rig`] on a runtime of `workers` threads (a held request blocks the thread that runs
/// it: requests meant to run beside a held one need another).
fn rig_with_workers(workers: usize) -> Rig {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    let faults = Arc::new(Faulty::new(Arc::new(InMemory::new())));
    let gateway = || {
        let backend = Backend::new(faults.clone(), runtime.handle().clone());
        RemoteStore::over(backend, Layout::new("gw"))
    };
    let (a, b) = (gateway(), gateway());
    a.create_bucket(BucketRecord {
        name: BUCKET.into(),
        appid: "1250000000".into(),
        region: "ap-beijing".into(),
        created_ms: 0,
        acl: Acl::Private,
        grants: Vec::new(),
        cors: Vec::new(),
        encryption: None,
    })
    .unwrap();
    Rig {
        faults,
        a,
        b,
        _runtime: runtime,
    }
}

fn meta(key: &str, size: u64, write_id: &str) -> ObjectMeta {
    ObjectMeta {
        key: key.into(),
        size,
        etag: String::new(),
        crc64: 0,
        modified_ms: 0,
        content_type: "application/octet-stream".into(),
        headers: Default::default(),
        user_meta: Default::default(),
        storage_class: "STANDARD".into(),
        acl: Acl::Default,
        owner: "1250000000".into(),
        write_id: write_id.into(),
        sse: None,
        grants: Vec::new(),
        mac: String::new(),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Writes `body` at `key` as a request does: in pieces, as they come.
fn put(store: &RemoteStore, key: &str, body: &[u8], write_id: &str) -> Result<(), String> {
    let mut w = store
        .create_object(BUCKET, Box::new(PlainCodec))
        .map_err(|e| e.to_string())?;
    for piece in body.chunks(64 * 1024) {
        w.write(piece).map_err(|e| e.to_string())?;
    }
    w.commit(meta(key, body.len() as u64, write_id))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn put_part(store: &RemoteStore, id: &str, body: &[u8], write_id: &str) -> Result<(), String> {
    let mut w = store
        .uploads()
        .part_writer(BUCKET, id, 1, Box::new(PlainCodec))
        .map_err(|e| e.to_string())?
        .ok_or("no such upload")?;
    w.write(body).map_err(|e| e.to_string())?;
    w.commit(meta("", body.len() as u64, write_id))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The object's bytes read whole, or why they cannot be.
fn read(store: &RemoteStore, key: &str) -> Result<Vec<u8>, String> {
    read_whole(store.open_object(BUCKET, key))
}

/// [`read`] as the bucket's owner reads (the read hints used).
fn read_as_owner(store: &RemoteStore, key: &str) -> Result<Vec<u8>, String> {
    read_whole(store.open_object_for_owner(BUCKET, key, Box::new(|_| None)))
}

/// An opened object's bytes read whole, or why they cannot be.
fn read_whole(
    opened: Result<Option<(ObjectRecord, StoredBody)>, StoreError>,
) -> Result<Vec<u8>, String> {
    let (_, mut body) = opened.map_err(|e| e.to_string())?.ok_or("no such object")?;
    let mut got = Vec::new();
    body.read_to_end(&mut got).map_err(|e| e.to_string())?;
    Ok(got)
}

/// Makes the upload's claim stale, as if its gateway had died `CLAIM_TTL_MS` ago.
fn make_claim_stale(store: &RemoteStore, id: &str) {
    let backend = &store.records.backend;
    let path = store.records.layout.upload(BUCKET, id).join("claimed");
    let (mut marker, _) = backend
        .get_json::<serde_json::Value>(&path)
        .unwrap()
        .expect("a claim marker");
    marker["claimed_ms"] = 0.into();
    backend
        .put_json(&path, &marker, PutMode::Overwrite)
        .unwrap();
}

#[test]
fn a_part_re_upload_racing_complete_leaves_the_completed_object_whole() {
    let rig = rig();
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    let old = pattern(100 * 1024, 1);
    put_part(&rig.a, &id, &old, "part-old").unwrap();

    // Gateway B re-uploads part 1; its part record write is held after the upload was
    // checked open, while gateway A completes the upload with the old part 1.
    let gate = rig.faults.hold(Op::Put, "/part-00001");
    let new = pattern(90 * 1024, 2);
    let reupload = std::thread::scope(|s| {
        let b = &rig.b;
        let writer = s.spawn(|| put_part(b, &id, &new, "part-new"));
        gate.wait_arrived();
        let claim = rig
            .a
            .uploads()
            .claim(BUCKET, &id)
            .unwrap()
            .expect("claimed");
        let parts: Vec<&PartRecord> = claim.parts.iter().collect();
        claim
            .complete(
                &rig.a,
                BUCKET,
                &parts,
                BodyFormat::Plain,
                meta("mp", old.len() as u64, "complete"),
            )
            .unwrap();
        gate.release();
        let reupload = writer.join().unwrap();
        claim.finish().unwrap();
        reupload
    });
    // Whether the late part is acknowledged or refused, the completed object is whole.
    let _ = reupload;
    assert_eq!(read(&rig.a, "mp").map(|b| b == old), Ok(true));
    assert_eq!(read(&rig.b, "mp").map(|b| b.len()), Ok(old.len()));
}

#[test]
fn a_write_whose_retry_answers_412_after_it_landed_keeps_its_body() {
    let rig = rig();
    put(&rig.a, "k", &pattern(10_000, 1), "w-old").unwrap();
    // The record write lands, but the answer is a 412 (object_store retried it).
    rig.faults.on(
        Op::Put,
        "/objects/",
        Fault::LandThenFail(Answer::Precondition),
    );
    let body = pattern(20_000, 2);
    assert_eq!(put(&rig.a, "k", &body, "w-new"), Ok(()));
    assert_eq!(read(&rig.a, "k").map(|b| b == body), Ok(true));
    assert_eq!(read(&rig.b, "k").map(|b| b == body), Ok(true));
}

#[test]
fn a_write_answered_5xx_after_it_landed_is_committed_with_its_body() {
    let rig = rig();
    // A new key, and an overwrite: each record write lands, then the backend says 503.
    for (key, old) in [("new", None), ("over", Some(pattern(5_000, 3)))] {
        if let Some(old) = &old {
            put(&rig.a, key, old, "w-old").unwrap();
        }
        rig.faults.on(
            Op::Put,
            "/objects/",
            Fault::LandThenFail(Answer::ServerError),
        );
        let body = pattern(30_000, 4);
        assert_eq!(
            put(&rig.a, key, &body, &format!("w-{key}")),
            Ok(()),
            "{key}"
        );
        assert_eq!(read(&rig.b, key).map(|b| b == body), Ok(true), "{key}");
    }
}

#[test]
fn an_upload_a_crash_left_after_complete_can_be_aborted_and_the_object_stays_whole() {
    let rig = rig();
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    let body = pattern(64 * 1024, 5);
    put_part(&rig.a, &id, &body, "part").unwrap();
    let claim = rig.a.uploads().claim(BUCKET, &id).unwrap().unwrap();
    let parts: Vec<&PartRecord> = claim.parts.iter().collect();
    claim
        .complete(
            &rig.a,
            BUCKET,
            &parts,
            BodyFormat::Plain,
            meta("mp", body.len() as u64, "complete"),
        )
        .unwrap();
    // The gateway dies before finishing: the claim is never finished nor released.
    drop(claim);
    assert!(
        rig.b.uploads().claim(BUCKET, &id).unwrap().is_none(),
        "held while fresh"
    );
    make_claim_stale(&rig.a, &id);
    assert!(
        rig.b.uploads().abort(BUCKET, &id).unwrap(),
        "a stale claim is taken over and the upload aborted"
    );
    assert!(rig.b.uploads().list(BUCKET).unwrap().is_empty());
    assert_eq!(read(&rig.b, "mp").map(|b| b == body), Ok(true));
}

#[test]
fn a_claim_taken_over_is_fenced_off() {
    let rig = rig();
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    put_part(&rig.a, &id, &pattern(1000, 6), "part").unwrap();
    let first = rig.a.uploads().claim(BUCKET, &id).unwrap().unwrap();
    make_claim_stale(&rig.a, &id);
    let second = rig
        .b
        .uploads()
        .claim(BUCKET, &id)
        .unwrap()
        .expect("taken over");
    // The first claim's gateway wakes up: it may not finish (remove) the upload.
    assert!(first.finish().is_err());
    assert_eq!(rig.b.uploads().parts(BUCKET, &id).unwrap().len(), 1);
    second.release().unwrap();
    assert_eq!(rig.a.uploads().list(BUCKET).unwrap().len(), 1);
}

/// How many body objects the backend holds.
fn bodies(store: &RemoteStore) -> usize {
    let mut n = 0;
    store
        .records
        .backend
        .list(&store.records.layout.all_data(), None, &mut |_| {
            n += 1;
            Ok(true)
        })
        .unwrap();
    n
}

#[test]
fn the_sweep_removes_only_what_no_record_names() {
    let rig = rig();
    let kept = pattern(3_000, 7);
    put(&rig.a, "kept", &kept, "w-kept").unwrap();
    // An upload in progress (its part body is named by its part record), and one whose
    // Complete's record write failed after landing nothing: its body is nobody's.
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    put_part(&rig.a, &id, &pattern(2_000, 8), "part").unwrap();
    rig.faults
        .on(Op::Put, "/objects/", Fault::FailFirst(Answer::ServerError));
    assert!(put(&rig.a, "lost", &pattern(1_000, 9), "w-lost").is_err());
    assert_eq!(bodies(&rig.a), 3, "the failed write's body is left");

    let report = rig.b.sweep(std::time::Duration::ZERO, false).unwrap();
    assert_eq!((report.bodies, report.bodies_removed), (3, 1), "{report}");
    assert_eq!(bodies(&rig.a), 2);
    assert_eq!(read(&rig.a, "kept").map(|b| b == kept), Ok(true));
    let parts = rig.a.uploads().parts(BUCKET, &id).unwrap();
    assert!(rig.a.records.open_body(BUCKET, &parts[0].body).len() == 2_000);
    assert_eq!(
        rig.b
            .sweep(std::time::Duration::ZERO, false)
            .unwrap()
            .bodies_removed,
        0
    );
}

#[test]
fn a_write_racing_the_sweep_keeps_its_body() {
    let rig = rig();
    // The write's body is in the backend; its record write is held while B sweeps.
    let gate = rig.faults.hold(Op::Put, "/objects/");
    let body = pattern(40_000, 10);
    let (report, written) = std::thread::scope(|s| {
        let a = &rig.a;
        let writer = s.spawn(|| put(a, "k", &body, "w"));
        gate.wait_arrived();
        let report = rig.b.sweep(std::time::Duration::from_secs(60), false);
        gate.release();
        (report.unwrap(), writer.join().unwrap())
    });
    assert_eq!(
        (report.bodies_removed, report.bodies_young),
        (0, 1),
        "{report}"
    );
    assert_eq!(written, Ok(()));
    assert_eq!(read(&rig.b, "k").map(|b| b == body), Ok(true));
}

#[test]
fn a_claim_whose_marker_write_landed_unanswered_is_held_and_given_back() {
    let rig = rig();
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    put_part(&rig.a, &id, &pattern(1000, 11), "part").unwrap();
    rig.faults.on(
        Op::Put,
        "/claimed",
        Fault::LandThenFail(Answer::ServerError),
    );
    let claim = rig
        .a
        .uploads()
        .claim(BUCKET, &id)
        .unwrap()
        .expect("claimed");
    claim.release().unwrap();
    // Not left claimed by nobody until the claim goes stale.
    assert_eq!(rig.b.uploads().list(BUCKET).unwrap().len(), 1);
}

#[test]
fn a_claim_that_cannot_read_its_upload_gives_it_back() {
    let rig = rig();
    let id = rig
        .a
        .uploads()
        .create(BUCKET, meta("mp", 0, "init"), None, 0)
        .unwrap()
        .upload_id;
    rig.faults.on(
        Op::Get,
        &format!("{id}/upload"),
        Fault::FailFirst(Answer::ServerError),
    );
    assert!(rig.a.uploads().claim(BUCKET, &id).is_err());
    // Listed (not held by a claim nobody uses) and can be claimed again at once.
    assert_eq!(rig.b.uploads().list(BUCKET).unwrap().len(), 1);
    assert!(rig.b.uploads().abort(BUCKET, &id).unwrap());
}

/// RANGE through the gateway: a read whose end is planned (`seek_to`, as a Range GET's
/// decoder does) fetches no byte past it, instead of a whole read window.
#[test]
fn a_ranged_read_fetches_no_byte_past_its_end() {
    let rig = rig();
    let body = pattern(9 << 20, 3);
    put(&rig.a, "big", &body, "w1").unwrap();
    let (_, mut stored) = rig.b.open_object(BUCKET, "big").unwrap().unwrap();
    let before = rig.faults.reads("/data/").len();
    let mid = 9 << 19;
    stored.seek_to(mid, 1, "range ends").unwrap();
    let mut byte = [0u8; 1];
    stored.read_exact(&mut byte).unwrap();
    assert_eq!(byte[0], body[mid as usize]);
    drop(stored);
    let reads = rig.faults.reads("/data/");
    assert_eq!(reads[before..], [Some(1)], "one read of the one byte");
}

/// A body of several backend parts read whole through windows fetched ahead comes back
/// byte for byte, each byte fetched once, the first window short (the first bytes go out
/// early).
#[test]
fn a_body_read_whole_through_windows_fetched_ahead_is_every_byte_once() {
    let rig = rig();
    let body = pattern(9 << 20, 5);
    put(&rig.a, "big", &body, "w1").unwrap();
    let before = rig.faults.reads("/data/").len();
    assert_eq!(read(&rig.b, "big").unwrap(), body);
    let reads: Vec<u64> = rig.faults.reads("/data/")[before..]
        .iter()
        .map(|n| n.expect("bounded ranged reads"))
        .collect();
    assert_eq!(reads.iter().sum::<u64>(), body.len() as u64, "{reads:?}");
    assert_eq!(reads[0], super::body::FIRST_WINDOW, "{reads:?}");
    assert!(reads.len() >= 3, "{reads:?}");
}

/// One byte at `at`, read as a Range GET's decoder reads it (the read's end planned), as
/// the bucket's owner reads (the read hints used).
fn read_byte_at(store: &RemoteStore, key: &str, at: u64) -> Result<u8, String> {
    let (_, mut stored) = store
        .open_object_for_owner(BUCKET, key, Box::new(move |_| Some(at..at + 1)))
        .map_err(|e| e.to_string())?
        .ok_or("no such object")?;
    stored
        .seek_to(at, 1, "range ends")
        .map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    stored.read_exact(&mut byte).map_err(|e| e.to_string())?;
    Ok(byte[0])
}

/// How many body reads the backend has seen, once they reach `count` or after `within`.
fn body_reads_reach_within(rig: &Rig, count: usize, within: std::time::Duration) -> usize {
    let deadline = std::time::Instant::now() + within;
    while rig.faults.reads("/data/").len() < count && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    rig.faults.reads("/data/").len()
}

/// [`body_reads_reach_within`] 10 s.
fn body_reads_reach(rig: &Rig, count: usize) -> usize {
    body_reads_reach_within(rig, count, std::time::Duration::from_secs(10))
}

/// Runs `read` on another thread with the next record read held, and tells whether the
/// body was asked for while that record read was out; returns what `read` returned.
fn body_asked_for_alongside_the_record<T: Send + 'static>(
    rig: &Rig,
    read: impl FnOnce() -> T + Send + 'static,
) -> (bool, T) {
    let before = rig.faults.reads("/data/").len();
    let gate = rig.faults.hold(Op::Get, "/objects/");
    let reader = std::thread::spawn(read);
    gate.wait_arrived();
    // A body read asked for alongside comes within milliseconds; 2 s bounds the wait
    // when none comes.
    let within = std::time::Duration::from_secs(2);
    let alongside = body_reads_reach_within(rig, before + 1, within) > before;
    gate.release();
    (alongside, reader.join().unwrap())
}

/// Read hints: a gateway that read a key before asks for the bytes a read of it needs
/// while the record read is still out (one round trip instead of two), and the
/// bytes are the object's.
#[test]
fn a_key_read_before_has_its_body_fetched_alongside_its_record() {
    let rig = rig();
    let body = pattern(3 << 20, 7);
    put(&rig.b, "k", &body, "w1").unwrap();
    let mid = 2 << 20;
    assert_eq!(read_byte_at(&rig.a, "k", mid).unwrap(), body[mid as usize]);
    assert_byte_fetched_alongside_the_record(&rig, "k", &body, mid);
}

/// Reads the byte at `at` of `key` through gateway A as the bucket's owner with the
/// record read held, and asserts that it is the body's, that it was asked for while the
/// record read was out, and that the one byte was the only body read.
fn assert_byte_fetched_alongside_the_record(rig: &Rig, key: &'static str, body: &[u8], at: u64) {
    let before = rig.faults.reads("/data/").len();
    let a = rig.a.clone();
    let (alongside, byte) =
        body_asked_for_alongside_the_record(rig, move || read_byte_at(&a, key, at));
    assert_eq!(byte.unwrap(), body[at as usize]);
    assert!(
        alongside,
        "the byte was not asked for while the record read was out"
    );
    assert_eq!(
        rig.faults.reads("/data/")[before..],
        [Some(1)],
        "one read of the one byte, nothing else fetched"
    );
}

/// The gateway that wrote a version remembers it: its first whole read there fetches
/// the body's first window alongside the record.
#[test]
fn a_key_written_through_a_gateway_is_read_there_in_one_round_trip() {
    let rig = rig();
    let body = pattern(3 << 20, 9);
    put(&rig.a, "k", &body, "w1").unwrap();
    let a = rig.a.clone();
    let (alongside, got) =
        body_asked_for_alongside_the_record(&rig, move || read_as_owner(&a, "k"));
    assert_eq!(got.unwrap(), body);
    assert!(
        alongside,
        "the body was not asked for while the record read was out"
    );
}

/// A Range read of a key written or read whole through the gateway asks for the bytes
/// of its range alongside the record, and for nothing else (not the whole read's first
/// window, which it would drop).
#[test]
fn a_range_of_a_key_read_whole_before_is_fetched_alongside_its_record() {
    let rig = rig();
    let body = pattern(1 << 20, 8);
    put(&rig.b, "k", &body, "w1").unwrap();
    assert_eq!(read_as_owner(&rig.a, "k").unwrap(), body);
    assert_byte_fetched_alongside_the_record(&rig, "k", &body, 1 << 19);
}

/// For any other caller the body is asked for only after the record is read: a request
/// that is then refused must not have made the backend send the object's bytes.
#[test]
fn only_the_owners_reads_fetch_a_body_before_the_record_is_read() {
    let rig = rig();
    let body = pattern(3 << 20, 9);
    put(&rig.a, "k", &body, "w1").unwrap();
    assert_eq!(read_as_owner(&rig.a, "k").unwrap(), body);
    let a = rig.a.clone();
    let (alongside, got) = body_asked_for_alongside_the_record(&rig, move || read(&a, "k"));
    assert_eq!(got.unwrap(), body);
    assert!(
        !alongside,
        "the body was asked for before the record was read"
    );
}

/// A remembered window is used only when the record read in the same request names the
/// same body: after another gateway replaced the object, the next read is the new
/// version (the remembered body is gone, and its window is dropped).
#[test]
fn a_read_hint_never_serves_a_replaced_version() {
    let rig = rig();
    let old = pattern(200_000, 1);
    let new = pattern(200_000, 2);
    put(&rig.a, "k", &old, "w1").unwrap();
    assert_eq!(read_as_owner(&rig.a, "k").unwrap(), old);
    put(&rig.b, "k", &new, "w2").unwrap();
    assert_eq!(read_as_owner(&rig.a, "k").unwrap(), new);
    assert_eq!(read_byte_at(&rig.a, "k", 1000).unwrap(), new[1000]);
    rig.b.delete_object(BUCKET, "k").unwrap();
    assert_eq!(read_as_owner(&rig.a, "k").unwrap_err(), "no such object");
}

/// While the client takes one window, the next two are fetched: the backend serves
/// them at once instead of one after the other, and no more are asked for.
#[test]
fn a_reader_fetches_two_windows_ahead_of_the_client_and_no_more() {
    let rig = rig();
    let body = pattern(20 << 20, 4);
    put(&rig.a, "big", &body, "w1").unwrap();
    let (_, mut stored) = rig.b.open_object(BUCKET, "big").unwrap().unwrap();
    let before = rig.faults.reads("/data/").len();
    let mut byte = [0u8; 1];
    stored.read_exact(&mut byte).unwrap();
    assert_eq!(byte[0], body[0]);
    body_reads_reach(&rig, before + 3);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let reads = rig.faults.reads("/data/")[before..].to_vec();
    assert_eq!(reads.len(), 3, "the first window and two ahead: {reads:?}");
    drop(stored);
}

/// The windows after the first are asked for together with it, not after it arrives.
#[test]
fn a_reader_asks_for_the_windows_ahead_with_the_first() {
    let rig = rig_with_workers(4);
    let body = pattern(20 << 20, 6);
    put(&rig.a, "big", &body, "w1").unwrap();
    let (_, mut stored) = rig.b.open_object(BUCKET, "big").unwrap().unwrap();
    let before = rig.faults.reads("/data/").len();
    let gate = rig.faults.hold(Op::Get, "/data/");
    let reader = std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        stored.read_exact(&mut byte).map(|()| byte[0])
    });
    gate.wait_arrived();
    let asked_while_held = body_reads_reach(&rig, before + 3) - before;
    gate.release();
    assert_eq!(reader.join().unwrap().unwrap(), body[0]);
    assert_eq!(
        asked_while_held, 3,
        "the first window and the two after it at once"
    );
}

/// Runs `change` (which leaves a body nobody names) with the removal of that body held:
/// it answers first, the body goes once the removal is let through, and a reader sees
/// `expected` meanwhile.
fn removed_after_the_answer(
    rig: &Rig,
    change: impl FnOnce() -> Result<(), String> + Send,
    expected: Result<Vec<u8>, String>,
) {
    /// Lets the held removal go even when an assertion fails (a held request blocks a
    /// runtime thread, and the runtime's drop would wait for it).
    struct ReleaseOnDrop(Arc<super::faults::Gate>);
    impl Drop for ReleaseOnDrop {
        fn drop(&mut self) {
            self.0.release();
        }
    }
    std::thread::scope(|s| {
        let gate = ReleaseOnDrop(rig.faults.hold(Op::Delete, "/data/"));
        let answer = s.spawn(change);
        gate.0.wait_arrived();
        let waited = std::time::Instant::now();
        while !answer.is_finished() && waited.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(answer.is_finished(), "the answer waited for the removal");
        assert_eq!(answer.join().unwrap(), Ok(()));
        assert_eq!(bodies(&rig.a), 2, "the old body is there until its removal");
        assert_eq!(read(&rig.b, "k"), expected);
        drop(gate);
        rig.a.settle();
        assert_eq!(bodies(&rig.a), 1, "removed once let through");
    });
}

#[test]
fn an_overwrite_answers_before_the_body_it_replaced_is_removed() {
    let rig = rig_with_workers(2);
    put(&rig.a, "k", &pattern(3_000, 1), "w1").unwrap();
    let newer = pattern(4_000, 2);
    removed_after_the_answer(&rig, || put(&rig.a, "k", &newer, "w2"), Ok(newer.clone()));
}

#[test]
fn a_delete_answers_before_the_body_is_removed() {
    let rig = rig_with_workers(2);
    put(&rig.a, "k", &pattern(3_000, 1), "w1").unwrap();
    put(&rig.a, "other", &pattern(1_000, 3), "w-other").unwrap();
    removed_after_the_answer(
        &rig,
        || match rig.a.delete_object(BUCKET, "k") {
            Ok(true) => Ok(()),
            other => Err(format!("{other:?}")),
        },
        Err("no such object".into()),
    );
}

#[test]
fn a_body_declared_large_has_its_multipart_upload_created_before_its_first_part_is_in() {
    let rig = rig_with_workers(2);
    let created = rig.faults.hold(Op::CreateUpload, "/data/");
    let mut w = rig.a.create_object(BUCKET, Box::new(PlainCodec)).unwrap();
    w.expect(super::body::UPLOAD_PART as u64 + 1);
    let early = created.arrived_within(std::time::Duration::from_secs(5));
    created.release();
    assert!(early, "no upload created before the first byte was written");
    let body = pattern(super::body::UPLOAD_PART + 1, 4);
    w.write(&body).unwrap();
    w.commit(meta("big", body.len() as u64, "w-big")).unwrap();
    assert_eq!(read(&rig.b, "big").map(|b| b == body), Ok(true));
}

#[test]
fn a_body_declared_small_is_one_put() {
    let rig = rig();
    let created = rig.faults.hold(Op::CreateUpload, "/data/");
    let body = pattern(super::body::UPLOAD_PART - 1, 5);
    let mut w = rig.a.create_object(BUCKET, Box::new(PlainCodec)).unwrap();
    w.expect(body.len() as u64);
    w.write(&body).unwrap();
    w.commit(meta("small", body.len() as u64, "w-small"))
        .unwrap();
    let created_any = created.arrived_within(std::time::Duration::ZERO);
    created.release();
    assert!(
        !created_any,
        "a multipart upload was created for a one-part body"
    );
    assert_eq!(read(&rig.b, "small").map(|b| b == body), Ok(true));
}

#[test]
fn the_last_part_is_sent_beside_the_part_in_flight() {
    let rig = rig_with_workers(4);
    let first = rig.faults.hold(Op::Part, "/data/");
    let last = rig.faults.hold(Op::Part, "/data/");
    let body = pattern(super::body::UPLOAD_PART + 300_000, 6);
    let (beside, written) = std::thread::scope(|s| {
        let writer = s.spawn(|| put(&rig.a, "mp", &body, "w-mp"));
        first.wait_arrived();
        let beside = last.arrived_within(std::time::Duration::from_secs(5));
        first.release();
        last.release();
        (beside, writer.join().unwrap())
    });
    assert!(beside, "the last part waited for the one before it");
    assert_eq!(written, Ok(()));
    assert_eq!(read(&rig.b, "mp").map(|b| b == body), Ok(true));
}

#[test]
fn a_window_is_handed_over_as_its_bytes_arrive() {
    let rig = rig_with_workers(4);
    let body = pattern(3 << 20, 7);
    put(&rig.a, "k", &body, "w1").unwrap();
    let (_, mut stored) = rig.b.open_object(BUCKET, "k").unwrap().unwrap();
    // The first window's read answers half its bytes, then waits.
    let gate = rig.faults.hold_midway(Op::Get, "/data/");
    let (first, rest) = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut first = vec![0u8; 4096];
            let got = stored.read_exact(&mut first).map(|()| first);
            (got, stored)
        });
        let waited = std::time::Instant::now();
        while !reader.is_finished() && waited.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let handed_early = reader.is_finished();
        gate.release();
        let (first, mut stored) = reader.join().unwrap();
        assert!(handed_early, "the first bytes waited for the whole window");
        let mut rest = Vec::new();
        stored.read_to_end(&mut rest).unwrap();
        (first.unwrap(), rest)
    });
    assert_eq!([first, rest].concat(), body);
}

#[test]
fn a_read_cut_off_midway_goes_on_from_the_first_byte_not_handed_over() {
    let rig = rig_with_workers(2);
    let body = pattern(3 << 20, 8);
    put(&rig.a, "k", &body, "w1").unwrap();
    let before = rig.faults.reads("/data/").len();
    rig.faults.on(Op::Get, "/data/", Fault::CutMidway);
    assert_eq!(read(&rig.b, "k").map(|b| b == body), Ok(true));
    let reads = rig.faults.reads("/data/")[before..].to_vec();
    let first = reads[0].expect("a bounded first window");
    assert!(
        reads.contains(&Some(first - first / 2)),
        "no read asked again for the rest of the cut window ({first} bytes): {reads:?}"
    );
}
