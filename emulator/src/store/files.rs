//! The file handling the local store's parts share (objects in `local`, uploads and parts
//! in `multipart`, restore records in `restore`): JSON records read and written whole or
//! not at all, random file names, and bodies written to disk through their codec. Every
//! file operation goes through the store's file-system layer ([`super::fs::Fs`]).

use std::io::{BufWriter, ErrorKind, Write};
use std::path::Path;

use rand::RngCore;

use super::fs::{Fs, FsFile};
use super::{BodyFormat, Encoder, StoreError};

/// The error for a record at `path` that cannot be read or written as JSON.
pub(crate) fn corrupt(path: &Path, detail: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRecord {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// 32 random lower-case hex digits: names temporary files, bodies and upload ids.
pub(crate) fn random_hex() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Reads a JSON record; `None` when the file does not exist, `CorruptRecord` when it does
/// not parse.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    fs: &dyn Fs,
    path: &Path,
) -> Result<Option<T>, StoreError> {
    match fs.read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(path, e)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A failed [`write_json`]; converts into its [`StoreError`] where how far it got does
/// not matter.
#[derive(Debug)]
pub(crate) struct WriteFailure {
    /// Why it failed.
    pub(crate) error: StoreError,
    /// Whether `dest` already holds the new value: the rename was made and only the fsync
    /// of `dest`'s directory failed. The new value is then visible, the old one is gone
    /// from the directory and may come back at a power cut, so the caller must neither
    /// remove what the new value names nor what the old one named.
    pub(crate) placed: bool,
}

impl From<WriteFailure> for StoreError {
    fn from(f: WriteFailure) -> Self {
        f.error
    }
}

/// Writes `value` as JSON to `dest` whole or not at all: to the temporary file `tmp`
/// (on the same file system), fsync, rename, then fsync `dest`'s directory so the rename
/// survives a crash. On a failure before the rename the temporary file is removed and
/// `dest` is untouched; on a failure of the last fsync `dest` holds the new value
/// ([`WriteFailure::placed`]).
pub(crate) fn write_json(
    fs: &dyn Fs,
    tmp: &Path,
    dest: &Path,
    value: &impl serde::Serialize,
) -> Result<(), WriteFailure> {
    let failed = |error: StoreError, placed| WriteFailure { error, placed };
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| failed(corrupt(dest, e), false))?;
    let written = (|| {
        let mut f = fs.create(tmp, false)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs.rename(tmp, dest)
    })();
    if let Err(e) = written {
        let _ = fs.remove_file(tmp);
        return Err(failed(e.into(), false));
    }
    if let Some(dir) = dest.parent() {
        fs.sync_dir(dir).map_err(|e| failed(e.into(), true))?;
    }
    Ok(())
}

/// Creates `dir` (and missing parents) and makes each new entry durable by fsyncing the
/// directory that holds it, so a directory acknowledged as made survives a crash.
pub(crate) fn create_dir_durable(fs: &dyn Fs, dir: &Path) -> std::io::Result<()> {
    if fs.is_dir(dir) {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durable(fs, parent)?;
    }
    match fs.create_dir(dir) {
        Err(e) if e.kind() != ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => fs.sync_dir(parent),
        _ => Ok(()),
    }
}

/// Removes a file; one already gone is not an error.
pub(crate) fn remove_if_present(fs: &dyn Fs, path: &Path) -> std::io::Result<()> {
    match fs.remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Bytes written to a body file between two early writebacks (see [`Writeback`]): the
/// final fsync then has at most this much left (it took 2.6 ms after a 64 MiB PUT here),
/// and the writeback thread's fdatasyncs (about 4 ms each) keep pace with the writer.
const WRITEBACK_EVERY: u64 = 8 << 20;

/// A body file being written through its codec: plaintext in, stored bytes out to disk in
/// bounded memory (one encoded chunk at a time).
pub(crate) struct EncodedFile {
    file: BufWriter<Box<dyn FsFile>>,
    encoder: Box<dyn Encoder>,
    scratch: Vec<u8>,
    stored_len: u64,
    /// Started once the body passes [`WRITEBACK_EVERY`] bytes.
    writeback: Option<Writeback>,
    writeback_every: u64,
    written_at_last_writeback: u64,
}

impl EncodedFile {
    /// Writes into `file` (newly created, empty) through `encoder`.
    pub(crate) fn new(file: Box<dyn FsFile>, encoder: Box<dyn Encoder>) -> Self {
        Self::with_writeback_every(file, encoder, WRITEBACK_EVERY)
    }

    fn with_writeback_every(file: Box<dyn FsFile>, encoder: Box<dyn Encoder>, every: u64) -> Self {
        EncodedFile {
            file: BufWriter::with_capacity(256 * 1024, file),
            encoder,
            scratch: Vec::new(),
            stored_len: 0,
            writeback: None,
            writeback_every: every,
            written_at_last_writeback: 0,
        }
    }

    /// Encodes `plain` and writes the result.
    pub(crate) fn write(&mut self, plain: &[u8]) -> Result<(), StoreError> {
        if self.encoder.is_identity() {
            // Plain bytes go to the file as they are, not through the scratch buffer.
            self.file.write_all(plain)?;
            self.stored_len += plain.len() as u64;
        } else {
            self.encoder.encode(plain, &mut self.scratch)?;
            self.flush_scratch()?;
        }
        if self.stored_len - self.written_at_last_writeback >= self.writeback_every {
            self.written_at_last_writeback = self.stored_len;
            match &self.writeback {
                Some(writeback) => writeback.request(),
                None => self.writeback = Some(Writeback::start(&**self.file.get_ref())?),
            }
        }
        Ok(())
    }

    /// Ends the encoding and makes the file durable (flush, fsync); returns the body's
    /// format and stored length for its record.
    pub(crate) fn finish(&mut self) -> Result<(BodyFormat, u64), StoreError> {
        self.encoder.finish(&mut self.scratch)?;
        self.flush_scratch()?;
        self.file.flush()?;
        if let Some(writeback) = self.writeback.take() {
            writeback.finish()?;
        }
        self.file.get_ref().sync_all()?;
        Ok((self.encoder.format(), self.stored_len))
    }

    fn flush_scratch(&mut self) -> Result<(), StoreError> {
        self.file.write_all(&self.scratch)?;
        self.stored_len += self.scratch.len() as u64;
        self.scratch.clear();
        Ok(())
    }
}

/// Early writeback of a large body file. The kernel starts writing dirty pages back only
/// past a tenth of memory, so a body of a few hundred MiB sat in the page cache until the
/// final fsync, which then wrote all of it while the client waited (0.3 s for 1 GiB here,
/// about a tenth of a PUT at 400 MB/s). A thread of the file's own flushes what has been
/// written so far (`fdatasync`) each time it is asked, while the writer goes on appending,
/// so the final fsync finds little left to write. Requests made while it is busy merge
/// into the next one. The durability guarantee is unchanged: the body is acknowledged
/// only after the final fsync.
struct Writeback {
    requests: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<std::io::Result<u64>>,
}

impl Writeback {
    /// Starts the thread on a second handle to `file` and asks for a first writeback.
    fn start(file: &dyn FsFile) -> std::io::Result<Writeback> {
        let file = file.try_clone()?;
        let (requests, pending) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("body-writeback".into())
            .spawn(move || {
                let mut flushes = 0;
                for () in pending {
                    file.sync_data()?;
                    flushes += 1;
                }
                Ok(flushes)
            })?;
        let writeback = Writeback { requests, thread };
        writeback.request();
        Ok(writeback)
    }

    /// Asks for a writeback of everything written so far (merged with a pending one).
    fn request(&self) {
        // Full: one is pending and will cover these bytes too. Disconnected: the thread
        // failed, and `finish` reports its error.
        let _ = self.requests.try_send(());
    }

    /// Waits for the thread; returns how many writebacks it made, or its I/O error.
    fn finish(self) -> std::io::Result<u64> {
        drop(self.requests);
        self.thread
            .join()
            .map_err(|_| std::io::Error::other("the writeback thread panicked"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::StdFs;
    use crate::store::PlainCodec;

    #[test]
    fn a_large_body_is_written_back_while_it_is_written_and_stays_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let file = StdFs.create(&path, true).unwrap();
        let mut body = EncodedFile::with_writeback_every(file, Box::new(PlainCodec), 1 << 20);
        let data: Vec<u8> = (0..(6 << 20)).map(|i: u32| (i % 253) as u8).collect();
        for piece in data.chunks(100_000) {
            body.write(piece).unwrap();
        }
        let writeback = body.writeback.take().expect("started past 1 MiB");
        assert!(writeback.finish().unwrap() >= 1);
        let (_, len) = body.finish().unwrap();
        assert_eq!(len, data.len() as u64);
        assert_eq!(std::fs::read(&path).unwrap(), data);
    }

    #[test]
    fn a_small_body_starts_no_writeback_thread() {
        let dir = tempfile::tempdir().unwrap();
        let file = StdFs.create(&dir.path().join("body"), true).unwrap();
        let mut body = EncodedFile::new(file, Box::new(PlainCodec));
        body.write(&[7; 1000]).unwrap();
        body.finish().unwrap();
        assert!(body.writeback.is_none());
    }
}
