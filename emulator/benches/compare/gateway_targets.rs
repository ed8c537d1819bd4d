//! The gateway's targets: through its backend it should run at the backend's own speed.
//! Gateway A over SeaweedFS against SeaweedFS direct (the main table's row of the same
//! client, transport, size, and mode where SeaweedFS has it: plain and SSE-C AES256), as
//! medians of per-round ratios:
//!
//! - PUT and GET at least 0.8× of SeaweedFS direct at 8 MiB and above, at least 0.6× at
//!   1 MiB (below 8 MiB);
//! - a 1-byte Range GET at most 1.5× SeaweedFS direct's time.

use crate::table::{ratio, seaweed_direct, Row};
use crate::verdict::{Bound, Target};

/// From this size on a PUT or GET should reach 0.8× of SeaweedFS direct; below, 0.6×.
const LARGE: u64 = 8 << 20;

/// The gateway targets of every gateway A row with a SeaweedFS-direct row of the same
/// mode (`local`: the main table's rows); none when the gateway table or SeaweedFS was
/// not measured.
pub fn targets(gateways: &[Row], local: &[Row]) -> Vec<Target> {
    let mut out = Vec::new();
    for g in gateways.iter().filter(|r| r.server == "gateway A") {
        let Some(sw) = seaweed_direct(local, g).filter(|sw| sw.mode == g.mode) else {
            continue;
        };
        let floor = if g.size >= LARGE { 0.8 } else { 0.6 };
        let measured = |a: &[f64], b: &[f64]| (!a.is_empty() && !b.is_empty()).then(|| ratio(a, b));
        for (op, a, b) in [("PUT", &g.put, &sw.put), ("GET", &g.get, &sw.get)] {
            out.push(Target::new(
                format!(
                    "gateway / SeaweedFS direct, {} {op}, {}, {}",
                    g.mode,
                    g.scheme.to_uppercase(),
                    g.size_label
                ),
                "×",
                Bound::AtLeast(floor),
                measured(a, b),
            ));
        }
        out.push(Target::new(
            format!(
                "gateway / SeaweedFS direct, {} 1-byte Range GET time, {}, {}",
                g.mode,
                g.scheme.to_uppercase(),
                g.size_label
            ),
            "×",
            Bound::AtMost(1.5),
            measured(&g.range, &sw.range),
        ));
    }
    out
}
