//! Steps: the shorthand kinds and the raw `request` (cases/README.md, "Step kinds").

use std::collections::BTreeMap;

use serde::de::{self, MapAccess};
use serde::Deserialize;

use super::body::{BodySpec, Parts};
use super::expectation::{Expect, ExpectIf};
use super::poly::{map_then, poly_deserialize, Poly};
use super::scope;
use super::template::Template;
use crate::rules::{CAPABILITIES, REGION_CAPABILITIES};

/// How a step's request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// COS v5 `Authorization` header.
    #[default]
    Signed,
    /// The signature in the query string (a presigned URL), signing the host only, as the
    /// SDKs' `get_presigned_url` does.
    Presigned,
    /// The signature in the query string, signing the host and every `x-cos-*` header the
    /// request carries (a presigned URL made with its headers).
    PresignedHeaders,
    /// No signature at all.
    Anonymous,
    /// A signature whose last hex digit is wrong.
    BadSignature,
    /// A correct signature whose time window ended an hour ago.
    Expired,
    /// A correct signature of the run's second account (capability `other-account`), the
    /// grantee of ACL cases (`{{other.id}}`).
    OtherAccount,
}

/// Which endpoint a step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// The profile's HTTPS endpoint.
    Https,
    /// The profile's plain-HTTP endpoint.
    Http,
}

/// A region: a literal name, or a choice by the capabilities the region must (not) have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSpec {
    /// `region: ap-beijing`.
    Literal(String),
    /// `region: {with: [sse-kms], without: [sse-cos]}`.
    Choice {
        /// Capabilities the region must have.
        with: Vec<String>,
        /// Capabilities it must not have.
        without: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    #[serde(default)]
    with: Vec<String>,
    #[serde(default)]
    without: Vec<String>,
}

impl Poly for RegionSpec {
    const EXPECTING: &'static str = "a region name or {with: [...], without: [...]}";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(RegionSpec::Literal(v.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawChoice| {
            for c in r.with.iter().chain(&r.without) {
                check_region_capability(c)?;
            }
            Ok(RegionSpec::Choice {
                with: r.with,
                without: r.without,
            })
        })
    }
}
poly_deserialize!(RegionSpec);

fn check_region_capability(c: &str) -> Result<(), String> {
    if REGION_CAPABILITIES.contains(&c) {
        Ok(())
    } else {
        Err(format!(
            "unknown region capability `{c}` (one of: {})",
            REGION_CAPABILITIES.join(", ")
        ))
    }
}

/// A capability named in `requires:`, checked against the known vocabulary on load.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capability(pub String);

impl Poly for Capability {
    const EXPECTING: &'static str = "a capability name";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        if CAPABILITIES.contains(&v) || REGION_CAPABILITIES.contains(&v) {
            Ok(Capability(v.to_string()))
        } else {
            Err(E::custom(format!(
                "unknown capability `{v}` (one of: {}, {})",
                CAPABILITIES.join(", "),
                REGION_CAPABILITIES.join(", ")
            )))
        }
    }
}
poly_deserialize!(Capability);

/// A key name of fixtures/keys.yaml, checked on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(pub String);

impl Poly for KeyName {
    const EXPECTING: &'static str = "a key name from fixtures/keys.yaml";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        scope::check_key(v).map_err(E::custom)?;
        Ok(KeyName(v.to_string()))
    }
}
poly_deserialize!(KeyName);

/// `sse_c:` / `copy_source_sse_c:`: a named key and how to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseC {
    /// The key (fixtures/keys.yaml).
    pub key: KeyName,
    /// The algorithm header value (default `AES256`; any literal, for negative cases).
    pub algorithm: String,
    /// Send the key as unpadded base64.
    pub unpadded: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSseC {
    key: KeyName,
    #[serde(default)]
    algorithm: Option<String>,
    #[serde(default)]
    unpadded: bool,
}

impl Poly for SseC {
    const EXPECTING: &'static str = "a key name or {key: NAME, algorithm: SM4, unpadded: true}";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Ok(SseC {
            key: KeyName::from_str(v)?,
            algorithm: "AES256".into(),
            unpadded: false,
        })
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawSseC| {
            Ok(SseC {
                key: r.key,
                algorithm: r.algorithm.unwrap_or_else(|| "AES256".into()),
                unpadded: r.unpadded,
            })
        })
    }
}
poly_deserialize!(SseC);

/// The KMS encryption context: a map (sent as base64 of its JSON) or a raw string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsContext {
    /// `{k: v}`: base64(JSON object), keys in order.
    Pairs(BTreeMap<String, String>),
    /// Sent exactly as written (for not-base64 / not-JSON negative cases).
    Raw(Template),
}

impl Poly for KmsContext {
    const EXPECTING: &'static str = "a map of strings or a raw string";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Template::parse(v).map(KmsContext::Raw).map_err(E::custom)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |m: BTreeMap<String, String>| Ok(KmsContext::Pairs(m)))
    }
}
poly_deserialize!(KmsContext);

/// `sse_kms:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SseKms {
    /// The CMK id (templates such as `{{kms.enabled}}` allowed).
    #[serde(default)]
    pub key_id: Option<Template>,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<KmsContext>,
    /// `x-cos-server-side-encryption-cos-kms-algorithm`.
    #[serde(default)]
    pub algorithm: Option<String>,
}

/// `source:` of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// The source object's key.
    pub key: Template,
    /// The source bucket's region (default: the case's region).
    #[serde(default)]
    pub region: Option<RegionSpec>,
}

/// Every field any step kind may carry; [`StepKind::allowed`] says which a kind takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each field is documented in cases/README.md's step table
pub struct RequestFields {
    pub key: Option<Template>,
    #[serde(default)]
    pub headers: BTreeMap<String, Option<Template>>,
    #[serde(default)]
    pub query: BTreeMap<String, Option<Template>>,
    #[serde(default)]
    pub unsigned_query: BTreeMap<String, Option<Template>>,
    pub auth: Option<Auth>,
    pub scheme: Option<Scheme>,
    pub region: Option<RegionSpec>,
    pub sse_cos: Option<Template>,
    pub sse_kms: Option<SseKms>,
    pub sse_c: Option<SseC>,
    pub copy_source_sse_c: Option<SseC>,
    pub body: Option<BodySpec>,
    pub storage_class: Option<Template>,
    pub acl: Option<Template>,
    pub content_type: Option<Template>,
    #[serde(default)]
    pub meta: BTreeMap<String, Template>,
    pub range: Option<Template>,
    pub source: Option<SourceSpec>,
    pub metadata_directive: Option<Template>,
    pub prefix: Option<Template>,
    pub delimiter: Option<Template>,
    pub marker: Option<Template>,
    pub max_keys: Option<u32>,
    pub upload_id: Option<Template>,
    pub part: Option<u32>,
    pub parts: Option<Parts>,
    pub days: Option<u32>,
    pub tier: Option<Template>,
    #[serde(default)]
    pub fields: BTreeMap<String, Option<Template>>,
    pub policy: Option<Template>,
    pub timeout_secs: Option<u64>,
    pub method: Option<String>,
    pub path: Option<Template>,
    #[serde(default)]
    pub keys: Vec<Template>,
    pub quiet: Option<bool>,
}

impl RequestFields {
    /// The names of the fields that are set, for the per-kind check.
    fn present(&self) -> Vec<&'static str> {
        let flags = [
            ("key", self.key.is_some()),
            ("headers", !self.headers.is_empty()),
            ("query", !self.query.is_empty()),
            ("unsigned_query", !self.unsigned_query.is_empty()),
            ("auth", self.auth.is_some()),
            ("scheme", self.scheme.is_some()),
            ("region", self.region.is_some()),
            ("sse_cos", self.sse_cos.is_some()),
            ("sse_kms", self.sse_kms.is_some()),
            ("sse_c", self.sse_c.is_some()),
            ("copy_source_sse_c", self.copy_source_sse_c.is_some()),
            ("body", self.body.is_some()),
            ("storage_class", self.storage_class.is_some()),
            ("acl", self.acl.is_some()),
            ("content_type", self.content_type.is_some()),
            ("meta", !self.meta.is_empty()),
            ("range", self.range.is_some()),
            ("source", self.source.is_some()),
            ("metadata_directive", self.metadata_directive.is_some()),
            ("prefix", self.prefix.is_some()),
            ("delimiter", self.delimiter.is_some()),
            ("marker", self.marker.is_some()),
            ("max_keys", self.max_keys.is_some()),
            ("upload_id", self.upload_id.is_some()),
            ("part", self.part.is_some()),
            ("parts", self.parts.is_some()),
            ("days", self.days.is_some()),
            ("tier", self.tier.is_some()),
            ("fields", !self.fields.is_empty()),
            ("policy", self.policy.is_some()),
            ("timeout_secs", self.timeout_secs.is_some()),
            ("method", self.method.is_some()),
            ("path", self.path.is_some()),
            ("keys", !self.keys.is_empty()),
            ("quiet", self.quiet.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// The fields every kind takes.
const COMMON: &[&str] = &[
    "key",
    "headers",
    "query",
    "unsigned_query",
    "auth",
    "scheme",
    "region",
    "sse_cos",
    "sse_kms",
    "sse_c",
    "copy_source_sse_c",
];

macro_rules! kinds {
    ($($variant:ident / $raw:ident => $name:literal, [$($field:literal),*], required [$($req:literal),*];)*) => {
        /// What a step does (the step's kind key).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum StepKind { $(
            #[doc = concat!("`", $name, ":`")]
            $variant,
        )* }

        impl StepKind {
            /// Every kind, in the order of cases/README.md.
            pub const ALL: &'static [StepKind] = &[$(StepKind::$variant),*];
            /// The key that introduces it in YAML.
            pub fn name(self) -> &'static str { match self { $(StepKind::$variant => $name,)* } }
            /// Fields it takes besides the common ones.
            pub fn allowed(self) -> &'static [&'static str] { match self { $(StepKind::$variant => &[$($field),*],)* } }
            /// Fields it cannot do without.
            pub fn required(self) -> &'static [&'static str] { match self { $(StepKind::$variant => &[$($req),*],)* } }
        }

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawStep {
            name: Option<String>,
            expect: Option<Expect>,
            #[serde(default)]
            expect_if: Vec<ExpectIf>,
            $( #[serde(default)] $raw: Option<RequestFields>, )*
        }

        impl RawStep {
            fn kinds(self) -> (Option<String>, Option<Expect>, Vec<ExpectIf>, Vec<(StepKind, RequestFields)>) {
                let mut found = Vec::new();
                $( if let Some(f) = self.$raw { found.push((StepKind::$variant, f)); } )*
                (self.name, self.expect, self.expect_if, found)
            }
        }
    };
}

kinds! {
    Put / put => "put", ["body", "storage_class", "acl", "content_type", "meta"], required ["key"];
    Get / get => "get", ["range"], required ["key"];
    Head / head => "head", ["range"], required ["key"];
    Delete / delete => "delete", [], required ["key"];
    Copy / copy => "copy", ["source", "metadata_directive", "storage_class", "meta", "acl", "content_type"], required ["key", "source"];
    List / list => "list", ["prefix", "delimiter", "marker", "max_keys"], required [];
    PutAcl / put_acl => "put_acl", ["acl"], required ["key"];
    Initiate / initiate => "initiate", ["storage_class", "meta", "acl", "content_type"], required ["key"];
    UploadPart / upload_part => "upload_part", ["upload_id", "part", "body"], required ["key", "upload_id", "part"];
    UploadPartCopy / upload_part_copy => "upload_part_copy", ["upload_id", "part", "source", "range"], required ["key", "upload_id", "part", "source"];
    Complete / complete => "complete", ["upload_id", "parts"], required ["key", "upload_id"];
    Abort / abort => "abort", ["upload_id"], required ["key", "upload_id"];
    Multipart / multipart => "multipart", ["parts", "storage_class", "meta", "content_type", "acl"], required ["key", "parts"];
    Restore / restore => "restore", ["days", "tier"], required ["key"];
    Post / post => "post", ["fields", "body", "policy", "acl", "content_type"], required ["key"];
    WaitRestored / wait_restored => "wait_restored", ["timeout_secs"], required ["key"];
    DeleteMultiple / delete_multiple => "delete_multiple", ["keys", "quiet"], required ["keys"];
    Request / request => "request", ["method", "path", "body", "content_type"], required ["method", "path"];
}

/// One step of a case.
#[derive(Debug, Clone)]
pub struct Step {
    /// Optional name, for references.
    pub name: Option<String>,
    /// What it does.
    pub kind: StepKind,
    /// Its request fields.
    pub fields: RequestFields,
    /// What the response must be (default: a 2xx status).
    pub expect: Option<Expect>,
    /// Alternatives chosen by the profile's behaviour map.
    pub expect_if: Vec<ExpectIf>,
}

impl Step {
    /// A one-line description (`put {{case}}/obj`).
    pub fn label(&self) -> String {
        let target = match self.kind {
            StepKind::Request => format!(
                "{} {}",
                self.fields.method.as_deref().unwrap_or("?"),
                self.fields.path.as_ref().map_or("", |p| p.source())
            ),
            _ => self
                .fields
                .key
                .as_ref()
                .map_or(String::new(), |k| k.source().to_string()),
        };
        match &self.name {
            Some(n) => format!("{n}: {} {target}", self.kind.name()),
            None => format!("{} {target}", self.kind.name()),
        }
    }
}

fn build_step(raw: RawStep) -> Result<Step, String> {
    let (name, expect, expect_if, mut kinds) = raw.kinds();
    if let Some(n) = &name {
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "step name `{n}`: use letters, digits, `_` and `-` only"
            ));
        }
        if n.parse::<usize>().is_ok() {
            return Err(format!(
                "step name `{n}`: a number would be read as a step index"
            ));
        }
    }
    if kinds.len() != 1 {
        let names: Vec<&str> = kinds.iter().map(|(k, _)| k.name()).collect();
        let all: Vec<&str> = StepKind::ALL.iter().map(|k| k.name()).collect();
        return Err(if names.is_empty() {
            format!(
                "a step needs exactly one kind key (one of: {})",
                all.join(", ")
            )
        } else {
            format!(
                "a step has exactly one kind key, this one has {}",
                names.join(" and ")
            )
        });
    }
    let (kind, fields) = kinds.remove(0);
    for f in fields.present() {
        if !COMMON.contains(&f) && !kind.allowed().contains(&f) {
            return Err(format!("`{}` steps take no `{f}` field", kind.name()));
        }
    }
    let present = fields.present();
    for r in kind.required() {
        if !present.contains(r) {
            return Err(format!("`{}` steps need a `{r}` field", kind.name()));
        }
    }
    check_kind_specifics(kind, &fields)?;
    scope::push_step(name.as_deref())?;
    Ok(Step {
        name,
        kind,
        fields,
        expect,
        expect_if,
    })
}

fn check_kind_specifics(kind: StepKind, f: &RequestFields) -> Result<(), String> {
    match (kind, &f.parts) {
        (StepKind::Complete, Some(Parts::Bodies(_))) => {
            Err("`complete` parts are `auto` or {part, etag} entries, not bodies".into())
        }
        (StepKind::Multipart, Some(Parts::Bodies(b))) if b.is_empty() => {
            Err("`multipart` needs at least one part".into())
        }
        (StepKind::Multipart, Some(Parts::Auto | Parts::Refs(_))) => {
            Err("`multipart` parts are bodies".into())
        }
        (StepKind::Request, _) => match f.method.as_deref() {
            Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) => Ok(()),
            Some(m) => Err(format!("`request` method `{m}` is not an HTTP method")),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

impl Poly for Step {
    const EXPECTING: &'static str = "a step: a mapping with one kind key (put, get, ...)";
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, build_step)
    }
}
poly_deserialize!(Step);
