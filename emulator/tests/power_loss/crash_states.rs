//! Each operation run once over the recording layer, then the store reopened on every
//! crash state of its trace and the invariants checked.

use std::collections::{BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use cos_emulator::store::fs_trace::TraceFs;
use cos_emulator::store::{Acl, LocalStore, PlainCodec, Store, StoreError};
use cos_emulator_crypto::Keys;

use crate::model::{crash_states, materialise, to_inodes, Tree};
use crate::objects::*;

/// What a key may read as after a crash: each allowed version (`None`: absent).
pub(crate) type Allowed = Vec<Option<Vec<u8>>>;

/// A scenario's setup, shared between scenarios; returns what the operation needs (an
/// upload id).
type Setup = Arc<dyn Fn(&dyn Store, &Keys) -> String>;
/// A scenario's own setup.
type SetupFn = Box<dyn Fn(&dyn Store, &Keys) -> String>;
/// The operation under test, given the setup's result.
type OpFn = Box<dyn Fn(&dyn Store, &Keys, &str) -> Result<(), StoreError>>;

/// A scenario: its setup (durable before the operation), the operation, and per key what
/// may be read before and after the operation is acknowledged.
struct Scenario {
    name: &'static str,
    setup: SetupFn,
    op: OpFn,
    /// key → (allowed before the acknowledgement, allowed after it).
    expect: Vec<(&'static str, Allowed, Allowed)>,
    /// What is checked of the bucket's multipart uploads.
    uploads: UploadCheck,
}

/// What a scenario checks of the bucket's multipart uploads after a crash.
enum UploadCheck {
    /// Nothing (the operation does not touch them).
    Ignored,
    /// How many uploads may be listed, before and after the acknowledgement (an
    /// acknowledged Complete's upload never comes back; an acknowledged Initiate's stays).
    Count(Vec<usize>, Vec<usize>),
    /// There is one upload, and completing it gives `key` one of these plaintexts before
    /// and after the acknowledgement (an Upload Part's part is whole, old or new).
    Completes(&'static str, Allowed, Allowed),
}

/// Checks one reopened state; the violations found.
fn check_state(root: &Path, keys: &Keys, s: &Scenario, acked: bool) -> Vec<String> {
    let store = match LocalStore::open(root) {
        Ok(store) => store,
        Err(e) => return vec![format!("the store does not open: {e}")],
    };
    let mut bad = Vec::new();
    let listed: BTreeSet<String> = store
        .list_keys(BUCKET, "", "", 1000)
        .map(|l| l.into_iter().collect())
        .unwrap_or_default();
    for (key, before, after) in &s.expect {
        let allowed = if acked { after } else { before };
        match read_object(&store, keys, key) {
            Err(e) => bad.push(format!("{key} is torn: {e}")),
            Ok(got) => {
                if !allowed.contains(&got) {
                    bad.push(format!(
                        "{key} reads as {} bytes, allowed {:?} (acknowledged: {acked})",
                        got.as_ref().map_or(-1, |g| g.len() as i64),
                        allowed
                            .iter()
                            .map(|a| a.as_ref().map_or(-1, |a| a.len() as i64))
                            .collect::<Vec<_>>()
                    ));
                }
                if got.is_some() != listed.contains(*key) {
                    bad.push(format!(
                        "{key}: readable {} but listed {}",
                        got.is_some(),
                        listed.contains(*key)
                    ));
                }
            }
        }
    }
    match &s.uploads {
        UploadCheck::Ignored => {}
        UploadCheck::Count(before, after) => {
            let allowed = if acked { after } else { before };
            match store.uploads().list(BUCKET) {
                Ok(l) if allowed.contains(&l.len()) => {}
                Ok(l) => bad.push(format!("{} upload(s) listed, allowed {allowed:?}", l.len())),
                Err(e) => bad.push(format!("uploads do not list: {e}")),
            }
        }
        UploadCheck::Completes(key, before, after) => {
            let allowed = if acked { after } else { before };
            match store.uploads().list(BUCKET).as_deref() {
                Ok([up]) => match complete(&store, key, &up.upload_id) {
                    Ok(()) => match read_object(&store, keys, key) {
                        Ok(got) if allowed.contains(&got) => {}
                        Ok(got) => bad.push(format!(
                            "the upload completes into {:?} bytes",
                            got.map(|g| g.len())
                        )),
                        Err(e) => bad.push(format!("the completed {key} is torn: {e}")),
                    },
                    Err(e) => bad.push(format!("the upload does not complete: {e}")),
                },
                Ok(l) => bad.push(format!("{} uploads listed, not 1", l.len())),
                Err(e) => bad.push(format!("uploads do not list: {e}")),
            }
        }
    }
    let count = |d: &Path| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    let tmp = count(&root.join("tmp"));
    if tmp != 0 {
        bad.push(format!("{tmp} files left in tmp/ after recovery"));
    }
    let bodies = count(&root.join("buckets").join(BUCKET).join("data"));
    if bodies != listed.len() {
        bad.push(format!(
            "{bodies} body files for {} objects after recovery",
            listed.len()
        ));
    }
    bad
}

/// Runs `s` once over the recording layer, then reopens the store on every crash state of
/// its trace; returns (states checked, violations).
fn run(s: &Scenario) -> (usize, Vec<String>) {
    let keys = Keys::in_memory().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    let fs = TraceFs::new();
    let store = LocalStore::open_with(&root, Arc::new(fs.clone())).unwrap();
    store.create_bucket(bucket()).unwrap();
    let arg = (s.setup)(&store, &keys);
    let base = Tree::snapshot(&root);
    fs.record();
    (s.op)(&store, &keys, &arg).unwrap();
    let trace = fs.take();
    drop(store);
    let (ops, _) = to_inodes(&base, &root, &trace);
    let mut seen = HashSet::new();
    let (mut checked, mut violations) = (0, Vec::new());
    for cut in 0..=ops.len() {
        let acked = cut == ops.len();
        for state in crash_states(&base, &ops, cut) {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&state, acked).hash(&mut h);
            if !seen.insert(h.finish()) {
                continue;
            }
            let at = tempfile::tempdir().unwrap();
            materialise(&state, at.path());
            checked += 1;
            for v in check_state(at.path(), &keys, s, acked) {
                let paths: Vec<_> = state.keys().collect();
                violations.push(format!("cut {cut}/{}: {v}; state {paths:?}", ops.len()));
            }
        }
    }
    (checked, violations)
}

fn scenarios() -> Vec<Scenario> {
    let old = pattern(300_000, 1);
    let new = pattern(330_000, 2);
    let other = pattern(5_000, 3);
    let sse_body = pattern(200_000, 4);
    let p1 = pattern(150_000, 5);
    let p2 = pattern(120_000, 6);
    let joined = [p1.clone(), p2.clone()].concat();
    let p3 = pattern(140_000, 7);
    let rejoined = [p3.clone(), p2.clone()].concat();
    let some = |v: &Vec<u8>| Some(v.clone());
    let (o, n, x) = (old.clone(), new.clone(), other.clone());
    // Two objects, durable before the operation.
    let base: Setup = Arc::new(move |st: &dyn Store, _: &Keys| {
        put_plain(st, "k", &o).unwrap();
        put_plain(st, "other", &x).unwrap();
        String::new()
    });
    let with_base = |b: &Setup| {
        let b = b.clone();
        Box::new(move |st: &dyn Store, k: &Keys| b(st, k)) as SetupFn
    };
    let ko = vec![Some(old.clone())];
    let xo = vec![Some(other.clone())];
    vec![
        Scenario {
            name: "PUT overwrite (plain)",
            setup: with_base(&base),
            op: Box::new(move |st, _, _| put_plain(st, "k", &n)),
            expect: vec![
                ("k", vec![some(&old), some(&new)], vec![some(&new)]),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Ignored,
        },
        Scenario {
            name: "PUT new key (SSE-COS AES256)",
            setup: with_base(&base),
            op: Box::new({
                let b = sse_body.clone();
                move |st, keys, _| put_sse(st, keys, "sse", &b)
            }),
            expect: vec![
                ("sse", vec![None, some(&sse_body)], vec![some(&sse_body)]),
                ("k", ko.clone(), ko.clone()),
            ],
            uploads: UploadCheck::Ignored,
        },
        Scenario {
            name: "PUT overwrite (SSE-COS over plain)",
            setup: with_base(&base),
            op: Box::new({
                let b = sse_body.clone();
                move |st, keys, _| put_sse(st, keys, "k", &b)
            }),
            expect: vec![
                (
                    "k",
                    vec![some(&old), some(&sse_body)],
                    vec![some(&sse_body)],
                ),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Ignored,
        },
        Scenario {
            name: "Complete Multipart Upload",
            setup: Box::new({
                let (b, p1, p2) = (base.clone(), p1.clone(), p2.clone());
                move |st, k| {
                    b(st, k);
                    initiate(st, "k", &[&p1, &p2])
                }
            }),
            op: Box::new(|st, _, id| complete(st, "k", id)),
            expect: vec![
                ("k", vec![some(&old), some(&joined)], vec![some(&joined)]),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Count(vec![0, 1], vec![0]),
        },
        Scenario {
            name: "Complete Multipart Upload (SSE parts)",
            setup: Box::new({
                let (b, p1, p2) = (base.clone(), p1.clone(), p2.clone());
                move |st, k| {
                    b(st, k);
                    initiate_with(st, Some(k), "k", &[&p1, &p2])
                }
            }),
            op: Box::new(|st, _, id| complete(st, "k", id)),
            expect: vec![
                ("k", vec![some(&old), some(&joined)], vec![some(&joined)]),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Count(vec![0, 1], vec![0]),
        },
        Scenario {
            name: "PUT Object ACL (metadata in place)",
            setup: with_base(&base),
            op: Box::new(|st, _, _| {
                st.modify_object(BUCKET, "k", &mut |m| m.acl = Acl::PublicRead)
                    .map(|_| ())
            }),
            expect: vec![
                ("k", ko.clone(), ko.clone()),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Ignored,
        },
        Scenario {
            name: "Initiate Multipart Upload",
            setup: with_base(&base),
            op: Box::new(|st, _, _| {
                st.uploads()
                    .create(BUCKET, meta("k", b"", ""), None, 0)
                    .map(|_| ())
            }),
            expect: vec![("k", ko.clone(), ko.clone())],
            uploads: UploadCheck::Count(vec![0, 1], vec![1]),
        },
        Scenario {
            name: "Upload Part (replacing part 1)",
            setup: Box::new({
                let (b, p1, p2) = (base.clone(), p1.clone(), p2.clone());
                move |st, k| {
                    b(st, k);
                    initiate(st, "k", &[&p1, &p2])
                }
            }),
            op: Box::new({
                let p3 = p3.clone();
                move |st, _, id| {
                    let mut w = st
                        .uploads()
                        .part_writer(BUCKET, id, 1, Box::new(PlainCodec))?
                        .ok_or_else(|| std::io::Error::other("no upload"))?;
                    w.write(&p3)?;
                    w.commit(meta("k", &p3, "part-1-again")).map(|_| ())
                }
            }),
            expect: vec![("other", xo.clone(), xo.clone())],
            uploads: UploadCheck::Completes(
                "k",
                vec![some(&joined), some(&rejoined)],
                vec![some(&rejoined)],
            ),
        },
        Scenario {
            name: "PUT - Copy over an existing key",
            setup: with_base(&base),
            op: Box::new(|st, keys, _| copy(st, keys, "other", "k")),
            expect: vec![
                ("k", vec![some(&old), some(&other)], vec![some(&other)]),
                ("other", xo.clone(), xo.clone()),
            ],
            uploads: UploadCheck::Ignored,
        },
        Scenario {
            name: "DELETE Object",
            setup: with_base(&base),
            op: Box::new(|st, _, _| st.delete_object(BUCKET, "k").map(|_| ())),
            expect: vec![
                ("k", vec![some(&old), None], vec![None]),
                ("other", xo.clone(), xo),
            ],
            uploads: UploadCheck::Ignored,
        },
    ]
}

/// Every crash state of each operation keeps the invariants. Prints the states checked
/// per operation.
#[test]
fn every_power_cut_state_keeps_acknowledged_writes_whole() {
    let mut all = Vec::new();
    for s in scenarios() {
        let (checked, violations) = run(&s);
        println!(
            "{:<36} {checked:>5} crash states checked, {} violations",
            s.name,
            violations.len()
        );
        assert!(checked > 1, "{}: no states enumerated", s.name);
        all.extend(violations.into_iter().map(|v| format!("{}: {v}", s.name)));
    }
    assert!(
        all.is_empty(),
        "{} violations, first: {:#?}",
        all.len(),
        &all[..all.len().min(5)]
    );
}
