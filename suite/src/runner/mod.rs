//! Running cases: parallel across cases (`--jobs`), steps in order within a case, serial
//! cases alone at the end, every case in its own prefix and cleaned up.

mod bodies;
mod buckets;
mod build;
mod cleanup;
mod composite;
mod env;
mod exec;
mod integrity;
mod plan;
mod post;
mod preflight;
mod request;
mod s3;
mod state;
mod steps;

use std::sync::Arc;

use tokio::sync::Semaphore;

pub use bodies::{random_bytes, BodySeed};
pub use buckets::delete_created;
pub use env::{effective_expect, BucketState, Env, OtherAccount, SharedEnv};
pub use exec::run_case;
pub use integrity::{bare_etag, crc64, multipart_etag};
pub use plan::{pick_region, plan, Plan, Skip};
pub use preflight::{preflight, Fit, MAX_SKEW_SECS};
pub use state::CaseState;

use crate::case::Case;
use crate::outcome::CaseResult;

/// Told about each case as it finishes (progress bar, plain lines).
pub trait Progress: Send + Sync {
    /// A case (repetition) finished.
    fn finished(&self, result: &CaseResult);
}

/// A progress sink that says nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn finished(&self, _result: &CaseResult) {}
}

/// How to run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Cases in flight at once.
    pub jobs: usize,
    /// Each case runs this many times.
    pub repeat: u32,
}

/// Runs every case `repeat` times and returns the records sorted by case id and
/// repetition. Buckets the run created are deleted at the end.
pub async fn run_all(
    env: SharedEnv,
    cases: Vec<Case>,
    opts: RunOptions,
    progress: Arc<dyn Progress>,
) -> (Vec<CaseResult>, Vec<String>) {
    let cases: Vec<Arc<Case>> = cases.into_iter().map(Arc::new).collect();
    let (serial, parallel): (Vec<_>, Vec<_>) = cases.iter().cloned().partition(|c| c.serial);
    let permits = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for case in parallel {
        for rep in 1..=opts.repeat.max(1) {
            let (env, case, permits, progress) =
                (env.clone(), case.clone(), permits.clone(), progress.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let r = run_case(&env, &case, rep).await;
                progress.finished(&r);
                r
            });
        }
    }
    let mut results = Vec::new();
    let mut warnings = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => warnings.push(format!("a case task ended abnormally: {e}")),
        }
    }
    // Cases that touch account-wide state run alone, after everything else.
    for case in serial {
        for rep in 1..=opts.repeat.max(1) {
            let r = run_case(&env, &case, rep).await;
            progress.finished(&r);
            results.push(r);
        }
    }
    warnings.extend(delete_created(&env).await);
    results.sort_by(|a, b| (&a.id, a.repetition).cmp(&(&b.id, b.repetition)));
    (results, warnings)
}
