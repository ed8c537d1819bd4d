//! The rule catalog, `cases/rules.yaml` (schema in `cases/README.md`).
//!
//! Every case names the rules it checks; a report is a matrix of these rules. The quoted
//! source sentences are printed next to every failure, so a vendor reads what the
//! documents say rather than what we think they say.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dialect::Applicability;
use crate::file_error::line_of;

/// The rule families; a case file lives in `cases/<family>/`.
pub const FAMILIES: &[&str] = &[
    "sse-cos",
    "sse-kms",
    "sse-c",
    "copy",
    "archive",
    "region",
    "presign",
    "anonymous",
    "auth",
    "properties",
    "multipart",
    "post",
    "headers",
    "bucket-encryption",
];

/// The capabilities a region can have (profile `regions[].sse`).
pub const REGION_CAPABILITIES: &[&str] = &["sse-cos", "sse-c", "sse-kms", "sm4"];

/// The endpoint-wide capabilities a case may `require` (profile `capabilities`); the
/// meaning of each is the `capabilities:` map at the top of cases/rules.yaml, which the
/// catalog checks against this list.
pub const CAPABILITIES: &[&str] = &[
    "https",
    "http",
    "anonymous",
    "presign",
    "post-object",
    "archive",
    "restore",
    "kms-custom-keys",
    "multipart",
    "introspect",
    "kms-admin",
    "master-key-admin",
    "other-account",
];

/// How firmly the documents state a rule (RULES.md, "Status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Stated in prose: a conforming endpoint must do this.
    Documented,
    /// Shown by an SDK sample: must hold too.
    Example,
    /// Follows from a documented rule or the S3-style API; reported separately.
    Inferred,
    /// The documents are silent or contradict each other; the profile picks a behaviour.
    Unspecified,
    /// An older edition's statement; checked only when a profile asks for it.
    Superseded,
}

impl RuleStatus {
    /// The lower-case name used in YAML and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Documented => "documented",
            Self::Example => "example",
            Self::Inferred => "inferred",
            Self::Unspecified => "unspecified",
            Self::Superseded => "superseded",
        }
    }
}

/// Where a document says it, with the quoted sentence(s).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The seed file name, e.g. `002_a992514dc516d34d.txt`; empty when the source is a
    /// public page named by `url` (the COS API pages the seeds do not include).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub seed: String,
    /// The public page the quote comes from, for a source that is not a seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The section of that document.
    pub section: String,
    /// The sentence(s) the rule rests on, verbatim.
    pub quote: String,
}

/// One behaviour an endpoint may have for an `unspecified` / `superseded` rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// The behaviour's name, the value of a profile's `behaviour:` map.
    pub name: String,
    /// Whether the emulator (and a profile that says nothing) has this behaviour.
    #[serde(default)]
    pub default: bool,
    /// What the endpoint does.
    #[serde(default)]
    pub description: String,
}

/// One rule of the catalog.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, never reused (`SSEC-WRONG-KEY`).
    pub id: String,
    /// The family (one of [`FAMILIES`]).
    pub family: String,
    /// One line.
    pub title: String,
    /// How firmly the documents state it.
    pub status: RuleStatus,
    /// The rule in our words.
    #[serde(default)]
    pub statement: String,
    /// Where the documents say it.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The API operations it concerns.
    #[serde(default)]
    pub operations: Vec<String>,
    /// For `unspecified` / `superseded` rules: the possible behaviours.
    #[serde(default)]
    pub behaviours: Vec<Behaviour>,
    /// `false` when the wire cannot show the promise (what is on the server's disk, which
    /// key or cipher sealed the data): a pass on wire evidence alone is reported as such
    /// ("pass — wire evidence only") with the [`Rule::caveat`].
    #[serde(default = "observable_default")]
    pub observable: bool,
    /// For `observable: false`: what the wire cannot show, printed next to the verdict in
    /// every report.
    #[serde(default)]
    pub caveat: Option<String>,
    /// Whether and how the rule applies in the S3 dialect (required: a COS-only rule says
    /// why, so its cases are reported not-applicable with the reason, never dropped).
    #[serde(default)]
    pub s3: Option<Applicability>,
    /// Per listed operation, the side of the rule × operation grid no case can show there,
    /// with the reason (`cos-suite check` wants a positive and a negative case for every
    /// operation in [`Rule::operations`] otherwise; see `crate::grid`).
    #[serde(default)]
    pub untestable: BTreeMap<String, Untestable>,
}

/// Why one side of a rule cannot be tested on one operation (`untestable:` in
/// `cases/rules.yaml`): the reason is printed in the grid in place of a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Untestable {
    /// Why no case can show the rule holding on this operation.
    #[serde(default)]
    pub positive: Option<String>,
    /// Why no case can show the refusal or failure on this operation.
    #[serde(default)]
    pub negative: Option<String>,
}

fn observable_default() -> bool {
    true
}

impl Rule {
    /// The behaviour an endpoint has when its profile says nothing.
    pub fn default_behaviour(&self) -> Option<&str> {
        self.behaviours
            .iter()
            .find(|b| b.default)
            .or(self.behaviours.first())
            .map(|b| b.name.as_str())
    }

    /// Why the rule does not apply in `dialect`, if it does not (its `s3:` field).
    pub fn not_applicable_in(&self, dialect: crate::dialect::Dialect) -> Option<&str> {
        match dialect {
            crate::dialect::Dialect::Cos => None,
            crate::dialect::Dialect::S3 => self.s3.as_ref().and_then(Applicability::not_applicable),
        }
    }

    /// The quoted source text, one `seed, section: "quote"` line per source.
    pub fn quoted_sources(&self) -> String {
        self.sources
            .iter()
            .map(|s| {
                let document = s.url.as_deref().unwrap_or(&s.seed);
                format!("{document} ({}): \"{}\"", s.section, s.quote.trim())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    /// Capability name -> what it means (the vocabulary of `requires:`).
    #[serde(default)]
    capabilities: BTreeMap<String, String>,
    rules: Vec<Rule>,
}

/// Why `cases/rules.yaml` could not be loaded.
pub type RulesError = crate::file_error::FileError;

/// The loaded catalog, in file order, with an index by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    rules: Vec<Rule>,
    by_id: BTreeMap<String, usize>,
    capabilities: BTreeMap<String, String>,
    /// The file the catalog came from, as errors name it.
    path: String,
    /// The text of that file, to find the line of a rule's field.
    text: String,
}

impl Catalog {
    /// Loads and checks `rules.yaml`.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let text = RulesError::read_text(path)?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks the text of a rules file; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = RulesError::parse_yaml(path, text)?;
        let invalid = |id: &str, message: String| RulesError::Invalid {
            path: path.to_string(),
            line: line_of(text, &format!("id: {id}")),
            message,
        };
        let mut by_id = BTreeMap::new();
        for (i, rule) in file.rules.iter().enumerate() {
            if by_id.insert(rule.id.clone(), i).is_some() {
                return Err(invalid(
                    &rule.id,
                    format!("rule id `{}` is listed twice", rule.id),
                ));
            }
            check_rule(rule).map_err(|m| invalid(&rule.id, m))?;
        }
        for name in file.capabilities.keys() {
            let known = CAPABILITIES.contains(&name.as_str())
                || REGION_CAPABILITIES.contains(&name.as_str());
            if !known {
                return Err(RulesError::Invalid {
                    path: path.to_string(),
                    line: line_of(text, &format!("{name}:")),
                    message: format!(
                        "capability `{name}` is not one the suite knows ({}, {})",
                        CAPABILITIES.join(", "),
                        REGION_CAPABILITIES.join(", ")
                    ),
                });
            }
        }
        Ok(Self {
            rules: file.rules,
            by_id,
            capabilities: file.capabilities,
            path: path.to_string(),
            text: text.to_string(),
        })
    }

    /// The file the catalog came from (`cases/rules.yaml`), as errors name it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The 1-based line of `field:` in the entry of rule `id` (or of its `id:` line when
    /// the entry has no such field; 0 when the rule is not in the file's text).
    pub fn line_of_field(&self, id: &str, field: &str) -> usize {
        let lines: Vec<&str> = self.text.lines().collect();
        let Some(start) = lines
            .iter()
            .position(|l| l.trim_start().trim_start_matches("- ") == format!("id: {id}"))
        else {
            return 0;
        };
        let entry_indent = lines[start].len() - lines[start].trim_start().len();
        let field_key = format!("{field}:");
        for (i, l) in lines.iter().enumerate().skip(start + 1) {
            let indent = l.len() - l.trim_start().len();
            let t = l.trim_start();
            if t.starts_with("- ") && indent <= entry_indent {
                break;
            }
            if t.starts_with(&field_key) {
                return i + 1;
            }
        }
        start + 1
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The capability vocabulary with each capability's meaning.
    pub fn capabilities(&self) -> &BTreeMap<String, String> {
        &self.capabilities
    }

    /// Every family that has at least one rule.
    pub fn families(&self) -> BTreeSet<&str> {
        self.rules.iter().map(|r| r.family.as_str()).collect()
    }
}

fn check_rule(rule: &Rule) -> Result<(), String> {
    if !FAMILIES.contains(&rule.family.as_str()) {
        return Err(format!(
            "rule `{}`: unknown family `{}` (one of: {})",
            rule.id,
            rule.family,
            FAMILIES.join(", ")
        ));
    }
    if let Some(i) = rule
        .sources
        .iter()
        .position(|s| s.seed.is_empty() == s.url.is_none())
    {
        return Err(format!(
            "rule `{}`: source {} needs exactly one of `seed:` and `url:`",
            rule.id,
            i + 1
        ));
    }
    let needs_behaviours = matches!(
        rule.status,
        RuleStatus::Unspecified | RuleStatus::Superseded
    );
    if needs_behaviours && rule.behaviours.len() < 2 {
        return Err(format!(
            "rule `{}` is {} and must list at least two `behaviours`",
            rule.id,
            rule.status.as_str()
        ));
    }
    let caveat = rule.caveat.as_deref().is_some_and(|c| !c.trim().is_empty());
    if !rule.observable && !caveat {
        return Err(format!(
            "rule `{}` is `observable: false` and must say what the wire cannot show in `caveat`",
            rule.id
        ));
    }
    if rule.observable && rule.caveat.is_some() {
        return Err(format!(
            "rule `{}` has a `caveat` but is not `observable: false`",
            rule.id
        ));
    }
    if rule.s3.is_none() {
        return Err(format!(
            "rule `{}` has no `s3:` field: say whether it applies in the S3 dialect (`s3: applies`, `s3: {{applies: \"<how>\"}}` or `s3: {{not-applicable: \"<reason>\"}}`)",
            rule.id
        ));
    }
    for (op, u) in &rule.untestable {
        if !rule.operations.contains(op) {
            return Err(format!(
                "rule `{}`: `untestable` names `{op}`, which is not in its `operations`",
                rule.id
            ));
        }
        let blank = |r: &Option<String>| r.as_deref().is_some_and(|r| r.trim().is_empty());
        if (u.positive.is_none() && u.negative.is_none())
            || blank(&u.positive)
            || blank(&u.negative)
        {
            return Err(format!(
                "rule `{}`: `untestable.{op}` needs a non-empty `positive:` or `negative:` reason",
                rule.id
            ));
        }
    }
    if rule.behaviours.iter().filter(|b| b.default).count() > 1 {
        return Err(format!(
            "rule `{}` marks more than one behaviour `default`",
            rule.id
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "rules:\n  - id: COS-ALG\n    family: sse-cos\n    title: t\n    status: documented\n    s3: applies\n  - id: COS-ALG-LEGACY\n    family: sse-cos\n    title: t\n    status: unspecified\n    s3: {not-applicable: a COS SDK spelling}\n    behaviours:\n      - {name: refused, default: true}\n      - {name: accepted}\n";

    #[test]
    fn loads_rules_and_defaults() {
        let c = Catalog::parse("rules.yaml", GOOD).unwrap();
        assert_eq!(c.rules().len(), 2);
        assert_eq!(
            c.get("COS-ALG-LEGACY").unwrap().default_behaviour(),
            Some("refused")
        );
    }

    #[test]
    fn unknown_field_names_the_line() {
        let text = GOOD.replace(
            "    title: t\n    status: documented",
            "    title: t\n    statsu: documented",
        );
        let err = Catalog::parse("rules.yaml", &text).unwrap_err().to_string();
        assert!(err.starts_with("rules.yaml:5:"), "{err}");
        assert!(err.contains("statsu"), "{err}");
    }

    #[test]
    fn an_unobservable_rule_needs_its_caveat() {
        let text = GOOD.replace(
            "status: documented\n",
            "status: documented\n    observable: false\n",
        );
        let err = Catalog::parse("rules.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("caveat"), "{err}");
        let text = GOOD.replace(
            "status: documented\n",
            "status: documented\n    observable: false\n    caveat: the disk is not on the wire\n",
        );
        let c = Catalog::parse("rules.yaml", &text).unwrap();
        assert!(!c.get("COS-ALG").unwrap().observable);
        assert!(c.get("COS-ALG-LEGACY").unwrap().observable);
    }

    /// Every rule says whether it applies in the S3 dialect; a missing or malformed `s3:`
    /// is an error at the rule's line.
    #[test]
    fn every_rule_says_how_it_applies_in_s3() {
        let c = Catalog::parse("rules.yaml", GOOD).unwrap();
        let dialect = crate::dialect::Dialect::S3;
        assert_eq!(c.get("COS-ALG").unwrap().not_applicable_in(dialect), None);
        assert_eq!(
            c.get("COS-ALG-LEGACY").unwrap().not_applicable_in(dialect),
            Some("a COS SDK spelling")
        );
        assert_eq!(
            c.get("COS-ALG-LEGACY")
                .unwrap()
                .not_applicable_in(crate::dialect::Dialect::Cos),
            None
        );
        let missing = GOOD.replace("    s3: applies\n", "");
        let err = Catalog::parse("rules.yaml", &missing)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("rules.yaml:2:"), "{err}");
        assert!(err.contains("no `s3:` field"), "{err}");
        let bad = GOOD.replace("s3: applies", "s3: maybe");
        let err = Catalog::parse("rules.yaml", &bad).unwrap_err().to_string();
        assert!(err.starts_with("rules.yaml:"), "{err}");
        assert!(err.contains("`maybe`"), "{err}");
    }

    /// A source is a seed or a public page (`url:`), exactly one; the quoted text names
    /// whichever it is.
    #[test]
    fn a_source_names_a_seed_or_a_url() {
        let with = |source: &str| {
            GOOD.replace(
                "status: documented\n",
                &format!("status: documented\n    sources:\n      - {{{source}, section: s, quote: q}}\n"),
            )
        };
        let c = Catalog::parse("rules.yaml", &with("url: https://example.com/doc")).unwrap();
        assert_eq!(
            c.get("COS-ALG").unwrap().quoted_sources(),
            "https://example.com/doc (s): \"q\""
        );
        assert!(Catalog::parse("rules.yaml", &with("seed: 000_x.txt")).is_ok());
        for bad in ["seed: 000_x.txt, url: https://example.com", "section2: x"] {
            let text = with(bad).replace("section2: x, ", "");
            let err = Catalog::parse("rules.yaml", &text).unwrap_err().to_string();
            assert!(err.contains("exactly one of `seed:` and `url:`"), "{err}");
        }
    }

    #[test]
    fn duplicate_id_is_refused_with_its_line() {
        let text = GOOD.replace("COS-ALG-LEGACY", "COS-ALG");
        let err = Catalog::parse("rules.yaml", &text).unwrap_err().to_string();
        assert!(err.contains("listed twice"), "{err}");
    }
}
