//! What a person sees while a run goes: a progress bar on a terminal, one plain line per
//! case otherwise (or with `CI=true`), and a summary, coloured on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::outcome::{CaseResult, Outcome};
use crate::report::Report;
use crate::runner::Progress;

/// Whether stderr is an interactive terminal outside CI.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal() && std::env::var("CI").map_or(true, |v| v != "true")
}

/// Progress display.
pub enum Display {
    /// A progress bar (failures printed above it).
    Bar(ProgressBar),
    /// One line per case on stderr.
    Lines,
}

impl Display {
    /// A display for `total` case runs.
    pub fn new(total: u64) -> Self {
        if interactive() {
            let bar = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style);
            }
            Display::Bar(bar)
        } else {
            Display::Lines
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Display::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

impl Progress for Display {
    fn finished(&self, r: &CaseResult) {
        let line = format!(
            "{:<15} {}{} ({} ms){}",
            r.outcome.as_str(),
            r.id,
            if r.repetition > 1 {
                format!(" #{}", r.repetition)
            } else {
                String::new()
            },
            r.duration_ms,
            r.reason
                .as_ref()
                .map(|x| format!(": {x}"))
                .unwrap_or_default()
        );
        match self {
            Display::Bar(b) => {
                b.inc(1);
                b.set_message(r.id.clone());
                if !r.outcome.as_expected() {
                    b.println(colour(r.outcome, &line));
                }
            }
            Display::Lines => eprintln!("{line}"),
        }
    }
}

/// `text` in the outcome's colour when on a terminal.
pub fn colour(o: Outcome, text: &str) -> String {
    if !interactive() {
        return text.to_string();
    }
    let code = match o {
        Outcome::Pass => "32",
        Outcome::Fail | Outcome::UnexpectedPass => "31",
        Outcome::Error => "33",
        Outcome::ExpectedFail => "35",
        Outcome::NotApplicable => "90",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The end-of-run summary: failure dumps, then counts per outcome.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    for c in report.cases.iter().filter(|c| !c.outcome.as_expected()) {
        out.push_str(&colour(
            c.outcome,
            &format!(
                "\n{} {}: {}\n",
                c.outcome.as_str().to_uppercase(),
                c.id,
                c.title
            ),
        ));
        if let Some(reason) = &c.reason {
            out.push_str(&format!("{reason}\n"));
        }
        if let Some(f) = &c.failure {
            out.push_str(&f.to_text());
        }
    }
    out.push('\n');
    let counts: Vec<String> = Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = report.summary.get(o).copied().unwrap_or(0);
            (n > 0).then(|| colour(*o, &format!("{n} {}", o.as_str())))
        })
        .collect();
    out.push_str(&format!(
        "{} case run(s): {} · seed {} (replay with --seed {})\n",
        report.cases.len(),
        counts.join(", "),
        report.meta.seed,
        report.meta.seed
    ));
    out
}
