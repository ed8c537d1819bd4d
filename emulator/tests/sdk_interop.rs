//! The official COS Python SDK (`cos-python-sdk-v5`, pinned in
//! `scripts/requirements-sdk.txt`) against the emulator, over HTTP and HTTPS.
//!
//! Each test installs the SDK into `.venv-sdk/` with `scripts/setup-python-sdk.sh` (a fast
//! no-op once done), starts the emulator through its library API on `127.0.0.1` port 0 with
//! a temporary data dir and known credentials, and runs `tests/sdk/interop.py` with the
//! venv's python: one Python function per flow, each asserting what the SDK returns and
//! failing with the SDK's own error. HTTPS is verified against the emulator's certificate
//! (`cert_path()`, passed to the SDK as `CosConfig(VerifySSL=...)`), never disabled.
//!
//! Flow groups: the core store (these must pass, always run, never skipped), seed 004's
//! SSE-COS, SSE-KMS, SSE-C samples, and seed 004's advanced calls (`upload_file`, `download_file`, `copy_object`, `copy`, `restore_object`). A flow the
//! emulator cannot pass yet is named in [`NOT_YET_SUPPORTED`] with the reason: it still runs,
//! and its outcome is printed, but its failure does not fail the test. Every run prints a
//! per-flow summary to stderr, captured or not.
//!
//! Everyday flows (what the SDK calls in ordinary code: `upload_part_copy` without a
//! range, `delete_objects`, `get_bucket_location`, `put_bucket_encryption` / `get_bucket_encryption` /
//! `delete_bucket_encryption` with uploads that take the default, `put_object_acl` with a grant to a second
//! account, an anonymous client on a public-read object) run over HTTPS and write their rows
//! to `interop/results/python.tsv`, from which the interop table of `docs/interop.md` is generated
//! (`node_harness::record`).
//!
//! Needs `python3` >= 3.10 with pip (or venv) and access to PyPI on first run; without them
//! the tests fail with the setup script's message rather than pass vacuously.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use cos_emulator::{Account, EmulatorConfig};

/// The interop table (`interop/results/*.tsv` → `docs/interop.md`) and the second account.
mod node_harness;

/// Credentials of the one account the emulator is started with (not the development pair,
/// so the test also shows that configured accounts are used).
const SECRET_ID: &str = "AKIDSDKINTEROPTEST00000000000000000000";
const SECRET_KEY: &str = "sdk-interop-secret-key";
const APPID: &str = "1250000000";
/// Seed 004's region; it offers SSE-COS, SSE-C and SSE-KMS.
const REGION: &str = "ap-beijing";
/// Upper bound for one Python run (all flows of a group); a hang fails the test.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Group {
    /// The core store. Must pass in CI.
    Core,
    /// Seed 004's single-object SSE samples.
    Sse,
    /// Seed 004's multipart, copy and restore samples.
    Advanced,
    /// What the SDK calls in ordinary code; recorded in the interop table.
    Everyday,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One flow: a `flow_<name>` function of `tests/sdk/interop.py`.
struct Flow {
    name: &'static str,
    group: Group,
    schemes: &'static [Scheme],
}

const BOTH: &[Scheme] = &[Scheme::Http, Scheme::Https];
/// SSE-C is refused over plain HTTP (SSEC-HTTPS), so its positive flows run over HTTPS only.
const HTTPS_ONLY: &[Scheme] = &[Scheme::Https];
const HTTP_ONLY: &[Scheme] = &[Scheme::Http];

/// Every flow, in the order it runs.
const FLOWS: &[Flow] = &[
    flow("bucket_lifecycle", Group::Core, BOTH),
    flow("object_crud", Group::Core, BOTH),
    flow("list_buckets", Group::Core, BOTH),
    flow("presigned_put_get", Group::Core, BOTH),
    flow("wrong_secret_refused", Group::Core, BOTH),
    flow("https_certificate_verified", Group::Core, HTTPS_ONLY),
    flow("sse_cos", Group::Sse, BOTH),
    flow("sse_kms", Group::Sse, BOTH),
    flow("sse_kms_unknown_key_refused", Group::Sse, BOTH),
    flow("sse_c", Group::Sse, HTTPS_ONLY),
    flow("sse_c_refused_over_http", Group::Sse, HTTP_ONLY),
    flow("download_file_plain", Group::Advanced, BOTH),
    flow("upload_download_file_kms", Group::Advanced, BOTH),
    flow("upload_download_file_sse_c", Group::Advanced, HTTPS_ONLY),
    flow("copy_object_sse_c", Group::Advanced, HTTPS_ONLY),
    flow("copy_sse_c", Group::Advanced, HTTPS_ONLY),
    flow("copy_multipart_sse_c", Group::Advanced, HTTPS_ONLY),
    flow("restore_object_sse_c", Group::Advanced, HTTPS_ONLY),
    flow("upload_part_copy", Group::Everyday, HTTPS_ONLY),
    flow("delete_objects", Group::Everyday, HTTPS_ONLY),
    flow("get_bucket_location", Group::Everyday, HTTPS_ONLY),
    flow("bucket_encryption", Group::Everyday, HTTPS_ONLY),
    flow("put_object_acl_grant", Group::Everyday, HTTPS_ONLY),
    flow("anonymous_get_public_read", Group::Everyday, HTTPS_ONLY),
];

const fn flow(name: &'static str, group: Group, schemes: &'static [Scheme]) -> Flow {
    Flow {
        name,
        group,
        schemes,
    }
}

/// Flows the emulator does not pass yet, each with the reason. They still run and their
/// outcome is printed; a failure here does not fail the test, a pass is reported so the
/// entry can be removed. Core flows may never be listed.
const NOT_YET_SUPPORTED: &[(&str, &str)] = &[];

#[test]
fn core_flows_over_http() {
    run_group(Group::Core, Scheme::Http);
}

#[test]
fn core_flows_over_https() {
    run_group(Group::Core, Scheme::Https);
}

#[test]
fn sse_flows_over_http() {
    run_group(Group::Sse, Scheme::Http);
}

#[test]
fn sse_flows_over_https() {
    run_group(Group::Sse, Scheme::Https);
}

#[test]
fn advanced_flows_over_http() {
    run_group(Group::Advanced, Scheme::Http);
}

#[test]
fn advanced_flows_over_https() {
    run_group(Group::Advanced, Scheme::Https);
}

#[test]
fn everyday_flows_over_https() {
    run_group(Group::Everyday, Scheme::Https);
}

#[test]
fn not_yet_supported_list_is_honest() {
    for (name, reason) in NOT_YET_SUPPORTED {
        let flow = FLOWS.iter().find(|f| f.name == *name);
        let flow = flow.unwrap_or_else(|| panic!("NOT_YET_SUPPORTED names unknown flow {name}"));
        assert!(
            flow.group != Group::Core,
            "{name} is a core flow: those must pass and may not be listed ({reason})"
        );
        assert!(
            !reason.trim().is_empty(),
            "{name} is listed without a reason"
        );
    }
}

/// Runs every flow of `group` that applies to `scheme` against a fresh emulator.
fn run_group(group: Group, scheme: Scheme) {
    let flows: Vec<&Flow> = FLOWS
        .iter()
        .filter(|f| f.group == group && f.schemes.contains(&scheme))
        .collect();
    assert!(!flows.is_empty(), "no flows for {group:?} over {scheme:?}");
    let python = sdk_python();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let data = tempfile::tempdir().expect("temporary data dir");
    let work = tempfile::tempdir().expect("temporary work dir");
    let emulator = runtime
        .block_on(cos_emulator::start(emulator_config(data.path())))
        .expect("the emulator starts");
    let http = emulator.http_addr().expect("an HTTP listener");
    let https = emulator.https_addr().expect("an HTTPS listener");
    let cert = emulator.cert_path().to_owned();

    let run = runtime.block_on(run_python(
        &python,
        scheme,
        &flows,
        Ports { http, https },
        &cert,
        work.path(),
    ));
    runtime.block_on(emulator.shutdown());

    let verdict = judge(&flows, &run);
    print_summary(group, scheme, &run, &verdict);
    if group == Group::Everyday && run.harness_error.is_none() {
        record_rows(&run);
    }
    if !verdict.failures.is_empty() {
        panic!(
            "{} flow(s) failed over {} against the emulator:\n\n{}\n--- python stderr (tail) ---\n{}",
            verdict.failures.len(),
            scheme.as_str(),
            verdict.failures.join("\n\n"),
            tail(&run.stderr, 80),
        );
    }
}

fn emulator_config(data_dir: &Path) -> EmulatorConfig {
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    EmulatorConfig {
        data_dir: data_dir.to_owned(),
        http: Some(loopback),
        https: Some(loopback),
        accounts: vec![
            Account {
                secret_id: SECRET_ID.into(),
                secret_key: SECRET_KEY.into(),
                appid: APPID.into(),
            },
            node_harness::other_account(),
        ],
        // restore_object flows wait for "restored"; no reason to wait in a test.
        restore_delay: Duration::ZERO,
        ..EmulatorConfig::default()
    }
}

/// The venv's python, installing the SDK once per test binary.
fn sdk_python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = PYTHON.get_or_init(|| {
        let script = repo_root().join("scripts/setup-python-sdk.sh");
        let out = std::process::Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "{} failed ({}):\n{stderr}{stdout}",
                script.display(),
                out.status
            ));
        }
        let python = stdout.lines().last().map(PathBuf::from).unwrap_or_default();
        if python.is_file() {
            Ok(python)
        } else {
            Err(format!(
                "{} printed no python path:\n{stdout}{stderr}",
                script.display()
            ))
        }
    });
    match result {
        Ok(python) => python.clone(),
        Err(e) => panic!("the official Python SDK could not be installed: {e}"),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("emulator/ has a parent")
        .to_owned()
}

struct Ports {
    http: SocketAddr,
    https: SocketAddr,
}

/// What one Python run left behind.
struct PythonRun {
    /// `flow -> (ok, seconds, error)` from the `@@RESULT` lines.
    results: Vec<FlowResult>,
    /// The SDK version the venv reports.
    sdk_version: String,
    stderr: String,
    /// Why the run itself failed (could not start, timed out, bad exit), if it did.
    harness_error: Option<String>,
}

struct FlowResult {
    flow: String,
    ok: bool,
    seconds: f64,
    error: String,
}

async fn run_python(
    python: &Path,
    scheme: Scheme,
    flows: &[&Flow],
    ports: Ports,
    cert: &Path,
    work: &Path,
) -> PythonRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/interop.py");
    let mut command = tokio::process::Command::new(python);
    command
        .arg(&script)
        .arg("--scheme")
        .arg(scheme.as_str())
        .args(flows.iter().map(|f| f.name))
        .env("COS_SECRET_ID", SECRET_ID)
        .env("COS_SECRET_KEY", SECRET_KEY)
        .env("COS_INTEROP_APPID", APPID)
        .env("COS_INTEROP_REGION", REGION)
        .env("COS_INTEROP_HTTP_PORT", ports.http.port().to_string())
        .env("COS_INTEROP_HTTPS_PORT", ports.https.port().to_string())
        .env("COS_INTEROP_CA", cert)
        .env("COS_INTEROP_WORKDIR", work)
        .env("COS_INTEROP_OTHER_SECRET_ID", node_harness::OTHER_SECRET_ID)
        .env(
            "COS_INTEROP_OTHER_SECRET_KEY",
            node_harness::OTHER_SECRET_KEY,
        )
        .env("COS_INTEROP_OTHER_APPID", node_harness::OTHER_APPID)
        // Nothing but 127.0.0.1: no proxy, no CA bundle other than the one passed.
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONNOUSERSITE", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PYTHONPATH",
        "PYTHONHOME",
    ] {
        command.env_remove(var);
    }
    let output = match tokio::time::timeout(PYTHON_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return PythonRun::harness_failure(format!("cannot run {python:?}: {e}")),
        Err(_) => {
            return PythonRun::harness_failure(format!(
                "interop.py did not finish within {PYTHON_TIMEOUT:?}"
            ))
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let mut run = PythonRun {
        results: Vec::new(),
        sdk_version: String::new(),
        stderr,
        harness_error: None,
    };
    for line in stdout.lines() {
        if let Some(json) = line.strip_prefix("@@RESULT ") {
            match parse_result(json) {
                Ok(result) => run.results.push(result),
                Err(e) => run.harness_error = Some(format!("bad result line {line:?}: {e}")),
            }
        } else if let Some(version) = line.strip_prefix("@@SDK ") {
            run.sdk_version = version.trim().to_owned();
        }
    }
    if !output.status.success() {
        run.harness_error = Some(format!(
            "interop.py exited with {}; stdout:\n{stdout}",
            output.status
        ));
    }
    run
}

impl PythonRun {
    fn harness_failure(error: String) -> Self {
        PythonRun {
            results: Vec::new(),
            sdk_version: String::new(),
            stderr: String::new(),
            harness_error: Some(error),
        }
    }
}

fn parse_result(json: &str) -> Result<FlowResult, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let flow = value["flow"].as_str().ok_or("no flow name")?.to_owned();
    let ok = value["ok"].as_bool().ok_or("no ok flag")?;
    let seconds = value["seconds"].as_f64().unwrap_or(0.0);
    let error = value["error"].as_str().unwrap_or("").to_owned();
    Ok(FlowResult {
        flow,
        ok,
        seconds,
        error,
    })
}

/// The outcome of a run: summary lines and the failures that fail the test.
struct Verdict {
    lines: Vec<String>,
    failures: Vec<String>,
}

fn judge(flows: &[&Flow], run: &PythonRun) -> Verdict {
    let mut verdict = Verdict {
        lines: Vec::new(),
        failures: Vec::new(),
    };
    if let Some(e) = &run.harness_error {
        verdict.failures.push(format!("harness: {e}"));
    }
    for flow in flows {
        let pending = NOT_YET_SUPPORTED.iter().find(|(n, _)| *n == flow.name);
        let Some(result) = run.results.iter().find(|r| r.flow == flow.name) else {
            verdict.lines.push(format!("  MISSING  {}", flow.name));
            verdict.failures.push(format!(
                "{}: no result (interop.py stopped early)",
                flow.name
            ));
            continue;
        };
        let status = match (result.ok, pending) {
            (true, None) => "pass",
            (true, Some(_)) => "PASS (listed as not yet supported: remove it from the list)",
            (false, Some(_)) => "not yet supported (failed as expected)",
            (false, None) => "FAIL",
        };
        let mut line = format!("  {:<28} {:>7.2}s  {status}", flow.name, result.seconds);
        if let Some((_, reason)) = pending {
            let _ = write!(line, " — {reason}");
        }
        if !result.ok {
            let first = result.error.lines().next().unwrap_or("");
            let _ = write!(line, "\n      {first}");
        }
        verdict.lines.push(line);
        if !result.ok && pending.is_none() {
            verdict
                .failures
                .push(format!("{}:\n{}", flow.name, result.error));
        }
    }
    verdict
}

/// Written straight to the process's stderr so it shows even when the test passes.
fn print_summary(group: Group, scheme: Scheme, run: &PythonRun, verdict: &Verdict) {
    let version = if run.sdk_version.is_empty() {
        "?"
    } else {
        &run.sdk_version
    };
    let mut text = format!(
        "\nofficial Python SDK {version} vs emulator: {group:?} flows over {}\n",
        scheme.as_str()
    );
    for line in &verdict.lines {
        text.push_str(line);
        text.push('\n');
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes the run's rows to `interop/results/python.tsv` (profile `default`: the emulator
/// runs with every switchable rule at its default) and regenerates the table of `docs/interop.md`.
fn record_rows(run: &PythonRun) {
    let rows: Vec<node_harness::Row> = run
        .results
        .iter()
        .map(|r| {
            [
                "cos-python-sdk-v5".to_owned(),
                run.sdk_version.clone(),
                r.flow.clone(),
                "default".to_owned(),
                if r.ok { "pass" } else { "FAIL" }.to_owned(),
            ]
        })
        .collect();
    node_harness::record("python.tsv", "default", &rows);
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
