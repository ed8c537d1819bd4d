//! Power-loss simulation of the local store. `crash.rs` SIGKILLs the process, which keeps
//! the page cache; a power cut does not. Here the store runs over the recording file-system
//! layer (`store::fs_trace::TraceFs`), each operation's trace is turned into every state
//! the disk may hold after a power cut at any point of it, the store is reopened on each
//! state, and the crash harness's invariants are checked:
//!
//! - the store opens (start-up recovery succeeds);
//! - every acknowledged write reads back whole with its bytes; an unacknowledged one reads
//!   as the previous version or the new one, whole — never torn;
//! - an acknowledged delete stays deleted;
//! - after recovery `tmp/` is empty and every body file in `data/` is named by a record.
//!
//! # The crash model
//!
//! The state before the operation is durable (the setup is taken as synced). The trace of
//! the operation is cut after each of its steps; for each cut, every combination of:
//!
//! - **file data**: a file's bytes up to its last `fsync`/`fdatasync` are kept; of the
//!   writes after it, a prefix is kept (all, none, or up to any write boundary);
//! - **directory entries** (create, mkdir, rename, unlink, rmdir): each directory's entry
//!   operations are kept as a prefix of their order, at least up to the directory's last
//!   fsync. A rename belongs to its destination directory (it is atomic: kept, the source
//!   name goes with it); fsyncing only its source does not make it durable, the stricter
//!   reading of POSIX than ext4's or XFS's ordered journal. The choice is then closed
//!   under order: an operation kept keeps every earlier entry operation of the same
//!   directory and every earlier operation on the same inode (its creation).
//!
//! Directories are modelled as inodes, so an unlink inside a directory that was renamed
//! (a claimed multipart upload) is the directory's own entry change, not its old path's.
//! The choices are order-preserving (no reordering within a directory, no torn write
//! inside one `write` call); states are deduplicated by content before the store opens.
//!
//! Disk faults: the same layer fails the Nth write, fsync or read with ENOSPC or EIO; the
//! store answers an error, keeps the previous version whole, leaves no temporary file, and
//! works again once the fault is gone.

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cos_emulator::store::fs_trace::{Fault, FaultOn, Op, TraceFs, EIO, ENOSPC};
use cos_emulator::store::multipart::PartRecord;
use cos_emulator::store::parts::{PartLayout, PartsDecoder};
use cos_emulator::store::{
    Acl, BodyFormat, BucketRecord, Decoder, LocalStore, ObjectMeta, PlainCodec, SealedDecoder,
    SealedEncoder, Store, StoreError,
};
use cos_emulator_crypto::{Algorithm, Keys, ObjectRef, Protection};

const BUCKET: &str = "pl-1250000000";
const APPID: &str = "1250000000";
/// Upper bound on the choice combinations of one cut; a trace that needs more is a test
/// to split, not one to run for minutes.
const MAX_COMBINATIONS: usize = 200_000;

// ---------------------------------------------------------------------------------------
// The store under test and what is written to it.

fn bucket() -> BucketRecord {
    BucketRecord {
        name: BUCKET.into(),
        appid: APPID.into(),
        region: "ap-beijing".into(),
        created_ms: 0,
        acl: Acl::Private,
        cors: Vec::new(),
    }
}

fn meta(key: &str, body: &[u8], write_id: &str) -> ObjectMeta {
    ObjectMeta {
        key: key.into(),
        size: body.len() as u64,
        etag: String::new(),
        crc64: 0,
        modified_ms: 0,
        content_type: "application/octet-stream".into(),
        headers: BTreeMap::new(),
        user_meta: BTreeMap::new(),
        storage_class: "STANDARD".into(),
        acl: Acl::Default,
        owner: APPID.into(),
        write_id: write_id.into(),
        sse: None,
    }
}

/// `len` bytes that differ per `seed`, so versions cannot be mistaken for each other.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(31)
                .wrapping_add(u32::from(seed) * 7) as u8
        })
        .collect()
}

/// Writes `body` in 64 KiB pieces, as the request path hands it over.
fn put_plain(store: &dyn Store, key: &str, body: &[u8]) -> Result<(), StoreError> {
    let mut w = store.create_object(BUCKET, Box::new(PlainCodec))?;
    for piece in body.chunks(64 * 1024) {
        w.write(piece)?;
    }
    w.commit(meta(key, body, &format!("w-{key}-{}", body.len())))?;
    Ok(())
}

/// PUT with SSE-COS (AES256): a fresh data key sealed under the store's master key.
fn put_sse(store: &dyn Store, keys: &Keys, key: &str, body: &[u8]) -> Result<(), StoreError> {
    let write_id = format!("w-sse-{key}");
    let obj = ObjectRef {
        bucket: BUCKET,
        key,
        version: &write_id,
    };
    let (data_key, record) = keys
        .new_object(Algorithm::Aes256, Protection::Cos, &obj)
        .unwrap();
    let enc = SealedEncoder::new(&record, &data_key)?;
    let mut w = store.create_object(BUCKET, Box::new(enc))?;
    for piece in body.chunks(64 * 1024) {
        w.write(piece)?;
    }
    let mut m = meta(key, body, &write_id);
    m.sse = Some(record);
    w.commit(m)?;
    Ok(())
}

/// PUT - Copy as the operation does it: the source read through its codec, written as a
/// new object.
fn copy(store: &dyn Store, keys: &Keys, from: &str, to: &str) -> Result<(), StoreError> {
    let body = read_object(store, keys, from)
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("no source"))?;
    put_plain(store, to, &body)
}

/// Initiate, upload `parts`, and leave the upload for Complete.
fn initiate(store: &dyn Store, key: &str, parts: &[&[u8]]) -> String {
    initiate_with(store, None, key, parts)
}

/// [`initiate`]; with `keys`, each part is encrypted (SSE-COS AES256) under its own data
/// key, as MPU-SSE stores them.
fn initiate_with(store: &dyn Store, keys: Option<&Keys>, key: &str, parts: &[&[u8]]) -> String {
    let up = store
        .uploads()
        .create(BUCKET, meta(key, b"", ""), None, 0)
        .unwrap();
    for (i, body) in parts.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap();
        let write_id = format!("part-{n}");
        let mut m = meta(key, body, &write_id);
        let encoder: Box<dyn cos_emulator::store::Encoder> = match keys {
            None => Box::new(PlainCodec),
            Some(keys) => {
                let obj = ObjectRef {
                    bucket: BUCKET,
                    key,
                    version: &write_id,
                };
                let (data_key, record) = keys
                    .new_object(Algorithm::Aes256, Protection::Cos, &obj)
                    .unwrap();
                let enc = SealedEncoder::new(&record, &data_key).unwrap();
                m.sse = Some(record);
                Box::new(enc)
            }
        };
        let mut w = store
            .uploads()
            .part_writer(BUCKET, &up.upload_id, n, encoder)
            .unwrap()
            .unwrap();
        w.write(body).unwrap();
        w.commit(m).unwrap();
    }
    up.upload_id
}

/// Complete Multipart Upload as the operation does it: claim, assemble, finish.
fn complete(store: &dyn Store, key: &str, upload_id: &str) -> Result<(), StoreError> {
    let claim = store.uploads().claim(BUCKET, upload_id)?.unwrap();
    let parts: Vec<&PartRecord> = claim.parts.iter().collect();
    let layout = parts
        .iter()
        .map(|p| PartLayout {
            size: p.size,
            stored_len: p.body.stored_len,
            write_id: p.write_id.clone(),
            sse: p.sse.clone(),
        })
        .collect();
    let size = parts.iter().map(|p| p.size).sum::<u64>();
    let mut m = meta(key, b"", "w-complete");
    m.size = size;
    claim.complete(
        store,
        BUCKET,
        &parts,
        BodyFormat::Parts { parts: layout },
        m,
    )?;
    claim.finish()
}

/// The plaintext of `key` read through its codec; `None` when there is no such key, an
/// error when the record is there but its body is not whole.
fn read_object(store: &dyn Store, keys: &Keys, key: &str) -> Result<Option<Vec<u8>>, String> {
    let Some((record, mut body)) = store.open_object(BUCKET, key).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let m = &record.meta;
    let open = |sse: &cos_emulator_crypto::EncryptionRecord, version: &str| {
        let obj = ObjectRef {
            bucket: BUCKET,
            key,
            version,
        };
        keys.open_object(sse, APPID, None, &obj)
            .map_err(|e| e.to_string())
    };
    let mut dec: Box<dyn Decoder> = match (&record.body.format, &m.sse) {
        (BodyFormat::Plain, None) => Box::new(PlainCodec),
        (BodyFormat::Chunked { .. }, Some(sse)) => Box::new(SealedDecoder::new(
            sse.clone(),
            open(sse, &m.write_id)?,
            m.size,
        )),
        (BodyFormat::Parts { parts }, None) => {
            let mut opened = Vec::new();
            for p in parts {
                let key = match &p.sse {
                    Some(sse) => Some(open(sse, &p.write_id)?),
                    None => None,
                };
                opened.push((p.clone(), key));
            }
            Box::new(PartsDecoder::new(opened))
        }
        (format, _) => return Err(format!("unexpected format {format:?}")),
    };
    let mut out = Vec::new();
    dec.read_range(&mut body, 0..m.size, &mut |p| {
        out.extend_from_slice(&p);
        true
    })
    .map_err(|e| format!("{key}: {e}"))?;
    let mut rest = Vec::new();
    body.read_to_end(&mut rest).map_err(|e| e.to_string())?;
    if !matches!(record.body.format, BodyFormat::Chunked { .. }) && !rest.is_empty() {
        return Err(format!(
            "{key}: {} stored bytes past the object",
            rest.len()
        ));
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------
// The crash model: the trace as inode operations, and the states a power cut may leave.

type Ino = u64;
const ROOT: Ino = 0;

/// An operation of the trace on inodes.
#[derive(Debug, Clone)]
enum IOp {
    /// A new file or directory entered in `dir` (create, mkdir).
    Link {
        dir: Ino,
        name: String,
        ino: Ino,
        is_dir: bool,
    },
    /// An entry moved (rename), replacing one at the destination.
    Move {
        from: (Ino, String),
        to: (Ino, String),
        ino: Ino,
    },
    /// An entry removed (unlink, rmdir).
    Unlink { dir: Ino, name: String, ino: Ino },
    /// A directory fsynced.
    SyncDir(Ino),
    /// One `write` call's bytes appended to a file.
    Write { ino: Ino, bytes: Vec<u8> },
    /// A file fsynced or fdatasynced.
    SyncFile(Ino),
}

impl IOp {
    /// The directory whose fsync makes the operation durable (`None` for data
    /// operations). A rename belongs to its destination: the stricter reading, in which
    /// fsyncing only the source directory does not make the new name durable.
    fn dir(&self) -> Option<Ino> {
        match self {
            IOp::Link { dir, .. } | IOp::Unlink { dir, .. } => Some(*dir),
            IOp::Move { to, .. } => Some(to.0),
            _ => None,
        }
    }

    fn ino(&self) -> Option<Ino> {
        match self {
            IOp::Link { ino, .. } | IOp::Move { ino, .. } | IOp::Unlink { ino, .. } => Some(*ino),
            _ => None,
        }
    }
}

/// The durable state before the operation: directory inodes with their entries, and the
/// bytes of each file inode.
#[derive(Debug, Clone, Default)]
struct Tree {
    dirs: HashMap<Ino, BTreeMap<String, Ino>>,
    files: HashMap<Ino, Vec<u8>>,
    next: Ino,
}

impl Tree {
    fn snapshot(root: &Path) -> Tree {
        let mut t = Tree {
            next: ROOT + 1,
            ..Tree::default()
        };
        t.dirs.insert(ROOT, BTreeMap::new());
        t.load(root, ROOT);
        t
    }

    fn load(&mut self, dir: &Path, ino: Ino) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let child = self.next;
            self.next += 1;
            self.dirs.get_mut(&ino).unwrap().insert(name, child);
            if e.file_type().unwrap().is_dir() {
                self.dirs.insert(child, BTreeMap::new());
                self.load(&e.path(), child);
            } else {
                self.files.insert(child, std::fs::read(e.path()).unwrap());
            }
        }
    }

    /// The (directory inode, name) `path` (relative to the root) is entered under.
    fn parent(&self, path: &Path) -> (Ino, String) {
        let comps: Vec<String> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let (last, init) = comps.split_last().expect("a path under the root");
        let mut at = ROOT;
        for c in init {
            at = *self.dirs[&at]
                .get(c)
                .unwrap_or_else(|| panic!("{path:?}: no {c}"));
        }
        (at, last.clone())
    }

    fn lookup(&self, path: &Path) -> Ino {
        if path.as_os_str().is_empty() {
            return ROOT;
        }
        let (dir, name) = self.parent(path);
        self.dirs[&dir][&name]
    }

    fn apply(&mut self, op: &IOp) {
        match op {
            IOp::Link {
                dir,
                name,
                ino,
                is_dir,
            } => {
                self.dirs
                    .entry(*dir)
                    .or_default()
                    .insert(name.clone(), *ino);
                if *is_dir {
                    self.dirs.entry(*ino).or_default();
                }
            }
            IOp::Move { from, to, ino } => {
                let src = self.dirs.entry(from.0).or_default();
                if src.get(&from.1) == Some(ino) {
                    src.remove(&from.1);
                }
                self.dirs
                    .entry(to.0)
                    .or_default()
                    .insert(to.1.clone(), *ino);
            }
            IOp::Unlink { dir, name, ino } => {
                let d = self.dirs.entry(*dir).or_default();
                if d.get(name) == Some(ino) {
                    d.remove(name);
                }
            }
            _ => {}
        }
    }
}

/// The trace on inodes: resolves each path as the disk saw it when the step ran.
fn to_inodes(base: &Tree, root: &Path, trace: &[Op]) -> (Vec<IOp>, Ino) {
    let mut live = base.clone();
    let mut file_ino: HashMap<u64, Ino> = HashMap::new();
    let rel = |p: &Path| p.strip_prefix(root).expect("under the root").to_owned();
    let mut out = Vec::new();
    for op in trace {
        let iop = match op {
            Op::Create { path, file } => {
                let (dir, name) = live.parent(&rel(path));
                let ino = live.next;
                live.next += 1;
                file_ino.insert(*file, ino);
                IOp::Link {
                    dir,
                    name,
                    ino,
                    is_dir: false,
                }
            }
            Op::Mkdir { path } => {
                let (dir, name) = live.parent(&rel(path));
                let ino = live.next;
                live.next += 1;
                IOp::Link {
                    dir,
                    name,
                    ino,
                    is_dir: true,
                }
            }
            Op::Write { file, bytes } => IOp::Write {
                ino: *file_ino
                    .get(file)
                    .expect("the model covers files created in the trace"),
                bytes: bytes.clone(),
            },
            Op::SyncFile { file } => IOp::SyncFile(
                *file_ino
                    .get(file)
                    .expect("the model covers files created in the trace"),
            ),
            Op::Rename { from, to } => {
                let ino = live.lookup(&rel(from));
                IOp::Move {
                    from: live.parent(&rel(from)),
                    to: live.parent(&rel(to)),
                    ino,
                }
            }
            Op::Remove { path } | Op::Rmdir { path } => {
                let (dir, name) = live.parent(&rel(path));
                let ino = live.dirs[&dir][&name];
                IOp::Unlink { dir, name, ino }
            }
            Op::SyncDir { path } => IOp::SyncDir(live.lookup(&rel(path))),
        };
        live.apply(&iop);
        out.push(iop);
    }
    (out, live.next)
}

/// A disk state: relative path → `None` for a directory, `Some(bytes)` for a file.
type State = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Every distinct state a power cut after `ops[..cut]` may leave (see the module doc).
fn crash_states(base: &Tree, ops: &[IOp], cut: usize) -> Vec<State> {
    let ops = &ops[..cut];
    // Per directory: its entry operations in order, and how many are durable.
    let mut per_dir: BTreeMap<Ino, (Vec<usize>, usize)> = BTreeMap::new();
    // Per file: its writes in order, and how many are durable.
    let mut per_file: BTreeMap<Ino, (Vec<usize>, usize)> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(d) = op.dir() {
            per_dir.entry(d).or_default().0.push(i);
        }
        match op {
            IOp::SyncDir(d) => {
                let e = per_dir.entry(*d).or_default();
                e.1 = e.0.len();
            }
            IOp::Write { ino, .. } => per_file.entry(*ino).or_default().0.push(i),
            IOp::SyncFile(f) => {
                let e = per_file.entry(*f).or_default();
                e.1 = e.0.len();
            }
            _ => {}
        }
    }
    let dims: Vec<(usize, usize)> = per_dir
        .values()
        .chain(per_file.values())
        .map(|(all, durable)| (*durable, all.len()))
        .collect();
    let combinations: usize = dims.iter().map(|(lo, hi)| hi - lo + 1).product();
    assert!(
        combinations <= MAX_COMBINATIONS,
        "{combinations} combinations at one cut"
    );
    let dir_lists: Vec<&Vec<usize>> = per_dir.values().map(|(l, _)| l).collect();
    let file_list: Vec<(Ino, &Vec<usize>)> = per_file.iter().map(|(f, (l, _))| (*f, l)).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut choice: Vec<usize> = dims.iter().map(|(lo, _)| *lo).collect();
    loop {
        // Entry operations kept: each directory's chosen prefix, closed under order.
        let mut keep = vec![false; ops.len()];
        for (list, &n) in dir_lists.iter().zip(&choice) {
            for &i in &list[..n] {
                keep[i] = true;
            }
        }
        for i in (0..ops.len()).rev() {
            if !keep[i] {
                continue;
            }
            let (dir, ino) = (ops[i].dir(), ops[i].ino());
            for j in 0..i {
                let shares = (dir.is_some() && ops[j].dir() == dir)
                    || (ino.is_some() && ops[j].ino() == ino);
                if shares {
                    keep[j] = true;
                }
            }
        }
        let mut tree = base.clone();
        for (i, op) in ops.iter().enumerate() {
            if keep[i] {
                tree.apply(op);
            }
        }
        for ((ino, list), &n) in file_list.iter().zip(&choice[dir_lists.len()..]) {
            let mut bytes = Vec::new();
            for &i in &list[..n] {
                if let IOp::Write { bytes: b, .. } = &ops[i] {
                    bytes.extend_from_slice(b);
                }
            }
            tree.files.insert(*ino, bytes);
        }
        let state = render(&tree);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        state.hash(&mut h);
        if seen.insert(h.finish()) {
            out.push(state);
        }
        // Next combination (odometer).
        let mut d = 0;
        loop {
            if d == dims.len() {
                return out;
            }
            if choice[d] < dims[d].1 {
                choice[d] += 1;
                break;
            }
            choice[d] = dims[d].0;
            d += 1;
        }
    }
}

fn render(tree: &Tree) -> State {
    let mut out = State::new();
    let mut stack = vec![(ROOT, PathBuf::new())];
    while let Some((dir, path)) = stack.pop() {
        for (name, ino) in tree.dirs.get(&dir).into_iter().flatten() {
            let p = path.join(name);
            if tree.dirs.contains_key(ino) && !tree.files.contains_key(ino) {
                out.insert(p.clone(), None);
                stack.push((*ino, p));
            } else {
                let bytes = tree.files.get(ino).cloned().unwrap_or_default();
                out.insert(p, Some(bytes));
            }
        }
    }
    out
}

fn materialise(state: &State, root: &Path) {
    for (p, content) in state {
        let at = root.join(p);
        match content {
            None => std::fs::create_dir_all(&at).unwrap(),
            Some(bytes) => {
                std::fs::create_dir_all(at.parent().unwrap()).unwrap();
                std::fs::write(&at, bytes).unwrap();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running one operation through every crash state.

/// What a key may read as after a crash: each allowed version (`None`: absent).
type Allowed = Vec<Option<Vec<u8>>>;

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

// ---------------------------------------------------------------------------------------
// Disk faults.

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
    assert!(r.text().contains("No space left on device"), "{}", r.text());
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

/// The model itself: what is not fsynced may be lost, what is fsynced may not. A file
/// written in two `write`s and renamed from `t/` into `d/`: without fsyncs every prefix of
/// its bytes and both places (or neither name, the create itself lost) are possible;
/// with the file and `d/` fsynced, only the whole file in `d/`.
#[test]
fn the_model_loses_exactly_what_was_not_fsynced() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("t")).unwrap();
    std::fs::create_dir_all(root.join("d")).unwrap();
    let base = Tree::snapshot(root);
    let p = |s: &str| root.join(s);
    let write = |b: &[u8]| Op::Write {
        file: 0,
        bytes: b.to_vec(),
    };
    let states = |synced: bool| {
        let mut trace = vec![
            Op::Create {
                path: p("t/f"),
                file: 0,
            },
            write(b"ab"),
            write(b"cd"),
        ];
        if synced {
            trace.push(Op::SyncFile { file: 0 });
        }
        trace.push(Op::Rename {
            from: p("t/f"),
            to: p("d/f"),
        });
        if synced {
            trace.push(Op::SyncDir { path: p("d") });
        }
        let (ops, _) = to_inodes(&base, root, &trace);
        let mut seen: Vec<(Option<&str>, Vec<u8>)> = crash_states(&base, &ops, ops.len())
            .into_iter()
            .map(|s| {
                let at = |k: &str| s.get(Path::new(k)).cloned().flatten();
                match (at("t/f"), at("d/f")) {
                    (Some(b), None) => (Some("t"), b),
                    (None, Some(b)) => (Some("d"), b),
                    (None, None) => (None, Vec::new()),
                    (Some(_), Some(_)) => panic!("one inode under two names"),
                }
            })
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    let all: Vec<(Option<&str>, Vec<u8>)> = vec![
        (None, vec![]),
        (Some("d"), b"".to_vec()),
        (Some("d"), b"ab".to_vec()),
        (Some("d"), b"abcd".to_vec()),
        (Some("t"), b"".to_vec()),
        (Some("t"), b"ab".to_vec()),
        (Some("t"), b"abcd".to_vec()),
    ];
    assert_eq!(states(false), all);
    assert_eq!(states(true), vec![(Some("d"), b"abcd".to_vec())]);
}
