//! The at-rest scan (AT-REST, SSEC-NOT-STORED): every file under the data directory is
//! searched for given secrets (exact byte strings) and for any 16-byte window of given
//! plaintexts. The needles only ever live in memory: the scan writes nothing.
//!
//! Storage engines may compress what they are given: SeaweedFS gzips compressible
//! uploads, whatever their content type, so a leaked JSON record or key file would not
//! appear in its volume files as sent. Every gzip member found in a file is therefore
//! scanned decompressed as well ([`gzip_members`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Length of a plaintext window: a leak of 16 bytes or more is found.
pub const WINDOW: usize = 16;
/// Plaintexts up to this size are indexed at every offset; longer ones every
/// [`LONG_STRIDE`] bytes (then any leak of `WINDOW + LONG_STRIDE - 1` bytes is found),
/// which keeps the index of a 5 MiB body small.
pub const FULL_INDEX_MAX: usize = 256 * 1024;
/// Index stride for plaintexts longer than [`FULL_INDEX_MAX`].
pub const LONG_STRIDE: usize = 8;

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct ScanRequest {
    /// Secrets, each with a label to report (e.g. "key py_1 (base64)"): exact matches.
    pub secrets: Vec<(String, Vec<u8>)>,
    /// Plaintexts, each with a label: any window of [`WINDOW`] bytes.
    pub plaintexts: Vec<(String, Vec<u8>)>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanHit {
    /// The file, relative to the data directory.
    pub file: PathBuf,
    /// Offset in the file.
    pub offset: u64,
    /// The needle's label; for plaintexts with the offset in the plaintext.
    pub what: String,
}

fn window(b: &[u8]) -> u128 {
    let mut a = [0u8; WINDOW];
    a.copy_from_slice(&b[..WINDOW]);
    u128::from_le_bytes(a)
}

/// Length of the blocks a file is sampled at: every `BLOCK`-th offset of a file is looked
/// at, which is enough because a window of [`WINDOW`] = 2 × `BLOCK` bytes always contains
/// a whole block starting at a multiple of `BLOCK`.
const BLOCK: usize = 8;

/// Every indexed window of the plaintexts, behind a bitset of their 8-byte substrings.
/// The scan reads a file one aligned 8-byte block at a time and tests one bit; only where
/// the block occurs in some plaintext does it look up the 8 windows that could contain
/// it. A backend's data directory holds hundreds of MiB after a catalog run, and a map
/// lookup at every byte made a scan take minutes in a debug build.
struct WindowIndex {
    /// Window -> (plaintext index, offset in it).
    windows: HashMap<u128, (usize, usize)>,
    /// One bit per slot, set for every 8-byte substring of every plaintext.
    blocks: Vec<u64>,
    /// `64 - log2(slots)`: a block's slot is the top bits of its product with an odd
    /// constant.
    shift: u32,
}

impl WindowIndex {
    /// Indexes every plaintext's windows (see [`FULL_INDEX_MAX`] for the stride) and all
    /// of its 8-byte substrings.
    fn new(plaintexts: &[(String, Vec<u8>)]) -> Self {
        let mut windows: HashMap<u128, (usize, usize)> = HashMap::new();
        let mut substrings = 0;
        for (i, (_, p)) in plaintexts.iter().enumerate() {
            if p.len() < WINDOW {
                continue;
            }
            let stride = if p.len() <= FULL_INDEX_MAX {
                1
            } else {
                LONG_STRIDE
            };
            for off in (0..=p.len() - WINDOW).step_by(stride) {
                windows.entry(window(&p[off..])).or_insert((i, off));
            }
            substrings += p.len() - BLOCK + 1;
        }
        // About 16 slots per substring: a random block finds its bit set about once in 16,
        // and the bitset stays small enough to be read from cache (a larger one was
        // slower, waiting on memory); at least 2^16 slots and at most 2^28 (32 MiB).
        let slots = (substrings * 16)
            .next_power_of_two()
            .clamp(1 << 16, 1 << 28);
        let mut index = WindowIndex {
            windows,
            blocks: vec![0; slots / 64],
            shift: 64 - slots.trailing_zeros(),
        };
        for (_, p) in plaintexts.iter().filter(|(_, p)| p.len() >= WINDOW) {
            for b in p.windows(BLOCK) {
                let slot = index.slot(block(b));
                index.blocks[slot / 64] |= 1 << (slot % 64);
            }
        }
        index
    }

    fn slot(&self, block: u64) -> usize {
        (block.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Whether these 8 bytes may occur in some plaintext (false: they do not).
    fn may_occur(&self, block: u64) -> bool {
        let slot = self.slot(block);
        self.blocks[slot / 64] >> (slot % 64) & 1 == 1
    }

    fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

/// The 8 bytes at the start of `b`, as a number.
fn block(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..BLOCK].try_into().expect("8 bytes"))
}

/// Scans every regular file under `root` (symbolic links are not followed).
pub fn scan(root: &Path, request: &ScanRequest) -> std::io::Result<Vec<ScanHit>> {
    let index = WindowIndex::new(&request.plaintexts);
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        // The store keeps working while it is scanned: a directory or file removed
        // between listing and reading (an upload completed or aborted, an object
        // deleted) is skipped. Only the data directory itself must exist.
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir != root && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let Some((path, kind)) =
                skip_vanished(entry.and_then(|e| Ok((e.path(), e.file_type()?))))?
            else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let Some(bytes) = skip_vanished(std::fs::read(&path))? else {
                continue;
            };
            let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
            scan_bytes(&bytes, &rel, request, &index, &mut hits);
            for (at, inflated) in gzip_members(&bytes) {
                let label = PathBuf::from(format!("{} (gzip member at {at})", rel.display()));
                scan_bytes(&inflated, &label, request, &index, &mut hits);
            }
        }
    }
    hits.sort_by(|a, b| (&a.file, a.offset).cmp(&(&b.file, b.offset)));
    Ok(hits)
}

/// How much of one gzip member is inflated: far above any record or part in a test, and
/// bounds what a crafted member can cost.
pub const GZIP_MEMBER_MAX: u64 = 64 * 1024 * 1024;

/// Every gzip member in `bytes` (at each `1f 8b 08` that starts one that inflates), with
/// its offset, inflated (at most [`GZIP_MEMBER_MAX`] bytes each).
pub fn gzip_members(bytes: &[u8]) -> Vec<(u64, Vec<u8>)> {
    use std::io::Read as _;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&bytes[from..], &[0x1f, 0x8b, 0x08]) {
        let at = from + found;
        let mut inflated = Vec::new();
        let decoded = flate2::read::GzDecoder::new(&bytes[at..])
            .take(GZIP_MEMBER_MAX)
            .read_to_end(&mut inflated);
        if decoded.is_ok() && !inflated.is_empty() {
            out.push((at as u64, inflated));
        }
        from = at + 3;
    }
    out
}

/// `Ok(None)` for an entry that vanished (NotFound) while the scan ran; other errors stand.
fn skip_vanished<T>(result: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn scan_bytes(
    bytes: &[u8],
    file: &Path,
    request: &ScanRequest,
    index: &WindowIndex,
    hits: &mut Vec<ScanHit>,
) {
    for (label, secret) in &request.secrets {
        if secret.is_empty() {
            continue;
        }
        if let Some(at) = memchr::memmem::find(bytes, secret) {
            hits.push(ScanHit {
                file: file.to_path_buf(),
                offset: at as u64,
                what: label.clone(),
            });
        }
    }
    if index.is_empty() || bytes.len() < WINDOW {
        return;
    }
    // One hit per (file, plaintext) is enough to fail and keeps the report short.
    let mut seen = vec![false; request.plaintexts.len()];
    // A window at `off` holds the whole block at the first multiple of BLOCK from `off`,
    // so the windows that may match are the BLOCK ones ending after each aligned block
    // that occurs in a plaintext. Visited in order, so the first hit per plaintext is
    // the lowest offset.
    for at in (0..=bytes.len() - BLOCK).step_by(BLOCK) {
        if !index.may_occur(block(&bytes[at..])) {
            continue;
        }
        let last = at.min(bytes.len() - WINDOW);
        for off in at.saturating_sub(BLOCK - 1)..=last {
            if let Some(&(i, from)) = index.windows.get(&window(&bytes[off..])) {
                if !seen[i] {
                    seen[i] = true;
                    hits.push(ScanHit {
                        file: file.to_path_buf(),
                        offset: off as u64,
                        what: format!("{} at plaintext offset {from}", request.plaintexts[i].0),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes that look random: the top byte of a multiplicative hash of each offset.
    fn scattered(len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect()
    }

    /// A secret and a plaintext window inside a gzip member (as SeaweedFS stores a
    /// compressible upload) are found.
    #[test]
    fn looks_inside_gzip_members() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let plain = b"a plaintext that is long enough to hold a window".repeat(4);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"material\": \"SECRET-KEY-MATERIAL\"}")
            .unwrap();
        gz.write_all(&plain).unwrap();
        let mut file = b"volume header ".to_vec();
        file.extend(gz.finish().unwrap());
        file.extend(b" trailing needle");
        std::fs::write(dir.path().join("1.dat"), &file).unwrap();
        assert!(!file.windows(19).any(|w| w == b"SECRET-KEY-MATERIAL"));
        let hits = scan(
            dir.path(),
            &ScanRequest {
                secrets: vec![("key".into(), b"SECRET-KEY-MATERIAL".to_vec())],
                plaintexts: vec![("object".into(), plain.clone())],
            },
        )
        .unwrap();
        let whats: Vec<_> = hits.iter().map(|h| h.what.as_str()).collect();
        assert!(whats.contains(&"key"), "{hits:?}");
        assert!(whats.iter().any(|w| w.starts_with("object")), "{hits:?}");
        assert!(hits
            .iter()
            .all(|h| h.file.to_string_lossy().contains("gzip member at 14")));
    }

    #[test]
    fn finds_a_16_byte_window_and_a_secret_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let plain = scattered(4096);
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let mut leaked = b"xxxx".to_vec();
        leaked.extend_from_slice(&plain[1000..1016]);
        std::fs::write(dir.path().join("a/b/leak"), &leaked).unwrap();
        std::fs::write(dir.path().join("a/clean"), &plain[1000..1015]).unwrap();
        std::fs::write(dir.path().join("secret"), b"..KEYMD5==..").unwrap();
        let req = ScanRequest {
            secrets: vec![("key md5".into(), b"KEYMD5==".to_vec())],
            plaintexts: vec![("upload".into(), plain)],
        };
        let hits = scan(dir.path(), &req).unwrap();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[0].file, Path::new("a/b/leak"));
        assert_eq!(hits[0].offset, 4);
        assert_eq!(hits[0].what, "upload at plaintext offset 1000");
        assert_eq!(hits[1].file, Path::new("secret"));
        assert_eq!(hits[1].offset, 2);
    }

    #[test]
    fn directories_removed_while_scanning_are_skipped_not_fatal() {
        // The CI failure this guards: a multipart upload's directory removed by Complete
        // while another case scanned the store failed the scan with NotFound.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let (root, stop) = (root.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let d = root.join(format!("upload-{}", n % 64)).join("parts");
                    let _ = std::fs::create_dir_all(&d);
                    let _ = std::fs::write(d.join("1"), b"part");
                    let _ = std::fs::remove_dir_all(root.join(format!("upload-{}", (n + 32) % 64)));
                    n += 1;
                }
            })
        };
        let req = ScanRequest {
            secrets: vec![("key".into(), b"never-there".to_vec())],
            plaintexts: vec![],
        };
        let mut failures = Vec::new();
        for _ in 0..2000 {
            if let Err(e) = scan(&root, &req) {
                failures.push(e.to_string());
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
        assert!(
            failures.is_empty(),
            "{} scans failed, first: {}",
            failures.len(),
            failures[0]
        );
        assert!(
            scan(&root.join("gone"), &req).is_err(),
            "a missing data directory is an error"
        );
    }

    #[test]
    fn long_plaintexts_are_indexed_with_a_stride() {
        let dir = tempfile::tempdir().unwrap();
        let plain = scattered(FULL_INDEX_MAX + 100);
        // 23 bytes at an odd offset always contain a window at a multiple of the stride.
        std::fs::write(dir.path().join("f"), &plain[5003..5003 + 23]).unwrap();
        let req = ScanRequest {
            secrets: vec![],
            plaintexts: vec![("big".into(), plain)],
        };
        assert_eq!(scan(dir.path(), &req).unwrap().len(), 1);
    }

    #[test]
    fn a_16_byte_leak_is_found_at_every_alignment_and_at_the_end_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let plain = scattered(1000);
        let req = ScanRequest {
            secrets: vec![],
            plaintexts: vec![("p".into(), plain.clone())],
        };
        for at in 0..=2 * BLOCK {
            for tail in [0, 1, 7, 100] {
                let mut file = vec![0xAA; at];
                file.extend_from_slice(&plain[333..333 + WINDOW]);
                file.extend(std::iter::repeat_n(0x55, tail));
                std::fs::write(dir.path().join("f"), &file).unwrap();
                let hits = scan(dir.path(), &req).unwrap();
                assert_eq!(hits.len(), 1, "leak at {at}, {tail} bytes after: {hits:?}");
                assert_eq!(hits[0].offset, at as u64);
                // One byte short of a window is not a finding.
                file[at + WINDOW - 1] ^= 0xFF;
                std::fs::write(dir.path().join("f"), &file).unwrap();
                assert!(scan(dir.path(), &req).unwrap().is_empty(), "{at} {tail}");
            }
        }
    }
}
