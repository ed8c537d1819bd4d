//! The case schema of `cases/README.md`, loaded and validated with file and line in every
//! error: unknown fields, bad templates, unknown rule ids or key names, and references to
//! missing or later steps are all caught by `cos-suite check`, before anything runs.

mod body;
mod expectation;
pub mod introspect;
mod poly;
mod scope;
mod sizes;
mod step;
mod template;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess};
use serde::Deserialize;

/// The capability names live with the rule catalog, which declares them.
pub use crate::rules::{CAPABILITIES, REGION_CAPABILITIES};
pub use body::{BodySpec, PartRef, Parts};
pub use expectation::{
    BodyCheck, BodyNot, CodeSpec, Expect, ExpectIf, StatusItem, StatusSpec, StepRef, ValueCheck,
};
pub use sizes::{expand, Expanded, SizeSets, SIZES_FILE};
pub use step::{
    Auth, Capability, KeyName, KmsContext, RegionSpec, RequestFields, Scheme, SourceSpec, SseC,
    SseKms, Step, StepKind,
};
pub use template::{KeyForm, Part, StepField, Template, Var};

use crate::file_error::{line_of, yaml_error};
use crate::keys::KeyRing;
use crate::rules::{Catalog, FAMILIES};
use poly::{map_then, poly_deserialize, Poly};

/// Whether a case shows a rule holding or the refusal it guards against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    /// The documented success.
    Positive,
    /// The refusal or failure the rule guards against.
    Negative,
}

/// One case file.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<family>/<name>`, stable, never reused.
    pub id: String,
    /// The rules it checks (all in rules.yaml).
    pub rules: Vec<String>,
    /// One line.
    pub title: String,
    /// Positive or negative.
    pub polarity: Polarity,
    /// Where it runs (default: the first region with every capability the steps use).
    pub region: Option<RegionSpec>,
    /// Endpoint capabilities it needs.
    pub requires: Vec<String>,
    /// Touches account-wide state: never run alongside another case.
    pub serial: bool,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Steps run after the others even when one failed; their expectations are not checked.
    pub cleanup: Vec<Step>,
    /// Checks of what the endpoint stored (`introspect` capability, crate::introspect).
    pub introspect: Vec<introspect::Check>,
    /// The file it came from.
    pub file: PathBuf,
    /// For a case expanded from a size matrix (`sizes:`), the size it runs at.
    pub size: Option<u64>,
}

impl Case {
    /// The family: the part of the id before `/`.
    pub fn family(&self) -> &str {
        self.id.split('/').next().unwrap_or(&self.id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    rules: Vec<RuleId>,
    title: String,
    polarity: Polarity,
    region: Option<RegionSpec>,
    #[serde(default)]
    requires: Vec<Capability>,
    #[serde(default)]
    serial: bool,
    steps: Vec<Step>,
    #[serde(default)]
    cleanup: Vec<Step>,
    /// Read by `sizes::expand` before parsing; kept here so the field is known.
    #[serde(default, rename = "sizes")]
    _sizes: Option<de::IgnoredAny>,
    #[serde(default)]
    introspect: Vec<introspect::Check>,
}

/// A rule id, checked against rules.yaml while loading.
struct RuleId(String);

impl Poly for RuleId {
    const EXPECTING: &'static str = "a rule id";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        scope::check_rule(v).map_err(E::custom)?;
        Ok(RuleId(v.to_string()))
    }
}
poly_deserialize!(RuleId);

struct CaseDoc(RawCase);

impl Poly for CaseDoc {
    const EXPECTING: &'static str = "a case: a mapping with id, rules, title, polarity, steps";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawCase| {
            if r.rules.is_empty() {
                return Err("`rules` names no rule: every case checks at least one".into());
            }
            if r.steps.is_empty() {
                return Err("`steps` is empty: a case that sends nothing checks nothing".into());
            }
            Ok(CaseDoc(r))
        })
    }
}
poly_deserialize!(CaseDoc);

/// A case file that could not be loaded: file, line, column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for LoadError {}

/// What cases are checked against while loading.
pub struct LoadContext<'a> {
    /// The rule catalog.
    pub catalog: &'a Catalog,
    /// The named keys.
    pub keys: &'a KeyRing,
}

impl LoadContext<'_> {
    fn scope(&self) -> scope::Scope {
        scope::Scope {
            keys: self.keys.names().map(str::to_string).collect(),
            rules: self
                .catalog
                .rules()
                .iter()
                .map(|r| {
                    (
                        r.id.clone(),
                        r.behaviours.iter().map(|b| b.name.clone()).collect(),
                    )
                })
                .collect(),
            steps: Vec::new(),
        }
    }
}

/// Parses one case from its text. `file` is its path (relative to the cases directory's
/// parent, e.g. `cases/sse-c/get-wrong-key.yaml`), used for the id check and in errors.
pub fn parse_case(file: &Path, text: &str, ctx: &LoadContext<'_>) -> Result<Case, LoadError> {
    // YAML also breaks lines at NEL, LS and PS, and reports an error at the end of the
    // stream one line past the last: the line named always exists in the file as an
    // editor shows it (found by the loader's fuzz target). Counted only for an error.
    let err = |line: usize, column: usize, message: String| LoadError {
        file: file.to_path_buf(),
        line: line.min(
            text.replace("\r\n", "\n")
                .replace('\r', "\n")
                .lines()
                .count()
                .max(1),
        ),
        column,
        message,
    };
    let doc: CaseDoc =
        scope::with_scope(ctx.scope(), || serde_norway::from_str(text)).map_err(|e| {
            let (line, message) = yaml_error(&e);
            let column = e.location().map_or(0, |l| l.column());
            err(line, column, message)
        })?;
    let raw = doc.0;
    let id_line = line_of(text, "id:");
    check_id(file, &raw.id).map_err(|m| err(id_line, 1, m))?;
    let mut requires: Vec<String> = raw.requires.into_iter().map(|c| c.0).collect();
    requires.dedup();
    // `introspect:` checks run only where the profile offers them: say so in `requires`.
    for cap in introspect::needed_capabilities(&raw.introspect) {
        if !requires.iter().any(|r| r == cap) {
            return Err(err(
                line_of(text, "introspect:"),
                1,
                format!("`introspect:` checks need `requires: [{cap}]`"),
            ));
        }
    }
    Ok(Case {
        id: raw.id,
        rules: raw.rules.into_iter().map(|r| r.0).collect(),
        title: raw.title,
        polarity: raw.polarity,
        region: raw.region,
        requires,
        serial: raw.serial,
        steps: raw.steps,
        cleanup: raw.cleanup,
        introspect: raw.introspect,
        file: file.to_path_buf(),
        size: None,
    })
}

/// The id must be `<family>/<file stem>` and the family one of [`FAMILIES`].
fn check_id(file: &Path, id: &str) -> Result<(), String> {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let dir = file
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let expected = format!("{dir}/{stem}");
    if id != expected {
        return Err(format!(
            "id `{id}` does not match the file's place: expected `{expected}`"
        ));
    }
    if !FAMILIES.contains(&dir) {
        return Err(format!(
            "family `{dir}` is not a rule family (one of: {})",
            FAMILIES.join(", ")
        ));
    }
    if !stem
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "case name `{stem}`: use lower-case letters, digits and `-`"
        ));
    }
    Ok(())
}

/// Every `<family>/<name>.yaml` under `dir`, sorted.
pub fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        for inner in std::fs::read_dir(&path)? {
            let p = inner?.path();
            if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parses one case file, expanded by its size matrix (`sizes:`, see [`expand`]): one case
/// per size, with the id `<id>-<size>`, or the one case of a file without `sizes:`.
pub fn parse_case_file(
    file: &Path,
    text: &str,
    sets: &SizeSets,
    ctx: &LoadContext<'_>,
) -> Result<Vec<Case>, LoadError> {
    expand(file, text, sets)?
        .into_iter()
        .map(|e| {
            let mut case = parse_case(file, &e.text, ctx)?;
            if let Some(size) = e.size {
                case.id = format!("{}-{size}", case.id);
                case.size = Some(size);
            }
            Ok(case)
        })
        .collect()
}

/// Loads every case under `dir` (with the size sets of `dir/sizes.yaml`), collecting every
/// error rather than stopping at the first. Duplicate ids are errors too.
pub fn load_cases(dir: &Path, ctx: &LoadContext<'_>) -> Result<Vec<Case>, Vec<LoadError>> {
    let sets = SizeSets::load(dir).map_err(|e| vec![e])?;
    let files = case_files(dir).map_err(|e| {
        vec![LoadError {
            file: dir.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot list the cases directory: {e}"),
        }]
    })?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let loaded = std::fs::read_to_string(&file)
            .map_err(|e| LoadError {
                file: file.clone(),
                line: 0,
                column: 0,
                message: e.to_string(),
            })
            .and_then(|text| parse_case_file(&file, &text, &sets, ctx));
        match loaded {
            Ok(c) => cases.extend(c),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}
