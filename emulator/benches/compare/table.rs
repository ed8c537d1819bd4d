//! Samples, medians, spreads and ratios, printed as a Markdown table (so the README can
//! show a run as it was printed).

/// The measurements of one server, transport, size and mode.
pub struct Row {
    pub server: &'static str,
    pub scheme: &'static str,
    pub size_label: String,
    pub mode: &'static str,
    /// Index of the target and of the mode within it.
    pub at: (usize, usize),
    pub size: u64,
    /// MB/s per round.
    pub put: Vec<f64>,
    /// MB/s per round.
    pub get: Vec<f64>,
    /// Milliseconds per round.
    pub range: Vec<f64>,
    /// Milliseconds per round (only rows of the first size).
    pub complete: Vec<f64>,
}

impl Row {
    /// A row with no samples yet.
    pub fn new(
        server: &'static str,
        scheme: &'static str,
        size_label: String,
        mode: &'static str,
        at: (usize, usize),
        size: u64,
    ) -> Self {
        Row {
            server,
            scheme,
            size_label,
            mode,
            at,
            size,
            put: vec![],
            get: vec![],
            range: vec![],
            complete: vec![],
        }
    }
}

/// Median and spread of a sample set.
pub trait Samples {
    /// The median (mean of the middle two for an even count); NaN when empty.
    fn median(&self) -> f64;
    /// (max − min) / median, as a percentage.
    fn spread_pct(&self) -> f64;
}

impl Samples for [f64] {
    fn median(&self) -> f64 {
        if self.is_empty() {
            return f64::NAN;
        }
        let mut v = self.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    fn spread_pct(&self) -> f64 {
        let max = self.iter().copied().fold(f64::MIN, f64::max);
        let min = self.iter().copied().fold(f64::MAX, f64::min);
        (max - min) / self.median() * 100.0
    }
}

/// Median over rounds of `row[i] / plain[i]`.
pub fn ratio(row: &[f64], plain: &[f64]) -> f64 {
    let r: Vec<f64> = row.iter().zip(plain).map(|(a, b)| a / b).collect();
    r.median()
}

fn cell(samples: &[f64], plain: &[f64], digits: usize) -> (String, String) {
    if samples.is_empty() {
        return ("–".into(), "–".into());
    }
    (
        format!(
            "{:.digits$} ±{:.0}%",
            samples.median(),
            samples.spread_pct()
        ),
        format!("{:.2}×", ratio(samples, plain)),
    )
}

/// Prints the table: every row's medians with spreads, and ratios to the plain row of
/// the same server, transport and size (for Complete: of the same server and transport).
pub fn print(rows: &[Row], reps: usize, parts: usize) {
    println!(
        "Medians of {reps} interleaved rounds (± spread = (max − min) / median); × = median \
         ratio to plain of the same server, transport and round. Range: 1 byte in the \
         middle. Complete: Complete Multipart Upload of {parts} parts of the server's minimum part size \
         (COS 1 MiB, S3 5 MiB)."
    );
    println!();
    println!("| server | transport | size | mode | PUT MB/s | PUT × | GET MB/s | GET × | Range ms | Range × | Complete ms | Complete × |");
    println!("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let plain = rows
            .iter()
            .find(|p| p.at.0 == r.at.0 && p.size == r.size && p.mode == "plain")
            .unwrap_or(r);
        let (put, put_x) = cell(&r.put, &plain.put, 0);
        let (get, get_x) = cell(&r.get, &plain.get, 0);
        let (range, range_x) = cell(&r.range, &plain.range, 2);
        let (complete, complete_x) = cell(&r.complete, &plain.complete, 1);
        println!(
            "| {} | {} | {} | {} | {put} | {put_x} | {get} | {get_x} | {range} | {range_x} | {complete} | {complete_x} |",
            r.server, r.scheme, r.size_label, r.mode
        );
    }
    // The peer comparison the issue asks for: the emulator's SSE-C against SeaweedFS's
    // through the same client on the same transport; plain, for context, on every
    // transport both have. SSE-C has HTTPS lines only: the emulator refuses it over HTTP.
    let pairs: Vec<(&Row, &Row)> = ["SSE-C AES256", "plain"]
        .iter()
        .flat_map(|mode| {
            rows.iter()
                .filter(move |r| r.server == "cos-emulator" && r.mode == *mode)
                .filter_map(|emu| {
                    rows.iter()
                        .find(|sw| {
                            sw.server == "SeaweedFS"
                                && sw.scheme == emu.scheme
                                && sw.size == emu.size
                                && sw.mode == emu.mode
                        })
                        .map(|sw| (emu, sw))
                })
        })
        .collect();
    if !pairs.is_empty() {
        println!();
        println!(
            "cos-emulator / SeaweedFS, same client, transport, size and mode: median of the \
             per-round ratios (lowest–highest round)."
        );
        println!();
    }
    for (emu, sw) in pairs {
        let span = |a: &[f64], b: &[f64]| {
            let r: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
            let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{:.2}× ({lo:.2}–{hi:.2})", r.median())
        };
        println!(
            "- {}: emulator {} ({}) / SeaweedFS {} ({}): PUT {}, GET {}",
            emu.size_label,
            emu.mode,
            emu.scheme,
            sw.mode,
            sw.scheme,
            span(&emu.put, &sw.put),
            span(&emu.get, &sw.get),
        );
    }
}

/// `median over rounds of row / base` as `0.00×`, or `–` when either has no samples.
fn times(row: &[f64], base: &[f64]) -> String {
    if row.is_empty() || base.is_empty() {
        return "–".into();
    }
    format!("{:.2}×", ratio(row, base))
}

/// Prints the gateway table: for every transport, size and mode measured through the
/// gateways, the local store's row (from `local`, the main table's `cos-emulator` rows),
/// SeaweedFS direct (the main table's `SeaweedFS` row of the same transport and size, in
/// the same mode where SeaweedFS has it, else plain: the backend's own speed, the limit),
/// gateway A's and A+B's, each with its ratio to the local store's row, to SeaweedFS
/// direct and to plain of the same store, transport and size (medians of per-round
/// ratios).
pub fn print_gateways(gateways: &[Row], local: &[Row], reps: usize) {
    println!(
        "Through the object-store backend: two gateways over one SeaweedFS (S3 auth, HTTP on \
         loopback). Medians of the same {reps} interleaved rounds as above (± spread); \
         ×local = median ratio to the local store's row of the same transport, size, mode \
         and round (MB/s: below 1 is slower; Range ms: above 1 is slower); ×SW = the same \
         to SeaweedFS direct (the main table's SeaweedFS row: same client, transport and \
         size; SSE-C AES256 against its SSE-C, other modes against its plain); ×plain = \
         median ratio to plain of the same store, transport, size and round. A+B: the PUT \
         through one gateway, GET and Range through the other, swapped every round."
    );
    println!();
    println!("| store | transport | size | mode | PUT MB/s | PUT ×local | PUT ×SW | PUT ×plain | GET MB/s | GET ×local | GET ×SW | GET ×plain | Range ms | Range ×local | Range ×SW | Range ×plain |");
    println!("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let same = |a: &Row, b: &Row| a.scheme == b.scheme && a.size == b.size && a.mode == b.mode;
    let plain_of = |rows: &'_ [Row], r: &Row| -> Option<usize> {
        rows.iter()
            .position(|p| p.at.0 == r.at.0 && p.size == r.size && p.mode == "plain")
    };
    for a in gateways.iter().filter(|r| r.server == "gateway A") {
        let Some(base) = local
            .iter()
            .find(|l| l.server == "cos-emulator" && same(l, a))
        else {
            continue;
        };
        let direct = seaweed_direct(local, a);
        let lines = [("local", local, base)]
            .into_iter()
            .chain(direct.map(|d| ("SeaweedFS direct", local, d)))
            .chain(
                gateways
                    .iter()
                    .filter(|g| same(g, a))
                    .map(|g| (g.server, gateways, g)),
            );
        for (store, rows, r) in lines {
            let plain = plain_of(rows, r).map_or(r, |i| &rows[i]);
            let stat = |s: &[f64], digits: usize| {
                if s.is_empty() {
                    "–".to_string()
                } else {
                    format!("{:.digits$} ±{:.0}%", s.median(), s.spread_pct())
                }
            };
            let sw = |s: &[f64], of: fn(&Row) -> &Vec<f64>| {
                direct.map_or("–".to_string(), |d| times(s, of(d)))
            };
            println!(
                "| {store} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.scheme,
                r.size_label,
                r.mode,
                stat(&r.put, 0),
                times(&r.put, &base.put),
                sw(&r.put, |d| &d.put),
                times(&r.put, &plain.put),
                stat(&r.get, 0),
                times(&r.get, &base.get),
                sw(&r.get, |d| &d.get),
                times(&r.get, &plain.get),
                stat(&r.range, 2),
                times(&r.range, &base.range),
                sw(&r.range, |d| &d.range),
                times(&r.range, &plain.range),
            );
        }
    }
}

/// SeaweedFS direct for a gateway row: the main table's `SeaweedFS` row of the same
/// transport and size, in the row's mode where SeaweedFS has it (plain, SSE-C AES256),
/// else plain (the gateway stores every mode as opaque bytes in SeaweedFS).
pub fn seaweed_direct<'a>(local: &'a [Row], gateway: &Row) -> Option<&'a Row> {
    let of = |mode: &str| {
        local.iter().find(|l| {
            l.server == "SeaweedFS"
                && l.scheme == gateway.scheme
                && l.size == gateway.size
                && l.mode == mode
                && !l.put.is_empty()
        })
    };
    of(gateway.mode).or_else(|| of("plain"))
}

/// The peer target: the emulator's SSE-C AES256 over HTTPS at least 2× SeaweedFS's SSE-C
/// AES256 over HTTPS, PUT and GET, at every size both measured (median of per-round
/// ratios, same client and transport).
pub fn peer_targets(rows: &[Row]) -> Vec<crate::verdict::Target> {
    use crate::verdict::{Bound, Target};
    let mut out = Vec::new();
    for emu in rows
        .iter()
        .filter(|r| r.server == "cos-emulator" && r.mode == "SSE-C AES256" && r.scheme == "https")
    {
        let Some(sw) = rows.iter().find(|sw| {
            sw.server == "SeaweedFS"
                && sw.scheme == emu.scheme
                && sw.size == emu.size
                && sw.mode == emu.mode
        }) else {
            continue;
        };
        for (op, a, b) in [("PUT", &emu.put, &sw.put), ("GET", &emu.get, &sw.get)] {
            let measured = (!a.is_empty() && !b.is_empty()).then(|| ratio(a, b));
            out.push(Target::new(
                format!(
                    "emulator / SeaweedFS, SSE-C AES256 {op}, HTTPS, {}",
                    emu.size_label
                ),
                "×",
                Bound::AtLeast(2.0),
                measured,
            ));
        }
    }
    out
}
