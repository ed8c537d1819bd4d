//! The whole case catalog as tests against one in-process emulator (default profile,
//! `--strict`); see `catalog/mod.rs`.

mod catalog;

use std::sync::Mutex;

use cos_suite::app::{self, Overrides};
use cos_suite::profile::Profile;

fn start(loaded: &app::Loaded) -> Result<catalog::Shared, String> {
    let runtime = catalog::runtime()?;
    let (env, embedded) = runtime.block_on(async {
        let endpoint = app::prepare(
            Profile::emulator().map_err(|e| e.to_string())?,
            true,
            &Overrides::default(),
        )
        .await?;
        let env = catalog::env(loaded, &endpoint)?;
        Ok::<_, String>((env, endpoint.embedded))
    })?;
    Ok(catalog::Shared {
        runtime,
        envs: vec![env],
        embedded: Mutex::new(embedded),
        keep: Mutex::new(Vec::new()),
    })
}

fn main() {
    catalog::run(start, |_, _| catalog::Route::Run(0))
}
