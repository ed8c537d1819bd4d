//! The emulator's own throughput targets, computed from the main table's rows: a large
//! AES256 SSE GET keeps at least 0.9× of plain's speed (the decryption is not the bound),
//! and a large plain PUT at least 0.8× of MD5 on one core (the ETag's MD5 is a plain PUT's
//! bound).

use crate::table::{ratio, Row, Samples as _};
use crate::verdict::{Bound, Target};

/// The sizes the targets name: "large" is 64 MiB and 1 GiB.
const LARGE: [u64; 2] = [64 << 20, 1 << 30];

/// Every AES256 SSE mode on every transport the emulator serves it on (SSE-C over HTTPS
/// only: it refuses SSE-C over HTTP, SSEC-HTTPS).
const AES256_GETS: [(&str, &str); 5] = [
    ("SSE-COS AES256", "http"),
    ("SSE-COS AES256", "https"),
    ("SSE-KMS AES256", "http"),
    ("SSE-KMS AES256", "https"),
    ("SSE-C AES256", "https"),
];

/// An AES256 SSE GET at least this fraction of plain's GET MB/s.
const SSE_GET_OF_PLAIN: f64 = 0.9;
/// A plain PUT at least this fraction of MD5 on one core.
const PLAIN_PUT_OF_MD5: f64 = 0.8;

/// The emulator's row of `scheme`, `size` and `mode`, if this run measured it.
pub fn row<'a>(rows: &'a [Row], scheme: &str, size: u64, mode: &str) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.server == "cos-emulator" && r.scheme == scheme && r.size == size && r.mode == mode
    })
}

/// `64 MiB`, `1 GiB`: as the table names the size.
fn label(size: u64) -> String {
    crate::human(size)
}

/// The targets, each with the figure this run measured or `None` ("not measured") when a
/// `--sizes`, `--modes` or `--transports` selection left its rows out.
///
/// - AES256 SSE GET / plain GET, per mode, transport and large size: the median of the
///   per-round ratios (the table's GET ×).
/// - Plain PUT / MD5 on one core, per transport and large size: the median over rounds of
///   the round's plain PUT MB/s over the MD5 measured at that round's start (`md5_gbps`,
///   GB/s, one per round), so a load that slows the round slows both alike.
pub fn targets(rows: &[Row], md5_gbps: &[f64]) -> Vec<Target> {
    let mut out = Vec::new();
    for size in LARGE {
        for (mode, scheme) in AES256_GETS {
            let measured = match (
                row(rows, scheme, size, mode),
                row(rows, scheme, size, "plain"),
            ) {
                (Some(sse), Some(plain)) if !sse.get.is_empty() && !plain.get.is_empty() => {
                    Some(ratio(&sse.get, &plain.get))
                }
                _ => None,
            };
            out.push(Target::new(
                format!(
                    "{mode} GET / plain GET, {}, {}",
                    scheme.to_uppercase(),
                    label(size)
                ),
                "×",
                Bound::AtLeast(SSE_GET_OF_PLAIN),
                measured,
            ));
        }
    }
    // Every measured size from 64 MiB up, and 64 MiB and 1 GiB whether measured or not.
    let mut sizes: Vec<u64> = rows
        .iter()
        .filter(|r| r.server == "cos-emulator" && r.size >= LARGE[0])
        .map(|r| r.size)
        .chain(LARGE)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        for scheme in ["http", "https"] {
            let md5_mbps: Vec<f64> = md5_gbps.iter().map(|g| g * 1000.0).collect();
            let measured = row(rows, scheme, size, "plain")
                .filter(|plain| !plain.put.is_empty() && plain.put.len() == md5_mbps.len())
                .map(|plain| ratio(&plain.put, &md5_mbps));
            out.push(Target::new(
                format!(
                    "plain PUT / MD5 on one core, {}, {} (MD5 median {:.3} GB/s)",
                    scheme.to_uppercase(),
                    label(size),
                    md5_gbps.median()
                ),
                "×",
                Bound::AtLeast(PLAIN_PUT_OF_MD5),
                measured,
            ));
        }
    }
    out
}
