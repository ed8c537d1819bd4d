//! The performance targets the bench checks, each printed with the figure this run measured
//! and its computed verdict, so a table in the docs is never read against a target by hand.

use std::fmt;

/// Which side of its bound a figure must fall on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// The figure must be at least the bound (a throughput ratio).
    AtLeast(f64),
    /// The figure must be at most the bound (a latency ratio, a memory peak).
    AtMost(f64),
}

impl Bound {
    /// Whether `measured` meets the bound.
    pub fn met_by(self, measured: f64) -> bool {
        match self {
            Bound::AtLeast(b) => measured >= b,
            Bound::AtMost(b) => measured <= b,
        }
    }
}

/// One target and what this run measured for it.
#[derive(Clone, Debug)]
pub struct Target {
    /// What is measured, naming the rows it compares ("AES256 SSE GET / plain GET, HTTPS,
    /// 64 MiB").
    pub name: String,
    /// The unit the figure and bound are written in ("×", "GB/s", "MiB", "s").
    pub unit: &'static str,
    /// The bound the figure must meet.
    pub bound: Bound,
    /// The figure this run computed; `None` when the rows it needs were not measured (a
    /// `--sizes` or `--modes` selection left them out), which prints as "not measured".
    pub measured: Option<f64>,
}

impl Target {
    /// A target with the figure this run measured.
    pub fn new(
        name: impl Into<String>,
        unit: &'static str,
        bound: Bound,
        measured: Option<f64>,
    ) -> Self {
        Target {
            name: name.into(),
            unit,
            bound,
            measured,
        }
    }

    /// "met", "missed" or "not measured".
    pub fn verdict(&self) -> &'static str {
        match self.measured {
            Some(m) if m.is_finite() && self.bound.met_by(m) => "met",
            Some(_) => "missed",
            None => "not measured",
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::AtLeast(b) => write!(f, "≥ {b}"),
            Bound::AtMost(b) => write!(f, "≤ {b}"),
        }
    }
}

/// Prints the targets as a Markdown table (target, bound, measured, verdict) and a last
/// line counting how many were met of those measured.
pub fn print(targets: &[Target]) {
    if targets.is_empty() {
        return;
    }
    println!("Targets:");
    println!();
    println!("| target | bound | measured | verdict |");
    println!("|---|---:|---:|---|");
    for t in targets {
        let measured = match t.measured {
            Some(m) => format!("{m:.2} {}", t.unit),
            None => "—".to_string(),
        };
        println!(
            "| {} | {} {} | {measured} | {} |",
            t.name,
            t.bound,
            t.unit,
            t.verdict()
        );
    }
    let measured = targets.iter().filter(|t| t.measured.is_some()).count();
    let met = targets.iter().filter(|t| t.verdict() == "met").count();
    println!();
    println!(
        "{met} of {measured} measured targets met ({} not measured in this run).",
        targets.len() - measured
    );
}
