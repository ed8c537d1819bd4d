//! The test double of the file-system layer: [`TraceFs`] performs every operation on the
//! real disk, as [`super::fs::StdFs`] does, and also
//!
//! - records, while asked to, each operation that changes what a power cut could leave
//!   ([`Op`]: creates, writes, fsyncs, renames, unlinks, mkdirs, directory fsyncs), so a
//!   test can build every state the disk may be in after a power cut at any point;
//! - injects disk faults ([`Fault`]): the Nth write, fsync, new entry or read (counted
//!   from when the fault is armed) fails with the given OS error, once or from then on (a full disk),
//!   until [`TraceFs::clear_faults`] (space freed).
//!
//! Not for production: operations are serialised under one lock so the trace is in the
//! order the disk saw them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::fs::{DirEntry, Fs, FsFile, StdFs};
use super::BodySource;

/// One operation as the disk saw it. Files are named by an id the trace gives them at
/// creation (a second handle on a file shares its id); paths are as the store gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A file was created at `path` (new, or truncated to empty).
    Create {
        /// Where.
        path: PathBuf,
        /// The file's id in this trace.
        file: u64,
    },
    /// Bytes appended to a file by one `write` call.
    Write {
        /// The file's id.
        file: u64,
        /// What was written.
        bytes: Vec<u8>,
    },
    /// `fsync` or `fdatasync` of a file: its data written so far is durable.
    SyncFile {
        /// The file's id.
        file: u64,
    },
    /// A file or directory renamed (replacing a file at `to`).
    Rename {
        /// Old path.
        from: PathBuf,
        /// New path.
        to: PathBuf,
    },
    /// A file unlinked.
    Remove {
        /// Its path.
        path: PathBuf,
    },
    /// A directory created.
    Mkdir {
        /// Its path.
        path: PathBuf,
    },
    /// An (empty) directory removed.
    Rmdir {
        /// Its path.
        path: PathBuf,
    },
    /// A directory fsynced: its entries so far are durable.
    SyncDir {
        /// Its path.
        path: PathBuf,
    },
}

/// Which calls a [`Fault`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOn {
    /// `write` on a file being written.
    Write,
    /// `fsync` / `fdatasync` of a file or a directory.
    Sync,
    /// A new directory entry: creating a file or a directory, or a rename (a full disk
    /// refuses these too).
    Entry,
    /// Reading a record or opening / reading a body.
    Read,
}

/// A disk fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Which calls fail.
    pub on: FaultOn,
    /// How many such calls succeed first.
    pub after: u64,
    /// The OS error (`libc` numbering: 5 EIO, 28 ENOSPC).
    pub errno: i32,
    /// Whether every later call fails too (a full disk) rather than only the one.
    pub sticky: bool,
}

/// ENOSPC: no space left on device.
pub const ENOSPC: i32 = 28;
/// EIO: input/output error.
pub const EIO: i32 = 5;

#[derive(Debug, Default)]
struct State {
    recording: bool,
    ops: Vec<Op>,
    next_file: u64,
    faults: Vec<(Fault, u64)>,
}

impl State {
    fn log(&mut self, op: Op) {
        if self.recording {
            self.ops.push(op);
        }
    }

    /// Counts a call of kind `on`; the error a fault armed for it gives, if any.
    fn check(&mut self, on: FaultOn) -> io::Result<()> {
        for (fault, seen) in &mut self.faults {
            if fault.on != on {
                continue;
            }
            *seen += 1;
            if *seen > fault.after && (fault.sticky || *seen == fault.after + 1) {
                return Err(io::Error::from_raw_os_error(fault.errno));
            }
        }
        Ok(())
    }
}

/// A recording, fault-injecting file system over the real one. Clones share the trace and
/// the faults.
#[derive(Debug, Clone, Default)]
pub struct TraceFs {
    state: Arc<Mutex<State>>,
}

impl TraceFs {
    /// A layer recording nothing and failing nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts recording (dropping anything recorded before).
    pub fn record(&self) {
        let mut s = self.lock();
        s.recording = true;
        s.ops.clear();
    }

    /// Stops recording and returns the trace.
    pub fn take(&self) -> Vec<Op> {
        let mut s = self.lock();
        s.recording = false;
        std::mem::take(&mut s.ops)
    }

    /// Arms a fault (several may be armed at once).
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push((fault, 0));
    }

    /// Disarms every fault (the disk has room again, or was replaced).
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    fn remove_tree(&self, s: &mut State, path: &Path) -> io::Result<()> {
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            let p = entry.path();
            if entry.file_type()?.is_dir() {
                self.remove_tree(s, &p)?;
            } else {
                fs::remove_file(&p)?;
                s.log(Op::Remove { path: p });
            }
        }
        fs::remove_dir(path)?;
        s.log(Op::Rmdir { path: path.into() });
        Ok(())
    }
}

/// A file being written through a [`TraceFs`].
struct TraceFile {
    file: File,
    id: u64,
    fs: TraceFs,
}

impl Write for TraceFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut s = self.fs.lock();
        s.check(FaultOn::Write)?;
        let n = self.file.write(buf)?;
        s.log(Op::Write {
            file: self.id,
            bytes: buf[..n].to_vec(),
        });
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl TraceFile {
    fn sync(&self, data_only: bool) -> io::Result<()> {
        let mut s = self.fs.lock();
        s.check(FaultOn::Sync)?;
        if data_only {
            self.file.sync_data()?;
        } else {
            self.file.sync_all()?;
        }
        s.log(Op::SyncFile { file: self.id });
        Ok(())
    }
}

impl FsFile for TraceFile {
    fn sync_all(&self) -> io::Result<()> {
        self.sync(false)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.sync(true)
    }

    fn try_clone(&self) -> io::Result<Box<dyn FsFile>> {
        Ok(Box::new(TraceFile {
            file: self.file.try_clone()?,
            id: self.id,
            fs: self.fs.clone(),
        }))
    }
}

/// A body opened for reading through a [`TraceFs`] (read faults apply).
struct TraceRead {
    file: File,
    fs: TraceFs,
}

impl Read for TraceRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.fs.lock().check(FaultOn::Read)?;
        self.file.read(buf)
    }
}

impl Seek for TraceRead {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

impl Fs for TraceFs {
    fn create(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.lock();
        s.check(FaultOn::Entry)?;
        let file = if create_new {
            OpenOptions::new().write(true).create_new(true).open(path)?
        } else {
            File::create(path)?
        };
        let id = s.next_file;
        s.next_file += 1;
        s.log(Op::Create {
            path: path.into(),
            file: id,
        });
        Ok(Box::new(TraceFile {
            file,
            id,
            fs: self.clone(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn BodySource>> {
        self.lock().check(FaultOn::Read)?;
        Ok(Box::new(TraceRead {
            file: File::open(path)?,
            fs: self.clone(),
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.lock().check(FaultOn::Read)?;
        fs::read(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check(FaultOn::Entry)?;
        fs::rename(from, to)?;
        s.log(Op::Rename {
            from: from.into(),
            to: to.into(),
        });
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        fs::remove_file(path)?;
        s.log(Op::Remove { path: path.into() });
        Ok(())
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check(FaultOn::Entry)?;
        fs::create_dir(path)?;
        s.log(Op::Mkdir { path: path.into() });
        Ok(())
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        self.remove_tree(&mut s, path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.check(FaultOn::Sync)?;
        StdFs.sync_dir(path)?;
        s.log(Op::SyncDir { path: path.into() });
        Ok(())
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        StdFs.read_dir(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}
