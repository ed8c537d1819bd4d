//! The crash model (see the crate doc): the trace as inode operations, and every state a
//! power cut may leave.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Component, Path, PathBuf};

use cos_emulator::store::fs_trace::Op;

/// Upper bound on the choice combinations of one cut; a trace that needs more is a test
/// to split, not one to run for minutes.
pub(crate) const MAX_COMBINATIONS: usize = 200_000;

pub(crate) type Ino = u64;
pub(crate) const ROOT: Ino = 0;

/// An operation of the trace on inodes.
#[derive(Debug, Clone)]
pub(crate) enum IOp {
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
pub(crate) struct Tree {
    dirs: HashMap<Ino, BTreeMap<String, Ino>>,
    files: HashMap<Ino, Vec<u8>>,
    next: Ino,
}

impl Tree {
    pub(crate) fn snapshot(root: &Path) -> Tree {
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
pub(crate) fn to_inodes(base: &Tree, root: &Path, trace: &[Op]) -> (Vec<IOp>, Ino) {
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
pub(crate) type State = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Every distinct state a power cut after `ops[..cut]` may leave (see the module doc).
pub(crate) fn crash_states(base: &Tree, ops: &[IOp], cut: usize) -> Vec<State> {
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

pub(crate) fn render(tree: &Tree) -> State {
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

pub(crate) fn materialise(state: &State, root: &Path) {
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
