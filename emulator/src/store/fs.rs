//! The file-system layer the local store's file operations go through: create, write,
//! fsync / fdatasync, rename, unlink, mkdir, directory fsync, read and open. [`StdFs`] is
//! `std::fs` itself; a test layer ([`super::fs_trace`]) records what reached the disk, so a
//! power cut can be simulated, and injects disk faults (ENOSPC, EIO).
//!
//! The layer is a trait object chosen when the store is opened ([`super::LocalStore::open_with`]).
//! Its cost on the PUT path is one virtual call per 256 KiB buffered write (the body's
//! `BufWriter` sits above it) and one per fsync.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::BodySource;

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name inside its directory.
    pub name: String,
    /// Its full path.
    pub path: PathBuf,
}

/// A file opened for writing.
pub trait FsFile: Write + Send {
    /// Makes the file's data and metadata durable (`fsync`).
    fn sync_all(&self) -> io::Result<()>;
    /// Makes the file's data durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;
    /// A second handle on the same file (the body writeback thread fdatasyncs through it).
    fn try_clone(&self) -> io::Result<Box<dyn FsFile>>;
}

/// The file operations of the local store. Paths are what the store computes (under its
/// root); errors are the operating system's, unchanged.
pub trait Fs: Send + Sync + std::fmt::Debug + 'static {
    /// Creates `path` for writing: a new file (`create_new`, failing when it exists), or
    /// else created or truncated.
    fn create(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>>;
    /// Opens `path` for reading (an object body).
    fn open(&self, path: &Path) -> io::Result<Box<dyn BodySource>>;
    /// Reads a whole file (a JSON record).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Renames a file or directory, replacing a file at `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates one directory (its parent must exist).
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Removes a directory and everything under it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes a directory's entries durable (fsync of the directory).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// A directory's entries, in the order the file system gives them.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether `path` is a regular file.
    fn is_file(&self, path: &Path) -> bool;
}

/// The real file system (`std::fs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFs;

impl FsFile for File {
    fn sync_all(&self) -> io::Result<()> {
        File::sync_all(self)
    }

    fn sync_data(&self) -> io::Result<()> {
        File::sync_data(self)
    }

    fn try_clone(&self) -> io::Result<Box<dyn FsFile>> {
        Ok(Box::new(File::try_clone(self)?))
    }
}

impl Fs for StdFs {
    fn create(&self, path: &Path, create_new: bool) -> io::Result<Box<dyn FsFile>> {
        let file = if create_new {
            OpenOptions::new().write(true).create_new(true).open(path)?
        } else {
            File::create(path)?
        };
        Ok(Box::new(file))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn BodySource>> {
        Ok(Box::new(File::open(path)?))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        fs::remove_dir_all(path)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            out.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                path: entry.path(),
            });
        }
        Ok(out)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}
