//! The browser SDK (`cos-js-sdk-v5`, pinned by `interop/package-lock.json`, served from
//! disk: no CDN) in Debian's Chromium, headless, against the emulator over HTTPS and
//! through the bucket's CORS rules: putObject with SSE-COS, SSE-C (001's key) and SSE-KMS,
//! each read back with getObject, and a keyless SSE-C read refused with COS's error (which
//! the page can read only because refusals carry the CORS headers too).
//!
//! `interop/browser/drive.js` serves the page, sets the bucket's CORS rule with the Node.js
//! SDK and drives Chromium through playwright-core with the system browser. The page's
//! result table is saved as `target/interop/browser.png`. Rows go to
//! `interop/results/browser.tsv` and the interop table of `docs/interop.md`.
//!
//! `scripts/setup-browser.sh` installs Chromium with apt where it is missing; only when it
//! cannot (not root, no apt, apt failed: its exit status 3) does the test not run, and then
//! it is reported `ignored` with the reason, never `ok`. Under `CI=true` (`.ci/run`, GitHub
//! Actions) a browser that cannot be installed fails the test: CI must prove the browser
//! flows, not skip them. The harness is libtest-mimic (`harness = false`) so that a skip
//! decided at run time can be reported as one.

mod node_harness;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use node_harness::*;

/// The trial's name, as `cargo test` filters and prints it.
const NAME: &str = "browser_sdk_in_chromium_over_https_with_cors";

/// The page's flows (`interop/browser/page.js`).
const FLOWS: &[&str] = &[
    "put_get_sse_cos",
    "put_get_sse_c_001_key",
    "put_get_sse_kms",
    "get_sse_c_without_key_refused",
];

/// The Chromium executable, or why there is none (exit status 3 of the setup script).
fn chromium() -> Result<String, String> {
    match run_setup("setup-browser.sh") {
        Ok(path) => Ok(path),
        // The script's last line says why (not root, no apt-get, apt failed).
        Err((Some(3), why)) => Err(why.trim().lines().last().unwrap_or_default().to_owned()),
        Err((_, e)) => panic!("{e}"),
    }
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::ignorable_test(NAME, trial),
        Trial::test(
            "a_run_without_chromium_is_ignored_with_its_reason_and_fails_in_ci",
            || {
                match skip("no apt-get", false) {
                    Ok(Completion::Ignored { reason: Some(r) }) if r.contains("no apt-get") => {}
                    other => return Err(format!("outside CI: {:?}", other.map(|_| ())).into()),
                }
                match skip("no apt-get", true) {
                    Err(e) if format!("{e:?}").contains("CI=true") => Ok(()),
                    other => Err(format!("under CI=true: {:?}", other.map(|_| ())).into()),
                }
            },
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// Runs the flows, or says why they cannot run here: ignored with the reason, or, under
/// `CI=true`, failed with it.
fn trial() -> Result<Completion, Failed> {
    match chromium() {
        Ok(chromium) => {
            browser_sdk_in_chromium_over_https_with_cors(chromium);
            Ok(Completion::Completed)
        }
        Err(reason) => skip(&reason, std::env::var("CI").is_ok_and(|v| v == "true")),
    }
}

/// The verdict of a run without Chromium: `ignored` with the reason, or a failure in CI.
fn skip(reason: &str, ci: bool) -> Result<Completion, Failed> {
    let reason = format!("Chromium cannot be installed here: {reason}");
    if ci {
        Err(format!("{reason}\nCI=true: the browser flows must run in CI, not be skipped").into())
    } else {
        Ok(Completion::ignored_with(reason))
    }
}

fn browser_sdk_in_chromium_over_https_with_cors(chromium: String) {
    let emulator = Emulator::start(&[]);
    let screenshot = repo_root().join("target/interop/browser.png");
    let _ = std::fs::remove_file(&screenshot);
    let script = interop_dir().join("browser/drive.js");
    let work = tempfile::tempdir().expect("work dir");
    let mut env = base_env(&emulator, work.path());
    env.extend([
        ("COS_INTEROP_CERT", emulator.cert.display().to_string()),
        ("COS_INTEROP_SCREENSHOT", screenshot.display().to_string()),
        ("CHROMIUM", chromium),
        // The Node.js SDK that sets the CORS rule verifies the emulator's certificate.
        ("NODE_EXTRA_CA_CERTS", emulator.cert.display().to_string()),
    ]);
    let run = run_node(&script, &[], &env);
    drop(emulator);
    finish(
        &run,
        FLOWS,
        "Chromium (headless), HTTPS, CORS",
        "browser.tsv",
        "default",
    );
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
}
