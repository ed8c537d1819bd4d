//! The `cos-suite` command line.
//!
//! Exit codes (designed, like ripgrep's): 0 every case came out as the profile predicts;
//! 1 an unexpected failure or pass; 2 a usage, configuration or harness error; 3 the
//! filter matched no case (h2spec exits 0 there and hides typos).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use cos_suite::app::{self, EnvOptions, Overrides};
use cos_suite::codes::{self, Strictness};
use cos_suite::discover;
use cos_suite::outcome::Outcome;
use cos_suite::profile::Profile;
use cos_suite::report::{self, merge, Report, RunMeta};
use cos_suite::runner::{run_all, RunOptions};
use cos_suite::terminal::{self, Display};

/// Exit code: a usage, configuration or harness error.
const EXIT_CONFIG: u8 = 2;
/// Exit code: the filter matched no case.
const EXIT_NO_MATCH: u8 = 3;

#[derive(Parser)]
#[command(
    name = "cos-suite",
    version,
    about = "Conformance suite for server-side encryption on Tencent COS and COS-compatible stores",
    long_about = "Runs the YAML cases of cases/ against a COS-compatible endpoint, rule by rule, and \
writes compliance reports (JSON, JUnit XML, Markdown, HTML).\n\n\
With no --profile and no --endpoint, `cos-suite run` starts the reference emulator in-process \
and runs every case against it.\n\n\
Exit codes: 0 all as expected, 1 unexpected failure or pass, 2 usage/configuration/harness \
error, 3 the filter matched no case."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run cases against an endpoint (default: the embedded emulator) and write reports.
    Run(RunArgs),
    /// Validate every case and the rule catalog without running anything, and the rule ×
    /// operation grid: a positive and a negative case per rule and operation it lists, or
    /// its `untestable:` reason.
    Check {
        #[command(flatten)]
        cases: CasesArg,
        /// Also validate these profiles against the catalog.
        #[arg(long = "profile", value_name = "FILE")]
        profiles: Vec<PathBuf>,
    },
    /// List the cases (id, polarity, rules, title).
    List {
        #[command(flatten)]
        cases: CasesArg,
        /// Only cases whose id, rule id or family matches (repeatable; `*` globs ids).
        #[arg(long, short, value_name = "PATTERN")]
        filter: Vec<String>,
    },
    /// Show the rule catalog with case counts (positive/negative) and the rule × operation
    /// grid.
    Rules {
        #[command(flatten)]
        cases: CasesArg,
    },
    /// Run the catalog against several endpoints (default: the embedded emulator in the COS
    /// and the S3 dialect, then SeaweedFS and moto as scripts/peers.sh starts them) and
    /// write the rule × endpoint
    /// matrix (JSON, Markdown, HTML) with each endpoint's own reports beside it.
    Peers(PeersArgs),
    /// Probe what an endpoint offers (capabilities, SSE modes and algorithms per region),
    /// which behaviour it has for every `unspecified` and `superseded` rule (each rule's
    /// cases run once per behaviour it lists; the one under which they all pass is the
    /// endpoint's) and which error code it answers in every situation of cases/codes.yaml,
    /// and write a draft profile with each finding and the exchange that showed it.
    Discover(DiscoverArgs),
    /// Work with JSON reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge JSON reports into a cross-endpoint matrix (a column per endpoint).
    Merge {
        /// The report.json files.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Directory for matrix.md and matrix.html.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct CasesArg {
    /// The cases directory (default: ./cases, else the one this binary was built from).
    #[arg(long = "cases", value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl CasesArg {
    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(app::default_cases_dir)
    }
}

#[derive(Args)]
struct DiscoverArgs {
    /// The profile to start from (default: the embedded emulator's): its endpoint, dialect,
    /// credentials, TLS, buckets, KMS keys and the regions to probe. Its capabilities,
    /// regions' modes and `behaviour:` map are ignored: they are what is found.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Start the emulator in-process with the profile's behaviours and discover them.
    #[arg(long)]
    embedded: bool,
    /// Where the draft profile goes.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the error codes found, per situation of cases/codes.yaml, as YAML (with
    /// each situation's exchange): what to contribute back.
    #[arg(long, value_name = "FILE")]
    codes_out: Option<PathBuf>,
    /// Find capabilities and behaviours only, without the last phase that reads the error
    /// codes (one more run of the whole catalog, the longest phase).
    #[arg(long, conflicts_with = "codes_out")]
    no_codes: bool,
    #[command(flatten)]
    cases: CasesArg,
    /// Cases in flight at once.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 8)]
    jobs: usize,
    /// Seed of the random bodies (printed every run).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

#[derive(Args)]
struct PeersArgs {
    /// The endpoints: `emulator` (the embedded emulator), `emulator-s3` (the same in the S3
    /// dialect, fixtures/profiles/emulator-s3.yaml) or a profile file; default `emulator
    /// emulator-s3 fixtures/profiles/seaweedfs.yaml fixtures/profiles/moto.yaml`.
    #[arg(value_name = "emulator|emulator-s3|PROFILE")]
    endpoints: Vec<String>,
    /// Where the matrix and the per-endpoint reports go.
    #[arg(long, value_name = "DIR", default_value = "reports/peers")]
    out: PathBuf,
    #[command(flatten)]
    cases: CasesArg,
    /// Only cases whose id, rule id or family matches (repeatable).
    #[arg(long, short, value_name = "PATTERN")]
    filter: Vec<String>,
    /// As `run --strict[=LEVEL]`.
    #[arg(
        long,
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "vendor"
    )]
    strict: Option<Strictness>,
    /// Cases in flight at once per endpoint.
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Seed of the random bodies (the same for every endpoint).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

#[derive(Args)]
struct RunArgs {
    /// Endpoint profile (fixtures/profiles/*.yaml). Without it and without --endpoint the
    /// embedded emulator runs with fixtures/profiles/emulator.yaml.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Start the embedded emulator with --profile's behaviour and regions.
    #[arg(long)]
    embedded: bool,
    /// An endpoint template with {bucket} and {region}, or an address to connect to
    /// (https://127.0.0.1:9443) while the Host header stays the virtual-host name.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    #[command(flatten)]
    cases: CasesArg,
    /// Only cases whose id, rule id or family matches (repeatable; `*` globs ids).
    #[arg(long, short, value_name = "PATTERN")]
    filter: Vec<String>,
    /// Fail a case on a wrong COS error code (otherwise a warning): `--strict` (=`vendor`)
    /// for codes a vendor source backs (cases/codes.yaml confidence vendor-doc, vendor-list,
    /// sdk-test), `--strict=all` for every expected code.
    #[arg(
        long,
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "vendor"
    )]
    strict: Option<Strictness>,
    /// Cases in flight at once (default: cores × 4).
    #[arg(long, short, value_name = "N")]
    jobs: Option<usize>,
    /// Seed of the random bodies (printed every run; replays a run).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Run every case K times (flushes out flaky behaviour).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    report_dir: PathBuf,
    /// Accept any TLS certificate (development only).
    #[arg(long)]
    insecure: bool,
    /// PEM file of CA certificates to trust.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Peers(args) => peers(args),
        Command::Discover(args) => discover(args),
        Command::Check { cases, profiles } => check(&cases.dir(), &profiles),
        Command::List { cases, filter } => list(&cases.dir(), &filter),
        Command::Rules { cases } => rules(&cases.dir()),
        Command::Report {
            command: ReportCommand::Merge { reports, out },
        } => merge_reports(&reports, &out),
    }
}

/// Prints a line on stdout; a closed pipe (`cos-suite list | head`) ends output quietly
/// instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("cos-suite: error: {msg}");
    ExitCode::from(EXIT_CONFIG)
}

fn load(dir: &std::path::Path) -> Result<app::Loaded, ExitCode> {
    app::load(dir).map_err(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "cos-suite: error: {} problem(s) in {}",
            errors.len(),
            dir.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check(dir: &std::path::Path, profiles: &[PathBuf]) -> ExitCode {
    let loaded = match load(dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    for p in profiles {
        let checked = Profile::load(p)
            .map_err(|e| e.to_string())
            .and_then(|prof| {
                prof.check_behaviours(&loaded.catalog)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                // A profile's `codes:` overrides name codes or rows of cases/codes.yaml.
                codes::CodePolicy::new(
                    Strictness::Off,
                    loaded.codes.clone(),
                    &prof.codes,
                    &prof.name,
                )
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", p.display()))
            });
        if let Err(e) = checked {
            return fail(e);
        }
    }
    let coverage = cos_suite::coverage::per_rule(loaded.catalog.rules(), &loaded.cases);
    let gaps = cos_suite::coverage::gaps(&coverage, loaded.cases.len());
    // The rule × operation grid: both sides of every listed operation, or a reason.
    let rows = cos_suite::grid::grid(loaded.catalog.rules(), &loaded.cases);
    let grid_gaps = cos_suite::grid::gaps(&loaded.catalog, &rows);
    if !gaps.is_empty() || !grid_gaps.is_empty() {
        for gap in &gaps {
            eprintln!("cos-suite: {}: {gap}", dir.join("rules.yaml").display());
        }
        for gap in &grid_gaps {
            eprintln!("cos-suite: {gap}");
        }
        let (cells, _, empty) = cos_suite::grid::totals(&rows);
        eprintln!(
            "cos-suite: error: {} coverage gap(s); {empty} empty side(s) in {cells} rule × operation cells",
            gaps.len() + grid_gaps.len()
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let (cells, _, _) = cos_suite::grid::totals(&rows);
    out!(
        "ok: {} rules, {} cases, {cells} rule × operation cells covered, {} profile(s) valid",
        loaded.catalog.rules().len(),
        loaded.cases.len(),
        profiles.len()
    );
    ExitCode::SUCCESS
}

fn list(dir: &std::path::Path, filter: &[String]) -> ExitCode {
    let loaded = match load(dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cases = app::select(&loaded.cases, filter);
    if cases.is_empty() {
        eprintln!("cos-suite: no case matches {}", filter.join(", "));
        return ExitCode::from(EXIT_NO_MATCH);
    }
    for c in &cases {
        out!(
            "{:<48} {:<8} {:<32} {}",
            c.id,
            format!("{:?}", c.polarity).to_lowercase(),
            c.rules.join(","),
            c.title
        );
    }
    ExitCode::SUCCESS
}

fn rules(dir: &std::path::Path) -> ExitCode {
    let loaded = match load(dir) {
        Ok(l) => l,
        Err(code) => return code,
    };
    out!(
        "{:<28} {:<12} {:<11} {:>5} {:>5}  title",
        "rule",
        "family",
        "status",
        "+",
        "-"
    );
    let coverage = cos_suite::coverage::per_rule(loaded.catalog.rules(), &loaded.cases);
    let exercised = cos_suite::coverage::exercised(loaded.catalog.rules(), &loaded.cases);
    for ((r, counts), ex) in loaded.catalog.rules().iter().zip(&coverage).zip(&exercised) {
        let (pos, neg) = (counts.positive, counts.negative);
        out!(
            "{:<28} {:<12} {:<11} {:>5} {:>5}  {}",
            r.id,
            r.family,
            r.status.as_str(),
            pos,
            neg,
            r.title
        );
        // The modes (each algorithm separately) and sizes the rule was exercised at.
        out!("{:<28} modes: {}", "", ex.modes_text());
        out!("{:<28} sizes: {}", "", ex.sizes_text());
    }
    for gap in cos_suite::coverage::algorithm_gaps(loaded.catalog.rules(), &exercised) {
        out!("gap: {gap}");
    }
    let rows = cos_suite::grid::grid(loaded.catalog.rules(), &loaded.cases);
    out!("");
    for line in cos_suite::grid::table(&rows) {
        out!("{line}");
    }
    ExitCode::SUCCESS
}

fn merge_reports(paths: &[PathBuf], out: &std::path::Path) -> ExitCode {
    let mut reports = Vec::new();
    for p in paths {
        match Report::load(p) {
            Ok(r) => reports.push(r),
            Err(e) => return fail(e),
        }
    }
    let mut m = merge::matrix(&reports);
    // A report beside the matrix (out/<name>/report.json) is linked from its column.
    m.links = paths
        .iter()
        .map(|p| {
            let html = p.with_file_name("report.html");
            html.strip_prefix(out)
                .ok()
                .filter(|_| html.exists())
                .map(|r| r.display().to_string())
        })
        .collect();
    let written = std::fs::create_dir_all(out)
        .and_then(|()| std::fs::write(out.join("matrix.json"), merge::json(&m)))
        .and_then(|()| std::fs::write(out.join("matrix.md"), merge::markdown(&m)))
        .and_then(|()| std::fs::write(out.join("matrix.html"), merge::html(&m)));
    match written {
        Ok(()) => {
            out!(
                "wrote {} and {}",
                out.join("matrix.md").display(),
                out.join("matrix.html").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{}: {e}", out.display())),
    }
}

/// The async runtime the commands that reach an endpoint run on.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))
}

fn run(args: RunArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(run_async(args))
}

async fn run_async(args: RunArgs) -> ExitCode {
    let loaded = match load(&args.cases.dir()) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cases = app::select(&loaded.cases, &args.filter);
    if cases.is_empty() {
        eprintln!(
            "cos-suite: no case matches {} (try `cos-suite list`)",
            args.filter.join(", ")
        );
        return ExitCode::from(EXIT_NO_MATCH);
    }
    let embedded = args.embedded || (args.profile.is_none() && args.endpoint.is_none());
    if args.embedded && args.endpoint.is_some() {
        return fail("--embedded and --endpoint exclude each other");
    }
    let target = Target {
        profile: args.profile.clone(),
        embedded,
        overrides: Overrides {
            endpoint: args.endpoint.clone(),
            insecure: args.insecure,
            ca_file: args.ca_file.clone(),
        },
    };
    let settings = Settings {
        seed: args.seed.unwrap_or_else(rand::random),
        strict: args.strict.unwrap_or_default(),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(4, |n| n.get() * 4)),
        repeat: args.repeat,
    };
    let report = match run_endpoint(&loaded, &cases, &target, &settings).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    eprint!("{}", terminal::summary(&report));
    match report.write_all(&args.report_dir) {
        Ok(files) => eprintln!(
            "reports: {}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => {
            return fail(format!(
                "writing reports to {}: {e}",
                args.report_dir.display()
            ))
        }
    }
    exit_code(&report)
}

/// Which endpoint a run judges.
struct Target {
    /// The profile file (none: the built-in emulator profile).
    profile: Option<PathBuf>,
    /// Start the embedded emulator.
    embedded: bool,
    /// Command-line overrides.
    overrides: Overrides,
}

/// How a run goes, whatever the endpoint.
struct Settings {
    seed: u64,
    strict: Strictness,
    jobs: usize,
    repeat: u32,
}

/// Runs `cases` against one endpoint (pre-flight first) and builds its report; an error
/// is the one line that says why nothing ran.
async fn run_endpoint(
    loaded: &app::Loaded,
    cases: &[cos_suite::case::Case],
    target: &Target,
    settings: &Settings,
) -> Result<Report, String> {
    let profile = match &target.profile {
        Some(p) => Profile::load(p),
        None => Profile::emulator(),
    }
    .map_err(|e| e.to_string())?;
    let endpoint = app::prepare(profile, target.embedded, &target.overrides).await?;
    for w in &endpoint.warnings {
        eprintln!("cos-suite: warning: {w}");
    }
    let (seed, strictness) = (settings.seed, settings.strict);
    let env = match app::make_env(
        loaded,
        &endpoint,
        &EnvOptions {
            seed,
            strict: strictness,
        },
    ) {
        Ok(e) => e,
        Err(e) => {
            if let Some(emu) = endpoint.embedded {
                emu.shutdown().await;
            }
            return Err(e);
        }
    };
    // One request before any case: a profile that does not fit its endpoint (dialect,
    // signature, clock, TLS trust) fails here in one line.
    match cos_suite::runner::preflight(&env).await {
        Ok(fit) => eprintln!("cos-suite: {}", fit.0),
        Err(line) => {
            if let Some(emu) = endpoint.embedded {
                emu.shutdown().await;
            }
            return Err(format!("pre-flight: {line}"));
        }
    }
    let policy = env.strict.clone();
    let jobs = settings.jobs;
    eprintln!(
        "cos-suite {}: {} case(s) × {} against {} (profile {}, {} dialect), seed {seed}, {jobs} job(s){}",
        cos_suite::VERSION,
        cases.len(),
        settings.repeat,
        endpoint.label,
        endpoint.profile.name,
        endpoint.profile.dialect.as_str(),
        match strictness {
            Strictness::Off => "",
            Strictness::Vendor => ", strict (vendor-sourced codes)",
            Strictness::All => ", strict (all codes)",
        }
    );
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let clock = Instant::now();
    let display = Arc::new(Display::new(
        cases.len() as u64 * u64::from(settings.repeat),
    ));
    let (results, warnings) = run_all(
        env,
        cases.to_vec(),
        RunOptions {
            jobs,
            repeat: settings.repeat,
        },
        display.clone(),
    )
    .await;
    display.finish();
    if let Some(emu) = endpoint.embedded {
        emu.shutdown().await;
    }
    let meta = RunMeta {
        suite_version: cos_suite::VERSION.to_string(),
        catalog_revision: report::catalog_revision(&loaded.cases_dir),
        endpoint: endpoint.label.clone(),
        profile: endpoint.profile.name.clone(),
        seed,
        strict: strictness,
        started_at,
        duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let profile = &endpoint.profile;
    let behaviour = |rule: &str| {
        profile
            .behaviour_of(rule, &loaded.catalog)
            .map(str::to_string)
    };
    let mut report = Report::build(meta, &loaded.catalog, cases, results, warnings, &behaviour);
    report.annotate_codes(&policy, cases);
    Ok(report)
}

/// `cos-suite peers`: the catalog against each endpoint, one report directory each under
/// `out/<profile name>/`, and the merged rule × endpoint matrix (`matrix.json`, `.md`,
/// `.html`) in `out/`. An endpoint whose pre-flight fails is reported and left out.
fn peers(args: PeersArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let loaded = match load(&args.cases.dir()) {
            Ok(l) => l,
            Err(code) => return code,
        };
        let cases = app::select(&loaded.cases, &args.filter);
        if cases.is_empty() {
            eprintln!("cos-suite: no case matches {}", args.filter.join(", "));
            return ExitCode::from(EXIT_NO_MATCH);
        }
        let settings = Settings {
            seed: args.seed.unwrap_or_else(rand::random),
            strict: args.strict.unwrap_or_default(),
            jobs: args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(4, |n| n.get() * 4)),
            repeat: 1,
        };
        let endpoints: Vec<String> = if args.endpoints.is_empty() {
            PEERS.iter().map(|s| s.to_string()).collect()
        } else {
            args.endpoints.clone()
        };
        let mut reports = Vec::new();
        let mut links = Vec::new();
        let mut skipped = Vec::new();
        for name in &endpoints {
            let target = if name == "emulator" {
                Target {
                    profile: None,
                    embedded: true,
                    overrides: Overrides::default(),
                }
            } else if name == "emulator-s3" {
                Target {
                    profile: Some(PathBuf::from(EMULATOR_S3_PROFILE)),
                    embedded: true,
                    overrides: Overrides::default(),
                }
            } else {
                Target {
                    profile: Some(PathBuf::from(name)),
                    embedded: false,
                    overrides: Overrides::default(),
                }
            };
            eprintln!("cos-suite peers: {name}");
            match run_endpoint(&loaded, &cases, &target, &settings).await {
                Ok(report) => {
                    eprint!("{}", terminal::summary(&report));
                    let dir = args.out.join(&report.meta.profile);
                    if let Err(e) = report.write_all(&dir) {
                        return fail(format!("writing reports to {}: {e}", dir.display()));
                    }
                    links.push(Some(format!("{}/report.html", report.meta.profile)));
                    reports.push(report);
                }
                Err(e) => {
                    eprintln!("cos-suite peers: {name}: left out: {e}");
                    skipped.push(format!("{name}: {e}"));
                }
            }
        }
        if reports.is_empty() {
            return fail("no endpoint ran");
        }
        let mut m = merge::matrix(&reports);
        m.links = links;
        let written = std::fs::create_dir_all(&args.out)
            .and_then(|()| std::fs::write(args.out.join("matrix.json"), merge::json(&m)))
            .and_then(|()| std::fs::write(args.out.join("matrix.md"), merge::markdown(&m)))
            .and_then(|()| std::fs::write(args.out.join("matrix.html"), merge::html(&m)));
        if let Err(e) = written {
            return fail(format!("{}: {e}", args.out.display()));
        }
        out!(
            "wrote {} (matrix.json, matrix.md, matrix.html; {} endpoint(s){})",
            args.out.display(),
            reports.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; left out: {}", skipped.join("; "))
            }
        );
        if skipped.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_CONFIG)
        }
    })
}

/// `cos-suite discover`: the findings of `cos_suite::discover` written as a draft profile
/// (and the codes as YAML with `--codes-out`).
fn discover(args: DiscoverArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let loaded = match load(&args.cases.dir()) {
            Ok(l) => l,
            Err(code) => return code,
        };
        let (given, text) = match &args.profile {
            Some(p) => match Profile::load(p) {
                Ok(given) => (given, std::fs::read_to_string(p).unwrap_or_default()),
                Err(e) => return fail(e.to_string()),
            },
            None => match Profile::emulator() {
                Ok(given) => (given, cos_suite::profile::EMULATOR_PROFILE.to_string()),
                Err(e) => return fail(e.to_string()),
            },
        };
        let seed = args.seed.unwrap_or_else(rand::random);
        eprintln!("cos-suite discover: seed {seed}");
        let opts = discover::Options {
            embedded: args.embedded,
            jobs: args.jobs,
            seed,
            read_codes: !args.no_codes,
        };
        let found = match discover::discover(&loaded, &given, &opts, &|phase| {
            eprintln!("cos-suite discover: {phase}")
        })
        .await
        {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        let draft = discover::draft::profile(&text, &found);
        if let Err(e) = std::fs::write(&args.out, draft) {
            return fail(format!("{}: {e}", args.out.display()));
        }
        if let Some(path) = &args.codes_out {
            let yaml = match serde_norway::to_string(&found.codes) {
                Ok(y) => y,
                Err(e) => return fail(format!("{}: {e}", path.display())),
            };
            if let Err(e) = std::fs::write(path, yaml) {
                return fail(format!("{}: {e}", path.display()));
            }
        }
        let caps = &found.capabilities.capabilities;
        out!(
            "wrote {}: {} of {} capabilities offered, {} region(s) probed; {} of {} rules with behaviours decided{}; {}",
            args.out.display(),
            caps.iter().filter(|c| c.offered).count(),
            caps.len(),
            found.capabilities.regions.len(),
            found.behaviours.found.len(),
            found.behaviours.rules.len(),
            match found.behaviours.rules.len() - found.behaviours.found.len() {
                0 => String::new(),
                n => format!(", {n} undecided (the draft's comments say why)"),
            },
            found.codes.summary()
        );
        ExitCode::SUCCESS
    })
}

/// The embedded emulator in the S3 dialect (`emulator-s3` among the endpoints).
const EMULATOR_S3_PROFILE: &str = "fixtures/profiles/emulator-s3.yaml";

/// The endpoints `cos-suite peers` judges by default: the embedded emulator in both
/// dialects (the S3 one is the reference a peer's red cell is read against), then the two
/// S3 stores scripts/peers.sh starts.
const PEERS: &[&str] = &[
    "emulator",
    "emulator-s3",
    "fixtures/profiles/seaweedfs.yaml",
    "fixtures/profiles/moto.yaml",
];

/// 1 for an unexpected failure or pass, else 2 when a case could not run, else 0.
fn exit_code(report: &Report) -> ExitCode {
    let any = |o: Outcome| report.cases.iter().any(|c| c.outcome == o);
    if any(Outcome::Fail) || any(Outcome::UnexpectedPass) {
        ExitCode::from(1)
    } else if any(Outcome::Error) {
        ExitCode::from(EXIT_CONFIG)
    } else {
        ExitCode::SUCCESS
    }
}
