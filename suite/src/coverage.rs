//! Catalog coverage: which rules the cases check, and the holes. A rule with no case is a
//! hole in the suite; a rule without both a positive case (the documented success) and a
//! negative case (the refusal or failure it guards against) is half-checked; and the
//! catalog as a whole must have at least two cases per rule. (A case naming an unknown rule
//! is already a load error with file and line, see `case`.)
//!
//! Per rule, also the encryption modes — each with its algorithm, AES256 and SM4
//! separately — and the body sizes its cases exercise ([`exercised`]), read from the cases'
//! steps, and the (rule, mode) pairs exercised in one algorithm only ([`algorithm_gaps`]):
//! COS offers SM4 in every mode, so a rule that applies to a mode must be seen in both.
//!
//! `cos-suite check` fails on any gap and `cos-suite rules` shows the counts, modes and
//! sizes.

use std::collections::BTreeSet;
use std::fmt;

use crate::case::{BodySpec, Case, Parts, Polarity, RequestFields, Step, Template};
use crate::rules::Rule;

/// How many cases of each polarity name one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCoverage {
    /// The rule id.
    pub rule: String,
    /// Cases that show the rule holding.
    pub positive: usize,
    /// Cases that show the refusal or failure it guards against.
    pub negative: usize,
}

/// One hole in the catalog's coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// No case names the rule.
    NoCase(String),
    /// Only negative cases name the rule.
    NoPositive(String),
    /// Only positive cases name the rule.
    NoNegative(String),
    /// Fewer than two cases per rule in all.
    TooFewCases {
        /// Cases in the catalog.
        cases: usize,
        /// Rules in the catalog.
        rules: usize,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::NoCase(rule) => write!(f, "rule {rule} has no case"),
            Gap::NoPositive(rule) => write!(
                f,
                "rule {rule} has no positive case (one showing the rule holding)"
            ),
            Gap::NoNegative(rule) => write!(
                f,
                "rule {rule} has no negative case (one showing the refusal or failure it guards against)"
            ),
            Gap::TooFewCases { cases, rules } => write!(
                f,
                "{cases} cases for {rules} rules: the catalog needs at least {} (two per rule)",
                rules * 2
            ),
        }
    }
}

/// Counts, for every rule in catalog order, the cases of each polarity that name it.
pub fn per_rule(rules: &[Rule], cases: &[Case]) -> Vec<RuleCoverage> {
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let named: Vec<(&[String], Polarity)> = cases
        .iter()
        .map(|c| (c.rules.as_slice(), c.polarity))
        .collect();
    count(&ids, &named)
}

/// [`per_rule`] over plain data: rule ids, and each case's rule ids and polarity.
pub fn count(rule_ids: &[&str], cases: &[(&[String], Polarity)]) -> Vec<RuleCoverage> {
    rule_ids
        .iter()
        .map(|id| {
            let naming = cases
                .iter()
                .filter(|(rules, _)| rules.iter().any(|r| r == id));
            let (positive, negative) =
                naming.fold((0, 0), |(p, n), (_, polarity)| match polarity {
                    Polarity::Positive => (p + 1, n),
                    Polarity::Negative => (p, n + 1),
                });
            RuleCoverage {
                rule: (*id).to_string(),
                positive,
                negative,
            }
        })
        .collect()
}

/// Every gap in `coverage`, given the total number of cases.
pub fn gaps(coverage: &[RuleCoverage], case_count: usize) -> Vec<Gap> {
    let mut gaps: Vec<Gap> = coverage
        .iter()
        .filter_map(|c| match (c.positive, c.negative) {
            (0, 0) => Some(Gap::NoCase(c.rule.clone())),
            (0, _) => Some(Gap::NoPositive(c.rule.clone())),
            (_, 0) => Some(Gap::NoNegative(c.rule.clone())),
            _ => None,
        })
        .collect();
    if case_count < coverage.len() * 2 {
        gaps.push(Gap::TooFewCases {
            cases: case_count,
            rules: coverage.len(),
        });
    }
    gaps
}

/// An SSE mode a case exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// SSE-COS (`x-cos-server-side-encryption: AES256 | SM4`).
    Cos,
    /// SSE-KMS (`cos/kms`, with the KMS algorithm header).
    Kms,
    /// SSE-C (the customer algorithm header).
    Customer,
}

impl Mode {
    /// The mode's name (`SSE-COS`, `SSE-KMS`, `SSE-C`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Cos => "SSE-COS",
            Mode::Kms => "SSE-KMS",
            Mode::Customer => "SSE-C",
        }
    }

    /// The mode a rule family is about, if it is about one.
    pub fn of_family(family: &str) -> Option<Mode> {
        match family {
            "sse-cos" => Some(Mode::Cos),
            "sse-kms" => Some(Mode::Kms),
            "sse-c" => Some(Mode::Customer),
            _ => None,
        }
    }
}

/// The two algorithms COS offers in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// AES-256 (the default of every mode).
    Aes256,
    /// SM4.
    Sm4,
}

impl Algorithm {
    /// The header value (`AES256`, `SM4`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes256 => "AES256",
            Algorithm::Sm4 => "SM4",
        }
    }

    /// A valid algorithm header value; anything else (a negative case's `AES-256`, `DES`,
    /// `sm4`) is an invalid value, not an algorithm the case exercises.
    fn parse(value: &str) -> Option<Algorithm> {
        match value {
            "AES256" => Some(Algorithm::Aes256),
            "SM4" => Some(Algorithm::Sm4),
            _ => None,
        }
    }
}

/// What the cases naming one rule exercise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exercised {
    /// Every (mode, algorithm) a case naming the rule sends.
    pub modes: BTreeSet<(Mode, Algorithm)>,
    /// Every body size (bytes) those cases upload: whole bodies, parts, and the sum of a
    /// `multipart` step's parts.
    pub sizes: BTreeSet<u64>,
}

impl Exercised {
    /// The modes as `SSE-COS AES256, SSE-COS SM4, ...`, or `none`.
    pub fn modes_text(&self) -> String {
        if self.modes.is_empty() {
            return "none".into();
        }
        self.modes
            .iter()
            .map(|(m, a)| format!("{} {}", m.as_str(), a.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The sizes as `0, 1, 65535, ...`, or `none`.
    pub fn sizes_text(&self) -> String {
        if self.sizes.is_empty() {
            return "none".into();
        }
        self.sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Literal template text; a template with variables has no static value.
fn literal(t: &Template) -> Option<&str> {
    t.vars().next().is_none().then(|| t.source())
}

/// The size of a body known when the case is loaded (a file's size is not).
fn body_size(body: &BodySpec) -> Option<u64> {
    match body {
        BodySpec::Random(n) => Some(*n),
        BodySpec::Literal(t) => literal(t).map(|s| s.len() as u64),
        BodySpec::Repeat { text, times } => Some(text.len() as u64 * times),
        BodySpec::File(_) => None,
    }
}

/// The (mode, algorithm) pairs the SSE header or form-field names in `pairs` select.
fn from_named<'a>(
    pairs: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    out: &mut BTreeSet<(Mode, Algorithm)>,
) {
    let pairs: Vec<(String, Option<&str>)> =
        pairs.map(|(n, v)| (n.to_ascii_lowercase(), v)).collect();
    let value = |name: &str| pairs.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v);
    match value("x-cos-server-side-encryption") {
        Some("cos/kms") => {
            let alg = value("x-cos-server-side-encryption-cos-kms-algorithm").unwrap_or("AES256");
            if let Some(a) = Algorithm::parse(alg) {
                out.insert((Mode::Kms, a));
            }
        }
        Some(v) => {
            if let Some(a) = Algorithm::parse(v) {
                out.insert((Mode::Cos, a));
            }
        }
        None => {}
    }
    for name in [
        "x-cos-server-side-encryption-customer-algorithm",
        "x-cos-copy-source-server-side-encryption-customer-algorithm",
    ] {
        if let Some(a) = value(name).and_then(Algorithm::parse) {
            out.insert((Mode::Customer, a));
        }
    }
}

/// The (mode, algorithm) a `ServerSideEncryptionConfiguration` body (PUT Bucket encryption
/// in a raw `request` step) sets as the bucket's default: `AES256` / `SM4` are SSE-COS,
/// `KMS` is SSE-KMS with its `KMSAlgorithm` (AES256 when absent). The uploads that take
/// the default send no SSE header, so this is where a bucket-encryption case's modes show.
fn from_bucket_default(body: &str, out: &mut BTreeSet<(Mode, Algorithm)>) {
    if !body.contains("ServerSideEncryptionConfiguration") {
        return;
    }
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find('<')? + start;
        Some(body[start..end].trim())
    };
    match element("SSEAlgorithm") {
        Some("KMS") => {
            if let Some(a) = Algorithm::parse(element("KMSAlgorithm").unwrap_or("AES256")) {
                out.insert((Mode::Kms, a));
            }
        }
        Some(v) => {
            if let Some(a) = Algorithm::parse(v) {
                out.insert((Mode::Cos, a));
            }
        }
        None => {}
    }
}

/// Adds what one step's request fields exercise.
fn step_fields(f: &RequestFields, out: &mut Exercised) {
    if let Some(a) = f
        .sse_cos
        .as_ref()
        .and_then(literal)
        .and_then(Algorithm::parse)
    {
        out.modes.insert((Mode::Cos, a));
    }
    if let Some(kms) = &f.sse_kms {
        if let Some(a) = Algorithm::parse(kms.algorithm.as_deref().unwrap_or("AES256")) {
            out.modes.insert((Mode::Kms, a));
        }
    }
    for c in [&f.sse_c, &f.copy_source_sse_c].into_iter().flatten() {
        if let Some(a) = Algorithm::parse(&c.algorithm) {
            out.modes.insert((Mode::Customer, a));
        }
    }
    for map in [&f.headers, &f.fields] {
        from_named(
            map.iter()
                .map(|(n, v)| (n.as_str(), v.as_ref().and_then(literal))),
            &mut out.modes,
        );
    }
    match &f.body {
        // A bucket's default encryption: its mode counts, its size is no object's.
        Some(BodySpec::Literal(t)) if t.source().contains("ServerSideEncryptionConfiguration") => {
            from_bucket_default(t.source(), &mut out.modes);
        }
        body => out.sizes.extend(body.as_ref().and_then(body_size)),
    }
    if let Some(Parts::Bodies(parts)) = &f.parts {
        let sizes: Option<Vec<u64>> = parts.iter().map(body_size).collect();
        if let Some(sizes) = sizes {
            out.sizes.insert(sizes.iter().sum());
        }
    }
}

/// What one case exercises (its steps; cleanup steps only tidy up).
pub fn of_case(case: &Case) -> Exercised {
    let mut out = Exercised::default();
    for Step { fields, .. } in &case.steps {
        step_fields(fields, &mut out);
    }
    out
}

/// For every rule in catalog order, the union of what the cases naming it exercise.
pub fn exercised(rules: &[Rule], cases: &[Case]) -> Vec<Exercised> {
    let per_case: Vec<(&[String], Exercised)> = cases
        .iter()
        .map(|c| (c.rules.as_slice(), of_case(c)))
        .collect();
    rules
        .iter()
        .map(|r| {
            let mut all = Exercised::default();
            for (_, e) in per_case.iter().filter(|(ids, _)| ids.contains(&r.id)) {
                all.modes.extend(e.modes.iter().copied());
                all.sizes.extend(e.sizes.iter().copied());
            }
            all
        })
        .collect()
}

/// A rule exercised in a mode it applies to in one algorithm only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmGap {
    /// The rule id.
    pub rule: String,
    /// The mode.
    pub mode: Mode,
    /// The algorithm no case exercises it in.
    pub missing: Algorithm,
}

impl fmt::Display for AlgorithmGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule {} applies to {} but no case exercises it there with {}",
            self.rule,
            self.mode.as_str(),
            self.missing.as_str()
        )
    }
}

/// Rules exempt from the algorithm check, with the reason: their subject is a spelling
/// that is neither AES256 nor SM4, so no algorithm twin exists in COS.
pub const NO_ALGORITHM_TWIN: &[(&str, &str)] = &[(
    "COS-ALG-LEGACY",
    "its subject is the 2020 spelling `AES-256`, which is neither AES256 nor SM4",
)];

/// The modes a rule applies to: the mode of its family (`sse-cos`, `sse-kms`, `sse-c`);
/// for the families that span modes (copy, multipart, properties, ...), every mode one of
/// its cases exercises. (A mode family's case often uses another mode as a contrast; that
/// does not make the rule about that mode.)
pub fn applies_to(rule: &Rule, exercised: &Exercised) -> BTreeSet<Mode> {
    match Mode::of_family(&rule.family) {
        Some(mode) => BTreeSet::from([mode]),
        None => exercised.modes.iter().map(|(m, _)| *m).collect(),
    }
}

/// Every (rule, mode) where the rule applies ([`applies_to`]) but only one of AES256 and
/// SM4 is exercised — COS offers SM4 in every mode — except the [`NO_ALGORITHM_TWIN`]
/// rules.
pub fn algorithm_gaps(rules: &[Rule], exercised: &[Exercised]) -> Vec<AlgorithmGap> {
    let mut gaps = Vec::new();
    for (rule, e) in rules.iter().zip(exercised) {
        if NO_ALGORITHM_TWIN.iter().any(|(id, _)| *id == rule.id) {
            continue;
        }
        for mode in applies_to(rule, e) {
            for alg in [Algorithm::Aes256, Algorithm::Sm4] {
                if !e.modes.contains(&(mode, alg)) {
                    gaps.push(AlgorithmGap {
                        rule: rule.id.clone(),
                        mode,
                        missing: alg,
                    });
                }
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn a_rule_needs_a_positive_and_a_negative_case() {
        let a = rules(&["A"]);
        let ab = rules(&["A", "B"]);
        let c = rules(&["C"]);
        let cases = [
            (a.as_slice(), Polarity::Positive),
            (ab.as_slice(), Polarity::Negative),
            (c.as_slice(), Polarity::Positive),
            (c.as_slice(), Polarity::Positive),
        ];
        let coverage = count(&["A", "B", "C", "D"], &cases);
        assert_eq!(
            coverage[0],
            RuleCoverage {
                rule: "A".into(),
                positive: 1,
                negative: 1
            }
        );
        assert_eq!(
            gaps(&coverage, cases.len()),
            vec![
                Gap::NoPositive("B".into()),
                Gap::NoNegative("C".into()),
                Gap::NoCase("D".into()),
                Gap::TooFewCases { cases: 4, rules: 4 },
            ]
        );
    }

    #[test]
    fn a_fully_covered_catalog_has_no_gap() {
        let a = rules(&["A"]);
        let cases = [
            (a.as_slice(), Polarity::Positive),
            (a.as_slice(), Polarity::Negative),
        ];
        assert!(gaps(&count(&["A"], &cases), cases.len()).is_empty());
    }

    fn parsed(yaml: &str) -> Case {
        let catalog = crate::rules::Catalog::load(&catalog_dir().join("rules.yaml")).unwrap();
        let keys =
            crate::keys::KeyRing::load(&catalog_dir().join("../fixtures/keys.yaml")).unwrap();
        let ctx = crate::case::LoadContext {
            catalog: &catalog,
            keys: &keys,
        };
        crate::case::parse_case(std::path::Path::new("cases/properties/x.yaml"), yaml, &ctx)
            .unwrap()
    }

    fn catalog_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases")
    }

    #[test]
    fn modes_and_sizes_come_from_the_steps() {
        let case = parsed(
            r#"
id: properties/x
rules: [RANGE]
title: t
polarity: positive
steps:
  - put: {key: a, body: {random: 65537}, sse_cos: SM4}
  - put: {key: b, body: "abc", sse_kms: {}}
  - put: {key: c, body: {repeat: "ab", times: 3}, sse_c: {key: py_1, algorithm: SM4}}
  - put: {key: d, body: "x", sse_cos: AES-256}
  - multipart: {key: e, parts: [{random: 1048577}, {random: 1}], sse_kms: {algorithm: SM4}}
  - copy: {key: f, source: {key: c}, copy_source_sse_c: py_2}
  - post:
      key: g
      body: "12"
      fields: {x-cos-server-side-encryption: cos/kms, x-cos-server-side-encryption-cos-kms-algorithm: SM4}
"#,
        );
        let e = of_case(&case);
        assert_eq!(
            e.modes_text(),
            "SSE-COS SM4, SSE-KMS AES256, SSE-KMS SM4, SSE-C AES256, SSE-C SM4",
            "AES-256 is an invalid value, not an algorithm"
        );
        assert_eq!(e.sizes_text(), "1, 2, 3, 6, 65537, 1048578");
    }

    /// A PUT Bucket encryption body counts as the mode its default sets (the uploads that
    /// take it send no SSE header); any other raw body counts as nothing.
    #[test]
    fn a_bucket_default_counts_as_its_mode() {
        let mut modes = BTreeSet::new();
        let doc = |inner: &str| {
            format!("<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>")
        };
        from_bucket_default(&doc("<SSEAlgorithm>SM4</SSEAlgorithm>"), &mut modes);
        from_bucket_default(
            &doc(
                "<SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>{{kms.enabled}}</KMSMasterKeyID>",
            ),
            &mut modes,
        );
        from_bucket_default(
            &doc("<SSEAlgorithm>KMS</SSEAlgorithm><KMSAlgorithm>SM4</KMSAlgorithm>"),
            &mut modes,
        );
        from_bucket_default(&doc("<SSEAlgorithm>cos/kms</SSEAlgorithm>"), &mut modes);
        from_bucket_default(
            "<Delete><SSEAlgorithm>AES256</SSEAlgorithm></Delete>",
            &mut modes,
        );
        let got: Vec<_> = modes.into_iter().collect();
        assert_eq!(
            got,
            vec![
                (Mode::Cos, Algorithm::Sm4),
                (Mode::Kms, Algorithm::Aes256),
                (Mode::Kms, Algorithm::Sm4)
            ]
        );
    }

    #[test]
    fn every_rule_is_exercised_in_both_algorithms_of_every_mode_it_applies_to() {
        // COS offers SM4 in SSE-COS, SSE-KMS and SSE-C, so a rule seen in a mode
        // with AES256 only (or SM4 only) is half-checked there.
        let loaded = crate::app::load(&catalog_dir())
            .unwrap_or_else(|e| panic!("the catalog does not load:\n{}", e.join("\n")));
        let ex = exercised(loaded.catalog.rules(), &loaded.cases);
        let gaps: Vec<String> = algorithm_gaps(loaded.catalog.rules(), &ex)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(gaps.is_empty(), "algorithm gaps:\n{}", gaps.join("\n"));
    }

    #[test]
    fn a_mode_family_rule_applies_to_its_mode_only() {
        let rule: Rule =
            serde_norway::from_str("{id: KMS-X, family: sse-kms, title: t, status: documented}")
                .unwrap();
        let mut e = Exercised::default();
        e.modes.insert((Mode::Kms, Algorithm::Aes256));
        e.modes.insert((Mode::Cos, Algorithm::Aes256));
        assert_eq!(
            algorithm_gaps(std::slice::from_ref(&rule), std::slice::from_ref(&e)),
            vec![AlgorithmGap {
                rule: "KMS-X".into(),
                mode: Mode::Kms,
                missing: Algorithm::Sm4
            }]
        );
        e.modes.insert((Mode::Kms, Algorithm::Sm4));
        assert!(algorithm_gaps(&[rule], &[e]).is_empty());
    }

    #[test]
    fn gaps_explain_themselves() {
        assert_eq!(
            Gap::NoNegative("SSEC-KEY".into()).to_string(),
            "rule SSEC-KEY has no negative case (one showing the refusal or failure it guards against)"
        );
        assert_eq!(
            Gap::TooFewCases { cases: 3, rules: 2 }.to_string(),
            "3 cases for 2 rules: the catalog needs at least 4 (two per rule)"
        );
    }
}
