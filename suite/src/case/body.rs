//! Request bodies a step uploads (cases/README.md, "Bodies").

use std::path::PathBuf;

use serde::de::{self, MapAccess, SeqAccess};
use serde::Deserialize;

use super::poly::{map_then, poly_deserialize, seq_then, Poly};
use super::template::Template;

/// What a step sends as its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySpec {
    /// `"literal text"` (templates allowed).
    Literal(Template),
    /// `{random: N}` or `{size: N}`: N deterministic pseudo-random bytes, seeded from the
    /// run seed, the case id and the step.
    Random(u64),
    /// `{file: path}`: a fixture file, relative to the repository root.
    File(PathBuf),
    /// `{repeat: "abc", times: N}`.
    Repeat {
        /// The text repeated.
        text: String,
        /// How many times.
        times: u64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBody {
    pub random: Option<u64>,
    pub size: Option<u64>,
    pub file: Option<PathBuf>,
    pub repeat: Option<String>,
    pub times: Option<u64>,
}

impl RawBody {
    pub(crate) fn into_body(self) -> Result<BodySpec, String> {
        match (self.random, self.size, self.file, self.repeat, self.times) {
            (Some(n), None, None, None, None) | (None, Some(n), None, None, None) => {
                Ok(BodySpec::Random(n))
            }
            (None, None, Some(f), None, None) => Ok(BodySpec::File(f)),
            (None, None, None, Some(text), Some(times)) => Ok(BodySpec::Repeat { text, times }),
            (None, None, None, Some(_), None) => Err("`repeat` needs `times`".into()),
            _ => Err(
                "a body is a string, {random: N}, {size: N}, {file: PATH} or {repeat: TEXT, times: N}"
                    .into(),
            ),
        }
    }
}

impl Poly for BodySpec {
    const EXPECTING: &'static str =
        "a body: a string, {random: N}, {size: N}, {file: PATH} or {repeat: TEXT, times: N}";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Template::parse(v).map(BodySpec::Literal).map_err(E::custom)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, RawBody::into_body)
    }
}
poly_deserialize!(BodySpec);

/// One entry of `complete`'s explicit part list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRef {
    /// Part number.
    pub part: u32,
    /// The ETag to send (templates allowed).
    pub etag: Template,
}

/// `parts:` of a `complete` (`auto` or `{part, etag}` entries) or a `multipart` (bodies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parts {
    /// Every part this case uploaded for the upload id.
    Auto,
    /// Explicit `{part, etag}` entries for `complete`.
    Refs(Vec<PartRef>),
    /// Bodies for `multipart`.
    Bodies(Vec<BodySpec>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPartItem {
    part: Option<u32>,
    etag: Option<Template>,
    random: Option<u64>,
    size: Option<u64>,
    file: Option<PathBuf>,
    repeat: Option<String>,
    times: Option<u64>,
}

enum PartItem {
    Ref(PartRef),
    Body(BodySpec),
}

impl Poly for PartItem {
    const EXPECTING: &'static str = "a part: {part: N, etag: TEXT} or a body";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        BodySpec::from_str(v).map(PartItem::Body)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        map_then(map, |r: RawPartItem| match (r.part, r.etag) {
            (Some(part), Some(etag)) => Ok(PartItem::Ref(PartRef { part, etag })),
            (None, None) => RawBody {
                random: r.random,
                size: r.size,
                file: r.file,
                repeat: r.repeat,
                times: r.times,
            }
            .into_body()
            .map(PartItem::Body),
            _ => Err("a part reference needs both `part` and `etag`".into()),
        })
    }
}
poly_deserialize!(PartItem);

impl Poly for Parts {
    const EXPECTING: &'static str = "`auto`, a list of {part, etag}, or a list of bodies";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        if v == "auto" {
            Ok(Parts::Auto)
        } else {
            Err(E::custom(format!(
                "parts: expected `auto` or a list, got `{v}`"
            )))
        }
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        seq_then(seq, |items: Vec<PartItem>| {
            let refs = items
                .iter()
                .filter(|i| matches!(i, PartItem::Ref(_)))
                .count();
            if refs == items.len() && refs > 0 {
                Ok(Parts::Refs(
                    items
                        .into_iter()
                        .filter_map(|i| match i {
                            PartItem::Ref(r) => Some(r),
                            PartItem::Body(_) => None,
                        })
                        .collect(),
                ))
            } else if refs == 0 {
                Ok(Parts::Bodies(
                    items
                        .into_iter()
                        .filter_map(|i| match i {
                            PartItem::Body(b) => Some(b),
                            PartItem::Ref(_) => None,
                        })
                        .collect(),
                ))
            } else {
                Err("parts: do not mix {part, etag} entries and bodies".into())
            }
        })
    }
}
poly_deserialize!(Parts);
