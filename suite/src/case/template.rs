//! `{{...}}` templates in case files (cases/README.md, "Templates").
//!
//! A template is parsed when the case is loaded, so an unknown name or a reference to a
//! later step is a load error with its line, never a surprise in the middle of a run.

use std::fmt;

use serde::de;

use super::poly::{poly_deserialize, Poly};
use super::scope;

/// Which encoding of a named customer key `{{keys.NAME.FORM}}` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// The raw bytes as text.
    Raw,
    /// Padded base64.
    Base64,
    /// Base64 without `=` padding.
    Base64Unpadded,
    /// Base64 of the MD5 of the raw key.
    Md5,
}

/// What `{{steps.S.FIELD}}` reads from an earlier step's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepField {
    /// The HTTP status code.
    Status,
    /// A response header (lower-case name).
    Header(String),
    /// Text of the first element at this XML path (`UploadId`, `A/B`).
    Xml(String),
}

/// One `{{...}}` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// `{{case}}`: the case's unique key prefix for this run.
    Case,
    /// `{{bucket}}`: the bucket of the case's region.
    Bucket,
    /// `{{region}}`: the case's region.
    Region,
    /// `{{appid}}`: the profile's appid.
    Appid,
    /// `{{keys.NAME.FORM}}`.
    Key {
        /// Key name in fixtures/keys.yaml.
        name: String,
        /// The encoding.
        form: KeyForm,
    },
    /// `{{kms.NAME}}`: the profile's `kms_keys` entry.
    Kms(String),
    /// `{{other.id}}`: the canonical id of the run's second account (`other-account`).
    OtherId,
    /// `{{steps.S.FIELD}}`, with `S` resolved to the earlier step's index.
    Step {
        /// 0-based index of the referenced step.
        step: usize,
        /// What to read.
        field: StepField,
    },
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text copied as is.
    Literal(String),
    /// A variable filled in at run time.
    Var(Var),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`, checking names against the scope of the case being loaded.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("template `{text}`: `{{{{` without a closing `}}}}`"))?;
            let name = after[..close].trim();
            parts.push(Part::Var(
                parse_var(name).map_err(|e| format!("template `{{{{{name}}}}}`: {e}"))?,
            ));
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(format!(
                "template `{text}`: `}}}}` without an opening `{{{{`"
            ));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self {
            source: text.to_string(),
            parts,
        })
    }

    /// A template with no variables.
    pub fn literal(text: &str) -> Self {
        Self {
            source: text.to_string(),
            parts: vec![Part::Literal(text.to_string())],
        }
    }

    /// The text as written in the case file.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parsed pieces.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Every variable used.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Literal(_) => None,
        })
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_var(name: &str) -> Result<Var, String> {
    let segs: Vec<&str> = name.splitn(3, '.').collect();
    match segs.as_slice() {
        ["case"] => Ok(Var::Case),
        ["bucket"] => Ok(Var::Bucket),
        ["region"] => Ok(Var::Region),
        ["appid"] => Ok(Var::Appid),
        ["other", "id"] => Ok(Var::OtherId),
        ["keys", key, form] => {
            scope::check_key(key)?;
            let form = match *form {
                "raw" => KeyForm::Raw,
                "base64" => KeyForm::Base64,
                "base64_unpadded" => KeyForm::Base64Unpadded,
                "md5" => KeyForm::Md5,
                other => {
                    return Err(format!(
                        "unknown key form `{other}` (one of: raw, base64, base64_unpadded, md5)"
                    ))
                }
            };
            Ok(Var::Key {
                name: key.to_string(),
                form,
            })
        }
        ["kms", kms] if !kms.is_empty() && !kms.contains('.') => Ok(Var::Kms(kms.to_string())),
        ["steps", step, field] => {
            let index = scope::resolve_step(step)?;
            Ok(Var::Step {
                step: index,
                field: parse_step_field(field)?,
            })
        }
        _ => Err(format!(
            "unknown name `{name}` (known: case, bucket, region, appid, other.id, keys.NAME.FORM, kms.NAME, steps.STEP.status|headers.NAME|xml.PATH)"
        )),
    }
}

fn parse_step_field(field: &str) -> Result<StepField, String> {
    if field == "status" {
        return Ok(StepField::Status);
    }
    if let Some(h) = field.strip_prefix("headers.") {
        if !h.is_empty() {
            return Ok(StepField::Header(h.to_ascii_lowercase()));
        }
    }
    if let Some(x) = field.strip_prefix("xml.") {
        if !x.is_empty() {
            return Ok(StepField::Xml(x.to_string()));
        }
    }
    Err(format!(
        "unknown step field `{field}` (one of: status, headers.NAME, xml.PATH)"
    ))
}

impl Poly for Template {
    const EXPECTING: &'static str = "a string (templates allowed)";
    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Template::parse(v).map_err(E::custom)
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Ok(Template::literal(&v.to_string()))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Ok(Template::literal(&v.to_string()))
    }
}
poly_deserialize!(Template);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_vars() {
        let t = Template::parse("{{case}}/obj-{{ region }}").unwrap();
        assert_eq!(
            t.parts(),
            &[
                Part::Var(Var::Case),
                Part::Literal("/obj-".into()),
                Part::Var(Var::Region)
            ]
        );
    }

    #[test]
    fn rejects_unclosed_and_unknown() {
        assert!(Template::parse("{{case").unwrap_err().contains("closing"));
        assert!(Template::parse("{{nope}}")
            .unwrap_err()
            .contains("unknown name"));
        assert!(Template::parse("{{steps.a.body}}")
            .unwrap_err()
            .contains("unknown step field"));
    }
}
