//! The whole case catalog as tests, shared by the test binaries that run it against
//! different servers (`conformance`: the embedded emulator; `gateway`: two gateways over
//! SeaweedFS, the cases routed between them): one trial per case file, named by its id, on
//! a shared tokio runtime, `--strict`.
//!
//! `cargo test -p cos-suite --test conformance -- sse-c/` runs a family;
//! `--list --format terse` and `--exact` work, so nextest can drive it (no `with_kind`:
//! its `[kind]` prefix would break nextest's parsing of the list). An empty catalog
//! is a failure, never a silent pass.

use std::any::Any;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use cos_suite::app::{self, EnvOptions};
use cos_suite::case::Case;
use cos_suite::embedded::Embedded;
use cos_suite::outcome::HarnessVerdict;
use cos_suite::runner::{run_case, Env};

/// The servers and the run state, started by the first trial that runs.
pub struct Shared {
    /// The runtime every case runs on.
    pub runtime: tokio::runtime::Runtime,
    /// The run state of each server a case can be routed to ([`Route::Run`] indexes it).
    pub envs: Vec<Arc<Env>>,
    /// The first server's emulator (shut down at the end).
    pub embedded: Mutex<Option<Embedded>>,
    /// Whatever else must live as long as the run (a SeaweedFS process, other gateways).
    pub keep: Mutex<Vec<Box<dyn Any + Send>>>,
}

/// Starts the servers for a run of `loaded`.
pub type Start = fn(&app::Loaded) -> Result<Shared, String>;

/// Where a case goes (`index` counts the catalog in id order).
pub type Plan = fn(index: usize, case: &Case) -> Route;

/// A case's route.
// The conformance binary runs every case on its one emulator; only the gateway binary's
// sample skips, so in the other binary `Skip` is never built.
#[allow(dead_code)]
pub enum Route {
    /// Left out of this run, reported `ignored` with the reason.
    Skip(String),
    /// Run against the server of [`Shared::envs`] at this index.
    Run(usize),
}

type Lazy = Arc<OnceLock<Result<Shared, String>>>;

/// `serial: true` as `cos-suite run` honours it: a serial case (bucket- or account-wide
/// state: a bucket's default encryption, a disabled CMK, a rotated master key) runs alone,
/// holding this lock exclusively; every other case shares it, so libtest's parallel trials
/// never overlap a serial one.
static SERIAL: RwLock<()> = RwLock::new(());

/// A runtime for a run.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

/// The run state for `endpoint`: `--strict`, a fixed seed.
pub fn env(loaded: &app::Loaded, endpoint: &app::Endpoint) -> Result<Arc<Env>, String> {
    app::make_env(
        loaded,
        endpoint,
        &EnvOptions {
            seed: 20261123,
            strict: true.into(),
        },
    )
}

fn trial(case: Case, loaded: Arc<app::Loaded>, shared: Lazy, start: Start, route: Route) -> Trial {
    let name = case.id.clone();
    // A case the profile cannot run is `ignored` with its reason, never `ok`: an `ok`
    // would claim a check that did not happen.
    Trial::ignorable_test(name, move || {
        let server = match route {
            Route::Skip(reason) => return Ok(Completion::ignored_with(reason)),
            Route::Run(server) => server,
        };
        let shared = shared
            .get_or_init(|| start(&loaded))
            .as_ref()
            .map_err(|e| Failed::from(e.as_str()))?;
        let env = shared
            .envs
            .get(server)
            .ok_or_else(|| format!("no server {server}: the run started {}", shared.envs.len()))?;
        let result = if case.serial {
            let _alone = SERIAL.write().unwrap_or_else(|e| e.into_inner());
            shared.runtime.block_on(run_case(env, &case, 1))
        } else {
            let _shared = SERIAL.read().unwrap_or_else(|e| e.into_inner());
            shared.runtime.block_on(run_case(env, &case, 1))
        };
        match result.harness_verdict() {
            HarnessVerdict::Ok => Ok(Completion::Completed),
            HarnessVerdict::Ignored(reason) => Ok(Completion::ignored_with(reason)),
            HarnessVerdict::Failed(msg) => Err(msg.into()),
        }
    })
}

/// Runs the catalog under `cases/` as libtest trials against what `start` starts, each
/// case where `plan` routes it.
pub fn run(start: Start, plan: Plan) -> ! {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let loaded = match app::load(&dir) {
        Ok(l) => Arc::new(l),
        Err(errors) => {
            eprintln!("the case catalog does not load:\n{}", errors.join("\n"));
            std::process::exit(101);
        }
    };
    if loaded.cases.is_empty() {
        eprintln!(
            "no case found under {}: the conformance run would be vacuous",
            dir.display()
        );
        std::process::exit(101);
    }
    let shared: Lazy = Arc::new(OnceLock::new());
    let mut per_server = std::collections::BTreeMap::new();
    let trials = loaded
        .cases
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, c)| {
            let route = plan(i, &c);
            if let Route::Run(server) = route {
                *per_server.entry(server).or_insert(0usize) += 1;
            }
            trial(c, loaded.clone(), shared.clone(), start, route)
        })
        .collect();
    if per_server.len() > 1 {
        // Where the cases go, so a run shows every server served its share.
        let split: Vec<String> = per_server
            .iter()
            .map(|(server, n)| format!("server {server}: {n} cases"))
            .collect();
        eprintln!("routed: {}", split.join(", "));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(s)) = Arc::into_inner(shared).and_then(OnceLock::into_inner) {
        let emulator = s.embedded.lock().ok().and_then(|mut e| e.take());
        s.runtime.block_on(async {
            for env in &s.envs {
                cos_suite::runner::delete_created(env).await;
            }
            if let Some(e) = emulator {
                e.shutdown().await;
            }
        });
        // Then the rest (other gateways, the backend).
        drop(s.keep);
    }
    conclusion.exit();
}
