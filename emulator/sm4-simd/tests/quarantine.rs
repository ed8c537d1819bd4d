//! The quarantine holds: `unsafe` is forbidden in every other crate of the workspace, and
//! in this crate it appears only in `src/x86.rs` and the files under `src/x86/`, whose
//! safety argument the README states.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("emulator/sm4-simd lies two levels below the workspace root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workspace members, from the root manifest's `members = [...]` line.
fn members(root: &Path) -> Vec<String> {
    let manifest = read(&root.join("Cargo.toml"));
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("the root manifest lists its members");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_other_member_inherits_the_workspace_forbid() {
    let root = repo_root();
    let manifest = read(&root.join("Cargo.toml"));
    assert!(
        manifest.contains("unsafe_code = \"forbid\""),
        "the workspace lints forbid unsafe_code"
    );
    let members = members(&root);
    assert!(
        members.iter().any(|m| m == "emulator/sm4-simd"),
        "{members:?}"
    );
    for member in members.iter().filter(|m| *m != "emulator/sm4-simd") {
        let text = read(&root.join(member).join("Cargo.toml"));
        let inherits = text
            .split("[lints]")
            .nth(1)
            .is_some_and(|rest| rest.trim_start().starts_with("workspace = true"));
        assert!(
            inherits,
            "{member}/Cargo.toml must inherit the workspace lints ([lints] workspace = true)"
        );
    }
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn unsafe_appears_only_in_the_x86_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let x86 = |f: &Path| f == src.join("x86.rs") || f.starts_with(src.join("x86"));
    assert!(files.iter().any(|f| f.ends_with("x86.rs")));
    assert!(
        files.iter().any(|f| !x86(f)),
        "the scan sees the modules outside src/x86"
    );
    for file in files.iter().filter(|f| !x86(f)) {
        for (i, line) in read(file).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains("unsafe"),
                "{}:{}: `unsafe` outside src/x86.rs and src/x86/: {line}",
                file.display(),
                i + 1
            );
        }
    }
    let manifest = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    assert!(
        manifest.contains("unsafe_code = \"deny\""),
        "the crate denies unsafe_code, so only an explicit allow (src/x86.rs) lifts it"
    );
}
