//! The table of expected error codes, `cases/codes.yaml`, and what `--strict` does with
//! it.
//!
//! Every `code:` a case expects must be in the table, and the table must say for which
//! situation (`ERROR-CODES.md` row, tied to rule ids) and with which confidence the vendor
//! answers it. The confidence decides whether a wrong code fails the case:
//!
//! | level | a wrong code fails the case when its confidence is |
//! |---|---|
//! | no `--strict` | never (a warning) |
//! | `--strict` (`--strict=vendor`) | `vendor-doc`, `vendor-list`, `sdk-test` |
//! | `--strict=all` | any, also `s3-analogue`, `emulator-choice`, `unknown` |
//!
//! A profile may declare `codes:` overrides (a code or a situation row → the code that
//! vendor answers on purpose); an overridden expectation is checked whenever `--strict` is
//! given and reported as an override.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::case::{Case, CodeSpec, Expect, LoadError, StatusItem, StatusSpec};
use crate::dialect::Dialect;
use crate::file_error::line_of;
use crate::file_error::FileError;
use crate::rules::Catalog;

/// How sure the table is that the vendor answers a code in a situation (the confidence
/// column of `ERROR-CODES.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// A COS document states the status and code for this situation.
    VendorDoc,
    /// An official COS SDK's test against live COS asserts it.
    SdkTest,
    /// The code is on COS's error-code list; the situation is inferred from its name.
    VendorList,
    /// Nothing for COS; the S3 answer (or an S3 re-implementation's) is expected.
    S3Analogue,
    /// Nothing for COS or S3; the emulator's own choice.
    EmulatorChoice,
    /// No source found.
    Unknown,
}

impl Confidence {
    /// Whether a vendor source backs it (what plain `--strict` checks).
    pub fn is_vendor(self) -> bool {
        matches!(
            self,
            Confidence::VendorDoc | Confidence::SdkTest | Confidence::VendorList
        )
    }

    /// The spelling of `cases/codes.yaml` and the reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::VendorDoc => "vendor-doc",
            Confidence::SdkTest => "sdk-test",
            Confidence::VendorList => "vendor-list",
            Confidence::S3Analogue => "s3-analogue",
            Confidence::EmulatorChoice => "emulator-choice",
            Confidence::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which wrong codes fail a case (`--strict[=LEVEL]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strictness {
    /// No `--strict`: a wrong code is a warning.
    #[default]
    Off,
    /// `--strict` / `--strict=vendor`: codes a vendor source backs.
    Vendor,
    /// `--strict=all`: every expected code.
    All,
}

impl Strictness {
    /// Whether a wrong code of this confidence fails the case.
    pub fn checks(self, confidence: Confidence) -> bool {
        match self {
            Strictness::Off => false,
            Strictness::Vendor => confidence.is_vendor(),
            Strictness::All => true,
        }
    }
}

impl Strictness {
    /// The level's name in reports: `off`, `vendor` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strictness::Off => "off",
            Strictness::Vendor => "vendor",
            Strictness::All => "all",
        }
    }

    /// Reads a report's `strict`: a level name, or the boolean older reports wrote
    /// (`true` was `--strict`, which is `vendor`).
    pub fn deserialize_compat<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Old(bool),
            Level(Strictness),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Old(b) => b.into(),
            Raw::Level(l) => l,
        })
    }
}

impl fmt::Display for Strictness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Strictness {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vendor" => Ok(Strictness::Vendor),
            "all" => Ok(Strictness::All),
            other => Err(format!(
                "`{other}`: --strict takes `vendor` (the default: codes a vendor source backs) or `all`"
            )),
        }
    }
}

impl From<bool> for Strictness {
    /// `--strict` given or not (today's flag).
    fn from(strict: bool) -> Self {
        if strict {
            Strictness::Vendor
        } else {
            Strictness::Off
        }
    }
}

/// A source of `ERROR-CODES.md`'s Sources table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// What it is.
    pub title: String,
    /// Where to read it (none for the emulator's own choice).
    pub url: Option<String>,
}

/// One situation a code is answered in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Situation {
    /// The `ERROR-CODES.md` row (`6a`), or `list` for a code of COS's general list that the
    /// SSE table has no row for, or `none` for the emulator's own refusals.
    pub row: String,
    /// The rules whose cases expect the code in this situation; `"*"`: any rule.
    pub rules: Vec<String>,
    /// How sure the table is.
    pub confidence: Confidence,
    /// Source ids (keys of `sources:`).
    pub sources: Vec<String>,
    /// Why, when the row alone does not say.
    #[serde(default)]
    pub note: Option<String>,
    /// What an S3 endpoint answers in this situation (profile `dialect: s3`): required.
    #[serde(default)]
    pub s3: Option<S3Answer>,
}

/// A situation's `s3:` entry: the S3 code with its own status, confidence and sources
/// (AWS documentation or S3 re-implementations), or why the situation cannot arise in S3.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct S3Answer {
    /// The S3 error code.
    #[serde(default)]
    pub code: Option<String>,
    /// Its HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// How sure the table is that S3 answers it (vendor = AWS here).
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Source ids (keys of `sources:`).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Why, when the sources alone do not say.
    #[serde(default)]
    pub note: Option<String>,
    /// The situation cannot arise in S3, and why.
    #[serde(default)]
    pub not_applicable: Option<String>,
}

impl S3Answer {
    /// The code, status and confidence, when the situation arises in S3 (a checked entry
    /// has all three).
    pub fn answer(&self) -> Option<(&str, u16, Confidence)> {
        Some((self.code.as_deref()?, self.status?, self.confidence?))
    }

    fn check(&self, sources: &BTreeMap<String, Source>) -> Result<(), String> {
        if let Some(why) = &self.not_applicable {
            let other = self.code.is_some()
                || self.status.is_some()
                || self.confidence.is_some()
                || !self.sources.is_empty();
            if other || why.trim().is_empty() {
                return Err("s3: `not-applicable` takes a reason and nothing else".into());
            }
            return Ok(());
        }
        match (&self.code, self.status, self.confidence) {
            (Some(c), Some(st), Some(_)) if !c.trim().is_empty() => {
                if !(400..=599).contains(&st) {
                    return Err(format!("s3: status {st} is not an error status"));
                }
            }
            _ => {
                return Err(
                    "s3: give `code`, `status`, `confidence` and `sources`, or `not-applicable: <reason>`"
                        .into(),
                )
            }
        }
        if self.sources.is_empty() {
            return Err("s3: no source".into());
        }
        if let Some(missing) = self.sources.iter().find(|id| !sources.contains_key(*id)) {
            return Err(format!("s3: source `{missing}` is not under `sources:`"));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    status: u16,
    situations: Vec<Situation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    sources: BTreeMap<String, Source>,
    codes: BTreeMap<String, RawCode>,
}

/// One code of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeEntry {
    /// HTTP status the code comes with.
    pub status: u16,
    /// Where it is answered.
    pub situations: Vec<Situation>,
}

/// `cases/codes.yaml`, loaded and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeTable {
    /// Source id → source.
    pub sources: BTreeMap<String, Source>,
    /// Code → entry.
    pub codes: BTreeMap<String, CodeEntry>,
}

/// What the table says about one expected code in one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// The weakest confidence of the matching situations (a case names several rules and
    /// the table cannot tell which of them the refusal comes from, so it stays cautious).
    pub confidence: Confidence,
    /// The matching situations.
    pub situations: Vec<&'a Situation>,
}

impl CodeTable {
    /// Loads and checks the table; rule ids are checked against `catalog`. A missing file
    /// is an empty table (a cases directory whose cases expect no code needs none; any
    /// `code:` is then refused as not in the table).
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Self, FileError> {
        if !path.exists() {
            return Ok(CodeTable::default());
        }
        let text = FileError::read_text(path)?;
        Self::parse(&path.display().to_string(), &text, catalog)
    }

    /// Parses and checks the text of a table; `path` names it in errors.
    pub fn parse(path: &str, text: &str, catalog: &Catalog) -> Result<Self, FileError> {
        let raw: RawTable = FileError::parse_yaml(path, text)?;
        let invalid = |code: &str, message: String| FileError::Invalid {
            path: path.to_string(),
            line: line_of(text, &format!("{code}:")),
            message: format!("{code}: {message}"),
        };
        let mut codes = BTreeMap::new();
        for (code, entry) in raw.codes {
            if !(400..=599).contains(&entry.status) {
                return Err(invalid(
                    &code,
                    format!("status {} is not an error status", entry.status),
                ));
            }
            if entry.situations.is_empty() {
                return Err(invalid(
                    &code,
                    "no situation: say where it is answered (confidence unknown if unsourced)"
                        .into(),
                ));
            }
            for s in &entry.situations {
                for rule in &s.rules {
                    if rule != "*" && catalog.get(rule).is_none() {
                        return Err(invalid(
                            &code,
                            format!("row {}: unknown rule id `{rule}`", s.row),
                        ));
                    }
                }
                if s.sources.is_empty() {
                    return Err(invalid(&code, format!("row {}: no source", s.row)));
                }
                if let Some(missing) = s.sources.iter().find(|id| !raw.sources.contains_key(*id)) {
                    return Err(invalid(
                        &code,
                        format!("row {}: source `{missing}` is not under `sources:`", s.row),
                    ));
                }
                match &s.s3 {
                    None => {
                        return Err(invalid(
                            &code,
                            format!(
                                "row {}: no `s3:` answer: give the S3 code, status, confidence and sources, or `s3: {{not-applicable: <reason>}}`",
                                s.row
                            ),
                        ))
                    }
                    Some(a) => a
                        .check(&raw.sources)
                        .map_err(|m| invalid(&code, format!("row {}: {m}", s.row)))?,
                }
            }
            codes.insert(
                code,
                CodeEntry {
                    status: entry.status,
                    situations: entry.situations,
                },
            );
        }
        Ok(CodeTable {
            sources: raw.sources,
            codes,
        })
    }

    /// What the table says about `code` expected by a case checking `rules`: the
    /// situations naming one of the rules, else the ones for any rule (`"*"`).
    pub fn resolve(&self, code: &str, rules: &[String]) -> Result<Resolution<'_>, String> {
        let entry = self.codes.get(code).ok_or_else(|| {
            format!("code `{code}` is not in cases/codes.yaml: add it with its situation, status, confidence and source (confidence `unknown` if nothing is sourced)")
        })?;
        let named: Vec<&Situation> = entry
            .situations
            .iter()
            .filter(|s| s.rules.iter().any(|r| rules.contains(r)))
            .collect();
        let situations = if named.is_empty() {
            entry
                .situations
                .iter()
                .filter(|s| s.rules.iter().any(|r| r == "*"))
                .collect()
        } else {
            named
        };
        let confidence = situations
            .iter()
            .map(|s| s.confidence)
            .max()
            .ok_or_else(|| {
                format!(
                    "code `{code}`: no situation in cases/codes.yaml covers this case's rules ({}); add the rule to a situation (confidence `unknown` if nothing is sourced)",
                    rules.join(", ")
                )
            })?;
        Ok(Resolution {
            confidence,
            situations,
        })
    }

    /// Every situation row in the table.
    fn rows(&self) -> BTreeSet<&str> {
        self.codes
            .values()
            .flat_map(|e| e.situations.iter().map(|s| s.row.as_str()))
            .collect()
    }
}

/// Every expectation of a case with a `code:` (steps and cleanup, `expect` and each
/// `expect_if` alternative).
fn coded(case: &Case) -> impl Iterator<Item = &CodeSpec> {
    case.steps
        .iter()
        .chain(&case.cleanup)
        .flat_map(|s| s.expect.iter().chain(s.expect_if.iter().map(|a| &a.expect)))
        .filter_map(|e| e.code.as_ref())
}

/// The loader's check: every `code:` of every case is in the table with a situation for
/// the case's rules. Errors carry the file, line and column of the code.
pub fn check_cases(table: &CodeTable, cases: &[Case]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for case in cases {
        let mut seen = BTreeSet::new();
        for code in coded(case).flat_map(|c| c.0.iter()) {
            if !seen.insert(code) {
                continue;
            }
            if let Err(message) = table.resolve(code, &case.rules) {
                let (line, column) = std::fs::read_to_string(&case.file)
                    .map(|text| locate_code(&text, code))
                    .unwrap_or((0, 0));
                errors.push(LoadError {
                    file: case.file.clone(),
                    line,
                    column,
                    message,
                });
            }
        }
    }
    errors
}

/// 1-based line and column of `code` as the value of the first `code:` key naming it.
fn locate_code(text: &str, code: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        let Some(key) = line.find("code:") else {
            continue;
        };
        let rest = &line[key + 5..];
        let mut from = 0;
        while let Some(at) = rest[from..].find(code) {
            let start = from + at;
            let end = start + code.len();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
            if !word(rest[..start].chars().next_back()) && !word(rest[end..].chars().next()) {
                return (i + 1, line[..key + 5 + start].chars().count() + 1);
            }
            from = end;
        }
    }
    (0, 0)
}

/// One expected code of a rule's cases, as checked in this run (a report column).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CodeCheck {
    /// The code expected in this run (the override's, if one applies).
    pub code: String,
    /// The table's code the profile overrode, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
    /// The table's confidence (`profile-override` for an overridden code).
    pub confidence: String,
    /// Whether a wrong code fails the case at this run's strictness.
    pub checked: bool,
    /// `ERROR-CODES.md` rows.
    pub rows: Vec<String>,
    /// Sources, with their links.
    pub sources: Vec<SourceLink>,
}

/// A source of a checked code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceLink {
    /// Its id in `cases/codes.yaml`.
    pub id: String,
    /// Where to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The confidence reported for a code a profile overrides.
pub const PROFILE_OVERRIDE: &str = "profile-override";

/// What a run does with expected codes: the level, the table, the profile's overrides.
#[derive(Debug, Clone, Default)]
pub struct CodePolicy {
    /// `--strict[=LEVEL]`.
    pub level: Strictness,
    table: Option<Arc<CodeTable>>,
    overrides: BTreeMap<String, String>,
    /// The endpoint's dialect: in `s3`, each expected code is the situation's `s3:` answer.
    dialect: Dialect,
}

impl From<bool> for CodePolicy {
    /// Without a table (a case built outside a catalog load, e.g. in a self-test) every
    /// code is checked when `--strict` is given, as before confidences existed.
    fn from(strict: bool) -> Self {
        CodePolicy {
            level: strict.into(),
            table: None,
            overrides: BTreeMap::new(),
            dialect: Dialect::Cos,
        }
    }
}

impl CodePolicy {
    /// The policy of a run; every override key must be a code or a situation row of the
    /// table (`profile` names the profile in the error).
    pub fn new(
        level: Strictness,
        table: Arc<CodeTable>,
        overrides: &BTreeMap<String, String>,
        profile: &str,
    ) -> Result<Self, String> {
        let rows = table.rows();
        for (key, code) in overrides {
            if !table.codes.contains_key(key) && !rows.contains(key.as_str()) {
                return Err(format!(
                    "profile {profile}: codes: `{key}` is neither a code nor a situation row of cases/codes.yaml"
                ));
            }
            if code.trim().is_empty() {
                return Err(format!(
                    "profile {profile}: codes: `{key}` overrides with an empty code"
                ));
            }
        }
        Ok(CodePolicy {
            level,
            table: Some(table),
            overrides: overrides.clone(),
            dialect: Dialect::Cos,
        })
    }

    /// The same policy for an endpoint of `dialect`: in `s3` every expected code (and the
    /// status that goes with it) is the matching situations' `s3:` answer, checked at the
    /// answer's own confidence, so `--strict` keeps meaning "codes a vendor source backs".
    pub fn for_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The override of `code` in these situations: by code first, then by row.
    fn override_of(&self, code: &str, situations: &[&Situation]) -> Option<&String> {
        self.overrides.get(code).or_else(|| {
            situations
                .iter()
                .find_map(|s| self.overrides.get(s.row.as_str()))
        })
    }

    /// One expected code of a case, as this run checks it.
    fn code_check(&self, code: &str, case: &Case) -> CodeCheck {
        let Some(table) = &self.table else {
            return CodeCheck {
                code: code.to_string(),
                overrides: None,
                confidence: Confidence::Unknown.as_str().to_string(),
                checked: self.level != Strictness::Off,
                rows: Vec::new(),
                sources: Vec::new(),
            };
        };
        let (confidence, situations) = match table.resolve(code, &case.rules) {
            Ok(r) => (r.confidence, r.situations),
            // The loader refuses such cases; one built around it is not trusted.
            Err(_) => (Confidence::Unknown, Vec::new()),
        };
        let rows: Vec<String> = situations.iter().map(|s| s.row.clone()).collect();
        if self.dialect == Dialect::S3 {
            return self.s3_check(code, &situations, rows, table);
        }
        let mut ids: Vec<&String> = situations.iter().flat_map(|s| &s.sources).collect();
        ids.sort();
        ids.dedup();
        let sources = ids
            .into_iter()
            .map(|id| SourceLink {
                id: id.clone(),
                url: table.sources.get(id).and_then(|s| s.url.clone()),
            })
            .collect();
        match self.override_of(code, &situations) {
            Some(vendor) => CodeCheck {
                code: vendor.clone(),
                overrides: Some(code.to_string()),
                confidence: PROFILE_OVERRIDE.to_string(),
                // The profile declares it on purpose: as sure as a vendor source.
                checked: self.level != Strictness::Off,
                rows,
                sources,
            },
            None => CodeCheck {
                code: code.to_string(),
                overrides: None,
                confidence: confidence.as_str().to_string(),
                checked: self.level.checks(confidence),
                rows,
                sources,
            },
        }
    }

    /// S3 dialect: the matching situations' `s3:` answers (the first answer's code, the
    /// weakest confidence). No answer (every situation not-applicable in S3, or none
    /// matched): the COS code stays, at confidence `unknown`.
    fn s3_check(
        &self,
        cos_code: &str,
        situations: &[&Situation],
        rows: Vec<String>,
        table: &CodeTable,
    ) -> CodeCheck {
        let answers: Vec<(&S3Answer, (&str, u16, Confidence))> = situations
            .iter()
            .filter_map(|s| s.s3.as_ref())
            .filter_map(|a| a.answer().map(|x| (a, x)))
            .collect();
        let (code, confidence) = match answers.first() {
            Some((_, (code, _, _))) => (
                code.to_string(),
                answers
                    .iter()
                    .map(|(_, (_, _, c))| *c)
                    .max()
                    .unwrap_or(Confidence::Unknown),
            ),
            None => (cos_code.to_string(), Confidence::Unknown),
        };
        let mut ids: Vec<&String> = answers.iter().flat_map(|(a, _)| &a.sources).collect();
        ids.sort();
        ids.dedup();
        let sources = ids
            .into_iter()
            .map(|id| SourceLink {
                id: id.clone(),
                url: table.sources.get(id).and_then(|s| s.url.clone()),
            })
            .collect();
        match self.override_of(&code, situations) {
            Some(vendor) => CodeCheck {
                code: vendor.clone(),
                overrides: Some(code),
                confidence: PROFILE_OVERRIDE.to_string(),
                checked: self.level != Strictness::Off,
                rows,
                sources,
            },
            None => CodeCheck {
                code,
                overrides: None,
                confidence: confidence.as_str().to_string(),
                checked: self.level.checks(confidence),
                rows,
                sources,
            },
        }
    }

    /// The S3 status of an expected COS code in a case, when it differs from COS's.
    fn s3_status(&self, cos_code: &str, case: &Case) -> Option<(u16, u16)> {
        let table = self.table.as_ref()?;
        let cos_status = table.codes.get(cos_code)?.status;
        let situations = table.resolve(cos_code, &case.rules).ok()?.situations;
        let s3 = situations
            .iter()
            .filter_map(|s| s.s3.as_ref()?.answer())
            .map(|(_, status, _)| status)
            .next()?;
        (s3 != cos_status).then_some((cos_status, s3))
    }

    /// The expectation as this run checks it (overridden codes replaced; in the S3 dialect
    /// the S3 codes, and the S3 status where a code comes with another one) and whether a
    /// wrong code fails the step: only when every acceptable code is checked at this level.
    pub fn apply(&self, case: &Case, mut expect: Expect) -> (Expect, bool) {
        let Some(spec) = expect.code.take() else {
            return (expect, self.level != Strictness::Off);
        };
        if self.dialect == Dialect::S3 {
            for code in &spec.0 {
                if let Some((cos, s3)) = self.s3_status(code, case) {
                    if let Some(status) = &mut expect.status {
                        if status.0 == [StatusItem::Exact(cos)] {
                            *status = StatusSpec(vec![StatusItem::Exact(s3)]);
                        }
                    }
                }
            }
        }
        let checks: Vec<CodeCheck> = spec.0.iter().map(|c| self.code_check(c, case)).collect();
        let strict = checks.iter().all(|c| c.checked);
        let mut codes: Vec<String> = checks.into_iter().map(|c| c.code).collect();
        // Order kept (the mismatch text lists them as the case does); in S3 two COS codes
        // may map to one.
        let mut seen = BTreeSet::new();
        codes.retain(|c| seen.insert(c.clone()));
        expect.code = Some(CodeSpec(codes));
        (expect, strict)
    }

    /// Per rule id, the codes its cases expect and how this run checks them (report data).
    pub fn per_rule(&self, cases: &[Case]) -> BTreeMap<String, Vec<CodeCheck>> {
        let mut out: BTreeMap<String, BTreeSet<CodeCheck>> = BTreeMap::new();
        for case in cases {
            for code in coded(case).flat_map(|c| c.0.iter()) {
                let check = self.code_check(code, case);
                for rule in &case.rules {
                    out.entry(rule.clone()).or_default().insert(check.clone());
                }
            }
        }
        out.into_iter()
            .map(|(rule, set)| (rule, set.into_iter().collect()))
            .collect()
    }
}

impl CodeCheck {
    /// `row 6a: vendor-list, checked` (or `warning only`), with the overridden code: what
    /// the reports print next to the code.
    pub fn label(&self) -> String {
        let checked = if self.checked {
            "checked"
        } else {
            "warning only"
        };
        let rows = match self.rows.as_slice() {
            [] => String::new(),
            [one] => format!("row {one}: "),
            more => format!("rows {}: ", more.join(", ")),
        };
        match &self.overrides {
            Some(table) => format!("{rows}{} of {table}, {checked}", self.confidence),
            None => format!("{rows}{}, {checked}", self.confidence),
        }
    }
}
