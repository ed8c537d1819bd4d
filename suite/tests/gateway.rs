//! Issue 16: the whole case catalog, `--strict`, through a gateway whose state lives in a
//! real SeaweedFS (`weed server -s3` on loopback ports, a temporary directory; installed
//! by `scripts/setup-seaweedfs.sh`, or `$COS_WEED`). A second gateway over the same store
//! runs beside it (its KMS keys and master key must agree with the first's for the run to
//! start). Introspection scans SeaweedFS's own data directory: the at-rest cases check
//! that no plaintext and no key reached the backend's disk.
//!
//! `COS_GATEWAY_SAMPLE=N` runs every N-th case (in id order) and every introspection
//! case, reporting the others `ignored` with the reason; `.ci/run` sets it to keep CI
//! short. Unset, every case runs.
//!
//! `COS_GATEWAY_STORE=memory://` runs the catalog over an in-process memory store instead
//! (a quick check of the gateway code without SeaweedFS).

mod catalog;
#[path = "../../emulator/tests/support/seaweedfs.rs"]
mod seaweedfs;

use std::path::Path;
use std::sync::Mutex;

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
    let (env, embedded, second) = runtime.block_on(async {
        let mut profile = Profile::emulator().map_err(|e| e.to_string())?;
        let emu = Embedded::start_gateway(&mut profile, &gateway).await?;
        // A second gateway over the same store: it must come up over the first one's
        // state (the shared KMS state and master key).
        let mut other_profile = Profile::emulator().map_err(|e| e.to_string())?;
        let second = Embedded::start_gateway(&mut other_profile, &gateway).await?;
        let endpoint = Endpoint::of_embedded("gateway over an object store", profile, emu);
        let env = catalog::env(loaded, &endpoint)?;
        Ok::<_, String>((env, endpoint.embedded, second))
    })?;
    keep.insert(0, Box::new(second));
    Ok(catalog::Shared {
        runtime,
        env,
        embedded: Mutex::new(embedded),
        keep: Mutex::new(keep),
    })
}

/// `COS_GATEWAY_SAMPLE=N`: every N-th case and every introspection case.
fn leave(index: usize, case: &cos_suite::case::Case) -> Option<String> {
    let every: usize = std::env::var("COS_GATEWAY_SAMPLE").ok()?.parse().ok()?;
    let sampled = every <= 1 || index % every == 0 || !case.introspect.is_empty();
    (!sampled).then(|| {
        format!("not in the sample (COS_GATEWAY_SAMPLE={every}); unset it to run every case")
    })
}

fn main() {
    catalog::run(start, leave)
}
