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
//! cannot (not root, no apt) is the test skipped, with that reason printed.

mod node_harness;

use std::io::Write as _;

use node_harness::*;

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
        Err((Some(3), why)) => Err(why.trim().to_owned()),
        Err((_, e)) => panic!("{e}"),
    }
}

#[test]
fn browser_sdk_in_chromium_over_https_with_cors() {
    let chromium = match chromium() {
        Ok(c) => c,
        Err(reason) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED browser_sdk_in_chromium_over_https_with_cors: Chromium cannot be installed here: {reason}"
            );
            return;
        }
    };
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
