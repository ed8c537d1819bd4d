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
fn ratio(row: &[f64], plain: &[f64]) -> f64 {
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
    // The peer comparison the issue asks for: the emulator's SSE-C against SeaweedFS's.
    for sw in rows
        .iter()
        .filter(|r| r.server == "SeaweedFS" && r.mode.starts_with("SSE-C"))
    {
        if let Some(emu) = rows
            .iter()
            .find(|r| r.server == "cos-emulator" && r.size == sw.size && r.mode == "SSE-C AES256")
        {
            println!();
            println!(
                "{}: emulator SSE-C AES256 ({}) / SeaweedFS SSE-C ({}): PUT {:.2}×, GET {:.2}×",
                sw.size_label,
                emu.scheme,
                sw.scheme,
                emu.put.median() / sw.put.median(),
                emu.get.median() / sw.get.median()
            );
        }
    }
}
