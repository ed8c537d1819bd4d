//! coscmd (Tencent's COS command line, from PyPI, pinned in `scripts/requirements-coscmd.txt`)
//! against the emulator over verified HTTPS. coscmd CAN send SSE headers: `upload` and
//! `download` take `-H "<YAML dict of headers>"`. `interop/coscmd/flows.py` uploads and
//! downloads with SSE-COS and uploads with SSE-C through the command line as a user types
//! it, shows a keyless SSE-C download refused, and pins a KNOWN CLIENT DEFECT: `download -H`
//! of an SSE-C object fails because coscmd first HEADs the object without the -H headers.
//! The pin is the defect's exact signature, not any failed download: coscmd's only output
//! is the logged headers of one body-less (HEAD) refusal, the keyless HEAD is refused with
//! 400, and the HEAD and GET with the key succeed, so an SSE-C read regression in the
//! emulator fails the flow instead of passing as the defect.
//! Rows go to `interop/results/coscmd.tsv` and the interop table of `docs/interop.md`.
//!
//! `scripts/setup-coscmd.sh` installs the pinned set into `.venv-coscmd/` on first run.

mod node_harness;

use std::path::PathBuf;

use node_harness::*;

const FLOWS: &[&str] = &[
    "upload_download_sse_cos",
    "upload_sse_c",
    "download_sse_c_without_key_refused",
    "download_sse_c_known_defect",
];

fn coscmd_python() -> PathBuf {
    PathBuf::from(run_setup("setup-coscmd.sh").unwrap_or_else(|(_, e)| panic!("{e}")))
}

#[test]
fn coscmd_uploads_and_downloads_with_sse_headers() {
    let python = coscmd_python();
    let emulator = Emulator::start(&[]);
    let work = tempfile::tempdir().expect("work dir");
    let dir = repo_root().join("interop/coscmd");
    let mut env = base_env(&emulator, work.path());
    env.extend([
        // The emulator's certificate is the only CA; verification stays on.
        ("REQUESTS_CA_BUNDLE", emulator.cert.display().to_string()),
        ("PYTHONDONTWRITEBYTECODE", "1".to_owned()),
        ("HOME", work.path().display().to_string()),
    ]);
    let run = run_program(&python, &dir, &dir.join("flows.py"), FLOWS, &env);
    drop(emulator);
    finish(&run, FLOWS, "HTTPS", "coscmd.tsv", "default");
}
