//! The whole case catalog, `--strict`, through two gateways whose state lives in one real
//! SeaweedFS (`weed server -s3` on loopback ports, a temporary directory; installed by
//! `scripts/setup-seaweedfs.sh`, or `$COS_WEED`). The second gateway starts over the first
//! one's state (their KMS keys and master key must agree for the run to start), and about
//! half the cases run through it: each case goes to gateway A or B by a hash of the run's
//! seed and its id, so both serve every kind of case over a few runs. Introspection scans
//! SeaweedFS's own data directory: the at-rest cases check that no plaintext and no key
//! reached the backend's disk.
//!
//! Every case runs (about two minutes in a debug build on 2 cores). `COS_GATEWAY_SAMPLE=N`
//! runs one case in N (in id order, starting at an offset the seed picks, so successive
//! runs cover different cases) plus every introspection case, and reports the others
//! `ignored` with the reason. The seed is random and printed; `COS_GATEWAY_SEED=S` replays
//! a run's sample and routing.
//!
//! `COS_GATEWAY_STORE=memory://` runs the catalog over an in-process memory store instead
//! (a quick check of the gateway code without SeaweedFS).

mod catalog;
#[path = "../../emulator/tests/support/seaweedfs.rs"]
mod seaweedfs;

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use cos_emulator::store::remote::StoreUrl;
use cos_suite::app::{self, Endpoint};
use cos_suite::embedded::{Embedded, Gateway};
use cos_suite::profile::Profile;

/// The backend bucket the gateways share.
const BACKEND_BUCKET: &str = "cos-gateway";

fn start(loaded: &app::Loaded) -> Result<catalog::Shared, String> {
    let runtime = catalog::runtime()?;
    let mut keep: Vec<Box<dyn std::any::Any + Send>> = Vec::new();
    let keys = tempfile::tempdir().map_err(|e| e.to_string())?;
    let master_key_file = keys.path().join("master.json");
    let gateway = match std::env::var("COS_GATEWAY_STORE").ok().as_deref() {
        Some("memory://") => Gateway {
            store: StoreUrl {
                url: "memory://".into(),
                options: Vec::new(),
            },
            master_key_file,
            at_rest_dir: None,
        },
        _ => {
            let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let weed = seaweedfs::find_weed(&repo).map_err(|e| format!("{e:#}"))?;
            let sw = seaweedfs::SeaweedFs::start(&weed).map_err(|e| format!("{e:#}"))?;
            sw.create_bucket(BACKEND_BUCKET)
                .map_err(|e| format!("{e:#}"))?;
            let gateway = Gateway {
                store: StoreUrl {
                    url: format!("s3://{BACKEND_BUCKET}/catalog"),
                    options: sw.store_options(),
                },
                master_key_file,
                at_rest_dir: Some(sw.data_dir()),
            };
            keep.push(Box::new(sw));
            gateway
        }
    };
    keep.push(Box::new(keys));
    let (envs, embedded, second) = runtime.block_on(async {
        let mut profile = Profile::emulator().map_err(|e| e.to_string())?;
        let emu = Embedded::start_gateway(&mut profile, &gateway).await?;
        // A second gateway over the same store: it must come up over the first one's
        // state (the shared KMS state and master key), then serves its share of the cases.
        let mut other_profile = Profile::emulator().map_err(|e| e.to_string())?;
        let second = Embedded::start_gateway(&mut other_profile, &gateway).await?;
        let a = Endpoint::of_embedded("gateway A over an object store", profile, emu);
        let b = Endpoint::of_embedded("gateway B over the same store", other_profile, second);
        let envs = vec![catalog::env(loaded, &a)?, catalog::env(loaded, &b)?];
        Ok::<_, String>((envs, a.embedded, b.embedded))
    })?;
    keep.insert(0, Box::new(second));
    Ok(catalog::Shared {
        runtime,
        envs,
        embedded: Mutex::new(embedded),
        keep: Mutex::new(keep),
    })
}

/// The run's seed: `COS_GATEWAY_SEED`, else random (set once, in `main`).
static SEED: OnceLock<u64> = OnceLock::new();

/// The sample when `COS_GATEWAY_SAMPLE` is unset: one case in this many (every case).
const DEFAULT_SAMPLE: u64 = 1;

/// `COS_GATEWAY_SAMPLE=N` (one case in N; 1 runs every case), else [`DEFAULT_SAMPLE`]. A
/// value that is not a positive number is a usage error, not a silent full run.
fn sample_every() -> u64 {
    match std::env::var("COS_GATEWAY_SAMPLE") {
        Err(_) => DEFAULT_SAMPLE,
        Ok(v) => v.trim().parse().ok().filter(|&n| n > 0).unwrap_or_else(|| {
            eprintln!("COS_GATEWAY_SAMPLE={v:?} is not a positive number (1 runs every case)");
            std::process::exit(2)
        }),
    }
}

/// One case in `every` (from the seed's offset) and every introspection case run; each
/// runs on the gateway its hash picks.
fn plan(index: usize, case: &cos_suite::case::Case) -> catalog::Route {
    let seed = *SEED.get().expect("the seed is set in main");
    let every = sample_every();
    if every > 1 {
        let sampled =
            (index as u64).wrapping_add(seed).is_multiple_of(every) || !case.introspect.is_empty();
        if !sampled {
            return catalog::Route::Skip(format!(
                "not in the sample (COS_GATEWAY_SAMPLE={every}, COS_GATEWAY_SEED={seed}); \
                 COS_GATEWAY_SAMPLE=1 runs every case"
            ));
        }
    }
    catalog::Route::Run(gateway_of(seed, &case.id))
}

/// Gateway A (0) or B (1) for a case: FNV-1a of the seed and the id, so the split is even,
/// stable for a seed, and different from one seed to the next.
fn gateway_of(seed: u64, id: &str) -> usize {
    let hash = seed
        .to_le_bytes()
        .iter()
        .chain(id.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    usize::from(hash >> 63 == 1)
}

fn main() {
    let seed = std::env::var("COS_GATEWAY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::random::<u32>().into());
    SEED.set(seed).expect("set once");
    let sample = format!("COS_GATEWAY_SAMPLE={} ", sample_every());
    eprintln!(
        "gateway catalog: seed {seed} (picks the sample and each case's gateway); replay: \
         {sample}COS_GATEWAY_SEED={seed} cargo test -p cos-suite --test gateway"
    );
    catalog::run(start, plan)
}
