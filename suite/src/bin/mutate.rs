//! `cargo run -p cos-suite --bin mutate [-- --quick]`: the mutation harness. Breaks one
//! behaviour per run (`cos_suite::mutate`), runs the cases of the families the broken
//! rules belong to in `--strict`, and prints the computed score and every survivor. Exit status 1 when a mutation survives in `--quick` mode, or when the
//! identity baseline fails.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::Parser;

use cos_suite::app;
use cos_suite::mutate::{self, Mutation, Run, Score};
use cos_suite::profile::Profile;

/// Mutation harness: how many broken servers does the suite notice?
#[derive(Parser)]
#[command(name = "mutate")]
struct Args {
    /// Run the fixed subset of `.ci/run` (one mutation of each kind).
    #[arg(long)]
    quick: bool,
    /// Only these mutations (by name; repeatable).
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// Run the whole catalog for every mutation instead of the broken rules' families.
    #[arg(long)]
    whole_catalog: bool,
    /// Cases in flight at once.
    #[arg(long, short, default_value_t = 8)]
    jobs: usize,
    /// Mutations run at once (each against its own emulator and proxy).
    #[arg(long, default_value_t = 2)]
    parallel: usize,
    /// List the mutations and the cases each would run, then stop.
    #[arg(long)]
    list: bool,
    /// Also write the survivors as a Markdown table here (for the README).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// The cases directory.
    #[arg(long, default_value = "cases")]
    cases: PathBuf,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let loaded = app::load(&args.cases).map_err(|e| e.join("\n"))?;
    let profile = Profile::emulator().map_err(|e| e.to_string())?;
    let mut chosen: Vec<Mutation> = if args.quick {
        mutate::quick()
    } else {
        mutate::all()
    };
    if !args.only.is_empty() {
        for name in &args.only {
            if !chosen.iter().any(|m| m.name == name.as_str()) {
                return Err(format!("no mutation named {name} (see --list)"));
            }
        }
        chosen.retain(|m| args.only.iter().any(|n| n == m.name));
    }
    let cases_for = |m: &Mutation| {
        if args.whole_catalog {
            Ok(loaded.cases.clone())
        } else {
            mutate::relevant_cases(&loaded, m)
        }
    };
    if args.list {
        for m in &chosen {
            let fams = mutate::families(&loaded, m)?;
            println!(
                "{:45} breaks {:50} runs {} case(s) of {}",
                m.name,
                m.breaks.join(","),
                cases_for(m)?.len(),
                fams.into_iter().collect::<Vec<_>>().join(",")
            );
        }
        return Ok(true);
    }
    // The baseline: every case the chosen mutations run, through an identity proxy.
    let mut baseline: Vec<_> = Vec::new();
    for m in &chosen {
        for c in cases_for(m)? {
            if !baseline
                .iter()
                .any(|b: &cos_suite::case::Case| b.id == c.id)
            {
                baseline.push(c);
            }
        }
    }
    let base = mutate::run_one(&loaded, &profile, &mutate::identity(), baseline, args.jobs).await;
    println!(
        "baseline (identity proxy): {} case(s), {} failed{}",
        base.ran,
        base.failed.len(),
        base.error
            .as_deref()
            .map(|e| format!(" — {e}"))
            .unwrap_or_default()
    );
    if base.error.is_some() || !base.failed.is_empty() || !base.errored.is_empty() {
        for line in base.why.iter().chain(&base.errored) {
            println!("  without any mutation: {line}");
        }
        return Ok(false);
    }
    let mut runs: Vec<Run> = Vec::new();
    let total = chosen.len();
    for batch in chosen.chunks(args.parallel.max(1)) {
        let mut set = Vec::new();
        for m in batch {
            let cases = cases_for(m)?;
            set.push(mutate::run_one(&loaded, &profile, m, cases, args.jobs));
        }
        for r in futures_util::future::join_all(set).await {
            println!(
                "[{:2}/{total}] {:9} {:45} {} of {} case(s) failed{}{}",
                runs.len() + 1,
                if r.killed() { "killed" } else { "SURVIVED" },
                r.name,
                r.failed.len(),
                r.ran,
                if r.documented { " [documented]" } else { "" },
                r.error
                    .as_deref()
                    .map(|e| format!(" — error: {e}"))
                    .unwrap_or_default()
            );
            if r.killed() {
                println!("          killed by: {}", r.failed.join(", "));
            }
            for e in &r.errored {
                println!("          error (not a kill): {e}");
            }
            runs.push(r);
        }
    }
    let score = Score::of(&runs);
    println!(
        "\nmutation score: {}/{} killed ({:.1}%); mutations breaking a documented rule: {}/{} killed",
        score.killed,
        score.total,
        score.percent(),
        score.documented_killed,
        score.documented_total
    );
    let survivors: Vec<&Run> = runs.iter().filter(|r| !r.killed()).collect();
    let mut table =
        String::from("| mutation | breaks | cases run | why it survived |\n|---|---|---|---|\n");
    for r in &survivors {
        let why = r.error.clone().unwrap_or_else(|| {
            format!(
                "none of the {} case(s) of the broken rules' families failed",
                r.ran
            )
        });
        println!(
            "survivor: {} (breaks {}): {why}",
            r.name,
            r.breaks.join(", ")
        );
        table.push_str(&format!(
            "| `{}` | {} | {} | {why} |\n",
            r.name,
            r.breaks.join(", "),
            r.ran
        ));
    }
    if let Some(path) = &args.markdown {
        let text = format!(
            "Mutation score: {}/{} killed ({:.1}%); documented: {}/{}.\n\n{table}",
            score.killed,
            score.total,
            score.percent(),
            score.documented_killed,
            score.documented_total
        );
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(!args.quick || survivors.is_empty())
}
