//! The `expect:` and `expect_if:` schema (cases/README.md, "Expectations").
//! Matching a response against it is `crate::expect`'s job.

use std::collections::BTreeMap;

use regex::Regex;
use serde::de::{self, MapAccess, SeqAccess};
use serde::Deserialize;

use super::poly::{map_then, poly_deserialize, seq_then, Poly};
use super::scope;
use super::template::Template;

/// One accepted status: exact, or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    /// `200`.
    Exact(u16),
    /// `4xx`: the hundreds digit.
    Class(u16),
}

impl StatusItem {
    /// Whether `status` is accepted.
    pub fn accepts(self, status: u16) -> bool {
        match self {
            StatusItem::Exact(s) => s == status,
            StatusItem::Class(c) => status / 100 == c,
        }
    }
}

impl std::fmt::Display for StatusItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusItem::Exact(s) => write!(f, "{s}"),
            StatusItem::Class(c) => write!(f, "{c}xx"),
        }
    }
}

impl Poly for StatusItem {
    const EXPECTING: &'static str = "a status such as 200 or a class such as 4xx";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        match u16::try_from(v) {
            Ok(s) if (100..=599).contains(&s) => Ok(StatusItem::Exact(s)),
            _ => Err(E::custom(format!(
                "status {v} is not an HTTP status (100-599)"
            ))),
        }
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        if let Ok(n) = v.parse::<u64>() {
            return Self::from_u64(n);
        }
        match v.as_bytes() {
            [d @ b'1'..=b'5', b'x' | b'X', b'x' | b'X'] => {
                Ok(StatusItem::Class(u16::from(d - b'0')))
            }
            _ => Err(E::custom(format!(
                "status `{v}`: expected a number such as 200 or a class such as 4xx"
            ))),
        }
    }
}
poly_deserialize!(StatusItem);

/// `status:`: one item or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<StatusItem>);

impl StatusSpec {
    /// Whether `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        self.0.iter().any(|i| i.accepts(status))
    }
    /// Whether every accepted status is a 4xx (a refusal).
    pub fn is_refusal(&self) -> bool {
        self.0.iter().all(|i| match i {
            StatusItem::Exact(s) => (400..500).contains(s),
            StatusItem::Class(c) => *c == 4,
        })
    }
}

impl std::fmt::Display for StatusSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(" or "))
    }
}

impl Poly for StatusSpec {
    const EXPECTING: &'static str = "a status such as 200, [200, 206] or 4xx";
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        StatusItem::from_u64(v).map(|i| StatusSpec(vec![i]))
    }
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        StatusItem::from_str(v).map(|i| StatusSpec(vec![i]))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_then(seq, |items: Vec<StatusItem>| {
            if items.is_empty() {
                Err("status: an empty list accepts nothing".into())
            } else {
                Ok(StatusSpec(items))
            }
        })
    }
}
poly_deserialize!(StatusSpec);

/// `code:`: one COS error code or a list of acceptable ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSpec(pub Vec<String>);

impl Poly for CodeSpec {
    const EXPECTING: &'static str = "an error code or a list of them";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(CodeSpec(vec![v.to_string()]))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_then(seq, |v: Vec<String>| {
            if v.is_empty() {
                Err("code: an empty list accepts nothing".into())
            } else {
                Ok(CodeSpec(v))
            }
        })
    }
}
poly_deserialize!(CodeSpec);

/// A check on a header or an XML value.
#[derive(Debug, Clone)]
pub enum ValueCheck {
    /// Equals this text (after templating).
    Equals(Template),
    /// `{present: true}` / `{present: false}`.
    Present(bool),
    /// `{matches: "regex"}`.
    Matches(Regex),
    /// `{count: N}` (XML only): exactly N elements at the path.
    Count(usize),
    /// `{not: VALUE}`, optionally with `matches: REGEX`: present, matching the pattern if
    /// one is given, and different from the value (an opaque ETag that must not be the MD5
    /// of a guessable plaintext, rule SSE-ETAG).
    Differs {
        /// The pattern the value must also match, if any.
        matches: Option<Regex>,
        /// The value it must not equal (after templating).
        not: Template,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    present: Option<bool>,
    absent: Option<bool>,
    matches: Option<String>,
    count: Option<usize>,
    not: Option<String>,
}

impl Poly for ValueCheck {
    const EXPECTING: &'static str =
        "a value, {present: true}, {absent: true}, {matches: REGEX}, {not: VALUE} or {count: N}";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Template::from_str(v).map(ValueCheck::Equals)
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(ValueCheck::Equals(Template::literal(&v.to_string())))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(ValueCheck::Equals(Template::literal(&v.to_string())))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawCheck| {
            if let Some(not) = r.not {
                if r.present.is_some() || r.absent.is_some() || r.count.is_some() {
                    return Err("`not` goes alone or with `matches`".into());
                }
                let matches = r
                    .matches
                    .map(|m| Regex::new(&m))
                    .transpose()
                    .map_err(|e| format!("matches: not a regular expression: {e}"))?;
                let not =
                    Template::from_str::<de::value::Error>(&not).map_err(|e| e.to_string())?;
                return Ok(ValueCheck::Differs { matches, not });
            }
            match (r.present, r.absent, r.matches, r.count) {
                (Some(p), None, None, None) => Ok(ValueCheck::Present(p)),
                (None, Some(a), None, None) => Ok(ValueCheck::Present(!a)),
                (None, None, Some(m), None) => Regex::new(&m)
                    .map(ValueCheck::Matches)
                    .map_err(|e| format!("matches: not a regular expression: {e}")),
                (None, None, None, Some(c)) => Ok(ValueCheck::Count(c)),
                _ => Err("give exactly one of present, absent, matches, count (or not, with an optional matches)".into()),
            }
        })
    }
}
poly_deserialize!(ValueCheck);

/// A reference to an earlier step, by name or index, resolved on load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepRef(pub usize);

impl Poly for StepRef {
    const EXPECTING: &'static str = "a step name or index";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        scope::resolve_step(v).map(StepRef).map_err(E::custom)
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Self::from_str(&v.to_string())
    }
}
poly_deserialize!(StepRef);

/// `body:` expectation.
#[derive(Debug, Clone)]
pub enum BodyCheck {
    /// Equals this literal text.
    Literal(Template),
    /// Equals a step's body, or an inclusive byte range of it.
    Step {
        /// The step whose body is meant.
        step: StepRef,
        /// Inclusive `[first, last]` byte range.
        range: Option<[u64; 2]>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepBody {
    step: StepRef,
    range: Option<[u64; 2]>,
}

impl Poly for BodyCheck {
    const EXPECTING: &'static str = "a literal body or {step: NAME, range: [FIRST, LAST]}";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Template::from_str(v).map(BodyCheck::Literal)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawStepBody| match r.range {
            Some([a, b]) if a > b => Err(format!("range [{a}, {b}]: first byte after last")),
            range => Ok(BodyCheck::Step {
                step: r.step,
                range,
            }),
        })
    }
}
poly_deserialize!(BodyCheck);

/// `body_not: {step: NAME}`: that step's plaintext appears nowhere in the response.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyNot {
    /// The step whose body must not leak.
    pub step: StepRef,
}

/// What a response must be.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Accepted statuses (default: any 2xx).
    pub status: Option<StatusSpec>,
    /// COS error code(s): checked with `--strict`, a warning otherwise.
    pub code: Option<CodeSpec>,
    /// Header checks, by lower-case name.
    pub headers: BTreeMap<String, ValueCheck>,
    /// Body equality.
    pub body: Option<BodyCheck>,
    /// No plaintext leak.
    pub body_not: Option<BodyNot>,
    /// XML checks, by path.
    pub xml: BTreeMap<String, ValueCheck>,
    /// Any 4xx counts as the refusal; the code is not checked.
    pub loose: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    status: Option<StatusSpec>,
    code: Option<CodeSpec>,
    #[serde(default)]
    headers: BTreeMap<String, ValueCheck>,
    body: Option<BodyCheck>,
    body_not: Option<BodyNot>,
    #[serde(default)]
    xml: BTreeMap<String, ValueCheck>,
    #[serde(default)]
    loose: bool,
}

impl Poly for Expect {
    const EXPECTING: &'static str = "an expectation mapping (status, code, headers, body, ...)";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawExpect| {
            let mut headers = BTreeMap::new();
            for (name, check) in r.headers {
                if matches!(check, ValueCheck::Count(_)) {
                    return Err(format!("headers.{name}: `count` is for xml checks"));
                }
                headers.insert(name.to_ascii_lowercase(), check);
            }
            if r.loose && r.status.as_ref().is_some_and(|s| !s.is_refusal()) {
                return Err("`loose: true` is for refusals: the status must be 4xx".into());
            }
            Ok(Expect {
                status: r.status,
                code: r.code,
                headers,
                body: r.body,
                body_not: r.body_not,
                xml: r.xml,
                loose: r.loose,
            })
        })
    }
}
poly_deserialize!(Expect);

/// One `expect_if` alternative: used when the profile's behaviours match `when`.
#[derive(Debug, Clone)]
pub struct ExpectIf {
    /// Rule id -> behaviour name; all must match.
    pub when: BTreeMap<String, String>,
    /// The expectation that replaces `expect`.
    pub expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectIf {
    when: When,
    expect: Expect,
}

struct When(BTreeMap<String, String>);

impl Poly for When {
    const EXPECTING: &'static str = "a map of rule id to behaviour name";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |m: BTreeMap<String, String>| {
            if m.is_empty() {
                return Err("`when` needs at least one rule: behaviour pair".into());
            }
            for (rule, behaviour) in &m {
                scope::check_behaviour(rule, behaviour)?;
            }
            Ok(When(m))
        })
    }
}
poly_deserialize!(When);

impl Poly for ExpectIf {
    const EXPECTING: &'static str = "{when: {RULE: BEHAVIOUR}, expect: {...}}";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawExpectIf| {
            Ok(ExpectIf {
                when: r.when.0,
                expect: r.expect,
            })
        })
    }
}
poly_deserialize!(ExpectIf);
