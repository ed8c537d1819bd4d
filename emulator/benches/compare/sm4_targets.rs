//! The SM4 targets: the emulator's SM4 modes cost little against plain, PUT at least 0.85×
//! and GET at least 0.6× of plain on the same server, transport, size and round, at 64 MiB
//! and 1 GiB (median of per-round ratios). SSE-COS SM4 over HTTP is the target proper and
//! is listed as "not measured" when a run leaves it out; SSE-KMS SM4 and SSE-C SM4 rows
//! get the same bounds when the run measured them.

use crate::table::{ratio, Row};
use crate::verdict::{Bound, Target};

/// The sizes the targets apply to.
const SIZES: [(u64, &str); 2] = [(64 << 20, "64 MiB"), (1 << 30, "1 GiB")];
/// The SM4 modes, as the table names them; the first is the target proper.
const MODES: [&str; 3] = ["SSE-COS SM4", "SSE-KMS SM4", "SSE-C SM4"];
/// The bounds on SM4 / plain.
const PUT_BOUND: f64 = 0.85;
const GET_BOUND: f64 = 0.6;

/// The emulator's SM4 PUT and GET against plain, one target per measured row at 64 MiB
/// and 1 GiB (and SSE-COS SM4 over HTTP at both sizes, measured or not).
pub fn sm4_targets(rows: &[Row]) -> Vec<Target> {
    let mut out = Vec::new();
    for mode in MODES {
        for scheme in ["http", "https"] {
            for (size, label) in SIZES {
                let row = rows.iter().find(|r| {
                    r.server == "cos-emulator"
                        && r.mode == mode
                        && r.scheme == scheme
                        && r.size == size
                });
                let plain = rows.iter().find(|p| {
                    p.server == "cos-emulator"
                        && p.mode == "plain"
                        && p.scheme == scheme
                        && p.size == size
                });
                let proper = mode == MODES[0] && scheme == "http";
                if row.is_none() && !proper {
                    continue;
                }
                for (op, bound) in [("PUT", PUT_BOUND), ("GET", GET_BOUND)] {
                    let measured = row.zip(plain).and_then(|(r, p)| {
                        let (a, b) = match op {
                            "PUT" => (&r.put, &p.put),
                            _ => (&r.get, &p.get),
                        };
                        (!a.is_empty() && !b.is_empty()).then(|| ratio(a, b))
                    });
                    out.push(Target::new(
                        format!(
                            "emulator {mode} {op} / plain {op}, {}, {label}",
                            scheme.to_uppercase()
                        ),
                        "×",
                        Bound::AtLeast(bound),
                        measured,
                    ));
                }
            }
        }
    }
    out
}
