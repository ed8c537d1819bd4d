//! What the JavaScript interop tests (`node_interop.rs`, `browser_interop.rs`) share: the
//! pinned packages (`scripts/setup-node-sdk.sh`), an emulator on 127.0.0.1 port 0, a node
//! run that prints `@@SDK` and `@@RESULT` lines, and the interop table of `docs/interop.md`,
//! which the tests generate from the result files under `interop/results/`.

#![allow(dead_code)] // each test binary uses its own part of the harness

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cos_emulator::{Account, EmulatorConfig};

/// Credentials of the account the emulator is started with.
pub const SECRET_ID: &str = "AKIDJSINTEROPTEST000000000000000000000";
/// Its secret key.
pub const SECRET_KEY: &str = "js-interop-secret-key";
/// Its appid.
pub const APPID: &str = "1250000000";
/// 001's and 003's region; it offers SSE-COS, SSE-C and SSE-KMS.
pub const REGION: &str = "ap-beijing";
/// Upper bound for one node run; a hang fails the test.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(300);

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("emulator/ has a parent")
        .to_owned()
}

/// Runs a project setup script (`scripts/<name>`): `Ok` with the last line it printed (the
/// path it set up), or `Err` with its exit code and output.
pub fn run_setup(name: &str) -> Result<String, (Option<i32>, String)> {
    let script = repo_root().join("scripts").join(name);
    let out = std::process::Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| (None, format!("cannot run {}: {e}", script.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(stdout.lines().last().unwrap_or_default().to_owned())
    } else {
        Err((
            out.status.code(),
            format!(
                "{} failed ({}):\n{stderr}{stdout}",
                script.display(),
                out.status
            ),
        ))
    }
}

/// `interop/`, with the locked packages installed (once per test binary).
pub fn interop_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = DIR.get_or_init(|| {
        let dir = PathBuf::from(run_setup("setup-node-sdk.sh").map_err(|(_, e)| e)?);
        if dir.join("node_modules").is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "setup-node-sdk.sh named no installed interop dir ({})",
                dir.display()
            ))
        }
    });
    match result {
        Ok(dir) => dir.clone(),
        Err(e) => panic!("the JavaScript clients could not be installed: {e}"),
    }
}

/// A running emulator and what keeps it alive.
pub struct Emulator {
    /// The runtime the emulator runs on.
    pub runtime: tokio::runtime::Runtime,
    handle: Option<cos_emulator::Emulator>,
    _data: tempfile::TempDir,
    /// HTTPS address.
    pub https: SocketAddr,
    /// HTTP address.
    pub http: SocketAddr,
    /// The emulator's certificate (PEM).
    pub cert: PathBuf,
}

impl Emulator {
    /// Starts an emulator with `behaviour` switches (rule id → behaviour name).
    pub fn start(behaviour: &[(&str, &str)]) -> Emulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let data = tempfile::tempdir().expect("temporary data dir");
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let config = EmulatorConfig {
            data_dir: data.path().to_owned(),
            http: Some(loopback),
            https: Some(loopback),
            accounts: vec![
                Account {
                    secret_id: SECRET_ID.into(),
                    secret_key: SECRET_KEY.into(),
                    appid: APPID.into(),
                },
                other_account(),
            ],
            behaviour: behaviour
                .iter()
                .map(|(r, b)| (r.to_string(), b.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..EmulatorConfig::default()
        };
        let handle = runtime
            .block_on(cos_emulator::start(config))
            .expect("the emulator starts");
        let https = handle.https_addr().expect("an HTTPS listener");
        let http = handle.http_addr().expect("an HTTP listener");
        let cert = handle.cert_path().to_owned();
        Emulator {
            runtime,
            handle: Some(handle),
            _data: data,
            https,
            http,
            cert,
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}

/// One `@@RESULT` line.
#[derive(Debug, Clone)]
pub struct FlowResult {
    /// Flow name.
    pub flow: String,
    /// Whether the flow counts as passed.
    pub ok: bool,
    /// `pass`, `fail`, `known-defect` or `defect-fixed`.
    pub outcome: String,
    /// Seconds the flow took.
    pub seconds: f64,
    /// Error or finding.
    pub detail: String,
}

/// What one node run printed.
#[derive(Debug, Default)]
pub struct NodeRun {
    /// `@@SDK` line: client name and version.
    pub sdk: String,
    /// The results, in order.
    pub results: Vec<FlowResult>,
    /// Why the run itself failed, if it did.
    pub harness_error: Option<String>,
    /// Its stderr.
    pub stderr: String,
}

/// Runs `node <script> <args>` in `interop/` with `env` (plus no proxy) and collects its
/// result lines.
pub fn run_node(script: &Path, args: &[&str], env: &[(&str, String)]) -> NodeRun {
    let dir = interop_dir();
    let mut env = env.to_vec();
    env.push(("NODE_PATH", dir.join("node_modules").display().to_string()));
    run_program(Path::new("node"), &dir, script, args, &env)
}

/// Runs `<program> <script> <args>` in `dir` with `env` (plus no proxy) and collects the
/// `@@SDK` / `@@RESULT` lines it prints.
pub fn run_program(
    program: &Path,
    dir: &Path,
    script: &Path,
    args: &[&str],
    env: &[(&str, String)],
) -> NodeRun {
    let mut command = std::process::Command::new(program);
    command
        .current_dir(dir)
        .arg(script)
        .args(args)
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return NodeRun {
                harness_error: Some(format!("cannot run {}: {e}", program.display())),
                ..NodeRun::default()
            }
        }
    };
    // Read both pipes on threads so a chatty child never blocks; kill it past the timeout.
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out_pipe, &mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err_pipe, &mut s);
        s
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > NODE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break None,
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    let mut run = NodeRun {
        stderr,
        ..NodeRun::default()
    };
    for line in stdout.lines() {
        if let Some(json) = line.strip_prefix("@@RESULT ") {
            match parse_result(json) {
                Ok(r) => run.results.push(r),
                Err(e) => run.harness_error = Some(format!("bad result line {line:?}: {e}")),
            }
        } else if let Some(sdk) = line.strip_prefix("@@SDK ") {
            run.sdk = sdk.trim().to_owned();
        }
    }
    match status {
        Some(s) if s.success() => {}
        Some(s) => {
            run.harness_error = Some(format!(
                "{} exited with {s}; stdout:\n{stdout}",
                script.display()
            ))
        }
        None => {
            run.harness_error = Some(format!(
                "{} did not finish within {NODE_TIMEOUT:?}",
                script.display()
            ))
        }
    }
    run
}

fn parse_result(json: &str) -> Result<FlowResult, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(FlowResult {
        flow: v["flow"].as_str().ok_or("no flow")?.to_owned(),
        ok: v["ok"].as_bool().ok_or("no ok")?,
        outcome: v["outcome"].as_str().unwrap_or("fail").to_owned(),
        seconds: v["seconds"].as_f64().unwrap_or(0.0),
        detail: v["detail"].as_str().unwrap_or("").to_owned(),
    })
}

/// The failures among `results` for the flows `expected` (a missing flow is one), each
/// with its detail.
pub fn failures(run: &NodeRun, expected: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(e) = &run.harness_error {
        failures.push(format!("harness: {e}"));
    }
    for name in expected {
        match run.results.iter().find(|r| r.flow == *name) {
            None => failures.push(format!("{name}: no result (the script stopped early)")),
            Some(r) if !r.ok => failures.push(format!("{name} ({}):\n{}", r.outcome, r.detail)),
            Some(_) => {}
        }
    }
    failures
}

/// The environment every interop script reads: credentials, appid, region, the emulator's
/// HTTPS port and a work directory.
pub fn base_env(emulator: &Emulator, work: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("COS_SECRET_ID", SECRET_ID.to_owned()),
        ("COS_SECRET_KEY", SECRET_KEY.to_owned()),
        ("COS_INTEROP_APPID", APPID.to_owned()),
        ("COS_INTEROP_REGION", REGION.to_owned()),
        ("COS_INTEROP_HTTPS_PORT", emulator.https.port().to_string()),
        ("COS_INTEROP_WORKDIR", work.display().to_string()),
        ("COS_INTEROP_OTHER_SECRET_ID", OTHER_SECRET_ID.to_owned()),
        ("COS_INTEROP_OTHER_SECRET_KEY", OTHER_SECRET_KEY.to_owned()),
        ("COS_INTEROP_OTHER_APPID", OTHER_APPID.to_owned()),
    ]
}

/// A second account (the grantee of the ACL flows): SecretId.
pub const OTHER_SECRET_ID: &str = "AKIDINTEROPOTHER0000000000000000000000";
/// The second account's SecretKey.
pub const OTHER_SECRET_KEY: &str = "interop-other-secret-key";
/// The second account's appid (its canonical id is `qcs::cam::uin/<it>:uin/<it>`).
pub const OTHER_APPID: &str = "1250000001";

/// The second account as the emulator is configured with it.
pub fn other_account() -> Account {
    Account {
        secret_id: OTHER_SECRET_ID.into(),
        secret_key: OTHER_SECRET_KEY.into(),
        appid: OTHER_APPID.into(),
    }
}

/// Ends a test's run: prints the summary, records its rows in `results_file` under
/// `profile` (unless the run itself broke), and fails with every failing flow of `flows`.
pub fn finish(run: &NodeRun, flows: &[&str], title: &str, results_file: &str, profile: &str) {
    print_summary(title, run);
    let failures = failures(run, flows);
    if run.harness_error.is_none() {
        record(results_file, profile, &rows(run, profile));
    }
    assert!(
        failures.is_empty(),
        "{} flow(s) of {} failed ({title}):\n\n{}\n--- stderr ---\n{}",
        failures.len(),
        if run.sdk.is_empty() { "?" } else { &run.sdk },
        failures.join("\n\n"),
        run.stderr
    );
}

/// Prints a per-flow summary to stderr (shown even when the test passes).
pub fn print_summary(title: &str, run: &NodeRun) {
    use std::io::Write as _;
    let mut text = format!(
        "\n{} vs emulator: {title}\n",
        if run.sdk.is_empty() { "?" } else { &run.sdk }
    );
    for r in &run.results {
        text.push_str(&format!(
            "  {:<38} {:>7.2}s  {}\n",
            r.flow, r.seconds, r.outcome
        ));
        if r.outcome != "pass" {
            if let Some(first) = r.detail.lines().next() {
                text.push_str(&format!("      {first}\n"));
            }
        }
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

// ---- The interop table --------------------------------------------------------------------

/// Where each client's rows live (committed; one file per client).
pub fn results_dir() -> PathBuf {
    repo_root().join("interop/results")
}

const BEGIN: &str = "<!-- interop-table:begin (generated by the interop tests from interop/results/*.tsv; do not edit) -->";
const END: &str = "<!-- interop-table:end -->";
const HEADER: &str = "client\tversion\tflow\tprofile\tresult";

/// One row: client, version, flow, profile, result.
pub type Row = [String; 5];

/// Serialises the table's reads and rewrites within a test binary.
static TABLE: Mutex<()> = Mutex::new(());

/// Rows of a run: one per flow; the result is `pass` (with what the flow observed, if it
/// says), `FAIL`, or the known-defect states.
pub fn rows(run: &NodeRun, profile: &str) -> Vec<Row> {
    let (client, version) = run.sdk.split_once(' ').unwrap_or((run.sdk.as_str(), "?"));
    run.results
        .iter()
        .map(|r| {
            let result = match r.outcome.as_str() {
                "pass" if r.detail.is_empty() => "pass".to_owned(),
                // What the flow observed (e.g. which behaviour of a switchable rule).
                "pass" => format!("pass: {}", r.detail.replace(['\t', '\n', '|'], " ")),
                "known-defect" => "known client defect (observed as pinned)".to_owned(),
                "defect-fixed" => "defect no longer seen: update the pin".to_owned(),
                _ => "FAIL".to_owned(),
            };
            [
                client.to_owned(),
                version.to_owned(),
                r.flow.clone(),
                profile.to_owned(),
                result,
            ]
        })
        .collect()
}

/// Replaces the rows of `file` (e.g. `node.tsv`) whose profile is `profile` with `rows`
/// and regenerates the table block of `docs/interop.md` from every result file.
pub fn record(file: &str, profile: &str, rows: &[Row]) {
    let _guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let path = results_dir().join(file);
    let mut all: Vec<Row> = read_rows(&path)
        .into_iter()
        .filter(|r| r[3] != profile)
        .collect();
    all.extend(rows.iter().cloned());
    all.sort();
    let mut text = String::from(HEADER);
    text.push('\n');
    for r in &all {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    std::fs::create_dir_all(results_dir()).expect("interop/results");
    write_atomically(&path, &text);
    let doc = repo_root().join(TABLE_DOC);
    let current = std::fs::read_to_string(&doc).expect(TABLE_DOC);
    let updated = with_block(&current, &render()).unwrap_or_else(|e| panic!("{e}"));
    if updated != current {
        write_atomically(&doc, &updated);
    }
}

/// The document that carries the generated interop table.
const TABLE_DOC: &str = "docs/interop.md";

/// Fails when the table block of `docs/interop.md` differs from what the result files
/// generate.
pub fn check_table_doc() -> Result<(), String> {
    let _guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    let current =
        std::fs::read_to_string(repo_root().join(TABLE_DOC)).map_err(|e| e.to_string())?;
    let wanted = with_block(&current, &render())?;
    if wanted == current {
        Ok(())
    } else {
        Err(format!("{TABLE_DOC}'s interop table is stale: it differs from what interop/results/*.tsv generate; run `cargo test -p cos-emulator --test node_interop` (it rewrites the block) and commit {TABLE_DOC}"))
    }
}

fn read_rows(path: &Path) -> Vec<Row> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            <[&str; 5]>::try_from(f).ok().map(|f| f.map(str::to_owned))
        })
        .collect()
}

/// The Markdown table of every result file, in file-name order.
pub fn render() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(results_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "tsv"));
    files.sort();
    let mut out =
        String::from("| client | version | flow | profile | result |\n|---|---|---|---|---|\n");
    for f in files {
        for r in read_rows(&f) {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} | {} |\n",
                r[0], r[1], r[2], r[3], r[4]
            ));
        }
    }
    out
}

fn with_block(doc: &str, table: &str) -> Result<String, String> {
    let start = doc
        .find(BEGIN)
        .ok_or_else(|| format!("{TABLE_DOC} has no line {BEGIN}"))?;
    let end = doc[start..]
        .find(END)
        .map(|i| start + i)
        .ok_or_else(|| format!("{TABLE_DOC} has no line {END} after the begin marker"))?;
    Ok(format!("{}{BEGIN}\n{table}{}", &doc[..start], &doc[end..]))
}

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp-interop");
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename {}: {e}", path.display()));
}
