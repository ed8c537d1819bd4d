//! The store's disk as a plain PUT's other bound: a large PUT is answered only once its
//! body is on disk (written, then fsynced), so it cannot go faster than the disk writes
//! and flushes the same bytes, whatever the CPU does. Measured in the emulator's data
//! directory, once per round and large size, beside MD5 on one core, and printed after the
//! targets with each large plain PUT's ratio to it: where the disk is below the MD5
//! target's bound, that target is out of reach on this machine.

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::table::{ratio, Row, Samples as _};

/// MB/s of writing `size` bytes of `pattern` (repeated) to a new file in `dir` and
/// fsyncing it, as a PUT of that size stores its body; the file is removed after.
pub fn write_and_fsync_mbps(dir: &Path, size: u64, pattern: &[u8]) -> anyhow::Result<f64> {
    let path = dir.join(format!("disk-bound-{}", std::process::id()));
    let start = Instant::now();
    let mut file = std::fs::File::create(&path)?;
    let mut left = size;
    while left > 0 {
        let n = left.min(pattern.len() as u64) as usize;
        file.write_all(&pattern[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    let secs = start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(size as f64 / 1e6 / secs)
}

/// The disk's figures of one size, one per round.
pub struct DiskRounds {
    /// The size written.
    pub size: u64,
    /// MB/s of each round.
    pub mbps: Vec<f64>,
}

/// The lines printed after the targets: the disk's median per size, and each measured
/// large plain PUT of the emulator as a ratio to it (the median of the per-round ratios).
pub fn lines(rows: &[Row], disk: &[DiskRounds], md5_gbps: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    for d in disk.iter().filter(|d| !d.mbps.is_empty()) {
        let mut line = format!(
            "The store's disk, {} written and fsynced: {:.0} MB/s (median of {} rounds; 0.8 × MD5 on one core = {:.0} MB/s)",
            crate::human(d.size),
            d.mbps.median(),
            d.mbps.len(),
            md5_gbps.median() * 800.0,
        );
        let puts: Vec<String> = ["http", "https"]
            .iter()
            .filter_map(|scheme| {
                let plain = crate::sse_targets::row(rows, scheme, d.size, "plain")?;
                (plain.put.len() == d.mbps.len()).then(|| {
                    format!(
                        "{} {:.2}×",
                        scheme.to_uppercase(),
                        ratio(&plain.put, &d.mbps)
                    )
                })
            })
            .collect();
        if !puts.is_empty() {
            line.push_str(&format!("; plain PUT / the disk: {}", puts.join(", ")));
        }
        out.push(line);
    }
    out
}
