//! The commands the documents show, run or checked so the documents cannot drift.
//!
//! Every fenced block of `README.md` and `docs/*.md` whose info string is `sh runnable` is
//! run here, one trial per command line, from the repository root:
//!
//! - `cos-suite …`, `cos-emulator …` and `cargo run [--release] [--locked] -p PKG [--bin B]
//!   -- …` run the binaries this `cargo test` built (a nested `cargo` would wait forever for
//!   the build directory that the running `cargo test` holds);
//! - `cos-suite run` gets a short filter (`-f sse-c/put-over-https`) when it names none, and a
//!   temporary `--report-dir`, so the main command is exercised without running the whole
//!   catalog a second time or overwriting `reports/`;
//! - a trial passes when the command exits 0.
//!
//! The `cargo test` and `cargo bench` lines of every `sh` block (the test command itself and
//! the long runs, which cannot run inside a test) are checked instead: the package exists and every `--test`/`--bench`
//! target it names is declared, so a renamed target breaks this test, not a reader.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The filter a `cos-suite run` gets when its documented form runs the whole catalog.
const SHORT_FILTER: &str = "sse-c/put-over-https";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("suite/ has a parent")
        .to_path_buf()
}

/// One shell command taken from a document, with where it stands.
#[derive(Debug, Clone)]
struct DocCommand {
    /// `README.md:52`.
    place: String,
    /// Leading `NAME=value` assignments, passed as the command's environment.
    env: Vec<(String, String)>,
    /// The command's words (comments stripped, no shell syntax beyond words).
    words: Vec<String>,
    /// Whether its block is marked `sh runnable`.
    runnable: bool,
}

/// The documents whose commands are run or checked.
fn documents() -> Vec<PathBuf> {
    let root = repo_root();
    let mut docs = vec![root.join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    more.retain(|p| p.extension().is_some_and(|e| e == "md"));
    more.sort();
    docs.extend(more);
    docs
}

/// The command lines of every `sh` block of `text`: a line whose first word is a command,
/// with a trailing `# comment` removed; lines of `#` comments only, variable assignments and
/// shell control lines are not commands.
fn commands(name: &str, text: &str) -> Vec<DocCommand> {
    let mut out = Vec::new();
    // Outside a block: None; inside: Some(None) for another language, Some(Some(runnable))
    // for an `sh` block.
    let mut block: Option<Option<bool>> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => {
                    let mut words = info.split_whitespace();
                    Some((words.next() == Some("sh")).then(|| words.any(|w| w == "runnable")))
                }
            };
            continue;
        }
        let Some(Some(runnable)) = block else {
            continue;
        };
        let code = match trimmed.find(" #") {
            Some(i) => &trimmed[..i],
            None if trimmed.starts_with('#') => "",
            None => trimmed,
        };
        let mut words: Vec<String> = code.split_whitespace().map(str::to_owned).collect();
        let assignments = words
            .iter()
            .take_while(|w| w.contains('=') && !w.starts_with('-'))
            .count();
        let env = words
            .drain(..assignments)
            .filter_map(|w| w.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        if words.is_empty() || words[0] == "export" {
            continue;
        }
        out.push(DocCommand {
            place: format!("{name}:{}", index + 1),
            env,
            words,
            runnable,
        });
    }
    out
}

/// The binary a documented command names, and the arguments it gets.
fn binary_and_args(words: &[String]) -> Result<(String, Vec<String>), String> {
    match words[0].as_str() {
        "cos-suite" | "cos-emulator" => Ok((words[0].clone(), words[1..].to_vec())),
        "cargo" if words.get(1).map(String::as_str) == Some("run") => {
            let split = words.iter().position(|w| w == "--");
            let (flags, args) = match split {
                Some(i) => (&words[2..i], words[i + 1..].to_vec()),
                None => (&words[2..], Vec::new()),
            };
            let mut package = None;
            let mut bin = None;
            let mut it = flags.iter();
            while let Some(flag) = it.next() {
                match flag.as_str() {
                    "-p" | "--package" => package = it.next().cloned(),
                    "--bin" => bin = it.next().cloned(),
                    "--release" | "--locked" | "--quiet" | "-q" => {}
                    other => return Err(format!("cargo run flag `{other}` is not understood here")),
                }
            }
            let package = package.ok_or("cargo run without -p PKG")?;
            Ok((bin.unwrap_or(package), args))
        }
        other => Err(format!(
            "`{other}` cannot run here: mark only cos-suite, cos-emulator and cargo run commands runnable"
        )),
    }
}

/// Where this `cargo test` put the binary named `name`.
fn binary_path(name: &str) -> Result<PathBuf, String> {
    let suite = PathBuf::from(env!("CARGO_BIN_EXE_cos-suite"));
    let path = match name {
        "cos-suite" => suite,
        "mutate" => PathBuf::from(env!("CARGO_BIN_EXE_mutate")),
        // Built by the same `cargo test --workspace` (the emulator's own tests need it).
        "cos-emulator" => {
            suite.with_file_name(format!("cos-emulator{}", std::env::consts::EXE_SUFFIX))
        }
        other => return Err(format!("no binary `{other}` in this workspace")),
    };
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} is not built: run `cargo build -p cos-emulator` (or `cargo test --workspace`) first",
            path.display()
        ))
    }
}

fn run(command: &DocCommand) -> Result<(), Failed> {
    let (name, mut args) = binary_and_args(&command.words)?;
    let path = binary_path(&name)?;
    let reports = tempfile::tempdir().map_err(|e| e.to_string())?;
    if name == "cos-suite" && args.first().map(String::as_str) == Some("run") {
        if !args.iter().any(|a| a == "-f" || a == "--filter") {
            args.extend(["-f".into(), SHORT_FILTER.into()]);
        }
        if !args.iter().any(|a| a == "--report-dir") {
            args.extend(["--report-dir".into(), reports.path().display().to_string()]);
        }
    }
    let output = Command::new(&path)
        .args(&args)
        .envs(command.env.iter().cloned())
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: `{} {}` exited {}\n{}{}",
            command.place,
            name,
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    }
}

/// The `[[test]]` and `[[bench]]` names a package declares, and its `tests/*.rs` and
/// `benches/*` when it discovers targets itself.
fn targets(package_dir: &Path, kind: &str) -> Vec<String> {
    let manifest = std::fs::read_to_string(package_dir.join("Cargo.toml")).unwrap_or_default();
    let mut names = Vec::new();
    let mut in_section = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == format!("[[{kind}]]");
        } else if in_section {
            if let Some(value) = line.strip_prefix("name") {
                let value = value.trim_start().trim_start_matches('=').trim();
                names.push(value.trim_matches('"').to_owned());
            }
        }
    }
    let dir = package_dir.join(if kind == "test" { "tests" } else { "benches" });
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            if path.extension().is_some_and(|e| e == "rs") || path.is_dir() {
                names.extend(stem);
            }
        }
    }
    names
}

/// Checks a `cargo test`/`cargo bench` line: the package and every named target exist.
fn check(command: &DocCommand) -> Result<(), Failed> {
    let words = &command.words;
    let root = repo_root();
    let end = words.iter().position(|w| w == "--").unwrap_or(words.len());
    let mut package = None;
    let mut wanted = Vec::new();
    let mut i = 2;
    while i < end {
        match words[i].as_str() {
            "-p" | "--package" => package = words.get(i + 1).cloned(),
            "--test" => wanted.push(("test", words.get(i + 1).cloned().unwrap_or_default())),
            "--bench" => wanted.push(("bench", words.get(i + 1).cloned().unwrap_or_default())),
            _ => {}
        }
        i += 1;
    }
    let Some(package) = package else {
        return Ok(()); // a workspace-wide command names no target to check
    };
    let dir = match package.as_str() {
        "cos-suite" => root.join("suite"),
        "cos-emulator" => root.join("emulator"),
        "cos-emulator-crypto" => root.join("emulator/crypto"),
        "cos-sm4-simd" => root.join("emulator/sm4-simd"),
        "sigv4" => root.join("sigv4"),
        other => return Err(format!("{}: no package `{other}`", command.place).into()),
    };
    for (kind, name) in wanted {
        if !targets(&dir, kind).contains(&name) {
            return Err(format!(
                "{}: package {package} has no {kind} target `{name}`",
                command.place
            )
            .into());
        }
    }
    Ok(())
}

/// The files of the product a reader sees: sources, tests, cases, documents, scripts.
fn product_files(dir: &Path, out: &mut Vec<PathBuf>) {
    const SKIP: [&str; 5] = ["target", "node_modules", ".git", "results", "reports"];
    const KINDS: [&str; 9] = ["rs", "md", "yaml", "yml", "toml", "sh", "py", "js", "html"];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIP.contains(&name.as_str()) && !name.starts_with(".venv") {
                product_files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| KINDS.contains(&e.to_string_lossy().as_ref()))
            || name == "run"
        {
            out.push(path);
        }
    }
}

/// The product states what is true and why; the history of a change (an issue number)
/// lives in git, and means nothing to a reader outside the team.
fn no_issue_numbers() -> Result<(), Failed> {
    let pattern = regex::Regex::new(r"(?i)\bissues? ?#?[0-9]+").expect("pattern");
    let root = repo_root();
    let mut files = Vec::new();
    product_files(&root, &mut files);
    let mut hits = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            if pattern.is_match(line) {
                let name = file.strip_prefix(&root).unwrap_or(&file).display();
                hits.push(format!("{name}:{}: {}", index + 1, line.trim()));
            }
        }
    }
    if hits.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} lines cite an issue number:\n{}",
            hits.len(),
            hits.join("\n")
        )
        .into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "no document, comment or test names an issue number",
        no_issue_numbers,
    )];
    for doc in documents() {
        let name = doc
            .strip_prefix(repo_root())
            .unwrap_or(&doc)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{name}: {e}"));
        for command in commands(&name, &text) {
            let label = format!("{} `{}`", command.place, command.words.join(" "));
            let is_cargo_check = command.words[0] == "cargo"
                && matches!(
                    command.words.get(1).map(String::as_str),
                    Some("test" | "bench")
                );
            if is_cargo_check {
                trials.push(Trial::test(
                    format!("names real targets {label}"),
                    move || check(&command),
                ));
            } else if command.runnable {
                trials.push(Trial::test(format!("runs {label}"), move || run(&command)));
            }
        }
    }
    assert!(
        trials.iter().any(|t| t.name().starts_with("runs ")),
        "no `sh runnable` block found in README.md or docs/"
    );
    libtest_mimic::run(&args, trials).exit();
}
