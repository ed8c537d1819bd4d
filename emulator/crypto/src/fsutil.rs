//! Private, atomic key files: the master keyring and the KMS state.
//!
//! A key file is written to a temporary file in the same directory with mode 0600,
//! fsynced, renamed over the old one, and the directory fsynced, so a crash leaves the
//! old file or the new one, never a mix, and the key material is never world-readable,
//! not even for a moment.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use crate::encoding::fill_random;
use crate::error::{Error, Result};

/// Reads a key file, or `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io(path, source)),
    }
}

/// Replaces `path` atomically with `bytes`, readable by the owner only.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let tmp = temp_name(path)?;
    let result = write_and_rename(&tmp, path, bytes);
    if result.is_err() {
        // Best effort: the temporary file holds nothing the old file did not.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir);
    Ok(())
}

fn write_and_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = open_private(tmp).map_err(|e| io(tmp, e))?;
    file.write_all(bytes).map_err(|e| io(tmp, e))?;
    file.sync_all().map_err(|e| io(tmp, e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| io(path, e))
}

fn temp_name(path: &Path) -> Result<PathBuf> {
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(path.with_file_name(format!(".{name}.tmp-{}", hex::encode(suffix))))
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Makes the rename durable. Some platforms cannot open directories; there the rename is
/// as durable as the platform makes it.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive inter-process lock on a key file, held until dropped: every
/// read-modify-write of the file (a KMS key added, a master-key version rotated) runs
/// under it, so two processes (the server and a `cos-emulator kms` command) never both
/// build on the same old state and lose one change. The lock is `flock(2)` on a sibling
/// file `.NAME.lock` (the key file itself is replaced by rename, so it cannot carry it);
/// the kernel releases it when the process dies, so a crash never leaves it held.
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` is held.
    pub(crate) fn acquire(path: &Path) -> Result<FileLock> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, e))?;
        lock_exclusive(&file).map_err(|e| io(&lock_path, e))?;
        Ok(FileLock { _file: file })
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use rustix::fs::{flock, FlockOperation};
    loop {
        match flock(file, FlockOperation::LockExclusive) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return r.map_err(std::io::Error::from),
        }
    }
}

/// Without `flock(2)` the lock only orders this process's own writers (through the
/// callers' mutexes); a concurrent `cos-emulator kms` command is not excluded there.
#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// Modification time and length of a file, to notice that another process rewrote it
/// (the length changes with every key added, so a coarse mtime alone does not hide it).
pub(crate) fn file_stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/keys.json");
        write_private_atomic(&path, b"one").unwrap();
        write_private_atomic(&path, b"two").unwrap();
        assert_eq!(read_optional(&path).unwrap().unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn missing_file_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_optional(&dir.path().join("absent")).unwrap().is_none());
    }
}
